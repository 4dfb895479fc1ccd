import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
import nodeIcal from 'node-ical';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ical.js's CommonJS build; its types describe the ES module
const ICAL = require('ical.js') as typeof ICALModule;
import type { Core } from '../../src/core';
import { renderFeed } from '../../src/handlers/roster/calendar';
import { swapJobs } from '../../src/handlers/roster/swap.commands';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';


async function jobs(core: Core, kind?: string) {
  const rows = await core.store.db.job.findMany({ where: kind ? { kind } : {}, orderBy: { dueAt: 'asc' } });
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

describeEachDb('rosters', (fresh) => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-11-22T16:00:00Z'); // a Sunday
  const root = () => as(core, 'root');
  const alee = () => as(core, 'alee');
  const bob = () => as(core, 'bob');

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, {}, clock.now);
    for (const [h, n, tz] of [['alee', 'Ana Lee', 'Europe/Paris'], ['bob', 'Bob Ray', 'Europe/Paris'], ['cy', 'Cy Diaz', 'America/New_York'], ['dee', 'Dee Okafor', 'UTC']]) {
      expect(msg(await root().run(`/duty member add handle=${h} name="${n}" tz=${tz} roles=officer`)).ok).toBe(true);
    }
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('bad roster input is refused with the field named, and nothing is created', async () => {
    const cases: [string, string][] = [
      ['/duty roster new name=X1 members="@alee @ghost" shift=1w handoff=08:00', 'members'],
      ['/duty roster new name=X2 members="@alee" shift=1w handoff=08:00 tz=Mars/Base', 'tz'],
      ['/duty roster new name=X3 members="@alee" shift=fortnightly handoff=08:00', 'shift'],
      ['/duty roster new name=X4 members="@alee" shift=1w handoff=25:00', 'handoff'],
      ['/duty roster new name=X5 members="@alee" shift=1w handoff=08:00 coverage="weekdays teatime"', 'coverage'],
      ['/duty roster new name=X6 members="@alee" shift=1w handoff=08:00 start=31/02/2026', 'start'],
    ];
    for (const [text, field] of cases) {
      const r = msg(await root().run(text));
      expect(r.ok).toBe(false);
      expect(Object.keys(r.error?.fields ?? {})).toContain(field);
    }
    expect(await core.store.rosters.list()).toEqual([]);
    expect(await jobs(core)).toEqual([]);
  });

  test('create a weekly after-hours roster; the first handoff and its reminder are scheduled', async () => {
    const r = msg(await root().run('/duty roster new name="Consular duty" members="@alee @bob @cy" shift=1w handoff=08:00 tz=Europe/Paris start=2026-11-16 coverage=after-hours'));
    expect(r.ok).toBe(true);
    const handoffs = await jobs(core, 'roster.handoff');
    expect(handoffs.map((j) => j.dueAt.toISOString())).toEqual(['2026-11-23T07:00:00.000Z']);
    // The next shift's reminder (24 h before, Sunday 08:00) has already passed.
    expect(await jobs(core, 'roster.reminder')).toEqual([]);
    // A 12-hour roster: reminders that fall before the next handoff are planned now.
    msg(await root().run('/duty roster new name=Crisis members="@dee @cy" shift=12h handoff=20:00 tz=UTC start=2026-11-22 reminder=2'));
    const crisis = (await core.store.rosters.byName('crisis'))?.id as string;
    const planned = async () => (await jobs(core)).filter((j) => j.payload.rosterId === crisis).map((j) => `${j.kind} ${j.dueAt.toISOString()} v${String(j.payload.version)}`);
    expect(await planned()).toEqual(['roster.reminder 2026-11-22T18:00:00.000Z v1', 'roster.handoff 2026-11-22T20:00:00.000Z v1']);
    // An edit applies from the next handoff (20:00) and re-plans under a new version; the old
    // jobs will find themselves stale. The handoff moves to 21:00 from the day after: the first
    // shift under the new rule runs 20:00 → 09:00 rather than for one hour.
    const edited = msg(await root().run('/duty roster edit Crisis handoff=21:00'));
    expect(edited.text).toMatch(/apply from the next handoff, Sun 22 Nov 20:00 UTC/);
    expect(await planned()).toEqual([
      'roster.reminder 2026-11-22T18:00:00.000Z v1',
      'roster.reminder 2026-11-22T18:00:00.000Z v2',
      'roster.handoff 2026-11-22T20:00:00.000Z v1',
      'roster.handoff 2026-11-22T20:00:00.000Z v2',
    ]);
    // Dee was next at 20:00 and still is; the rotation continues from her.
    expect(textOf(await root().run('/duty next Crisis'))).toMatch(/Sun 22 Nov 20:00 UTC → Mon 23 Nov 09:00 UTC: Dee Okafor[\s\S]*Mon 23 Nov 09:00 UTC → Mon 23 Nov 21:00 UTC: Cy Diaz/);
    // The rest of this file works on one roster.
    await core.store.transaction(async (tx) => {
      await tx.job.deleteMany({ where: { payload: { contains: crisis } } });
      await tx.roster.delete({ where: { id: crisis } });
    });
  });

  test('now, at and next', async () => {
    expect(textOf(await alee().run('/duty now'))).toMatch(/Consular duty\*?: Ana Lee \(@alee\)/);
    // Tuesday noon in Paris is office hours: nobody is on after-hours duty.
    expect(textOf(await alee().run('/duty at 2026-11-24 12:00'))).toContain('nobody (outside the coverage hours)');
    expect(textOf(await alee().run('/duty at 2026-11-24 20:00 Consular duty'))).toMatch(/Bob Ray/);
    expect(textOf(await alee().run('/duty next'))).toMatch(/Mon 23 Nov 08:00 CET → Mon 30 Nov 08:00 CET: Bob Ray/);
    expect(msg(await alee().run('/duty at someday')).error?.code).toBe('BAD_TIME');
    expect(msg(await alee().run('/duty now Visa section')).error?.code).toBe('UNKNOWN_ROSTER');
  });

  test('at a handoff the incoming primary, the outgoing one and the incoming backup are each told once', async () => {
    clock.set('2026-11-23T07:00:00Z');
    await core.scheduler.runDue();
    await core.scheduler.runDue();
    clock.set('2026-11-22T16:00:00Z');
    const ids = Object.fromEntries(await Promise.all(['alee', 'bob', 'cy'].map(async (h) => [h, (await core.store.members.byHandle(h))?.id])));
    const keys = (await jobs(core, 'deliver')).map((j) => String(j.idempotencyKey)).filter((k) => k.includes('2026-11-23T07:00:00.000Z'));
    expect(keys.map((k) => k.split(':').slice(-2).join(':')).sort()).toEqual([`in-backup:${ids.cy}`, `in:${ids.bob}`, `out:${ids.alee}`].sort());
  });

  test('cover: beats the rotation, overlapping covers are refused, removing restores the rotation', async () => {
    const before = await core.store.audit.count();
    expect(msg(await root().run('/duty cover @dee from="2026-11-25 20:00" to="2026-11-25 18:00"')).error?.code).toBe('END_BEFORE_START');
    expect(msg(await root().run('/duty cover @ghost from="2026-11-25 18:00" to="2026-11-25 23:00"')).error?.code).toBe('UNKNOWN_MEMBER');
    expect(await core.store.audit.count()).toBe(before);
    const ok = msg(await root().run('/duty cover @dee from="2026-11-25 18:00" to="2026-11-26 08:00" for=@bob'));
    expect(ok.ok).toBe(true);
    expect(textOf(await alee().run('/duty at 2026-11-25 22:00'))).toMatch(/Dee Okafor/);
    const clash = msg(await root().run('/duty cover @cy from="2026-11-25 20:00" to="2026-11-25 23:00" for=@bob'));
    expect(clash.error?.code).toBe('OVERLAP');
    // A cover of the cover is fine, and applies on top.
    expect(msg(await root().run('/duty cover @cy from="2026-11-25 20:00" to="2026-11-25 23:00" for=@dee')).ok).toBe(true);
    expect(textOf(await alee().run('/duty at 2026-11-25 21:00'))).toMatch(/Cy Diaz/);
    expect(textOf(await alee().run('/duty schedule weeks=1'))).toMatch(/@dee.*cover \(for @bob\)/);
    // Dee is not on the roster, yet her own calendar shows the duty she took.
    const dee = await core.store.members.byHandle('dee');
    const deeFeed = (await renderFeed(core.store, { memberId: dee?.id as string }, clock.now().getTime())) as string;
    expect(deeFeed).toContain('covering for @bob');
    const list = msg(await alee().run('/duty cover list'));
    const deeCover = list.rows?.find((r) => r.text.includes('@dee'));
    const removeCmd = deeCover?.buttons?.[0]?.command as string;
    expect(msg(await root().run(removeCmd)).ok).toBe(true);
    // Both people in a removed cover are told.
    const told = (await jobs(core, 'deliver')).map((j) => String(j.idempotencyKey)).filter((k) => k.includes(':removed:'));
    const bobId = (await core.store.members.byHandle('bob'))?.id;
    expect(told.sort()).toEqual([`cover:${removeCmd.split(' ').pop()}:removed:${dee?.id}`, `cover:${removeCmd.split(' ').pop()}:removed:${bobId}`].sort());
    expect(textOf(await alee().run('/duty at 2026-11-25 22:00'))).toMatch(/Bob Ray/);
    // The cover start and end are scheduled jobs.
    expect((await jobs(core, 'roster.cover-change')).length).toBe(4);
  });

  test('an officer can take duty but not hand theirs or others\' to someone else', async () => {
    expect(msg(await alee().run('/duty cover @dee from="2026-12-01 18:00" to="2026-12-01 23:00" for=@cy')).error?.code).toBe('FORBIDDEN');
    expect(msg(await bob().run('/duty cover @dee from="2026-11-24 18:00" to="2026-11-24 23:00" for=@bob')).error?.code).toBe('FORBIDDEN');
    // Cover "for" someone with no duty then would never apply: refused.
    expect(msg(await alee().run('/duty cover @alee from="2026-12-01 18:00" to="2026-12-01 23:00" for=@bob')).error?.code).toBe('NOT_ON_DUTY');
    // A date alone means the roster's handoff (08:00 Paris), even for a caller in New York.
    msg(await root().run('/duty role grant @cy officer'));
    const r = msg(await as(core, 'cy').run('/duty cover @cy from=2026-12-07 to=2026-12-08 for=@alee'));
    expect(r.text).toContain('Mon 7 Dec 02:00 EST → Tue 8 Dec 02:00 EST');
    const id = /cover ([0-9a-f]{8})/.exec(r.text ?? '')?.[1] as string;
    expect(msg(await as(core, 'cy').run(`/duty cover remove ${id}`)).ok).toBe(true);
  });

  test('swap: asked by DM with buttons, accepted once, the shifts move, both are told', async () => {
    expect(msg(await bob().run('/duty swap @dee shift=2026-11-23')).error?.code).toBe('NOT_ON_ROSTER');
    // shift=<date> names your shift on that day; Bob has none in the week of 30 November.
    expect(msg(await bob().run('/duty swap @alee shift=2026-12-01')).error?.code).toBe('NO_SHIFT');
    // Two-way: Bob is the backup on Ana's shifts (offset 1), so taking one would leave it without one.
    const twoWay = msg(await bob().run('/duty swap @alee shift=2026-11-23 for=2026-12-07'));
    expect(twoWay.ok).toBe(true);
    const twoWayAsk = (await jobs(core, 'deliver')).find((j) => String(j.idempotencyKey).endsWith(':ask'));
    const twoWayAccept = (twoWayAsk?.payload.reply as { buttons: { command: string }[] }).buttons[0]?.command as string;
    expect(msg(await alee().run(twoWayAccept)).error?.code).toBe('CLASH');
    msg(await alee().run(twoWayAccept.replace('accept', 'decline')));
    // One-way: Ana takes Bob's week.
    const asked = msg(await bob().run('/duty swap @alee shift=2026-11-23'));
    expect(asked.ok).toBe(true);
    const ask = (await jobs(core, 'deliver')).filter((j) => String(j.idempotencyKey).endsWith(':ask')).find((j) => j.idempotencyKey !== twoWayAsk?.idempotencyKey);
    const alee_ = await core.store.members.byHandle('alee');
    expect(ask?.payload.to).toEqual({ kind: 'member', memberId: alee_?.id });
    const buttons = (ask?.payload.reply as { buttons: { label: string; command: string }[] }).buttons;
    expect(buttons.map((b) => b.label)).toEqual(['Accept', 'Decline']);
    expect(msg(await bob().run(buttons[0]?.command as string)).error?.code).toBe('FORBIDDEN');
    const [a1, a2] = await Promise.all([alee().run(buttons[0]?.command as string), alee().run(buttons[0]?.command as string)]);
    expect([msg(a1).ok, msg(a2).ok].sort()).toEqual([false, true]);
    expect(textOf(await alee().run('/duty at 2026-11-24 20:00'))).toMatch(/Ana Lee/);
    const keys = (await jobs(core, 'deliver')).map((j) => String(j.idempotencyKey));
    expect(keys.some((k) => k.endsWith(':accepted:requester'))).toBe(true);
    expect(keys.some((k) => k.endsWith(':accepted:target'))).toBe(true);
    expect(textOf(await alee().run('/duty schedule weeks=3'))).toContain('⇄ swap');
    expect(textOf(await alee().run('/duty next'))).toMatch(/Mon 23 Nov 08:00 CET → Mon 30 Nov 08:00 CET: Ana Lee \(@alee\).*\(swap\)/);
  });

  test('a swap can trade several shifts at once', async () => {
    const r = msg(await bob().run('/duty swap @alee shift=2026-12-14,2027-01-04'));
    expect(r.ok).toBe(true);
    expect(r.text).toMatch(/Mon 14 Dec 08:00 CET → Mon 21 Dec 08:00 CET, Mon 4 Jan 08:00 CET → Mon 11 Jan 08:00 CET/);
    const ask = (await jobs(core, 'deliver')).find((j) => String(j.idempotencyKey).endsWith(':ask') && JSON.stringify(j.payload).includes('Mon 4 Jan'));
    const accept = (ask?.payload.reply as { buttons: { command: string }[] }).buttons[0]?.command as string;
    expect(msg(await alee().run(accept)).ok).toBe(true);
    expect(textOf(await alee().run('/duty at 2026-12-15 20:00'))).toMatch(/Ana Lee/);
    expect(textOf(await alee().run('/duty at 2027-01-05 20:00'))).toMatch(/Ana Lee/);
    expect(msg(await bob().run('/duty swap @alee shift=2027-01-25,someday')).error?.code).toBe('INVALID_INPUT');
  });

  test('a swap still pending when the shift starts expires', async () => {
    msg(await root().run('/duty role grant @cy officer'));
    const r = msg(await as(core, 'cy').run('/duty swap @alee shift=2026-11-30'));
    expect(r.ok).toBe(true);
    const expire = (await jobs(core, 'roster.swap-expire')).find((j) => j.dueAt.toISOString() === '2026-11-30T07:00:00.000Z');
    expect(expire).toBeDefined();
    const handlers = swapJobs({ store: core.store, outbox: core.outbox });
    await handlers['roster.swap-expire'](expire?.payload, Date.parse('2026-11-30T07:00:00Z'));
    const swap = await core.store.rosters.swap(String(expire?.payload.swapId));
    expect(swap?.status).toBe('expired');
    const ask = (await jobs(core, 'deliver')).filter((j) => String(j.idempotencyKey).startsWith(`swap:${swap?.id}:expired:`));
    expect(ask).toHaveLength(2);
  });

  test('leave: clashing shifts go to the admins with who is free', async () => {
    const r = msg(await as(core, 'cy').run('/duty away from=2026-11-30 to=2026-12-06 note="home leave"'));
    expect(r.text).toMatch(/need cover; the admins have been told/);
    const admin = (await jobs(core, 'deliver')).filter((j) => String(j.idempotencyKey).startsWith('leave:'));
    expect(admin.length).toBeGreaterThan(0);
    const reply = admin[0]?.payload.reply as { rows: { text: string; buttons: { command: string }[] }[] };
    // Cy is backup until Monday 08:00 Paris, then primary for the week.
    const primary = reply.rows.find((row) => row.text.startsWith('Consular duty primary'));
    expect(primary?.text).toMatch(/free then: /);
    expect(primary?.buttons[0]?.command).toMatch(/^\/duty cover @\w+ from=2026-11-30T07:00:00.000Z to=2026-12-07T07:00:00.000Z for=@cy "Consular duty"$/);
    expect(textOf(await alee().run('/duty schedule weeks=3'))).toContain('⚠ @cy on leave');
    expect(msg(await alee().run('/duty away from=2026-12-10 to=2026-12-01')).error?.code).toBe('END_BEFORE_START');
    expect(msg(await as(core, 'cy').run('/duty away from=2026-12-05 to=2026-12-09')).error?.code).toBe('OVERLAP');
    // A member on a roster cannot be removed while the rotation still names them.
    expect(msg(await root().run('/duty member remove @cy')).error?.code).toBe('ON_ROSTER');
  });

  test('holidays: add, import CSV and iCalendar; a bad CSV imports nothing', async () => {
    expect(msg(await root().run('/duty holidays "Consular duty" add 25/12 Christmas Day')).ok).toBe(true);
    const csv = 'date,name\n2027-01-01,New Year\n14/07/2027,Fête nationale\n';
    expect(msg(await root().run(`/duty holidays "Consular duty" import data="${csv}"`)).text).toMatch(/Imported 2 holiday days/);
    const bad = msg(await root().run('/duty holidays "Consular duty" import data="date,name\n2027-05-01,Labour\nnot-a-date,Oops"'));
    expect(bad.error?.code).toBe('BAD_IMPORT');
    expect(bad.text).toMatch(/row 3/);
    const days = (await core.store.rosters.holidays((await core.store.rosters.list())[0]?.id as string)).map((d) => d.date);
    expect(days).not.toContain('2027-05-01');
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:1@t', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20270505', 'DTEND;VALUE=DATE:20270507', 'SUMMARY:Two days', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n');
    expect(msg(await root().run(`/duty holidays "Consular duty" import data="${ics}"`)).text).toMatch(/Imported 2 holiday days/);
    expect(textOf(await alee().run('/duty holidays "Consular duty"'))).toMatch(/2026-12-25 Christmas Day[\s\S]*2027-05-06 Two days/);
    // Christmas 2026 is a Friday: covered all day.
    expect(textOf(await alee().run('/duty at 2026-12-25 12:00'))).not.toContain('nobody');
    expect(msg(await alee().run('/duty holidays "Consular duty" add 2027-02-02 Test')).error?.code).toBe('FORBIDDEN');
  });

  test('calendar feeds: a stable RFC 5545 feed an independent parser reads; reset replaces the address', async () => {
    const r = msg(await alee().run('/duty calendar me'));
    const token = /\/calendar\/([A-Za-z0-9_-]+)\.ics/.exec(r.text ?? '')?.[1] as string;
    expect(token).toBeTruthy();
    const feed = await core.store.rosters.feedByToken(token);
    const text = (await renderFeed(core.store, feed ?? {}, clock.now().getTime())) as string;
    const again = (await renderFeed(core.store, feed ?? {}, clock.now().getTime())) as string;
    const parse = (t: string) => new ICAL.Component(ICAL.parse(t) as unknown[]);
    const uids = (t: string) => parse(t).getAllSubcomponents('vevent').map((e) => String(e.getFirstPropertyValue('uid')));
    expect(uids(again)).toEqual(uids(text));
    // node-ical is a parser of its own, independent of ical.js, which writes the feed.
    const parsed = Object.values(nodeIcal.sync.parseICS(text)).filter((c) => c !== undefined);
    const vevents = parsed.filter((c): c is nodeIcal.VEvent => c.type === 'VEVENT');
    expect(parsed.some((c) => c.type === 'VTIMEZONE')).toBe(true);
    expect(vevents.length).toBeGreaterThan(10);
    expect(vevents.every((v) => (v.start as Date & { tz?: string }).tz === 'Europe/Paris')).toBe(true);
    // Whole weekly shifts start at a real handoff, 08:00 in Paris, across the DST change.
    const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const weekly = vevents.filter((e) => String(e.summary) === 'Duty: Consular duty' && (e.end as Date).getTime() - e.start.getTime() >= 7 * 86_400_000 - 3_600_000);
    expect(weekly.length).toBeGreaterThan(5);
    for (const e of weekly) expect(paris.format(e.start)).toBe('08:00');
    expect(vevents.some((e) => String(e.summary).includes('swap'))).toBe(true);
    // ical.js, a second reader, agrees on the structure.
    expect(parse(text).getAllSubcomponents('vevent')).toHaveLength(vevents.length);
    // Same address on asking again; a reset gives a new one and the old stops.
    expect(msg(await alee().run('/duty calendar me')).text).toContain(token);
    const reset = msg(await alee().run('/duty calendar reset me'));
    expect(reset.text).not.toContain(token);
    expect(await core.store.rosters.feedByToken(token)).toBeNull();
    expect(msg(await alee().run('/duty calendar reset "Consular duty"')).error?.code).toBe('FORBIDDEN');
  });

  test('duty log goes to the shift being logged', async () => {
    expect(msg(await as(core, 'dee').run('/duty log Police called about a detention in Lyon')).error?.code).toBe('NOT_ON_DUTY');
    expect(msg(await alee().run('/duty log Police called about a detention in Lyon')).ok).toBe(true);
    const roster = (await core.store.rosters.list())[0];
    const entries = await core.store.rosters.log(roster?.id as string, Date.parse('2026-11-16T07:00:00Z'));
    expect(entries.map((e) => e.text)).toEqual(['Police called about a detention in Lyon']);
  });

  test('roster add and remove keep the order, never move the shift in progress, and never leave a roster empty', async () => {
    const nowBefore = textOf(await alee().run('/duty now Consular duty'));
    const pastBefore = textOf(await alee().run('/duty at 2026-11-10 20:00 Consular duty'));
    expect(msg(await root().run('/duty roster add @dee')).text).toMatch(/Added @dee to Consular duty \(position 4\), from the next handoff/);
    expect(textOf(await alee().run('/duty now Consular duty'))).toBe(nowBefore);
    expect(textOf(await alee().run('/duty at 2026-11-10 20:00 Consular duty'))).toBe(pastBefore);
    expect(msg(await root().run('/duty roster add @dee')).error?.code).toBe('ALREADY_MEMBER');
    expect(textOf(await alee().run('/duty roster list'))).toContain('@alee → @bob → @cy → @dee');
    expect(msg(await root().run('/duty roster remove @bob')).ok).toBe(true);
    expect(textOf(await alee().run('/duty roster list'))).toContain('@alee → @cy → @dee');
    expect(msg(await root().run('/duty roster remove @bob')).error?.code).toBe('NOT_MEMBER');
    expect(msg(await alee().run('/duty roster add @bob')).error?.code).toBe('FORBIDDEN');
    msg(await root().run('/duty roster new name=Solo members="@dee" shift=1d handoff=09:00'));
    expect(msg(await root().run('/duty roster remove @dee Solo')).error?.code).toBe('LAST_MEMBER');
  });
});
