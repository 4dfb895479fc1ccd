// The import's writer thread (see bulk-writer.ts): its own connection to the SQLite file; each
// batch handed over early (its rows sealed then, while earlier batches are written) and, at its
// turn, inserted row by row in one IMMEDIATE transaction (the write lock taken at BEGIN, so two
// writers never deadlock upgrading a read lock).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { EARLIER_FAILED, EARLIER_FAILED_MESSAGE, insertSql, sealAhead, type Answer, type BulkStep, type InsertStep, type Message, type ThreadData } from './bulk-writer';
import { FieldCipher } from './field-crypto';
import { sqliteParam, type SqlValue } from './sql';

const data = workerData as ThreadData;
const port = parentPort;
if (!port) throw new Error('bulk-writer.thread runs as a worker thread');
const cipher = new FieldCipher(data.cipher);
const db = new Database(data.file, { timeout: data.busyMs });
db.pragma('foreign_keys = ON');
db.pragma(`cache_size = -${data.cacheKib}`);
// A commit here need not wait for the disk (the WAL stays consistent; a power cut may only take
// the last batches back). Each batch is counted with its rows, so a resumed import finds the rows
// it lost missing and writes them again; and the import's end is committed by the main
// connection, whose synced commit makes every batch before it durable.
db.pragma('synchronous = NORMAL');
// Checkpoints every ~100 MB of log instead of SQLite's 4 MB: a batch rewrites most pages of the
// indexes on names and blind indexes, which a checkpoint after every batch copied into the
// database each time; now once every few batches, and once when the import ends (below). The
// main connection keeps 4 MB, so a commit of its own while the log is long pays that checkpoint:
// the import makes none a batch (its progress is written with the batch).
db.pragma('wal_autocheckpoint = 25000');

const statements = new Map<string, Database.Statement>();
function prepared(sql: string): Database.Statement {
  let s = statements.get(sql);
  if (!s) {
    // The last chunk of each table differs in size from batch to batch: keep memory bounded.
    if (statements.size > 50) statements.clear();
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}

// A batch's rows share their dates (the import's "now", the file's source date): the last date's
// text is kept, by its time (each row has its own Date objects).
let lastTime = NaN;
let lastText = '';

/** Values as SQLite takes them, in place (the message is this thread's own copy). */
function params(p: SqlValue[]): unknown[] {
  for (let i = 0; i < p.length; i++) {
    const v = p[i] as SqlValue;
    if (v instanceof Date) {
      const t = v.getTime();
      if (t !== lastTime) {
        lastTime = t;
        lastText = sqliteParam(v) as string;
      }
      p[i] = lastText;
    } else if (typeof v === 'boolean') p[i] = sqliteParam(v);
  }
  return p;
}

/**
 * A batch handed over ahead of its turn: its rows sealed and its values made SQLite's now, while
 * an earlier batch's turn is awaited, so its turn is spent on the inserts alone.
 */
function stage(steps: BulkStep[]): BulkStep[] {
  for (const step of steps) {
    if ('reserve' in step) params(step.reserve.params as SqlValue[]);
    else if ('sql' in step) params(step.params as SqlValue[]);
    else {
      sealAhead(cipher, step, step.rows.length);
      for (const row of step.rows as SqlValue[][]) params(row);
    }
  }
  return steps;
}

/**
 * A row a statement: here, a prepared single-row INSERT run per row costs less than statements of
 * hundreds of rows (their parameters flattened into one array and bound one by one, then the
 * larger program run): measured 3.2 s against 4.5 s for the benchmark's 400,000 rows.
 */
function insertRows(step: InsertStep, first: number | null): void {
  if (step.numberColumn !== undefined && first === null) throw new Error('rows to number, but no number was reserved before them');
  const insert = prepared(insertSql(step, 1));
  const rows = step.rows as SqlValue[][];
  for (let j = 0; j < rows.length; j++) {
    const row = rows[j] as SqlValue[];
    if (step.numberColumn !== undefined) row[step.numberColumn] = (first as number) + j;
    insert.run(row);
  }
}

/** A staged batch's steps, in one transaction. */
const run = db.transaction((steps: readonly BulkStep[]): number | null => {
  let first: number | null = null;
  for (const step of steps) {
    if ('reserve' in step) {
      const row = prepared(step.reserve.sql).get(step.reserve.params) as Record<string, unknown> | undefined;
      first = Number(Object.values(row ?? {})[0]) - step.reserve.count + 1;
    } else if ('sql' in step) prepared(step.sql).run(step.params);
    else insertRows(step, first);
  }
  return first;
});

/** Batches handed over, by id, until their turn: staged, or why they could not be. */
const staged = new Map<number, { steps: BulkStep[] } | { error: unknown }>();
// Whether the last write failed (or was refused): a chained write after it is refused.
let lastFailed = false;

function answerOf(id: number, err: unknown): Answer {
  const e = err as { message?: unknown; code?: unknown };
  return { id, error: String(e.message ?? err), code: typeof e.code === 'string' ? e.code : null };
}

port.on('message', (m: Message) => {
  if ('stage' in m) {
    // No answer: the batch is answered at its turn.
    try {
      staged.set(m.id, { steps: stage(m.stage) });
    } catch (err) {
      staged.set(m.id, { error: err });
    }
    return;
  }
  let answer: Answer;
  try {
    if ('close' in m) {
      // PASSIVE: copies what no reader still needs, never waits; what is left, later commits copy.
      db.pragma('wal_checkpoint(PASSIVE)');
      db.close();
      answer = { id: m.id, first: null };
    } else {
      const batch = staged.get(m.id);
      staged.delete(m.id);
      if (m.chained && lastFailed) answer = { id: m.id, error: EARLIER_FAILED_MESSAGE, code: EARLIER_FAILED };
      else if (!batch) throw new Error(`batch ${m.id} was never handed over`);
      else if ('error' in batch) throw batch.error;
      else {
        answer = { id: m.id, first: run.immediate(batch.steps) };
        lastFailed = false;
      }
    }
  } catch (err) {
    answer = answerOf(m.id, err);
  }
  if ('error' in answer) lastFailed = true;
  port.postMessage(answer);
});
