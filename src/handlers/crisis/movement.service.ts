// Evacuation movements and their seats: creating movements, seating a person or a household
// (capacity checked inside the write transaction, with the movement row locked on PostgreSQL),
// allocating everyone waiting by priority, check-in and boarding (boarding records the person as
// evacuated in the same transaction), and the manifest. The rules live in src/domain/evacuation.ts.
import { z } from 'zod/v4';
import {
  allocate,
  checkInTransition,
  groupPriority,
  planAssignment,
  type AllocationMovement,
  type CheckInState,
  type Evacuee,
  type Movement,
  type MovementInput,
  type MovementKind,
  type PersonRef,
  type PriorityReason,
  type SeatHolder,
  type WaitingGroup,
} from '../../domain/evacuation';
import { isPersonNeed, type PersonNeed, type PersonStatus } from '../../domain/person';
import { Prisma, type Movement as MovementRow, type MovementSeat as SeatRow } from '../../generated/prisma-sqlite/client';
import type { Tx } from '../../store/client';
import type { CrisisRecord, PersonRecord } from '../../store/crisis.repository';
import { newId, type AuditMeta, type Store, type Writer } from '../../store/store';
import { CommandError } from '../command';
import { liveSurvivor, scheduleBoard, type Actor, type CrisisDeps } from './crisis.service';
import { isUniqueViolation } from '../../store/unique';

export type MovementRecord = MovementRow;
export type SeatRecord = SeatRow;

/** Statuses of people who no longer travel: they are not seated, nor waited for by their household. */
export const NOT_TRAVELLING: readonly PersonStatus[] = ['evacuated', 'deceased', 'left-area'];

/** What seating needs to know of a person: no personal data beyond the name. */
export interface Traveller {
  id: string;
  number: number;
  fullName: string;
  household: string | null;
  status: string;
  needs: PersonNeed[];
  age: string | null;
  dateOfBirth: string | null;
  createdAt: Date;
}

const TRAVELLER_SELECT = { id: true, number: true, fullName: true, household: true, status: true, needs: true, age: true, dateOfBirth: true, createdAt: true, crisisId: true, mergedIntoId: true } as const;

const needList = z.array(z.string());

function needsOf(json: string): PersonNeed[] {
  try {
    const r = needList.safeParse(JSON.parse(json));
    return r.success ? r.data.filter(isPersonNeed) : [];
  } catch {
    return [];
  }
}

function travellerOf(r: { id: string; number: number; fullName: string; household: string | null; status: string; needs: string; age: string | null; dateOfBirth: string | null; createdAt: Date }): Traveller {
  return { id: r.id, number: r.number, fullName: r.fullName, household: r.household, status: r.status, needs: needsOf(r.needs), age: r.age, dateOfBirth: r.dateOfBirth, createdAt: r.createdAt };
}

function travels(p: { status: string }): boolean {
  return !(NOT_TRAVELLING as readonly string[]).includes(p.status);
}

function ref(p: Traveller): PersonRef {
  return { id: p.id, name: `${p.fullName} (#${p.number})` };
}

function evacuee(p: Traveller): Evacuee {
  return { id: p.id, name: p.fullName, needs: p.needs, age: p.age, dateOfBirth: p.dateOfBirth, registeredAt: p.createdAt.getTime() };
}

/** The domain's view of a stored movement. */
export function asMovement(m: MovementRecord): Movement {
  return { id: m.id, name: m.name, kind: m.kind as MovementKind, capacity: m.capacity, departure: m.departureAt.getTime(), musterPoint: m.musterPoint };
}

/** "movement 2 Charter 1": how other movements are named in messages. */
export function movementLabel(m: Pick<MovementRecord, 'number' | 'name'>): string {
  return `movement ${m.number} ${m.name}`;
}

/** A no-show's seat went with the movement; every other seat is held. */
function holdsSeat(s: { state: string }): boolean {
  return s.state !== 'no-show';
}

/**
 * Locks the movements' rows until the transaction ends, in id order (no deadlocks between two
 * callers locking several): whoever counts seats next waits for this transaction. SQLite has one
 * writer, so there is nothing to lock.
 */
