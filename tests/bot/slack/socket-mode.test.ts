// Socket Mode, end to end: apps.connections.open on the fake hands out a loopback WebSocket,
// which sends `hello` and then a slash command envelope as Slack would.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../../src/server';
import { testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';

let slack: SlackFake;
let server: RunningServer;
let dir: string;

beforeAll(async () => {
  slack = await startSlackFake();
  dir = tempDir();
  const config = testConfig({
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    PORT: '0',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_APP_TOKEN: 'xapp-test',
    SLACK_API_URL: slack.apiUrl,
    BOOTSTRAP_ADMINS: 'slack:T1:U1',
  });
  const starting = startServer(config, { logger: pino({ level: 'silent' }) });
  // The client counts as connected once Slack says hello.
  const ws = await slack.socket.nextConnection(15000);
  slack.socket.hello(ws);
  server = await starting;
});

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Slack in Socket Mode', () => {
  it('opened the connection with the app-level token at SLACK_API_URL', () => {
    const open = slack.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe('xapp-test');
  });

  it('acks a slash command envelope and delivers the reply', async () => {
    const responseUrl = slack.responseUrl();
    const ack = await slack.socket.sendEnvelope('slash_commands', {
      token: 'legacy',
      team_id: 'T1',
      team_domain: 'mission',
      channel_id: 'C1',
      channel_name: 'duty',
      user_id: 'U1',
      user_name: 'alee',
      command: '/duty',
      text: 'help',
      api_app_id: 'A1',
      response_url: responseUrl,
      trigger_id: 'trigger-1',
    });
    expect(typeof ack.envelope_id).toBe('string');
    const reply = await slack.waitForResponse((r) => responseUrl.endsWith(r.id));
    expect(reply.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body.blocks)).toContain('/duty member add');
  });

  it('acknowledges a slash command from a workspace that is not the token\'s, and runs nothing', async () => {
    slack.reset();
    const foreignUrl = slack.responseUrl();
    const payload = (team: string, responseUrl: string) => ({
      token: 'legacy',
      team_id: team,
      team_domain: 'elsewhere',
      channel_id: 'C1',
      channel_name: 'duty',
      user_id: 'U1',
      user_name: 'alee',
      command: '/duty',
      text: 'member add handle=mallory name=Mallory roles=admin',
      api_app_id: 'A1',
      response_url: responseUrl,
      trigger_id: 'trigger-2',
    });
    const ack = await slack.socket.sendEnvelope('slash_commands', payload('T9', foreignUrl));
    expect(typeof ack.envelope_id).toBe('string');
    // A command from the token's own workspace, sent after it, is answered; the foreign one never is.
    const ownUrl = slack.responseUrl();
    await slack.socket.sendEnvelope('slash_commands', { ...payload('T1', ownUrl), text: 'help' });
    await slack.waitForResponse((r) => ownUrl.endsWith(r.id));
    expect(slack.responses.filter((r) => foreignUrl.endsWith(r.id))).toHaveLength(0);
    expect(await server.core.store.members.byHandle('mallory')).toBeNull();
  });

  it('has no HTTP route for Slack events', async () => {
    const res = await fetch(`${server.url}/slack/events`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(404);
  });
});
