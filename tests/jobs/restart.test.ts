// A real worker process, sending real HTTP to the Slack fake, killed with SIGKILL mid-batch;
// then a new one on the same database. Nothing is sent twice; the jobs that were in flight are
// marked "outcome unknown", not resent; all the others are delivered.
import { OUTCOME_UNKNOWN } from '../../src/jobs/scheduler';
import { describeEachDb } from '../helpers/db';
import { until } from './rig';
import { startWorker, textOf, workerRig, type WorkerRig } from './workers';

describeEachDb('a worker killed mid-batch', (fresh) => {
  let rig: WorkerRig;
  beforeAll(async () => {
    rig = await workerRig(fresh);
  });
  afterEach(() => rig.cleanup());
  afterAll(() => rig.close());

  test('in-flight sends are marked "outcome unknown", the rest are delivered by the next worker, nothing twice', async () => {
    const { slack, store } = rig;
    // Slow answers, so that a batch is in flight when the worker dies.
    slack.on('chat.postMessage', async (args) => {
      await new Promise((r) => setTimeout(r, 300));
      return { channel: args.channel, ts: `${Date.now() / 1000}` };
    });
    const keys = await rig.enqueue('kill', 12);

    const first = await startWorker(rig.env('first'));
    rig.workers.push(first);
    await until(() => slack.callsTo('chat.postMessage').length >= 5, 10_000, 'the first worker to be half-way');
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const rowsAtKill = await store.db.job.findMany();
    const atKill = new Map(rowsAtKill.map((r) => [r.idempotencyKey, r.status]));
    // Nothing else can have happened to them yet.
    expect(rowsAtKill.filter((r) => !['running', 'done', 'pending'].includes(r.status)).map((r) => [r.idempotencyKey, r.status, r.lastError])).toEqual([]);
    const sentBeforeKill = slack.callsTo('chat.postMessage').map((c) => textOf(c.args));
    const inFlight = keys.filter((k) => atKill.get(k) === 'running');
    const doneAtKill = keys.filter((k) => atKill.get(k) === 'done');
    const pendingAtKill = keys.filter((k) => atKill.get(k) === 'pending');
    expect(inFlight.length).toBeGreaterThanOrEqual(1);
    expect(doneAtKill.length).toBeGreaterThanOrEqual(1);
    expect(pendingAtKill.length).toBeGreaterThanOrEqual(1);
    expect(inFlight.length + doneAtKill.length + pendingAtKill.length).toBe(keys.length);

    const second = await startWorker(rig.env('second'));
    rig.workers.push(second);
    await until(async () => (await store.db.job.count({ where: { status: { in: ['pending', 'running'] } } })) === 0, 15_000, 'the queue to drain');
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const sent = slack.callsTo('chat.postMessage').map((c) => textOf(c.args));
    const sentAfterKill = sent.slice(sentBeforeKill.length);
    const times = (k: string): number => sent.filter((t) => t === k).length;
    // At most once, whatever happened.
    expect(keys.filter((k) => times(k) > 1)).toEqual([]);

    const rows = new Map((await store.db.job.findMany()).map((r) => [r.idempotencyKey, r]));
    for (const k of doneAtKill) {
      expect(rows.get(k)).toMatchObject({ status: 'done', lockedBy: 'first' });
      expect(times(k)).toBe(1);
    }
    for (const k of pendingAtKill) {
      expect(rows.get(k)).toMatchObject({ status: 'done', lockedBy: 'second', attempts: 1 });
      expect(sentAfterKill.filter((t) => t === k)).toHaveLength(1);
    }
    for (const k of inFlight) {
      expect(rows.get(k)).toMatchObject({ status: 'failed', lastError: OUTCOME_UNKNOWN, lockedBy: 'first', attempts: 1 });
      expect(sentAfterKill).not.toContain(k);
    }
    expect(second.stderr.join('')).toContain('outcome unknown');
  });
});
