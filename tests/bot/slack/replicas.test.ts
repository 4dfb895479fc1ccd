// Several replicas behind one URL: a replayed request, or Slack's retry of an event, may reach
// another replica than the first. What one accepted is shared through the database
// (PostgreSQL), so the other drops the replay and the retry: acknowledged (the check runs after the
// ack, which must not wait on the database) but not run.
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer, type RunningServer } from '../../../src/server';
import { testConfig } from '../../helpers/core';
import { freshPostgres, pgAdminUrl, type TestDb } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';
import { viewSubmission } from '../../helpers/slack-payloads';

const SECRET = 'replicas-signing-secret';
const nowS = (): number => Math.floor(Date.now() / 1000);

function signed(body: string, timestamp = nowS()): Record<string, string> {
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}` };
}

async function waitFor(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

(pgAdminUrl ? describe : describe.skip)('Slack requests across two replicas [postgresql]', () => {
  let db: TestDb;
  let slack: SlackFake;
  let a: RunningServer;
  let b: RunningServer;
  const logLines: Record<string, unknown>[] = [];
  const logTo = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const replaysLogged = (): number => logLines.filter((l) => l.msg === 'rejected a Slack request' && String(l.reason).includes('another replica')).length;

  beforeAll(async () => {
    db = await freshPostgres();
    slack = await startSlackFake();
    const config = testConfig({ DATABASE_URL: db.url, PORT: '0', SLACK_BOT_TOKEN: 'xoxb-replicas', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, BOOTSTRAP_ADMINS: 'slack:T1:U1' });
    a = await startServer(config, { logger: pino({ level: 'silent' }) });
    b = await startServer(config, { logger: pino({ level: 'warn' }, logTo) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await slack?.close();
    await db?.drop();
  });

  const post = (server: RunningServer, body: string, contentType: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${server.url}/slack/events`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });

  test('a signed command accepted by one replica is acknowledged but not run by the other', async () => {
    const body = new URLSearchParams({ team_id: 'T1', channel_id: 'C1', user_id: 'U1', user_name: 'alee', command: '/duty', text: 'help', api_app_id: 'A1', response_url: slack.responseUrl(), trigger_id: `t-${crypto.randomUUID()}` }).toString();
    const headers = signed(body);
    expect((await post(a, body, 'application/x-www-form-urlencoded', headers)).status).toBe(200);
    await slack.waitForResponse(undefined, 10_000);
    const before = replaysLogged();
    const replay = await post(b, body, 'application/x-www-form-urlencoded', headers);
    expect(replay.status).toBe(200);
    await replay.text();
    await waitFor(() => replaysLogged() > before);
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.responses).toHaveLength(1);
  });

  test('a replayed form submission is not run again by the other replica', async () => {
    const submission = viewSubmission({
      handle: { handle: { type: 'plain_text_input', value: 'rplc' } },
      name: { name: { type: 'plain_text_input', value: 'Re Plica' } },
      roles: { roles: { type: 'multi_static_select', selected_options: [{ value: 'officer', text: { type: 'plain_text', text: 'officer' } }] } },
    });
    const body = new URLSearchParams({ payload: JSON.stringify(submission) }).toString();
    const headers = signed(body);
    slack.reset();
    expect((await post(a, body, 'application/x-www-form-urlencoded', headers)).status).toBe(200);
    await slack.waitForCall('chat.postEphemeral', () => true, 10_000);
    const before = replaysLogged();
    const replay = await post(b, body, 'application/x-www-form-urlencoded', headers);
    expect(replay.status).toBe(200);
    // An empty ack: the modal a replayer holds learns nothing.
    expect(await replay.text()).toBe('');
    await waitFor(() => replaysLogged() > before);
    await new Promise((r) => setTimeout(r, 300));
    // One result posted: the second run would have posted "that handle is taken".
    expect(slack.callsTo('chat.postEphemeral')).toHaveLength(1);
  });

  test("Slack's retry of an event, reaching the other replica, is acknowledged and dropped", async () => {
    const event = JSON.stringify({ token: 'legacy', team_id: 'T1', api_app_id: 'A1', type: 'event_callback', event_id: 'EvReplica1', event_time: nowS(), event: { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' }, authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }] });
    expect((await post(a, event, 'application/json', signed(event))).status).toBe(200);
    await slack.waitForCall('views.publish');
    // Signed afresh, as Slack does for each retry.
    const retry = await post(b, event, 'application/json', { ...signed(event, nowS() + 1), 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' });
    expect(retry.status).toBe(200);
    await retry.text();
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.callsTo('views.publish')).toHaveLength(1);
  });
});
