// Paging end to end: the real server and scheduler, a controlled clock, and the Slack and Bot
// Connector fakes receiving pages over the wire.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server';
import { startBotConnectorFake, type BotConnectorFake } from '../helpers/bot-connector-fake';
import { as, manualClock, msg, textOf, testConfig } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type RecordedCall, type SlackFake } from '../helpers/slack-fake';
import { messageActivity, post } from '../bot/teams/activities';

const BOB_AAD = '00000000-0000-0000-0000-0000000000b0';
const MIN = 60_000;

describe('paging', () => {
  let slack: SlackFake;
  let connector: BotConnectorFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-22T10:00:00Z');

  const dmsTo = (user: string, page: number): RecordedCall[] =>
    slack.callsTo('chat.postMessage').filter((c) => c.args.channel === user && JSON.stringify(c.args).includes(`page #${page}:`));
  const teamsTo = (page: number) => connector.messages().filter((c) => c.conversationId === 'a:bob-1to1' && JSON.stringify(c.body).includes(`page #${page}:`));

  /** Runs everything due now (the server's own loop runs too; this just does not wait for it). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await server.core.scheduler.runDue();
  }

  async function at(ms: number): Promise<void> {
    clock.set(new Date(Date.parse('2026-11-22T10:00:00Z') + ms).toISOString());
    await settle();
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    connector = await startBotConnectorFake();
    dir = tempDir();
    server = await startServer(
      testConfig({
        DATABASE_URL: `file:${path.join(dir, 'p.db')}`,
        PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_API_URL: slack.apiUrl,
        TEAMS_ANONYMOUS: '1',
        BOOTSTRAP_ADMINS: 'console:root',
        MISSION_TIMEZONE: 'Europe/Paris',
      }),
      { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now },
    );
    const root = as(server.core, 'root');
    expect(msg(await root.run('/duty member add handle=alee name="Ana Lee" slack=T1:U2 tz=Europe/Paris roles=officer')).ok).toBe(true);
    expect(msg(await root.run(`/duty member add handle=bob name="Bob Ray" teams=${BOB_AAD} roles=officer`)).ok).toBe(true);
    expect(msg(await root.run('/duty member add handle=lead name="Lea Head" slack=T1:U3 roles=leader')).ok).toBe(true);
    const hello = await post(`${server.url}/api/messages`, messageActivity(connector.url, { aad: BOB_AAD, name: 'Bob Ray' }, 'duty me', { conversationType: 'personal', conversationId: 'a:bob-1to1' }));
    expect(hello.status).toBeLessThan(300);
    await connector.waitFor((c) => c.conversationId === 'a:bob-1to1');
    connector.reset();
    // Ana is on primary duty today, Bob is her backup.
    expect(msg(await root.run('/duty roster new name="Consular" members="@alee @bob" shift=1d handoff=08:00 tz=Europe/Paris start=2026-11-22')).ok).toBe(true);
    await settle();
  });

  afterAll(async () => {
    await server.close();
    await slack.close();
    await connector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a roster page escalates on time: primary now, backup after 5 minutes, then again from the top', async () => {
    await at(0);
    const r = msg(await as(server.core, 'lead').run('/page Consular Citizen arrested at CDG severity=critical'));
    expect(r.ok).toBe(true);
    expect(r.title).toBe('Page #1 raised');
    await settle();
    const first = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U2' && JSON.stringify(c.args).includes('page #1:'), 5000);
    const body = JSON.stringify(first.args);
    expect(body).toContain('CRITICAL');
    expect(body).toContain('Citizen arrested at CDG');
    expect(body).toContain('/page ack 1');
    expect(teamsTo(1)).toHaveLength(0);

    await at(4 * MIN + 59_000);
    expect(teamsTo(1)).toHaveLength(0);
    await at(5 * MIN);
    await connector.waitFor((c) => c.conversationId === 'a:bob-1to1' && JSON.stringify(c.body).includes('page #1:'), 1, 5000);
    expect(dmsTo('U2', 1)).toHaveLength(1);

    // The second pass starts after the backup's 5 minutes.
    await at(10 * MIN);
    await slack.waitForCall('chat.postMessage', () => dmsTo('U2', 1).length === 2, 5000);
    expect(teamsTo(1)).toHaveLength(1);

    const show = textOf(await as(server.core, 'lead').run('/page show 1'));
    expect(show).toMatch(/Pass 1 of 3, step 1 of 2: notifying Ana Lee/);
    expect(show).toMatch(/Pass 1 of 3, step 2 of 2: notifying Bob Ray/);
    expect(show).toMatch(/Slack DM to Ana Lee/);
    expect(show).toMatch(/Teams chat to Bob Ray/);
  });

  test('acknowledging stops the escalation and updates every copy in place', async () => {
    const ack = msg(await as(server.core, 'bob', 'console').run('/page ack 1'));
    expect(ack.ok).toBe(true);
    expect(ack.title).toBe('Page #1 acknowledged');
    await settle();
    // Ana's two copies (Slack) and Bob's (Teams) now say who acknowledged.
    // (A copy sent while the acknowledgement was being saved is updated by a second pass: count copies, not calls.)
    const ackedCopies = (): number => new Set(slack.callsTo('chat.update').filter((c) => JSON.stringify(c.args).includes('Acknowledged by Bob Ray')).map((c) => `${String(c.args.channel)}:${String(c.args.ts)}`)).size;
    await slack.waitForCall('chat.update', () => ackedCopies() === 2, 5000);
    await connector.waitFor((c) => c.method === 'PUT' && JSON.stringify(c.body).includes('Acknowledged by Bob Ray'), 1, 5000);
    const updated = slack.callsTo('chat.update')[0] as RecordedCall;
    expect(JSON.stringify(updated.args)).not.toContain('/page ack 1');
    expect(JSON.stringify(updated.args)).toContain('/page resolve 1');
    const sends = (): number => slack.callsTo('chat.postMessage').length + connector.messages().filter((c) => c.method !== 'PUT').length;
    const before = sends();
    await at(30 * MIN);
    expect(sends()).toBe(before);
    const jobs = await server.core.store.db.job.findMany({ where: { idempotencyKey: { startsWith: 'page:' }, status: 'pending' } });
    expect(jobs).toHaveLength(0);
  });

  test('bad input: a clear message, state unchanged, nobody paged', async () => {
    const lead = as(server.core, 'lead');
    const sent = slack.callsTo('chat.postMessage').length;
    const unknown = msg(await lead.run('/page nobody-here Fire in the chancery'));
    expect(unknown.error?.code).toBe('UNKNOWN_TARGET');
    expect(msg(await lead.run('/page @ghost Fire')).error?.code).toBe('UNKNOWN_TARGET');
    // Whom but not what: the form opens, with the target filled in.
    const form = await lead.run('/page @alee');
    expect(form.kind === 'form' && form.form.values?.target).toBe('@alee');
    expect(msg(await lead.run('/page roster: Consular')).error?.code).toBe('EMPTY_MESSAGE');
    expect(msg(await lead.run('/page @alee Fire severity=urgent')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await lead.run('/page ack 1')).error?.code).toBe('ALREADY_ACKNOWLEDGED');
    expect(msg(await lead.run('/page ack 999')).error?.code).toBe('UNKNOWN_PAGE');
    expect(msg(await lead.run('/page ack abc')).error?.code).toBe('INVALID_INPUT');
    await settle();
    expect(slack.callsTo('chat.postMessage').length).toBe(sent);
    expect(await server.core.store.db.page.count()).toBe(1);
  });

  test('resolving stops the escalation; resolving again or acknowledging a resolved page is refused', async () => {
    await at(40 * MIN);
    expect(msg(await as(server.core, 'lead').run('/page @alee Hospital needs a consul severity=normal')).title).toBe('Page #2 raised');
    await settle();
    await slack.waitForCall('chat.postMessage', () => dmsTo('U2', 2).length === 1, 5000);
    const res = msg(await as(server.core, 'alee').run('/page resolve 2 consul on the way'));
    expect(res.title).toBe('Page #2 resolved');
    expect(msg(await as(server.core, 'alee').run('/page resolve 2')).error?.code).toBe('ALREADY_RESOLVED');
    expect(msg(await as(server.core, 'alee').run('/page ack 2')).error?.code).toBe('ALREADY_RESOLVED');
    await at(60 * MIN);
    expect(dmsTo('U2', 2)).toHaveLength(1);
    // The raiser hears back in their DM.
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes('Resolved by Ana Lee: consul on the way'), 5000);
  });

  test('a double click: two acknowledgements at once, one wins, the other is told', async () => {
    await at(70 * MIN);
    msg(await as(server.core, 'lead').run('/page @alee Detainee asks for consul'));
    const [a, b] = await Promise.all([as(server.core, 'alee').run('/page ack 3'), as(server.core, 'alee').run('/page ack 3')]);
    const codes = [msg(a), msg(b)].map((r) => (r.ok ? 'ok' : r.error?.code)).sort();
    expect(codes).toEqual(['ALREADY_ACKNOWLEDGED', 'ok']);
    const events = await server.core.store.db.pageEvent.count({ where: { page: { number: 3 }, type: 'acknowledged' } });
    expect(events).toBe(1);
  });

  test('a dedup key merges a second trigger into the open page: nobody is paged again', async () => {
    await at(80 * MIN);
    const one = msg(await as(server.core, 'lead').run('/page @alee Flood at the embassy dedup=flood-1'));
    await settle();
    const two = msg(await as(server.core, 'lead').run('/page @alee Flood at the embassy, water rising dedup=flood-1'));
    expect(one.title).toBe('Page #4 raised');
    expect(two.title).toBe('Added to open page #4');
    await settle();
    await slack.waitForCall('chat.postMessage', () => dmsTo('U2', 4).length === 1, 5000);
    expect(dmsTo('U2', 5)).toHaveLength(0);
    const page = await server.core.store.pages.pageByNumber(4);
    expect(page?.triggerCount).toBe(2);
    // Once resolved, the key opens a new page.
    msg(await as(server.core, 'alee').run('/page resolve 4'));
    expect(msg(await as(server.core, 'lead').run('/page @alee Flood again dedup=flood-1')).title).toBe('Page #5 raised');
  });

  test('a page raised in a channel posts there and threads its timeline under it', async () => {
    await at(90 * MIN);
    const r = await server.core.dispatcher.dispatch({
      kind: 'command',
      text: '/page @alee Bomb threat at the consulate severity=critical',
      caller: { platform: 'slack', externalId: 'T1:U3' },
      origin: { channelId: 'C55', workspaceId: 'T1' },
      requestId: 'r-channel',
    });
    expect(msg(r).ok).toBe(true);
    await settle();
    const root = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C55' && !c.args.thread_ts, 5000);
    expect(JSON.stringify(root.args)).toContain('Bomb threat');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C55' && JSON.stringify(c.args).includes('Slack DM to Ana Lee'), 5000);
    msg(await as(server.core, 'alee').run('/page ack 6'));
    await settle();
    const acked = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C55' && JSON.stringify(c.args).includes('Acknowledged by Ana Lee'), 5000);
    const ts = (root.answer as { ts?: string } | undefined)?.ts;
    expect(ts).toBeDefined();
    expect(acked.args.thread_ts).toBe(ts);
    // The channel's copy is updated in place as well.
    await slack.waitForCall('chat.update', (c) => c.args.channel === 'C55' && JSON.stringify(c.args).includes('Acknowledged by Ana Lee'), 5000);
  });
});
