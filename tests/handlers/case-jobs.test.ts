// Cases through the real server and scheduler with a controlled clock and Slack's fake Web API: the
// channel card and its updates in place, the page a missed acknowledgement raises (and resolves),
// update reminders, the handoff brief, and the report and export (SQLite, and PostgreSQL when set).
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { PNG } from 'pngjs';
import Papa from 'papaparse';
import type { Core } from '../../src/core';
import type { MessageReply } from '../../src/domain/reply';
import { buildBrief } from '../../src/handlers/roster/brief';
import { startServer, type RunningServer } from '../../src/server';
import { as, coreOn, manualClock, msg, testConfig, textOf } from '../helpers/core';
import { freshPostgres, freshSqlite, pgAdminUrl, tempDir, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';

const MIN = 60_000;
const T0 = Date.parse('2026-11-23T09:00:00Z'); // Monday 10:00 in Paris

async function waitUntil(ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

function refIn(r: MessageReply): string {
  const m = /C-\d{4}-\d{5}/.exec(r.title ?? '');
  if (!m) throw new Error(`no case reference in ${JSON.stringify(r)}`);
  return m[0];
}

describe('case jobs [server, sqlite]', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock(new Date(T0).toISOString());
  const alee = () => as(server.core, 'alee');

  async function at(ms: number): Promise<void> {
    clock.set(new Date(T0 + ms).toISOString());
    for (let i = 0; i < 6; i++) await server.core.scheduler.runDue();
  }
  const updates = () => slack.callsTo('chat.update');

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    server = await startServer(
      testConfig({
        DATABASE_URL: `file:${path.join(dir, 'c.db')}`,
        PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_API_URL: slack.apiUrl,
        BOOTSTRAP_ADMINS: 'console:root',
        MISSION_TIMEZONE: 'Europe/Paris',
      }),
      { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now },
    );
    const root = as(server.core, 'root');
    expect(msg(await root.run('/duty member add handle=alee name="Ana Lee" slack=T1:U2 tz=Europe/Paris roles=officer')).ok).toBe(true);
    expect(msg(await root.run('/duty member add handle=bob name="Bob Ray" slack=T1:U3 tz=Europe/Paris roles=officer')).ok).toBe(true);
    // Ana is on duty; the roster's channel is where case cards go unless /case channel says otherwise.
    expect(msg(await root.run('/duty roster new name="Consular" members="@alee @bob" shift=1d handoff=08:00 tz=Europe/Paris start=2026-11-23 channel=slack:C42')).ok).toBe(true);
    await at(0);
    slack.reset();
  });

  afterAll(async () => {
    await server.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a new case posts an anonymous card to the duty channel, updated in place as the case changes', async () => {
    await at(0);
    const r = msg(await alee().run('/case new category=arrest priority=P2 name="Jean Martin" reporter=police summary="Held at the airport" passport=ZZ9988776 city=Nice'));
    expect(r.ok).toBe(true);
    const ref = refIn(r);
    await at(0);
    // The server's own loop may hold the job: wait for the post rather than for our runDue.
    const card = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C42' && JSON.stringify(c.args).includes(ref), 5000);
    expect(card).toBeDefined();
    const body = JSON.stringify(card?.args);
    expect(body).toContain('J. M.');
    expect(body).toContain('Nice');
    expect(body).not.toContain('Jean Martin');
    expect(body).not.toContain('ZZ9988776');
    // Buttons carry the version the card shows.
    expect(body).toContain(`/case ack ${ref} version=1`);

    expect(msg(await as(server.core, 'bob').run(`/case ack ${ref} version=1`)).ok).toBe(true);
    await at(1000);
    await slack.waitForCall('chat.update', (c) => JSON.stringify(c.args).includes('Acknowledged by Bob Ray'), 5000);
    const up = updates().filter((c) => JSON.stringify(c.args).includes(ref));
    expect(up.length).toBeGreaterThanOrEqual(1);
    const last = JSON.stringify(up[up.length - 1]?.args);
    expect(last).toContain('Acknowledged by Bob Ray');
    expect(last).toContain(`/case assign ${ref} me version=2`);
    // The same message, in place.
    const copy = JSON.parse((await server.core.store.cases.byRef(ref))?.card ?? 'null') as { messageId: string } | null;
    expect(up[up.length - 1]?.args.ts).toBe(copy?.messageId);
    // A stale button (version 1) is refused and changes nothing.
    const stale = msg(await alee().run(`/case assign ${ref} me version=1`));
    expect(stale.error?.code).toBe('CASE_CHANGED');
    expect((await server.core.store.cases.byRef(ref))?.assigneeId).toBeNull();
  });

  test('a P1 case nobody acknowledges within 15 minutes pages the duty officer; acknowledging the case resolves the page', async () => {
    await at(10 * MIN);
    const ref = refIn(msg(await as(server.core, 'bob').run('/case new category=death priority=P1 name="Marie Curie" reporter=hospital summary="Died in hospital" city=Lyon')));
    await at(10 * MIN + 14 * MIN);
    expect(await server.core.store.pages.openByDedupKey(`case:${ref}:ack`)).toBeNull();
    await at(10 * MIN + 15 * MIN);
    const page = await server.core.store.pages.openByDedupKey(`case:${ref}:ack`);
    expect(page).not.toBeNull();
    expect(page?.source).toBe('case');
    expect(page?.severity).toBe('critical');
    expect(page?.title).toContain(ref);
    expect(page?.title).not.toContain('Curie');
    // Ana is on primary duty: her DM has the page.
    await at(10 * MIN + 15 * MIN + 1000);
    const dm = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U2' && JSON.stringify(c.args).includes(`page #${page?.number}:`), 5000);
    expect(dm).toBeDefined();
    expect(JSON.stringify(dm?.args)).not.toContain('Curie');
    const c = await server.core.store.cases.byRef(ref);
    const events = await server.core.store.cases.events(c?.id as string);
    expect(events.some((e) => e.type === 'sla' && e.toValue === 'ack-breached')).toBe(true);

    expect(msg(await alee().run(`/case ack ${ref}`)).ok).toBe(true);
    const after = await server.core.store.pages.page(page?.id as string);
    expect(after?.status).toBe('resolved');
    expect(after?.resolutionNote).toContain(ref);
  });

  test('a P1 case closed without being acknowledged: its page is resolved too', async () => {
    const start = 30 * MIN;
    await at(start);
    const ref = refIn(msg(await as(server.core, 'bob').run('/case new category=missing priority=P1 name="Lost Child" reporter=relative summary="Not seen since noon" city=Lyon')));
    await at(start + 16 * MIN);
    const page = await server.core.store.pages.openByDedupKey(`case:${ref}:ack`);
    expect(page?.status).toBe('triggered');
    expect(msg(await alee().run(`/case close ${ref} outcome="Found at a friend's house"`)).ok).toBe(true);
    expect((await server.core.store.pages.page(page?.id as string))?.status).toBe('resolved');
  });

  test('"me" is a member like any other: without a case role, not assignable', async () => {
    expect(msg(await as(server.core, 'root').run('/duty member add handle=adm name="Ada Min" roles=admin')).ok).toBe(true);
    const ref = refIn(msg(await alee().run('/case new category=document priority=P4 name="Pat Passport" reporter=self summary="Lost passport"')));
    const r = msg(await as(server.core, 'adm').run(`/case assign ${ref} me`));
    expect(r.error?.code).toBe('INVALID_ASSIGNEE');
    expect((await server.core.store.cases.byRef(ref))?.assigneeId).toBeNull();
  });

  test('an open case due an update reminds its assignee, and a note moves the next reminder', async () => {
    const start = 60 * MIN;
    await at(start);
    const ref = refIn(msg(await alee().run('/case new category=hospital priority=P1 name="Tom Example" reporter=relative summary="In intensive care" assignee=@bob')));
    expect(msg(await as(server.core, 'bob').run(`/case ack ${ref}`)).ok).toBe(true);
    // A note at +1 h: the update owed moves to +3 h.
    await at(start + 60 * MIN);
    expect(msg(await as(server.core, 'bob').run(`/case note ${ref} Spoke to the doctor`)).ok).toBe(true);
    slack.reset();
    await at(start + 2 * 60 * MIN + 1000);
    const early = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`));
    expect(early).toHaveLength(0);
    await at(start + 3 * 60 * MIN + 1000);
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`), 5000);
    const due = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`));
    expect(due).toHaveLength(1);
    // Still owed two hours later: reminded again.
    await at(start + 5 * 60 * MIN + 1000);
    await waitUntil(() => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`)).length >= 2);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`))).toHaveLength(2);
    // Resolved: no more reminders.
    expect(msg(await as(server.core, 'bob').run(`/case resolve ${ref} outcome="Discharged"`)).ok).toBe(true);
    await at(start + 7 * 60 * MIN + 1000);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U3' && JSON.stringify(c.args).includes(`Update due: ${ref}`))).toHaveLength(2);
  });

  test('open cases are in the handoff brief, without names', async () => {
    const roster = await server.core.store.rosters.byName('Consular');
    if (!roster) throw new Error('no roster');
    const now = clock.now().getTime();
    const brief = await buildBrief({ store: server.core.store, roster, outgoing: { start: now - 86_400_000, end: now }, now, timeZone: 'Europe/Paris' });
    const section = brief.find((s) => s.title === 'Open cases');
    expect(section?.lines.some((l) => l.includes('Arrest or detention') && l.includes('J. M.'))).toBe(true);
    expect(JSON.stringify(section)).not.toContain('Jean Martin');
    // The resolved one is not on the desk any more.
    expect(JSON.stringify(section)).not.toContain('T. E.');
  });

  test('the App Home shows who is on duty and the viewer\'s open cases', async () => {
    const home = msg(await as(server.core, 'bob').run('/duty home'));
    const text = textOf(home);
    expect(text).toContain('On duty now');
    expect(text).toContain('Consular');
    expect(text).toContain('Your open cases');
    expect(home.buttons?.some((b) => b.command === '/case new')).toBe(true);
  });
});

async function reportOn(db: TestDb): Promise<void> {
  const clock = manualClock(new Date(T0).toISOString());
  const core: Core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Paris' }, clock.now);
  try {
    expect(msg(await as(core, 'root').run('/duty member add handle=alee name="Ana Lee" roles=officer')).ok).toBe(true);
    const a = as(core, 'alee');
    const refs: string[] = [];
    // Three cases: acknowledged after 10 and 30 minutes, and one never.
    for (const [i, p] of (['P1', 'P2', 'P3'] as const).entries()) {
      clock.set(new Date(T0 + i * 60 * MIN).toISOString());
      refs.push(refIn(msg(await a.run(`/case new category=${i === 2 ? 'document' : 'arrest'} priority=${p} name="Secret Person${i}" reporter=self summary="s" city=Nice`))));
    }
    clock.set(new Date(T0 + 10 * MIN).toISOString());
    expect(msg(await a.run(`/case ack ${refs[0]}`)).ok).toBe(true); // P1 within 15 min
    clock.set(new Date(T0 + 60 * MIN + 30 * MIN).toISOString());
    expect(msg(await a.run(`/case resolve ${refs[1]} outcome="Released"`)).ok).toBe(true); // P2 acknowledged and resolved after 30 min
    clock.set(new Date(T0 + 10 * 60 * MIN).toISOString()); // the P3 (4 h) is now late, unacknowledged

    const r = msg(await a.run('/case report 2026-11-01 2026-11-30'));
    expect(r.ok).toBe(true);
    const text = textOf(r);
    expect(text).toContain('3 cases opened');
    expect(text).toContain('Time to acknowledge: median 20m');
    expect(text).toContain('Time to resolve: median 30m');
    expect(text).toContain('Service-level breaches: 1 (0 acknowledged late, 1 not acknowledged in time): P3 1');
    expect(text).toMatch(/Arrest or detention\s+1\s+1\s+0\s+0\s+2/);
    const [png, csv] = r.attachments ?? [];
    expect(png?.mimeType).toBe('image/png');
    const image = PNG.sync.read(png?.content as Buffer);
    expect(image.width).toBe(800);
    const figures = Papa.parse<string[]>((csv?.content as Buffer).toString('utf8').replace(/^\uFEFF/, '')).data;
    expect(figures).toContainEqual(['Cases opened', 'Total', '3']);
    expect(figures).toContainEqual(['By category and priority', 'Arrest or detention / P2', '1']);
    expect(figures).toContainEqual(['Time to acknowledge (minutes)', 'Median', '20']);
    expect(figures).toContainEqual(['Service-level breaches', 'P3', '1']);

    const e = msg(await a.run('/case export 2026-11-01 2026-11-30'));
    const rows = Papa.parse<string[]>((e.attachments?.[0]?.content as Buffer).toString('utf8').replace(/^\uFEFF/, '')).data.filter((x) => x.length > 1);
    expect(rows[0]?.[0]).toBe('Reference');
    expect(rows.slice(1).map((x) => x[0])).toEqual(refs);
    expect(rows[1]?.[7]).toBe('2026-11-23T09:10:00.000Z'); // the same on both databases
    expect(rows.slice(1).map((x) => x[11])).toEqual(['no', 'no', 'yes']);
    expect(JSON.stringify(rows)).not.toContain('Secret');

    // Bad periods: a clear message.
    expect(msg(await a.run('/case report 2026-12-01 2026-11-01')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await a.run('/case report someday')).error?.fields).toHaveProperty('from');
    expect(textOf(await a.run('/case report 2020-01-01 2020-01-31'))).toContain('No cases were opened');
  } finally {
    await core.close();
  }
}

describe('case report and export', () => {
  test('[sqlite] counts, times, breaches, chart, figures CSV, and every case as CSV', async () => {
    const db = await freshSqlite();
    try {
      await reportOn(db);
    } finally {
      await db.drop();
    }
  });

  (pgAdminUrl ? test : test.skip)('[postgresql] the same figures from the same cases', async () => {
    const db = await freshPostgres();
    try {
      await reportOn(db);
    } finally {
      await db.drop();
    }
  });
});
