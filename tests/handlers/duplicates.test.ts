// Possible duplicates through the real dispatcher and database: found when a person is added,
// listed with "Same person" and "Different people", merged field by field into the older record
// (the newer source wins, both note histories kept, reciprocal linked notes, one person fewer),
// decided once only (concurrent clicks: one wins, the other is told), closed for good as different
// people, and undone (fields, keys and statuses back; later edits kept and reported). SQLite, and
// PostgreSQL (two cores for the concurrent decisions) when TEST_POSTGRES_URL is set.
import crypto from 'node:crypto';
import pino from 'pino';
import type { Core } from '../../src/core';
import type { Reply } from '../../src/domain/reply';
import { commands } from '../../src/handlers';
import { duplicateCommands } from '../../src/handlers/crisis/duplicate.commands';
import { reportStatus } from '../../src/handlers/crisis/crisis.service';
import { historyOf } from '../../src/handlers/crisis/duplicate.service';
import { createDispatcher } from '../../src/handlers/dispatcher';
import type { Dispatcher } from '../../src/handlers/ports';
import type { PersonRecord } from '../../src/store/crisis.repository';
import { systemMeta } from '../../src/store/store';
import { coreOn, manualClock, msg, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';

const MISSION = { MISSION_TIMEZONE: 'Asia/Kathmandu' };

/** index.ts is registered elsewhere: the core's commands plus ours, each once. */
function dispatcherOf(core: Core, clock: () => Date): Dispatcher {
  return createDispatcher({ outbox: core.outbox, store: core.store, commands: [...commands, ...duplicateCommands.filter((c) => !commands.includes(c))], settings: core.settings, logger: pino({ level: 'silent' }), clock });
}

function speaker(d: Dispatcher, handle: string) {
  return { run: (text: string): Promise<Reply> => d.dispatch({ caller: { platform: 'console', externalId: handle }, origin: {}, kind: 'command', text, requestId: crypto.randomUUID() }) };
}

function numberIn(r: Reply): number {
  const m = /#(\d+)/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no person number in ${JSON.stringify(r)}`);
  return Number(m[1]);
}

/** The listed pair of these two people: its row, and the ids its buttons carry. */
function pairIn(r: Reply, x: number, y: number): { text: string; same: string; different: string } | null {
  const row = (msg(r).rows ?? []).find((w) => w.text.includes(`*#${x}*`) && w.text.includes(`*#${y}*`));
  if (!row) return null;
  const idOf = (label: string) => {
    const b = row.buttons?.find((x) => x.label === label);
    if (!b) throw new Error(`no ${label} button in ${row.text}`);
    return b.command.split(' ')[2] as string;
  };
  return { text: row.text, same: idOf('Same person'), different: idOf('Different people') };
}

const FIELDS = ['fullName', 'givenName', 'familyName', 'alternateNames', 'nameKey', 'sex', 'dateOfBirth', 'age', 'nationality', 'passportNumber', 'location', 'phone', 'email', 'needs', 'household', 'source', 'sourceDate'] as const;
function fieldsOf(p: PersonRecord | null): Partial<PersonRecord> {
  if (!p) throw new Error('no such person');
  return Object.fromEntries(FIELDS.map((f) => [f, p[f]]));
}

describeEachDb('possible duplicates', (fresh) => {
  let db: TestDb;
  let core: Core;
  /** A second core on the same database (PostgreSQL) for concurrent decisions; the same core on SQLite. */
  let core2: Core;
  let d: Dispatcher;
  let d2: Dispatcher;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const cara = () => speaker(d, 'cara');
  const pat = () => speaker(d2, 'pat');
  let crisisId = '';

  const person = async (n: number) => (await core.store.crises.personByNumber(n)) as PersonRecord;
  const total = async () => [...(await core.store.crises.statusCounts(crisisId)).values()].reduce((a, b) => a + b, 0);
  const keysOf = async (id: string) => (await core.store.db.personKey.findMany({ where: { personId: id } })).map((k) => k.key).sort();
  const add = async (args: string) => numberIn(await cara().run(`/person add ${args}`));
  const listing = () => cara().run('/crisis duplicates NPL-EQ');
  const pair = async (x: number, y: number) => {
    const p = pairIn(await listing(), x, y);
    if (!p) throw new Error(`pair #${x} #${y} not listed`);
    return p;
  };

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, MISSION, clock.now);
    core2 = db.provider === 'postgresql' ? await coreOn(db, MISSION, clock.now) : core;
    d = dispatcherOf(core, clock.now);
    d2 = dispatcherOf(core2, clock.now);
    const root = speaker(d, 'root');
    for (const line of ['handle=cara name="Cara Cell" roles=crisis', 'handle=pat name="Pat Partner" roles=crisis', 'handle=olly name="Olly Officer" roles=officer']) {
      expect(msg(await root.run(`/duty member add ${line}`)).ok).toBe(true);
    }
    expect(msg(await cara().run('/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal channel=slack:C77')).ok).toBe(true);
    crisisId = (await core.store.crises.byCode('NPL-EQ'))?.id as string;
  });
  afterAll(async () => {
    if (core2 !== core) await core2.close();
    await core.close();
    await db.drop();
  });

  let older = 0;
  let newer = 0;
  let pairId = '';
  let before: { older: PersonRecord; newer: PersonRecord; olderKeys: string[]; newerKeys: string[]; total: number };

  test('two records of one person: a candidate, listed side by side with both buttons', async () => {
    older = await add('name="José García" dob=1985-04-23 passport=XA1234567 phone="+34 600 000 001" nationality=Spanish location="Thamel, Kathmandu" needs=medical source=relative source_date=2026-11-20T10:00:00Z crisis=NPL-EQ');
    clock.advance(60_000);
    const r = msg(await cara().run('/person add name="Jose Garcia" dob=1985-04-23 passport=XA1234567 email=jose@example.org nationality=Spain needs=shelter source=self source_date=2026-11-21T10:00:00Z crisis=NPL-EQ'));
    newer = numberIn(r);
    expect(r.text).toContain('possible duplicate');
    expect(await core.store.db.duplicateCandidate.count({ where: { crisisId, status: 'open' } })).toBe(1);
    // A status on each, the newer record's report being the later one.
    expect(msg(await cara().run(`/person status ${older} safe "Called, fine" at=2026-11-22T05:00:00Z`)).ok).toBe(true);
    expect(msg(await cara().run(`/person status ${newer} in-hospital "Admitted to Bir hospital" at=2026-11-22T05:30:00Z`)).ok).toBe(true);

    const list = msg(await listing());
    expect(list.title).toBe('NPL-EQ: 1 possible duplicate');
    const p = pairIn(list, older, newer);
    expect(p).not.toBeNull();
    expect(p?.text).toContain('José García');
    expect(p?.text).toContain('Jose Garcia');
    expect(p?.text).toContain('same passport');
    // Older first.
    expect(p?.text.indexOf(`*#${older}*`)).toBeLessThan(p?.text.indexOf(`*#${newer}*`) ?? 0);
    expect(p?.same).toHaveLength(8);
    expect(p?.different).toBe(p?.same);
    pairId = p?.same as string;
  });

  test('access: the crisis cell only; unknown and malformed ids are told apart', async () => {
    const olly = speaker(d, 'olly');
    expect(msg(await olly.run('/crisis duplicates NPL-EQ')).error?.code).toBe('FORBIDDEN');
    expect(msg(await olly.run(`/crisis same ${pairId}`)).error?.code).toBe('FORBIDDEN');
    expect(msg(await olly.run(`/crisis different ${pairId}`)).error?.code).toBe('FORBIDDEN');
    const unknown = pairId.startsWith('0') ? 'ffffffff' : '00000000';
    expect(msg(await cara().run(`/crisis same ${unknown}`)).error?.code).toBe('UNKNOWN_CANDIDATE');
    expect(msg(await cara().run('/crisis same zz')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await cara().run(`/crisis unmerge ${pairId}`)).error?.code).toBe('NOT_MERGED');
    expect(await core.store.db.duplicateCandidate.count({ where: { crisisId, status: 'open' } })).toBe(1);
  });

  test('Same person: the older record survives with the newer values where it had them, both histories kept', async () => {
    before = { older: await person(older), newer: await person(newer), olderKeys: [], newerKeys: [], total: await total() };
    before.olderKeys = await keysOf(before.older.id);
    before.newerKeys = await keysOf(before.newer.id);
    const jobsBefore = await core.store.db.job.count({ where: { kind: 'crisis-board' } });
    clock.set('2026-11-22T06:30:00Z');

    const r = msg(await cara().run(`/crisis same ${pairId}`));
    expect(r.ok).toBe(true);
    expect(r.title).toBe(`Same person: #${newer} merged into #${older}`);
    expect(r.text).toContain(`/crisis unmerge ${pairId}`);
    expect(r.buttons?.map((b) => b.label)).toEqual(['Show', 'Undo']);

    const s = await person(older);
    const o = await person(newer);
    // The newer source wins where it has a value; the older fills the rest; needs are unioned.
    expect(s).toMatchObject({
      fullName: 'Jose Garcia',
      nameKey: 'garcia jose',
      dateOfBirth: '1985-04-23',
      passportNumber: 'XA1234567',
      phone: '+34600000001',
      email: 'jose@example.org',
      nationality: 'Spain',
      location: 'Thamel, Kathmandu',
      needs: ['medical', 'shelter'],
      sourceDate: new Date('2026-11-21T10:00:00Z'),
      // Provenance stays with each record (re-importing its file finds it).
      source: 'relative',
      mergedIntoId: null,
    });
    expect(o.mergedIntoId).toBe(s.id);
    expect(fieldsOf(o)).toEqual(fieldsOf(before.newer));
    // The survivor's status is the latest across both histories.
    expect(s.status).toBe('in-hospital');
    expect(s.statusAt).toEqual(new Date('2026-11-22T05:30:00Z'));

    // Notes stay where they were written; each record has a note linking it to the other.
    const ownNotes = await core.store.crises.notes(s.id);
    const otherNotes = await core.store.crises.notes(o.id);
    expect(ownNotes.map((n) => n.status)).toEqual([null, 'safe', null]);
    expect(otherNotes.map((n) => n.status)).toEqual([null, 'in-hospital', null]);
    expect(ownNotes[2]).toMatchObject({ linkedPersonId: o.id, text: `Same person as #${newer}`, status: null, sourceAt: clock.now() });
    expect(otherNotes[2]).toMatchObject({ linkedPersonId: s.id, status: null, sourceAt: clock.now() });
    expect(otherNotes[2]?.text).toContain(`Same person as #${older}`);
    const history = await historyOf(core.store, s.id);
    expect(history.slice(0, 4).map((n) => [n.status, n.fromNumber])).toEqual([
      [null, null],
      [null, newer],
      ['safe', null],
      ['in-hospital', newer],
    ]);
    // The two link notes share their instant: either order.
    expect(history.slice(4).map((n) => n.fromNumber).sort()).toEqual([newer, null].sort());
    expect(history[3]?.text).toBe('Admitted to Bir hospital');

    // Find returns only the survivor, by name or by passport; the merged record points to it.
    const byName = textOf(await cara().run('/person find jose garcia crisis=NPL-EQ'));
    expect(byName).toContain(`*#${older}*`);
    expect(byName).not.toContain(`*#${newer}*`);
    const byPassport = textOf(await cara().run('/person find XA1234567'));
    expect(byPassport).toContain(`*#${older}*`);
    expect(byPassport).not.toContain(`*#${newer}*`);
    expect(await keysOf(o.id)).toEqual([]);
    const shown = msg(await cara().run(`/person show ${newer}`));
    expect(shown.error?.code).toBe('MERGED');
    expect(shown.text).toContain(`#${older}`);

    // One person fewer on the board, refreshed by a job; the pair is no longer listed.
    expect(await total()).toBe(before.total - 1);
    expect(await core.store.db.job.count({ where: { kind: 'crisis-board' } })).toBeGreaterThan(jobsBefore);
    expect(pairIn(await listing(), older, newer)).toBeNull();
    const c = await core.store.crises.candidateById((await core.store.db.duplicateCandidate.findFirst({ where: { crisisId } }))?.id ?? '');
    expect(c?.status).toBe('same');
    expect(JSON.parse(c?.mergeUndo ?? '{}')).toMatchObject({ survivorId: s.id, mergedId: o.id, survivorStatusBefore: 'safe' });

    // The audit names numbers and fields, never personal data.
    const audit = await core.store.db.auditEntry.findMany({ where: { OR: [{ entity: 'duplicate' }, { entity: 'person', action: { in: ['merge', 'merged'] } }] } });
    expect(audit.length).toBe(3);
    const snapshots = audit.map((a) => `${a.before ?? ''} ${a.after ?? ''}`).join(' ');
    expect(snapshots).toContain('"email"');
    for (const secret of ['Garc', 'jose@', 'XA1234567', '+34', 'Spain', 'Thamel', 'hospital']) expect(snapshots).not.toContain(secret);
  });

  test('a second click on a decided pair is told who decided it', async () => {
    const again = msg(await cara().run(`/crisis same ${pairId}`));
    expect(again.error?.code).toBe('ALREADY_DECIDED');
    expect(again.text).toBe('Already decided by Cara Cell: the same person (merged).');
    expect(msg(await pat().run(`/crisis different ${pairId}`)).error?.code).toBe('ALREADY_DECIDED');
    expect(await core.store.db.personNote.count({ where: { linkedPersonId: { not: null } } })).toBe(2);
  });

  test('undo: both records back as before, keys restored, statuses recomputed from their own notes', async () => {
    clock.set('2026-11-22T07:00:00Z');
    const r = msg(await cara().run(`/crisis unmerge ${pairId}`));
    expect(r.ok).toBe(true);
    expect(r.title).toBe(`Merge undone: #${older} and #${newer} are separate records again`);
    expect(r.text).not.toContain('Edited since');

    const s = await person(older);
    const o = await person(newer);
    expect(fieldsOf(s)).toEqual(fieldsOf(before.older));
    expect(fieldsOf(o)).toEqual(fieldsOf(before.newer));
    expect(o.mergedIntoId).toBeNull();
    expect(await keysOf(s.id)).toEqual(before.olderKeys);
    expect(await keysOf(o.id)).toEqual(before.newerKeys);
    expect([s.status, s.statusAt]).toEqual(['safe', new Date('2026-11-22T05:00:00Z')]);
    expect([o.status, o.statusAt]).toEqual(['in-hospital', new Date('2026-11-22T05:30:00Z')]);
    expect((await core.store.crises.notes(s.id)).at(-1)?.text).toContain('undone');
    expect((await core.store.crises.notes(o.id)).at(-1)?.text).toContain('undone');

    const byName = textOf(await cara().run('/person find jose garcia crisis=NPL-EQ'));
    expect(byName).toContain(`*#${older}*`);
    expect(byName).toContain(`*#${newer}*`);
    expect(textOf(await cara().run('/person find XA1234567'))).toContain(`*#${newer}*`);
    expect(msg(await cara().run(`/person show ${newer}`)).ok).toBe(true);
    expect(await total()).toBe(before.total);
    expect((await core.store.db.duplicateCandidate.findFirst({ where: { crisisId } }))?.status).toBe('undone');

    // The "same person" notes stay in the history, but PFIF no longer links the two records.
    const pfif = msg(await cara().run('/crisis export NPL-EQ pfif'));
    expect((pfif.attachments?.[0]?.content as Buffer).toString('utf8')).not.toContain('linked_person_record_id');

    const again = msg(await cara().run(`/crisis unmerge ${pairId}`));
    expect(again.error?.code).toBe('ALREADY_DECIDED');
    expect(again.text).toBe('That merge was already undone by Cara Cell.');
    expect(msg(await cara().run(`/crisis same ${pairId}`)).error?.code).toBe('ALREADY_DECIDED');
  });

  let anna: [number, number] = [0, 0];
  let annaPair = '';

  test('concurrent clicks: Same twice, then Same against Different; one wins, the other is told', async () => {
    const a1 = await add('name="Anna Schmidt" dob=1990-02-03 passport=C01X00T47 phone="+49 151 0000001" nationality=German crisis=NPL-EQ source_date=2026-11-20T08:00:00Z');
    clock.advance(60_000);
    const a2 = await add('name="Anna Schmidt" dob=1990-02-03 passport=C01X00T47 email=anna@example.de nationality=Austrian crisis=NPL-EQ source_date=2026-11-21T08:00:00Z');
    anna = [a1, a2];
    annaPair = (await pair(a1, a2)).same;
    const twice = (await Promise.all([cara().run(`/crisis same ${annaPair}`), pat().run(`/crisis same ${annaPair}`)])).map(msg);
    expect(twice.filter((r) => r.ok)).toHaveLength(1);
    const loser = twice.find((r) => !r.ok);
    expect(loser?.error?.code).toBe('ALREADY_DECIDED');
    expect(loser?.text).toMatch(/^Already decided by (Cara Cell|Pat Partner): the same person \(merged\)\.$/);
    const [s, o] = [await person(a1), await person(a2)];
    expect(o.mergedIntoId).toBe(s.id);
    expect(s.email).toBe('anna@example.de');
    const linked = await core.store.db.personNote.count({ where: { personId: { in: [s.id, o.id] }, linkedPersonId: { not: null } } });
    expect(linked).toBe(2);

    const p1 = await add('name="Pema Lama" dob=1970 passport=NP0099887 crisis=NPL-EQ');
    clock.advance(60_000);
    const p2 = await add('name="Pema Lama" dob=1970 passport=NP0099887 phone="+977 980 0000000" crisis=NPL-EQ');
    const pemaPair = (await pair(p1, p2)).same;
    const mixed = (await Promise.all([cara().run(`/crisis same ${pemaPair}`), pat().run(`/crisis different ${pemaPair}`)])).map(msg);
    expect(mixed.filter((r) => r.ok)).toHaveLength(1);
    expect(mixed.find((r) => !r.ok)?.error?.code).toBe('ALREADY_DECIDED');
    const c = await core.store.db.duplicateCandidate.findFirst({ where: { id: { startsWith: pemaPair } } });
    const merged = (await person(p2)).mergedIntoId;
    if (c?.status === 'same') {
      expect(mixed[0]?.ok).toBe(true);
      expect(merged).toBe((await person(p1)).id);
    } else {
      expect(c?.status).toBe('different');
      expect(mixed[1]?.ok).toBe(true);
      expect(merged).toBeNull();
      expect(await core.store.db.personNote.count({ where: { personId: { in: [(await person(p1)).id, (await person(p2)).id] }, linkedPersonId: { not: null } } })).toBe(0);
    }
  }, 60_000);

  test('undo after a later edit keeps the edit and reports it', async () => {
    const [a1, a2] = anna;
    const s = await person(a1);
    // Someone corrects the email the merge brought in.
    await core.store.change(systemMeta('test'), async (w) => {
      expect(await core.store.crises.savePerson(w.tx, s, { email: 'anna.schmidt@example.de' }, clock.now())).not.toBeNull();
    });
    const r = msg(await cara().run(`/crisis unmerge ${annaPair}`));
    expect(r.ok).toBe(true);
    expect(r.text).toContain('Edited since the merge, so kept as they are');
    expect(r.text).toContain('email');
    const after = await person(a1);
    expect(after.email).toBe('anna.schmidt@example.de');
    expect(after.nationality).toBe('German');
    expect(after.sourceDate).toEqual(new Date('2026-11-20T08:00:00Z'));
    expect((await person(a2)).mergedIntoId).toBeNull();
    const audit = await core.store.db.auditEntry.findFirst({ where: { entity: 'duplicate', action: 'undo', entityId: { startsWith: annaPair } } });
    expect(JSON.parse(audit?.after ?? '{}')).toMatchObject({ conflicts: ['email'] });
  });

  test('Different people: never listed again, even when the pair is found again', async () => {
    const t1 = await add('name="Tenzing Sherpa" dob=1988 crisis=NPL-EQ');
    const t2 = await add('name="Tenzing Sherpa" dob=1988-06 crisis=NPL-EQ');
    const p = await pair(t1, t2);
    const r = msg(await cara().run(`/crisis different ${p.different}`));
    expect(r.ok).toBe(true);
    expect(r.title).toBe(`Different people: #${t1} and #${t2}`);
    expect(pairIn(await listing(), t1, t2)).toBeNull();
    const [x, y] = [await person(t1), await person(t2)];
    await core.store.change(systemMeta('test'), (w) => core.store.crises.addCandidate(w.tx, { crisisId, a: y.id, b: x.id, score: 9, reasons: ['again'], at: clock.now() }));
    expect(pairIn(await listing(), t1, t2)).toBeNull();
    expect(x.mergedIntoId ?? y.mergedIntoId).toBeNull();
    expect(msg(await cara().run(`/crisis same ${p.same}`)).text).toBe('Already decided by Cara Cell: different people.');
    expect(msg(await cara().run(`/crisis unmerge ${p.same}`)).error?.code).toBe('NOT_MERGED');
  });

  test('pairs with a merged-away record are hidden while the merge stands, and return when it is undone', async () => {
    const m1 = await add('name="Mohammed Hassan" passport=P7766554 crisis=NPL-EQ');
    const m2 = await add('name="Mohammed Hassan" passport=P7766554 phone="+977 980 1111111" crisis=NPL-EQ');
    const m3 = await add('name="Mohammed Hassan" passport=P7766554 email=mh@example.org crisis=NPL-EQ');
    const first = await pair(m1, m2);
    await pair(m2, m3);
    await pair(m1, m3);
    expect(msg(await cara().run(`/crisis same ${first.same}`)).ok).toBe(true);
    let list = await listing();
    expect(pairIn(list, m1, m3)).not.toBeNull();
    expect(pairIn(list, m2, m3)).toBeNull();
    // A merged-away record cannot be merged again.
    const hidden = await core.store.db.duplicateCandidate.findMany({ where: { crisisId, status: 'open' } });
    const m2id = (await person(m2)).id;
    const m3id = (await person(m3)).id;
    const h = hidden.find((c) => [c.personAId, c.personBId].includes(m2id) && [c.personAId, c.personBId].includes(m3id));
    const refused = msg(await cara().run(`/crisis same ${h?.id}`));
    expect(refused.error?.code).toBe('MERGED');
    expect(refused.text).toContain(`#${m2} was already merged into #${m1}`);
    expect(msg(await cara().run(`/crisis unmerge ${first.same}`)).ok).toBe(true);
    list = await listing();
    expect(pairIn(list, m2, m3)).not.toBeNull();
  });

  test('a status report racing a merge lands on the survivor, and the reply says so', async () => {
    const r1 = await add('name="Racing Report" passport=R1234567 crisis=NPL-EQ');
    const r2 = await add('name="Racing Report" passport=R1234567 phone="+977 980 2222222" crisis=NPL-EQ');
    const stale = await person(r2);
    const crisis = (await core.store.crises.byId(crisisId))!;
    expect(msg(await cara().run(`/crisis same ${(await pair(r1, r2)).same}`)).ok).toBe(true);
    // The reporter read #r2 before the merge landed.
    const r = await reportStatus(core, systemMeta('test'), crisis, stale, { status: 'safe', text: 'late', location: null, madeContact: null, source: 'staff', sourceAt: clock.now() }, { id: null, name: 'Test' }, clock.now());
    expect(r.redirectedFrom?.number).toBe(r2);
    expect(r.person.number).toBe(r1);
    expect((await person(r1)).status).toBe('safe');
    expect((await core.store.crises.notes(stale.id)).some((n) => n.status === 'safe')).toBe(false);
  });

  test('merging releases the merged-away seat or moves it to an unseated survivor; undo restores it; check-in refuses a merged record', async () => {
    expect(msg(await cara().run('/crisis movement new NPL-EQ kind=bus name="Bus S" capacity=5 departs="2026-11-25 09:00" muster="Hotel"')).ok).toBe(true);
    const movement = (await core.store.db.movement.findFirst({ where: { crisisId, name: 'Bus S' } }))!;
    const seatOf = async (n: number) => core.store.db.movementSeat.findUnique({ where: { personId: (await person(n)).id } });
    // Only the newer record is seated: the seat moves to the survivor, and back on undo.
    const s1 = await add('name="Seated Sam" passport=S1234567 crisis=NPL-EQ');
    const s2 = await add('name="Seated Sam" passport=S1234567 phone="+977 980 3333333" crisis=NPL-EQ');
    expect(msg(await cara().run(`/crisis assign NPL-EQ ${s2} ${movement.number}`)).ok).toBe(true);
    const p1 = await pair(s1, s2);
    expect(msg(await cara().run(`/crisis same ${p1.same}`)).ok).toBe(true);
    expect(await seatOf(s2)).toBeNull();
    expect((await seatOf(s1))?.movementId).toBe(movement.id);
    expect(msg(await cara().run(`/crisis checkin NPL-EQ ${movement.number} ${s2}`)).error?.code).toBe('MERGED');
    expect(msg(await cara().run(`/crisis unmerge ${p1.same}`)).ok).toBe(true);
    expect(await seatOf(s1)).toBeNull();
    expect((await seatOf(s2))?.movementId).toBe(movement.id);
    // Both seated: the merged-away seat is released, and comes back on undo.
    const t1 = await add('name="Twice Tom" passport=T1234567 crisis=NPL-EQ');
    const t2 = await add('name="Twice Tom" passport=T1234567 phone="+977 980 4444444" crisis=NPL-EQ');
    expect(msg(await cara().run(`/crisis assign NPL-EQ ${t1} ${movement.number}`)).ok).toBe(true);
    expect(msg(await cara().run(`/crisis assign NPL-EQ ${t2} ${movement.number}`)).ok).toBe(true);
    const p2 = await pair(t1, t2);
    expect(msg(await cara().run(`/crisis same ${p2.same}`)).ok).toBe(true);
    expect(await seatOf(t2)).toBeNull();
    expect(await core.store.db.movementSeat.count({ where: { movementId: movement.id } })).toBe(2);
    expect(msg(await cara().run(`/crisis unmerge ${p2.same}`)).ok).toBe(true);
    expect((await seatOf(t2))?.movementId).toBe(movement.id);
    expect((await seatOf(t1))?.movementId).toBe(movement.id);
  });

  test('a short id shared by two pairs is ambiguous; buttons then carry the whole id', async () => {
    const q1 = await add('name="Quentin Quux" crisis=NPL-EQ');
    const q2 = await add('name="Quinn Quuxley" crisis=NPL-EQ');
    const some = (await core.store.db.duplicateCandidate.findFirst({ where: { crisisId, status: 'open' } }))?.id as string;
    const twin = `${some.slice(0, 8)}-0000-4000-8000-000000000000`;
    const [x, y] = [await person(q1), await person(q2)];
    await core.store.transaction((tx) => tx.duplicateCandidate.create({ data: { id: twin, crisisId, personAId: x.id, personBId: y.id, score: 4, reasons: '["test"]', status: 'open', createdAt: clock.now() } }));
    const r = msg(await cara().run(`/crisis same ${some.slice(0, 8)}`));
    expect(r.error?.code).toBe('AMBIGUOUS');
    const p = pairIn(await listing(), q1, q2);
    expect(p?.same).toBe(twin);
    expect(msg(await cara().run(`/crisis different ${twin}`)).ok).toBe(true);
  });
});
