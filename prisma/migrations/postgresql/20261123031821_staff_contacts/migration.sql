-- AlterTable
ALTER TABLE "ContactMethod" ADD COLUMN     "addressHash" TEXT;

-- CreateIndex
CREATE INDEX "ContactMethod_addressHash_idx" ON "ContactMethod"("addressHash");

