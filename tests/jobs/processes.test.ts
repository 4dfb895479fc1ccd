// Two worker processes (tests/helpers/job-child.ts) draining one queue over the same database
// and sending to the Slack fake: on SQLite this is two writers on one file, the case the
// in-process concurrency test cannot reach.
import { describeEachDb } from '../helpers/db';
import { until } from './rig';
import { startWorker, textOf, workerRig, type WorkerRig } from './workers';

describeEachDb('two worker processes', (fresh) => {
  let rig: WorkerRig;
  beforeAll(async () => {
    rig = await workerRig(fresh);
  });
  afterEach(() => rig.cleanup());
  afterAll(() => rig.close());

  test('every message is delivered exactly once, and both processes take part', async () => {
    const { slack, store } = rig;
    slack.on('chat.postMessage', async (args) => {
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      return { channel: args.channel, ts: `${Date.now() / 1000}` };
    });
    // A lease long enough that a worker starved of CPU on a busy test machine is not taken for dead.
    const [a, b] = await Promise.all([startWorker(rig.env('a', { LEASE_MS: '10000' })), startWorker(rig.env('b', { LEASE_MS: '10000' }))]);
    rig.workers.push(a, b);
    const keys = await rig.enqueue('pair', 60);
    await until(async () => (await store.db.job.count({ where: { idempotencyKey: { in: keys }, status: 'done' } })) === keys.length, 15_000, 'every message to be sent');

    const sent = slack.callsTo('chat.postMessage').map((c) => textOf(c.args));
    expect(sent.sort()).toEqual([...keys].sort());
    const by = await store.db.job.groupBy({ by: ['lockedBy'], where: { idempotencyKey: { in: keys } }, _count: { _all: true } });
    expect(by.map((g) => g.lockedBy).sort()).toEqual(['a', 'b']);
    // Contention between the two writers is waited out, not reported as failures.
    expect([...a.stderr, ...b.stderr].join('')).not.toMatch(/claiming due jobs failed/);
  });
});
