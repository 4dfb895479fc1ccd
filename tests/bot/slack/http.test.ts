// Slack over HTTP, end to end: the real server and core, signed requests exactly as Slack sends
// them, and a loopback fake of the Web API and response_url hooks.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startServer, type RunningServer } from '../../../src/server';
import { createLogger } from '../../../src/logger';
import { testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';
import { viewSubmission as submission, type StateValues } from '../../helpers/slack-payloads';

const SECRET = 'test-signing-secret';
let slack: SlackFake;
let server: RunningServer;
let dir: string;
/** Error-level log lines, to check what Bolt's error handler records. */
const logLines: Record<string, unknown>[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

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
  });
  server = await startServer(config, { logger: createLogger('error', logSink) });
});

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => slack.reset());

const FORM = 'application/x-www-form-urlencoded';

async function waitFor<T>(find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sign(body: string, timestamp: number, secret = SECRET): string {
  return `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

async function post(body: string, contentType: string, opts: { timestamp?: number; secret?: string } = {}): Promise<Response> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(`${server.url}/slack/events`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': sign(body, ts, opts.secret) },
    body,
  });
}

function slashCommand(command: string, text: string, responseUrl = slack.responseUrl()): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T1',
    team_domain: 'mission',
    channel_id: 'C1',
    channel_name: 'duty',
    user_id: 'U1',
    user_name: 'alee',
    command,
    text,
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `trigger-${crypto.randomUUID()}`,
  }).toString();
}

function interactive(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function buttonClick(value: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: 'T1', domain: 'mission' },
    user: { id: 'U1', username: 'alee', name: 'alee', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trigger-${crypto.randomUUID()}`,
    response_url: slack.responseUrl(),
    container: { type: 'message', message_ts: '1.2', channel_id: 'C1', is_ephemeral: true },
    channel: { id: 'C1', name: 'duty' },
    message: { type: 'message', ts: '1.2', text: 'Duty Desk' },
    actions: [{ type: 'button', action_id: 'duty_cmd:0', block_id: 'b1', text: { type: 'plain_text', text: 'Help' }, value, action_ts: '1.3' }],
  };
}

function text(name: string, value: string | null): StateValues {
  return { [name]: { [name]: { type: 'plain_text_input', value } } };
}

const memberForm = (handle: string | null, name: string | null, slackUser = 'U2'): StateValues => ({
  ...text('handle', handle),
  ...text('name', name),
  ...text('tz', null),
  ...text('email', null),
  ...text('phone', null),
  ...text('teams', null),
  roles: { roles: { type: 'multi_static_select', selected_options: [{ value: 'officer', text: { type: 'plain_text', text: 'officer' } }] } },
  slack: { slack: { type: 'users_select', selected_user: slackUser } },
});

