// Bulk inserts in one transaction, for the import. On a SQLite file they run on a thread of their
// own (bulk-writer.thread.ts), which also seals the rows: better-sqlite3 answers synchronously, so
// on the main thread the writes of one batch and the checking and scoring of the next would take
// turns on one core; on their own thread they overlap, and the other core works too. Elsewhere
// (PostgreSQL, which writes in its own process, or an in-memory SQLite) the same steps run in a
// transaction of the store.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sealRow, type FieldCipher, type RowSealing, type SharedCipher } from './field-crypto';
import { valuesList, type SqlRunner, type SqlValue } from './sql';
import type { Tx } from './client';

/** A counter bumped by `count` (a statement RETURNING its new value): numbers first … last are the batch's. */
export interface ReserveStep {
  reserve: { sql: string; params: readonly SqlValue[]; count: number };
}

/**
 * Rows to insert (in statements of many rows in a transaction of the store, a statement a row on
 * the writer thread); `numberColumn` gets the reserved numbers in row order. `seal`: the rows are
 * in clear, and sealed (with their blind indexes) by the writer.
 */
export interface InsertStep {
  table: string;
  columns: readonly string[];
  rows: readonly (readonly SqlValue[])[];
  tail?: string;
  numberColumn?: number;
  seal?: RowSealing;
  /** The first this many rows are sealed already (sealAhead(): by the caller, while it waited for the writer). */
  sealedAhead?: number;
}

/**
 * Seals rows of the step in place, from where it was sealed up to before `upTo`, and says so on
 * the step: the writer seals only the rest. For a caller that would otherwise wait for the writer.
 */
export function sealAhead(cipher: FieldCipher, step: InsertStep, upTo: number): void {
  const how = step.seal;
  if (!how) return;
  const rows = step.rows as SqlValue[][];
  const end = Math.min(upTo, rows.length);
  for (let i = step.sealedAhead ?? 0; i < end; i++) sealRow(cipher, how, rows[i] as SqlValue[], rows[i] as SqlValue[]);
  step.sealedAhead = Math.max(step.sealedAhead ?? 0, end);
}

/** Any other statement of the batch's transaction (a counter kept with the rows). */
export interface PlainStep {
  sql: string;
  params: readonly SqlValue[];
}

export type BulkStep = ReserveStep | InsertStep | PlainStep;

export interface WriteOptions {
  /**
   * Written only if the write before it was: batches of one import depend on those before them
   * (their duplicate candidates name people of earlier batches), and are handed over before those
   * are written. Refused otherwise (BulkWriteError, code EARLIER_FAILED).
   */
  chained?: boolean;
}

export interface BulkWriter {
  /**
   * The steps in one transaction; the first reserved number, if a step reserved any. Writes run
   * one at a time, in the order handed over: the next can be handed over before this one ends.
   */
  write(steps: readonly BulkStep[], opts?: WriteOptions): Promise<number | null>;
  close(): Promise<void>;
}

/** The code of a chained write refused because the one before it failed. */
export const EARLIER_FAILED = 'EARLIER_FAILED';
export const EARLIER_FAILED_MESSAGE = 'not written: the batch before it failed';

/** SQLite allows 32,766 parameters a statement. */
const MAX_PARAMS = 30_000;

/**
 * One statement of a batch, built by statementsOf() where it is run (the writer thread, or the
 * in-process writer). `count`: the counter's reservation; `number`: the reserved numbers go into
 * that column of each row of the (flat) parameters.
 */
type Statement = { sql: string; params: SqlValue[]; count?: number; number?: { column: number; columns: number; offset: number } };

/** Puts the reserved numbers, from `first` on, into the statement's rows. */
function numberRows(s: Statement, first: number | null): void {
  if (!s.number || first === null) return;
  for (let j = 0; j * s.number.columns < s.params.length; j++) s.params[j * s.number.columns + s.number.column] = first + s.number.offset + j;
}

/** The step's INSERT of `rows` rows. */
export function insertSql(step: InsertStep, rows: number): string {
  return `INSERT INTO "${step.table}" (${step.columns.map((c) => `"${c}"`).join(', ')}) VALUES ${valuesList(rows, step.columns.length)} ${step.tail ?? ''}`;
}

function statementsOf(steps: readonly BulkStep[], cipher: FieldCipher): Statement[] {
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
    const how = step.seal;
    for (let i = 0; i < step.rows.length; i += per) {
      const n = Math.min(per, step.rows.length - i);
      // Flat, sealed as they go: no copy of the batch a step.
      const params = new Array<SqlValue>(n * columns);
      for (let j = 0; j < n; j++) {
        const given = step.rows[i + j] as readonly SqlValue[];
        const row = how && i + j >= (step.sealedAhead ?? 0) ? sealRow(cipher, how, given) : given;
        for (let c = 0; c < columns; c++) params[j * columns + c] = row[c] as SqlValue;
      }
      out.push({
        sql: insertSql(step, n),
        params,
        ...(step.numberColumn !== undefined ? { number: { column: step.numberColumn, columns, offset: i } } : {}),
      });
    }
  }
  return out;
}

