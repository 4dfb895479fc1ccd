// Prisma client factory: one generated client per provider, picked by DATABASE_URL.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from '../generated/prisma-sqlite/client';
import { PrismaClient as PostgresClient } from '../generated/prisma-postgresql/client';
import { providerOf } from './migrate';
import { sqlitePath } from './paths';

/**
 * Both generated clients have the same models; we type against the SQLite one and keep to the
 * features both providers share.
 */
export type Db = SqliteClient;
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

export function createPrisma(url: string): Db {
  if (providerOf(url) === 'postgresql') {
    const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) });
    // Same datamodel, other provider: the shapes match (see prisma/schema.prisma).
    return client as unknown as Db;
  }
  return new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: sqlitePath(url), timeout: 10_000 }) });
}
