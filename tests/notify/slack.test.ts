// SlackNotifier over the wire to the Slack fake: DMs to the member's user id, channel posts,
// thread replies, updates of a sent message (its copy), and how each failure is classified (429
// with Retry-After, platform errors, 5xx, no network, no answer after sending).
import { renderMessage } from '../../src/bot/slack/render';
import { Scheduler } from '../../src/jobs/scheduler';
import { enqueueDelivery, registerDelivery } from '../../src/notify/deliver';
import { message } from '../../src/domain/reply';
import { classifySlackError, parseRetryAfter, slackUserId } from '../../src/notify/slack';
import { classifySlackAnswer } from '../../src/notify/slack-web';
import type { ChatCopy } from '../../src/notify/types';
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
  rig.slack.off('chat.update');
  rig.slack.reset();
  front.script.length = 0;
  front.requests.length = 0;
});

test("a member's message goes to their Slack user id, with the rendered blocks; the copy is the DM channel Slack answered", async () => {
  const r = await rig.slackNotifier().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY);
  const [call, ...more] = rig.slack.callsTo('chat.postMessage');
  expect(more).toHaveLength(0);
  expect(call?.token).toBe('xoxb-notify');
  expect(call?.contentType).toMatch(/^application\/json/);
  const rendered = renderMessage(REPLY);
  expect(call?.args).toEqual({ channel: 'U0ALEE', text: rendered.text, blocks: JSON.parse(JSON.stringify(rendered.blocks)), unfurl_links: false, unfurl_media: false });
  const ts = String(call?.answer?.ts);
  expect(r).toEqual({ ok: true, providerId: `DU0ALEE:${ts}`, copy: { platform: 'slack', conversation: 'DU0ALEE', messageId: ts } });
});

test('a channel message goes to the channel id after "slack:"; each message has its own ts', async () => {
  const n = rig.slackNotifier();
  const first = await n.send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  const second = await n.send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(rig.slack.callsTo('chat.postMessage').map((c) => c.args.channel)).toEqual(['C0DUTY', 'C0DUTY']);
  const ts = [first, second].map((r) => (r.ok ? r.copy?.messageId : undefined));
  expect(first).toMatchObject({ ok: true, copy: { platform: 'slack', conversation: 'C0DUTY' } });
  expect(Number(ts[1])).toBeGreaterThan(Number(ts[0]));
});

test('a thread reply carries thread_ts; its copy is the reply itself', async () => {
  const n = rig.slackNotifier();
  const root = await n.send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  const rootTs = root.ok ? (root.copy?.messageId as string) : '';
  const reply = await n.send({ kind: 'channel', channel: 'slack:C0DUTY', thread: rootTs }, message({ text: 'Escalated to @bo', visibility: 'channel' }));
  const [, call] = rig.slack.callsTo('chat.postMessage');
  expect(call?.args).toMatchObject({ channel: 'C0DUTY', thread_ts: rootTs, text: 'Escalated to @bo' });
  expect(reply).toMatchObject({ ok: true, copy: { platform: 'slack', conversation: 'C0DUTY', messageId: String(call?.answer?.ts) } });
  expect(reply.ok && reply.copy?.messageId).not.toBe(rootTs);
});

test('update replaces the message its copy names (chat.update)', async () => {
  const n = rig.slackNotifier();
  const sent = await n.send({ kind: 'member', memberId: rig.members.sam.id }, REPLY);
  const copy = (sent.ok ? sent.copy : undefined) as ChatCopy;
  const acked = message({ title: 'Handoff', text: 'Acknowledged by @sam at 18:02.', visibility: 'direct' });
  expect(await n.update(copy, acked)).toEqual({ ok: true, providerId: `${copy.conversation}:${copy.messageId}`, copy });
  const [call, ...more] = rig.slack.callsTo('chat.update');
  expect(more).toHaveLength(0);
  const rendered = renderMessage(acked);
  expect(call?.args).toEqual({ channel: 'DU0SAM', ts: copy.messageId, text: rendered.text, blocks: JSON.parse(JSON.stringify(rendered.blocks)) });
  expect(await n.update({ ...copy, platform: 'teams' }, acked)).toMatchObject({ ok: false, retryable: false });
});

