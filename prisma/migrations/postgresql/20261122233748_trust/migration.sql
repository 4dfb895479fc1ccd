-- AlterTable
ALTER TABLE "AuditEntry" ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prevHash" TEXT,
ADD COLUMN     "seq" INTEGER;

-- AlterTable
ALTER TABLE "Case" ADD COLUMN     "erasedAt" TIMESTAMP(3),
ADD COLUMN     "passportHash" TEXT;

-- AlterTable
ALTER TABLE "Person" ADD COLUMN     "emailHash" TEXT,
ADD COLUMN     "erasedAt" TIMESTAMP(3),
ADD COLUMN     "passportHash" TEXT,
ADD COLUMN     "phoneHash" TEXT;

-- CreateTable
CREATE TABLE "AuditHead" (
    "id" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditHead_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_seq_key" ON "AuditEntry"("seq");

-- CreateIndex
CREATE INDEX "Case_passportHash_idx" ON "Case"("passportHash");

-- CreateIndex
CREATE INDEX "Person_passportHash_idx" ON "Person"("passportHash");

-- CreateIndex
CREATE INDEX "Person_phoneHash_idx" ON "Person"("phoneHash");

-- CreateIndex
CREATE INDEX "Person_emailHash_idx" ON "Person"("emailHash");

