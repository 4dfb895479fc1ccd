// Slack down, then back: messages queued meanwhile go out once each, and to each destination in
// the order they were queued. Over the real wire: the Slack fake, behind a scripted front (503,
// 429 with Retry-After) behind a TCP proxy (connections refused); a clock moved by hand.
import type { Member } from '../../src/domain/member';
import { message } from '../../src/domain/reply';
import { Scheduler, LANE_SETTING_PREFIX } from '../../src/jobs/scheduler';
import { DELIVER_KIND, deliveryLane, destinationLane, enqueueDelivery, registerDelivery } from '../../src/notify/deliver';
import { createSlackDeliveryClient, SlackNotifier } from '../../src/notify/slack';
import { systemMeta, type Store } from '../../src/store/store';
import { describeEachDb, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { ManualClock, migratedStore, quiet } from '../jobs/rig';
import { scriptedServer, type ScriptedServer } from './rig';

const CHANNEL = 'slack:C0DUTY';
const PER_DESTINATION = 20;

test('a delivery lane is its destination: a member on any platform, or a channel with its threads', () => {
  expect(destinationLane({ kind: 'member', memberId: 'm1' })).toBe('chat:member:m1');
  expect(deliveryLane({ to: { kind: 'channel', channel: CHANNEL, thread: '1.2' }, reply: {} })).toBe(`chat:channel:${CHANNEL}`);
  expect(deliveryLane({ to: { kind: 'pigeon' } })).toBeUndefined();
  expect(deliveryLane('not a payload')).toBeUndefined();
});

describeEachDb('deliveries while Slack is down', (fresh) => {
  let db: TestDb;
  let store: Store;
  let slack: SlackFake;
  let front: ScriptedServer;
  let proxy: TcpProxy;
  let ana: Member;
  let clock: ManualClock;
  let scheduler: Scheduler;

  beforeAll(async () => {
    ({ db, store } = await migratedStore(fresh));
    slack = await startSlackFake();
    front = await scriptedServer(slack.url);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(front.url).port) });
    ana = await store.change(systemMeta('test'), (w) =>
      store.members.create(w, { handle: 'ana', displayName: 'Ana Lee', roles: ['officer'], identities: [{ platform: 'slack', externalId: 'T1:U0ANA' }] }, null),
    );
    clock = new ManualClock();
    // A small batch, so that draining takes several claims that stop in the middle of a lane.
    scheduler = new Scheduler({ store, logger: quiet, clock: clock.now, batch: 8 });
    const client = createSlackDeliveryClient({ token: 'xoxb-test', apiUrl: `http://127.0.0.1:${proxy.port}/api/`, logger: quiet });
    registerDelivery(scheduler, new SlackNotifier({ client, members: store.members }));
  });

  afterAll(async () => {
    await proxy?.close();
    await front?.close();
    await slack?.close();
    await store?.close();
    await db?.drop();
  });

  let queued = 0;
  async function queue(n: number): Promise<void> {
    // Interleaved, as a busy duty desk would queue them.
    for (let i = 0; i < n; i++) {
      queued++;
      const k = String(queued).padStart(2, '0');
      await enqueueDelivery(scheduler, { key: `dm:${k}`, to: { kind: 'member', memberId: ana.id }, reply: message({ text: `to Ana ${k}`, visibility: 'direct' }) });
      await enqueueDelivery(scheduler, { key: `ch:${k}`, to: { kind: 'channel', channel: CHANNEL }, reply: message({ text: `to the channel ${k}`, visibility: 'channel' }) });
    }
  }

  /** Runs every job due now, claim after claim, without moving the clock. */
  async function runDueNow(): Promise<void> {
    while ((await scheduler.runDue()) > 0);
  }

  /** Moves the clock to the next pending job's due time, if it is within `withinMs`, and runs what is due. */
  async function step(withinMs: number): Promise<boolean> {
    const next = await store.db.job.findFirst({ where: { kind: DELIVER_KIND, status: 'pending' }, orderBy: { dueAt: 'asc' } });
    if (!next || next.dueAt.getTime() > clock.now().getTime() + withinMs) return false;
    clock.advance(Math.max(0, next.dueAt.getTime() - clock.now().getTime()));
    await runDueNow();
    return true;
  }

  const jobs = () => store.db.job.findMany({ where: { kind: DELIVER_KIND }, orderBy: { idempotencyKey: 'asc' } });
  const holds = async () => (await store.db.setting.findMany({ where: { key: { startsWith: LANE_SETTING_PREFIX } } })).map((s) => s.key).sort();
  const posted = () => slack.callsTo('chat.postMessage').map((c) => ({ channel: String(c.args.channel), text: String(c.args.text) }));

  test('refused, 503, then 429 with Retry-After: nothing overtakes, nothing is lost or sent twice, each destination in queue order', async () => {
    // 1. Slack refuses connections. Of 20 queued messages only the first of each destination is tried.
    await proxy.cut();
    await queue(PER_DESTINATION / 2);
    await runDueNow();
    let rows = await jobs();
    expect(rows.filter((j) => j.attempts > 0).map((j) => j.idempotencyKey)).toEqual(['ch:01', 'dm:01']);
    expect(rows.find((j) => j.idempotencyKey === 'dm:01')).toMatchObject({ status: 'pending', lastError: expect.stringMatching(/^could not reach Slack/) });
    expect(rows.every((j) => j.status === 'pending')).toBe(true);
    expect(await holds()).toEqual([`${LANE_SETTING_PREFIX}chat:channel:${CHANNEL}`, `${LANE_SETTING_PREFIX}chat:member:${ana.id}`]);

    // 2. Still down: messages queued now wait behind them too, and a retry fails the same way.
    await queue(PER_DESTINATION / 2);
    await runDueNow();
    while (await step(10_000));
    rows = await jobs();
    expect(rows.filter((j) => j.attempts > 0).map((j) => j.idempotencyKey)).toEqual(['ch:01', 'dm:01']);
    expect(rows.find((j) => j.idempotencyKey === 'dm:01')?.attempts).toBeGreaterThan(1);
    expect(front.requests).toHaveLength(0);

    // 3. Slack answers again, first with 503: the same two are tried, and wait again.
    await proxy.restore();
    front.script.push({ status: 503, body: { ok: false } }, { status: 503, body: { ok: false } });
    while (front.script.length > 0 && (await step(3_600_000)));
    expect(front.script).toHaveLength(0);
    rows = await jobs();
    expect(rows.filter((j) => j.attempts > 0).map((j) => j.idempotencyKey)).toEqual(['ch:01', 'dm:01']);
    expect(rows.find((j) => j.idempotencyKey === 'ch:01')?.lastError).toBe('Slack answered HTTP 503');

    // 4. Then rate-limited: both tried at one instant, both told to come back in 30 s.
    const latest = Math.max(...rows.filter((j) => j.attempts > 0).map((j) => j.dueAt.getTime()));
    clock.advance(latest - clock.now().getTime());
    front.script.push(...[1, 2].map(() => ({ status: 429, headers: { 'Retry-After': '30' }, body: { ok: false, error: 'ratelimited' } })));
    await runDueNow();
    expect(front.script).toHaveLength(0);
    const limitedAt = clock.now().getTime();
    rows = await jobs();
    for (const key of ['ch:01', 'dm:01']) {
      expect(rows.find((j) => j.idempotencyKey === key)).toMatchObject({ status: 'pending', lastError: 'Slack rate limit (429)', dueAt: new Date(limitedAt + 30_000) });
    }
    // Nothing goes before the 30 s are up: not the two, not the 38 behind them.
    const requests = front.requests.length;
    clock.advance(29_999);
    await runDueNow();
    expect(front.requests).toHaveLength(requests);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);

    // 5. Slack is back: everything drains.
    clock.advance(1);
    await runDueNow();
    while (await step(60_000));
    rows = await jobs();
    expect(rows.filter((j) => j.status !== 'done')).toEqual([]);
    // Only the two at the front were ever tried before; the others went at their first attempt.
    expect(rows.filter((j) => j.attempts > 1).map((j) => j.idempotencyKey)).toEqual(['ch:01', 'dm:01']);
    expect(await holds()).toEqual([]);

    const sent = posted();
    expect(sent).toHaveLength(2 * PER_DESTINATION);
    expect(new Set(sent.map((s) => s.text)).size).toBe(2 * PER_DESTINATION);
    const numbers = (re: RegExp): string[] => sent.flatMap((s) => re.exec(s.text)?.[1] ?? []);
    const expected = Array.from({ length: PER_DESTINATION }, (_, i) => String(i + 1).padStart(2, '0'));
    expect(sent.filter((s) => s.channel === 'U0ANA').map((s) => s.text)).toEqual(expected.map((k) => `to Ana ${k}`));
    expect(sent.filter((s) => s.channel === 'C0DUTY').map((s) => s.text)).toEqual(expected.map((k) => `to the channel ${k}`));
    expect(numbers(/^to Ana (\d+)$/)).toEqual(expected);
  });

  test('a hold whose job went away (cancelled) is let go: the destination is not blocked', async () => {
    front.script.push({ status: 503, body: { ok: false } });
    const to = { kind: 'member', memberId: ana.id } as const;
    await enqueueDelivery(scheduler, { key: 'gone:1', to, reply: message({ text: 'never sent', visibility: 'direct' }) });
    await runDueNow();
    expect(await holds()).toEqual([`${LANE_SETTING_PREFIX}chat:member:${ana.id}`]);
    expect(await scheduler.cancel('gone:1')).toBe(true);
    await enqueueDelivery(scheduler, { key: 'gone:2', to, reply: message({ text: 'after the cancelled one', visibility: 'direct' }) });
    await runDueNow();
    expect((await jobs()).find((j) => j.idempotencyKey === 'gone:2')).toMatchObject({ status: 'done', attempts: 1 });
    expect(posted().map((s) => s.text)).toContain('after the cancelled one');
    expect(posted().map((s) => s.text)).not.toContain('never sent');
    expect(await holds()).toEqual([]);
  });
});
