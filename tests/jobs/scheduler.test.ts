// The scheduler over a real database with a clock moved by hand: what is due, idempotent and
// transactional enqueue, retries, cancellation, leases (re-run or "outcome unknown"), the watchdog.
import { backoffMs } from '../../src/jobs/backoff';
import { OUTCOME_UNKNOWN, Scheduler, type ClaimedJob, type JobOutcome } from '../../src/jobs/scheduler';
import type { Tx } from '../../src/store/client';
import type { Store } from '../../src/store/store';
import { systemMeta } from '../../src/store/store';
import { describeEachDb, type TestDb } from '../helpers/db';
import { deferred, jobRow, ManualClock, migratedStore, quiet, until } from './rig';

describeEachDb('scheduler', (fresh) => {
  let db: TestDb;
  let store: Store;
  let clock: ManualClock;
  let n = 0;
  /** A fresh key per test, so tests share one database without seeing each other's jobs. */
  const key = (name: string): string => `${name}-${++n}`;

  beforeAll(async () => {
    ({ db, store } = await migratedStore(fresh));
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });
  beforeEach(async () => {
    // Each test starts from an empty queue.
    await store.transaction((tx) => tx.job.deleteMany({}));
    clock = new ManualClock();
  });

  function scheduler(opts: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler {
    return new Scheduler({ store, logger: quiet, clock: clock.now, ...opts });
  }

  /** Registers `kind` with a handler that records what it saw. */
  function recorder(s: Scheduler, kind: string, answer: (job: ClaimedJob) => JobOutcome | Promise<JobOutcome> = () => ({ status: 'done' }), opts = {}) {
    const seen: ClaimedJob[] = [];
    s.register(kind, async (job) => {
      seen.push(job);
      return answer(job);
    }, opts);
    return seen;
  }

  test('a job runs once it is due, not before, with its payload; the outcome is recorded', async () => {
    const s = scheduler();
    const seen = recorder(s, 'greet', () => ({ status: 'done', result: { said: 'hello' } }));
    const k = key('greet');
    const payload = { to: 'alee', n: 3, nested: { list: [1, 'two', null] } };
    expect(await s.enqueue({ kind: 'greet', key: k, dueAt: clock.in(60_000), payload })).toBe(true);

    expect(await s.runDue()).toBe(0);
    clock.advance(59_999);
    expect(await s.runDue()).toBe(0);
    expect(seen).toHaveLength(0);

    clock.advance(1);
    expect(await s.runDue()).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'greet', key: k, payload, attempts: 1 });
    expect(seen[0]?.dueAt.toISOString()).toBe(clock.now().toISOString());

    const row = await jobRow(store, k);
    expect(row).toMatchObject({ status: 'done', attempts: 1, lockedUntil: null, lastError: null });
    expect(JSON.parse(row.result ?? 'null')).toEqual({ said: 'hello' });
    expect(row.finishedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await s.runDue()).toBe(0);
  });

  test('due jobs run oldest first, at most `batch` per cycle', async () => {
    const s = scheduler({ batch: 3 });
    const seen = recorder(s, 'order');
    const keys = [key('c'), key('a'), key('d'), key('b')];
    // Enqueued out of order: due 30, 10, 40, 20 seconds ago.
    await s.enqueue({ kind: 'order', key: keys[0] as string, dueAt: clock.in(-30_000), payload: 30 });
    await s.enqueue({ kind: 'order', key: keys[1] as string, dueAt: clock.in(-10_000), payload: 10 });
    await s.enqueue({ kind: 'order', key: keys[2] as string, dueAt: clock.in(-40_000), payload: 40 });
    await s.enqueue({ kind: 'order', key: keys[3] as string, dueAt: clock.in(-20_000), payload: 20 });
    expect(await s.runDue()).toBe(3);
    expect(seen.map((j) => j.payload).sort()).toEqual([20, 30, 40]);
    expect(await s.runDue()).toBe(1);
    expect(seen[3]?.payload).toBe(10);
  });

  test('enqueue is idempotent on the key: one row, the first payload', async () => {
    const s = scheduler();
    const seen = recorder(s, 'once');
    const k = key('once');
    expect(await s.enqueue({ kind: 'once', key: k, dueAt: clock.now(), payload: 'first' })).toBe(true);
    expect(await s.enqueue({ kind: 'once', key: k, dueAt: clock.now(), payload: 'second' })).toBe(false);
    expect(await store.db.job.count({ where: { idempotencyKey: k } })).toBe(1);
    await s.runDue();
    // Still a no-op once the job has run.
    expect(await s.enqueue({ kind: 'once', key: k, dueAt: clock.now(), payload: 'third' })).toBe(false);
    await s.runDue();
    expect(seen.map((j) => j.payload)).toEqual(['first']);
  });

  test('enqueue inside a change commits with it, and vanishes when it rolls back', async () => {
    const s = scheduler();
    const seen = recorder(s, 'tx');
    const kept = key('kept');
    const lost = key('lost');
    const dup = key('dup');
    await s.enqueue({ kind: 'tx', key: dup, dueAt: clock.now(), payload: null });

    await store.change(systemMeta('commit'), async (w) => {
      expect(await s.enqueue({ kind: 'tx', key: kept, dueAt: clock.now(), payload: 'kept' }, w.tx)).toBe(true);
      // A duplicate inside a transaction must not poison it (on PostgreSQL a failed insert would).
      expect(await s.enqueue({ kind: 'tx', key: dup, dueAt: clock.now(), payload: 'again' }, w.tx)).toBe(false);
      await w.audit('test', kept, 'create', null, { ok: true });
    });
    await expect(
      store.change(systemMeta('rollback'), async (w) => {
        expect(await s.enqueue({ kind: 'tx', key: lost, dueAt: clock.now(), payload: 'lost' }, w.tx)).toBe(true);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');

    expect(await store.db.job.findUnique({ where: { idempotencyKey: lost } })).toBeNull();
    expect(await store.db.auditEntry.count({ where: { entityId: kept } })).toBe(1);
    await s.runDue();
    expect(seen.map((j) => j.key).sort()).toEqual([dup, kept].sort());
  });

  test('a retry goes back to pending until afterMs has passed, then runs again', async () => {
    const s = scheduler();
    const seen = recorder(s, 'flaky', (job) => (job.attempts === 1 ? { status: 'retry', afterMs: 5000, error: 'busy' } : { status: 'done' }));
    const k = key('flaky');
    await s.enqueue({ kind: 'flaky', key: k, dueAt: clock.now(), payload: {} });
    expect(await s.runDue()).toBe(1);
    let row = await jobRow(store, k);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'busy', lockedBy: null, lockedUntil: null });
    expect(row.dueAt.toISOString()).toBe(clock.in(5000).toISOString());

    clock.advance(4999);
    expect(await s.runDue()).toBe(0);
    clock.advance(1);
    expect(await s.runDue()).toBe(1);
    row = await jobRow(store, k);
    expect(row).toMatchObject({ status: 'done', attempts: 2 });
    expect(seen.map((j) => j.attempts)).toEqual([1, 2]);
  });

  test('a handler that throws is retried with exponential backoff, then fails after 8 attempts', async () => {
    const s = scheduler();
    const seen = recorder(s, 'broken', () => {
      throw new Error('database of the other service is down');
    });
    const k = key('broken');
    await s.enqueue({ kind: 'broken', key: k, dueAt: clock.now(), payload: null });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      expect(await s.runDue()).toBe(1);
      const row = await jobRow(store, k);
      if (attempt < 8) {
        expect(row).toMatchObject({ status: 'pending', attempts: attempt, lastError: 'database of the other service is down' });
        const delay = row.dueAt.getTime() - clock.now().getTime();
        // Equal jitter: between half and all of 1 s · 2^(attempt-1).
        expect(delay).toBeGreaterThanOrEqual(500 * 2 ** (attempt - 1));
        expect(delay).toBeLessThanOrEqual(1000 * 2 ** (attempt - 1));
        delays.push(delay);
        clock.advance(delay);
      } else {
        expect(row).toMatchObject({ status: 'failed', attempts: 8 });
        expect(row.lastError).toBe('gave up after 8 attempts: database of the other service is down');
      }
    }
    clock.advance(3_600_000);
    expect(await s.runDue()).toBe(0);
    expect(seen).toHaveLength(8);
    expect(delays[6]).toBeGreaterThan(delays[0] as number);
  });

  test('retry outcomes also stop at maxAttempts', async () => {
    const s = scheduler();
    recorder(s, 'limited', () => ({ status: 'retry', afterMs: 0, error: 'not yet' }), { maxAttempts: 2 });
    const k = key('limited');
    await s.enqueue({ kind: 'limited', key: k, dueAt: clock.now(), payload: null });
    await s.runDue();
    await s.runDue();
    expect(await jobRow(store, k)).toMatchObject({ status: 'failed', attempts: 2, lastError: 'gave up after 2 attempts: not yet' });
  });

  test('a failed outcome is final', async () => {
    const s = scheduler();
    const seen = recorder(s, 'doomed', () => ({ status: 'failed', error: 'no such roster' }));
    const k = key('doomed');
    await s.enqueue({ kind: 'doomed', key: k, dueAt: clock.now(), payload: null });
    await s.runDue();
    clock.advance(3_600_000);
    await s.runDue();
    expect(seen).toHaveLength(1);
    expect(await jobRow(store, k)).toMatchObject({ status: 'failed', lastError: 'no such roster' });
  });

  test('a job of a kind nobody registered fails with a clear error', async () => {
    const s = scheduler();
    const k = key('mystery');
    await s.enqueue({ kind: 'mystery', key: k, dueAt: clock.now(), payload: null });
    expect(await s.runDue()).toBe(1);
    expect(await jobRow(store, k)).toMatchObject({ status: 'failed', lastError: 'no handler registered for job kind "mystery"' });
  });

  test('cancel: pending → cancelled, never runs; nothing else can be cancelled', async () => {
    const s = scheduler();
    const seen = recorder(s, 'reminder');
    const k = key('reminder');
    const ran = key('ran');
    await s.enqueue({ kind: 'reminder', key: k, dueAt: clock.in(1000), payload: null });
    await s.enqueue({ kind: 'reminder', key: ran, dueAt: clock.now(), payload: null });
    await s.runDue();
    expect(await s.cancel(k)).toBe(true);
    expect(await s.cancel(k)).toBe(false);
    expect(await s.cancel(ran)).toBe(false);
    expect(await s.cancel(key('unknown'))).toBe(false);
    clock.advance(5000);
    expect(await s.runDue()).toBe(0);
    expect(seen.map((j) => j.key)).toEqual([ran]);
    expect(await jobRow(store, k)).toMatchObject({ status: 'cancelled' });
    // Cancelled in a transaction that rolls back: still pending.
    const later = key('later');
    await s.enqueue({ kind: 'reminder', key: later, dueAt: clock.in(1000), payload: null });
    await expect(
      store.change(systemMeta('undo'), async (w) => {
        expect(await s.cancel(later, w.tx)).toBe(true);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await jobRow(store, later)).toMatchObject({ status: 'pending' });
  });

  test('a running job whose lease ran out is run again by another worker; the late worker cannot overwrite it', async () => {
    const first = scheduler({ workerId: 'first', leaseMs: 60_000 });
    const second = scheduler({ workerId: 'second', leaseMs: 60_000 });
    const hang = deferred<JobOutcome>();
    const firstSeen = recorder(first, 'handoff', () => hang.promise);
    const secondSeen = recorder(second, 'handoff', () => ({ status: 'done', result: 'second' }));
    const k = key('handoff');
    await first.enqueue({ kind: 'handoff', key: k, dueAt: clock.now(), payload: null });

    const firstRun = first.runDue();
    await until(() => firstSeen.length === 1);
    expect(await jobRow(store, k)).toMatchObject({ status: 'running', lockedBy: 'first', attempts: 1 });
    expect((await jobRow(store, k)).lockedUntil?.toISOString()).toBe(clock.in(60_000).toISOString());

    // Within the lease nobody else takes it.
    clock.advance(59_999);
    expect(await second.runDue()).toBe(0);
    // The lease runs out: the first worker is taken for dead.
    clock.advance(2);
    expect(await second.runDue()).toBe(1);
    expect(secondSeen).toHaveLength(1);
    expect(secondSeen[0]?.attempts).toBe(2);
    expect(await jobRow(store, k)).toMatchObject({ status: 'done', lockedBy: 'second', attempts: 2, result: '"second"' });

    // The first worker comes back late: its outcome is fenced off.
    hang.resolve({ status: 'failed', error: 'late' });
    await firstRun;
    expect(await jobRow(store, k)).toMatchObject({ status: 'done', lockedBy: 'second', result: '"second"', lastError: null });
  });

  test('a job whose workers keep dying is given up, and its onAbandoned hook closes what it opened (once it succeeds)', async () => {
    const closed: unknown[] = [];
    let hookFails = true;
    const onAbandoned = async (job: { payload: unknown }, tx: Tx) => {
      if (hookFails) {
        hookFails = false;
        throw new Error('database blinked');
      }
      // The hook runs in a transaction of its own.
      await tx.job.count();
      closed.push(job.payload);
    };
    const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => scheduler({ workerId: id, leaseMs: 1_000 }));
    const hang = deferred<JobOutcome>();
    const seen = workers.map((w) => recorder(w, 'import', () => hang.promise, { maxAttempts: 2, onAbandoned }));
    const k = key('import');
    await workers[0]?.enqueue({ kind: 'import', key: k, dueAt: clock.now(), payload: { runId: 'r1' } });
    // Two workers claim it and die (their leases lapse): attempts 1 and 2.
    void workers[0]?.runDue();
    await until(() => seen[0]?.length === 1);
    clock.advance(1_001);
    void workers[1]?.runDue();
    await until(() => seen[1]?.length === 1);
    clock.advance(1_001);
    // The third claim is over maxAttempts: the handler does not run; the hook fails once, so the job waits and tries again.
    expect(await workers[2]?.runDue()).toBe(1);
    expect(seen[2]).toHaveLength(0);
    expect(closed).toEqual([]);
    expect(await jobRow(store, k)).toMatchObject({ status: 'pending', lastError: 'database blinked' });
    clock.advance(60_000);
    expect(await workers[3]?.runDue()).toBe(1);
    expect(seen[3]).toHaveLength(0);
    expect(closed).toEqual([{ runId: 'r1' }]);
    expect(await jobRow(store, k)).toMatchObject({ status: 'failed', lastError: 'gave up after 3 attempts (its worker stopped each time)' });
    hang.resolve({ status: 'done' });
  });

  test('an at-most-once job whose lease ran out is marked failed, not run again', async () => {
    const first = scheduler({ workerId: 'first' });
    const second = scheduler({ workerId: 'second' });
    const hang = deferred<JobOutcome>();
    const firstSeen = recorder(first, 'send', () => hang.promise, { atMostOnce: true });
    const secondSeen = recorder(second, 'send', () => ({ status: 'done' }), { atMostOnce: true });
    const k = key('send');
    const fresh = key('send-fresh');
    await first.enqueue({ kind: 'send', key: k, dueAt: clock.now(), payload: null });
    const firstRun = first.runDue();
    await until(() => firstSeen.length === 1);
    // Another send, due later, is not affected.
    await first.enqueue({ kind: 'send', key: fresh, dueAt: clock.in(61_000), payload: null });

    clock.advance(61_000);
    expect(await second.runDue()).toBe(1);
    expect(secondSeen.map((j) => j.key)).toEqual([fresh]);
    const row = await jobRow(store, k);
    expect(row).toMatchObject({ status: 'failed', lastError: OUTCOME_UNKNOWN, attempts: 1 });
    expect(row.finishedAt?.toISOString()).toBe(clock.now().toISOString());

    hang.resolve({ status: 'done' });
    await firstRun;
    expect(await jobRow(store, k)).toMatchObject({ status: 'failed', lastError: OUTCOME_UNKNOWN });
    clock.advance(3_600_000);
    expect(await second.runDue()).toBe(0);
  });

  test("a worker whose own lease renewal is late neither fails nor re-runs the jobs it is still running", async () => {
    const s = scheduler({ workerId: 'stalled' });
    const hang = deferred<JobOutcome>();
    const sends = recorder(s, 'send', () => hang.promise, { atMostOnce: true });
    const handoffs = recorder(s, 'handoff', () => hang.promise);
    const send = key('send');
    const handoff = key('handoff');
    await s.enqueue({ kind: 'send', key: send, dueAt: clock.now(), payload: null });
    await s.enqueue({ kind: 'handoff', key: handoff, dueAt: clock.now(), payload: null });
    const running = s.runDue();
    await until(() => sends.length === 1 && handoffs.length === 1);
    // As if the event loop had stalled past the lease before any renewal ran.
    clock.advance(120_000);
    expect(await s.runDue()).toBe(0);
    expect(await jobRow(store, send)).toMatchObject({ status: 'running', lockedBy: 'stalled', attempts: 1 });
    expect(await jobRow(store, handoff)).toMatchObject({ status: 'running', lockedBy: 'stalled', attempts: 1 });
    hang.resolve({ status: 'done' });
    await running;
    expect(await jobRow(store, send)).toMatchObject({ status: 'done' });
    expect(await jobRow(store, handoff)).toMatchObject({ status: 'done' });
    expect(sends).toHaveLength(1);
    expect(handoffs).toHaveLength(1);
  });

  test('an at-most-once job that asked for a retry is retried; one that threw is not', async () => {
    const s = scheduler();
    const seen = recorder(
      s,
      'page',
      (job) => {
        if (job.payload === 'throws') throw new Error('socket closed after the request was written');
        return job.attempts === 1 ? { status: 'retry', afterMs: 1000, error: 'rate limited' } : { status: 'done' };
      },
      { atMostOnce: true },
    );
    const retried = key('retried');
    const threw = key('threw');
    await s.enqueue({ kind: 'page', key: retried, dueAt: clock.now(), payload: 'retries' });
    await s.enqueue({ kind: 'page', key: threw, dueAt: clock.now(), payload: 'throws' });
    await s.runDue();
    clock.advance(1000);
    await s.runDue();
    clock.advance(3_600_000);
    await s.runDue();
    expect(await jobRow(store, retried)).toMatchObject({ status: 'done', attempts: 2 });
    expect(await jobRow(store, threw)).toMatchObject({ status: 'failed', attempts: 1, lastError: `${OUTCOME_UNKNOWN}: socket closed after the request was written` });
    expect(seen.filter((j) => j.key === threw)).toHaveLength(1);
  });

  test('late(): pending jobs overdue by more than lateAfterMs, and lost jobs nobody took over', async () => {
    const s = scheduler();
    expect(await s.late()).toEqual({ count: 0, oldestMs: 0 });
    await s.enqueue({ kind: 'x', key: key('overdue'), dueAt: clock.in(-45_000), payload: null });
    await s.enqueue({ kind: 'x', key: key('recent'), dueAt: clock.in(-10_000), payload: null });
    await s.enqueue({ kind: 'x', key: key('future'), dueAt: clock.in(10_000), payload: null });
    const cancelled = key('cancelled');
    await s.enqueue({ kind: 'x', key: cancelled, dueAt: clock.in(-90_000), payload: null });
    await s.cancel(cancelled);
    expect(await s.late()).toEqual({ count: 1, oldestMs: 45_000 });

    const stuck = key('stuck');
    await s.enqueue({ kind: 'x', key: stuck, dueAt: clock.in(-100_000), payload: null });
    await store.transaction((tx) => tx.job.update({ where: { idempotencyKey: stuck }, data: { status: 'running', lockedBy: 'gone', lockedUntil: clock.in(-70_000) } }));
    expect(await s.late()).toEqual({ count: 2, oldestMs: 70_000 });
    expect(await scheduler({ lateAfterMs: 80_000 }).late()).toEqual({ count: 0, oldestMs: 0 });
  });

  test('start() polls until stop(); stop() waits for running handlers', async () => {
    const s = scheduler({ pollMs: 20 });
    const release = deferred();
    let finished = 0;
    const seen = recorder(s, 'poll', async () => {
      await release.promise;
      finished++;
      return { status: 'done' };
    });
    s.start();
    await s.enqueue({ kind: 'poll', key: key('poll'), dueAt: clock.now(), payload: null });
    await until(() => seen.length === 1, 5000, 'the poller to pick up the job');
    // Due later: picked up once the clock gets there, by the same running poller.
    await s.enqueue({ kind: 'poll', key: key('poll-later'), dueAt: clock.in(1000), payload: null });
    clock.advance(1000);
    await until(() => seen.length === 2, 5000, 'the second job');
    const stopped = s.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release.resolve();
    await stopped;
    expect(finished).toBe(2);
    expect(await store.db.job.count({ where: { kind: 'poll', status: 'done' } })).toBe(2);
  });

  test('register refuses a kind twice', () => {
    const s = scheduler();
    s.register('dup', async () => ({ status: 'done' }));
    expect(() => s.register('dup', async () => ({ status: 'done' }))).toThrow('already registered');
  });
});

describe('backoffMs', () => {
  test('doubles from 1 s, with jitter between half and all, capped at 5 minutes', () => {
    expect(backoffMs(1, { random: () => 0 })).toBe(500);
    expect(backoffMs(1, { random: () => 0.999999 })).toBe(1000);
    expect(backoffMs(4, { random: () => 0.5 })).toBe(6000);
    expect(backoffMs(40, { random: () => 0.999999 })).toBe(300_000);
    expect(backoffMs(40, { random: () => 0 })).toBe(150_000);
  });
});
