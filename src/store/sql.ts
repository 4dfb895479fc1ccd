// Plain SQL for the few hot paths (the job queue, escalation steps and sends). A Prisma call
// costs ~150-200 µs of CPU whatever it does (measured); a burst of thousands of escalations needs
// a few microseconds a statement, which only the driver gives. Everything else uses Prisma.
//
// SQL is written with `?` placeholders and quoted identifiers, valid on SQLite and PostgreSQL.
import type Database from 'better-sqlite3';
import pg from 'pg';
import type { Tx } from './client';
import { boundedConnectClient } from './availability';

/** Uint8Array: a blob (bytea on PostgreSQL). */
export type SqlValue = string | number | bigint | boolean | null | Date | Uint8Array;

export interface SqlRunner {
  readonly provider: 'sqlite' | 'postgresql';
  /** Rows of a SELECT (or of a statement with RETURNING). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Rows of a SELECT as arrays in column order: no object per row, for reads of many thousands. */
  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
}

/** How the SQLite adapter stores DateTime (ISO text, +00:00): raw writes must match, since comparisons are textual. */
export function sqliteDate(d: Date): string {
  return d.toISOString().replace('Z', '+00:00');
}

/** A DateTime column as read raw: ISO text on SQLite, a Date on PostgreSQL (through Prisma). */
export function dateOf(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string') return new Date(v);
  if (typeof v === 'number' || typeof v === 'bigint') return new Date(Number(v));
  throw new Error(`not a date: ${String(v)}`);
}

export function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : dateOf(v);
}

export function sqliteParam(v: SqlValue): string | number | bigint | Uint8Array | null {
  if (v instanceof Date) return sqliteDate(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** Prepared statements, kept per connection: preparing costs as much as running a small one. */
class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}
  get(sql: string, raw = false): Database.Statement {
    const key = raw ? `raw:${sql}` : sql;
    let s = this.cache.get(key);
    if (!s) {
      s = this.db.prepare(sql);
      // The adapter turns safe integers on for the connection; plain numbers suit our columns.
      if (s.reader) s.safeIntegers(false);
      if (raw) s.raw(true);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(key, s);
    }
    return s;
  }
}

/** A better-sqlite3 connection as a runner. Writes are only safe inside a transaction that owns it. */
export function sqliteRunner(db: Database.Database): SqlRunner {
  const statements = new StatementCache(db);
  return {
    provider: 'sqlite',
    all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const s = statements.get(sql);
      return Promise.resolve((s.reader ? s.all(...params.map(sqliteParam)) : (s.run(...params.map(sqliteParam)), [])) as T[]);
    },
    run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      return Promise.resolve(statements.get(sql).run(...params.map(sqliteParam)).changes);
    },
    values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
      return Promise.resolve(statements.get(sql, true).all(...params.map(sqliteParam)) as unknown[][]);
    },
  };
}

/** `?` → `$1, $2…` (our SQL has no `?` inside literals). */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/**
 * Through a Prisma client or transaction: PostgreSQL always (its pool and its transactions), and
 * SQLite before the connection is known (placeholders stay `?` there).
 */
export function prismaRunner(client: Pick<Tx, '$queryRawUnsafe' | '$executeRawUnsafe'>, provider: 'sqlite' | 'postgresql'): SqlRunner {
  const text = provider === 'postgresql' ? numbered : (sql: string): string => sql;
  return {
    provider,
    all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      return client.$queryRawUnsafe<T[]>(text(sql), ...params);
    },
    run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      return client.$executeRawUnsafe(text(sql), ...params);
    },
    async values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
      return (await client.$queryRawUnsafe<Record<string, unknown>[]>(text(sql), ...params)).map((r) => Object.values(r));
    },
  };
}

/** `(?, ?, ?), (?, ?, ?)` for a multi-row INSERT of `rows` rows of `columns` values. */
export function valuesList(rows: number, columns: number): string {
  const one = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => one).join(', ');
}

