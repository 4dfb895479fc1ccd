-- CreateTable
CREATE TABLE "Sitrep" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "crisisId" TEXT NOT NULL,
    "number" INTEGER,
    "status" TEXT NOT NULL,
    "dueAt" DATETIME,
    "asOf" DATETIME NOT NULL,
    "counts" TEXT NOT NULL,
    "incidents" TEXT NOT NULL,
    "actions" TEXT NOT NULL,
    "needs" TEXT NOT NULL,
    "namedCases" TEXT NOT NULL DEFAULT '[]',
    "nextAt" DATETIME,
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "editedAt" DATETIME,
    "version" INTEGER NOT NULL DEFAULT 1,
    "reminders" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL,
    "createdById" TEXT,
    "updatedAt" DATETIME NOT NULL,
    "publishedAt" DATETIME,
    "publishedById" TEXT,
    CONSTRAINT "Sitrep_crisisId_fkey" FOREIGN KEY ("crisisId") REFERENCES "Crisis" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SitrepSubscription" (
    "memberId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,

    PRIMARY KEY ("memberId", "scope")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Crisis" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL,
    "leadershipChannel" TEXT,
    "channel" TEXT,
    "boardMessage" TEXT,
    "openedAt" DATETIME NOT NULL,
    "openedById" TEXT,
    "stoodDownAt" DATETIME,
    "leadId" TEXT,
    "sitrepCadence" TEXT NOT NULL DEFAULT 'none',
    "sitrepLatePolicy" TEXT NOT NULL DEFAULT 'remind',
    "sitrepDueAt" DATETIME,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Crisis" ("boardMessage", "channel", "code", "description", "id", "leadershipChannel", "name", "openedAt", "openedById", "region", "status", "stoodDownAt", "updatedAt", "version") SELECT "boardMessage", "channel", "code", "description", "id", "leadershipChannel", "name", "openedAt", "openedById", "region", "status", "stoodDownAt", "updatedAt", "version" FROM "Crisis";
DROP TABLE "Crisis";
ALTER TABLE "new_Crisis" RENAME TO "Crisis";
CREATE UNIQUE INDEX "Crisis_code_key" ON "Crisis"("code");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Sitrep_crisisId_status_idx" ON "Sitrep"("crisisId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Sitrep_crisisId_number_key" ON "Sitrep"("crisisId", "number");

