-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_SwapRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "rosterId" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "giveFrom" DATETIME NOT NULL,
    "giveTo" DATETIME NOT NULL,
    "takeFrom" DATETIME,
    "takeTo" DATETIME,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "spans" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" DATETIME,
    CONSTRAINT "SwapRequest_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_SwapRequest" ("createdAt", "decidedAt", "giveFrom", "giveTo", "id", "requesterId", "rosterId", "status", "takeFrom", "takeTo", "targetId") SELECT "createdAt", "decidedAt", "giveFrom", "giveTo", "id", "requesterId", "rosterId", "status", "takeFrom", "takeTo", "targetId" FROM "SwapRequest";
DROP TABLE "SwapRequest";
ALTER TABLE "new_SwapRequest" RENAME TO "SwapRequest";
CREATE INDEX "SwapRequest_rosterId_status_idx" ON "SwapRequest"("rosterId", "status");
CREATE INDEX "SwapRequest_targetId_status_idx" ON "SwapRequest"("targetId", "status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

