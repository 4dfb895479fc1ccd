// Prisma client factory: one generated client per provider, picked by DATABASE_URL.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from '../generated/prisma-sqlite/client';
import { PrismaClient as PostgresClient } from '../generated/prisma-postgresql/client';
import { providerOf, type Provider } from './migrate';
import { sqlitePath } from './paths';

/**
 * Both generated clients have the same models; we type against the SQLite one and keep to the
 * features both providers share.
 */
export type Db = SqliteClient;
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

export interface Clients {
  provider: Provider;
  /** Reads: sees committed data only. */
  read: Db;
  /** Writes, always inside $transaction. */
  write: Db;
}

/**
 * On SQLite the adapter has one connection per client and serialises only transactions, so a
 * plain query issued while another request's transaction is open would run inside it (seeing,
 * or being rolled back with, uncommitted work). Reads therefore get their own read-only
 * connection (WAL lets it read while a write is in progress), and every write goes through a
 * transaction on the write connection. PostgreSQL's pool gives each transaction its own
 * connection, so one client serves both.
 */
export function createPrisma(url: string): Clients {
  if (providerOf(url) === 'postgresql') {
    // Same datamodel, other provider: the shapes match (see prisma/schema.prisma).
    const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Db;
    return { provider: 'postgresql', read: client, write: client };
  }
  const file = sqlitePath(url);
  return {
    provider: 'sqlite',
    read: new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: file, timeout: 10_000, readonly: true }) }),
    write: new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: file, timeout: 10_000 }) }),
  };
}
