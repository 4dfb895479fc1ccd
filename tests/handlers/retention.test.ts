// Retention: the period and its month arithmetic (mission calendar months, 31 January + 1 month),
// then, through the real dispatcher and database, a stood-down crisis and closed cases erased 18
// months on: what /duty retention says before and after, the rows as erased (no name, passport,
// phone, note text left; statuses, needs, times, seats and decisions kept), the board and the case
// report counting exactly the same, /person show and /case show saying so, one audit entry per
// batch with counts and ids only, a second run erasing nothing; and never anything of a crisis or
// case reopened after it fell due, even when the erasure is asked for it directly. The daily job
// plans itself and erases in batches. SQLite, and PostgreSQL when TEST_POSTGRES_URL is set.
import pino from 'pino';
import type { Core } from '../../src/core';
import type { MessageReply, Reply } from '../../src/domain/reply';
import { addCalendarMonths, DEFAULT_RETENTION_MONTHS, isRetentionDue, nextRetentionRun, parseRetentionConfig, retentionCutoff, retentionDueAt } from '../../src/domain/retention';
import { eraseDue, registerRetentionJob, retentionRepository } from '../../src/handlers/duty/retention.job';
import { systemMeta } from '../../src/store/store';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';

const MISSION = { MISSION_TIMEZONE: 'Europe/Paris' };
const t = (iso: string): number => Date.parse(iso);