async function lockMovements(store: Store, tx: Tx, ids: readonly string[]): Promise<void> {
  if (store.provider !== 'postgresql' || !ids.length) return;
  const sorted = [...new Set(ids)].sort();
  await tx.$queryRaw(Prisma.sql`SELECT "id" FROM "Movement" WHERE "id" IN (${Prisma.join(sorted)}) ORDER BY "id" FOR UPDATE`);
}

export async function movementByNumber(client: Store['db'] | Tx, crisisId: string, number: number): Promise<MovementRecord | null> {
  return client.movement.findUnique({ where: { crisisId_number: { crisisId, number } } });
}

async function movementOrFail(client: Store['db'] | Tx, crisis: CrisisRecord, number: number): Promise<MovementRecord> {
  const m = await movementByNumber(client, crisis.id, number);
  if (!m) {
    const count = await client.movement.count({ where: { crisisId: crisis.id } });
    throw new CommandError('UNKNOWN_MOVEMENT', `${crisis.code} has no movement ${number}.${count ? ` See /crisis movement list ${crisis.code}.` : ` Plan one with /crisis movement new ${crisis.code}.`}`, { movement: 'unknown movement' });
  }
  return m;
}

/** Seats held (no-shows excluded) per movement of the crisis. */
async function takenByMovement(client: Store['db'] | Tx, crisisId: string): Promise<Map<string, number>> {
  const rows = await client.movementSeat.groupBy({ by: ['movementId'], where: { crisisId, state: { not: 'no-show' } }, _count: { _all: true } });
  return new Map(rows.map((r) => [r.movementId, r._count._all]));
}

// ---------------------------------------------------------------------------------------------
// Movements

export interface MovementSummary extends MovementRecord {
  taken: number;
  left: number;
  /** the stored status, or "departed" once a planned movement's departure has passed */
  shownStatus: string;
}

export function shownStatus(m: MovementRecord, now: Date): string {
  return m.status === 'planned' && m.departureAt.getTime() <= now.getTime() ? 'departed' : m.status;
}

export async function listMovements(store: Store, crisisId: string, now: Date): Promise<MovementSummary[]> {
  const [movements, taken] = await Promise.all([
    store.db.movement.findMany({ where: { crisisId }, orderBy: [{ departureAt: 'asc' }, { number: 'asc' }] }),
    takenByMovement(store.db, crisisId),
  ]);
  return movements.map((m) => {
    const t = taken.get(m.id) ?? 0;
    return { ...m, taken: t, left: Math.max(0, m.capacity - t), shownStatus: shownStatus(m, now) };
  });
}

export async function movementSummary(store: Store, crisis: CrisisRecord, number: number, now: Date): Promise<MovementSummary> {
  const m = await movementOrFail(store.db, crisis, number);
  const t = await store.db.movementSeat.count({ where: { movementId: m.id, state: { not: 'no-show' } } });
  return { ...m, taken: t, left: Math.max(0, m.capacity - t), shownStatus: shownStatus(m, now) };
}

/**
 * A new movement, numbered per crisis (the highest number plus one, read in the transaction; the
 * unique (crisis, number) index turns a race into a conflict, and the loser tries once more).
 */
export async function createMovement(deps: CrisisDeps, meta: AuditMeta, crisis: CrisisRecord, input: MovementInput, now: Date): Promise<MovementRecord> {
  const { store, outbox } = deps;
  const once = () =>
    store.change(meta, async (w) => {
      const max = await w.tx.movement.aggregate({ where: { crisisId: crisis.id }, _max: { number: true } });
      const number = (max._max.number ?? 0) + 1;
      const m = await w.tx.movement.create({
        data: { id: newId(), crisisId: crisis.id, number, name: input.name, kind: input.kind, capacity: input.capacity, departureAt: new Date(input.departure), musterPoint: input.musterPoint, status: 'planned', version: 1, createdAt: now },
      });
      await scheduleBoard(outbox, w.tx, crisis, now);
      await w.audit('movement', m.id, 'create', null, { crisis: crisis.code, number, name: m.name, kind: m.kind, capacity: m.capacity, departureAt: m.departureAt, musterPoint: m.musterPoint });
      return m;
    });
  let created: MovementRecord;
  try {
    created = await once();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    created = await once();
  }
  outbox.wake?.();
  return created;
}

