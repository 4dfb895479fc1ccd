-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Roster" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL,
    "shiftUnit" TEXT NOT NULL,
    "shiftLength" INTEGER NOT NULL,
    "handoffMinute" INTEGER NOT NULL,
    "startDate" TEXT NOT NULL,
    "backupMode" TEXT NOT NULL DEFAULT 'offset',
    "backupOffset" INTEGER NOT NULL DEFAULT 1,
    "coverage" TEXT NOT NULL DEFAULT '[]',
    "channel" TEXT,
    "reminderHours" INTEGER NOT NULL DEFAULT 24,
    "version" INTEGER NOT NULL DEFAULT 1,
    "history" TEXT NOT NULL DEFAULT '[]',
    "effectiveFrom" DATETIME,
    "memberOffset" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "archivedAt" DATETIME
);
INSERT INTO "new_Roster" ("archivedAt", "backupMode", "backupOffset", "channel", "coverage", "createdAt", "handoffMinute", "id", "name", "reminderHours", "shiftLength", "shiftUnit", "startDate", "timeZone", "updatedAt", "version") SELECT "archivedAt", "backupMode", "backupOffset", "channel", "coverage", "createdAt", "handoffMinute", "id", "name", "reminderHours", "shiftLength", "shiftUnit", "startDate", "timeZone", "updatedAt", "version" FROM "Roster";
DROP TABLE "Roster";
ALTER TABLE "new_Roster" RENAME TO "Roster";
CREATE UNIQUE INDEX "Roster_name_key" ON "Roster"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

