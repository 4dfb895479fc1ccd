-- AlterTable
ALTER TABLE "Roster" ADD COLUMN     "effectiveFrom" TIMESTAMP(3),
ADD COLUMN     "history" TEXT NOT NULL DEFAULT '[]',
ADD COLUMN     "memberOffset" INTEGER NOT NULL DEFAULT 0;