// ---------------------------------------------------------------------------------------------
// Seats

async function seatIn(w: Writer, crisis: CrisisRecord, movement: MovementRecord, p: Traveller, now: Date): Promise<void> {
  // A no-show's old seat (a person holds one row at most) gives way to the new one.
  const old = await w.tx.movementSeat.findUnique({ where: { personId: p.id } });
  if (old) {
    await w.tx.movementSeat.delete({ where: { personId: p.id } });
    await w.audit('movement-seat', `${old.movementId}:${p.id}`, 'unassign', { person: p.number, state: old.state }, null);
  }
  await w.tx.movementSeat.create({ data: { movementId: movement.id, personId: p.id, crisisId: crisis.id, state: 'assigned', assignedAt: now, checkedInAt: null, boardedAt: null } });
  await w.audit('movement-seat', `${movement.id}:${p.id}`, 'assign', null, { crisis: crisis.code, movement: movement.number, person: p.number, state: 'assigned' });
}

/** Live people of the crisis labelled `label` exactly. */
async function householdMembers(tx: Tx, crisisId: string, label: string): Promise<Traveller[]> {
  const rows = await tx.person.findMany({ where: { crisisId, household: label, mergedIntoId: null }, select: TRAVELLER_SELECT, orderBy: { number: 'asc' } });
  return rows.map(travellerOf);
}

function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** The household label as stored: the one typed, else the only one equal to it ignoring case, accents and punctuation. */
async function resolveHousehold(tx: Tx, crisis: CrisisRecord, typed: string): Promise<string> {
  const label = typed.trim();
  if (await tx.person.findFirst({ where: { crisisId: crisis.id, household: label, mergedIntoId: null }, select: { id: true } })) return label;
  const labels = await tx.person.findMany({ where: { crisisId: crisis.id, household: { not: null }, mergedIntoId: null }, select: { household: true }, distinct: ['household'] });
  const near = labels.map((l) => l.household as string).filter((l) => fold(l) === fold(label));
  if (near.length === 1) return near[0] as string;
  if (near.length > 1) throw new CommandError('WHICH_HOUSEHOLD', `Several households match "${label.slice(0, 60)}": ${near.map((l) => `"${l}"`).join(', ')}; type the label exactly.`, { household: 'which household?' });
  throw new CommandError('UNKNOWN_HOUSEHOLD', `No one in ${crisis.code} is in the household "${label.slice(0, 60)}".`, { household: 'unknown household' });
}

export type AssignTarget = { personNumber: number } | { household: string };

export interface AssignResult {
  movement: MovementRecord;
  /** the household label, when a household was named or the person belongs to one */
  household: string | null;
  seated: Traveller[];
  moved: { person: Traveller; from: MovementRecord }[];
  alreadyOn: Traveller[];
  seatsLeft: number;
}

/**
 * Seats a person, or every member of a household who still travels, on a movement: all or none,
 * checked by planAssignment against the seats as they are inside the transaction (the movement row
 * locked first on PostgreSQL, so two assignments cannot both take the last seats).
 */
