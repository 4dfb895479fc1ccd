// Shared set-up for the scheduler and notifier tests: a migrated store, a clock the test
// moves by hand, and a quiet logger.
import pino from 'pino';
import { migrate } from '../../src/store/migrate';
import { Store } from '../../src/store/store';
import type { TestDb } from '../helpers/db';

export const quiet = pino({ level: 'silent' });

export async function migratedStore(fresh: () => Promise<TestDb>): Promise<{ db: TestDb; store: Store }> {
  const db = await fresh();
  await migrate(db.url);
  return { db, store: Store.open(db.url) };
}

export class ManualClock {
  private t: number;
  constructor(iso = '2030-03-01T09:00:00.000Z') {
    this.t = Date.parse(iso);
  }
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  /** A date `ms` from the clock's now. */
  in(ms: number): Date {
    return new Date(this.t + ms);
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export async function jobRow(store: Store, key: string) {
  const row = await store.db.job.findUnique({ where: { idempotencyKey: key } });
  if (!row) throw new Error(`no job ${key}`);
  return row;
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
