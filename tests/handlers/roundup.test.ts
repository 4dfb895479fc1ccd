// The daily roundup: the configuration command and its refusals; the job at the configured
// mission-time hour posting one roundup (who is on duty, the last 24 hours of cases with P1 and P2
// by reference, open pages, active crises, a text table and the chart) to the leadership channel
// over the Slack fake, with no citizen's name anywhere; at most one a day across reruns, restarts
// and time changes; the next day planned, across daylight-saving changes; a changed time making
// the old job stale. Then the message builder alone, on figures made up here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Core } from '../../src/core';
import type { Destination } from '../../src/domain/destination';
import type { MessageReply } from '../../src/domain/reply';
import { ROUNDUP_SETTING, type RoundupData } from '../../src/domain/roundup';
import { registerRoundupJob } from '../../src/handlers/duty/roundup.job';
import { roundupChartSpec, roundupMessage, roundupTable } from '../../src/handlers/duty/roundup.view';
import type { DeliveryResult } from '../../src/notify/types';
import { startServer, type RunningServer } from '../../src/server';
import { as, coreOn, manualClock, msg, testConfig, textOf } from '../helpers/core';
import { describeEachDb, tempDir, type TestDb } from '../helpers/db';
import { startSlackFake, type RecordedCall, type SlackFake } from '../helpers/slack-fake';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Names and words of the seeded cases and people that must never reach the leadership channel. */
const PERSONAL = ['Zebulon', 'Quixotic', 'Xanthippe', 'Marvolo', 'Quentin', 'Tarrant', 'Olga', 'Oldcase', 'Yolanda', 'Persson', 'Wilhelmina', 'Strand', 'ZZ9988776', 'Held at the airport', 'Broken hip'];