/** `?, ?, ?` for an IN list. */
export function inList(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * Prisma's DateTime is `timestamp(3)` (no zone) holding UTC: send and read it as UTC whatever
 * the process's zone (node-pg would use the local one).
 */
function pgParam(v: SqlValue): unknown {
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  return v;
}

const TIMESTAMP = 1114;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP) return (s: string): Date => new Date(`${s.replace(' ', 'T')}Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Our own small pool for the hot paths: node-pg costs a fraction of a Prisma call. */
export function pgPool(url: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString: url, max, Client: boundedConnectClient(url), types: pgTypes as pg.CustomTypesConfig });
}

export function pgRunner(client: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    provider: 'postgresql',
    async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      return (await client.query(numbered(sql), params.map(pgParam))).rows as T[];
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      return (await client.query(numbered(sql), params.map(pgParam))).rowCount ?? 0;
    },
    async values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
      return (await client.query({ text: numbered(sql), values: params.map(pgParam), rowMode: 'array' })).rows as unknown[][];
    },
  };
}

/** A value as a PostgreSQL literal (the driver's own escaping), for batched statements. */
function pgLiteral(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  // decode(): read the same whatever standard_conforming_strings is.
  if (v instanceof Uint8Array) return `decode('${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}', 'hex')`;
  return pg.escapeLiteral(String(pgParam(v)));
}

/** `?` placeholders filled with literals. */
export function inlined(sql: string, params: readonly SqlValue[]): string {
  let i = 0;
  const out = sql.replace(/\?/g, () => {
    if (i >= params.length) throw new Error('more placeholders than parameters');
    return pgLiteral(params[i++] as SqlValue);
  });
  if (i !== params.length) throw new Error('more parameters than placeholders');
  return out;
}

/** A column of a batched update: its name, and its PostgreSQL type where VALUES would read it as text. */
export interface UpdateColumn {
  name: string;
  pgType?: string;
}

/**
 * Writes that need no answer, sent to PostgreSQL together: a burst's thousands of small writes
 * in a few round trips instead of one each (on a busy machine each round trip costs a context
 * switch or two). Rows inserted or updated the same way are merged into one statement each, so
 * the server parses and plans a handful of statements rather than thousands. On SQLite,
 * in-process, each runs at once.
 */
export interface SqlBatch {
  readonly provider: 'sqlite' | 'postgresql';
  add(sql: string, params?: readonly SqlValue[]): void;
  /** `head VALUES (row), … tail`, e.g. head `INSERT INTO "T" ("a", "b")`, tail `ON CONFLICT DO NOTHING`. */
  insert(head: string, row: readonly SqlValue[], tail?: string): void;
  /** `UPDATE table SET columns = row[1…] WHERE key = row[0] AND where`; `where` names columns of the row being updated. */
  update(table: string, key: string, columns: readonly UpdateColumn[], row: readonly SqlValue[], where?: (alias: string) => string): void;
}

function placeholders(n: number): string {
  return `(${Array.from({ length: n }, () => '?').join(', ')})`;
}

export function immediateBatch(runner: SqlRunner): SqlBatch & { pending: Promise<unknown>[] } {
  const pending: Promise<unknown>[] = [];
  return {
    provider: runner.provider,
    pending,
    add(sql, params = []) {
      pending.push(runner.run(sql, params));
    },
    insert(head, row, tail = '') {
      pending.push(runner.run(`${head} VALUES ${placeholders(row.length)} ${tail}`, row));
    },
    update(table, key, columns, row, where) {
      const set = columns.map((c) => `"${c.name}" = ?`).join(', ');
      const extra = where ? ` AND ${where('')}` : '';
      pending.push(runner.run(`UPDATE "${table}" SET ${set} WHERE "${key}" = ?${extra}`, [...row.slice(1), row[0] as SqlValue]));
    },
  };
}

type Entry = string | { kind: 'insert'; head: string; tail: string; rows: string[] } | { kind: 'update'; table: string; key: string; columns: readonly UpdateColumn[]; where: string; rows: string[] };

const MERGE_ROWS = 1000;

export class PgBatch implements SqlBatch {
  readonly provider = 'postgresql' as const;
  private readonly entries: Entry[] = [];
  private readonly groups = new Map<string, Extract<Entry, { rows: string[] }>>();

  add(sql: string, params: readonly SqlValue[] = []): void {
    this.entries.push(inlined(sql, params));
  }

  insert(head: string, row: readonly SqlValue[], tail = ''): void {
    const id = `i\u0000${head}\u0000${tail}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { kind: 'insert', head, tail, rows: [] };
      this.groups.set(id, g);
      this.entries.push(g);
    }
    g.rows.push(`(${row.map(pgLiteral).join(', ')})`);
  }

  update(table: string, key: string, columns: readonly UpdateColumn[], row: readonly SqlValue[], where?: (alias: string) => string): void {
    const w = where ? where('t.') : '';
    const id = `u\u0000${table}\u0000${key}\u0000${columns.map((c) => `${c.name}:${c.pgType ?? ''}`).join(',')}\u0000${w}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { kind: 'update', table, key, columns, where: w, rows: [] };
      this.groups.set(id, g);
      this.entries.push(g);
    }
    g.rows.push(`(${row.map(pgLiteral).join(', ')})`);
  }

  /** The statements, merged groups at the place of their first row. */
  get statements(): string[] {
    const out: string[] = [];
    for (const e of this.entries) {
      if (typeof e === 'string') {
        out.push(e);
        continue;
      }
      for (let i = 0; i < e.rows.length; i += MERGE_ROWS) {
        const values = e.rows.slice(i, i + MERGE_ROWS).join(', ');
        if (e.kind === 'insert') {
          out.push(`${e.head} VALUES ${values} ${e.tail}`);
        } else {
          const names = [e.key, ...e.columns.map((c) => c.name)].map((n) => `"${n}"`).join(', ');
          const set = e.columns.map((c) => `"${c.name}" = v."${c.name}"${c.pgType ? `::${c.pgType}` : ''}`).join(', ');
          out.push(`UPDATE "${e.table}" AS t SET ${set} FROM (VALUES ${values}) AS v(${names}) WHERE t."${e.key}" = v."${e.key}"${e.where ? ` AND ${e.where}` : ''}`);
        }
      }
    }
    return out;
  }
}
