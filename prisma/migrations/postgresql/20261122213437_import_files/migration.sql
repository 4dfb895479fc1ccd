-- AlterTable
ALTER TABLE "ImportRun" ADD COLUMN     "format" TEXT NOT NULL,
ADD COLUMN     "message" TEXT,
ADD COLUMN     "reportTo" TEXT;

-- CreateTable
CREATE TABLE "ImportFile" (
    "runId" TEXT NOT NULL,
    "content" BYTEA NOT NULL,

    CONSTRAINT "ImportFile_pkey" PRIMARY KEY ("runId")
);