async function waitUntil(ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

function refIn(r: MessageReply): string {
  const m = /C-\d{4}-\d{5}/.exec(r.title ?? '');
  if (!m) throw new Error(`no case reference in ${JSON.stringify(r)}`);
  return m[0];
}

describe('daily roundup [server, sqlite]', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-20T12:00:00Z'); // Fri 20 Nov 17:45 NPT
  let refs: { old: string; p1: string; p2: string; p3: string };

  const config = () =>
    testConfig({
      DATABASE_URL: `file:${path.join(dir, 'r.db')}`,
      PORT: '0',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: slack.apiUrl,
      BOOTSTRAP_ADMINS: 'console:root',
      MISSION_TIMEZONE: 'Asia/Kathmandu',
    });
  const start = () => startServer(config(), { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now });
  const root = () => as(server.core, 'root');
  const lead = () => as(server.core, 'T1:U4', 'slack');
  /** The admin, typing in a Slack channel. */
  const adminIn = (channelId: string, text: string, requestId: string = crypto.randomUUID()) =>
    server.core.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'slack', externalId: 'T1:U9' }, origin: { channelId, workspaceId: 'T1' }, requestId });

  async function at(iso: string): Promise<void> {
    clock.set(iso);
    for (let i = 0; i < 6; i++) await server.core.scheduler.runDue();
  }
  const posts = (): RecordedCall[] => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'CLEAD');
  /** A job's row once it has finished: the server's own loop may be running it. */
  async function finished(key: string) {
    const row = () => server.core.store.db.job.findUnique({ where: { idempotencyKey: key } });
    await waitUntil(async () => ['done', 'failed'].includes((await row())?.status ?? ''));
    return row();
  }
  const roundupJobs = () => server.core.store.db.job.findMany({ where: { kind: 'roundup' }, orderBy: { dueAt: 'asc' } });

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    server = await start();
    const r = root();
    expect(msg(await r.run('/duty member add handle=alee name="Ana Lee" slack=T1:U2 roles=officer')).ok).toBe(true);
    expect(msg(await r.run('/duty member add handle=bob name="Bob Ray" slack=T1:U3 roles=officer')).ok).toBe(true);
    expect(msg(await r.run('/duty member add handle=lead name="Lea Head" slack=T1:U4 roles=leader')).ok).toBe(true);
    expect(msg(await r.run('/duty member add handle=adm name="Ada Min" slack=T1:U9 roles=admin')).ok).toBe(true);
    // Daily shifts from 08:00 NPT: Ana from Fri 20, Bob from Sat 21, Ana again from Sun 22.
    expect(msg(await r.run('/duty roster new name="Consular" members="@alee @bob" shift=1d handoff=08:00 tz=Asia/Kathmandu start=2026-11-20 backup=none')).ok).toBe(true);
    // Opened on Friday, more than 24 hours before Sunday's roundup: resolved on Saturday.
    const old = refIn(msg(await r.run('/case new category=hospital priority=P2 name="Olga Oldcase" reporter=hospital summary="Broken hip" city=Pokhara')));
    expect(msg(await r.run(`/case ack ${old}`)).ok).toBe(true);
    refs = { old, p1: '', p2: '', p3: '' };
  });

  afterAll(async () => {
    await server.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('configuration: bad input is refused with a reason and nothing is saved; admins only', async () => {
    await at('2026-11-21T04:00:00Z'); // Sat 21 Nov 09:45 NPT
    expect(textOf(await root().run('/duty roundup'))).toContain('No daily roundup is set up');
    const refusals: [string, string, string][] = [
      ['/duty roundup set at=25:00 channel=slack:CLEAD', 'INVALID_INPUT', 'not a time of day'],
      ['/duty roundup set at=7am channel=slack:CLEAD', 'INVALID_INPUT', 'HH:MM'],
      ['/duty roundup set at=07:00 channel=#leadership', 'INVALID_INPUT', 'is not a channel the bot can post to'],
      ['/duty roundup set at=07:00 channel=leadership', 'INVALID_INPUT', 'is not a channel'],
      ['/duty roundup set at=07:00 channel=slack:D0123', 'INVALID_INPUT', 'direct conversation'],
      ['/duty roundup set at=07:00 channel=here', 'NOT_A_CHANNEL', 'not in a direct message or the console'],
      ['/duty roundup set at=07:00', 'INVALID_INPUT', 'channel= is required'],
      ['/duty roundup set channel=slack:CLEAD', 'INVALID_INPUT', 'at= is required'],
      ['/duty roundup set', 'INVALID_INPUT', 'Say what to set'],
      ['/duty roundup now', 'NOT_CONFIGURED', 'No roundup channel'],
    ];
    for (const [text, code, says] of refusals) {
      const r = msg(await root().run(text));
      expect({ text, code: r.error?.code }).toEqual({ text, code });
      expect(r.error?.message).toContain(says);
    }
    // A channel the bot is not in, or that does not exist, where the platforms can be asked.
    if ((server.core as { ports?: { channels?: unknown } }).ports?.channels) {
      slack.on('conversations.info', (a) =>
        a.channel === 'CGONE' ? { ok: false, error: 'channel_not_found' } : { channel: { id: a.channel, name: 'secret', is_channel: true, is_archived: false, is_member: false } },
      );
      const gone = msg(await root().run('/duty roundup set at=07:00 channel=slack:CGONE'));
      expect(gone.error?.code).toBe('CANNOT_POST');
      expect(gone.error?.message).toContain('Nothing was saved');
      const notIn = msg(await root().run('/duty roundup set at=07:00 channel=<#CSECRET|secret>'));
      expect(notIn.error?.code).toBe('CANNOT_POST');
      expect(notIn.error?.message).toContain('not in');
      slack.off('conversations.info');
    }
    // "here" in a direct message is not a channel either.
    expect(msg(await adminIn('D0999', '/duty roundup set at=07:00 channel=here')).error?.code).toBe('NOT_A_CHANNEL');
    // Officers and leaders may not configure it; officers may not preview it.
    const alee = as(server.core, 'T1:U2', 'slack');
    expect(msg(await alee.run('/duty roundup set at=07:00 channel=slack:CLEAD')).error?.code).toBe('FORBIDDEN');
    expect(msg(await alee.run('/duty roundup preview')).error?.code).toBe('FORBIDDEN');
    expect(msg(await lead().run('/duty roundup')).error?.code).toBe('FORBIDDEN');
    expect(msg(await lead().run('/duty roundup now')).error?.code).toBe('FORBIDDEN');
    expect(await server.core.store.cases.setting(ROUNDUP_SETTING)).toBeUndefined();
    expect(await roundupJobs()).toHaveLength(0);

    // "here" in the leadership channel: the next one is Sunday 07:00 NPT.
    const set = msg(await adminIn('CLEAD', '/duty roundup set at=7:00 channel=here'));
    expect(set.ok).toBe(true);
    expect(set.text).toContain('slack:CLEAD');
    expect(set.text).toContain('Sun 22 Nov 07:00');
    expect(await server.core.store.cases.setting(ROUNDUP_SETTING)).toEqual({ at: '07:00', channel: 'slack:CLEAD', enabled: true });
    const show = msg(await root().run('/duty roundup'));
    expect(show.fields).toEqual(
      expect.arrayContaining([
        { label: 'Channel', value: 'slack:CLEAD' },
        { label: 'Status', value: 'on' },
        { label: 'Next', value: expect.stringContaining('Sun 22 Nov 07:00') as unknown as string },
      ]),
    );
    const jobs = await roundupJobs();
    expect(jobs.map((j) => [j.idempotencyKey, j.status, j.dueAt.toISOString()])).toEqual([['roundup:2026-11-22@07:00', 'pending', '2026-11-22T01:15:00.000Z']]);
    // The change is audited.
    expect(textOf(await root().run(`/duty audit setting ${ROUNDUP_SETTING}`))).toContain('set');
  });

  test('at 07:00 mission time one roundup goes to the channel: duty, cases, pages, crises, table and chart; no personal data', async () => {
    await at('2026-11-21T12:00:00Z'); // Sat 17:45 NPT
    const r = root();
    expect(msg(await r.run(`/case resolve ${refs.old} outcome="Olga Oldcase discharged"`)).ok).toBe(true);
    refs.p1 = refIn(msg(await r.run('/case new category=arrest priority=P1 name="Zebulon Quixotic" reporter=police summary="Held at the airport" passport=ZZ9988776 city=Kathmandu')));
    refs.p2 = refIn(msg(await r.run('/case new category=hospital priority=P2 name="Xanthippe Marvolo" reporter=hospital summary="Broken hip" city=Pokhara')));
    // Picked up at once: no page for it.
    expect(msg(await r.run(`/case ack ${refs.p2}`)).ok).toBe(true);
    refs.p3 = refIn(msg(await r.run('/case new category=document priority=P3 name="Quentin Tarrant" reporter=self summary="Lost passport" city=Kathmandu')));
    // A page whose message names a citizen: the roundup lists pages by number, never their text.
    expect(msg(await lead().run('/page @bob Call the family of Zebulon Quixotic severity=high')).ok).toBe(true);
    expect(msg(await r.run('/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal')).ok).toBe(true);
    expect(msg(await r.run('/person add name="Yolanda Persson" crisis=NPL-EQ')).ok).toBe(true);
    expect(msg(await r.run('/person add name="Wilhelmina Strand" crisis=NPL-EQ status=safe')).ok).toBe(true);
    // Nobody acknowledges the P1 in 15 minutes: it pages the duty officer (a second open page).
    await at('2026-11-21T12:16:00Z');
    expect(await server.core.store.pages.openByDedupKey(`case:${refs.p1}:ack`)).not.toBeNull();

    await at('2026-11-22T01:14:59Z');
    expect(posts()).toHaveLength(0);
    await at('2026-11-22T01:15:00Z'); // Sun 22 Nov 07:00 NPT
    const post = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'CLEAD', 5000);
    const body = JSON.stringify(post.args);
    expect(body).toContain('Daily roundup — Sun 22 Nov 2026 07:00 GMT+5:45');
    // On duty: Bob until 08:00 NPT, Ana from then, so tonight.
    expect(body).toContain('Consular: now @bob; tonight (22:00) @alee');
    // The last 24 hours: three opened (P1 and P2 by reference, the P3 counted), one resolved.
    expect(body).toContain('3 opened (P1 1 · P2 1 · P3 1), 1 resolved (P2 1)');
    expect(body).toContain(`${refs.p1} · P1 · Arrest or detention · New`);
    expect(body).toContain(refs.p2);
    expect(body).toContain(`${refs.old} · P2`);
    expect(body).not.toContain(refs.p3);
    expect(body).toContain('Open now: 3 (P1 1 · P2 1 · P3 1)');
    // Open pages, by number, target and case reference.
    expect(body).toContain('Open pages* (2)');
    expect(body).toMatch(/#1 high, triggered, to @bob, since Sat 21 Nov 17:45/);
    expect(body).toMatch(new RegExp(`#2 critical, triggered, to Duty officer \\(${refs.p1}\\)`));
    // The crisis, by its counts.
    expect(body).toContain('NPL-EQ Nepal earthquake: 2 people, 1 unaccounted');
    // The chart's figures as text, for screen readers: 14 days to today, and a total.
    expect(body).toMatch(/Day\s+Opened\s+Resolved/);
    expect(body).toMatch(/Mon 9 Nov\s+0\s+0/);
    expect(body).toMatch(/Fri 20 Nov\s+1\s+0/);
    // 12:00 UTC on Saturday is 17:45 NPT, Saturday too.
    expect(body).toMatch(/Sat 21 Nov\s+3\s+1/);
    expect(body).toMatch(/Sun 22 Nov\s+0\s+0/);
    expect(body).toMatch(/Total\s+4\s+1/);
    for (const word of PERSONAL) expect({ word, found: body.includes(word) }).toEqual({ word, found: false });
    // The chart goes up as a file when the notifier uploads attachments (another change): then it is a PNG.
    if (slack.callsTo('files.completeUploadExternal').length > 0) {
      await waitUntil(() => slack.uploads.length > 0);
      expect(slack.uploads[0]?.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      for (const word of PERSONAL) expect(slack.uploads[0]?.content.includes(word)).toBe(false);
    }
    expect((await finished('roundup:2026-11-22@07:00'))?.status).toBe('done');
  });

  test('the same day: a rerun, a restart and a second job for the date post nothing more; the next day is planned', async () => {
    await at('2026-11-22T01:16:00Z');
    await at('2026-11-22T01:20:00Z');
    expect(posts()).toHaveLength(1);
    const planned = (await roundupJobs()).filter((j) => j.status === 'pending');
    expect(planned.map((j) => [j.idempotencyKey, j.dueAt.toISOString()])).toEqual([['roundup:2026-11-23@07:00', '2026-11-23T01:15:00.000Z']]);

    // A restart plans what is already planned, and sends nothing.
    await server.close();
    server = await start();
    await at('2026-11-22T01:25:00Z');
    expect(posts()).toHaveLength(1);
    expect((await roundupJobs()).filter((j) => j.status === 'pending').map((j) => j.idempotencyKey)).toEqual(['roundup:2026-11-23@07:00']);

    // Another job for the same date (another time, say) finds the day claimed.
    await server.core.scheduler.enqueue({ kind: 'roundup', key: 'roundup:2026-11-22@07:30', dueAt: clock.now(), payload: { mode: 'daily', date: '2026-11-22', at: '07:00' } });
    await at('2026-11-22T01:26:00Z');
    const second = await finished('roundup:2026-11-22@07:30');
    expect(second?.status).toBe('done');
    expect(second?.result).toContain('has gone out already');
    expect(posts()).toHaveLength(1);
  });

  test('a changed time: the old job stands down, the day already sent is not sent again, the new time holds', async () => {
    await at('2026-11-22T02:00:00Z'); // Sun 07:45 NPT
    const set = msg(await root().run('/duty roundup set at=09:00'));
    expect(set.ok).toBe(true);
    // Today's has gone: the next one is tomorrow at the new time.
    expect(set.text).toContain('Mon 23 Nov 09:00');
    await at('2026-11-22T03:15:00Z'); // Sun 09:00 NPT
    expect(posts()).toHaveLength(1);
    // Monday 07:00: the job planned for 07:00 finds the time changed.
    await at('2026-11-23T01:15:00Z');
    const stale = await finished('roundup:2026-11-23@07:00');
    expect(stale?.status).toBe('done');
    expect(stale?.result).toContain('stale');
    expect(posts()).toHaveLength(1);
    // Monday 09:00: posted, at the new time.
    await at('2026-11-23T03:15:00Z');
    await waitUntil(() => posts().length === 2);
    expect(posts()).toHaveLength(2);
    expect(JSON.stringify(posts()[1]?.args)).toContain('Daily roundup — Mon 23 Nov 2026 09:00');
    expect((await roundupJobs()).filter((j) => j.status === 'pending').map((j) => j.idempotencyKey)).toEqual(['roundup:2026-11-24@09:00']);
  });

  test('/duty roundup now posts one at once, once per request; a failed post is retried, a refused one reported', async () => {
    await at('2026-11-23T05:00:00Z');
    const requestId = crypto.randomUUID();
    expect(msg(await adminIn('C1', '/duty roundup now', requestId)).text).toContain('Posting a roundup to slack:CLEAD');
    // The same request arriving twice (a platform retry): still one post.
    expect(msg(await adminIn('C1', '/duty roundup now', requestId)).ok).toBe(true);
    await at('2026-11-23T05:00:01Z');
    await waitUntil(() => posts().length === 3);
    await at('2026-11-23T05:00:30Z');
    expect(posts()).toHaveLength(3);

    // Rate-limited once: retried later, posted once.
    let refusals = 0;
    slack.on('chat.postMessage', (a) => (a.channel === 'CLEAD' && refusals++ === 0 ? { ok: false, error: 'ratelimited' } : { channel: String(a.channel), ts: `${Date.now() / 1000}` }));
    expect(msg(await adminIn('C1', '/duty roundup now')).ok).toBe(true);
    await at('2026-11-23T05:01:00Z');
    await waitUntil(() => posts().length === 4);
    await at('2026-11-23T05:10:00Z');
    await waitUntil(() => posts().length === 5);
    expect(posts()).toHaveLength(5);

    // The bot is not in the channel: failed, and the admin who asked is told in a DM.
    slack.on('chat.postMessage', (a) => (a.channel === 'CLEAD' ? { ok: false, error: 'not_in_channel' } : { channel: `D${String(a.channel)}`, ts: `${Date.now() / 1000}` }));
    expect(msg(await adminIn('C1', '/duty roundup now')).ok).toBe(true);
    await at('2026-11-23T05:11:00Z');
    await at('2026-11-23T05:11:01Z');
    const told = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U9' && JSON.stringify(c.args).includes('could not be posted'), 5000);
    expect(JSON.stringify(told.args)).toContain('not_in_channel');
    slack.off('chat.postMessage');
  });

  test('/duty roundup preview: only to the caller, with the chart as a PNG and the table beside it', async () => {
    const r = msg(await lead().run('/duty roundup preview'));
    expect(r.ok).toBe(true);
    expect(r.visibility).toBe('caller');
    expect(r.title).toContain('Daily roundup — Mon 23 Nov 2026 10:56');
    expect(textOf(r)).toMatch(/Day\s+Opened\s+Resolved/);
    const png = r.attachments?.[0];
    expect(png?.mimeType).toBe('image/png');
    expect(png?.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png?.altText).toContain('Chart of the table above');
    for (const word of PERSONAL) expect(textOf(r).includes(word)).toBe(false);
  });

  test('/duty roundup off: the planned job stands down', async () => {
    const off = msg(await root().run('/duty roundup off'));
    expect(off.text).toContain('No more roundups go to slack:CLEAD');
    expect(msg(await root().run('/duty roundup off')).text).toContain('already off');
    expect(msg(await root().run('/duty roundup')).fields).toEqual(expect.arrayContaining([{ label: 'Status', value: 'off' }]));
    const before = posts().length;
    await at('2026-11-24T03:15:00Z');
    const job = await finished('roundup:2026-11-24@09:00');
    expect(job?.status).toBe('done');
    expect(job?.result).toContain('off');
    expect(posts()).toHaveLength(before);
  });
});

describeEachDb('daily roundup across a daylight-saving change [core]', (fresh) => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2027-03-26T12:00:00Z'); // Fri 26 Mar 13:00 CET
  const sent: { to: Destination; reply: MessageReply }[] = [];
  const refs: string[] = [];
  const chat = {
    async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
      sent.push({ to, reply });
      return { ok: true };
    },
  };

  async function at(iso: string): Promise<void> {
    clock.set(iso);
    for (let i = 0; i < 3; i++) await core.scheduler.runDue();
  }
  const pending = async () => (await core.store.db.job.findMany({ where: { kind: 'roundup', status: 'pending' }, orderBy: { dueAt: 'asc' } })).map((j) => [j.idempotencyKey, j.dueAt.toISOString()]);

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Paris' }, clock.now);
    registerRoundupJob(core.scheduler, { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), missionTimeZone: 'Europe/Paris', chat });
    const root = as(core, 'root');
    expect(msg(await root.run('/duty roundup set at=07:00 channel=slack:CLEAD')).ok).toBe(true);
    // A little of everything, so that every query of the roundup runs on this database.
    const p1 = refIn(msg(await root.run('/case new category=arrest priority=P1 name="Zebulon Quixotic" reporter=police summary="Held at the airport" city=Lyon')));
    const p4 = refIn(msg(await root.run('/case new category=document priority=P4 name="Quentin Tarrant" reporter=self summary="Lost passport" city=Lyon')));
    expect(msg(await root.run(`/case resolve ${p4} outcome="Emergency passport issued"`)).ok).toBe(true);
    expect(msg(await root.run('/crisis open name="Rhone floods" code=FR-FL region=Lyon')).ok).toBe(true);
    expect(msg(await root.run('/person add name="Yolanda Persson" crisis=FR-FL status=injured')).ok).toBe(true);
    expect(msg(await root.run('/page @root Check the river gauges at Zebulon Quixotic house severity=normal')).ok).toBe(true);
    refs.push(p1, p4);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('07:00 stays 07:00 local: 06:00 UTC on Saturday, 05:00 UTC on Sunday after the clocks go forward', async () => {
    expect(await pending()).toEqual([['roundup:2027-03-27@07:00', '2027-03-27T06:00:00.000Z']]);
    await at('2027-03-27T06:00:00Z');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to).toEqual({ kind: 'channel', channel: 'slack:CLEAD' });
    expect(sent[0]?.reply.title).toBe('Daily roundup — Sat 27 Mar 2027 07:00 CET');
    expect(sent[0]?.reply.visibility).toBe('channel');
    expect(sent[0]?.reply.attachments?.[0]?.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const first = textOf(sent[0]?.reply as MessageReply);
    expect(first).toContain(`2 opened (P1 1 · P4 1), 1 resolved (P4 1)`);
    expect(first).toContain(`${refs[0]} · P1 · Arrest or detention · New`);
    expect(first).toContain('Open now: 1 (P1 1)');
    expect(first).toMatch(/\*Open pages\* \(1\)\n#1 normal, triggered, to @root, since Fri 26 Mar 13:00 CET/);
    expect(first).toContain('FR-FL Rhone floods: 1 person, 0 unaccounted');
    expect(first).toMatch(/Fri 26 Mar\s+2\s+1/);
    for (const word of PERSONAL) expect(first.includes(word)).toBe(false);
    expect(await pending()).toEqual([['roundup:2027-03-28@07:00', '2027-03-28T05:00:00.000Z']]);
    await at('2027-03-28T04:59:59Z');
    expect(sent).toHaveLength(1);
    await at('2027-03-28T05:00:00Z');
    expect(sent).toHaveLength(2);
    expect(sent[1]?.reply.title).toBe('Daily roundup — Sun 28 Mar 2027 07:00 CEST');
    expect(await pending()).toEqual([['roundup:2027-03-29@07:00', '2027-03-29T05:00:00.000Z']]);
  });

  test('a roundup many hours late (the server was down) is skipped, and the next one planned', async () => {
    await at('2027-03-29T12:00:00Z'); // seven hours after 07:00 CEST
    expect(sent).toHaveLength(2);
    const late = await core.store.db.job.findUnique({ where: { idempotencyKey: 'roundup:2027-03-29@07:00' } });
    expect(late?.result).toContain('too late');
    expect(await pending()).toEqual([['roundup:2027-03-30@07:00', '2027-03-30T05:00:00.000Z']]);
  });
});

