-- CreateTable
CREATE TABLE "Crisis" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL,
    "leadershipChannel" TEXT,
    "channel" TEXT,
    "boardMessage" TEXT,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "openedById" TEXT,
    "stoodDownAt" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Crisis_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CrisisMember" (
    "crisisId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "addedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CrisisMember_pkey" PRIMARY KEY ("crisisId","memberId")
);

-- CreateTable
CREATE TABLE "Person" (
    "id" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "fullName" TEXT NOT NULL,
    "givenName" TEXT,
    "familyName" TEXT,
    "alternateNames" TEXT NOT NULL DEFAULT '[]',
    "nameKey" TEXT NOT NULL,
    "sex" TEXT,
    "dateOfBirth" TEXT,
    "age" TEXT,
    "nationality" TEXT,
    "passportNumber" TEXT,
    "homeStreet" TEXT,
    "homeNeighborhood" TEXT,
    "homeCity" TEXT,
    "homeState" TEXT,
    "homePostalCode" TEXT,
    "homeCountry" TEXT,
    "location" TEXT,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "phone" TEXT,
    "email" TEXT,
    "nokName" TEXT,
    "nokRelationship" TEXT,
    "nokPhone" TEXT,
    "nokEmail" TEXT,
    "description" TEXT,
    "needs" TEXT NOT NULL DEFAULT '[]',
    "household" TEXT,
    "status" TEXT NOT NULL DEFAULT 'unaccounted',
    "statusAt" TIMESTAMP(3),
    "source" TEXT NOT NULL,
    "sourceId" TEXT,
    "sourceDate" TIMESTAMP(3) NOT NULL,
    "pfif" TEXT,
    "mergedIntoId" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Person_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PersonNote" (
    "id" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "authorId" TEXT,
    "authorName" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "status" TEXT,
    "text" TEXT,
    "lastKnownLocation" TEXT,
    "madeContact" BOOLEAN,
    "sourceAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "linkedPersonId" TEXT,
    "pfif" TEXT,

    CONSTRAINT "PersonNote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactAttempt" (
    "id" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "byId" TEXT,
    "byName" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ContactAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PersonKey" (
    "personId" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "key" TEXT NOT NULL,

    CONSTRAINT "PersonKey_pkey" PRIMARY KEY ("personId","key")
);

-- CreateTable
CREATE TABLE "DuplicateCandidate" (
    "id" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "personAId" TEXT NOT NULL,
    "personBId" TEXT NOT NULL,
    "score" INTEGER NOT NULL,
    "reasons" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "decidedById" TEXT,
    "decidedAt" TIMESTAMP(3),
    "mergeUndo" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DuplicateCandidate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Movement" (
    "id" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "capacity" INTEGER NOT NULL,
    "departureAt" TIMESTAMP(3) NOT NULL,
    "musterPoint" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'planned',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Movement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MovementSeat" (
    "movementId" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "assignedAt" TIMESTAMP(3) NOT NULL,
    "checkedInAt" TIMESTAMP(3),
    "boardedAt" TIMESTAMP(3),

    CONSTRAINT "MovementSeat_pkey" PRIMARY KEY ("movementId","personId")
);

-- CreateTable
CREATE TABLE "ImportRun" (
    "id" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "problems" TEXT NOT NULL DEFAULT '[]',
    "problemCount" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "byId" TEXT,

    CONSTRAINT "ImportRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Crisis_code_key" ON "Crisis"("code");

-- CreateIndex
CREATE UNIQUE INDEX "Person_number_key" ON "Person"("number");

-- CreateIndex
CREATE INDEX "Person_crisisId_mergedIntoId_status_idx" ON "Person"("crisisId", "mergedIntoId", "status");

-- CreateIndex
CREATE INDEX "Person_crisisId_mergedIntoId_statusAt_idx" ON "Person"("crisisId", "mergedIntoId", "statusAt");

-- CreateIndex
CREATE INDEX "Person_crisisId_nameKey_idx" ON "Person"("crisisId", "nameKey");

-- CreateIndex
CREATE INDEX "Person_crisisId_household_idx" ON "Person"("crisisId", "household");

-- CreateIndex
CREATE INDEX "Person_passportNumber_idx" ON "Person"("passportNumber");

-- CreateIndex
CREATE INDEX "Person_phone_idx" ON "Person"("phone");

-- CreateIndex
CREATE INDEX "Person_email_idx" ON "Person"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Person_crisisId_source_sourceId_key" ON "Person"("crisisId", "source", "sourceId");

-- CreateIndex
CREATE INDEX "PersonNote_personId_sourceAt_idx" ON "PersonNote"("personId", "sourceAt");

-- CreateIndex
CREATE INDEX "PersonNote_crisisId_createdAt_idx" ON "PersonNote"("crisisId", "createdAt");

-- CreateIndex
CREATE INDEX "ContactAttempt_personId_at_idx" ON "ContactAttempt"("personId", "at");

-- CreateIndex
CREATE INDEX "ContactAttempt_crisisId_at_idx" ON "ContactAttempt"("crisisId", "at");

-- CreateIndex
CREATE INDEX "PersonKey_crisisId_key_idx" ON "PersonKey"("crisisId", "key");

-- CreateIndex
CREATE INDEX "DuplicateCandidate_crisisId_status_idx" ON "DuplicateCandidate"("crisisId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "DuplicateCandidate_personAId_personBId_key" ON "DuplicateCandidate"("personAId", "personBId");

-- CreateIndex
CREATE UNIQUE INDEX "Movement_crisisId_number_key" ON "Movement"("crisisId", "number");

-- CreateIndex
CREATE UNIQUE INDEX "MovementSeat_personId_key" ON "MovementSeat"("personId");

-- CreateIndex
CREATE INDEX "ImportRun_crisisId_startedAt_idx" ON "ImportRun"("crisisId", "startedAt");

-- AddForeignKey
ALTER TABLE "CrisisMember" ADD CONSTRAINT "CrisisMember_crisisId_fkey" FOREIGN KEY ("crisisId") REFERENCES "Crisis"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Person" ADD CONSTRAINT "Person_crisisId_fkey" FOREIGN KEY ("crisisId") REFERENCES "Crisis"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PersonNote" ADD CONSTRAINT "PersonNote_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Movement" ADD CONSTRAINT "Movement_crisisId_fkey" FOREIGN KEY ("crisisId") REFERENCES "Crisis"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MovementSeat" ADD CONSTRAINT "MovementSeat_movementId_fkey" FOREIGN KEY ("movementId") REFERENCES "Movement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

