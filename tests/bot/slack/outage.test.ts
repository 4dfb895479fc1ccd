// Slack away when the bot starts: the bot starts anyway (Teams, SMS, email and escalations do not
// wait for Slack), answers Slack's requests with 503 until auth.test answers, and sends what
// queued meanwhile once Slack is back. A token Slack refuses still stops the start-up.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { message } from '../../../src/domain/reply';
import { startServer, type RunningServer } from '../../../src/server';
import { testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy';

const SECRET = 'outage-signing-secret';

describe('Slack away at start-up', () => {
  let slack: SlackFake;
  let proxy: TcpProxy;
  let dir: string;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    slack = await startSlackFake();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: slack.port });
    dir = tempDir();
  });
  afterAll(async () => {
    await server?.close();
    await proxy.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = (name: string) =>
    testConfig({ DATABASE_URL: `file:${path.join(dir, `${name}.db`)}`, PORT: '0', SLACK_BOT_TOKEN: 'xoxb-outage', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: proxy.rewrite(slack.apiUrl), BOOTSTRAP_ADMINS: 'slack:T1:U1' });

  function slashCommand(text: string): Promise<Response> {
    const body = new URLSearchParams({ team_id: 'T1', channel_id: 'C1', user_id: 'U1', user_name: 'alee', command: '/duty', text, api_app_id: 'A1', response_url: slack.responseUrl(), trigger_id: `t-${crypto.randomUUID()}` }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    return fetch(`${server?.url ?? ''}/slack/events`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': signature }, body });
  }

  test('the bot starts without Slack, refuses Slack requests with 503 meanwhile, and sends what queued once Slack answers', async () => {
    await proxy.cut();
    server = await startServer(config('away'), { logger: pino({ level: 'silent' }), scheduler: { pollMs: 50 } });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // A request from Slack cannot be checked against the token's workspace yet: 503, nothing run.
    const refused = await slashCommand('help');
    expect(refused.status).toBe(503);
    expect(slack.responses).toHaveLength(0);
    // A message queued meanwhile waits in the queue.
    const s = server;
    await s.core.store.transaction((tx) => s.core.outbox.deliver(tx, { key: 'outage-1', to: { kind: 'channel', channel: 'slack:C100' }, reply: message({ title: 'Queued while Slack was away', text: 'x' }) }));
    s.core.outbox.wake?.();
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);

    await proxy.restore();
    const post = await slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('Queued while Slack was away'), 30_000);
    expect(post.args.channel).toBe('C100');
    // auth.test is asked again at the next request: Slack's commands work again.
    const ok = await slashCommand('help');
    expect(ok.status).toBe(200);
    await slack.waitForResponse(undefined, 10_000);
    await server.close();
    server = undefined;
  });

  test('a token Slack refuses stops the start-up', async () => {
    slack.on('auth.test', () => ({ ok: false, error: 'invalid_auth' }));
    try {
      await expect(startServer(config('refused'), { logger: pino({ level: 'silent' }) })).rejects.toThrow(/invalid_auth/);
    } finally {
      slack.off('auth.test');
    }
  });
});
