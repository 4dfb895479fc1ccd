// The store: Prisma clients plus the repositories. Every change goes through `change()`, which
// writes the audit entry in the same transaction as the change it records.
import type { Platform } from '../domain/invocation';
import type { Provider } from './migrate';
import { createPrisma, SQLITE_CACHE_KIB, type Clients, type Db, type Tx } from './client';
import type pg from 'pg';
import { pgPool, pgRunner, prismaRunner, sqliteRunner, type SqlRunner } from './sql';
import { AuditRepository, type AuditMeta } from './audit.repository';
import { MemberRepository } from './member.repository';
import { ConversationRepository } from './conversation.repository';
import { RosterRepository } from './roster.repository';
import { PageRepository } from './page.repository';
import { CaseRepository } from './case.repository';
import { CrisisRepository } from './crisis.repository';
import { SitrepRepository } from './sitrep.repository';
import { FieldCipher } from './field-crypto';
import { inTransactionWriter, sqliteThreadWriter, type BulkWriter } from './bulk-writer';
import { sqlitePath } from './paths';
import { WriteGate } from './write-gate';

export type { AuditMeta };

export interface Writer {
  tx: Tx;
  /** Records a change to an entity; before/after are plain objects (null on create/delete). */
  audit(entity: string, entityId: string, action: string, before: unknown, after: unknown): Promise<void>;
}

export interface StoreOptions {
  /** AUDIT_CHAIN_KEY: with it the audit chain is an HMAC chain, which only holders of the key can extend or rewrite. */
  auditChainKey?: string;
  /** Encrypts personal fields at rest (see field-crypto.ts); without it they are stored in clear. */
  cipher?: FieldCipher;
}

/**
 * How long a transaction may wait for a connection, and run. Audited writes take turns on the
 * audit chain's head at commit: a burst (500 status reports at once on three replicas of a loaded
 * 2-core machine) queues for longer than 15 s, and a slow reply beats a lost report.
 */
const TX_LIMIT_MS = 60_000;

/** An in-memory SQLite database exists in its one connection only: another thread would open an empty one. */
function isMemorySqlite(url: string): boolean {
  return url.includes(':memory:') || /[?&]mode=memory\b/.test(url);
}

export class Store {
  readonly provider: Provider;
  /** Reads (committed data only). Write with change() or transaction(). */
  readonly db: Db;
  private readonly writer: Db;
  readonly members: MemberRepository;
  readonly audit: AuditRepository;
  readonly conversations: ConversationRepository;
  readonly rosters: RosterRepository;
  readonly pages: PageRepository;
  readonly cases: CaseRepository;
  readonly crises: CrisisRepository;
  readonly sitreps: SitrepRepository;
  /** Seals and opens the encrypted personal fields; the repositories use it, and keys:rotate. */
  readonly cipher: FieldCipher;

  private readonly raw: Clients['raw'];
  private readonly rawRead: { db?: unknown; runner?: SqlRunner } = {};
  private readonly rawWrite: { db?: unknown; runner?: SqlRunner } = {};

  private readonly url: string | undefined;
  /** SQLite: this process's writers (transactions, the import's writer thread) one at a time. */
  private readonly gate = new WriteGate();
  private pool: pg.Pool | undefined;

  /** Keys the audit chain's hashes (HMAC-SHA-256); see audit-chain.ts. */
  private readonly auditChainKey: string | undefined;

  constructor(clients: Clients, url?: string, opts: StoreOptions = {}) {
    this.url = url;
    this.auditChainKey = opts.auditChainKey;
    this.cipher = opts.cipher ?? FieldCipher.plaintext();
    this.raw = clients.raw;
    this.provider = clients.provider;
    this.db = clients.read;
    this.writer = clients.write;
    this.members = new MemberRepository(this.db, this.cipher);
    this.audit = new AuditRepository(this.db);
    this.conversations = new ConversationRepository(this.db, (fn) => this.transaction(fn));
    this.rosters = new RosterRepository(this.db);
    this.pages = new PageRepository(this.db, this.cipher);
    this.cases = new CaseRepository(this.db, () => this.sqlRead(), this.cipher);
    this.crises = new CrisisRepository(this.db, () => this.sqlRead(), this.cipher);
    this.sitreps = new SitrepRepository(this.db);
  }

  static open(url: string, opts: StoreOptions = {}): Store {
    return new Store(createPrisma(url), url, opts);
  }

