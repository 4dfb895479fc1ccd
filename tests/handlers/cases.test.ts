// /case end to end through the real dispatcher and a real database: references, the log form,
// privacy of cards and lists, the lifecycle and its history, assignment, notes, the version fence,
// list filters and service-level timers. SQLite always; the concurrency that matters across
// replicas again on PostgreSQL (three cores on one database) when TEST_POSTGRES_URL is set.
import type { Core } from '../../src/core';
import type { MessageReply, Reply } from '../../src/domain/reply';
import { caseCard } from '../../src/handlers/case/case-view';
import { MemberNames } from '../../src/handlers/roster/roster-common';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { freshPostgres, freshSqlite, pgAdminUrl, type TestDb } from '../helpers/db';

const MIN = 60_000;
const HOUR = 60 * MIN;
const MISSION = { MISSION_TIMEZONE: 'Europe/Paris' };

/** The case the privacy tests log: every field, with the shapes people type. */
const FULL_CASE = [
  '/case new category=detention priority=p1 name="Jean-Luc Picard" reporter=police',
  'summary="Arrested at CDG airport after a fight in the queue"',
  'dob=1980-07-13 nationality=French passport="ab 12 34 567"',
  'city=Paris country=France location="Commissariat du 8e"',
  'contact="Through the station desk"',
  'nok_name="Beverly Crusher" nok_relationship=partner nok_phone="+44 20 7946 0000" nok_email=Beverly.Crusher@Example.org',
  'consent=yes',
].join(' ');
/**
 * What must never leave the private view: the name, passport, date of birth, phone, next of kin and
 * exact location. (No short digit runs: they turn up inside random ids.)
 */
const PERSONAL = ['Jean-Luc Picard', 'Picard', 'AB1234567', 'ab 12 34 567', '1980-07-13', '+442079460000', '+44 20 7946 0000', 'Beverly', 'Crusher', 'Commissariat'];

function quick(priority = 'P2', category = 'document', name = 'Ann Example', extra = ''): string {
  return `/case new category=${category} priority=${priority} name="${name}" reporter=self summary="Lost her passport on the metro" city=Lyon ${extra}`.trim();
}