describe('retention period and its month arithmetic (pure)', () => {
  test('31 January + 1 month is the last day of February (29 in a leap year); due from the start of that day', () => {
    expect(addCalendarMonths({ y: 2027, m: 1, d: 31 }, 1)).toEqual({ y: 2027, m: 2, d: 28 });
    expect(addCalendarMonths({ y: 2028, m: 1, d: 31 }, 1)).toEqual({ y: 2028, m: 2, d: 29 });
    expect(addCalendarMonths({ y: 2026, m: 8, d: 31 }, 18)).toEqual({ y: 2028, m: 2, d: 29 });
    expect(addCalendarMonths({ y: 2026, m: 1, d: 15 }, 120)).toEqual({ y: 2036, m: 1, d: 15 });
    expect(new Date(retentionDueAt(t('2027-01-31T10:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(new Date(retentionDueAt(t('2027-01-31T23:59:59Z'), 1, 'UTC')).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    // 29, 30 and 31 January all reach 28 February; 1 February reaches 1 March.
    expect(new Date(retentionDueAt(t('2027-01-29T00:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(new Date(retentionDueAt(t('2027-02-01T00:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-03-01T00:00:00.000Z');
  });

  test('months are the mission calendar\'s: its dates near midnight, and daylight saving between', () => {
    // 30 Mar 20:00 UTC is already 31 March in Kathmandu (+05:45): due 30 April there, 30 April UTC otherwise.
    expect(new Date(retentionDueAt(t('2027-03-30T20:00:00Z'), 1, 'Asia/Kathmandu')).toISOString()).toBe('2027-04-29T18:15:00.000Z');
    expect(new Date(retentionDueAt(t('2027-03-30T20:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-04-30T00:00:00.000Z');
    // Stood down on 31 January in Paris (CET): due at midnight starting 31 July, summer time.
    expect(new Date(retentionDueAt(t('2026-01-31T10:00:00Z'), 18, 'Europe/Paris')).toISOString()).toBe('2027-07-30T22:00:00.000Z');
  });

  test('the cutoff is exactly the last due end time, so the database is asked with one comparison', () => {
    for (const [now, months, tz] of [
      ['2027-02-28T10:00:00Z', 1, 'UTC'],
      ['2027-03-01T00:00:00Z', 1, 'UTC'],
      ['2028-02-29T12:00:00Z', 18, 'Europe/Paris'],
      ['2027-07-31T09:00:00Z', 18, 'Europe/Paris'],
      ['2027-03-28T01:30:00Z', 2, 'Europe/Paris'],
      ['2030-06-15T08:00:00Z', 120, 'Asia/Kathmandu'],
    ] as const) {
      const c = retentionCutoff(t(now), months, tz);
      expect(isRetentionDue(c, months, tz, t(now))).toBe(true);
      expect(isRetentionDue(c + 1, months, tz, t(now))).toBe(false);
      // Due is monotonic: a sample of earlier end times is all due.
      for (let back = 1; back < 100; back += 7) expect(isRetentionDue(c - back * 3_600_000, months, tz, t(now))).toBe(true);
    }
    // On 28 February everything that ended up to the end of 31 January is due; on 27 February, to the end of 27 January.
    expect(new Date(retentionCutoff(t('2027-02-28T10:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-01-31T23:59:59.999Z');
    expect(new Date(retentionCutoff(t('2027-02-27T10:00:00Z'), 1, 'UTC')).toISOString()).toBe('2027-01-27T23:59:59.999Z');
  });

  test('the setting falls back to 18 months; the daily run is at 03:00 mission time', () => {
    expect(parseRetentionConfig(undefined)).toEqual({ months: DEFAULT_RETENTION_MONTHS });
    expect(parseRetentionConfig({ months: 0 })).toEqual({ months: 18 });
    expect(parseRetentionConfig({ months: 24 })).toEqual({ months: 24 });
    const next = nextRetentionRun('Europe/Paris', t('2026-03-29T00:30:00Z'));
    expect(next).toEqual({ date: { y: 2026, m: 3, d: 29 }, key: 'retention:daily:2026-03-29', dueAt: t('2026-03-29T01:00:00Z') });
    expect(nextRetentionRun('Europe/Paris', next.dueAt).key).toBe('retention:daily:2026-03-30');
  });
});

function numberIn(r: Reply): number {
  const m = /#(\d+)/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no person number in ${JSON.stringify(r)}`);
  return Number(m[1]);
}

function refIn(r: Reply): string {
  const m = /C-\d{4}-\d{5}/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no case reference in ${JSON.stringify(r)}`);
  return m[0];
}

function field(r: MessageReply, label: string): string {
  return r.fields?.find((f) => f.label === label)?.value ?? '';
}

/** What a report says, attachments included (the CSV; the chart as its size). */
function reportOf(r: Reply): string {
  const m = msg(r);
  return JSON.stringify({ text: textOf(m), files: (m.attachments ?? []).map((a) => (a.mimeType.startsWith('text/') ? a.content.toString('utf8') : a.content.length)) });
}

/** Distinctive personal values of the crisis that will be erased. */
const ERASED_VALUES = ['Zebulon', 'Quixotic', 'Quixotik', 'ZQ7788123', '+33612345678', 'zebulon@example.org', '1961-02-03', 'Marvolo', 'Hotel Lumiere', 'Quentin Tarrant', 'Broke his leg', 'Held at the airport', 'Oldcase', 'Yolanda'];

describeEachDb('retention of personal data', (fresh) => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-01-20T09:00:00Z');
  const adm = () => as(core, 'adm');
  const people = { zeb: 0, dup: 0, xan: 0, wil: 0 };
  const refs = { closed: '', reopened: '', resolved: '', open: '' };

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, MISSION, clock.now);
    const root = as(core, 'root');
    expect(msg(await root.run('/duty member add handle=adm name="Ada Min" tz=Europe/Paris roles=admin,officer,crisis')).ok).toBe(true);
    expect(msg(await root.run('/duty member add handle=olly name="Olly Officer" tz=Europe/Paris roles=officer')).ok).toBe(true);
    const a = adm();
    expect(msg(await a.run('/crisis open name="Alpine floods" code=ALP-FL region=Alps')).ok).toBe(true);
    expect(msg(await a.run('/crisis open name="Baltic storm" code=BAL-ST region=Baltic')).ok).toBe(true);
    people.zeb = numberIn(await a.run('/person add crisis=ALP-FL name="Zebulon Quixotic" dob=1961-02-03 passport=ZQ7788123 phone="+33 6 12 34 56 78" email=Zebulon@Example.org location="Hotel Lumiere" nok_name="Quentin Tarrant" needs=medical household="Quixotic family" description="Broke his leg"'));
    people.dup = numberIn(await a.run('/person add crisis=ALP-FL name="Zebulon Quixotik" dob=1961-02-03 passport=ZQ7788123'));
    people.xan = numberIn(await a.run('/person add crisis=ALP-FL name="Xanthippe Marvolo" needs=evacuation'));
    people.wil = numberIn(await a.run('/person add crisis=BAL-ST name="Wilhelmina Strand" passport=WS5544332 needs=shelter'));
    expect(msg(await a.run(`/person status ${people.zeb} injured "Broke his leg at the Hotel Lumiere" location="Hotel Lumiere"`)).ok).toBe(true);
    expect(msg(await a.run(`/person contact ${people.zeb} reached`)).ok).toBe(true);
    expect(msg(await a.run(`/person status ${people.wil} safe "Wilhelmina called"`)).ok).toBe(true);
    const pair = await core.store.db.duplicateCandidate.findFirstOrThrow();
    expect(msg(await a.run(`/crisis same ${pair.id}`)).ok).toBe(true);
    expect(msg(await a.run('/crisis movement new ALP-FL kind=bus name="Bus 1" capacity=40 departs="2026-01-25 08:00" muster="Town hall"')).ok).toBe(true);
    expect(msg(await a.run(`/crisis assign ALP-FL ${people.xan} 1`)).ok).toBe(true);
    refs.closed = refIn(await a.run('/case new category=detention priority=p2 name="Oldcase Yolanda" reporter=police summary="Held at the airport" passport=ZQ7788123 dob=1961-02-03 city=Lyon'));
    refs.reopened = refIn(await a.run('/case new category=document priority=p4 name="Reo Pened" reporter=self summary="Lost passport" city=Nice'));
    refs.resolved = refIn(await a.run('/case new category=document priority=p3 name="Res Olved" reporter=self summary="Lost wallet" city=Nice'));
    refs.open = refIn(await a.run('/case new category=medical priority=p2 name="Op En" reporter=hospital summary="In hospital" city=Paris'));
    expect(msg(await a.run(`/case note ${refs.closed} "Consul visited; Yolanda is well"`)).ok).toBe(true);
    clock.set('2026-01-31T10:00:00Z'); // 11:00 in Paris
    expect(msg(await a.run('/crisis stand-down ALP-FL')).ok).toBe(true);
    expect(msg(await a.run(`/case close ${refs.closed} outcome="Released; Yolanda flew home"`)).ok).toBe(true);
    expect(msg(await a.run(`/case close ${refs.reopened} outcome="Replaced"`)).ok).toBe(true);
    expect(msg(await a.run(`/case resolve ${refs.resolved} outcome="Found"`)).ok).toBe(true);
    clock.set('2026-01-31T11:00:00Z');
    expect(msg(await a.run('/crisis stand-down BAL-ST')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('only admins see and change it; the period is 1 to 120 months and its change is audited', async () => {
    expect(msg(await as(core, 'olly').run('/duty retention')).error?.code).toBe('FORBIDDEN');
    expect(msg(await as(core, 'olly').run('/duty retention run')).error?.code).toBe('FORBIDDEN');
    expect(msg(await as(core, 'olly').run('/duty export-person 1')).error?.code).toBe('FORBIDDEN');
    for (const bad of ['0', '121', '1.5', 'soon']) expect(msg(await adm().run(`/duty retention set months=${bad}`)).error?.code).toBe('INVALID_INPUT');
    const set = msg(await adm().run('/duty retention set months=24'));
    expect(set.title).toBe('Retention period: 24 months');
    expect(msg(await adm().run('/duty retention set months=18')).ok).toBe(true);
    const audits = await core.store.db.auditEntry.findMany({ where: { entity: 'setting', entityId: 'duty.retention' }, orderBy: { id: 'asc' } });
    expect(audits.map((e) => JSON.parse(e.after ?? 'null') as unknown)).toEqual([{ months: 24 }, { months: 18 }]);
  });

  test('nothing is due until 18 mission-calendar months have passed; /duty retention says when', async () => {
    clock.set('2027-07-30T21:59:00Z'); // one minute before 31 July begins in Paris
    const show = msg(await adm().run('/duty retention'));
    expect(field(show, 'Period')).toBe('18 months after a crisis is stood down or a case is closed (the default)');
    expect(field(show, 'Due now')).toBe('nothing');
    expect(field(show, 'Next due')).toBe('2027-07-31 00:00 CEST: 3 people of ALP-FL');
    expect(field(show, 'Last run')).toBe('never');
    expect(show.buttons).toEqual([]);
    expect(msg(await adm().run('/duty retention run')).title).toBe('Retention: nothing to erase');
    expect(await core.store.db.person.count({ where: { erasedAt: { not: null } } })).toBe(0);
  });

  test('due: the erasure keeps every count, leaves reopened and open records alone, and a second run erases nothing', async () => {
    clock.set('2027-08-02T09:00:00Z');
    // Both fell due; then the Baltic crisis and one case were reopened.
    expect(msg(await adm().run('/crisis reopen BAL-ST')).ok).toBe(true);
    expect(msg(await adm().run(`/case reopen ${refs.reopened} reason="New request"`)).ok).toBe(true);
    const show = msg(await adm().run('/duty retention'));
    expect(field(show, 'Due now')).toBe('3 people of ALP-FL (stood down 2026-01-31 11:00 CET); 1 closed case');
    expect(show.buttons?.map((b) => b.command)).toEqual(['/duty retention run']);

    const boardBefore = textOf(await adm().run('/crisis board ALP-FL'));
    const balticBefore = textOf(await adm().run('/crisis board BAL-ST'));
    const reportBefore = reportOf(await adm().run('/case report 2026-01-01 2026-03-31'));
    const countsBefore = Object.fromEntries(await core.store.crises.statusCounts((await core.store.crises.byCode('ALP-FL'))?.id ?? ''));
    const auditBefore = await core.store.db.auditEntry.count();

    const run = msg(await adm().run('/duty retention run'));
    expect(run.title).toBe('Personal data erased');
    expect(run.text).toContain('Erased the personal data of 3 people (ALP-FL) and 1 closed case');

    // Counts, the board and the report read exactly the same.
    expect(textOf(await adm().run('/crisis board ALP-FL'))).toBe(boardBefore);
    expect(textOf(await adm().run('/crisis board BAL-ST'))).toBe(balticBefore);
    expect(reportOf(await adm().run('/case report 2026-01-01 2026-03-31'))).toBe(reportBefore);
    expect(Object.fromEntries(await core.store.crises.statusCounts((await core.store.crises.byCode('ALP-FL'))?.id ?? ''))).toEqual(countsBefore);

    // One audit entry per batch: counts and ids, no personal value.
    const entries = await core.store.db.auditEntry.findMany({ where: { entity: 'retention' }, orderBy: { id: 'asc' } });
    expect(entries.map((e) => e.action)).toEqual(['erase', 'erase']);
    const alp = await core.store.db.crisis.findUniqueOrThrow({ where: { code: 'ALP-FL' } });
    const alpIds = (await core.store.db.person.findMany({ where: { crisisId: alp.id }, select: { id: true }, orderBy: { id: 'asc' } })).map((p) => p.id);
    const closed = await core.store.db.case.findUniqueOrThrow({ where: { ref: refs.closed } });
    expect(JSON.parse(entries[0]?.after ?? '{}')).toEqual({ months: 18, cutoff: '2026-02-02T22:59:59.999Z', people: 3, personIds: alpIds, crises: [{ id: alp.id, code: 'ALP-FL' }] });
    expect(JSON.parse(entries[1]?.after ?? '{}')).toEqual({ months: 18, cutoff: '2026-02-02T22:59:59.999Z', cases: 1, caseIds: [closed.id] });
    const auditText = JSON.stringify(await core.store.db.auditEntry.findMany({ where: { id: { gt: auditBefore } } }));
    for (const v of ERASED_VALUES) expect(auditText).not.toContain(v);

    // The rows as erased.
    const rows = await core.store.db.person.findMany({ where: { crisisId: alp.id }, orderBy: { number: 'asc' } });
    for (const p of rows) {
      expect(p).toMatchObject({ fullName: '[erased]', nameKey: '[erased]', givenName: null, dateOfBirth: null, passportNumber: null, phone: null, email: null, location: null, nokName: null, description: null, household: null, alternateNames: '[]', passportHash: null, phoneHash: null, emailHash: null, pfif: null });
      expect(p.erasedAt?.toISOString()).toBe('2027-08-02T09:00:00.000Z');
    }
    expect(rows.map((p) => [p.number, p.status, p.needs, p.mergedIntoId === null])).toEqual([
      [people.zeb, 'injured', '["medical"]', true],
      [people.dup, 'unaccounted', '[]', false],
      [people.xan, 'unaccounted', '["evacuation"]', true],
    ]);
    expect(await core.store.db.personKey.count({ where: { personId: { in: alpIds } } })).toBe(0);
    const notes = await core.store.db.personNote.findMany({ where: { personId: { in: alpIds } } });
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.every((n) => n.text === null && n.lastKnownLocation === null)).toBe(true);
    expect(notes.map((n) => n.status)).toContain('injured');
    const decision = await core.store.db.duplicateCandidate.findFirstOrThrow();
    expect(decision).toMatchObject({ status: 'same', mergeUndo: null });
    expect(await core.store.db.movementSeat.count({ where: { crisisId: alp.id } })).toBe(1);
    expect(await core.store.db.contactAttempt.count({ where: { crisisId: alp.id } })).toBe(1);
    const erasedCase = await core.store.db.case.findUniqueOrThrow({ where: { ref: refs.closed } });
    expect(erasedCase).toMatchObject({ subjectName: '[erased]', subjectInitials: '[erased]', summary: '[erased]', passportNumber: null, passportHash: null, dateOfBirth: null, outcome: null, status: 'closed', category: 'arrest', priority: 'P2', city: 'Lyon' });
    expect(erasedCase.closedAt?.toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect((await core.store.db.caseNote.findMany({ where: { caseId: erasedCase.id } })).map((n) => n.text)).toEqual(['[erased]']);
    expect((await core.store.db.caseEvent.findMany({ where: { caseId: erasedCase.id } })).every((e) => e.text === null)).toBe(true);

    // Nothing else was touched: the reopened crisis and case, the resolved and the open case.
    const wil = await core.store.crises.personByNumber(people.wil);
    expect(wil).toMatchObject({ fullName: 'Wilhelmina Strand', passportNumber: 'WS5544332' });
    for (const ref of [refs.reopened, refs.resolved, refs.open]) {
      const c = await core.store.db.case.findUniqueOrThrow({ where: { ref } });
      expect(c.erasedAt).toBeNull();
      expect(c.subjectName).not.toBe('[erased]');
    }
    expect(await core.store.db.person.count({ where: { erasedAt: { not: null } } })).toBe(3);

    // The whole database no longer holds the erased values in clear.
    const dump = JSON.stringify(
      await Promise.all([
        core.store.db.person.findMany(),
        core.store.db.personNote.findMany(),
        core.store.db.personKey.findMany(),
        core.store.db.duplicateCandidate.findMany(),
        core.store.db.case.findMany(),
        core.store.db.caseNote.findMany(),
        core.store.db.caseEvent.findMany(),
        core.store.db.auditEntry.findMany(),
      ]),
    );
    for (const v of ERASED_VALUES) expect(dump).not.toContain(v);

    // A second run erases nothing and writes no audit entry.
    const again = msg(await adm().run('/duty retention run'));
    expect(again.title).toBe('Retention: nothing to erase');
    expect(await core.store.db.auditEntry.count({ where: { entity: 'retention' } })).toBe(2);
    const after = msg(await adm().run('/duty retention'));
    expect(field(after, 'Due now')).toBe('nothing');
    expect(field(after, 'Last run')).toBe('2027-08-02 11:00 CEST by @adm: 0 people, 0 cases');
    expect(field(after, 'Erased so far')).toBe('3 people, 1 case');
  });

  test('/person show and /case show say the data was erased under the retention policy, and when', async () => {
    const person = msg(await adm().run(`/person show ${people.zeb}`));
    expect(person.title).toBe(`#${people.zeb} [erased]`);
    expect(person.text).toBe('The personal data of this person was erased under the retention policy on 2027-08-02; statuses, categories and times are kept for reports.');
    expect(textOf(person)).toContain('Injured');
    const c = msg(await adm().run(`/case show ${refs.closed}`));
    expect(c.text).toBe('The personal data of this case was erased under the retention policy on 2027-08-02; statuses, categories and times are kept for reports.');
    expect(textOf(c)).not.toMatch(/Yolanda|airport/);
    // Not erased: no notice.
    expect(msg(await adm().run(`/person show ${people.wil}`)).text).toBeUndefined();
    expect(msg(await adm().run(`/case show ${refs.open}`)).text).toBeUndefined();
  });

  test('the erasure itself refuses what is active or open, whatever it is asked', async () => {
    const repo = retentionRepository(core.store);
    const far = new Date('2100-01-01T00:00:00Z');
    const bal = await core.store.db.crisis.findUniqueOrThrow({ where: { code: 'BAL-ST' } });
    const balIds = (await core.store.db.person.findMany({ where: { crisisId: bal.id }, select: { id: true } })).map((p) => p.id);
    const caseIds = (await core.store.db.case.findMany({ where: { ref: { in: [refs.reopened, refs.resolved, refs.open] } }, select: { id: true } })).map((c) => c.id);
    const r = await core.store.transaction(async (tx) => ({ people: await repo.erasePeople(tx, balIds, far, clock.now()), cases: await repo.eraseCases(tx, caseIds, far, clock.now()) }));
    expect(r).toEqual({ people: { personIds: [], crises: [] }, cases: [] });
    // Stood down again, but only now: not due for another 18 months.
    expect(msg(await adm().run('/crisis stand-down BAL-ST')).ok).toBe(true);
    expect(msg(await adm().run('/duty retention run')).title).toBe('Retention: nothing to erase');
    expect(field(msg(await adm().run('/duty retention')), 'Next due')).toBe('2029-02-02 00:00 CET: 1 person of BAL-ST');
    expect(msg(await adm().run('/crisis reopen BAL-ST')).ok).toBe(true);
  });

  test('the daily job plans itself at 03:00 mission time and erases in batches, audited per batch', async () => {
    const a = adm();
    expect(msg(await a.run('/crisis open name="Corsica fires" code=COR-FI region=Corsica')).ok).toBe(true);
    for (let i = 0; i < 5; i++) await a.run(`/person add crisis=COR-FI name="Fire Evacuee${String.fromCharCode(65 + i)}"`);
    expect(msg(await a.run('/crisis stand-down COR-FI')).ok).toBe(true);
    const job = registerRetentionJob(core.scheduler, { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), missionTimeZone: 'Europe/Paris' });
    await job.ensurePlanned(clock.now().getTime());
    const planned = await core.store.db.job.findMany({ where: { kind: 'retention', status: 'pending' } });
    expect(planned.map((j) => [j.idempotencyKey, j.dueAt.toISOString()])).toEqual([['retention:daily:2027-08-03', '2027-08-03T01:00:00.000Z']]);

    // Not due yet at the next run: nothing erased, the day after planned.
    clock.set('2027-08-03T01:00:00Z');
    for (let i = 0; i < 3; i++) await core.scheduler.runDue();
    expect(await core.store.db.person.count({ where: { erasedAt: { not: null } } })).toBe(3);
    expect((await core.store.db.job.findMany({ where: { kind: 'retention', status: 'pending' } })).map((j) => j.idempotencyKey)).toEqual(['retention:daily:2027-08-04']);

    // 18 months on, in batches of two: three batches, each its own audited transaction.
    clock.set('2029-02-04T02:00:00Z');
    const r = await eraseDue(core.store, systemMeta('test-run'), { now: clock.now(), timeZone: 'Europe/Paris', runId: 'test-run', by: 'daily run', batchSize: 2 });
    expect(r).toEqual({ people: 5, cases: 0, crises: ['COR-FI'], batches: 3, more: false });
    const batches = await core.store.db.auditEntry.findMany({ where: { entity: 'retention', entityId: 'test-run' }, orderBy: { id: 'asc' } });
    expect(batches.map((b) => (JSON.parse(b.after ?? '{}') as { people: number }).people)).toEqual([2, 2, 1]);
    expect(await core.store.db.person.count({ where: { erasedAt: { not: null } } })).toBe(8);
  });
  test('a crisis reopened while its erasure waits: the erasure sees the reopening under its lock and erases nothing', async () => {
    const a = adm();
    clock.set('2029-03-01T09:00:00Z');
    expect(msg(await a.run('/crisis open name="Race" code=RACE region=Jura')).ok).toBe(true);
    const n = numberIn(await a.run('/person add crisis=RACE name="Racy Raceson"'));
    expect(msg(await a.run('/crisis stand-down RACE')).ok).toBe(true);
    clock.set('2030-10-02T09:00:00Z');
    const race = await core.store.db.crisis.findUniqueOrThrow({ where: { code: 'RACE' } });
    // Another request reopens the crisis and has not committed yet.
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    let updated = (): void => undefined;
    const locked = new Promise<void>((r) => (updated = r));
    const reopen = core.store.transaction(async (tx) => {
      await tx.crisis.update({ where: { id: race.id }, data: { status: 'active', stoodDownAt: null, version: { increment: 1 } } });
      updated();
      await held;
    });
    await locked;
    // The erasure reads the committed state (stood down, due), then waits for the crisis row.
    const erasing = eraseDue(core.store, systemMeta('race'), { now: clock.now(), timeZone: 'Europe/Paris', runId: 'race', by: 'daily run' });
    if (core.store.provider === 'postgresql') {
      const waiting = async () => Number((await core.store.db.$queryRawUnsafe<{ n: unknown }[]>(`SELECT COUNT(*) AS "n" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))[0]?.n ?? 0);
      for (let i = 0; i < 500 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await waiting()).toBeGreaterThan(0);
    } else {
      // SQLite: the erasure's write transaction cannot begin before the reopening commits.
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    await reopen;
    // (Run after the tests above, nothing else is due; run alone, their records are, and go.)
    expect((await erasing).crises).not.toContain('RACE');
    const person = await core.store.crises.personByNumber(n);
    expect(person).toMatchObject({ fullName: 'Racy Raceson' });
    const audited = await core.store.db.auditEntry.findMany({ where: { entity: 'retention', entityId: 'race' } });
    expect(JSON.stringify(audited)).not.toContain(person?.id ?? '?');
  });
});
