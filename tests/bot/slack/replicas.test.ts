// Several replicas behind one URL: a replayed request, or Slack's retry of an event, may reach
// another replica than the first. What one accepted is shared through the database
// (PostgreSQL), so the other refuses the replay and drops the retry.
import crypto from 'node:crypto';
import pino from 'pino';
import { startServer, type RunningServer } from '../../../src/server';
import { testConfig } from '../../helpers/core';
import { freshPostgres, pgAdminUrl, type TestDb } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';

const SECRET = 'replicas-signing-secret';
const nowS = (): number => Math.floor(Date.now() / 1000);

function signed(body: string, timestamp = nowS()): Record<string, string> {
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}` };
}

(pgAdminUrl ? describe : describe.skip)('Slack requests across two replicas [postgresql]', () => {
  let db: TestDb;
  let slack: SlackFake;
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    db = await freshPostgres();
    slack = await startSlackFake();
    const config = testConfig({ DATABASE_URL: db.url, PORT: '0', SLACK_BOT_TOKEN: 'xoxb-replicas', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, BOOTSTRAP_ADMINS: 'slack:T1:U1' });
    a = await startServer(config, { logger: pino({ level: 'silent' }) });
    b = await startServer(config, { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await slack?.close();
    await db?.drop();
  });

  const post = (server: RunningServer, body: string, contentType: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${server.url}/slack/events`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });

  test('a signed request accepted by one replica is refused as a replay by the other', async () => {
    const body = new URLSearchParams({ team_id: 'T1', channel_id: 'C1', user_id: 'U1', user_name: 'alee', command: '/duty', text: 'help', api_app_id: 'A1', response_url: slack.responseUrl(), trigger_id: `t-${crypto.randomUUID()}` }).toString();
    const headers = signed(body);
    expect((await post(a, body, 'application/x-www-form-urlencoded', headers)).status).toBe(200);
    const replay = await post(b, body, 'application/x-www-form-urlencoded', headers);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'replayed' });
    await slack.waitForResponse(undefined, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.responses).toHaveLength(1);
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
