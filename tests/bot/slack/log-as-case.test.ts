// The "Log as case" message shortcut end to end over HTTP: the signed payload Slack sends, the real
// server and core, and a loopback fake of the Web API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from '../../../src/server';
import { as, msg, testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type RecordedCall, type SlackFake } from '../../helpers/slack-fake';

const SECRET = 'test-signing-secret';
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
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    BOOTSTRAP_ADMINS: 'slack:T1:U1',
    MISSION_TIMEZONE: 'Europe/Paris',
  });
  server = await startServer(config);
  // An officer (U2) works cases; U1 is a bootstrap admin, U9 is nobody.
  expect(msg(await as(server.core, 'T1:U1', 'slack').run('/duty member add handle=olga name="Olga Officer" slack=T1:U2 roles=officer')).ok).toBe(true);
});

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => slack.reset());

function sign(body: string, timestamp: number): string {
  return `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

async function postInteraction(payload: Record<string, unknown>): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${server.url}/slack/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': sign(body, ts) },
    body,
  });
}

function messageAction(userId: string, message: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message_action',
    token: 'legacy',
    action_ts: '1767262200.000001',
    team: { id: 'T1', domain: 'mission' },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: 'T1' },
    channel: { id: 'C1', name: 'duty' },
    is_enterprise_install: false,
    callback_id: 'log_as_case',
    trigger_id: `trigger-${crypto.randomUUID()}`,
    message_ts: message.ts,
    message: { type: 'message', ...message },
    response_url: slack.responseUrl(),
  };
}

interface Block {
  type: string;
  block_id?: string;
  element?: { type: string; initial_value?: string; options?: unknown[] };
  text?: { text: string };
}
interface View {
  callback_id?: string;
  private_metadata?: string;
  blocks: Block[];
}

function viewOf(call: RecordedCall): View {
  return call.args.view as View;
}

describe('"Log as case" message shortcut', () => {
  it('acks, opens a placeholder at once, then replaces it with the case form, the summary taken from the message', async () => {
    const res = await postInteraction(
      messageAction('U2', {
        // 2026-01-01 10:10 UTC: 11:10 in Paris.
        ts: '1767262200.000100',
        user: 'U3',
        text: 'Citizen <@U4> arrested &amp; held at the central station, see <https://news.example/x|the report> in <#C9|ops>',
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');

    const update = await slack.waitForCall('views.update');
    const opened = slack.callsTo('views.open');
    expect(opened).toHaveLength(1);
    expect(slack.calls.indexOf(opened[0] as RecordedCall)).toBeLessThan(slack.calls.indexOf(update));
    expect(JSON.stringify(viewOf(opened[0] as RecordedCall))).toContain('Loading');
    expect(update.args.view_id).toBe((opened[0]?.answer?.view as { id: string }).id);

    const view = viewOf(update);
    expect(view.callback_id).toBe('duty_form');
    expect(JSON.parse(view.private_metadata ?? '{}')).toMatchObject({ command: 'case new', channelId: 'C1' });
    const byId = new Map(view.blocks.map((b) => [b.block_id, b]));
    const summary = byId.get('summary')?.element?.initial_value ?? '';
    expect(summary).toContain('Citizen <@slack:T1:U4> arrested & held at the central station, see the report (https://news.example/x) in #ops');
    expect(summary).toMatch(/^Message from <@slack:T1:U3> in #duty at 2026-01-01 11:10 /);
    // The rest is for the officer to fill in: nothing else is prefilled.
    expect(byId.get('category')?.element?.type).toBe('static_select');
    expect(byId.get('category')?.element?.options?.length).toBeGreaterThan(3);
    expect(byId.get('priority')?.element?.type).toBe('static_select');
    expect(byId.get('name')?.element?.initial_value).toBeUndefined();
    // Nothing was saved: the form still has to be submitted.
    expect((await server.core.store.cases.list({}, 'newest', 5)).total).toBe(0);
  });

  it('cuts a very long message to what the summary input holds', async () => {
    await postInteraction(messageAction('U2', { ts: '1767262200.000200', user: 'U3', text: 'x'.repeat(5000) }));
    const update = await slack.waitForCall('views.update');
    const summary = viewOf(update).blocks.find((b) => b.block_id === 'summary')?.element?.initial_value ?? '';
    expect(summary.length).toBe(3000);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('tells an unregistered person so, in the modal', async () => {
    await postInteraction(messageAction('U9', { ts: '1767262200.000300', user: 'U3', text: 'Citizen in hospital' }));
    const update = await slack.waitForCall('views.update');
    expect(slack.callsTo('views.open')).toHaveLength(1);
    const shown = JSON.stringify(viewOf(update));
    expect(shown).toContain('not registered');
    expect(viewOf(update).callback_id).not.toBe('duty_form');
    // The modal said it: no message besides.
    expect(slack.responses).toHaveLength(0);
  });
});