describe('Slack over HTTP', () => {
  it('answers /duty help through the response_url, listing the commands', async () => {
    const url = slack.responseUrl();
    const res = await post(slashCommand('/duty', 'help', url), FORM);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const reply = await slack.waitForResponse((r) => url.endsWith(r.id));
    expect(reply.body.response_type).toBe('ephemeral');
    const shown = JSON.stringify(reply.body.blocks);
    expect(shown).toContain('/duty member add');
    expect(shown).toContain('/duty help');
    expect(typeof reply.body.text).toBe('string');
    // The member's DM is remembered for proactive messages.
    await expect(server.core.conversations.recall('slack', 'member:T1:U1')).resolves.toEqual({ userId: 'U1', teamId: 'T1' });
  });

  it('opens a placeholder modal at once for a command that needs a form, then shows the form', async () => {
    const res = await post(slashCommand('/duty', 'member add'), FORM);
    expect(res.status).toBe(200);
    const update = await slack.waitForCall('views.update');
    const opened = slack.callsTo('views.open');
    expect(opened).toHaveLength(1);
    expect(slack.calls.indexOf(opened[0] as (typeof slack.calls)[number])).toBeLessThan(slack.calls.indexOf(update));
    expect(JSON.stringify(opened[0]?.args.view)).toContain('Loading');
    expect(opened[0]?.args.trigger_id).toMatch(/^trigger-/);
    expect(opened[0]?.token).toBe('xoxb-test');
    const view = update.args.view as { callback_id: string; private_metadata: string; blocks: { block_id: string }[] };
    expect(update.args.view_id).toBe((opened[0]?.answer?.view as { id: string }).id);
    expect(view.callback_id).toBe('duty_form');
    expect(view.blocks.map((b) => b.block_id)).toEqual(expect.arrayContaining(['handle', 'name']));
    expect(JSON.parse(view.private_metadata)).toMatchObject({ command: 'duty member add', channelId: 'C1' });
  });

  it('turns Slack mentions in the command text into canonical mentions and unescapes the rest', async () => {
    const url = slack.responseUrl();
    // Slack escapes &, < and > in what was typed.
    await post(slashCommand('/duty', 'member add handle=carol name="Carol &amp; Dee" slack=<@U3|carol>', url), FORM);
    const reply = await slack.waitForResponse((r) => url.endsWith(r.id));
    expect(JSON.stringify(reply.body.blocks)).toContain('Added @carol');
    expect(await server.core.store.members.byIdentity('slack', 'T1:U3')).toMatchObject({ handle: 'carol', displayName: 'Carol & Dee' });
    // No form was needed, so no modal was opened.
    expect(slack.callsTo('views.open')).toHaveLength(0);
  });

  it('runs a button click as a command and answers beside the original message', async () => {
    const payload = buttonClick('/duty help');
    const res = await post(interactive(payload), FORM);
    expect(res.status).toBe(200);
    const reply = await slack.waitForResponse((r) => (payload.response_url as string).endsWith(r.id));
    expect(reply.body.replace_original).toBe(false);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body.blocks)).toContain('/duty member add');
  });

  it('answers a Home tab button in a modal, as there is no conversation to answer in', async () => {
    const { response_url: _none, channel: _noChannel, ...payload } = buttonClick('/duty help');
    const res = await post(
      interactive({ ...payload, container: { type: 'view', view_id: 'VHOME' }, view: { id: 'VHOME', type: 'home', team_id: 'T1', callback_id: '', private_metadata: '' } }),
      FORM,
    );
    expect(res.status).toBe(200);
    const opened = await slack.waitForCall('views.open');
    expect(JSON.stringify(opened.args.view)).toContain('/duty member add');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('opens the form from a button whose command needs one', async () => {
    const res = await post(interactive(buttonClick('/duty member add')), FORM);
    expect(res.status).toBe(200);
    const update = await slack.waitForCall('views.update');
    expect((update.args.view as { callback_id: string }).callback_id).toBe('duty_form');
    expect(slack.callsTo('views.open')).toHaveLength(1);
  });

  it('answers a submission missing a required field with errors beside that field', async () => {
    const res = await post(interactive(submission(memberForm('bob', null))), FORM);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual(['name']);
    expect(await server.core.store.members.byHandle('bob')).toBeNull();
    expect(slack.callsTo('chat.postEphemeral')).toHaveLength(0);
  });

  it('closes a valid submission and posts the result to the caller', async () => {
    const res = await post(interactive(submission(memberForm('bob', 'Bob Stone'))), FORM);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const posted = await slack.waitForCall('chat.postEphemeral');
    expect(posted.args).toMatchObject({ channel: 'C1', user: 'U1' });
    expect(JSON.stringify(posted.args.blocks)).toContain('Added @bob');
    const bob = await server.core.store.members.byHandle('bob');
    expect(bob).not.toBeNull();
    // The users_select value arrived as the canonical mention and became bob's Slack identity.
    expect(await server.core.store.members.byIdentity('slack', 'T1:U2')).toMatchObject({ handle: 'bob' });
  });

  it('falls back to the command\'s response_url when the bot may not post in the channel', async () => {
    slack.on('chat.postEphemeral', () => ({ ok: false, error: 'channel_not_found' }));
    try {
      const url = slack.responseUrl();
      const res = await post(interactive(submission(memberForm('dana', 'Dana Ek', 'U4'), { command: 'duty member add', channelId: 'G9', responseUrl: url })), FORM);
      expect(res.status).toBe(200);
      const reply = await slack.waitForResponse((r) => url.endsWith(r.id));
      expect(reply.body.response_type).toBe('ephemeral');
      expect(JSON.stringify(reply.body.blocks)).toContain('Added @dana');
    } finally {
      slack.off('chat.postEphemeral');
    }
  });

  it('publishes the Home tab when it is opened', async () => {
    const event = {
      token: 'legacy',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'Ev1',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' },
      authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
    };
    const res = await post(JSON.stringify(event), 'application/json');
    expect(res.status).toBe(200);
    const published = await slack.waitForCall('views.publish');
    expect(published.args.user_id).toBe('U1');
    expect((published.args.view as { type: string }).type).toBe('home');
    expect(JSON.stringify(published.args.view)).toContain('Duty Desk');
  });

  it('tells the user "Something went wrong (ref …)" when Slack fails us, and logs the request id', async () => {
    slack.on('views.update', () => ({ ok: false, error: 'view_not_found' }));
    try {
      const url = slack.responseUrl();
      await post(slashCommand('/duty', 'member add', url), FORM);
      const reply = await slack.waitForResponse((r) => url.endsWith(r.id));
      const said = JSON.stringify(reply.body.blocks);
      const ref = /Something went wrong \(ref ([0-9a-f]{8})\)/.exec(said)?.[1];
      expect(ref).toBeDefined();
      const logged = await waitFor(() => logLines.find((l) => l.msg === 'slack interaction failed'));
      expect(String(logged.requestId).slice(0, 8)).toBe(ref);
      expect(logged.ref).toBe(ref);
    } finally {
      slack.off('views.update');
    }
  });

  it('rejects a wrong signature and a stale timestamp with 401, changing nothing', async () => {
    const body = interactive(submission(memberForm('mallory', 'Mallory', 'U5')));
    const wrong = await post(body, FORM, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    const stale = await post(body, FORM, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const command = await post(slashCommand('/duty', 'help'), FORM, { secret: 'nope' });
    expect(command.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.calls).toHaveLength(0);
    expect(slack.responses).toHaveLength(0);
    expect(await server.core.store.members.byHandle('mallory')).toBeNull();
  });
});
