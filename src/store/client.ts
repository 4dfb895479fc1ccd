// Prisma client factory: one generated client per provider, picked by DATABASE_URL.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import BetterSqlite from 'better-sqlite3';
import type Database from 'better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from '../generated/prisma-sqlite/client';
import { PrismaClient as PostgresClient } from '../generated/prisma-postgresql/client';
import { providerOf, type Provider } from './migrate';
import { sqlitePath } from './paths';
import { boundedConnectClient } from './availability';

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
  /** SQLite only: the connections under `read` and `write`, for plain SQL (see sql.ts); set once connected. */
  raw?: { read?: Database.Database; write?: Database.Database };
}

export const SQLITE_CACHE_KIB = 64 * 1024;

/**
 * The SQLite adapter, remembering its better-sqlite3 connection. The adapter keeps it in a
 * `client` property; should a Prisma upgrade change that, `raw` stays empty and the hot paths
 * fall back to Prisma (slower, still correct).
 */
class CapturingSqlite extends PrismaBetterSQLite3 {
  constructor(
    config: ConstructorParameters<typeof PrismaBetterSQLite3>[0],
    private readonly onConnect: (db: Database.Database) => void,
  ) {
    super(config);
  }

  override async connect(): ReturnType<PrismaBetterSQLite3['connect']> {
    const adapter = await super.connect();
    const client = (adapter as unknown as { client?: unknown }).client;
    if (client instanceof BetterSqlite) {
      // Up to 64 MiB of pages kept per connection (SQLite's default is 2 MiB): the board's
      // counts walk an index of 100,000 entries, which then stays in memory between asks.
      client.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
      this.onConnect(client);
    }
    return spaced(adapter);
  }
}

type Queryable = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;
type Query = Parameters<Queryable['queryRaw']>[0];

const toIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * better-sqlite3 answers synchronously, so a command's queries run back to back as microtasks and
 * never let the event loop reach its I/O: under load, Slack's acks (3 s at most) and new requests
 * wait behind whole commands. After each query outside a transaction we step out to the I/O phase
 * once (about a microsecond of work), so acks go out between them. Not inside a transaction: it
 * holds the write lock, and another connection of this process waiting for that lock would wait
 * synchronously, with the event loop (and so the holder) stopped.
 */
function spaced<T extends Pick<Queryable, 'queryRaw' | 'executeRaw'>>(q: T): T {
  const thenIo =
    <R>(f: (query: Query) => Promise<R>) =>
    async (query: Query): Promise<R> => {
      const r = await f(query);
      await toIo();
      return r;
    };
  q.queryRaw = thenIo(q.queryRaw.bind(q));
  q.executeRaw = thenIo(q.executeRaw.bind(q));
  return q;
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
    // A bounded connect: with the database away, requests fail instead of hanging.
    const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: url, Client: boundedConnectClient(url) }) }) as unknown as Db;
    return { provider: 'postgresql', read: client, write: client };
  }
  const file = sqlitePath(url);
  const raw: NonNullable<Clients['raw']> = {};
  return {
    provider: 'sqlite',
    read: new SqliteClient({ adapter: new CapturingSqlite({ url: file, timeout: 10_000, readonly: true }, (db) => (raw.read = db)) }),
    write: new SqliteClient({ adapter: new CapturingSqlite({ url: file, timeout: 10_000 }, (db) => (raw.write = db)) }),
    raw,
  };
}
