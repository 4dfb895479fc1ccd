// TeamsNotifier through the real Teams adapter to the Bot Connector fake (and, for failures, a
// loopback connector answering error statuses): proactive messages to stored references, thread
// replies, and updates of a sent activity (its copy).
import { cardFor } from '../../src/bot/teams';
import { message } from '../../src/domain/reply';
import { classifyTeamsError } from '../../src/notify/teams';
import type { ChatCopy } from '../../src/notify/types';
import { BO_AAD, CHANNEL_CONVERSATION, notifyRig, REPLY, scriptedServer, teamsReference, type NotifyRig, type ScriptedServer } from './rig';

let rig: NotifyRig;
let failing: ScriptedServer;
const FAILING_AAD = '0000ffff-1111-2222-3333-444444444444';

beforeAll(async () => {
  rig = await notifyRig();
  failing = await scriptedServer();
  // bo's 1:1 chat now lives on a connector that fails as each test scripts it.
  await rig.store.conversations.remember('teams', `member:${FAILING_AAD}`, teamsReference(failing.url, 'a:1on1-failing', FAILING_AAD));
});
afterAll(async () => {
  await failing.close();
  await rig.close();
});
afterEach(() => {
  rig.connector.reset();
  failing.requests.length = 0;
  failing.script.length = 0;
});

/** Sends to the conversation on the failing connector (a member whose only account is that one). */
async function sendToFailing(): Promise<ReturnType<ReturnType<NotifyRig['teamsNotifier']>['send']>> {
  const n = rig.teamsNotifier();
  return n.sendToMember({ ...rig.members.bo, identities: [{ platform: 'teams', externalId: FAILING_AAD }] }, REPLY);
}

test("a member's message is a proactive activity in their 1:1 chat, carrying the card", async () => {
  const r = await rig.teamsNotifier().send({ kind: 'member', memberId: rig.members.bo.id }, REPLY);
  const [call, ...more] = await rig.connector.waitFor((c) => c.method === 'POST');
  expect(more).toHaveLength(0);
  // botbuilder's proactive send posts to …/activities/<continuation id> (a reply to its own
  // continuation activity), as Microsoft's proactive samples do.
  expect(call?.path.startsWith('/v3/conversations/a:1on1-bo/activities')).toBe(true);
  expect(call?.conversationId).toBe('a:1on1-bo');
  expect(call?.body).toMatchObject({ type: 'message', conversation: { id: 'a:1on1-bo' } });
  const attachments = call?.body.attachments as { contentType: string; content: unknown }[];
  expect(attachments).toHaveLength(1);
  expect(attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(attachments[0]?.content).toEqual(JSON.parse(JSON.stringify(cardFor(REPLY))));
  expect(r).toEqual({ ok: true, providerId: expect.stringMatching(/^fake-activity-/), copy: { platform: 'teams', conversation: `member:${BO_AAD}`, messageId: r.ok ? r.providerId : '' } });
});

test('a thread reply goes to "<conversation>;messageid=<root>"; its copy keeps the thread', async () => {
  const n = rig.teamsNotifier();
  const root = await n.send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}` }, REPLY);
  const rootId = root.ok ? (root.copy?.messageId as string) : '';
  expect(root).toMatchObject({ ok: true, copy: { platform: 'teams', conversation: `conversation:${CHANNEL_CONVERSATION}` } });
  const r = await n.send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}`, thread: rootId }, message({ text: 'Escalated to @bo', visibility: 'channel' }));
  const [, call] = rig.connector.calls.filter((c) => c.method === 'POST');
  expect(call).toMatchObject({ conversationId: `${CHANNEL_CONVERSATION};messageid=${rootId}`, channel: CHANNEL_CONVERSATION, thread: rootId });
  expect(call?.body).toMatchObject({ type: 'message', conversation: { id: `${CHANNEL_CONVERSATION};messageid=${rootId}` } });
  expect(r).toEqual({ ok: true, providerId: expect.stringMatching(/^fake-activity-/), copy: { platform: 'teams', conversation: `conversation:${CHANNEL_CONVERSATION};messageid=${rootId}`, messageId: r.ok ? r.providerId : '' } });
});