/** The steps through a runner of a transaction the caller holds. */
export async function writeSteps(sql: SqlRunner, steps: readonly BulkStep[], cipher: FieldCipher): Promise<number | null> {
  let first: number | null = null;
  for (const s of statementsOf(steps, cipher)) {
    if (s.count !== undefined) {
      const [row] = await sql.all<Record<string, unknown>>(s.sql, s.params);
      first = Number(Object.values(row ?? {})[0]) - s.count + 1;
      continue;
    }
    numberRows(s, first);
    await sql.run(s.sql, s.params);
  }
  return first;
}

/** In a transaction of the store (PostgreSQL, in-memory SQLite), one after another. */
export function inTransactionWriter(transaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>, sqlIn: (tx: Tx) => SqlRunner, cipher: FieldCipher): BulkWriter {
  let tail: Promise<unknown> = Promise.resolve();
  let lastFailed = false;
  return {
    write(steps, opts) {
      const run = tail.then(async () => {
        if (opts?.chained && lastFailed) throw new BulkWriteError(EARLIER_FAILED_MESSAGE, EARLIER_FAILED);
        try {
          const first = await transaction((tx) => writeSteps(sqlIn(tx), steps, cipher));
          lastFailed = false;
          return first;
        } catch (err) {
          lastFailed = true;
          throw err;
        }
      });
      tail = run.catch(() => undefined);
      return run;
    },
    close: () => tail.then(() => undefined),
  };
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

export type Answer = { id: number; first: number | null } | { id: number; error: string; code: string | null };

/** To the thread: a batch handed over, its turn to be written, or the end. */
export type Message = { id: number; stage: BulkStep[] } | { id: number; chained: boolean } | { id: number; close: true };

/** What the thread is started with. */
export interface ThreadData {
  file: string;
  busyMs: number;
  cacheKib: number;
  cipher: SharedCipher;
}

/**
 * The thread, from its compiled file; from the TypeScript source (tests, `tsx`) through tsx's
 * require hook, so tests run the same code production does.
 */
function startThread(data: ThreadData): Worker {
  const file = path.join(__dirname, `bulk-writer.thread${path.extname(__filename)}`);
  if (!file.endsWith('.ts')) return new Worker(file, { workerData: data });
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData: data });
}

/**
 * On a thread of its own, with its own connection to the SQLite file `file`. `turn`: runs a write
 * when the caller's other writers let it (the store's gate); each batch is handed to the thread
 * before that, so the thread seals it while it waits.
 */
export function sqliteThreadWriter(file: string, busyMs: number, cacheKib: number, cipher: FieldCipher, turn: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn()): BulkWriter {
  const worker = startThread({ file, busyMs, cacheKib, cipher: cipher.shared() });
  const post = (m: Message): void => worker.postMessage(m);
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
  // A batch is staged (handed to the thread, which seals it) once the batch before it has its
  // turn: the thread takes messages in order, so it never seals a later batch while a turn, and
  // with it every other writer of the process, waits on it. Batches below turnsGiven may be staged.
  let turnsGiven = 0;
  const unstaged: { id: number; steps: BulkStep[] }[] = [];
  const stageNext = (): void => {
    for (let u = unstaged[0]; u && u.id <= turnsGiven; u = unstaged[0]) {
      unstaged.shift();
      post({ id: u.id, stage: u.steps });
    }
  };
  return {
    write(steps, opts) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      // The rows in clear (dates as dates): the thread seals them when staged, and inserts them at the turn.
      unstaged.push({ id, steps: [...steps] });
      stageNext();
      return turn(
        () =>
          new Promise<number | null>((resolve, reject) => {
            if (dead) return reject(dead);
            // Its own stage went when the turn before it came (turns come in order); then its
            // turn, then the next batch's stage.
            turnsGiven = Math.max(turnsGiven, id);
            stageNext();
            waiting.set(id, { resolve, reject });
            post({ id, chained: opts?.chained === true });
            turnsGiven = id + 1;
            stageNext();
          }),
      );
    },
    async close() {
      // Writes still waiting for their turn are refused when it comes (the thread is gone).
      if (!dead) {
        // The thread checkpoints what it wrote before it goes (see bulk-writer.thread.ts): a write after it waits its turn.
        const id = next++;
        await new Promise<unknown>((resolve) => {
          waiting.set(id, { resolve, reject: resolve });
          post({ id, close: true });
        });
      }
      dead ??= new Error('the SQLite writer thread stopped: closed');
      await worker.terminate();
    },
  };
}
