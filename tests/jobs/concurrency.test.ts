// Several schedulers polling one queue: every job's handler runs exactly once.
// PostgreSQL: three schedulers, each with its own Store (own pool), as three replicas would be.
// SQLite: two schedulers in one process over one Store — one process is one writer there, and
// its transactions are serialised; the claim must still never hand a job to both.
import { Scheduler } from '../../src/jobs/scheduler';
import { Store } from '../../src/store/store';
import { describeEachDb, type TestDb } from '../helpers/db';
import { migratedStore, quiet, until } from './rig';

const JOBS = 300;

describeEachDb('schedulers sharing a queue', (fresh) => {
  let db: TestDb;
  let stores: Store[] = [];

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  test(`${JOBS} jobs, each run exactly once`, async () => {
    const first = await migratedStore(fresh);
    db = first.db;
    const postgres = db.provider === 'postgresql';
    stores = postgres ? [first.store, Store.open(db.url), Store.open(db.url)] : [first.store];
    const instances = postgres ? 3 : 2;

    const runs = new Map<string, string[]>();
    const schedulers = Array.from({ length: instances }, (_, i) => {
      const s = new Scheduler({ store: stores[i % stores.length] as Store, logger: quiet, workerId: `w${i}`, pollMs: 5, batch: 8 });
      s.register('count', async (job) => {
        runs.set(job.key, [...(runs.get(job.key) ?? []), `w${i}`]);
        // A little work, so claims and handlers interleave.
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        return { status: 'done' };
      });
      return s;
    });

    const now = new Date();
    await first.store.transaction(async (tx) => {
      for (let i = 0; i < JOBS; i++) await (schedulers[0] as Scheduler).enqueue({ kind: 'count', key: `job-${i}`, dueAt: now, payload: i }, tx);
    });

    for (const s of schedulers) s.start();
    await until(async () => (await first.store.db.job.count({ where: { status: 'done' } })) === JOBS, 15_000, 'every job to be done');
    await Promise.all(schedulers.map((s) => s.stop()));

    expect(runs.size).toBe(JOBS);
    const twice = [...runs].filter(([, by]) => by.length !== 1);
    expect(twice).toEqual([]);
    const rows = await first.store.db.job.findMany();
    expect(rows.every((r) => r.status === 'done' && r.attempts === 1)).toBe(true);
    // The work was shared: every instance ran some jobs.
    const perWorker = new Map<string, number>();
    for (const [, by] of runs) perWorker.set(by[0] as string, (perWorker.get(by[0] as string) ?? 0) + 1);
    expect(perWorker.size).toBe(instances);
    for (const r of rows) expect(r.lockedBy).toBe(runs.get(r.idempotencyKey)?.[0]);
  });
});
