-- DropIndex
DROP INDEX "Person_crisisId_mergedIntoId_statusAt_idx";

-- CreateIndex
CREATE INDEX "Person_crisisId_mergedIntoId_statusAt_status_idx" ON "Person"("crisisId", "mergedIntoId", "statusAt", "status");

-- CreateIndex
CREATE INDEX "Person_crisisId_mergedIntoId_needs_idx" ON "Person"("crisisId", "mergedIntoId", "needs");