describe('the roundup message (pure)', () => {
  const now = Date.parse('2026-11-22T01:15:00Z');
  const perDay = Array.from({ length: 14 }, (_, i) => ({ date: `2026-11-${String(9 + i).padStart(2, '0')}`, opened: i % 3, resolved: i % 2 }));
  const data = (over: Partial<RoundupData> = {}): RoundupData => ({
    now,
    timeZone: 'Asia/Kathmandu',
    duty: [{ roster: 'Consular', now: { at: now, covered: true, empty: false, primary: '@bob', backup: '@alee' }, tonight: { at: now + 15 * 3_600_000, covered: true, empty: false, primary: '@bob', backup: '@alee' } }],
    cases: {
      opened: Array.from({ length: 20 }, (_, i) => ({ ref: `C-2026-${String(i + 1).padStart(5, '0')}`, category: 'arrest', priority: 'P1', status: 'new' })),
      resolved: [],
      perDay,
    },
    openNow: { P1: 20, P2: 0, P3: 0, P4: 0 },
    pages: [],
    pagesTotal: 0,
    crises: [],
    ...over,
  });

  test('sections as rows, long lists cut with a count, the same figures in the table and the chart', () => {
    const m = roundupMessage(data());
    expect(m.title).toBe('Daily roundup — Sun 22 Nov 2026 07:00 GMT+5:45');
    expect(m.visibility).toBe('channel');
    expect(m.fallback).toContain('20 cases opened');
    const all = textOf(m);
    expect(all).toContain('Consular: now @bob (backup @alee); tonight (22:00) the same');
    expect(all).toContain('C-2026-00015 · P1');
    expect(all).not.toContain('C-2026-00016');
    expect(all).toContain('…and 5 more');
    expect(all).toContain('*Open pages* (0)\nnone');
    expect(all).toContain('*Active crises* (0)\nnone');
    const table = roundupTable(data());
    expect(table.split('\n')).toHaveLength(14 + 3);
    const chart = roundupChartSpec(data());
    expect(chart.categories).toHaveLength(14);
    expect(chart.categories[0]).toBe('9 Nov');
    expect(chart.series.map((s) => s.values.reduce((a, n) => a + n, 0))).toEqual([perDay.reduce((a, x) => a + x.opened, 0), perDay.reduce((a, x) => a + x.resolved, 0)]);
  });

  test('nobody on duty, outside coverage, and an empty roster say so', () => {
    const slot = { at: now, covered: true, empty: false, primary: null, backup: null };
    const m = roundupMessage(
      data({
        duty: [
          { roster: 'A', now: { ...slot, covered: false }, tonight: null },
          { roster: 'B', now: { ...slot, empty: true }, tonight: null },
        ],
      }),
    );
    expect(textOf(m)).toContain('A: now nobody (outside the coverage hours)\nB: now nobody (the roster has no members)');
  });
});
