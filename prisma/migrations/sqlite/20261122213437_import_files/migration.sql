-- CreateTable
CREATE TABLE "ImportFile" (
    "runId" TEXT NOT NULL PRIMARY KEY,
    "content" BLOB NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ImportRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "crisisId" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "reportTo" TEXT,
    "message" TEXT,
    "status" TEXT NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "problems" TEXT NOT NULL DEFAULT '[]',
    "problemCount" INTEGER NOT NULL DEFAULT 0,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "byId" TEXT
);
INSERT INTO "new_ImportRun" ("byId", "crisisId", "done", "duplicates", "fileName", "finishedAt", "id", "imported", "problemCount", "problems", "startedAt", "status", "total", "updated") SELECT "byId", "crisisId", "done", "duplicates", "fileName", "finishedAt", "id", "imported", "problemCount", "problems", "startedAt", "status", "total", "updated" FROM "ImportRun";
DROP TABLE "ImportRun";
ALTER TABLE "new_ImportRun" RENAME TO "ImportRun";
CREATE INDEX "ImportRun_crisisId_startedAt_idx" ON "ImportRun"("crisisId", "startedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

