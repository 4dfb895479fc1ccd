// Hostile requests at Slack's door, end to end: the real server over HTTP with the loopback fake of
// Slack. Each is refused with its status code before any handler runs (no Web API call, no reply,
// nothing written), and logged once at warn with its reason but never its body.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { MAX_SLACK_BODY_BYTES, slackGate, workspacesFrom } from '../../../src/bot/slack/gate';
import { parseConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { startServer, type RunningServer } from '../../../src/server';
import { testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';

const SECRET = 'test-signing-secret';
/** In every hostile body: it must never reach a log line. */
const MARKER = 'Zed Markerson-4417';
const FORM = 'application/x-www-form-urlencoded';

let slack: SlackFake;
let server: RunningServer;
let dir: string;
const logLines: Record<string, unknown>[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  // The fake's auth.test says the token belongs to T1; SLACK_TEAM_IDS is not set.
  slack = await startSlackFake({ teamId: 'T1' });
  dir = tempDir();
  const config = testConfig({
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    PORT: '0',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    BOOTSTRAP_ADMINS: 'slack:T1:U1',
  });
  server = await startServer(config, { logger: createLogger('warn', logSink) });
  // The admin's first request keeps their DM; later barriers then leave the database as it was.
  await barrier();
});

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  slack.reset();
  logLines.length = 0;
});

const nowS = (): number => Math.floor(Date.now() / 1000);

function sign(body: string | Buffer, timestamp: number | string, secret = SECRET): string {
  return `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

interface Sent {
  status: number;
  text: string;
}

async function send(body: string, contentType: string, headers: Record<string, string>): Promise<Sent> {
  const res = await fetch(`${server.url}/slack/events`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });
  return { status: res.status, text: await res.text() };
}

/** Signed as Slack signs; `timestamp` and `secret` are what an attacker would vary. */
function signed(body: string, opts: { timestamp?: number; secret?: string } = {}): Record<string, string> {
  const ts = opts.timestamp ?? nowS();
  return { 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': sign(body, ts, opts.secret) };
}

function slashCommand(text: string, who: { team?: string; user?: string } = {}, responseUrl = slack.responseUrl()): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: who.team ?? 'T1',
    team_domain: 'mission',
    channel_id: 'C1',
    channel_name: 'duty',
    user_id: who.user ?? 'U1',
    user_name: 'someone',
    command: '/duty',
    text,
    api_app_id: 'A1',
    response_url: responseUrl,
    trigger_id: `trigger-${crypto.randomUUID()}`,
  }).toString();
}

function interactive(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function buttonClick(value: string, who: { team?: string; user?: string } = {}, responseUrl = slack.responseUrl()): string {
  const team = who.team ?? 'T1';
  const user = who.user ?? 'U1';
  return interactive({
    type: 'block_actions',
    team: { id: team, domain: 'mission' },
    user: { id: user, username: 'someone', name: 'someone', team_id: team },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trigger-${crypto.randomUUID()}`,
    response_url: responseUrl,
    container: { type: 'message', message_ts: '1.2', channel_id: 'C1', is_ephemeral: false },
    channel: { id: 'C1', name: 'duty' },
    message: { type: 'message', ts: '1.2', text: 'Duty Desk' },
    actions: [{ type: 'button', action_id: 'duty_cmd:0', block_id: 'b1', text: { type: 'plain_text', text: 'Go' }, value, action_ts: '1.3' }],
  });
}

