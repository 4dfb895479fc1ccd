// Evacuations, the pure part: movements (flights, convoys, buses, ships), seating a person or a
// household on one, the boarding priority, allocating waiting groups to movements, and check-in.
//
// No store and no clock: instants are epoch milliseconds passed in by the caller.
import { z } from 'zod/v4';
import { mayBeMinor, type PersonNeed, type PersonStatus } from './person';

function shown(s: string): string {
  const t = s.trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

function compact(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "Ana, Bo and Cy" */
function andList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Movements

export const MOVEMENT_KINDS = ['flight', 'convoy', 'bus', 'ship'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

export const MOVEMENT_KIND_LABELS: Record<MovementKind, string> = {
  flight: 'Flight',
  convoy: 'Road convoy',
  bus: 'Bus',
  ship: 'Ship',
};

const KIND_WORDS = new Map<string, MovementKind>();
for (const [kind, words] of [
  ['flight', ['flight', 'plane', 'aircraft', 'charter', 'charter flight', 'airlift', 'fly']],
  ['convoy', ['convoy', 'road convoy', 'road', 'vehicles', 'cars']],
  ['bus', ['bus', 'coach', 'buses', 'minibus']],
  ['ship', ['ship', 'boat', 'ferry', 'vessel', 'sea', 'naval']],
] as const) {
  for (const w of words) KIND_WORDS.set(compact(w), kind);
}

export function parseMovementKind(input: string): MovementKind | null {
  return KIND_WORDS.get(compact(input)) ?? null;
}

export const MIN_CAPACITY = 1;
export const MAX_CAPACITY = 2000;
export const MAX_MOVEMENT_NAME = 100;
export const MAX_MUSTER_POINT = 200;

export interface Movement {
  id: string;
  name: string;
  kind: MovementKind;
  /** seats, 1 to 2,000 */
  capacity: number;
  /** epoch ms */
  departure: number;
  /** where people gather before it leaves */
  musterPoint: string;
}

function requiredText(missing: string, the: string, max: number) {
  return z.string({ error: missing }).transform((s, ctx) => {
    const t = s.trim().replace(/\s+/g, ' ');
    if (t === '') {
      ctx.addIssue({ code: 'custom', message: missing });
      return z.NEVER;
    }
    if (t.length > max) {
      ctx.addIssue({ code: 'custom', message: `${the} is ${t.length} characters; keep it under ${max}` });
      return z.NEVER;
    }
    return t;
  });
}

export const movementKindSchema = z.string({ error: 'a kind of movement is required' }).transform((s, ctx) => {
  const k = parseMovementKind(s);
  if (k === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not a kind of movement; use flight, convoy, bus or ship` });
    return z.NEVER;
  }
  return k;
});

/** "150", 150 → 150; whole seats from 1 to 2,000. */
export const capacitySchema = z.union([z.string(), z.number()], { error: 'a capacity is required' }).transform((v, ctx) => {
  const t = String(v).trim().replace(/[,_\s]/g, '');
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < MIN_CAPACITY || n > MAX_CAPACITY) {
    ctx.addIssue({ code: 'custom', message: `"${shown(String(v))}" is not a capacity; a movement seats a whole number of people from ${MIN_CAPACITY} to ${MAX_CAPACITY.toLocaleString('en-GB')}` });
    return z.NEVER;
  }
  return n;
});

/** A new movement; the departure is already an instant (the command layer reads the date and time). */
export const movementInputSchema = z.object({
  name: requiredText('a movement needs a name, e.g. "Charter 1" or "Convoy north"', 'the name', MAX_MOVEMENT_NAME),
  kind: movementKindSchema,
  capacity: capacitySchema,
  departure: z.number({ error: 'a departure time is required' }).int({ error: 'a departure is an instant in whole milliseconds' }),
  musterPoint: requiredText('a muster point is required: where people gather', 'the muster point', MAX_MUSTER_POINT),
});
export type MovementInput = z.output<typeof movementInputSchema>;

// ---------------------------------------------------------------------------------------------
// Seats and assignments

export const CHECK_IN_STATES = ['assigned', 'checked-in', 'boarded', 'no-show'] as const;
export type CheckInState = (typeof CHECK_IN_STATES)[number];

export const CHECK_IN_LABELS: Record<CheckInState, string> = {
  assigned: 'Assigned',
  'checked-in': 'Checked in',
  boarded: 'Boarded',
  'no-show': 'No-show',
};

/** Someone holding (or having held) a seat on a movement. */
export interface SeatHolder {
  personId: string;
  movementId: string;
  /** for messages; the id when absent */
  movementName?: string;
  /** absent: assigned */
  state?: CheckInState;
}

/** A no-show's seat has gone with the movement; everyone else occupies one. */
function holdsSeat(s: SeatHolder): boolean {
  return s.state !== 'no-show';
}

export function seatsTaken(movementId: string, holders: readonly SeatHolder[]): number {
  return holders.filter((h) => h.movementId === movementId && holdsSeat(h)).length;
}

export function seatsLeft(movement: Movement, holders: readonly SeatHolder[]): number {
  return Math.max(0, movement.capacity - seatsTaken(movement.id, holders));
}

export interface PersonRef {
  id: string;
  name: string;
}

export interface AssignmentRequest {
  /** one person, or a whole household */
  people: readonly PersonRef[];
  /**
   * Everyone in the household of those people, when they belong to one: a member neither in
   * `people` nor already on this movement would be left behind, so the request is refused.
   */
  household?: readonly PersonRef[] | null;
  /** take people off another movement instead of refusing */
  move?: boolean;
}

export type AssignmentCode = 'NOBODY' | 'DEPARTED' | 'SPLITS_HOUSEHOLD' | 'ON_ANOTHER_MOVEMENT' | 'OVER_CAPACITY';

export type AssignmentPlan =
  | {
      ok: true;
      /** people to seat on the movement (moved people included) */
      seat: string[];
      /** people to take off another movement first */
      moves: { personId: string; fromMovementId: string }[];
      /** already on this movement: nothing to do */
      alreadyOn: string[];
      /** after this assignment */
      seatsLeft: number;
    }
  | { ok: false; code: AssignmentCode; message: string; /** who the refusal is about */ people: string[] };

/**
 * Checks seating `request.people` on `movement`, all or none: nobody is seated if anyone cannot be.
 * `alreadyAssigned` is every current seat holder, on any movement. Refused: a departed movement
 * (when `now` is given), a household left partly behind, someone on another movement (unless
 * `move`), or too few seats (the message says how many are left).
 */
export function planAssignment(request: AssignmentRequest, movement: Movement, alreadyAssigned: readonly SeatHolder[], now?: number): AssignmentPlan {
  const fail = (code: AssignmentCode, message: string, people: string[]): AssignmentPlan => ({ ok: false, code, message, people });
  const unique = new Map(request.people.map((p) => [p.id, p]));
  const people = [...unique.values()];
  if (people.length === 0) return fail('NOBODY', 'Name at least one person to assign.', []);
  if (now !== undefined && movement.departure <= now) return fail('DEPARTED', `${movement.name} has already left; choose a later movement.`, people.map((p) => p.id));

  const seated = new Map<string, SeatHolder>();
  for (const h of alreadyAssigned) if (holdsSeat(h)) seated.set(h.personId, h);

  const behind = (request.household ?? []).filter((m) => !unique.has(m.id) && seated.get(m.id)?.movementId !== movement.id);
  if (behind.length) {
    return fail(
      'SPLITS_HOUSEHOLD',
      `A household travels together: ${andList(behind.map((m) => m.name))} ${behind.length === 1 ? 'is' : 'are'} in the same household and not on ${movement.name}; assign the whole household.`,
      behind.map((m) => m.id),
    );
  }

  const alreadyOn = people.filter((p) => seated.get(p.id)?.movementId === movement.id);
  const elsewhere = people.flatMap((p) => {
    const h = seated.get(p.id);
    return h && h.movementId !== movement.id ? [{ person: p, holder: h }] : [];
  });
  if (elsewhere.length && !request.move) {
    const who = elsewhere.map(({ person, holder }) => `${person.name} (on ${holder.movementName ?? holder.movementId}${holder.state && holder.state !== 'assigned' ? `, ${CHECK_IN_LABELS[holder.state].toLowerCase()}` : ''})`);
    return fail('ON_ANOTHER_MOVEMENT', `Already on another movement: ${andList(who)}. Move them explicitly to put them on ${movement.name}.`, elsewhere.map((e) => e.person.id));
  }
  // Someone already boarded cannot be moved: they have left.
  const gone = elsewhere.filter((e) => e.holder.state === 'boarded');
  if (gone.length) {
    return fail('ON_ANOTHER_MOVEMENT', `Already boarded on another movement: ${andList(gone.map((g) => `${g.person.name} (${g.holder.movementName ?? g.holder.movementId})`))}.`, gone.map((g) => g.person.id));
  }

  const onThis = new Set(alreadyOn.map((p) => p.id));
  const seat = people.filter((p) => !onThis.has(p.id)).map((p) => p.id);
  const left = seatsLeft(movement, alreadyAssigned);
  if (seat.length > left) {
    const need = seat.length === 1 ? 'needs 1 seat' : `need ${seat.length} seats together`;
    return fail(
      'OVER_CAPACITY',
      `${movement.name} has ${plural(left, 'seat')} left of ${movement.capacity}; ${seat.length === 1 ? (people[0] as PersonRef).name : 'they'} ${need}${request.household?.length ? ' (a household is not split)' : ''}.`,
      seat,
    );
  }
  return {
    ok: true,
    seat,
    moves: elsewhere.map(({ person, holder }) => ({ personId: person.id, fromMovementId: holder.movementId })),
    alreadyOn: alreadyOn.map((p) => p.id),
    seatsLeft: left - seat.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Priority and allocation

export interface Evacuee {
  id: string;
  name: string;
  needs: readonly PersonNeed[];
  age?: string | null;
  dateOfBirth?: string | null;
  /** when the person registered */
  registeredAt: number;
}

/** People who travel together: a household, or one person alone. */
export interface WaitingGroup {
  id: string;
  label: string;
  members: readonly Evacuee[];
}

export type PriorityReason = 'medical' | 'children' | 'none';
/** Lower boards first. */
export const PRIORITY_RANK: Record<PriorityReason, number> = { medical: 0, children: 1, none: 2 };

/** Medical need first, then households with someone who may be under 18 (from the date of birth, else the age). */
export function groupPriority(group: WaitingGroup, now: number, timeZone = 'UTC'): PriorityReason {
  if (group.members.some((m) => m.needs.includes('medical'))) return 'medical';
  if (group.members.some((m) => mayBeMinor(m, now, timeZone))) return 'children';
  return 'none';
}

function firstRegistered(g: WaitingGroup): number {
  return g.members.reduce((min, m) => Math.min(min, m.registeredAt), Infinity);
}

/** Boarding order: medical, then children, then others; ties by the earliest registration in the group, then id. */
export function priorityOrder<G extends WaitingGroup>(groups: readonly G[], now: number, timeZone = 'UTC'): G[] {
  const keyed = groups.map((g) => ({ g, rank: PRIORITY_RANK[groupPriority(g, now, timeZone)], first: firstRegistered(g) }));
  keyed.sort((a, b) => a.rank - b.rank || a.first - b.first || byId(a.g.id, b.g.id));
  return keyed.map((k) => k.g);
}

export interface AllocationMovement extends Movement {
  /** seats already held before this allocation */
  seatsTaken?: number;
}

export interface Allocation {
  assignments: { movementId: string; groupId: string; personIds: string[] }[];
  waiting: { groupId: string; personIds: string[]; reason: string }[];
  /** per movement id, after the allocation */
  seatsLeft: Record<string, number>;
}

/**
 * Seats waiting groups in priority order (priorityOrder), each whole on the earliest-departing
 * movement that still has room for all of it; a group that fits nowhere waits, with the reason.
 * Movements that have left by `now` are not used. A household is never split and no movement is
 * filled beyond its capacity. A person in two groups is a caller's mistake: RangeError.
 */
export function allocate(groups: readonly WaitingGroup[], movements: readonly AllocationMovement[], now: number, timeZone = 'UTC'): Allocation {
  const seen = new Set<string>();
  for (const g of groups) {
    for (const m of g.members) {
      if (seen.has(m.id)) throw new RangeError(`${m.name} (${m.id}) is in more than one waiting group`);
      seen.add(m.id);
    }
  }
  const open = movements.filter((m) => m.departure > now).sort((a, b) => a.departure - b.departure || byId(a.id, b.id));
  const left = new Map(movements.map((m) => [m.id, Math.max(0, m.capacity - (m.seatsTaken ?? 0))]));
  const out: Allocation = { assignments: [], waiting: [], seatsLeft: {} };

  for (const g of priorityOrder(groups, now, timeZone)) {
    const size = g.members.length;
    if (size === 0) continue;
    const personIds = g.members.map((m) => m.id);
    const mv = open.find((m) => (left.get(m.id) ?? 0) >= size);
    if (mv) {
      left.set(mv.id, (left.get(mv.id) ?? 0) - size);
      out.assignments.push({ movementId: mv.id, groupId: g.id, personIds });
      continue;
    }
    let reason: string;
    if (open.length === 0) reason = movements.length === 0 ? 'no movement is planned' : 'every planned movement has left';
    else {
      const largest = Math.max(...open.map((m) => m.capacity));
      if (size > largest) reason = `${g.label} is ${plural(size, 'person', 'people')}, more than any movement seats (largest: ${largest}); a household is not split`;
      else {
        const most = open.reduce((best, m) => ((left.get(m.id) ?? 0) > (left.get(best.id) ?? 0) ? m : best));
        reason = `no movement has ${size} seats left together (most: ${plural(left.get(most.id) ?? 0, 'seat')} on ${most.name})`;
      }
    }
    out.waiting.push({ groupId: g.id, personIds, reason });
  }
  for (const m of movements) out.seatsLeft[m.id] = left.get(m.id) ?? 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Check-in

export type CheckInAction = 'check-in' | 'board' | 'no-show';
export type CheckInCode = 'ALREADY' | 'NOT_CHECKED_IN' | 'NOT_DEPARTED' | 'FINAL';

export type CheckInTransition = { ok: true; to: CheckInState; /** the person's status this implies, if any */ personStatus: PersonStatus | null } | { ok: false; code: CheckInCode; message: string };

/**
 * assigned → checked-in → boarded (boarded: the person is evacuated); assigned or checked-in →
 * no-show once the movement has left. Boarded and no-show are final: a no-show is assigned again
 * to another movement.
 */
export function checkInTransition(from: CheckInState, action: CheckInAction, departure: number, now: number): CheckInTransition {
  const fail = (code: CheckInCode, message: string): CheckInTransition => ({ ok: false, code, message });
  if (from === 'boarded') return fail('FINAL', action === 'board' ? 'Already boarded.' : 'Already boarded: nothing more to record for this movement.');
  if (from === 'no-show') return fail('FINAL', 'Recorded as a no-show: the movement has left; assign them to another movement.');
  switch (action) {
    case 'check-in':
      if (from === 'checked-in') return fail('ALREADY', 'Already checked in.');
      return { ok: true, to: 'checked-in', personStatus: null };
    case 'board':
      if (from === 'assigned') return fail('NOT_CHECKED_IN', 'Not checked in yet: check them in at the muster point first.');
      return { ok: true, to: 'boarded', personStatus: 'evacuated' };
    case 'no-show':
      if (now < departure) return fail('NOT_DEPARTED', 'A no-show is recorded only once the movement has left.');
      return { ok: true, to: 'no-show', personStatus: null };
  }
}
