-- AlterTable
ALTER TABLE "Crisis" ADD COLUMN     "leadId" TEXT,
ADD COLUMN     "sitrepCadence" TEXT NOT NULL DEFAULT 'none',
ADD COLUMN     "sitrepDueAt" TIMESTAMP(3),
ADD COLUMN     "sitrepLatePolicy" TEXT NOT NULL DEFAULT 'remind';

-- CreateTable
CREATE TABLE "Sitrep" (
    "id" TEXT NOT NULL,
    "crisisId" TEXT NOT NULL,
    "number" INTEGER,
    "status" TEXT NOT NULL,
    "dueAt" TIMESTAMP(3),
    "asOf" TIMESTAMP(3) NOT NULL,
    "counts" TEXT NOT NULL,
    "incidents" TEXT NOT NULL,
    "actions" TEXT NOT NULL,
    "needs" TEXT NOT NULL,
    "namedCases" TEXT NOT NULL DEFAULT '[]',
    "nextAt" TIMESTAMP(3),
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "editedAt" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "reminders" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "createdById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "publishedAt" TIMESTAMP(3),
    "publishedById" TEXT,

    CONSTRAINT "Sitrep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SitrepSubscription" (
    "memberId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SitrepSubscription_pkey" PRIMARY KEY ("memberId","scope")
);

-- CreateIndex
CREATE INDEX "Sitrep_crisisId_status_idx" ON "Sitrep"("crisisId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Sitrep_crisisId_number_key" ON "Sitrep"("crisisId", "number");

-- AddForeignKey
ALTER TABLE "Sitrep" ADD CONSTRAINT "Sitrep_crisisId_fkey" FOREIGN KEY ("crisisId") REFERENCES "Crisis"("id") ON DELETE CASCADE ON UPDATE CASCADE;

