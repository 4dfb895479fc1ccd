import fc from 'fast-check';
import {
  allocate,
  capacitySchema,
  CHECK_IN_STATES,
  checkInTransition,
  groupPriority,
  MOVEMENT_KIND_LABELS,
  MOVEMENT_KINDS,
  movementInputSchema,
  parseMovementKind,
  planAssignment,
  priorityOrder,
  seatsLeft,
  seatsTaken,
  type AllocationMovement,
  type CheckInAction,
  type CheckInState,
  type Evacuee,
  type SeatHolder,
  type WaitingGroup,
} from '../../src/domain/evacuation';
import { PERSON_NEEDS } from '../../src/domain/person';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 22, 14, 0, 0);

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}
function err<T extends { ok: boolean }>(r: T): Extract<T, { ok: false }> {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: false }>;
}

function movement(over: Partial<AllocationMovement> = {}): AllocationMovement {
  return { id: 'm1', name: 'Charter 1', kind: 'flight', capacity: 10, departure: NOW + 6 * HOUR, musterPoint: 'Terminal 2, desk 14', ...over };
}

const ana = { id: 'ana', name: 'Ana García' };
const bo = { id: 'bo', name: 'Bo García' };
const cy = { id: 'cy', name: 'Cy García' };
const dee = { id: 'dee', name: 'Dee Lee' };

function holders(movementId: string, n: number, prefix = movementId): SeatHolder[] {
  return Array.from({ length: n }, (_, i) => ({ personId: `${prefix}-${i}`, movementId, movementName: movementId }));
}

describe('movements', () => {
  test('kinds and labels, leniently', () => {
    expect(MOVEMENT_KINDS).toEqual(['flight', 'convoy', 'bus', 'ship']);
    expect(MOVEMENT_KIND_LABELS.convoy).toBe('Road convoy');
    expect(['Flight', 'plane', 'charter', 'coach', 'Ferry', 'boat', 'road convoy'].map(parseMovementKind)).toEqual(['flight', 'flight', 'flight', 'bus', 'ship', 'ship', 'convoy']);
    expect(parseMovementKind('submarine')).toBeNull();
  });

  test('input: name, kind, capacity 1–2,000, departure, muster point', () => {
    expect(movementInputSchema.parse({ name: ' Charter  1 ', kind: 'plane', capacity: '1,500', departure: NOW, musterPoint: 'Gate 3' })).toEqual({
      name: 'Charter 1',
      kind: 'flight',
      capacity: 1500,
      departure: NOW,
      musterPoint: 'Gate 3',
    });
    expect(capacitySchema.parse(1)).toBe(1);
    expect(capacitySchema.parse(2000)).toBe(2000);
    for (const bad of [0, 2001, '12.5', 'lots', -3, '']) {
      expect(capacitySchema.safeParse(bad).error?.issues[0]?.message).toMatch(/a movement seats a whole number of people from 1 to 2,000$/);
    }
    const r = movementInputSchema.safeParse({ name: '', kind: 'rocket', capacity: 0, departure: 1.5, musterPoint: 'x'.repeat(201) });
    expect(r.error?.issues.map((i) => i.path[0])).toEqual(['name', 'kind', 'capacity', 'departure', 'musterPoint']);
    expect(r.error?.issues[1]?.message).toBe('"rocket" is not a kind of movement; use flight, convoy, bus or ship');
    expect(r.error?.issues[4]?.message).toBe('the muster point is 201 characters; keep it under 200');
  });

  test('seats: no-shows do not hold one', () => {
    const h: SeatHolder[] = [...holders('m1', 3), { personId: 'x', movementId: 'm1', state: 'no-show' }, ...holders('m2', 4)];
    expect(seatsTaken('m1', h)).toBe(3);
    expect(seatsLeft(movement({ capacity: 5 }), h)).toBe(2);
    expect(seatsLeft(movement({ capacity: 2 }), h)).toBe(0);
  });
});