  /**
   * A write transaction without an audit entry: for bookkeeping that is not user data. Audit
   * entries recorded in it (change(), AuditRepository.write) are chained and written at its end.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.provider === 'sqlite') return this.gate.run(() => this.transactionNow(fn));
    return this.transactionNow(fn);
  }

  private transactionNow<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.writer.$transaction(
      async (tx) => {
        AuditRepository.begin(tx, { sql: () => this.sqlIn(tx), key: this.auditChainKey });
        const out = await fn(tx);
        await AuditRepository.flush(tx);
        return out;
      },
      { timeout: TX_LIMIT_MS, maxWait: TX_LIMIT_MS },
    );
  }

  async change<T>(meta: AuditMeta, fn: (w: Writer) => Promise<T>): Promise<T> {
    try {
      return await this.transaction(async (tx) => {
        const writer: Writer = {
          tx,
          audit: (entity, entityId, action, before, after) =>
            AuditRepository.write(tx, meta, { entity, entityId, action, before, after }),
        };
        return fn(writer);
      });
    } finally {
      // After commit (or rollback): nothing read before it may be served from a cache.
      this.members.invalidate();
    }
  }

  /**
   * Plain SQL for committed reads (see sql.ts). SQLite: the read connection itself (it is
   * read-only and never in a transaction); PostgreSQL: through Prisma's pool.
   */
  sqlRead(): SqlRunner {
    const pool = this.pgPool();
    if (pool) return pgRunner(pool);
    const db = this.raw?.read;
    if (!db) return prismaRunner(this.db, this.provider);
    if (this.rawRead.db !== db) Object.assign(this.rawRead, { db, runner: sqliteRunner(db) });
    return this.rawRead.runner as SqlRunner;
  }

  /**
   * Plain SQL inside `tx`, a transaction of this store's: on SQLite the write connection that
   * `tx` holds (so statements join it), on PostgreSQL the transaction itself.
   */
  sqlIn(tx: Tx): SqlRunner {
    const db = this.raw?.write;
    if (!db) return prismaRunner(tx, this.provider);
    if (this.rawWrite.db !== db) Object.assign(this.rawWrite, { db, runner: sqliteRunner(db) });
    return this.rawWrite.runner as SqlRunner;
  }

  /**
   * Bulk inserts for the import (see bulk-writer.ts): on a SQLite file, a thread with its own
   * connection, taking turns with this store's transactions (the gate), and waiting for another
   * process's lock as long as a transaction may last; else this store's transactions. Close it
   * when done.
   */
  bulkWriter(): BulkWriter {
    if (this.provider === 'sqlite' && this.url && !isMemorySqlite(this.url)) {
      return sqliteThreadWriter(sqlitePath(this.url), TX_LIMIT_MS, SQLITE_CACHE_KIB, this.cipher, (fn) => this.gate.run(fn));
    }
    return inTransactionWriter((fn) => this.transaction(fn), (tx) => this.sqlIn(tx), this.cipher);
  }

  /** PostgreSQL: single statements, each its own transaction, on our pool (the job claim). */
  sqlAutocommit(): SqlRunner {
    const pool = this.pgPool();
    if (!pool) throw new Error('sqlAutocommit is for PostgreSQL');
    return pgRunner(pool);
  }

  private pgPool(): pg.Pool | undefined {
    if (this.provider !== 'postgresql' || !this.url) return undefined;
    if (!this.pool) {
      this.pool = pgPool(this.url);
      // An idle connection the server closed (restart, failover) is dropped and the next query
      // opens another; without a listener the pool's 'error' would crash the process.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  /**
   * PostgreSQL: statements (values inlined, see sql.ts inlined()) in one transaction and one
   * round trip. The rows each returned, in order.
   */
  async pgBatch(statements: readonly string[]): Promise<Record<string, unknown>[][]> {
    const pool = this.pgPool();
    if (!pool) throw new Error('pgBatch is for PostgreSQL');
    if (!statements.length) return [];
    const client = await pool.connect();
    try {
      const res = (await client.query(`BEGIN;\n${statements.join(';\n')};\nCOMMIT`)) as unknown as pg.QueryResult | pg.QueryResult[];
      const all = Array.isArray(res) ? res : [res];
      // Without BEGIN and COMMIT.
      return all.slice(1, 1 + statements.length).map((r) => r.rows as Record<string, unknown>[]);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Cheap round trip for /healthz. */
  async ping(): Promise<void> {
    await this.db.$queryRawUnsafe('SELECT 1');
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
    await this.db.$disconnect();
    if (this.writer !== this.db) await this.writer.$disconnect();
  }
}

export { newId, newTimeOrderedId } from './ids';

export function systemMeta(requestId: string, platform: Platform | 'system' = 'system'): AuditMeta {
  return { actorId: null, actorName: 'system', platform, requestId };
}
