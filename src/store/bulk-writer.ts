// Bulk inserts in one transaction, for the import. On a SQLite file they run on a thread of their
// own: better-sqlite3 answers synchronously, so on the main thread the writes of one batch and the
// checking, scoring and sealing of the next take turns on one core; on their own thread they
// overlap, and the other core works too. Elsewhere (PostgreSQL, which writes in its own process,
// or an in-memory SQLite) the same steps run in a transaction of the store.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sqliteDate, valuesList, type SqlRunner, type SqlValue } from './sql';
import type { Tx } from './client';

/** A counter bumped by `count` (a statement RETURNING its new value): numbers first … last are the batch's. */
export interface ReserveStep {
  reserve: { sql: string; params: readonly SqlValue[]; count: number };
}

/** Rows inserted in statements of many rows; `numberColumn` gets the reserved numbers in row order. */
export interface InsertStep {
  table: string;
  columns: readonly string[];
  rows: readonly (readonly SqlValue[])[];
  tail?: string;
  numberColumn?: number;
}

/** Any other statement of the batch's transaction (a counter kept with the rows). */
export interface PlainStep {
  sql: string;
  params: readonly SqlValue[];
}

export type BulkStep = ReserveStep | InsertStep | PlainStep;

export interface BulkWriter {
  /** The steps in one transaction, in order; the first reserved number, if a step reserved any. */
  write(steps: readonly BulkStep[]): Promise<number | null>;
  close(): Promise<void>;
}

/** SQLite allows 32,766 parameters a statement. */
const MAX_PARAMS = 30_000;

/**
 * One statement of a batch, built once on this thread: the writer thread and the in-process
 * writer run the same list. `count`: the counter's reservation; `number`: the reserved numbers go
 * into that column of each row of the (flat) parameters.
 */
type Statement = { sql: string; params: SqlValue[]; count?: number; number?: { column: number; columns: number; offset: number } };

function statementsOf(steps: readonly BulkStep[]): Statement[] {
  const out: Statement[] = [];
  let reserved = false;
  for (const step of steps) {
    if ('reserve' in step) {
      out.push({ sql: step.reserve.sql, params: [...step.reserve.params], count: step.reserve.count });
      reserved = true;
      continue;
    }
    if ('sql' in step) {
      out.push({ sql: step.sql, params: [...step.params] });
      continue;
    }
    if (step.numberColumn !== undefined && !reserved) throw new Error('rows to number, but no number was reserved before them');
    const columns = step.columns.length;
    const per = Math.max(1, Math.floor(MAX_PARAMS / columns));
    for (let i = 0; i < step.rows.length; i += per) {
      const chunk = step.rows.slice(i, i + per);
      out.push({
        sql: `INSERT INTO "${step.table}" (${step.columns.map((c) => `"${c}"`).join(', ')}) VALUES ${valuesList(chunk.length, columns)} ${step.tail ?? ''}`,
        params: chunk.flat(),
        ...(step.numberColumn !== undefined ? { number: { column: step.numberColumn, columns, offset: i } } : {}),
      });
    }
  }
  return out;
}

/** The steps through a runner of a transaction the caller holds. */
export async function writeSteps(sql: SqlRunner, steps: readonly BulkStep[]): Promise<number | null> {
  let first: number | null = null;
  for (const s of statementsOf(steps)) {
    if (s.count !== undefined) {
      const [row] = await sql.all<Record<string, unknown>>(s.sql, s.params);
      first = Number(Object.values(row ?? {})[0]) - s.count + 1;
      continue;
    }
    if (s.number && first !== null) for (let j = 0; j * s.number.columns < s.params.length; j++) s.params[j * s.number.columns + s.number.column] = first + s.number.offset + j;
    await sql.run(s.sql, s.params);
  }
  return first;
}

/** In a transaction of the store (PostgreSQL, in-memory SQLite). */
export function inTransactionWriter(transaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>, sqlIn: (tx: Tx) => SqlRunner): BulkWriter {
  return {
    write: (steps) => transaction((tx) => writeSteps(sqlIn(tx), steps)),
    close: () => Promise.resolve(),
  };
}

/**
 * The thread's code: plain JavaScript (no build step, so tests run it as production does). It runs
 * the statements as writeSteps() above does, synchronously, in an IMMEDIATE transaction (the write
 * lock taken at BEGIN, so two writers never deadlock upgrading a read lock).
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyMs });
db.pragma('foreign_keys = ON');
db.pragma('cache_size = -' + workerData.cacheKib);
const statements = new Map();
const prepared = (sql) => {
  let s = statements.get(sql);
  if (!s) {
    // The last chunk of each table differs in size from batch to batch: keep memory bounded.
    if (statements.size > 50) statements.clear();
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
};
const run = db.transaction((list) => {
  let first = null;
  for (const s of list) {
    if (s.count !== undefined) {
      first = Number(Object.values(prepared(s.sql).get(...s.params))[0]) - s.count + 1;
      continue;
    }
    if (s.number) for (let j = 0; j * s.number.columns < s.params.length; j++) s.params[j * s.number.columns + s.number.column] = first + s.number.offset + j;
    prepared(s.sql).run(...s.params);
  }
  return first;
});
parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ id: m.id, first: run.immediate(m.statements) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err), code: (err && err.code) || null });
  }
});
`;

/** SQLite keeps dates as ISO text and booleans as 0/1 (see sql.ts); a thread gets plain values. */
function plain(v: SqlValue): string | number | bigint | null {
  if (v instanceof Date) return sqliteDate(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

export class BulkWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'BulkWriteError';
  }
}

type Answer = { id: number; first: number | null } | { id: number; error: string; code: string | null };

/** On a thread of its own, with its own connection to the SQLite file `file`. */
export function sqliteThreadWriter(file: string, busyMs: number, cacheKib: number): BulkWriter {
  const driver = createRequire(__filename).resolve('better-sqlite3');
  const worker = new Worker(THREAD, { eval: true, workerData: { file, driver, busyMs, cacheKib } });
  const waiting = new Map<number, { resolve: (first: number | null) => void; reject: (err: Error) => void }>();
  let next = 0;
  let dead: Error | null = null;
  const failAll = (err: Error): void => {
    dead = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (m: Answer) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if ('error' in m) w.reject(new BulkWriteError(m.error, m.code));
    else w.resolve(m.first);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  return {
    write(steps) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      const statements = statementsOf(steps).map((s) => ({ ...s, params: s.params.map(plain) }));
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, statements });
      });
    },
    async close() {
      dead ??= new Error('the SQLite writer thread stopped: closed');
      await worker.terminate();
    },
  };
}
