// Evacuation through the real dispatcher and database: planning movements (and refusing bad
// input), seating people and households (a household stays together, seats are counted, someone
// on another movement moves only when asked), allocation by priority (medical, then children, then
// others; households whole; a waiting list with reasons), check-in then boarding (the person
// becomes evacuated, with the note), the manifest CSV and its audit entry; concurrent assigns never
// overbook (SQLite, and PostgreSQL with three cores when TEST_POSTGRES_URL is set).
import Papa from 'papaparse';
import pino from 'pino';
import type { Core } from '../../src/core';
import type { MessageReply, Reply } from '../../src/domain/reply';
import { commands } from '../../src/handlers';
import { movementCommands } from '../../src/handlers/crisis/movement.commands';
import { createDispatcher } from '../../src/handlers/dispatcher';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { freshPostgres, freshSqlite, pgAdminUrl, type TestDb } from '../helpers/db';

const MISSION = { MISSION_TIMEZONE: 'Asia/Kathmandu' };

/** The core with the movement commands added to its dispatcher (once, if they are registered already). */
function withMovements(core: Core, clock: () => Date): Core {
  const keys = new Set(movementCommands.map((c) => c.key));
  const all = [...commands.filter((c) => !keys.has(c.key)), ...movementCommands];
  const dispatcher = createDispatcher({ outbox: core.outbox, store: core.store, commands: all, settings: core.settings, logger: pino({ level: 'silent' }), clock });
  return { ...core, dispatcher };
}

function personNumber(r: Reply): number {
  const m = /#(\d+)/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no person number in ${JSON.stringify(r)}`);
  return Number(m[1]);
}

async function setup(core: Core): Promise<void> {
  const root = as(core, 'root');
  for (const line of ['handle=cara name="Cara Cell" roles=crisis', 'handle=olly name="Olly Officer" roles=officer']) {
    expect(msg(await root.run(`/duty member add ${line}`)).ok).toBe(true);
  }
}

async function seatsOf(core: Core, movementNumber: number, code: string): Promise<number[]> {
  const crisis = await core.store.crises.byCode(code);
  const m = await core.store.db.movement.findUnique({ where: { crisisId_number: { crisisId: crisis?.id as string, number: movementNumber } }, include: { seats: true } });
  const people = await core.store.db.person.findMany({ where: { id: { in: (m?.seats ?? []).filter((s) => s.state !== 'no-show').map((s) => s.personId) } }, select: { number: true } });
  return people.map((p) => p.number).sort((a, b) => a - b);
}

function csvRows(r: MessageReply): string[][] {
  const a = r.attachments?.[0];
  if (!a) throw new Error('no attachment');
  return Papa.parse<string[]>(a.content.toString('utf8').replace(/^\uFEFF/, '')).data.filter((x) => x.length > 1);
}

