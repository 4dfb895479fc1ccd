// SlackNotifier over the wire to the Slack fake: DMs to the member's user id, channel posts,
// and how each failure is classified (429 with Retry-After, platform errors, 5xx, no network).
import { renderMessage } from '../../src/bot/slack/render';
import { Scheduler } from '../../src/jobs/scheduler';
import { enqueueDelivery, registerDelivery } from '../../src/notify/deliver';
import { parseRetryAfter, slackUserId } from '../../src/notify/slack';
import { ManualClock, jobRow, quiet } from '../jobs/rig';
import { closedPort, notifyRig, REPLY, scriptedServer, type NotifyRig, type ScriptedServer } from './rig';

let rig: NotifyRig;
let front: ScriptedServer;

beforeAll(async () => {
  rig = await notifyRig();
  // Between the notifier and the fake: answers what the fake cannot (HTTP 429, 503).
  front = await scriptedServer(rig.slack.url);
});
afterAll(async () => {
  await front.close();
  await rig.close();
});
afterEach(() => {
  rig.slack.off('chat.postMessage');
  rig.slack.reset();
  front.script.length = 0;
  front.requests.length = 0;
});

test("a member's message goes to their Slack user id, with the rendered blocks", async () => {
  const r = await rig.slackNotifier().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY);
  const [call, ...more] = rig.slack.callsTo('chat.postMessage');
  expect(more).toHaveLength(0);
  expect(call?.token).toBe('xoxb-notify');
  const rendered = renderMessage(REPLY);
  expect(call?.args).toMatchObject({ channel: 'U0ALEE', text: rendered.text });
  expect(call?.args.blocks).toEqual(JSON.parse(JSON.stringify(rendered.blocks)));
  expect(r).toEqual({ ok: true, providerId: `U0ALEE:${String(call?.answer?.ts)}` });
});

test('a channel message goes to the channel id after "slack:"', async () => {
  const r = await rig.slackNotifier().send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(r.ok).toBe(true);
  expect(rig.slack.callsTo('chat.postMessage').map((c) => c.args.channel)).toEqual(['C0DUTY']);
});

test('members it cannot reach, and channels that are not Slack, are final failures with nothing sent', async () => {
  const n = rig.slackNotifier();
  expect(await n.send({ kind: 'member', memberId: rig.members.bo.id }, REPLY)).toEqual({ ok: false, retryable: false, error: '@bo has no Slack account' });
  expect(await n.send({ kind: 'member', memberId: 'no-such-id' }, REPLY)).toEqual({ ok: false, retryable: false, error: 'no member no-such-id' });
  expect(await n.send({ kind: 'channel', channel: 'teams:19:x' }, REPLY)).toMatchObject({ ok: false, retryable: false });
  expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(0);
});

test.each([
  ['channel_not_found', false],
  ['not_in_channel', false],
  ['user_not_found', false],
  ['invalid_auth', false],
  ['account_inactive', false],
  ['internal_error', true],
  ['ratelimited', true],
])('Slack error %s → retryable: %s', async (error, retryable) => {
  rig.slack.on('chat.postMessage', () => ({ ok: false, error }));
  const r = await rig.slackNotifier().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY);
  expect(r).toEqual({ ok: false, retryable, error: `Slack error: ${error}` });
  expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(1);
});

test('HTTP 429 comes back at once as retryable after Retry-After, without the client waiting or retrying', async () => {
  front.script.push({ status: 429, headers: { 'Retry-After': '7' }, body: { ok: false, error: 'ratelimited' } });
  const started = Date.now();
  const r = await rig.slackNotifier(`${front.url}api/`).send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(r).toEqual({ ok: false, retryable: true, retryAfterMs: 7000, error: 'Slack rate limit (429)' });
  expect(Date.now() - started).toBeLessThan(2000);
  expect(front.requests.map((q) => q.path)).toEqual(['/api/chat.postMessage']);
  expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(0);
});

test('HTTP 503 is retryable, and not retried by the client', async () => {
  front.script.push({ status: 503, body: { ok: false } });
  const r = await rig.slackNotifier(`${front.url}api/`).send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(r).toMatchObject({ ok: false, retryable: true, error: 'Slack answered HTTP 503' });
  expect(front.requests).toHaveLength(1);
});

test('no network is retryable', async () => {
  const r = await rig.slackNotifier(`http://127.0.0.1:${await closedPort()}/api/`).send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(r).toMatchObject({ ok: false, retryable: true });
  expect(r.ok ? '' : r.error).toMatch(/^could not reach Slack/);
});

test('as a deliver job: a 429 is retried at Retry-After, and the message goes out once', async () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ store: rig.store, logger: quiet, clock: clock.now });
  registerDelivery(scheduler, rig.slackNotifier(`${front.url}api/`));
  front.script.push({ status: 429, headers: { 'Retry-After': '7' }, body: { ok: false, error: 'ratelimited' } });
  expect(await enqueueDelivery(scheduler, { key: 'slack-429', to: { kind: 'member', memberId: rig.members.sam.id }, reply: REPLY })).toBe(true);

  await scheduler.runDue();
  const waiting = await jobRow(rig.store, 'slack-429');
  expect(waiting).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Slack rate limit (429)' });
  expect(waiting.dueAt.toISOString()).toBe(clock.in(7000).toISOString());
  clock.advance(6999);
  expect(await scheduler.runDue()).toBe(0);
  clock.advance(1);
  expect(await scheduler.runDue()).toBe(1);

  const done = await jobRow(rig.store, 'slack-429');
  expect(done).toMatchObject({ status: 'done', attempts: 2 });
  const sent = rig.slack.callsTo('chat.postMessage');
  expect(sent.map((c) => c.args.channel)).toEqual(['U0SAM']);
  expect(JSON.parse(done.result ?? '{}')).toEqual({ providerId: `U0SAM:${String(sent[0]?.answer?.ts)}` });
});

test('as a deliver job: a final Slack error fails the job after one try', async () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ store: rig.store, logger: quiet, clock: clock.now });
  registerDelivery(scheduler, rig.slackNotifier());
  rig.slack.on('chat.postMessage', () => ({ ok: false, error: 'channel_not_found' }));
  await enqueueDelivery(scheduler, { key: 'slack-gone', to: { kind: 'channel', channel: 'slack:C0GONE' }, reply: REPLY });
  await scheduler.runDue();
  clock.advance(3_600_000);
  await scheduler.runDue();
  expect(await jobRow(rig.store, 'slack-gone')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Slack error: channel_not_found' });
  expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(1);
});

test('helpers: Retry-After forms, Slack user ids', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  expect(parseRetryAfter('30', now)).toBe(30_000);
  expect(parseRetryAfter('1.5', now)).toBe(1500);
  expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:10 GMT', now)).toBe(10_000);
  expect(parseRetryAfter('soon', now)).toBeUndefined();
  expect(parseRetryAfter(undefined, now)).toBeUndefined();
  expect(slackUserId('T1:U0ALEE')).toBe('U0ALEE');
  expect(slackUserId('T1:W0ENT')).toBe('W0ENT');
  expect(slackUserId('U0ALEE')).toBeUndefined();
});