function refIn(r: Reply): string {
  const m = /C-\d{4}-\d{5}/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no case reference in ${JSON.stringify(r)}`);
  return m[0];
}

function field(r: MessageReply, label: string): string | undefined {
  return r.fields?.find((f) => f.label === label)?.value;
}

function expectNoPersonalData(what: unknown): void {
  const s = JSON.stringify(what);
  for (const p of PERSONAL) expect(s).not.toContain(p);
}

async function caseRow(core: Core, ref: string) {
  const c = await core.store.cases.byRef(ref);
  if (!c) throw new Error(`case ${ref} not stored`);
  return c;
}

async function jobsFor(core: Core, kind: string, caseId: string) {
  const rows = await core.store.db.job.findMany({ where: { kind }, orderBy: { dueAt: 'asc' } });
  return rows.filter((j) => (JSON.parse(j.payload) as { caseId?: string }).caseId === caseId);
}

async function deliveries(core: Core) {
  const rows = await core.store.db.job.findMany({ where: { kind: 'deliver' } });
  return rows.map((j) => ({ key: j.idempotencyKey, payload: JSON.parse(j.payload) as { to: { kind: string; memberId?: string }; reply: MessageReply } }));
}

async function addMembers(core: Core): Promise<void> {
  const root = as(core, 'root');
  for (const line of [
    'handle=alee name="Ana Lee" tz=Europe/Paris roles=officer',
    'handle=bob name="Bob Ray" tz=Europe/Paris roles=officer',
    'handle=cy name="Cy Diaz" tz=Europe/Paris roles=leader',
    'handle=adm name="Ada Min" tz=Europe/Paris roles=admin',
    'handle=guest name="Gus Guest" tz=Europe/Paris',
  ]) {
    expect(msg(await root.run(`/duty member add ${line}`)).ok).toBe(true);
  }
}

describe('cases [sqlite]', () => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-11-23T09:00:00Z'); // Monday 10:00 in Paris
  const alee = () => as(core, 'alee');
  const bob = () => as(core, 'bob');
  const memberId = async (handle: string): Promise<string> => (await core.store.members.byHandle(handle))?.id as string;

  beforeAll(async () => {
    db = await freshSqlite();
    core = await coreOn(db, MISSION, clock.now);
    await addMembers(core);
    // The duty channel new case cards go to.
    expect(msg(await as(core, 'root').run('/case channel slack:C42')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('30 cases logged at once get C-2026-00001 … C-2026-00030: no gap, no repeat', async () => {
    clock.set('2026-11-23T09:00:00Z');
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? alee() : bob()).run(quick('P3', 'document', `Person Number${i}`))));
    for (const r of replies) expect(msg(r).ok).toBe(true);
    const expected = Array.from({ length: 30 }, (_, i) => `C-2026-${String(i + 1).padStart(5, '0')}`);
    expect(replies.map(refIn).sort()).toEqual(expected);
    const rows = await core.store.db.case.findMany({ orderBy: { number: 'asc' } });
    expect(rows.map((c) => c.ref)).toEqual(expected);
    expect(rows.map((c) => [c.year, c.number])).toEqual(expected.map((_, i) => [2026, i + 1]));
    expect(new Set(rows.map((c) => c.subjectName)).size).toBe(30);
    expect((await core.store.db.counter.findUnique({ where: { name: 'case:2026' } }))?.value).toBe(30);
  });

  test('the reference year is the mission\'s: 23:30 UTC on 31 December is already next year in Paris', async () => {
    clock.set('2026-12-31T22:30:00Z'); // 23:30 in Paris
    const last = refIn(await alee().run(quick()));
    expect(last).toMatch(/^C-2026-\d{5}$/);
    clock.set('2026-12-31T23:30:00Z'); // 00:30 on 1 January in Paris, still 2026 in UTC
    expect(refIn(await alee().run(quick()))).toBe('C-2027-00001');
    expect(refIn(await bob().run(quick()))).toBe('C-2027-00002');
    clock.set('2026-11-23T09:00:00Z');
    // The 2026 sequence goes on where it stopped.
    const next = refIn(await alee().run(quick()));
    expect(Number(next.slice(-5))).toBe(Number(last.slice(-5)) + 1);
  });

  test('/case new inline: every field saved, synonyms read, passport and next of kin normalised', async () => {
    clock.set('2026-11-23T10:00:00Z');
    const r = msg(await alee().run(FULL_CASE));
    expect(r.ok).toBe(true);
    const ref = refIn(r);
    expect(r.title).toBe(`Case ${ref} logged`);
    const c = await caseRow(core, ref);
    expect(c).toMatchObject({
      category: 'arrest',
      priority: 'P1',
      status: 'new',
      version: 1,
      subjectName: 'Jean-Luc Picard',
      subjectInitials: 'J.-L. P.',
      dateOfBirth: '1980-07-13',
      nationality: 'French',
      passportNumber: 'AB1234567',
      city: 'Paris',
      country: 'France',
      location: 'Commissariat du 8e',
      contactDetails: 'Through the station desk',
      nokName: 'Beverly Crusher',
      nokRelationship: 'partner',
      nokPhone: '+442079460000',
      nokEmail: 'beverly.crusher@example.org',
      consent: 'yes',
      reporter: 'police',
      summary: 'Arrested at CDG airport after a fight in the queue',
      openedById: await memberId('alee'),
      assigneeId: null,
      cardChannel: 'slack:C42',
    });
    expect(c.openedAt.toISOString()).toBe('2026-11-23T10:00:00.000Z');
    const events = await core.store.db.caseEvent.findMany({ where: { caseId: c.id } });
    expect(events.map((e) => [e.type, e.toValue, e.byId])).toEqual([['created', 'new', await memberId('alee')]]);
  });

  test('/case new without arguments opens the form with its fields', async () => {
    const r = await alee().run('/case new');
    expect(r.kind).toBe('form');
    if (r.kind !== 'form') return;
    expect(r.form.command).toBe('case new');
    const names = r.form.fields.map((f) => f.name);
    for (const n of ['category', 'priority', 'name', 'summary', 'reporter', 'dob', 'nationality', 'passport', 'city', 'country', 'location', 'contact', 'nok_name', 'nok_relationship', 'nok_phone', 'nok_email', 'consent', 'assignee']) {
      expect(names).toContain(n);
    }
    expect(r.form.fields.filter((f) => f.required).map((f) => f.name).sort()).toEqual(['category', 'name', 'priority', 'reporter', 'summary']);
  });

  describe('a rejected form comes back with the error beside the field, and nothing is saved', () => {
    beforeAll(() => clock.set('2026-11-23T10:00:00Z')); // 2026-11-24 is tomorrow in Paris
    const good = { category: 'arrest', priority: 'P2', name: 'Maria Garcia Lopez', summary: 'Detained at the port', reporter: 'police', city: 'Marseille' };
    const bad: [string, Record<string, string>, string, RegExp][] = [
      ['a missing name', { name: '' }, 'name', /name/i],
      ['a date of birth in the future', { dob: '2026-11-24' }, 'dob', /future/],
      ['a 10,000-character summary', { summary: 'x'.repeat(10_000) }, 'summary', /10,000/],
      ['an invalid next-of-kin phone', { nok_name: 'Pedro Garcia', nok_phone: '12345' }, 'nok_phone', /phone/],
    ];
    test.each(bad)('%s', async (_what, change, fieldName, message) => {
      const before = await core.store.db.case.count();
      const auditBefore = await core.store.db.auditEntry.count();
      const r = await alee().submit('case new', { ...good, ...change });
      expect(r.kind).toBe('form');
      if (r.kind !== 'form') return;
      expect(r.form.command).toBe('case new');
      expect(r.form.errors?.[fieldName]).toMatch(message);
      // What was typed is kept for the person to correct.
      expect(r.form.values?.category).toBe('arrest');
      expect(await core.store.db.case.count()).toBe(before);
      expect(await core.store.db.auditEntry.count()).toBe(auditBefore);
    });

    test('all four mistakes at once: all four errors, each beside its field', async () => {
      const before = await core.store.db.case.count();
      const r = await alee().submit('case new', { ...good, name: '', dob: '2026-11-24', summary: 'x'.repeat(10_000), nok_name: 'Pedro Garcia', nok_phone: '12345' });
      expect(r.kind).toBe('form');
      if (r.kind !== 'form') return;
      expect(Object.keys(r.form.errors ?? {}).sort()).toEqual(expect.arrayContaining(['dob', 'name', 'nok_phone', 'summary']));
      expect(await core.store.db.case.count()).toBe(before);
    });

    test('a correct submission is saved', async () => {
      const before = await core.store.db.case.count();
      const r = msg(await alee().submit('case new', { ...good, dob: '1990-02-03', passport: ' x1 23 45 67 ', consent: 'no' }));
      expect(r.ok).toBe(true);
      const c = await caseRow(core, refIn(r));
      expect(c).toMatchObject({ subjectName: 'Maria Garcia Lopez', subjectInitials: 'M. G. L.', passportNumber: 'X1234567', consent: 'no', dateOfBirth: '1990-02-03' });
      expect(await core.store.db.case.count()).toBe(before + 1);
    });
  });

  describe('privacy', () => {
    let ref: string;
    let id: string;
    beforeAll(async () => {
      clock.set('2026-11-23T11:00:00Z');
      const r = msg(await alee().run(FULL_CASE));
      ref = refIn(r);
      id = (await caseRow(core, ref)).id;
    });

    test('the card and the list rows show reference, category, priority, status, city and initials, nothing personal', async () => {
      const logged = msg(await alee().run(FULL_CASE));
      const c = await caseRow(core, refIn(logged));
      // What the duty channel gets.
      const card = caseCard(c, await MemberNames.load(core.store), 'Europe/Paris', clock.now().getTime());
      expect(card.visibility).toBe('channel');
      for (const r of [logged, card]) {
        const t = textOf(r);
        expect(t).toContain(c.ref);
        expect(t).toContain('Arrest or detention');
        expect(t).toContain('P1');
        expect(t).toContain('New');
        expect(t).toContain('Paris');
        expect(t).toContain('J.-L. P.');
        expectNoPersonalData(r);
      }
      // The card job carries the case id only.
      const cardJobs = await jobsFor(core, 'case-card', c.id);
      expect(cardJobs).toHaveLength(1);
      expectNoPersonalData(cardJobs);

      const list = msg(await bob().run('/case list category=arrest P1'));
      const row = list.rows?.find((x) => x.text.includes(ref));
      expect(row).toBeDefined();
      for (const want of [ref, 'Arrest or detention', 'P1', 'New', 'Paris', 'J.-L. P.']) expect(row?.text).toContain(want);
      expectNoPersonalData(list);
      // No job (a DM, a card, a timer) carries personal data either.
      expectNoPersonalData(await core.store.db.job.findMany());
    });

    test('/case show as an officer: full details, privately, and the view is audited', async () => {
      const before = await core.store.db.auditEntry.count({ where: { entity: 'case', entityId: id, action: 'view' } });
      const r = msg(await bob().run(`/case show ${ref}`));
      expect(r.ok).toBe(true);
      expect(r.visibility).toBe('direct'); // a DM (Slack) or the 1:1 chat (Teams), never the channel
      expect(field(r, 'Name')).toBe('Jean-Luc Picard');
      expect(field(r, 'Passport')).toBe('AB1234567');
      expect(field(r, 'Date of birth')).toBe('1980-07-13');
      expect(field(r, 'Next of kin')).toContain('+442079460000');
      expect(textOf(r)).toContain('Arrested at CDG airport');
      const views = await core.store.db.auditEntry.findMany({ where: { entity: 'case', entityId: id, action: 'view' } });
      expect(views).toHaveLength(before + 1);
      expect(views.at(-1)?.actorId).toBe(await memberId('bob'));
      expectNoPersonalData(views);
    });

    test('/case show as an admin without a case role: the card, no personal data, nothing audited as a view', async () => {
      const before = await core.store.db.auditEntry.count({ where: { action: 'view' } });
      const r = msg(await as(core, 'adm').run(`/case show ${ref}`));
      expect(r.ok).toBe(true);
      expect(textOf(r)).toContain(ref);
      expect(textOf(r)).toContain('J.-L. P.');
      expectNoPersonalData(r);
      expect(await core.store.db.auditEntry.count({ where: { action: 'view' } })).toBe(before);
    });

    test('a member with no case role is refused every /case command', async () => {
      const guest = as(core, 'guest');
      for (const cmd of [`/case show ${ref}`, '/case list', `/case ack ${ref}`, `/case note ${ref} hello`, quick()]) {
        const r = msg(await guest.run(cmd));
        expect(r.error?.code).toBe('FORBIDDEN');
        expectNoPersonalData(r);
      }
      expect((await caseRow(core, ref)).version).toBe(1);
    });

    test('the audit entry of the opening proves who and what without the name or passport', async () => {
      const open = await core.store.db.auditEntry.findMany({ where: { entity: 'case', entityId: id, action: 'open' } });
      expect(open).toHaveLength(1);
      expect(open[0]?.actorId).toBe(await memberId('alee'));
      const after = JSON.parse(open[0]?.after ?? '{}') as Record<string, unknown>;
      expect(after.ref).toBe(ref);
      expect(after.subjectInitials).toBe('J.-L. P.');
      expectNoPersonalData(open);
      // Nor does any other audit entry of any case.
      expectNoPersonalData(await core.store.db.auditEntry.findMany({ where: { entity: 'case' } }));
    });
  });

  test('lifecycle: ack → in progress → waiting → resolved (outcome) → closed → reopened (reason), each change in the history with who and when', async () => {
    clock.set('2026-11-24T09:00:00Z');
    const ref = refIn(await alee().run(quick('P2', 'hospital')));
    const c0 = await caseRow(core, ref);
    const [aleeId, bobId] = [await memberId('alee'), await memberId('bob')];

    clock.set('2026-11-24T09:05:00Z');
    const ack = msg(await alee().run(`/case ack ${ref}`));
    expect(ack.ok).toBe(true);
    expect(ack.title).toBe(`Case ${ref} acknowledged`);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'acknowledged', version: 2, acknowledgedById: aleeId, acknowledgedAt: new Date('2026-11-24T09:05:00Z') });

    // Twice: refused, said plainly, nothing changes.
    clock.set('2026-11-24T09:06:00Z');
    const again = msg(await bob().run(`/case ack ${ref}`));
    expect(again.ok).toBe(false);
    expect(again.error?.message).toMatch(/already acknowledged/i);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'acknowledged', version: 2, acknowledgedById: aleeId, acknowledgedAt: new Date('2026-11-24T09:05:00Z') });

    clock.set('2026-11-24T09:10:00Z');
    expect(msg(await bob().run(`/case status ${ref} in-progress`)).title).toBe(`Case ${ref}: In progress`);
    clock.set('2026-11-24T09:20:00Z');
    expect(msg(await bob().run(`/case status ${ref} waiting for the hospital's medical report`)).ok).toBe(true);
    expect((await caseRow(core, ref)).status).toBe('waiting');

    // Resolving needs an outcome: the command alone opens the form, the status word alone is refused.
    const form = await bob().run(`/case resolve ${ref}`);
    expect(form.kind).toBe('form');
    if (form.kind === 'form') {
      expect(form.form.values?.ref).toBe(ref);
      expect(form.form.fields.map((f) => f.name)).toContain('outcome');
    }
    const bare = msg(await bob().run(`/case status ${ref} resolved`));
    expect(bare.ok).toBe(false);
    expect(bare.error?.code).toBe('OUTCOME_REQUIRED');
    expect(bare.error?.message).toMatch(/outcome/i);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'waiting', version: 4, outcome: null, resolvedAt: null });

    clock.set('2026-11-24T11:00:00Z');
    expect(msg(await bob().run(`/case resolve ${ref} Discharged and flown home`)).title).toBe(`Case ${ref} resolved`);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'resolved', outcome: 'Discharged and flown home', resolvedById: bobId, resolvedAt: new Date('2026-11-24T11:00:00Z') });

    clock.set('2026-11-24T12:00:00Z');
    expect(msg(await alee().run(`/case close ${ref}`)).title).toBe(`Case ${ref} closed`);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'closed', outcome: 'Discharged and flown home', closedById: aleeId, closedAt: new Date('2026-11-24T12:00:00Z') });

    // Reopening needs a reason.
    const reopenForm = await alee().run(`/case reopen ${ref}`);
    expect(reopenForm.kind).toBe('form');
    const blank = await alee().submit('case reopen', { ref, reason: '   ' });
    expect(blank.kind === 'form' && blank.form.errors?.reason).toBeTruthy();
    expect((await caseRow(core, ref)).status).toBe('closed');

    clock.set('2026-11-25T08:00:00Z');
    expect(msg(await alee().run(`/case reopen ${ref} Readmitted to hospital overnight`)).title).toBe(`Case ${ref} reopened`);
    const c = await caseRow(core, ref);
    expect(c).toMatchObject({ status: 'in-progress', outcome: null, closedAt: null, resolvedAt: null, version: 7, acknowledgedById: aleeId });

    const events = await core.store.db.caseEvent.findMany({ where: { caseId: c0.id }, orderBy: { id: 'asc' } });
    expect(events.map((e) => ({ type: e.type, from: e.fromValue, to: e.toValue, by: e.byId, byName: e.byName, at: e.at.toISOString(), text: e.text }))).toEqual([
      { type: 'created', from: null, to: 'new', by: aleeId, byName: 'Ana Lee', at: '2026-11-24T09:00:00.000Z', text: 'Opened by Ana Lee (P2)' },
      { type: 'status', from: 'new', to: 'acknowledged', by: aleeId, byName: 'Ana Lee', at: '2026-11-24T09:05:00.000Z', text: null },
      { type: 'status', from: 'acknowledged', to: 'in-progress', by: bobId, byName: 'Bob Ray', at: '2026-11-24T09:10:00.000Z', text: null },
      { type: 'status', from: 'in-progress', to: 'waiting', by: bobId, byName: 'Bob Ray', at: '2026-11-24T09:20:00.000Z', text: "for the hospital's medical report" },
      { type: 'status', from: 'waiting', to: 'resolved', by: bobId, byName: 'Bob Ray', at: '2026-11-24T11:00:00.000Z', text: 'Discharged and flown home' },
      { type: 'status', from: 'resolved', to: 'closed', by: aleeId, byName: 'Ana Lee', at: '2026-11-24T12:00:00.000Z', text: null },
      { type: 'reopened', from: 'closed', to: 'in-progress', by: aleeId, byName: 'Ana Lee', at: '2026-11-25T08:00:00.000Z', text: 'Readmitted to hospital overnight' },
    ]);
    // Every change audited, under the actor.
    const audit = await core.store.db.auditEntry.findMany({ where: { entity: 'case', entityId: c0.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['open', 'acknowledge', 'set-status', 'set-status', 'resolve', 'close', 'reopen']);
  });

  test('closing a new case needs an outcome', async () => {
    clock.set('2026-11-25T09:00:00Z');
    const ref = refIn(await alee().run(quick('P3', 'welfare')));
    const r = msg(await alee().run(`/case close ${ref}`));
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('OUTCOME_REQUIRED');
    expect(r.error?.fields?.outcome).toMatch(/outcome/);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'new', version: 1, closedAt: null, outcome: null });
    expect(msg(await alee().run(`/case close ${ref} outcome="Logged twice: duplicate"`)).ok).toBe(true);
    expect(await caseRow(core, ref)).toMatchObject({ status: 'closed', outcome: 'Logged twice: duplicate' });
  });

  test('assign: me, @officer (who gets a DM), never someone without a case role', async () => {
    clock.set('2026-11-25T10:00:00Z');
    const ref = refIn(await alee().run(quick('P2', 'crime')));
    const c0 = await caseRow(core, ref);
    const [aleeId, bobId, admId, guestId] = [await memberId('alee'), await memberId('bob'), await memberId('adm'), await memberId('guest')];
    const dmsTo = async (id: string) => (await deliveries(core)).filter((d) => d.payload.to.memberId === id && d.key.startsWith(`case:${c0.id}:`));

    expect(msg(await alee().run(`/case assign ${ref} me`)).title).toBe(`Case ${ref} assigned to Ana Lee`);
    expect((await caseRow(core, ref)).assigneeId).toBe(aleeId);
    expect(await dmsTo(aleeId)).toHaveLength(0);

    expect(msg(await alee().run(`/case assign ${ref} @bob`)).title).toBe(`Case ${ref} assigned to Bob Ray`);
    expect((await caseRow(core, ref)).assigneeId).toBe(bobId);
    const dm = await dmsTo(bobId);
    expect(dm).toHaveLength(1);
    expect(dm[0]?.payload.to).toEqual({ kind: 'member', memberId: bobId });
    expect(dm[0]?.payload.reply.title).toBe(`Case ${ref} is yours`);
    expect(JSON.stringify(dm[0]?.payload.reply)).toContain(`/case show ${ref}`);
    expectNoPersonalData(dm);

    const version = (await caseRow(core, ref)).version;
    const events = await core.store.db.caseEvent.count({ where: { caseId: c0.id } });
    for (const who of ['@adm', '@guest']) {
      const r = msg(await alee().run(`/case assign ${ref} ${who}`));
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('INVALID_ASSIGNEE');
      expect(r.error?.message).toMatch(/no case role/);
    }
    expect(msg(await alee().run(`/case assign ${ref} @ghost`)).error?.message).toMatch(/no member/);
    expect(await caseRow(core, ref)).toMatchObject({ assigneeId: bobId, version });
    expect(await core.store.db.caseEvent.count({ where: { caseId: c0.id } })).toBe(events);
    expect(await dmsTo(admId)).toHaveLength(0);
    expect(await dmsTo(guestId)).toHaveLength(0);

    const history = await core.store.db.caseEvent.findMany({ where: { caseId: c0.id, type: 'assigned' }, orderBy: { id: 'asc' } });
    expect(history.map((e) => [e.fromValue, e.toValue, e.byId])).toEqual([
      [null, aleeId, aleeId],
      [aleeId, bobId, aleeId],
    ]);

    // Assigning while logging tells the assignee too; an admin-only assignee is refused there as well.
    const withAssignee = msg(await alee().run(quick('P2', 'crime', 'Tom Other', 'assignee=@bob')));
    const c1 = await caseRow(core, refIn(withAssignee));
    expect(c1.assigneeId).toBe(bobId);
    expect((await deliveries(core)).filter((d) => d.key.startsWith(`case:${c1.id}:assigned:`)).map((d) => d.payload.to.memberId)).toEqual([bobId]);
    const count = await core.store.db.case.count();
    const refused = msg(await alee().run(quick('P2', 'crime', 'Tom Other', 'assignee=@adm')));
    expect(refused.error?.fields?.assignee).toMatch(/no case role/);
    expect(await core.store.db.case.count()).toBe(count);
  });

  test('notes: one row each; 20 written at once by two officers all survive', async () => {
    clock.set('2026-11-25T11:00:00Z');
    const ref = refIn(await alee().run(quick('P2', 'missing')));
    const c0 = await caseRow(core, ref);
    const one = msg(await alee().run(`/case note ${ref} Called the police station, no news yet`));
    expect(one.ok).toBe(true);
    expect(one.title).toBe(`Note added to ${ref}`);
    const first = await core.store.cases.notes(c0.id);
    expect(first.map((n) => [n.text, n.authorId, n.authorName])).toEqual([['Called the police station, no news yet', await memberId('alee'), 'Ana Lee']]);

    clock.set('2026-11-25T11:30:00Z');
    const texts = Array.from({ length: 20 }, (_, i) => `update ${i} from ${i % 2 ? 'alee' : 'bob'}`);
    const replies = await Promise.all(texts.map((t, i) => (i % 2 ? alee() : bob()).run(`/case note ${ref} ${t}`)));
    expect(replies.map((r) => msg(r).ok)).toEqual(texts.map(() => true));
    const notes = await core.store.cases.notes(c0.id);
    expect(notes).toHaveLength(21);
    expect(notes.map((n) => n.text).sort()).toEqual(['Called the police station, no news yet', ...texts].sort());
    const bobId = await memberId('bob');
    expect(notes.filter((n) => n.authorId === bobId)).toHaveLength(10);
    expect((await caseRow(core, ref)).version).toBe(22);
    expect(textOf(await alee().run(`/case show ${ref}`))).toContain('Notes (21)');
  });

  test('two officers change the same case at once from the same card: one wins, the other is told and shown the case as it is', async () => {
    clock.set('2026-11-25T12:00:00Z');
    const ref = refIn(await alee().run(quick('P1', 'death')));
    const c0 = await caseRow(core, ref);
    const [ra, rb] = await Promise.all([alee().run(`/case ack ${ref} version=1`), bob().run(`/case status ${ref} in-progress version=1`)]);
    const [a, b] = [msg(ra), msg(rb)];
    expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
    const winner = a.ok ? a : b;
    const loser = a.ok ? b : a;
    expect(loser.error?.code).toBe('CASE_CHANGED');
    const c = await caseRow(core, ref);
    expect(c.version).toBe(2);
    expect(c.status).toBe(a.ok ? 'acknowledged' : 'in-progress');
    expect(field(loser, 'Status')).toBe(a.ok ? 'Acknowledged' : 'In progress');
    expect(field(winner, 'Status')).toBe(field(loser, 'Status'));
    expect(await core.store.db.caseEvent.count({ where: { caseId: c0.id, type: 'status' } })).toBe(1);

    // A stale card on its own is refused too.
    const stale = msg(await alee().run(`/case status ${ref} waiting version=1`));
    expect(stale.error?.code).toBe('CASE_CHANGED');
    expect(field(stale, 'Status')).toBe(field(winner, 'Status'));
    expect(await caseRow(core, ref)).toMatchObject({ version: 2, status: c.status });
    // The current version goes through.
    expect(msg(await alee().run(`/case status ${ref} waiting version=2`)).ok).toBe(true);
  });

  test('bad input: unknown case, malformed reference, unknown status and list filter; nothing changes', async () => {
    const cases = await core.store.db.case.count();
    const audit = await core.store.db.auditEntry.count();
    for (const cmd of ['/case show C-2026-99999', '/case ack C-2026-99999', '/case note C-2026-99999 hello', '/case status C-2026-99999 waiting', '/case assign C-2026-99999 me', '/case reopen C-2026-99999 why not']) {
      expect(msg(await alee().run(cmd)).error?.code).toBe('UNKNOWN_CASE');
    }
    for (const cmd of ['/case show banana', '/case show C-26-1', '/case ack C-2026-0', '/case note 42 hello']) {
      const r = msg(await alee().run(cmd));
      expect(r.error?.code).toBe('INVALID_INPUT');
      expect(r.error?.fields?.ref).toMatch(/case reference/);
    }
    expect(msg(await alee().run('/case status C-2026-00001 sideways')).error?.fields?.status).toMatch(/not a status/);
    const unknownWord = msg(await alee().run('/case list banana'));
    expect(unknownWord.error?.code).toBe('INVALID_INPUT');
    expect(unknownWord.error?.message).toMatch(/"banana" is not a filter; use mine, open, all/);
    const unknownKey = msg(await alee().run('/case list colour=red'));
    expect(unknownKey.error?.code).toBe('INVALID_INPUT');
    // Names the word it did not understand and what it understands.
    expect(unknownKey.error?.message).toMatch(/colour/);
    expect(unknownKey.error?.message).toMatch(/mine.*open.*all.*P1.*category=.*status=/);
    expect(msg(await alee().run('/case list category=spaceship')).error?.message).toMatch(/not a category/);
    expect(msg(await alee().run('/case list status=sleeping')).error?.message).toMatch(/not a status/);
    expect(await core.store.db.case.count()).toBe(cases);
    expect(await core.store.db.auditEntry.count()).toBe(audit);
  });

  test('/case list: open by default, mine, all, P1, category=…, status=…, with correct totals', async () => {
    clock.set('2026-11-26T09:00:00Z');
    const cy = as(core, 'cy');
    const cyId = await memberId('cy');
    // Abduction cases exist only here.
    const refs: string[] = [];
    for (const [p, extra] of [['P2', ''], ['P3', 'assignee=@cy'], ['P1', 'assignee=@cy'], ['P4', '']] as const) {
      refs.push(refIn(await alee().run(quick(p, 'abduction', 'Kid Example', extra))));
    }
    expect(msg(await cy.run(`/case close ${refs[3]} outcome="Child found with the other parent"`)).ok).toBe(true);

    const titleTotal = (r: MessageReply): number => Number(/: (\d+)$/.exec(r.title ?? '')?.[1]);
    const refsIn = (r: MessageReply): string[] => (r.rows ?? []).map((x) => /C-\d{4}-\d{5}/.exec(x.text)?.[0] ?? '');

    const abductions = msg(await cy.run('/case list category=abduction'));
    expect(titleTotal(abductions)).toBe(3);
    expect(refsIn(abductions)).toEqual([refs[2], refs[0], refs[1]]); // P1, P2, P3
    // Categories by code, label word or synonym.
    expect(titleTotal(msg(await cy.run('/case list abduction')))).toBe(3);
    expect(titleTotal(msg(await cy.run('/case list category=detention')))).toBe(await core.store.db.case.count({ where: { status: { in: ['new', 'acknowledged', 'in-progress', 'waiting'] }, category: 'arrest' } }));
    expect(titleTotal(msg(await cy.run('/case list category=abduction status=closed')))).toBe(1);
    expect(titleTotal(msg(await cy.run('/case list all category=abduction')))).toBe(4);
    expect(titleTotal(msg(await cy.run('/case list category=abduction P1')))).toBe(1);

    const mine = msg(await cy.run('/case list mine'));
    expect(titleTotal(mine)).toBe(2);
    expect(refsIn(mine).sort()).toEqual([refs[1], refs[2]].sort());
    expect(await core.store.db.case.count({ where: { assigneeId: cyId, status: { in: ['new', 'acknowledged', 'in-progress', 'waiting'] } } })).toBe(2);

    // Totals against the stored cases, beyond the 25 rows a list shows.
    const open = { in: ['new', 'acknowledged', 'in-progress', 'waiting'] };
    const openList = msg(await cy.run('/case list'));
    const openCount = await core.store.db.case.count({ where: { status: open } });
    expect(openCount).toBeGreaterThan(25);
    expect(titleTotal(openList)).toBe(openCount);
    expect(openList.rows).toHaveLength(25);
    expect(openList.text).toContain(`of ${openCount}`);
    expect(titleTotal(msg(await cy.run('/case list open')))).toBe(openCount);
    expect(titleTotal(msg(await cy.run('/case list all')))).toBe(await core.store.db.case.count());
    const p1 = msg(await cy.run('/case list P1'));
    expect(titleTotal(p1)).toBe(await core.store.db.case.count({ where: { status: open, priority: 'P1' } }));
    for (const r of p1.rows ?? []) expect(r.text).toContain('P1');
    const closed = msg(await cy.run('/case list status=closed'));
    const closedCount = await core.store.db.case.count({ where: { status: 'closed' } });
    expect(closedCount).toBeGreaterThan(0);
    expect(titleTotal(closed)).toBe(closedCount);
    for (const r of closed.rows ?? []) expect(r.text).toContain('Closed');
    expect(titleTotal(msg(await cy.run('/case list category=arrest')))).toBe(await core.store.db.case.count({ where: { status: open, category: 'arrest' } }));
    expectNoPersonalData(openList);
  });

  test('service levels: P1 acknowledge in 15 min and update every 2 h; a P4 on Friday 18:00 is due Monday 10:00, mission time; the timers are jobs', async () => {
    clock.set('2026-11-25T14:07:00Z');
    const p1 = msg(await alee().run(quick('P1', 'medical')));
    const c1 = await caseRow(core, refIn(p1));
    expect(c1.openedAt.toISOString()).toBe('2026-11-25T14:07:00.000Z');
    expect(c1.ackDueAt?.toISOString()).toBe('2026-11-25T14:22:00.000Z');
    expect(c1.updateDueAt?.toISOString()).toBe('2026-11-25T16:07:00.000Z');
    expect((await jobsFor(core, 'case-ack-due', c1.id)).map((j) => j.dueAt.toISOString())).toEqual(['2026-11-25T14:22:00.000Z']);
    expect((await jobsFor(core, 'case-update-due', c1.id)).map((j) => j.dueAt.toISOString())).toEqual(['2026-11-25T16:07:00.000Z']);
    expect(c1.ackDueAt?.getTime()).toBe(c1.openedAt.getTime() + 15 * MIN);
    expect(c1.updateDueAt?.getTime()).toBe(c1.openedAt.getTime() + 2 * HOUR);

    clock.set('2026-11-27T17:00:00Z'); // Friday 18:00 in Paris
    const p4 = msg(await alee().run(quick('P4', 'document')));
    const c4 = await caseRow(core, refIn(p4));
    expect(c4.ackDueAt?.toISOString()).toBe('2026-11-30T09:00:00.000Z'); // Monday 10:00 in Paris
    expect(textOf(p4)).toContain('Acknowledge by Mon 30 Nov 10:00');
    expect((await jobsFor(core, 'case-ack-due', c4.id)).map((j) => j.dueAt.toISOString())).toEqual(['2026-11-30T09:00:00.000Z']);
    expect((await jobsFor(core, 'case-update-due', c4.id)).map((j) => j.dueAt.toISOString())).toEqual([new Date(Date.parse('2026-11-27T17:00:00Z') + 72 * HOUR).toISOString()]);

    // A note is the update owed: the next one moves out from it.
    clock.set('2026-11-25T15:00:00Z');
    msg(await alee().run(`/case note ${c1.ref} Ambulance on scene`));
    expect((await caseRow(core, c1.ref)).updateDueAt?.toISOString()).toBe('2026-11-25T17:00:00.000Z');
    expect((await jobsFor(core, 'case-update-due', c1.id)).map((j) => j.dueAt.toISOString())).toContain('2026-11-25T17:00:00.000Z');
  });
});