describe('evacuation [sqlite]', () => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const cara = () => as(core, 'cara');
  const people: Record<string, number> = {};
  /** The numbers of the people named, ascending. */
  const sorted = (...keys: string[]): number[] => keys.map((k) => people[k] as number).sort((a, b) => a - b);

  async function add(key: string, args: string, code = 'EVQ'): Promise<number> {
    const n = personNumber(await cara().run(`/person add ${args} crisis=${code}`));
    people[key] = n;
    return n;
  }

  beforeAll(async () => {
    db = await freshSqlite();
    core = withMovements(await coreOn(db, MISSION, clock.now), clock.now);
    await setup(core);
    expect(msg(await cara().run('/crisis open name="Evacuation quake" code=EVQ region=Nepal channel=slack:C77')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('plan a movement; bad input is refused with a clear message and nothing is saved', async () => {
    const r = msg(await cara().run('/crisis movement new EVQ kind=flight name="Charter 1" capacity=5 departs="2026-11-23 14:00" muster="Tribhuvan airport, gate 3"'));
    expect(r.ok).toBe(true);
    expect(r.title).toBe('EVQ movement 1 planned: Charter 1 (Flight)');
    const crisis = await core.store.crises.byCode('EVQ');
    const m = await core.store.db.movement.findUnique({ where: { crisisId_number: { crisisId: crisis?.id as string, number: 1 } } });
    // 14:00 in Kathmandu (UTC+05:45), the caller's zone.
    expect(m).toMatchObject({ kind: 'flight', capacity: 5, musterPoint: 'Tribhuvan airport, gate 3', status: 'planned' });
    expect(m?.departureAt.toISOString()).toBe('2026-11-23T08:15:00.000Z');
    expect(await core.store.db.auditEntry.count({ where: { entity: 'movement', action: 'create' } })).toBe(1);

    const before = await core.store.db.movement.count();
    const zero = msg(await cara().run('/crisis movement new EVQ kind=bus name="Bus 0" capacity=0 departs="2026-11-23 14:00" muster="Hotel"'));
    expect(zero.error?.code).toBe('INVALID_INPUT');
    expect(zero.error?.fields?.capacity).toContain('from 1 to 2,000');
    const past = msg(await cara().run('/crisis movement new EVQ kind=bus name="Bus late" capacity=40 departs="2026-11-21 14:00" muster="Hotel"'));
    expect(past.error?.fields?.departs).toContain('in the past');
    const kind = msg(await cara().run('/crisis movement new EVQ kind=rocket name="Moonshot" capacity=4 departs="2026-11-23 14:00" muster="Pad"'));
    expect(kind.error?.message).toContain('"rocket" is not a kind of movement; use flight, convoy, bus or ship');
    const date = msg(await cara().run('/crisis movement new EVQ kind=ship name="Ferry" capacity=4 departs="someday" muster="Pier"'));
    expect(date.error?.fields?.departs).toContain('is not a date');
    expect(await core.store.db.movement.count()).toBe(before);
    // Fields missing: the form, with what was typed.
    const form = await cara().run('/crisis movement new EVQ kind=bus');
    expect(form.kind).toBe('form');
    // Someone who does not work the crisis.
    expect(msg(await as(core, 'olly').run('/crisis movement new EVQ kind=bus name=B capacity=3 departs="2026-11-23 14:00" muster=X')).error?.code).toBe('FORBIDDEN');
    expect(msg(await as(core, 'olly').run('/crisis movement list EVQ')).error?.code).toBe('FORBIDDEN');

    expect(msg(await cara().run('/crisis movement new EVQ kind=bus name="Bus north" capacity=3 departs="2026-11-24 09:00" muster="Hotel Yak"')).title).toContain('movement 2');
    expect(msg(await cara().run('/crisis movement new EVQ kind=convoy name="Convoy west" capacity=2 departs="2026-11-24 10:00" muster="Ring road"')).title).toContain('movement 3');
    const list = textOf(await cara().run('/crisis movement list EVQ'));
    expect(list).toContain('Charter 1');
    expect(list).toContain('0/5 seats taken, 5 left');
    expect(list).toContain('muster Hotel Yak');
  });

  test('assign a person; a household stays together; capacity is enforced; another movement only with move=yes', async () => {
    await add('ana', 'name="Ana Solo"');
    await add('ram', 'name="Ram Rai" dob=1980-02-03 nationality=Nepali passport=PA1234567 phone="+977 980 000 0001" household="Rai family" needs=evacuation');
    await add('sita', 'name="Sita Rai" dob=1982 household="Rai family"');
    await add('gita', 'name="Gita Rai" dob=2018-05-01 household="Rai family"');
    await add('bo', 'name="Bo Single"');
    await add('cy', 'name="Cy Single"');

    const one = msg(await cara().run(`/crisis assign EVQ ${people.ana} 1`));
    expect(one.ok).toBe(true);
    expect(one.text).toContain('4 seats left of 5');
    expect(await seatsOf(core, 1, 'EVQ')).toEqual([people.ana]);

    // One member alone would leave the others behind.
    const split = msg(await cara().run(`/crisis assign EVQ ${people.ram} 2`));
    expect(split.error?.code).toBe('SPLITS_HOUSEHOLD');
    expect(split.error?.message).toContain('Sita Rai');
    expect(split.error?.message).toContain('Gita Rai');
    expect(split.error?.message).toContain('household="Rai family"');
    // The whole household does not fit on the convoy (2 seats): refused, with the seats left.
    const full = msg(await cara().run('/crisis assign EVQ household="Rai family" 3'));
    expect(full.error?.code).toBe('OVER_CAPACITY');
    expect(full.error?.message).toContain('2 seats left of 2');
    expect(full.error?.message).toContain('a household is not split');
    expect(await seatsOf(core, 3, 'EVQ')).toEqual([]);

    // The label is matched ignoring case; the household goes whole onto the charter.
    const hh = msg(await cara().run('/crisis assign EVQ household="rai FAMILY" 1'));
    expect(hh.ok).toBe(true);
    expect(hh.title).toContain('household "Rai family"');
    expect(hh.text).toContain('1 seat left of 5');
    expect(await seatsOf(core, 1, 'EVQ')).toEqual(sorted('ana', 'ram', 'sita', 'gita'));
    // Assigning again changes nothing.
    expect(msg(await cara().run('/crisis assign EVQ household="Rai family" 1')).title).toContain('nothing to do');

    // The last seat, then no more.
    expect(msg(await cara().run(`/crisis assign EVQ ${people.bo} 1`)).text).toContain('0 seats left of 5');
    const over = msg(await cara().run(`/crisis assign EVQ ${people.cy} 1`));
    expect(over.error?.code).toBe('OVER_CAPACITY');
    expect(over.error?.message).toContain('0 seats left of 5');

    // On another movement: refused unless moved explicitly.
    const other = msg(await cara().run(`/crisis assign EVQ ${people.bo} 2`));
    expect(other.error?.code).toBe('ON_ANOTHER_MOVEMENT');
    expect(other.error?.message).toContain('move=yes');
    const moved = msg(await cara().run(`/crisis assign EVQ ${people.bo} 2 move=yes`));
    expect(moved.ok).toBe(true);
    expect(moved.text).toContain('Moved from movement 1 Charter 1');
    expect(await seatsOf(core, 2, 'EVQ')).toEqual([people.bo]);
    expect(await seatsOf(core, 1, 'EVQ')).not.toContain(people.bo);

    expect(msg(await cara().run(`/crisis assign EVQ ${people.cy} 9`)).error?.code).toBe('UNKNOWN_MOVEMENT');
    expect(msg(await cara().run('/crisis assign EVQ household="Nobody here" 1')).error?.code).toBe('UNKNOWN_HOUSEHOLD');
    expect(msg(await cara().run('/crisis assign EVQ 999999 1')).error?.code).toBe('UNKNOWN_PERSON');
    // Every seat change refreshes the board (the crisis has a channel).
    expect(await core.store.db.job.count({ where: { kind: 'crisis-board' } })).toBeGreaterThanOrEqual(1);
    expect(textOf(await cara().run('/crisis movement list EVQ'))).toContain('4/5 seats taken, 1 left');
  });

  test('check-in, then boarded: the person becomes evacuated, with a note; boarding before check-in is refused', async () => {
    const early = msg(await cara().run(`/crisis boarded EVQ 1 ${people.ram}`));
    expect(early.error?.code).toBe('NOT_CHECKED_IN');
    const show = msg(await cara().run('/crisis movement show EVQ 1'));
    const ramRow = show.rows?.find((r) => r.text.includes('Ram Rai'));
    expect(ramRow?.buttons?.map((b) => b.label)).toEqual(['Checked in', 'Boarded']);
    expect(ramRow?.buttons?.[0]?.command).toBe(`/crisis checkin EVQ 1 ${people.ram}`);

    clock.set('2026-11-23T07:00:00Z');
    expect(msg(await cara().run(`/crisis checkin EVQ 1 ${people.ram}`)).title).toContain('checked in');
    expect(msg(await cara().run(`/crisis checkin EVQ 1 ${people.ram}`)).error?.code).toBe('ALREADY');
    clock.set('2026-11-23T07:30:00Z');
    const boarded = msg(await cara().run(`/crisis boarded EVQ 1 ${people.ram}`));
    expect(boarded.ok).toBe(true);
    expect(boarded.text).toContain('Status: evacuated');

    const ram = await core.store.crises.personByNumber(people.ram as number);
    expect(ram?.status).toBe('evacuated');
    expect(ram?.statusAt?.toISOString()).toBe('2026-11-23T07:30:00.000Z');
    const notes = await core.store.crises.notes(ram?.id as string);
    expect(notes.filter((n) => n.status === 'evacuated')).toHaveLength(1);
    expect(notes.find((n) => n.status === 'evacuated')?.authorName).toBe('Cara Cell');
    const seat = await core.store.db.movementSeat.findUnique({ where: { personId: ram?.id as string } });
    expect(seat).toMatchObject({ state: 'boarded' });
    expect(seat?.checkedInAt?.toISOString()).toBe('2026-11-23T07:00:00.000Z');
    expect(seat?.boardedAt?.toISOString()).toBe('2026-11-23T07:30:00.000Z');
    expect(msg(await cara().run(`/crisis boarded EVQ 1 ${people.ram}`)).error?.code).toBe('FINAL');
    expect(msg(await cara().run(`/crisis checkin EVQ 1 ${people.cy}`)).error?.code).toBe('NOT_ON_MOVEMENT');
    expect(msg(await cara().run(`/crisis checkin EVQ 1 ${people.bo}`)).error?.message).toContain('on movement 2 Bus north');

    // Boarded: no buttons left on the manifest row.
    const after = msg(await cara().run('/crisis movement show EVQ 1'));
    expect(after.rows?.find((r) => r.text.includes('Ram Rai'))?.buttons).toEqual([]);
    expect(textOf(after)).toContain('1 boarded');
  });

  test('a no-show is recorded only once the movement has left, and frees the seat', async () => {
    // Ana is on Charter 1 (Kathmandu 14:00 = 08:15Z), not checked in.
    clock.set('2026-11-23T08:00:00Z');
    expect(msg(await cara().run(`/crisis noshow EVQ 1 ${people.ana}`)).error?.code).toBe('NOT_DEPARTED');
    clock.set('2026-11-23T08:30:00Z');
    const r = msg(await cara().run(`/crisis noshow EVQ 1 ${people.ana}`));
    expect(r.ok).toBe(true);
    const ana = await core.store.crises.personByNumber(people.ana as number);
    expect((await core.store.db.movementSeat.findUnique({ where: { personId: ana?.id as string } }))?.state).toBe('no-show');
    expect(ana?.status).not.toBe('evacuated');
    expect(msg(await cara().run(`/crisis noshow EVQ 1 ${people.ana}`)).error?.code).toBe('FINAL');
  });

  test('the manifest CSV holds the personal data, privately, and its export is audited', async () => {
    const r = msg(await cara().run('/crisis manifest EVQ 1'));
    expect(r.ok).toBe(true);
    expect(r.visibility).toBe('direct');
    const a = r.attachments?.[0];
    expect(a?.mimeType).toBe('text/csv');
    expect(a?.filename).toMatch(/^evq-movement-1-manifest-.*\.csv$/);
    const [head, ...rows] = csvRows(r);
    expect(head).toEqual(['Number', 'Full name', 'Date of birth', 'Nationality', 'Passport', 'Phone', 'Household', 'Needs', 'State', 'Checked in', 'Boarded']);
    expect(rows.map((x) => Number(x[0])).sort((x, y) => x - y)).toEqual(sorted('ana', 'ram', 'sita', 'gita'));
    const ram = rows.find((x) => x[1] === 'Ram Rai');
    // toCsv neutralises cells a spreadsheet would read as a formula, a leading + included.
    expect(ram).toEqual([String(people.ram), 'Ram Rai', '1980-02-03', 'Nepali', 'PA1234567', "'+9779800000001", 'Rai family', 'evacuation', 'boarded', '2026-11-23T07:00:00.000Z', '2026-11-23T07:30:00.000Z']);
    expect(rows.find((x) => x[1] === 'Gita Rai')?.slice(7, 11)).toEqual(['', 'assigned', '', '']);
    // Households together.
    const order = rows.map((x) => x[1]);
    expect(Math.abs(order.indexOf('Ram Rai') - order.indexOf('Gita Rai'))).toBeLessThanOrEqual(2);

    const audit = await core.store.db.auditEntry.findMany({ where: { entity: 'movement', action: 'manifest' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actorName).toBe('@cara');
    expect(JSON.parse(audit[0]?.after ?? '{}')).toMatchObject({ movement: 1, rows: 4 });
    // No personal data in the evacuation audit trail: person numbers only.
    const trail = await core.store.db.auditEntry.findMany({ where: { entity: { in: ['movement', 'movement-seat'] } } });
    expect(trail.length).toBeGreaterThan(5);
    for (const e of trail) {
      for (const s of [e.before ?? '', e.after ?? '']) for (const secret of ['Rai', 'Ana', 'PA1234567', '+977']) expect(s).not.toContain(secret);
    }
  });

  test('allocate: medical first, then families with children, then others; households whole; who waits and why', async () => {
    clock.set('2026-11-22T06:00:00Z');
    expect(msg(await cara().run('/crisis open name="Allocation" code=ALC region=Nepal')).ok).toBe(true);
    // Registered first, but no priority.
    await add('otto', 'name="Otto Other" needs=evacuation', 'ALC');
    await add('kim', 'name="Kim Parent" needs=evacuation household="Kids family"', 'ALC');
    await add('kai', 'name="Kai Child" dob=2019-03-04 household="Kids family"', 'ALC');
    await add('mia', 'name="Mia Med" needs=medical,evacuation household="Med family"', 'ALC');
    await add('max', 'name="Max Med" household="Med family"', 'ALC');
    for (const n of ['One', 'Two', 'Three', 'Four']) await add(`big${n}`, `name="Big ${n}" needs=evacuation household="Big family"`, 'ALC');
    await add('stay', 'name="Stay Put"', 'ALC'); // needs nothing: not allocated
    await add('gone', 'name="Already Gone" needs=evacuation status=evacuated', 'ALC');

    expect(msg(await cara().run('/crisis movement new ALC kind=flight name="Flight A" capacity=2 departs="2026-11-23 09:00" muster="Airport"')).ok).toBe(true);
    expect(msg(await cara().run('/crisis movement new ALC kind=bus name="Bus B" capacity=2 departs="2026-11-23 12:00" muster="Hotel"')).ok).toBe(true);

    const r = msg(await cara().run('/crisis allocate ALC'));
    expect(r.ok).toBe(true);
    expect(r.title).toBe('ALC: 4 seated, 5 waiting');
    expect(await seatsOf(core, 1, 'ALC')).toEqual(sorted('mia', 'max'));
    expect(await seatsOf(core, 2, 'ALC')).toEqual(sorted('kim', 'kai'));
    const t = textOf(r);
    expect(t).toContain('household "Med family" [medical]');
    expect(t).toContain('household "Kids family" [children]');
    const waiting = t.slice(t.indexOf('*Waiting*'));
    expect(waiting).toContain(`#${people.otto} Otto Other [no priority]`);
    expect(waiting).toMatch(/Otto Other.*Why: no movement has 1 seats left together/);
    expect(waiting).toMatch(/Big family.*more than any movement seats \(largest: 2\); a household is not split/);
    expect(t).not.toContain('Stay Put');
    expect(t).not.toContain('Already Gone');

    // A new member of a seated household waits rather than split it.
    await add('mo', 'name="Mo Med" needs=evacuation household="Med family"', 'ALC');
    const again = msg(await cara().run('/crisis allocate ALC'));
    expect(textOf(again)).toMatch(/household "Med family": #\d+ Mo Med\. Why: part of the household is already on movement 1 Flight A/);
    expect(await seatsOf(core, 1, 'ALC')).toEqual(sorted('mia', 'max'));
  });
});

/** 12 different people assigned at once to a movement with 5 seats: exactly 5 seated. */
async function concurrentAssigns(cores: Core[]): Promise<void> {
  const first = cores[0] as Core;
  const cara = as(first, 'cara');
  expect(msg(await cara.run('/crisis open name="Race" code=RACE region=Terai')).ok).toBe(true);
  expect(msg(await cara.run('/crisis movement new RACE kind=bus name="Last bus" capacity=5 departs="2026-11-23 09:00" muster="Depot"')).ok).toBe(true);
  const numbers: number[] = [];
  for (let i = 0; i < 12; i++) numbers.push(personNumber(await cara.run(`/person add name="Racer Number${i}" crisis=RACE`)));
  const replies = (await Promise.all(numbers.map((n, i) => as(cores[i % cores.length] as Core, 'cara').run(`/crisis assign RACE ${n} 1`)))).map(msg);
  expect(replies.filter((r) => r.ok)).toHaveLength(5);
  const refused = replies.filter((r) => !r.ok);
  expect(refused).toHaveLength(7);
  for (const r of refused) expect(r.error?.code).toBe('OVER_CAPACITY');
  expect(await seatsOf(first, 1, 'RACE')).toHaveLength(5);
  expect(textOf(await cara.run('/crisis movement list RACE'))).toContain('5/5 seats taken, 0 left');
}

describe('concurrent assigns never overbook', () => {
  test('[sqlite] 12 at once, 5 seats', async () => {
    const db = await freshSqlite();
    const clock = manualClock('2026-11-22T06:00:00Z');
    const core = withMovements(await coreOn(db, MISSION, clock.now), clock.now);
    try {
      await setup(core);
      await concurrentAssigns([core]);
    } finally {
      await core.close();
      await db.drop();
    }
  });

  (pgAdminUrl ? test : test.skip)('[postgresql, three cores] 12 at once, 5 seats; movement numbers stay unique', async () => {
    const db = await freshPostgres();
    const clock = manualClock('2026-11-22T06:00:00Z');
    const cores: Core[] = [];
    try {
      for (let i = 0; i < 3; i++) cores.push(withMovements(await coreOn(db, MISSION, clock.now), clock.now));
      await setup(cores[0] as Core);
      await concurrentAssigns(cores);
      // Two movements planned at the same moment on two cores: both saved, numbered 2 and 3.
      const made = (await Promise.all([0, 1].map((i) => as(cores[i] as Core, 'cara').run(`/crisis movement new RACE kind=ship name="Ferry ${i}" capacity=9 departs="2026-11-23 10:00" muster=Pier`)))).map(msg);
      for (const r of made) expect(r.ok).toBe(true);
      const crisis = await (cores[0] as Core).store.crises.byCode('RACE');
      const numbers = (await (cores[0] as Core).store.db.movement.findMany({ where: { crisisId: crisis?.id as string }, select: { number: true } })).map((m) => m.number).sort();
      expect(numbers).toEqual([1, 2, 3]);
    } finally {
      for (const c of cores) await c.close();
      await db.drop();
    }
  }, 60_000);
});
