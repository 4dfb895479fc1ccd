-- CreateTable
CREATE TABLE "Counter" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "value" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "EscalationPolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "steps" TEXT NOT NULL,
    "repeat" INTEGER NOT NULL DEFAULT 0,
    "builtIn" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "archivedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Page" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "number" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "details" TEXT,
    "severity" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "sourceRef" TEXT,
    "dedupKey" TEXT,
    "status" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "policyId" TEXT,
    "policy" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "raisedById" TEXT,
    "raisedByName" TEXT NOT NULL,
    "channel" TEXT,
    "channelMessage" TEXT,
    "triggerCount" INTEGER NOT NULL DEFAULT 1,
    "triggeredAt" DATETIME NOT NULL,
    "lastTriggeredAt" DATETIME NOT NULL,
    "escalationStartedAt" DATETIME NOT NULL,
    "acknowledgedAt" DATETIME,
    "acknowledgedById" TEXT,
    "resolvedAt" DATETIME,
    "resolvedById" TEXT,
    "resolutionNote" TEXT
);

-- CreateTable
CREATE TABLE "PageEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "pageId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "type" TEXT NOT NULL,
    "memberId" TEXT,
    "channel" TEXT,
    "text" TEXT NOT NULL,
    CONSTRAINT "PageEvent_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PageNotification" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "pageId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "step" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "contactId" TEXT,
    "address" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "dueAt" DATETIME NOT NULL,
    "doneAt" DATETIME,
    "platform" TEXT,
    "conversation" TEXT,
    "messageId" TEXT,
    "providerId" TEXT,
    "error" TEXT,
    CONSTRAINT "PageNotification_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ContactMethod" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "memberId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT,
    "position" INTEGER NOT NULL,
    "delayMs" INTEGER NOT NULL DEFAULT 0,
    "verifiedAt" DATETIME,
    "codeHash" TEXT,
    "codeExpiresAt" DATETIME,
    "codeAttempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "EscalationPolicy_name_key" ON "EscalationPolicy"("name");

-- CreateIndex
CREATE UNIQUE INDEX "EscalationPolicy_builtIn_key" ON "EscalationPolicy"("builtIn");

-- CreateIndex
CREATE UNIQUE INDEX "Page_number_key" ON "Page"("number");

-- CreateIndex
CREATE INDEX "Page_status_triggeredAt_idx" ON "Page"("status", "triggeredAt");

-- CreateIndex
CREATE INDEX "Page_dedupKey_status_idx" ON "Page"("dedupKey", "status");

-- CreateIndex
CREATE INDEX "PageEvent_pageId_id_idx" ON "PageEvent"("pageId", "id");

-- CreateIndex
CREATE INDEX "PageNotification_pageId_idx" ON "PageNotification"("pageId");

-- CreateIndex
CREATE INDEX "ContactMethod_memberId_position_idx" ON "ContactMethod"("memberId", "position");