describe('planAssignment', () => {
  test('one person onto a movement with room', () => {
    expect(planAssignment({ people: [ana] }, movement(), holders('m1', 4))).toEqual({ ok: true, seat: ['ana'], moves: [], alreadyOn: [], seatsLeft: 5 });
  });

  test('a household all or none: refused whole when seats are short, with the seats left', () => {
    const r = err(planAssignment({ people: [ana, bo, cy], household: [ana, bo, cy] }, movement(), holders('m1', 8)));
    expect(r.code).toBe('OVER_CAPACITY');
    expect(r.message).toBe('Charter 1 has 2 seats left of 10; they need 3 seats together (a household is not split).');
    expect(r.people).toEqual(['ana', 'bo', 'cy']);
    expect(err(planAssignment({ people: [dee] }, movement(), holders('m1', 10))).message).toBe('Charter 1 has 0 seats left of 10; Dee Lee needs 1 seat.');
    expect(err(planAssignment({ people: [dee, ana] }, movement(), holders('m1', 9))).message).toBe('Charter 1 has 1 seat left of 10; they need 2 seats together.');
  });

  test('exactly full is fine', () => {
    expect(ok(planAssignment({ people: [ana, bo] }, movement(), holders('m1', 8))).seatsLeft).toBe(0);
  });

  test('a household member left behind refuses the request and names them', () => {
    const r = err(planAssignment({ people: [ana], household: [ana, bo, cy] }, movement(), []));
    expect(r.code).toBe('SPLITS_HOUSEHOLD');
    expect(r.message).toBe('A household travels together: Bo García and Cy García are in the same household and not on Charter 1; assign the whole household.');
    expect(r.people).toEqual(['bo', 'cy']);
  });

  test('joining relatives already on the movement is not a split', () => {
    const r = ok(planAssignment({ people: [cy], household: [ana, bo, cy] }, movement(), [
      { personId: 'ana', movementId: 'm1' },
      { personId: 'bo', movementId: 'm1', state: 'checked-in' },
    ]));
    expect(r).toEqual({ ok: true, seat: ['cy'], moves: [], alreadyOn: [], seatsLeft: 7 });
  });

  test('people already on this movement take no new seat', () => {
    const r = ok(planAssignment({ people: [ana, bo] }, movement({ capacity: 2 }), [{ personId: 'ana', movementId: 'm1' }]));
    expect(r).toEqual({ ok: true, seat: ['bo'], moves: [], alreadyOn: ['ana'], seatsLeft: 0 });
    expect(ok(planAssignment({ people: [ana, ana] }, movement({ capacity: 1 }), [])).seat).toEqual(['ana']);
  });

  test('someone on another movement is refused unless moved explicitly, and named', () => {
    const assigned: SeatHolder[] = [
      { personId: 'bo', movementId: 'm2', movementName: 'Convoy north', state: 'checked-in' },
      { personId: 'cy', movementId: 'm3', movementName: 'Ferry 2' },
    ];
    const r = err(planAssignment({ people: [ana, bo, cy] }, movement(), assigned));
    expect(r.code).toBe('ON_ANOTHER_MOVEMENT');
    expect(r.message).toBe('Already on another movement: Bo García (on Convoy north, checked in) and Cy García (on Ferry 2). Move them explicitly to put them on Charter 1.');
    expect(r.people).toEqual(['bo', 'cy']);
    const moved = ok(planAssignment({ people: [ana, bo, cy], move: true }, movement(), assigned));
    expect(moved.seat).toEqual(['ana', 'bo', 'cy']);
    expect(moved.moves).toEqual([
      { personId: 'bo', fromMovementId: 'm2' },
      { personId: 'cy', fromMovementId: 'm3' },
    ]);
  });

  test('nobody who has boarded is moved; a no-show elsewhere is free to assign', () => {
    const r = err(planAssignment({ people: [bo], move: true }, movement(), [{ personId: 'bo', movementId: 'm2', movementName: 'Convoy north', state: 'boarded' }]));
    expect(r.message).toBe('Already boarded on another movement: Bo García (Convoy north).');
    expect(ok(planAssignment({ people: [bo] }, movement(), [{ personId: 'bo', movementId: 'm2', state: 'no-show' }])).moves).toEqual([]);
  });

  test('nobody, or a departed movement', () => {
    expect(err(planAssignment({ people: [] }, movement(), [])).code).toBe('NOBODY');
    const r = err(planAssignment({ people: [ana] }, movement({ departure: NOW }), [], NOW));
    expect(r).toMatchObject({ code: 'DEPARTED', message: 'Charter 1 has already left; choose a later movement.' });
    expect(planAssignment({ people: [ana] }, movement({ departure: NOW + 1 }), [], NOW).ok).toBe(true);
  });
});

function evacuee(id: string, over: Partial<Evacuee> = {}): Evacuee {
  return { id, name: id, needs: [], registeredAt: 0, ...over };
}

function group(id: string, members: Evacuee[]): WaitingGroup {
  return { id, label: id, members };
}

