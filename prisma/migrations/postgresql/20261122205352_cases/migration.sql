-- CreateTable
CREATE TABLE "Case" (
    "id" TEXT NOT NULL,
    "ref" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "category" TEXT NOT NULL,
    "priority" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "subjectName" TEXT NOT NULL,
    "subjectInitials" TEXT NOT NULL,
    "dateOfBirth" TEXT,
    "nationality" TEXT,
    "passportNumber" TEXT,
    "contactDetails" TEXT,
    "nokName" TEXT,
    "nokRelationship" TEXT,
    "nokPhone" TEXT,
    "nokEmail" TEXT,
    "city" TEXT,
    "country" TEXT,
    "location" TEXT,
    "reporter" TEXT NOT NULL,
    "reporterDetail" TEXT,
    "summary" TEXT NOT NULL,
    "consent" TEXT NOT NULL DEFAULT 'unknown',
    "assigneeId" TEXT,
    "crisisId" TEXT,
    "outcome" TEXT,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "openedById" TEXT,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedById" TEXT,
    "resolvedAt" TIMESTAMP(3),
    "resolvedById" TEXT,
    "closedAt" TIMESTAMP(3),
    "closedById" TEXT,
    "ackDueAt" TIMESTAMP(3),
    "updateDueAt" TIMESTAMP(3),
    "lastUpdateAt" TIMESTAMP(3) NOT NULL,
    "card" TEXT,
    "cardChannel" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Case_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseNote" (
    "id" TEXT NOT NULL,
    "caseId" TEXT NOT NULL,
    "authorId" TEXT,
    "authorName" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CaseNote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseEvent" (
    "id" SERIAL NOT NULL,
    "caseId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "byId" TEXT,
    "byName" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "fromValue" TEXT,
    "toValue" TEXT,
    "text" TEXT,

    CONSTRAINT "CaseEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseServiceLevel" (
    "id" TEXT NOT NULL,
    "priority" TEXT NOT NULL,
    "category" TEXT NOT NULL DEFAULT '*',
    "ack" TEXT,
    "updateEveryMs" INTEGER,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CaseServiceLevel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "Case_ref_key" ON "Case"("ref");

-- CreateIndex
CREATE INDEX "Case_status_priority_openedAt_idx" ON "Case"("status", "priority", "openedAt");

-- CreateIndex
CREATE INDEX "Case_assigneeId_status_idx" ON "Case"("assigneeId", "status");

-- CreateIndex
CREATE INDEX "Case_category_openedAt_idx" ON "Case"("category", "openedAt");

-- CreateIndex
CREATE INDEX "Case_category_status_priority_openedAt_idx" ON "Case"("category", "status", "priority", "openedAt");

-- CreateIndex
CREATE INDEX "Case_priority_openedAt_idx" ON "Case"("priority", "openedAt");

-- CreateIndex
CREATE INDEX "Case_openedAt_idx" ON "Case"("openedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Case_year_number_key" ON "Case"("year", "number");

-- CreateIndex
CREATE INDEX "CaseNote_caseId_createdAt_idx" ON "CaseNote"("caseId", "createdAt");

-- CreateIndex
CREATE INDEX "CaseEvent_caseId_at_idx" ON "CaseEvent"("caseId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "CaseServiceLevel_priority_category_key" ON "CaseServiceLevel"("priority", "category");

-- AddForeignKey
ALTER TABLE "CaseNote" ADD CONSTRAINT "CaseNote_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaseEvent" ADD CONSTRAINT "CaseEvent_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