export async function assignToMovement(deps: CrisisDeps, meta: AuditMeta, crisis: CrisisRecord, movementNumber: number, target: AssignTarget, opts: { move: boolean }, now: Date): Promise<AssignResult> {
  const { store, outbox } = deps;
  const out = await store.change(meta, async (w) => {
    const movement = await movementOrFail(w.tx, crisis, movementNumber);
    if (movement.status === 'cancelled') throw new CommandError('CANCELLED', `${movementLabel(movement)} was cancelled; choose another movement.`);
    await lockMovements(store, w.tx, [movement.id]);

    let people: Traveller[];
    let household: Traveller[] | null = null;
    let label: string | null;
    if ('personNumber' in target) {
      const row = await w.tx.person.findUnique({ where: { number: target.personNumber }, select: TRAVELLER_SELECT });
      if (!row || row.crisisId !== crisis.id) throw new CommandError('UNKNOWN_PERSON', `${crisis.code} has no person #${target.personNumber}. Search with /person find <name> crisis=${crisis.code}.`, { person: 'unknown person' });
      if (row.mergedIntoId) {
        const into = await w.tx.person.findUnique({ where: { id: row.mergedIntoId }, select: { number: true } });
        throw new CommandError('MERGED', `Person #${row.number} was merged into #${into?.number ?? '?'} as the same person; use that record.`, { person: 'merged record' });
      }
      const p = travellerOf(row);
      if (!travels(p)) throw new CommandError('NOT_TRAVELLING', `#${p.number} ${p.fullName} is recorded as ${p.status}: not seated. Report a new status first if that is wrong.`, { person: p.status });
      people = [p];
      label = p.household;
      if (label) household = await householdMembers(w.tx, crisis.id, label);
    } else {
      label = await resolveHousehold(w.tx, crisis, target.household);
      household = await householdMembers(w.tx, crisis.id, label);
      people = household;
    }

    const ids = [...new Set([...people, ...(household ?? [])].map((p) => p.id))];
    const seats = await w.tx.movementSeat.findMany({ where: { OR: [{ movementId: movement.id }, { personId: { in: ids } }] } });
    const seatOf = new Map(seats.filter(holdsSeat).map((s) => [s.personId, s]));
    // Members who no longer travel (evacuated, deceased, left; or boarded on an earlier movement)
    // are neither seated nor waited for.
    const stillTravelling = (p: Traveller) => travels(p) && seatOf.get(p.id)?.state !== 'boarded';
    if (household) household = household.filter(stillTravelling);
    if ('household' in target) {
      people = household ?? [];
      if (!people.length) throw new CommandError('NOBODY', `Nobody in the household "${label}" still needs a seat (all evacuated, deceased, left or boarded).`);
    }

    const otherIds = [...new Set(seats.filter((s) => s.movementId !== movement.id).map((s) => s.movementId))];
    const others = otherIds.length ? await w.tx.movement.findMany({ where: { id: { in: otherIds } } }) : [];
    const otherById = new Map(others.map((m) => [m.id, m]));
    const holders: SeatHolder[] = seats.map((s) => {
      const mv = s.movementId === movement.id ? movement : otherById.get(s.movementId);
      return { personId: s.personId, movementId: s.movementId, movementName: mv ? movementLabel(mv) : s.movementId, state: s.state as CheckInState };
    });

    const plan = planAssignment({ people: people.map(ref), household: household && household.length > 1 ? household.map(ref) : null, move: opts.move }, asMovement(movement), holders, now.getTime());
    if (!plan.ok) {
      const hint =
        plan.code === 'SPLITS_HOUSEHOLD' && label
          ? ` For example: /crisis assign ${crisis.code} household="${label}" ${movement.number}`
          : plan.code === 'ON_ANOTHER_MOVEMENT' && !opts.move && !plan.message.startsWith('Already boarded')
            ? ` Add move=yes to take them off it: /crisis assign ${crisis.code} ${'personNumber' in target ? target.personNumber : `household="${label}"`} ${movement.number} move=yes`
            : '';
      throw new CommandError(plan.code, `${plan.message}${hint}`);
    }

    const byId = new Map([...people, ...(household ?? [])].map((p) => [p.id, p]));
    const moved: AssignResult['moved'] = [];
    for (const m of plan.moves) {
      const p = byId.get(m.personId) as Traveller;
      const from = otherById.get(m.fromMovementId) as MovementRecord;
      const old = seatOf.get(m.personId) as SeatRecord;
      await w.tx.movementSeat.delete({ where: { movementId_personId: { movementId: m.fromMovementId, personId: m.personId } } });
      await w.audit('movement-seat', `${m.fromMovementId}:${m.personId}`, 'move', { crisis: crisis.code, movement: from.number, person: p.number, state: old.state }, { movement: movement.number });
      moved.push({ person: p, from });
    }
    const seated: Traveller[] = [];
    for (const id of plan.seat) {
      const p = byId.get(id) as Traveller;
      await seatIn(w, crisis, movement, p, now);
      seated.push(p);
    }
    if (seated.length) await scheduleBoard(outbox, w.tx, crisis, now);
    return { movement, household: label, seated, moved, alreadyOn: plan.alreadyOn.map((id) => byId.get(id) as Traveller), seatsLeft: plan.seatsLeft };
  });
  outbox.wake?.();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Allocation

export interface AllocatedGroup {
  movement: MovementRecord;
  label: string;
  priority: PriorityReason;
  people: Traveller[];
}

export interface WaitingEntry {
  label: string;
  priority: PriorityReason | null;
  people: Traveller[];
  reason: string;
}

export interface AllocateResult {
  seated: AllocatedGroup[];
  waiting: WaitingEntry[];
  /** open movements after the allocation, by departure */
  movements: { movement: MovementRecord; left: number }[];
}

/**
 * Seats everyone waiting for evacuation (needs evacuation, still travelling, holding no seat),
 * household by household (a household travels whole: its members who still travel go together,
 * needs or not), medical first, then children, then others, on the earliest movement with room
 * for the whole group. One transaction, every open movement locked first on PostgreSQL.
 */
export async function allocateWaiting(deps: CrisisDeps, meta: AuditMeta, crisis: CrisisRecord, now: Date, timeZone: string): Promise<AllocateResult> {
  const { store, outbox } = deps;
  const out = await store.change(meta, async (w) => {
    const open = await w.tx.movement.findMany({ where: { crisisId: crisis.id, status: 'planned', departureAt: { gt: now } }, orderBy: [{ departureAt: 'asc' }, { number: 'asc' }] });
    await lockMovements(store, w.tx, open.map((m) => m.id));
    const planned = await w.tx.movement.count({ where: { crisisId: crisis.id, status: { not: 'cancelled' } } });

    // Who needs evacuation, and everyone who travels with them.
    const needing = (
      await w.tx.person.findMany({ where: { crisisId: crisis.id, mergedIntoId: null, status: { notIn: [...NOT_TRAVELLING] }, needs: { contains: '"evacuation"' } }, select: TRAVELLER_SELECT, orderBy: { number: 'asc' } })
    )
      .map((r) => travellerOf(store.crises.opened(r)))
      .filter((p) => p.needs.includes('evacuation'));
    const labels = [...new Set(needing.map((p) => p.household).filter((h): h is string => h !== null))];
    const members = labels.length
      ? (await w.tx.person.findMany({ where: { crisisId: crisis.id, mergedIntoId: null, status: { notIn: [...NOT_TRAVELLING] }, household: { in: labels } }, select: TRAVELLER_SELECT, orderBy: { number: 'asc' } })).map((r) => travellerOf(store.crises.opened(r)))
      : [];
    const byLabel = new Map<string, Traveller[]>();
    for (const m of members) byLabel.set(m.household as string, [...(byLabel.get(m.household as string) ?? []), m]);

    const involved = [...new Set([...needing, ...members].map((p) => p.id))];
    const seats = involved.length ? await w.tx.movementSeat.findMany({ where: { personId: { in: involved } } }) : [];
    const holding = new Map(seats.filter(holdsSeat).map((s) => [s.personId, s]));
    const seatMovements = new Map((await w.tx.movement.findMany({ where: { id: { in: [...new Set([...holding.values()].map((s) => s.movementId))] } } })).map((m) => [m.id, m]));

    const groups: (WaitingGroup & { people: Traveller[] })[] = [];
    const waiting: WaitingEntry[] = [];
    const handled = new Set<string>();
    for (const p of needing) {
      if (handled.has(p.id) || holding.has(p.id)) continue;
      if (!p.household) {
        handled.add(p.id);
        groups.push({ id: `person:${p.id}`, label: `#${p.number} ${p.fullName}`, members: [evacuee(p)], people: [p] });
        continue;
      }
      const label = p.household;
      const all = byLabel.get(label) ?? [p];
      for (const m of all) handled.add(m.id);
      const seated = all.filter((m) => holding.has(m.id));
      const rest = all.filter((m) => !holding.has(m.id));
      if (seated.length) {
        const where = [...new Set(seated.map((m) => seatMovements.get(holding.get(m.id)?.movementId ?? '')).filter((m): m is MovementRecord => m !== undefined))];
        const on = where.map((m) => movementLabel(m)).join(' and ');
        const hint = where.length === 1 ? `; seat the rest with them: /crisis assign ${crisis.code} household="${label}" ${(where[0] as MovementRecord).number}` : '';
        waiting.push({ label: `household "${label}"`, priority: null, people: rest, reason: `part of the household is already on ${on || 'a movement'}, and a household is not split${hint}` });
        continue;
      }
      groups.push({ id: `household:${label}`, label: `household "${label}"`, members: all.map(evacuee), people: all });
    }

    const taken = await takenByMovement(w.tx, crisis.id);
    const movements: AllocationMovement[] = open.map((m) => ({ ...asMovement(m), seatsTaken: taken.get(m.id) ?? 0 }));
    // allocate() says "no movement is planned" when given none; it cannot know about departed ones.
    const allocation = allocate(groups, movements, now.getTime(), timeZone);
    const groupById = new Map(groups.map((g) => [g.id, g]));
    const movementById = new Map(open.map((m) => [m.id, m]));

    const seated: AllocatedGroup[] = [];
    for (const a of allocation.assignments) {
      const g = groupById.get(a.groupId) as (typeof groups)[number];
      const movement = movementById.get(a.movementId) as MovementRecord;
      for (const p of g.people) await seatIn(w, crisis, movement, p, now);
      seated.push({ movement, label: g.label, priority: groupPriority(g, now.getTime(), timeZone), people: g.people });
    }
    for (const x of allocation.waiting) {
      const g = groupById.get(x.groupId) as (typeof groups)[number];
      const reason = !open.length && planned ? 'every planned movement has left' : x.reason;
      waiting.push({ label: g.label, priority: groupPriority(g, now.getTime(), timeZone), people: g.people, reason });
    }
    if (seated.length) {
      await scheduleBoard(outbox, w.tx, crisis, now);
      await w.audit('crisis', crisis.id, 'allocate', null, { crisis: crisis.code, seated: seated.map((s) => ({ movement: s.movement.number, people: s.people.map((p) => p.number) })), waiting: waiting.map((x) => x.people.map((p) => p.number)) });
    }
    return { seated, waiting, movements: open.map((m) => ({ movement: m, left: allocation.seatsLeft[m.id] ?? 0 })) };
  });
  outbox.wake?.();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Check-in and boarding

/**
 * A status report inside the caller's transaction: the note, then the person's status if the note
 * is the latest by source time (as reportStatus in crisis.service.ts, which opens its own).
 */
export async function reportStatusIn(
  store: Store,
  w: Writer,
  crisis: CrisisRecord,
  person: { id: string; status: string },
  r: { status: PersonStatus; text: string | null; location: string | null; madeContact: boolean | null; source: string; sourceAt: Date },
  by: Actor,
  now: Date,
): Promise<boolean> {
  // A merge may have landed since the caller read the person: the report goes to the survivor.
  const target = await liveSurvivor(store, w.tx, person.id);
  const reportedOn = target.id === person.id ? null : person.id;
  person = target;
  await store.crises.addNote(w.tx, { personId: person.id, crisisId: crisis.id, authorId: by.id, authorName: by.name, source: r.source, status: r.status, text: r.text, lastKnownLocation: r.location, madeContact: r.madeContact, sourceAt: r.sourceAt, createdAt: now, linkedPersonId: null, pfif: null });
  const applied = await store.crises.applyStatus(w.tx, person.id, r.status, r.sourceAt, now);
  if (applied && r.location) await w.tx.person.update({ where: { id: person.id }, data: { location: r.location } });
  await w.audit('person', person.id, 'status', { status: person.status }, { status: r.status, applied, ...(reportedOn ? { reportedOn } : {}) });
  return applied;
}

export interface CheckInResult {
  movement: MovementRecord;
  person: Traveller;
  from: CheckInState;
  to: CheckInState;
  /** boarding: whether the person's status became evacuated (false: a later report says otherwise) */
  statusApplied: boolean | null;
}

/**
 * Checks a person in at the muster point, or records them boarded (checkInTransition decides what
 * may follow what). Boarding also records a status note "evacuated" in the same transaction, so a
 * boarded seat never lacks its note.
 */
export async function recordCheckIn(deps: CrisisDeps, meta: AuditMeta, crisis: CrisisRecord, movementNumber: number, personNumber: number, action: 'check-in' | 'board' | 'no-show', by: Actor, now: Date): Promise<CheckInResult> {
  const { store, outbox } = deps;
  const out = await store.change(meta, async (w) => {
    const movement = await movementOrFail(w.tx, crisis, movementNumber);
    if (movement.status === 'cancelled') throw new CommandError('CANCELLED', `${movementLabel(movement)} was cancelled.`);
    const row = await w.tx.person.findUnique({ where: { number: personNumber }, select: TRAVELLER_SELECT });
    if (!row || row.crisisId !== crisis.id) throw new CommandError('UNKNOWN_PERSON', `${crisis.code} has no person #${personNumber}.`, { person: 'unknown person' });
    if (row.mergedIntoId) {
      const into = await w.tx.person.findUnique({ where: { id: row.mergedIntoId }, select: { number: true } });
      throw new CommandError('MERGED', `Person #${row.number} was merged into #${into?.number ?? '?'} as the same person; use that record.`, { person: 'merged record' });
    }
    const person = travellerOf(row);
    const seat = await w.tx.movementSeat.findUnique({ where: { personId: person.id } });
    if (!seat || seat.movementId !== movement.id) {
      const elsewhere = seat ? await w.tx.movement.findUnique({ where: { id: seat.movementId } }) : null;
      throw new CommandError(
        'NOT_ON_MOVEMENT',
        `#${person.number} ${person.fullName} is not on ${movementLabel(movement)}${elsewhere ? ` (${seat?.state === 'no-show' ? 'a no-show on' : 'on'} ${movementLabel(elsewhere)})` : ''}. Assign them first: /crisis assign ${crisis.code} ${person.number} ${movement.number}`,
      );
    }
    const from = seat.state as CheckInState;
    const t = checkInTransition(from, action, movement.departureAt.getTime(), now.getTime());
    if (!t.ok) throw new CommandError(t.code, `#${person.number} ${person.fullName}: ${t.message}`);
    const data = t.to === 'checked-in' ? { state: t.to, checkedInAt: now } : t.to === 'boarded' ? { state: t.to, boardedAt: now } : { state: t.to };
    // Fenced on the state read: two people pressing the same button record it once.
    const { count } = await w.tx.movementSeat.updateMany({ where: { movementId: movement.id, personId: person.id, state: from }, data });
    if (count !== 1) throw new CommandError('CHANGED', `#${person.number} was updated by someone else at the same moment; look again with /crisis movement show ${crisis.code} ${movement.number}.`);
    await w.audit('movement-seat', `${movement.id}:${person.id}`, action, { crisis: crisis.code, movement: movement.number, person: person.number, state: from }, { state: t.to });
    let statusApplied: boolean | null = null;
    if (t.personStatus) {
      statusApplied = await reportStatusIn(
        store,
        w,
        crisis,
        person,
        { status: t.personStatus, text: `Boarded ${movementLabel(movement)} at ${movement.musterPoint}`, location: null, madeContact: true, source: 'staff', sourceAt: now },
        by,
        now,
      );
    }
    await scheduleBoard(outbox, w.tx, crisis, now);
    return { movement, person, from, to: t.to, statusApplied };
  });
  outbox.wake?.();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Manifest

export interface ManifestRow {
  seat: SeatRecord;
  person: PersonRecord;
}

/** Everyone holding or having held a seat on the movement, households together, then by number. */
export async function manifestOf(store: Store, movement: MovementRecord): Promise<ManifestRow[]> {
  const seats = await store.db.movementSeat.findMany({ where: { movementId: movement.id } });
  const people = new Map((await store.crises.peopleByIds(seats.map((s) => s.personId))).map((p) => [p.id, p]));
  const rows = seats.flatMap((seat) => {
    const person = people.get(seat.personId);
    return person ? [{ seat, person }] : [];
  });
  const key = (r: ManifestRow) => r.person.household ?? '\uffff';
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.person.number - b.person.number));
  return rows;
}

/** The manifest holds personal data: who exported it, and whom it listed (by number). */
export async function auditManifest(store: Store, meta: AuditMeta, crisis: CrisisRecord, movement: MovementRecord, rows: readonly ManifestRow[]): Promise<void> {
  await store.change(meta, (w) => w.audit('movement', movement.id, 'manifest', null, { crisis: crisis.code, movement: movement.number, rows: rows.length, people: rows.map((r) => r.person.number), fields: '[personal data]' }));
}
