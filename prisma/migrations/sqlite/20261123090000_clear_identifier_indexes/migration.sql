-- Partial: see prisma/partial-indexes.sql
DROP INDEX "Person_passportNumber_idx";
CREATE INDEX "Person_passportNumber_idx" ON "Person"("passportNumber") WHERE "passportHash" IS NULL AND "passportNumber" IS NOT NULL;
DROP INDEX "Person_phone_idx";
CREATE INDEX "Person_phone_idx" ON "Person"("phone") WHERE "phoneHash" IS NULL AND "phone" IS NOT NULL;
DROP INDEX "Person_email_idx";
CREATE INDEX "Person_email_idx" ON "Person"("email") WHERE "emailHash" IS NULL AND "email" IS NOT NULL;