function memberFormSubmission(handle: string, name: string, who: { team?: string; user?: string } = {}): string {
  const team = who.team ?? 'T1';
  const text = (id: string, value: string | null) => ({ [id]: { [id]: { type: 'plain_text_input', value } } });
  return interactive({
    type: 'view_submission',
    team: { id: team, domain: 'mission' },
    user: { id: who.user ?? 'U1', username: 'someone', name: 'someone', team_id: team },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trigger-${crypto.randomUUID()}`,
    view: {
      id: 'V1',
      team_id: team,
      type: 'modal',
      callback_id: 'duty_form',
      private_metadata: JSON.stringify({ command: 'duty member add', channelId: 'C1' }),
      state: {
        values: {
          ...text('handle', handle),
          ...text('name', name),
          ...text('tz', null),
          ...text('email', null),
          ...text('phone', null),
          ...text('teams', null),
          roles: { roles: { type: 'multi_static_select', selected_options: [] } },
          slack: { slack: { type: 'users_select', selected_user: null } },
        },
      },
      hash: 'h',
      title: { type: 'plain_text', text: 'Add a member' },
      blocks: [],
      app_id: 'A1',
      bot_id: 'BBOT',
    },
    response_urls: [],
  });
}

function homeOpened(eventId: string, team = 'T1'): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: team,
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: eventId,
    event_time: nowS(),
    event: { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' },
    authorizations: [{ team_id: team, user_id: 'UBOT', is_bot: true }],
  });
}

/** What the database holds that a handler could have changed. */
async function footprint(): Promise<{ audit: number; members: number; conversations: number }> {
  const db = server.core.store.db;
  return { audit: await db.auditEntry.count(), members: await db.member.count(), conversations: await db.conversationRef.count() };
}

/**
 * A request that is known to run a handler, sent after the hostile ones and awaited: once its
 * reply is in, anything the hostile requests had started would be recorded on the fake too.
 */
async function barrier(): Promise<void> {
  const url = slack.responseUrl();
  const body = slashCommand('help', {}, url);
  expect((await send(body, FORM, signed(body))).status).toBe(200);
  await slack.waitForResponse((r) => url.endsWith(r.id));
}

/** The fake saw only the barrier's reply: no Web API call, no other response_url post. */
function onlyTheBarrier(): void {
  expect(slack.calls.map((c) => c.method)).toEqual([]);
  expect(slack.responses).toHaveLength(1);
}

function rejections(): Record<string, unknown>[] {
  return logLines.filter((l) => l.msg === 'rejected a Slack request');
}

function expectLoggedOnceEach(count: number, reason: RegExp): void {
  const lines = rejections();
  expect(lines).toHaveLength(count);
  for (const l of lines) {
    expect(l.level).toBe(40); // warn
    expect(String(l.reason)).toMatch(reason);
  }
  expect(JSON.stringify(logLines)).not.toContain(MARKER);
}

describe('Slack over HTTP: hostile requests are refused before any handler runs', () => {
  const addMallory = () => slashCommand(`member add handle=mallory name="${MARKER}" roles=admin`);

  it('refuses a request without a signature, or with its timestamp missing', async () => {
    const before = await footprint();
    const body = addMallory();
    const { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': sig } = signed(body);
    expect((await send(body, FORM, {})).status).toBe(401);
    expect((await send(body, FORM, { 'X-Slack-Request-Timestamp': ts as string })).status).toBe(401);
    expect((await send(body, FORM, { 'X-Slack-Signature': sig as string })).status).toBe(401);
    expect((await send(body, FORM, { 'X-Slack-Request-Timestamp': 'yesterday', 'X-Slack-Signature': sig as string })).status).toBe(401);
    expectLoggedOnceEach(4, /X-Slack-Signature|timestamp/);
    await barrier();
    onlyTheBarrier();
    expect(await footprint()).toEqual(before);
  });

  it('refuses a forged signature: another secret, or the signature of another body', async () => {
    const before = await footprint();
    const body = addMallory();
    expect((await send(body, FORM, signed(body, { secret: 'guessed-secret' }))).status).toBe(401);
    const ts = nowS();
    const harmless = slashCommand('help');
    expect((await send(body, FORM, { 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': sign(harmless, ts) })).status).toBe(401);
    // A signature for one timestamp does not cover another.
    expect((await send(body, FORM, { 'X-Slack-Request-Timestamp': String(ts + 1), 'X-Slack-Signature': sign(body, ts) })).status).toBe(401);
    expectLoggedOnceEach(3, /signature does not match/);
    await barrier();
    onlyTheBarrier();
    expect(await footprint()).toEqual(before);
    expect(await server.core.store.members.byHandle('mallory')).toBeNull();
  });

  it('refuses a correctly signed request older than 5 minutes, or more than 5 minutes ahead', async () => {
    const before = await footprint();
    const body = addMallory();
    expect((await send(body, FORM, signed(body, { timestamp: nowS() - 5 * 60 - 30 }))).status).toBe(401);
    // Bolt's own check looks at the past only; a request signed for the future would stay valid for long.
    expect((await send(body, FORM, signed(body, { timestamp: nowS() + 5 * 60 + 30 }))).status).toBe(401);
    const lines = rejections();
    expect(lines.map((l) => l.reason)).toEqual(['signed more than 5 minutes ago', 'signed more than 5 minutes in the future']);
    expectLoggedOnceEach(2, /5 minutes/);
    await barrier();
    onlyTheBarrier();
    expect(await footprint()).toEqual(before);
  });

  it('runs a signed request once: the same body and signature sent again are refused', async () => {
    const url = slack.responseUrl();
    const body = slashCommand(`member add handle=once name="${MARKER}"`, {}, url);
    const headers = signed(body);
    expect((await send(body, FORM, headers)).status).toBe(200);
    await slack.waitForResponse((r) => url.endsWith(r.id));
    const after = await footprint();
    expect(await server.core.store.members.byHandle('once')).not.toBeNull();

    expect((await send(body, FORM, headers)).status).toBe(401);
    expectLoggedOnceEach(1, /already accepted/);
    await barrier();
    expect(slack.responses.filter((r) => url.endsWith(r.id))).toHaveLength(1);
    expect(await footprint()).toEqual(after);
  });

  it('handles an Events API event once: a retry (X-Slack-Retry-Num) of a seen event_id is acknowledged and dropped', async () => {
    const first = homeOpened('EvHostile1');
    expect((await send(first, 'application/json', signed(first))).status).toBe(200);
    await slack.waitForCall('views.publish');
    // Slack signs each retry afresh (a new timestamp), so only the event id tells it apart.
    const retryAt = nowS() + 1;
    const retry = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout', ...signed(first, { timestamp: retryAt }) },
      body: first,
    });
    expect(retry.status).toBe(200);
    await retry.text();
    // The same event id with another body (a replay dressed up as new) is dropped too.
    const again = homeOpened('EvHostile1').replace('"tab":"home"', '"tab":"home" ');
    expect((await send(again, 'application/json', signed(again))).status).toBe(200);
    // A retry of an event that never arrived is the first delivery: it runs.
    const lost = homeOpened('EvHostile2');
    const res = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Slack-Retry-Num': '2', 'X-Slack-Retry-Reason': 'http_error', ...signed(lost) },
      body: lost,
    });
    expect(res.status).toBe(200);
    await res.text();
    await slack.waitForCall('views.publish', () => slack.callsTo('views.publish').length >= 2);
    await barrier();
    expect(slack.callsTo('views.publish')).toHaveLength(2);
    // Both repeats were logged, once each, with the retry Slack said it was.
    expect(rejections().map((l) => [l.reason, l.eventId, l.retryNum])).toEqual([
      ['this event_id was already handled', 'EvHostile1', 1],
      ['this event_id was already handled', 'EvHostile1', null],
    ]);
  });

  it(`refuses a body over ${MAX_SLACK_BODY_BYTES} bytes with 413 before reading or parsing it`, async () => {
    const before = await footprint();
    const big = `${slashCommand('help')}&text=${'a'.repeat(MAX_SLACK_BODY_BYTES)}`;
    // Declared length: refused from the headers.
    expect((await send(big, FORM, signed(big))).status).toBe(413);
    // Chunked, no length declared: refused once the limit is passed, the signature never computed.
    const chunks = [Buffer.from(big.slice(0, 512 * 1024)), Buffer.from(big.slice(512 * 1024))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': FORM, ...signed(big) },
      body: stream,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(res.status).toBe(413);
    await res.text();
    expectLoggedOnceEach(2, /limit/);
    await barrier();
    onlyTheBarrier();
    expect(await footprint()).toEqual(before);
  });

  it('refuses slash commands, buttons, form submissions and events from a workspace that is not configured', async () => {
    const before = await footprint();
    const foreign = { team: 'T9', user: 'U1' };
    const bodies: [string, string][] = [
      [slashCommand(`member add handle=mallory name="${MARKER}" slack=T9:U1 roles=admin`, foreign), FORM],
      [buttonClick(`/duty member add handle=mallory name="${MARKER}"`, foreign), FORM],
      [memberFormSubmission('mallory', MARKER, foreign), FORM],
      [homeOpened('EvForeign', 'T9').replace('"event_ts"', `"text":"${MARKER}","event_ts"`), 'application/json'],
    ];
    for (const [body, type] of bodies) {
      const r = await send(body, type, signed(body));
      expect(r.status).toBe(403);
      expect(JSON.parse(r.text)).toEqual({ ok: false, error: 'workspace_not_allowed' });
    }
    expectLoggedOnceEach(4, /workspace/);
    expect(rejections().map((l) => l.teamId)).toEqual(['T9', 'T9', 'T9', 'T9']);
    await barrier();
    onlyTheBarrier();
    expect(await footprint()).toEqual(before);
    expect(await server.core.store.members.byHandle('mallory')).toBeNull();
  });

  it('answers someone who is not a member politely, through the command, button and form, and changes nothing', async () => {
    const before = await footprint();
    const stranger = { user: 'U9' };
    const commandUrl = slack.responseUrl();
    const command = slashCommand(`member add handle=eve name="${MARKER}"`, stranger, commandUrl);
    expect((await send(command, FORM, signed(command))).status).toBe(200);
    const buttonUrl = slack.responseUrl();
    const button = buttonClick('/case list', stranger, buttonUrl);
    expect((await send(button, FORM, signed(button))).status).toBe(200);
    const form = memberFormSubmission('eve', MARKER, stranger);
    expect((await send(form, FORM, signed(form))).status).toBe(200);

    const replies = [await slack.waitForResponse((r) => commandUrl.endsWith(r.id)), await slack.waitForResponse((r) => buttonUrl.endsWith(r.id))];
    const formReply = await slack.waitForCall('chat.postEphemeral', (c) => c.args.user === 'U9');
    for (const said of [...replies.map((r) => JSON.stringify(r.body.blocks)), JSON.stringify(formReply.args.blocks)]) {
      expect(said).toContain('You are not registered with Duty Desk');
      expect(said).toContain('T1:U9');
    }
    expect(await server.core.store.members.byHandle('eve')).toBeNull();
    // Not even the stranger's DM is kept.
    expect(await server.core.conversations.recall('slack', 'member:T1:U9')).toBeUndefined();
    expect(await footprint()).toEqual(before);
    expect(rejections()).toHaveLength(0);
  });

  it('still answers Slack\'s URL verification handshake, which carries no workspace', async () => {
    const body = JSON.stringify({ token: 'legacy', challenge: 'c-123', type: 'url_verification' });
    const r = await send(body, 'application/json', signed(body));
    expect(r.status).toBe(200);
    expect(r.text).toContain('c-123');
  });
});

describe('SLACK_TEAM_IDS', () => {
  test('is a comma-separated list of T… and E… ids; anything else stops start-up', () => {
    const ok = parseConfig({ SLACK_TEAM_IDS: ' T1, E77 ,T2' });
    expect(ok.ok && ok.config.SLACK_TEAM_IDS).toEqual(['T1', 'E77', 'T2']);
    const none = parseConfig({});
    expect(none.ok && none.config.SLACK_TEAM_IDS).toEqual([]);
    const bad = parseConfig({ SLACK_TEAM_IDS: 'T1,mission' });
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/^SLACK_TEAM_IDS: /) as unknown });
  });

  test('admits the listed workspaces, and every workspace of a listed Enterprise Grid organisation', async () => {
    const app = express();
    const passed: string[] = [];
    app.post('/slack/events', slackGate({ signingSecret: SECRET, workspaces: async () => workspacesFrom(['T2', 'E7']), logger: pino({ level: 'silent' }) }), (req, res) => {
      passed.push(String((req as express.Request & { rawBody?: Buffer }).rawBody?.length));
      res.status(200).end();
    });
    const s: http.Server = await new Promise((resolve) => {
      const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
    });
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/slack/events`;
      const status = async (body: string, type = FORM): Promise<number> => (await fetch(url, { method: 'POST', headers: { 'Content-Type': type, ...signed(body) }, body })).status;
      const command = (fields: Record<string, string>) => new URLSearchParams({ command: '/duty', text: 'help', user_id: 'U1', ...fields }).toString();
      expect(await status(command({ team_id: 'T2' }))).toBe(200);
      expect(await status(command({ team_id: 'T1' }))).toBe(403);
      expect(await status(command({ team_id: 'T5', enterprise_id: 'E7' }))).toBe(200);
      expect(await status(command({ team_id: 'T5', enterprise_id: 'E8' }))).toBe(403);
      // An org-wide install's button: no team, the organisation and the user's workspace.
      expect(await status(interactive({ type: 'block_actions', team: null, enterprise: { id: 'E7' }, user: { id: 'U1', team_id: 'T5' } }))).toBe(200);
      // An event is for the installation it was authorised for, whoever's workspace it came from.
      const event = (team: string, installedIn: string) =>
        JSON.stringify({ type: 'event_callback', team_id: team, event_id: `Ev${team}${installedIn}`, event: { type: 'app_mention' }, authorizations: [{ team_id: installedIn }] });
      expect(await status(event('T9', 'T2'), 'application/json')).toBe(200);
      expect(await status(event('T2', 'T9'), 'application/json')).toBe(403);
      // Nothing to say which workspace: refused.
      expect(await status(JSON.stringify({ type: 'event_callback', event: { type: 'app_mention' } }), 'application/json')).toBe(403);
      expect(passed).toHaveLength(4);
    } finally {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});
