-- AlterTable
ALTER TABLE "AuditEntry" ADD COLUMN "hash" TEXT;
ALTER TABLE "AuditEntry" ADD COLUMN "prevHash" TEXT;
ALTER TABLE "AuditEntry" ADD COLUMN "seq" INTEGER;

-- AlterTable
ALTER TABLE "Case" ADD COLUMN "erasedAt" DATETIME;
ALTER TABLE "Case" ADD COLUMN "passportHash" TEXT;

-- AlterTable
ALTER TABLE "Person" ADD COLUMN "emailHash" TEXT;
ALTER TABLE "Person" ADD COLUMN "erasedAt" DATETIME;
ALTER TABLE "Person" ADD COLUMN "passportHash" TEXT;
ALTER TABLE "Person" ADD COLUMN "phoneHash" TEXT;

-- CreateTable
CREATE TABLE "AuditHead" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL
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