test('update failures: a gone message is final; a 503, and no answer at all, are retryable (an update may be repeated)', async () => {
  const copy: ChatCopy = { platform: 'slack', conversation: 'C0DUTY', messageId: '1700000000.000100' };
  rig.slack.on('chat.update', () => ({ ok: false, error: 'message_not_found' }));
  expect(await rig.slackNotifier().update(copy, REPLY)).toEqual({ ok: false, retryable: false, error: 'Slack error: message_not_found' });
  front.script.push({ status: 503, body: { ok: false } }, { hang: true });
  const n = rig.slackNotifier(`${front.url}api/`, 300);
  expect(await n.update(copy, REPLY)).toMatchObject({ ok: false, retryable: true, error: 'Slack answered HTTP 503' });
  const lost = await n.update(copy, REPLY);
  expect(lost).toMatchObject({ ok: false, retryable: true });
  expect(lost.ok || lost.unknownOutcome).toBeFalsy();
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

test('HTTP 408 and 500 are retryable (with a Retry-After when given); 400 and 404 are final', async () => {
  front.script.push({ status: 408 }, { status: 500, headers: { 'Retry-After': '3' } }, { status: 400 }, { status: 404, raw: 'not found' });
  const n = rig.slackNotifier(`${front.url}api/`);
  const to = { kind: 'channel' as const, channel: 'slack:C0DUTY' };
  expect(await n.send(to, REPLY)).toEqual({ ok: false, retryable: true, error: 'Slack answered HTTP 408' });
  expect(await n.send(to, REPLY)).toEqual({ ok: false, retryable: true, retryAfterMs: 3000, error: 'Slack answered HTTP 500' });
  expect(await n.send(to, REPLY)).toEqual({ ok: false, retryable: false, error: 'Slack answered HTTP 400' });
  expect(await n.send(to, REPLY)).toEqual({ ok: false, retryable: false, error: 'Slack answered HTTP 404' });
});

test('no answer after the request was sent: outcome unknown, not retryable', async () => {
  front.script.push({ hang: true });
  const started = Date.now();
  const r = await rig.slackNotifier(`${front.url}api/`, 300).send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY);
  expect(r).toEqual({ ok: false, retryable: false, unknownOutcome: true, error: 'Slack chat.postMessage: timed out after 300 ms: outcome unknown, not resent' });
  expect(Date.now() - started).toBeLessThan(3000);
  // Slack had the whole request.
  expect(JSON.parse(front.requests[0]?.body ?? '{}')).toMatchObject({ channel: 'C0DUTY' });
});

test('an answer cut off, or not JSON: outcome unknown', async () => {
  front.script.push({ cut: true }, { status: 200, raw: '<html>proxy error</html>' });
  const n = rig.slackNotifier(`${front.url}api/`);
  const to = { kind: 'channel' as const, channel: 'slack:C0DUTY' };
  expect(await n.send(to, REPLY)).toMatchObject({ ok: false, retryable: false, unknownOutcome: true, error: expect.stringMatching(/outcome unknown/) });
  expect(await n.send(to, REPLY)).toMatchObject({ ok: false, retryable: false, unknownOutcome: true, error: 'Slack chat.postMessage: the answer was not JSON: outcome unknown, not resent' });
});

test('classifying answers: idempotent calls may repeat an unknown outcome', () => {
  expect(classifySlackAnswer('chat.postMessage', { kind: 'not-sent', error: 'connect ECONNREFUSED' })).toEqual({
    ok: false,
    result: { ok: false, retryable: true, error: 'could not reach Slack: connect ECONNREFUSED' },
  });
  expect(classifySlackAnswer('chat.postMessage', { kind: 'unknown', error: 'socket hang up' })).toMatchObject({ ok: false, result: { retryable: false, unknownOutcome: true } });
  expect(classifySlackAnswer('chat.update', { kind: 'unknown', error: 'socket hang up' }, true)).toMatchObject({ ok: false, result: { retryable: true } });
  expect(classifySlackAnswer('chat.postMessage', { kind: 'answered', status: 200, headers: {}, body: '{"ok":true,"ts":"1.2"}', complete: true })).toEqual({ ok: true, data: { ok: true, ts: '1.2' } });
  expect(classifySlackAnswer('chat.postMessage', { kind: 'answered', status: 429, headers: {}, body: '', complete: false })).toMatchObject({ ok: false, result: { retryable: true } });
});

test('WebClient errors (classifySlackError): a connection refused is retryable, a lost one is unknown', () => {
  const requestError = (code: string): Error => Object.assign(new Error('request failed'), { code: 'slack_webapi_request_error', original: Object.assign(new Error(code), { code }) });
  expect(classifySlackError(requestError('ECONNREFUSED'))).toMatchObject({ ok: false, retryable: true });
  expect(classifySlackError(requestError('ECONNABORTED'))).toMatchObject({ ok: false, retryable: false, unknownOutcome: true });
  expect(() => classifySlackError(new TypeError('x'))).toThrow(TypeError);
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
  const ts = String(sent[0]?.answer?.ts);
  expect(JSON.parse(done.result ?? '{}')).toEqual({ providerId: `DU0SAM:${ts}`, copy: { platform: 'slack', conversation: 'DU0SAM', messageId: ts } });
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