describe('priority', () => {
  test('medical first, then children (age or date of birth), then others; ties by earliest registration, then id', () => {
    const groups = [
      group('adults-early', [evacuee('a1', { age: '40', registeredAt: 1 })]),
      group('kids', [evacuee('k1', { age: '40', registeredAt: 5 }), evacuee('k2', { dateOfBirth: '2015-03-01', registeredAt: 9 })]),
      group('medical', [evacuee('m1', { needs: ['medical'], registeredAt: 10 })]),
      group('teen', [evacuee('t1', { age: '17', registeredAt: 3 })]),
      group('adults-late', [evacuee('a2', { registeredAt: 2 })]),
      group('adults-tie', [evacuee('a3', { registeredAt: 1 })]),
    ];
    expect(priorityOrder(groups, NOW).map((g) => g.id)).toEqual(['medical', 'teen', 'kids', 'adults-early', 'adults-tie', 'adults-late']);
    expect(groups.map((g) => groupPriority(g, NOW))).toEqual(['none', 'children', 'medical', 'children', 'none', 'none']);
  });

  test('a child is judged at `now`: an 18th birthday today ends it', () => {
    const g = group('g', [evacuee('x', { dateOfBirth: '2008-11-22' })]);
    expect(groupPriority(g, NOW)).toBe('none');
    expect(groupPriority(g, NOW - 24 * HOUR)).toBe('children');
  });
});

describe('allocate', () => {
  const fam = (id: string, n: number, over: Partial<Evacuee> = {}) => group(id, Array.from({ length: n }, (_, i) => evacuee(`${id}-${i}`, over)));

  test('fills movements in departure order, by priority, without splitting households', () => {
    const movements: AllocationMovement[] = [
      movement({ id: 'late', name: 'Late bus', capacity: 10, departure: NOW + 9 * HOUR }),
      movement({ id: 'early', name: 'Early flight', capacity: 4, departure: NOW + 2 * HOUR }),
    ];
    const groups = [fam('adults', 3, { registeredAt: 1 }), fam('medical', 3, { needs: ['medical'], registeredAt: 5 }), fam('single', 1, { registeredAt: 2 })];
    const r = allocate(groups, movements, NOW);
    expect(r.assignments).toEqual([
      { movementId: 'early', groupId: 'medical', personIds: ['medical-0', 'medical-1', 'medical-2'] },
      { movementId: 'late', groupId: 'adults', personIds: ['adults-0', 'adults-1', 'adults-2'] },
      { movementId: 'early', groupId: 'single', personIds: ['single-0'] },
    ]);
    expect(r.waiting).toEqual([]);
    expect(r.seatsLeft).toEqual({ late: 7, early: 0 });
  });

  test('who waits, and why', () => {
    const movements: AllocationMovement[] = [movement({ id: 'a', name: 'Bus A', capacity: 5, seatsTaken: 2 }), movement({ id: 'b', name: 'Bus B', capacity: 4, departure: NOW + 7 * HOUR })];
    const r = allocate([fam('big', 6), fam('mid', 4), fam('five', 5)], movements, NOW);
    expect(r.assignments).toEqual([{ movementId: 'b', groupId: 'mid', personIds: ['mid-0', 'mid-1', 'mid-2', 'mid-3'] }]);
    expect(r.waiting).toEqual([
      { groupId: 'big', personIds: ['big-0', 'big-1', 'big-2', 'big-3', 'big-4', 'big-5'], reason: 'big is 6 people, more than any movement seats (largest: 5); a household is not split' },
      { groupId: 'five', personIds: ['five-0', 'five-1', 'five-2', 'five-3', 'five-4'], reason: 'no movement has 5 seats left together (most: 4 seats on Bus B)' },
    ]);
    expect(allocate([fam('x', 1)], [], NOW).waiting[0]?.reason).toBe('no movement is planned');
    expect(allocate([fam('x', 1)], [movement({ departure: NOW })], NOW).waiting[0]?.reason).toBe('every planned movement has left');
  });

  test('a person in two groups is refused', () => {
    expect(() => allocate([group('g1', [evacuee('x')]), group('g2', [evacuee('x')])], [movement()], NOW)).toThrow(RangeError);
  });

  const evacueeArb = (id: string) =>
    fc.record({
      needs: fc.subarray([...PERSON_NEEDS], { maxLength: 2 }),
      age: fc.option(fc.constantFrom('3', '12', '17', '30', '70', '15-20')),
      registeredAt: fc.integer({ min: 0, max: 20 }),
    }).map((r): Evacuee => ({ id, name: id, ...r }));

  const groupsArb = fc
    .array(fc.integer({ min: 1, max: 6 }), { maxLength: 15 })
    .chain((sizes) => fc.tuple(...sizes.map((n, gi) => fc.tuple(...Array.from({ length: n }, (_, i) => evacueeArb(`g${gi}-p${i}`))).map((members): WaitingGroup => group(`g${gi}`, members)))));

  const movementsArb = fc.array(
    fc.record({ capacity: fc.integer({ min: 1, max: 12 }), seatsTaken: fc.integer({ min: 0, max: 6 }), departureH: fc.integer({ min: -2, max: 10 }) }),
    { maxLength: 5 },
  ).map((ms) => ms.map((m, i): AllocationMovement => movement({ id: `m${i}`, name: `M${i}`, capacity: m.capacity, departure: NOW + m.departureH * HOUR, seatsTaken: m.seatsTaken })));

  test('property: never over capacity, households whole, everyone seated or waiting once, departed unused, waiting groups fit nowhere', () => {
    fc.assert(
      fc.property(groupsArb, movementsArb, (groups, movements) => {
        const r = allocate(groups, movements, NOW);
        const byId = new Map(movements.map((m) => [m.id, m]));
        const used = new Map<string, number>();
        for (const a of r.assignments) {
          const g = groups.find((x) => x.id === a.groupId) as WaitingGroup;
          expect(a.personIds).toEqual(g.members.map((m) => m.id));
          const m = byId.get(a.movementId) as AllocationMovement;
          expect(m.departure).toBeGreaterThan(NOW);
          used.set(m.id, (used.get(m.id) ?? 0) + a.personIds.length);
        }
        for (const m of movements) {
          const free = Math.max(0, m.capacity - (m.seatsTaken ?? 0));
          expect(used.get(m.id) ?? 0).toBeLessThanOrEqual(free);
          expect(r.seatsLeft[m.id]).toBe(free - (used.get(m.id) ?? 0));
        }
        const placed = [...r.assignments.map((a) => a.groupId), ...r.waiting.map((w) => w.groupId)].sort();
        expect(placed).toEqual(groups.map((g) => g.id).sort());
        for (const w of r.waiting) {
          for (const m of movements) if (m.departure > NOW) expect(r.seatsLeft[m.id]).toBeLessThan(w.personIds.length);
        }
      }),
    );
  });

  test('property: priorityOrder is a permutation with ranks never going down', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const order = priorityOrder(groups, NOW);
        expect(order.map((g) => g.id).sort()).toEqual(groups.map((g) => g.id).sort());
        const rank = { medical: 0, children: 1, none: 2 } as const;
        for (let i = 1; i < order.length; i++) {
          expect(rank[groupPriority(order[i - 1] as WaitingGroup, NOW)]).toBeLessThanOrEqual(rank[groupPriority(order[i] as WaitingGroup, NOW)]);
        }
      }),
    );
  });
});

