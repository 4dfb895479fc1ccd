import { z } from 'zod/v4';
import type { Platform } from '../domain/invocation';
import type { Db, Tx } from './client';
import { canonicalTail, entryHash, GENESIS_HASH, hmacPads, VERSION_TAG, type ChainedFields } from './audit-chain';
import { valuesList, type SqlRunner, type SqlValue } from './sql';

export interface AuditMeta {
  actorId: string | null;
  actorName: string;
  platform: Platform | 'system';
  requestId: string;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actorId: string | null;
  actorName: string;
  platform: string;
  requestId: string;
  entity: string;
  entityId: string;
  action: string;
  before: unknown;
  after: unknown;
  /** Place in the hash chain; null for entries written before the chain existed. */
  seq: number | null;
  hash: string | null;
}

const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'audit snapshot is not JSON' });
    return z.NEVER;
  }
});

function snapshot(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

/** An entry recorded during a transaction, chained (seq, prevHash) just before it commits. */
type Pending = Omit<ChainedFields, 'seq' | 'prevHash'>;

interface ChainContext {
  /** Plain SQL inside the transaction (resolved when first needed). */
  sql: () => SqlRunner;
  key: string | undefined;
  pending: Pending[];
}

const contexts = new WeakMap<Tx, ChainContext>();

const INSERT_COLUMNS = ['at', 'actorId', 'actorName', 'platform', 'requestId', 'entity', 'entityId', 'action', 'before', 'after', 'seq', 'prevHash', 'hash'];
const INSERT_HEAD = `INSERT INTO "AuditEntry" (${INSERT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES `;
const ROWS_PER_INSERT = 500;

/** SQLite: reads the head, creating it at the genesis before the first chained entry (the write transaction is exclusive already). */
const LOCK_HEAD = `INSERT INTO "AuditHead" ("id", "seq", "hash") VALUES (1, 0, ?) ON CONFLICT ("id") DO UPDATE SET "seq" = "AuditHead"."seq" RETURNING "seq", "hash"`;
const SET_HEAD = 'UPDATE "AuditHead" SET "seq" = ?, "hash" = ? WHERE "id" = 1';

/** `msg` hashed in SQL as entryHash does it: SHA-256, or HMAC-SHA-256 from the key's padded blocks. */
function sqlHash(msg: string, keyed: boolean): string {
  const bytes = `convert_to(${msg}, 'UTF8')`;
  return keyed ? `encode(sha256(decode(?, 'hex') || sha256(decode(?, 'hex') || ${bytes})), 'hex')` : `encode(sha256(${bytes}), 'hex')`;
}

/**
 * PostgreSQL: one statement locks the head row, chains the entries from it (the hashes are
 * computed by the server, the canonical text's tail having been built here), inserts them and
 * moves the head. Between taking the lock and the commit there is then this one round trip:
 * the lock serialises every replica's audited writes, so its hold time is their throughput.
 */
async function chainOnPostgres(sql: SqlRunner, pending: Pending[], key: string | undefined): Promise<void> {
  const pads = key ? hmacPads(key) : null;
  const params: SqlValue[] = [];
  const rows = pending.map((p, i) => {
    // Text, not a Date: no time zone conversion on the way to timestamp(3).
    params.push(i + 1, p.at.toISOString().replace('T', ' ').replace('Z', ''), p.actorId, p.actorName, p.platform, p.requestId, p.entity, p.entityId, p.action, p.before, p.after, canonicalTail(p));
    return '(?::int, ?::timestamp(3), ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text)';
  });
  const hashParams: SqlValue[] = pads ? [pads.outer.toString('hex'), pads.inner.toString('hex')] : [];
  const text = `WITH RECURSIVE
    head AS (SELECT "seq", "hash" FROM "AuditHead" WHERE "id" = 1 FOR UPDATE),
    input (i, "at", "actorId", "actorName", "platform", "requestId", "entity", "entityId", "action", "before", "after", tail) AS (VALUES ${rows.join(', ')}),
    chain (i, seq, hash, prev) AS (
      SELECT 0, "seq", "hash", NULL::text FROM head
      UNION ALL
      SELECT n.i, c.seq + 1, ${sqlHash(`?::text || '[' || (c.seq + 1)::text || ',"' || c.hash || '"' || n.tail`, pads !== null)}, c.hash
      FROM chain c JOIN input n ON n.i = c.i + 1
    ),
    ins AS (
      ${INSERT_HEAD.replace(' VALUES ', '')}
      SELECT n."at", n."actorId", n."actorName", n."platform", n."requestId", n."entity", n."entityId", n."action", n."before", n."after", c.seq, c.prev, c.hash
      FROM input n JOIN chain c ON c.i = n.i ORDER BY n.i
      RETURNING 1
    )
    UPDATE "AuditHead" h SET "seq" = l.seq, "hash" = l.hash FROM (SELECT seq, hash FROM chain ORDER BY i DESC LIMIT 1) l WHERE h."id" = 1 RETURNING h."seq"`;
  // Placeholders in the order they appear: the input rows, then the hash's (pads, then the tag).
  const all = [...params, ...hashParams, VERSION_TAG];
  if ((await sql.all(text, all)).length) return;
  // No head row yet: the very first chained entry. Create it at the genesis and chain again.
  await sql.run(`INSERT INTO "AuditHead" ("id", "seq", "hash") VALUES (1, 0, ?) ON CONFLICT ("id") DO NOTHING`, [GENESIS_HASH]);
  if (!(await sql.all(text, all)).length) throw new Error('audit chain: the head row could not be locked');
}

export class AuditRepository {
  constructor(private readonly db: Db) {}

  /** Called by the store for each of its transactions: audit entries written in `tx` are chained with `key`. */
  static begin(tx: Tx, chain: { sql: () => SqlRunner; key?: string }): void {
    contexts.set(tx, { sql: chain.sql, key: chain.key, pending: [] });
  }

  /**
   * Records an entry. It is written, chained, when the transaction ends (flush): the head row's
   * lock is then the last lock the transaction takes and is held only until its commit, so
   * audited writers queue briefly there and can never deadlock on it.
   */
  static write(
    tx: Tx,
    meta: AuditMeta,
    e: { entity: string; entityId: string; action: string; before: unknown; after: unknown },
  ): Promise<void> {
    const ctx = contexts.get(tx);
    // Every transaction comes from Store.transaction/change; an entry outside the chain would be reported by audit:verify.
    if (!ctx) return Promise.reject(new Error('audit entries are written inside Store.transaction() or Store.change()'));
    ctx.pending.push({
      at: new Date(),
      actorId: meta.actorId,
      actorName: meta.actorName,
      platform: meta.platform,
      requestId: meta.requestId,
      entity: e.entity,
      entityId: e.entityId,
      action: e.action,
      // Snapshotted now: the caller may change its objects before the commit.
      before: snapshot(e.before),
      after: snapshot(e.after),
    });
    return Promise.resolve();
  }

  /** Chains and writes the transaction's entries, and moves the head; inside `tx`, before it commits. */
  static async flush(tx: Tx): Promise<void> {
    const ctx = contexts.get(tx);
    if (!ctx?.pending.length) return;
    const pending = ctx.pending;
    ctx.pending = [];
    const sql = ctx.sql();
    if (sql.provider === 'postgresql') {
      for (let i = 0; i < pending.length; i += ROWS_PER_INSERT) await chainOnPostgres(sql, pending.slice(i, i + ROWS_PER_INSERT), ctx.key);
      return;
    }
    // SQLite: in-process statements, the transaction exclusive already.
    const head = (await sql.all<{ seq: number | string; hash: string }>(LOCK_HEAD, [GENESIS_HASH]))[0];
    if (!head) throw new Error('audit chain: the head row could not be read');
    let seq = Number(head.seq);
    let prevHash = head.hash;
    const rows: SqlValue[][] = pending.map((p) => {
      seq++;
      const hash = entryHash({ ...p, seq, prevHash }, ctx.key);
      const row: SqlValue[] = [p.at, p.actorId, p.actorName, p.platform, p.requestId, p.entity, p.entityId, p.action, p.before, p.after, seq, prevHash, hash];
      prevHash = hash;
      return row;
    });
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      await sql.run(INSERT_HEAD + valuesList(chunk.length, INSERT_COLUMNS.length), chunk.flat());
    }
    await sql.run(SET_HEAD, [seq, prevHash]);
  }

  async list(filter: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]> {
    const rows = await this.db.auditEntry.findMany({
      where: { entity: filter.entity, entityId: filter.entityId },
      orderBy: { id: 'desc' },
      take: filter.limit,
    });
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actorId: r.actorId,
      actorName: r.actorName,
      platform: r.platform,
      requestId: r.requestId,
      entity: r.entity,
      entityId: r.entityId,
      action: r.action,
      before: r.before === null ? null : json.parse(r.before),
      after: r.after === null ? null : json.parse(r.after),
      seq: r.seq,
      hash: r.hash,
    }));
  }

  async count(): Promise<number> {
    return this.db.auditEntry.count();
  }
}
