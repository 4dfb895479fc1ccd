-- AlterTable
ALTER TABLE "ImportRun" ADD COLUMN     "content" BYTEA,
ADD COLUMN     "format" TEXT NOT NULL,
ADD COLUMN     "message" TEXT,
ADD COLUMN     "reportTo" TEXT;

