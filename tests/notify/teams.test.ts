// TeamsNotifier through the real Teams adapter to the Bot Connector fake (and, for failures, a
// loopback connector answering error statuses): proactive messages to stored references.
import { cardFor } from '../../src/bot/teams';
import { classifyTeamsError } from '../../src/notify/teams';
import { CHANNEL_CONVERSATION, notifyRig, REPLY, scriptedServer, teamsReference, type NotifyRig, type ScriptedServer } from './rig';

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
  expect(r).toMatchObject({ ok: true, providerId: expect.stringMatching(/^fake-activity-/) });
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

test('502 is retryable (after the connector client’s own retries), and no apology is posted', async () => {
  for (let i = 0; i < 4; i++) failing.script.push({ status: 502, body: { error: { code: 'BadGateway', message: 'upstream failed' } } });
  const r = await sendToFailing();
  expect(r).toMatchObject({ ok: false, retryable: true });
  expect(r.ok ? '' : r.error).toMatch(/^Teams answered HTTP 502/);
  // Every request was our card: the failure did not reach the adapter's turn-error handler.
  expect(failing.requests.length).toBeGreaterThanOrEqual(1);
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
  expect(() => classifyTeamsError(new TypeError('cannot read properties of undefined'))).toThrow(TypeError);
});
