-- Indexes the datamodel declares but Prisma cannot make partial: the migrations make them so, and
-- the drift test (tests/store/migrations.test.ts) applies this file after the datamodel's script.
-- Valid on SQLite and PostgreSQL.
--
-- Person's identifiers in clear: with encryption on, these columns hold ciphertext, which no search
-- matches (search goes by the blind indexes), and an index of random ciphertext cost every insert
-- a random page. Only rows without a blind index (stored before a key was set, or without one)
-- are searched by value, so only they are indexed.
DROP INDEX "Person_passportNumber_idx";
CREATE INDEX "Person_passportNumber_idx" ON "Person"("passportNumber") WHERE "passportHash" IS NULL AND "passportNumber" IS NOT NULL;
DROP INDEX "Person_phone_idx";
CREATE INDEX "Person_phone_idx" ON "Person"("phone") WHERE "phoneHash" IS NULL AND "phone" IS NOT NULL;
DROP INDEX "Person_email_idx";
CREATE INDEX "Person_email_idx" ON "Person"("email") WHERE "emailHash" IS NULL AND "email" IS NOT NULL;