(pgAdminUrl ? describe : describe.skip)('cases on three cores sharing one database [postgresql]', () => {
  let db: TestDb;
  const cores: Core[] = [];
  const clock = manualClock('2026-11-23T09:00:00Z');

  beforeAll(async () => {
    db = await freshPostgres();
    for (let i = 0; i < 3; i++) cores.push(await coreOn(db, MISSION, clock.now));
    await addMembers(cores[0] as Core);
  });
  afterAll(async () => {
    for (const c of cores) await c.close();
    await db.drop();
  });

  test('10 cases logged at once on each of three cores get C-2026-00001 … C-2026-00030', async () => {
    const replies = await Promise.all(cores.flatMap((core, k) => Array.from({ length: 10 }, (_, i) => as(core, i % 2 ? 'alee' : 'bob').run(quick('P3', 'document', `Core${k} Person${i}`)))));
    for (const r of replies) expect(msg(r).ok).toBe(true);
    const expected = Array.from({ length: 30 }, (_, i) => `C-2026-${String(i + 1).padStart(5, '0')}`);
    expect(replies.map(refIn).sort()).toEqual(expected);
    const rows = await (cores[0] as Core).store.db.case.findMany({ orderBy: { number: 'asc' } });
    expect(rows.map((c) => c.ref)).toEqual(expected);
  });

  test('the same card pressed on two cores at once: one wins, the other gets CASE_CHANGED', async () => {
    const [c0, c1] = cores as [Core, Core, Core];
    const ref = refIn(await as(c0, 'alee').run(quick('P1', 'death', 'Kim Example')));
    const [ra, rb] = await Promise.all([as(c0, 'alee').run(`/case ack ${ref} version=1`), as(c1, 'bob').run(`/case status ${ref} in-progress version=1`)]);
    const [a, b] = [msg(ra), msg(rb)];
    expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
    const loser = a.ok ? b : a;
    expect(loser.error?.code).toBe('CASE_CHANGED');
    const c = await caseRow(c0, ref);
    expect(c.version).toBe(2);
    expect(field(loser, 'Status')).toBe(a.ok ? 'Acknowledged' : 'In progress');
    expect(await c0.store.db.caseEvent.count({ where: { caseId: c.id, type: 'status' } })).toBe(1);
  });

  test('20 notes at once from two cores all survive', async () => {
    const [c0, c1] = cores as [Core, Core, Core];
    const ref = refIn(await as(c0, 'alee').run(quick('P2', 'missing')));
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => as(i % 2 ? c0 : c1, i % 2 ? 'alee' : 'bob').run(`/case note ${ref} note ${i}`)));
    expect(replies.map((r) => msg(r).ok)).toEqual(replies.map(() => true));
    const c = await caseRow(c0, ref);
    expect(await c0.store.db.caseNote.count({ where: { caseId: c.id } })).toBe(20);
    expect(c.version).toBe(21);
  });

  test('/case list reads the shared database with the right totals', async () => {
    const [c0, , c2] = cores as [Core, Core, Core];
    const all = msg(await as(c2, 'cy').run('/case list all'));
    expect(all.title).toBe(`Cases (all): ${await c0.store.db.case.count()}`);
    const p1 = msg(await as(c2, 'cy').run('/case list P1 category=death'));
    expect(p1.title).toMatch(/: 1$/);
    expect(p1.rows?.[0]?.text).toMatch(/C-2026-00031\* .*P1 Death · K\. E\. · Lyon/);
  });
});
