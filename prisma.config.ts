// Prisma CLI configuration. The CLI runs offline with the JavaScript schema engine and a driver
// adapter (see scripts/prisma-cli.mjs). PRISMA_PROVIDER picks which twin of the datamodel the
// command works on: "sqlite" (default, prisma/schema.prisma) or "postgresql" (derived).
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';

const provider = process.env.PRISMA_PROVIDER === 'postgresql' ? 'postgresql' : 'sqlite';
const url = process.env.DATABASE_URL ?? 'file:./data/duty-desk.db';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: provider === 'postgresql' ? path.join('prisma', 'postgresql', 'schema.prisma') : path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations', provider) },
  adapter: async () =>
    provider === 'postgresql' ? new PrismaPg({ connectionString: url }) : new PrismaBetterSQLite3({ url }),
});
