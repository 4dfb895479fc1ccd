-- CreateTable
CREATE TABLE "Counter" (
    "name" TEXT NOT NULL,
    "value" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "Counter_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "EscalationPolicy" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "steps" TEXT NOT NULL,
    "repeat" INTEGER NOT NULL DEFAULT 0,
    "builtIn" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "archivedAt" TIMESTAMP(3),

    CONSTRAINT "EscalationPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Page" (
    "id" TEXT NOT NULL,
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
    "triggeredAt" TIMESTAMP(3) NOT NULL,
    "lastTriggeredAt" TIMESTAMP(3) NOT NULL,
    "escalationStartedAt" TIMESTAMP(3) NOT NULL,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedById" TEXT,
    "resolvedAt" TIMESTAMP(3),
    "resolvedById" TEXT,
    "resolutionNote" TEXT,

    CONSTRAINT "Page_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PageEvent" (
    "id" SERIAL NOT NULL,
    "pageId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "type" TEXT NOT NULL,
    "memberId" TEXT,
    "channel" TEXT,
    "text" TEXT NOT NULL,

    CONSTRAINT "PageEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PageNotification" (
    "key" TEXT NOT NULL,
    "pageId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "step" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "contactId" TEXT,
    "address" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "dueAt" TIMESTAMP(3) NOT NULL,
    "doneAt" TIMESTAMP(3),
    "platform" TEXT,
    "conversation" TEXT,
    "messageId" TEXT,
    "providerId" TEXT,
    "error" TEXT,

    CONSTRAINT "PageNotification_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "ContactMethod" (
    "id" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT,
    "position" INTEGER NOT NULL,
    "delayMs" INTEGER NOT NULL DEFAULT 0,
    "verifiedAt" TIMESTAMP(3),
    "codeHash" TEXT,
    "codeExpiresAt" TIMESTAMP(3),
    "codeAttempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ContactMethod_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "PageEvent" ADD CONSTRAINT "PageEvent_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PageNotification" ADD CONSTRAINT "PageNotification_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