test('update replaces the activity its copy names, in a 1:1 chat and in a thread', async () => {
  const n = rig.teamsNotifier();
  const acked = message({ title: 'Handoff', text: 'Acknowledged by @bo at 18:02.', visibility: 'direct' });
  const sent = await n.send({ kind: 'member', memberId: rig.members.bo.id }, REPLY);
  const copy = (sent.ok ? sent.copy : undefined) as ChatCopy;
  expect(await n.update(copy, acked)).toEqual({ ok: true, providerId: copy.messageId, copy });
  const [put, ...more] = rig.connector.updates();
  expect(more).toHaveLength(0);
  expect(put).toMatchObject({ method: 'PUT', conversationId: 'a:1on1-bo', activityId: copy.messageId });
  expect(put?.body).toMatchObject({ type: 'message', id: copy.messageId, attachments: [{ content: JSON.parse(JSON.stringify(cardFor(acked))) }] });

  const threaded: ChatCopy = { platform: 'teams', conversation: `conversation:${CHANNEL_CONVERSATION};messageid=root-1`, messageId: 'reply-7' };
  expect(await n.update(threaded, acked)).toMatchObject({ ok: true, copy: threaded });
  expect(rig.connector.updates()[1]).toMatchObject({ conversationId: `${CHANNEL_CONVERSATION};messageid=root-1`, activityId: 'reply-7' });
  // Updating sends nothing new.
  expect(rig.connector.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
});

test('update failures: no stored reference and 404 are final; 502 is retryable', async () => {
  const n = rig.teamsNotifier();
  expect(await n.update({ platform: 'teams', conversation: 'member:0000dddd-1111-2222-3333-444444444444', messageId: 'x' }, REPLY)).toMatchObject({ ok: false, retryable: false });
  expect(await n.update({ platform: 'slack', conversation: 'C1', messageId: '1.2' }, REPLY)).toMatchObject({ ok: false, retryable: false });
  const copy: ChatCopy = { platform: 'teams', conversation: `member:${FAILING_AAD}`, messageId: 'act-9' };
  for (let i = 0; i < 4; i++) failing.script.push({ status: 404, body: { error: { code: 'NotFound', message: 'gone' } } });
  expect(await n.update(copy, REPLY)).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^Teams answered HTTP 404/) });
  failing.script.length = 0;
  for (let i = 0; i < 4; i++) failing.script.push({ status: 502, body: { error: { code: 'BadGateway', message: 'upstream failed' } } });
  expect(await n.update(copy, REPLY)).toMatchObject({ ok: false, retryable: true });
  expect(failing.requests.every((q) => q.method === 'PUT' && decodeURIComponent(q.path).endsWith('/v3/conversations/a:1on1-failing/activities/act-9'))).toBe(true);
});

test('a channel message goes to the stored reference of that conversation', async () => {
  const r = await rig.teamsNotifier().send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}` }, REPLY);
  expect(r.ok).toBe(true);
  expect(rig.connector.calls.map((c) => [c.method, c.conversationId])).toEqual([['POST', CHANNEL_CONVERSATION]]);
});

test('no stored reference: a final failure saying so, and nothing sent', async () => {
  const n = rig.teamsNotifier();
  expect(await n.send({ kind: 'member', memberId: rig.members.dan.id }, REPLY)).toEqual({
    ok: false,
    retryable: false,
    error: '@dan has not opened a chat with Duty Desk in Teams yet (no stored conversation reference)',
  });
  expect(await n.send({ kind: 'channel', channel: 'teams:19:unknown@thread.tacv2' }, REPLY)).toMatchObject({ ok: false, retryable: false });
  expect(await n.send({ kind: 'member', memberId: rig.members.sam.id }, REPLY)).toEqual({ ok: false, retryable: false, error: '@sam has no Teams account' });
  expect(rig.connector.calls).toHaveLength(0);
});

test('502 is retryable by our scheduler, sent once (the connector client retries nothing itself), and no apology is posted', async () => {
  for (let i = 0; i < 4; i++) failing.script.push({ status: 502, body: { error: { code: 'BadGateway', message: 'upstream failed' } } });
  const r = await sendToFailing();
  expect(r).toMatchObject({ ok: false, retryable: true });
  expect(r.ok ? '' : r.error).toMatch(/^Teams answered HTTP 502/);
  // One POST: the client's hidden retry policy is off, so a failure that may have been
  // delivered is never sent again behind our back. It was our card, not an apology.
  expect(failing.requests).toHaveLength(1);
  for (const q of failing.requests) {
    expect(decodeURIComponent(q.path).startsWith('/v3/conversations/a:1on1-failing/activities')).toBe(true);
    expect(JSON.parse(q.body)).toMatchObject({ attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
  }
});

test('429 is retryable, with the Retry-After the service named', async () => {
  for (let i = 0; i < 4; i++) failing.script.push({ status: 429, headers: { 'Retry-After': '0' }, body: { error: { code: 'Throttled', message: 'slow down' } } });
  expect(await sendToFailing()).toMatchObject({ ok: false, retryable: true, retryAfterMs: 0 });
});

test.each([
  [403, false],
  [404, false],
  [412, true],
])('HTTP %i → retryable: %s', async (status, retryable) => {
  for (let i = 0; i < 4; i++) failing.script.push({ status, body: { error: { code: 'X', message: 'no' } } });
  const r = await sendToFailing();
  expect(r).toMatchObject({ ok: false, retryable });
  if (!retryable) expect(failing.requests).toHaveLength(1);
});

test('classifying connector errors: statuses, network codes; anything else is thrown on', () => {
  expect(classifyTeamsError(Object.assign(new Error('gateway timeout'), { statusCode: 504 }))).toMatchObject({ ok: false, retryable: true });
  expect(classifyTeamsError(Object.assign(new Error('bad request'), { statusCode: 400 }))).toMatchObject({ ok: false, retryable: false });
  expect(classifyTeamsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({ ok: false, retryable: true });
  // A connection lost after sending: a send's outcome is unknown, an update may be repeated.
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  expect(classifyTeamsError(reset)).toMatchObject({ ok: false, retryable: false, unknownOutcome: true, error: expect.stringMatching(/outcome unknown/) });
  expect(classifyTeamsError(reset, { idempotent: true })).toMatchObject({ ok: false, retryable: true });
  expect(() => classifyTeamsError(new TypeError('cannot read properties of undefined'))).toThrow(TypeError);
});