describe('check-in', () => {
  const dep = NOW + HOUR;

  test('assigned → checked-in → boarded; boarding makes the person evacuated', () => {
    expect(CHECK_IN_STATES).toEqual(['assigned', 'checked-in', 'boarded', 'no-show']);
    expect(checkInTransition('assigned', 'check-in', dep, NOW)).toEqual({ ok: true, to: 'checked-in', personStatus: null });
    expect(checkInTransition('checked-in', 'board', dep, NOW)).toEqual({ ok: true, to: 'boarded', personStatus: 'evacuated' });
  });

  test('clear errors', () => {
    expect(err(checkInTransition('assigned', 'board', dep, NOW))).toEqual({ ok: false, code: 'NOT_CHECKED_IN', message: 'Not checked in yet: check them in at the muster point first.' });
    expect(err(checkInTransition('checked-in', 'check-in', dep, NOW)).code).toBe('ALREADY');
    expect(err(checkInTransition('boarded', 'board', dep, NOW)).message).toBe('Already boarded.');
    expect(err(checkInTransition('boarded', 'no-show', dep, dep + HOUR)).code).toBe('FINAL');
    expect(err(checkInTransition('no-show', 'check-in', dep, NOW)).message).toBe('Recorded as a no-show: the movement has left; assign them to another movement.');
  });

  test('no-show only from departure on', () => {
    expect(err(checkInTransition('assigned', 'no-show', dep, NOW))).toMatchObject({ code: 'NOT_DEPARTED', message: 'A no-show is recorded only once the movement has left.' });
    expect(checkInTransition('assigned', 'no-show', dep, dep)).toEqual({ ok: true, to: 'no-show', personStatus: null });
    expect(ok(checkInTransition('checked-in', 'no-show', dep, dep + 1)).to).toBe('no-show');
  });

  test('property: only the documented moves succeed', () => {
    const allowed = new Set(['assigned check-in', 'checked-in board', 'assigned no-show', 'checked-in no-show']);
    fc.assert(
      fc.property(fc.constantFrom<CheckInState>(...CHECK_IN_STATES), fc.constantFrom<CheckInAction>('check-in', 'board', 'no-show'), fc.integer({ min: -3, max: 3 }), (from, action, h) => {
        const r = checkInTransition(from, action, dep, dep + h * HOUR);
        const expected = allowed.has(`${from} ${action}`) && (action !== 'no-show' || h >= 0);
        expect(r.ok).toBe(expected);
        if (r.ok) expect(r.personStatus).toBe(r.to === 'boarded' ? 'evacuated' : null);
      }),
    );
  });
});
