-- AlterTable
ALTER TABLE "SwapRequest" ADD COLUMN     "spans" TEXT NOT NULL DEFAULT '';

