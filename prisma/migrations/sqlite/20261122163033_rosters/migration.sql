-- CreateTable
CREATE TABLE "Roster" (
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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "archivedAt" DATETIME
);

-- CreateTable
CREATE TABLE "RosterMember" (
    "rosterId" TEXT NOT NULL,
    "layer" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "memberId" TEXT NOT NULL,

    PRIMARY KEY ("rosterId", "layer", "position"),
    CONSTRAINT "RosterMember_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "RosterMember_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RosterOverride" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL,
    "rosterId" TEXT NOT NULL,
    "layer" TEXT NOT NULL DEFAULT 'primary',
    "memberId" TEXT NOT NULL,
    "replacesId" TEXT,
    "from" DATETIME NOT NULL,
    "to" DATETIME NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'cover',
    "swapId" TEXT,
    "note" TEXT,
    "createdBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removedAt" DATETIME,
    CONSTRAINT "RosterOverride_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "RosterOverride_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SwapRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "rosterId" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "giveFrom" DATETIME NOT NULL,
    "giveTo" DATETIME NOT NULL,
    "takeFrom" DATETIME,
    "takeTo" DATETIME,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" DATETIME,
    CONSTRAINT "SwapRequest_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Leave" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "memberId" TEXT NOT NULL,
    "from" DATETIME NOT NULL,
    "to" DATETIME NOT NULL,
    "note" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removedAt" DATETIME,
    CONSTRAINT "Leave_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Holiday" (
    "rosterId" TEXT NOT NULL,
    "date" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    PRIMARY KEY ("rosterId", "date"),
    CONSTRAINT "Holiday_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DutyLogEntry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "rosterId" TEXT NOT NULL,
    "shiftStart" DATETIME NOT NULL,
    "authorId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DutyLogEntry_rosterId_fkey" FOREIGN KEY ("rosterId") REFERENCES "Roster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "CalendarFeed" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "rosterId" TEXT,
    "memberId" TEXT,
    "createdBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "dueAt" DATETIME NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "lockedUntil" DATETIME,
    "lockedBy" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "result" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "Roster_name_key" ON "Roster"("name");

-- CreateIndex
CREATE INDEX "RosterMember_memberId_idx" ON "RosterMember"("memberId");

-- CreateIndex
CREATE UNIQUE INDEX "RosterOverride_seq_key" ON "RosterOverride"("seq");

-- CreateIndex
CREATE INDEX "RosterOverride_rosterId_removedAt_to_idx" ON "RosterOverride"("rosterId", "removedAt", "to");

-- CreateIndex
CREATE INDEX "SwapRequest_rosterId_status_idx" ON "SwapRequest"("rosterId", "status");

-- CreateIndex
CREATE INDEX "SwapRequest_targetId_status_idx" ON "SwapRequest"("targetId", "status");

-- CreateIndex
CREATE INDEX "Leave_memberId_removedAt_idx" ON "Leave"("memberId", "removedAt");

-- CreateIndex
CREATE INDEX "DutyLogEntry_rosterId_shiftStart_idx" ON "DutyLogEntry"("rosterId", "shiftStart");

-- CreateIndex
CREATE UNIQUE INDEX "CalendarFeed_token_key" ON "CalendarFeed"("token");

-- CreateIndex
CREATE INDEX "CalendarFeed_rosterId_idx" ON "CalendarFeed"("rosterId");

-- CreateIndex
CREATE INDEX "CalendarFeed_memberId_idx" ON "CalendarFeed"("memberId");

-- CreateIndex
CREATE UNIQUE INDEX "Job_idempotencyKey_key" ON "Job"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Job_status_dueAt_idx" ON "Job"("status", "dueAt");

