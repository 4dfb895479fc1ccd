// Deciding possible duplicates: "Same person" merges the newer record into the older one, field by
// field (the record with the newer source date wins where it has a value); "Different people"
// closes the pair for good; a merge can be undone.
//
// A merge keeps both records. The merged-away one points at the survivor (mergedIntoId), leaves
// the counts, the call list and /person find, and keeps its notes: both histories are kept where
// they were written, and the survivor's status is that of the latest note across both (and across
// any record merged into either before). Each record gets a note linking it to the other, as PFIF
// does with linked_person_record_id.
//
// Other open candidates involving the merged-away record are left as they are: /crisis duplicates
// skips pairs with a merged-away record, and they come back if the merge is undone.
//
// The store's `source` and `sourceId` are not merge fields: with the crisis they identify a
// record in the file it was imported from (re-importing the file updates it), so each record keeps
// its own.
//
// Decisions are fenced on the candidate's status (one wins, the other is told who decided), and the
// two records on their versions; rows are locked in the same order everywhere (the candidate, then
// the older record, then the newer), so concurrent decisions never deadlock.
import { z } from 'zod/v4';
import {
  DEFAULT_PERSON_STATUS,
  isPersonNeed,
  isPersonStatus,
  latestStatusNote,
  MERGE_FIELDS,
  mergePeople,
  nameKey,
  SEXES,
  unmerge,
  type MergeField,
  type PersonChange,
  type PersonData,
  type PersonStatus,
  type Sex,
} from '../../domain/person';
import type { Db, Tx } from '../../store/client';
import type { CrisisRecord, DuplicateRecord, PersonFields, PersonNoteRecord, PersonRecord } from '../../store/crisis.repository';
import type { AuditMeta, Store, Writer } from '../../store/store';
import { CommandError } from '../command';
import { nameIndexKeys, scheduleBoard, type Actor, type CrisisDeps } from './crisis.service';

/** Links of mergedIntoId followed at most this deep (a chain of merges). */
const MAX_MERGE_DEPTH = 50;

// ---------------------------------------------------------------------------------------------
// Store record ↔ domain data

function isSex(s: string): s is Sex {
  return (SEXES as readonly string[]).includes(s);
}

/**
 * The merge fields of a stored record as the domain sees them. `source` is left out (null on both
 * sides, so the merge never changes it): see the file comment.
 */
export function personDataOf(p: PersonRecord): PersonData {
  return {
    fullName: p.fullName,
    givenName: p.givenName,
    familyName: p.familyName,
    alternateNames: [...p.alternateNames],
    description: p.description,
    sex: p.sex !== null && isSex(p.sex) ? p.sex : null,
    dateOfBirth: p.dateOfBirth,
    age: p.age,
    nationality: p.nationality,
    passportNumber: p.passportNumber,
    homeStreet: p.homeStreet,
    homeNeighborhood: p.homeNeighborhood,
    homeCity: p.homeCity,
    homeState: p.homeState,
    homePostalCode: p.homePostalCode,
    homeCountry: p.homeCountry,
    location: p.location,
    latitude: p.latitude,
    longitude: p.longitude,
    phone: p.phone,
    email: p.email,
    nokName: p.nokName,
    nokRelationship: p.nokRelationship,
    nokPhone: p.nokPhone,
    nokEmail: p.nokEmail,
    household: p.household,
    needs: p.needs.filter(isPersonNeed),
    source: null,
    sourceDate: p.sourceDate.getTime(),
  };
}

/** Merge fields with a column of the same name and type (sex and needs narrower in the domain). */
type ColumnField = Exclude<MergeField, 'source' | 'sourceDate'>;
type Columns = Pick<PersonFields, ColumnField>;
type PersonPatch = Partial<PersonFields> & { nameKey?: string; sourceDate?: Date; mergedIntoId?: string | null };

/** Checks at compile time that the domain's values fit the columns. */
function columnsOf(d: PersonData): Columns {
  return d;
}

function copyColumn<K extends ColumnField>(to: Partial<Columns>, from: Columns, k: K): void {
  to[k] = from[k];
}

/** A savePerson patch writing these fields of `d` (and the name key when the name changes). */
function patchOf(d: PersonData, fields: readonly MergeField[]): PersonPatch {
  const patch: PersonPatch = {};
  const columns = columnsOf(d);
  for (const f of fields) {
    if (f === 'source') continue;
    if (f === 'sourceDate') {
      if (d.sourceDate !== null) patch.sourceDate = new Date(d.sourceDate);
      continue;
    }
    copyColumn(patch, columns, f);
  }
  if (patch.fullName !== undefined) patch.nameKey = nameKey(patch.fullName);
  return patch;
}

// ---------------------------------------------------------------------------------------------
// Merge families and statuses

/** The record and every record merged into it, directly or through a chain of merges. */
async function familyOf(tx: Tx | Db, p: Pick<PersonRecord, 'id' | 'crisisId'>): Promise<{ id: string; number: number }[]> {
  const seen = new Set([p.id]);
  const out: { id: string; number: number }[] = [];
  let frontier = [p.id];
  for (let depth = 0; frontier.length && depth < MAX_MERGE_DEPTH; depth++) {
    const rows = await tx.person.findMany({ where: { crisisId: p.crisisId, mergedIntoId: { in: frontier } }, select: { id: true, number: true } });
    frontier = [];
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r);
      frontier.push(r.id);
    }
  }
  return out;
}

/** The status of the latest note (by source time) of these records together; unaccounted when none. */
async function statusOfNotes(tx: Tx, personIds: readonly string[]): Promise<{ status: PersonStatus; statusAt: Date | null }> {
  const notes = await tx.personNote.findMany({ where: { personId: { in: [...personIds] } }, select: { id: true, status: true, sourceAt: true, createdAt: true } });
  const latest = latestStatusNote(notes.map((n) => ({ id: n.id, status: n.status !== null && isPersonStatus(n.status) ? n.status : null, sourceDate: n.sourceAt.getTime(), entryDate: n.createdAt.getTime() })));
  return latest?.status ? { status: latest.status, statusAt: new Date(latest.sourceDate) } : { status: DEFAULT_PERSON_STATUS, statusAt: null };
}

/** Sets the record's status to that of the latest note across it and everything merged into it. */
async function recomputeStatus(tx: Tx, p: PersonRecord, now: Date): Promise<{ status: PersonStatus; statusAt: Date | null }> {
  const family = await familyOf(tx, p);
  const s = await statusOfNotes(tx, [p.id, ...family.map((x) => x.id)]);
  await tx.person.update({ where: { id: p.id }, data: { status: s.status, statusAt: s.statusAt, updatedAt: now } });
  return s;
}

export interface HistoryNote extends PersonNoteRecord {
  /** The number of the record merged into this one that the note was written on; null for its own notes. */
  fromNumber: number | null;
}

/**
 * A person's notes with those of every record merged into them (both histories kept), oldest
 * first by source time, then by when they were recorded.
 */
export async function historyOf(store: Store, personId: string): Promise<HistoryNote[]> {
  const p = await store.crises.personById(personId);
  if (!p) return [];
  const family = await familyOf(store.db, p);
  const numbers = new Map(family.map((x) => [x.id, x.number]));
  const rows = await store.crises.notesOfPeople([p.id, ...numbers.keys()]);
  return rows
    .map((n) => ({ ...n, fromNumber: numbers.get(n.personId) ?? null }))
    .sort((a, b) => a.sourceAt.getTime() - b.sourceAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Undo data

const undoSchema = z.object({
  survivorId: z.string(),
  mergedId: z.string(),
  changes: z.array(z.object({ field: z.enum(MERGE_FIELDS), from: z.unknown(), to: z.unknown() })),
  survivorStatusBefore: z.string(),
  /** epoch ms */
  survivorStatusAtBefore: z.number().nullable(),
  seat: z
    .object({
      movementId: z.string(),
      state: z.string(),
      assignedAt: z.number(),
      checkedInAt: z.number().nullable(),
      boardedAt: z.number().nullable(),
      movedToSurvivor: z.boolean(),
    })
    .nullable()
    .optional(),
});

/** The merged-away record's seat at the merge: released, or moved to a survivor that had none. */
export interface MergedSeat {
  movementId: string;
  state: string;
  /** epoch ms */
  assignedAt: number;
  checkedInAt: number | null;
  boardedAt: number | null;
  movedToSurvivor: boolean;
}

export interface MergeUndo {
  survivorId: string;
  mergedId: string;
  changes: PersonChange[];
  /** For the record: undoing recomputes each status from its own notes instead. */
  survivorStatusBefore: string;
  survivorStatusAtBefore: number | null;
  /** absent in merges recorded before seats were handled */
  seat?: MergedSeat | null;
}

export function parseMergeUndo(json: string | null): MergeUndo | null {
  if (!json) return null;
  try {
    const r = undoSchema.safeParse(JSON.parse(json));
    // The values were written by decideSame from the record's own fields.
    return r.success ? { ...r.data, changes: r.data.changes as PersonChange[], seat: r.data.seat ?? null } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Decisions

const DECISION_WORDS: Record<string, string> = {
  same: 'the same person (merged)',
  different: 'different people',
};

/** Who decided, as the candidate keeps it: the member's id ('system' for jobs). */
function deciderOf(by: Actor): string {
  return by.id ?? 'system';
}

/** Thrown inside a transaction when the candidate was decided first by someone else. */
class AlreadyDecided extends Error {}

/** "Already decided by Cara Cell: different people." */
async function alreadyDecided(store: Store, candidateId: string): Promise<CommandError> {
  const c = await store.crises.candidateById(candidateId);
  const who = c?.decidedById ? (await store.members.names([c.decidedById])).get(c.decidedById)?.displayName : undefined;
  const byWhom = who ? ` by ${who}` : '';
  if (c?.status === 'undone') return new CommandError('ALREADY_DECIDED', `That merge was already undone${byWhom}.`);
  const what = DECISION_WORDS[c?.status ?? ''] ?? c?.status ?? 'decided';
  return new CommandError('ALREADY_DECIDED', `Already decided${byWhom}: ${what}.`);
}

async function decided<T>(store: Store, candidateId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof AlreadyDecided) throw await alreadyDecided(store, candidateId);
    throw e;
  }
}

async function candidateIn(store: Store, tx: Tx, id: string): Promise<DuplicateRecord> {
  const c = await store.crises.candidateById(id, tx);
  if (!c) throw new CommandError('UNKNOWN_CANDIDATE', 'That possible duplicate no longer exists.');
  return c;
}

async function crisisIn(store: Store, tx: Tx, id: string): Promise<CrisisRecord> {
  const crisis = await store.crises.byId(id, tx);
  if (!crisis) throw new CommandError('UNKNOWN_CRISIS', 'The crisis of that pair no longer exists.');
  return crisis;
}

async function personIn(store: Store, tx: Tx, id: string): Promise<PersonRecord> {
  const p = await store.crises.personById(id, tx);
  if (!p) throw new CommandError('UNKNOWN_PERSON', 'A record of that pair no longer exists.');
  return p;
}

function changed(): CommandError {
  return new CommandError('CHANGED', 'One of the records changed at the same moment; look again and decide again.');
}

/** The survivor of a merge: the older record (created first, then the lower number). */
export function survivorOf(a: PersonRecord, b: PersonRecord): [survivor: PersonRecord, other: PersonRecord] {
  const aFirst = a.createdAt.getTime() - b.createdAt.getTime() || a.number - b.number;
  return aFirst <= 0 ? [a, b] : [b, a];
}

function note(crisisId: string, personId: string, by: Actor, text: string, linkedPersonId: string | null, now: Date): Omit<PersonNoteRecord, 'id'> {
  return { personId, crisisId, authorId: by.id, authorName: by.name, source: 'staff', status: null, text, lastKnownLocation: null, madeContact: null, sourceAt: now, createdAt: now, linkedPersonId, pfif: null };
}

export interface SameResult {
  candidate: DuplicateRecord;
  crisis: CrisisRecord;
  survivor: PersonRecord;
  merged: PersonRecord;
  /** Fields of the survivor the merge changed. */
  fields: MergeField[];
}

/**
 * "Same person": merges the newer record of the pair into the older, in one transaction. Fails
 * with ALREADY_DECIDED when someone decided the pair first, MERGED when a record of the pair was
 * merged into another since, CHANGED when a record changed at the same moment.
 */
export async function decideSame(deps: CrisisDeps, meta: AuditMeta, candidateId: string, by: Actor, now: Date): Promise<SameResult> {
  const { store, outbox } = deps;
  const out = await decided(store, candidateId, () =>
    store.change(meta, async (w: Writer) => {
      const c = await candidateIn(store, w.tx, candidateId);
      if (c.status !== 'open' || !(await store.crises.decideCandidate(w.tx, c, 'same', deciderOf(by), now, null))) throw new AlreadyDecided();
      // The candidate row is ours now: read the records after it.
      const a = await personIn(store, w.tx, c.personAId);
      const b = await personIn(store, w.tx, c.personBId);
      for (const [p, q] of [
        [a, b],
        [b, a],
      ] as const) {
        if (p.mergedIntoId) {
          const into = await store.crises.personById(p.mergedIntoId, w.tx);
          throw new CommandError('MERGED', `#${p.number} was already merged into #${into?.number ?? '?'}${into?.id === q.id ? '' : `; compare #${into?.number ?? '?'} with #${q.number} instead`}.`);
        }
      }
      const [survivor, other] = survivorOf(a, b);
      const { merged, changes } = mergePeople(personDataOf(survivor), personDataOf(other));
      const fields = changes.map((x) => x.field);

      // Older record first, then the newer: the same order as every other decision.
      const saved = await store.crises.savePerson(w.tx, survivor, patchOf(merged, fields), now);
      if (!saved) throw changed();
      const gone = await store.crises.savePerson(w.tx, other, { mergedIntoId: survivor.id }, now);
      if (!gone) throw changed();
      // Read after both rows are locked: a concurrent status report is seen here, or applies after us.
      const status = await recomputeStatus(w.tx, saved, now);

      await store.crises.addNote(w.tx, note(c.crisisId, survivor.id, by, `Same person as #${other.number}`, other.id, now));
      await store.crises.addNote(w.tx, note(c.crisisId, other.id, by, `Same person as #${survivor.number}; merged into it`, survivor.id, now));
      await store.crises.replaceKeys(w.tx, c.crisisId, survivor.id, nameIndexKeys(saved));
      await store.crises.replaceKeys(w.tx, c.crisisId, other.id, []);

      const seat = await mergeSeat(w, survivor, other);

      const undo: MergeUndo = { survivorId: survivor.id, mergedId: other.id, changes, survivorStatusBefore: survivor.status, survivorStatusAtBefore: survivor.statusAt?.getTime() ?? null, seat };
      await store.crises.setMergeUndo(w.tx, c.id, JSON.stringify(undo));

      const crisis = await crisisIn(store, w.tx, c.crisisId);
      await w.audit('duplicate', c.id, 'same', { status: 'open' }, { status: 'same', survivor: survivor.number, merged: other.number, fields });
      await w.audit('person', survivor.id, 'merge', { number: survivor.number }, { number: survivor.number, mergedFrom: other.number, fields, statusChanged: status.status !== survivor.status });
      await w.audit('person', other.id, 'merged', { number: other.number }, { number: other.number, mergedInto: survivor.number });
      await scheduleBoard(outbox, w.tx, crisis, now);
      return {
        candidate: { ...c, status: 'same', decidedById: deciderOf(by), decidedAt: now, mergeUndo: JSON.stringify(undo) },
        crisis,
        survivor: await personIn(store, w.tx, survivor.id),
        merged: await personIn(store, w.tx, other.id),
        fields,
      };
    }),
  );
  outbox.wake?.();
  return out;
}

export interface DifferentResult {
  candidate: DuplicateRecord;
  crisis: CrisisRecord;
  a: PersonRecord;
  b: PersonRecord;
}

/** "Different people": the pair is closed and never suggested again. */
export async function decideDifferent(deps: CrisisDeps, meta: AuditMeta, candidateId: string, by: Actor, now: Date): Promise<DifferentResult> {
  const { store } = deps;
  return decided(store, candidateId, () =>
    store.change(meta, async (w) => {
      const c = await candidateIn(store, w.tx, candidateId);
      if (c.status !== 'open' || !(await store.crises.decideCandidate(w.tx, c, 'different', deciderOf(by), now, null))) throw new AlreadyDecided();
      const a = await personIn(store, w.tx, c.personAId);
      const b = await personIn(store, w.tx, c.personBId);
      const crisis = await crisisIn(store, w.tx, c.crisisId);
      await w.audit('duplicate', c.id, 'different', { status: 'open' }, { status: 'different', people: [a.number, b.number] });
      return { candidate: { ...c, status: 'different', decidedById: deciderOf(by), decidedAt: now }, crisis, a, b };
    }),
  );
}

export interface UndoResult {
  candidate: DuplicateRecord;
  crisis: CrisisRecord;
  survivor: PersonRecord;
  restored: PersonRecord;
  /** Fields of the survivor set back to their value before the merge. */
  fields: MergeField[];
  /** Fields edited since the merge: the edit is kept. */
  conflicts: MergeField[];
  /** The merged-away record held a seat at the merge: whether it has it back (null: it held none). */
  seatRestored: boolean | null;
}

/**
 * The merged-away record leaves the movements: its seat goes to the survivor when the survivor
 * holds none (the same person, seated once), else it is released. What it was is kept for undo.
 */
async function mergeSeat(w: Writer, survivor: PersonRecord, other: PersonRecord): Promise<MergedSeat | null> {
  const seat = await w.tx.movementSeat.findUnique({ where: { personId: other.id } });
  if (!seat) return null;
  const survivorSeat = await w.tx.movementSeat.findUnique({ where: { personId: survivor.id } });
  await w.tx.movementSeat.delete({ where: { personId: other.id } });
  const moved = !survivorSeat;
  if (moved) await w.tx.movementSeat.create({ data: { ...seat, personId: survivor.id } });
  await w.audit('movement-seat', `${seat.movementId}:${other.id}`, moved ? 'move' : 'unassign', { person: other.number, state: seat.state }, moved ? { person: survivor.number, state: seat.state } : null);
  return { movementId: seat.movementId, state: seat.state, assignedAt: seat.assignedAt.getTime(), checkedInAt: seat.checkedInAt?.getTime() ?? null, boardedAt: seat.boardedAt?.getTime() ?? null, movedToSurvivor: moved };
}

/**
 * Undo gives the separated record its seat back when it can: a seat moved to the survivor moves
 * back if the survivor still holds it unchanged; a released seat comes back if the movement is
 * still planned and has room. Otherwise the record is left unseated (false).
 */
async function restoreSeat(store: Store, w: Writer, survivor: PersonRecord, other: PersonRecord, s: MergedSeat): Promise<boolean> {
  if (await w.tx.movementSeat.findUnique({ where: { personId: other.id } })) return false;
  const data = { movementId: s.movementId, personId: other.id, crisisId: other.crisisId, state: s.state, assignedAt: new Date(s.assignedAt), checkedInAt: s.checkedInAt === null ? null : new Date(s.checkedInAt), boardedAt: s.boardedAt === null ? null : new Date(s.boardedAt) };
  if (s.movedToSurvivor) {
    const held = await w.tx.movementSeat.findUnique({ where: { personId: survivor.id } });
    if (!held || held.movementId !== s.movementId || held.assignedAt.getTime() !== s.assignedAt) return false;
    await w.tx.movementSeat.delete({ where: { personId: survivor.id } });
    await w.tx.movementSeat.create({ data: { ...data, state: held.state, checkedInAt: held.checkedInAt, boardedAt: held.boardedAt } });
    await w.audit('movement-seat', `${s.movementId}:${other.id}`, 'move', { person: survivor.number, state: held.state }, { person: other.number, state: held.state });
    return true;
  }
  const movement = await w.tx.movement.findUnique({ where: { id: s.movementId } });
  if (!movement || movement.status !== 'planned') return false;
  if (store.provider === 'postgresql') await w.tx.$queryRaw`SELECT "id" FROM "Movement" WHERE "id" = ${movement.id} FOR UPDATE`;
  const taken = await w.tx.movementSeat.count({ where: { movementId: movement.id, state: { not: 'no-show' } } });
  if (s.state !== 'no-show' && taken >= movement.capacity) return false;
  await w.tx.movementSeat.create({ data });
  await w.audit('movement-seat', `${s.movementId}:${other.id}`, 'assign', null, { person: other.number, state: s.state });
  return true;
}

/** The later merge that took `p` into another record, for "undo that one first". */
async function laterMerge(store: Store, tx: Tx, p: PersonRecord): Promise<string | null> {
  const rows = await store.crises.mergesOf(tx, p.id);
  return rows.find((r) => parseMergeUndo(r.mergeUndo)?.mergedId === p.id)?.id ?? null;
}

/**
 * Undoes a "Same person": the survivor's merged fields go back to their values before the merge,
 * except fields edited since (kept, and reported as conflicts); the other record is live again;
 * both records get their own name keys back and their status from their own notes; each gets a
 * "Merge undone" note. The candidate becomes 'undone' (it is not suggested again).
 */
export async function undoMerge(deps: CrisisDeps, meta: AuditMeta, candidateId: string, by: Actor, now: Date): Promise<UndoResult> {
  const { store, outbox } = deps;
  const out = await decided(store, candidateId, () =>
    store.change(meta, async (w) => {
      const c = await candidateIn(store, w.tx, candidateId);
      if (c.status === 'open') throw new CommandError('NOT_MERGED', 'That pair was not merged: nothing to undo.');
      if (c.status === 'different') throw new CommandError('NOT_MERGED', 'That pair was marked as different people: nothing to undo.');
      const undo = parseMergeUndo(c.mergeUndo);
      if (c.status !== 'same' || !(await store.crises.decideCandidate(w.tx, c, 'undone', deciderOf(by), now, c.mergeUndo))) throw new AlreadyDecided();
      if (!undo) throw new CommandError('NO_UNDO', 'That merge kept no record of what it changed, so it cannot be undone here.');
      const survivor = await personIn(store, w.tx, undo.survivorId);
      const other = await personIn(store, w.tx, undo.mergedId);
      if (survivor.mergedIntoId) {
        const into = await store.crises.personById(survivor.mergedIntoId, w.tx);
        const later = await laterMerge(store, w.tx, survivor);
        throw new CommandError('MERGED', `#${survivor.number} was merged into #${into?.number ?? '?'} since; undo that merge first${later ? ` (/crisis unmerge ${later.slice(0, 8)})` : ''}.`);
      }
      if (other.mergedIntoId !== survivor.id) throw changed();

      const { person, conflicts } = unmerge(personDataOf(survivor), undo.changes);
      const fields = undo.changes.map((x) => x.field).filter((f) => !conflicts.includes(f));
      const saved = await store.crises.savePerson(w.tx, survivor, patchOf(person, fields), now);
      if (!saved) throw changed();
      const back = await store.crises.savePerson(w.tx, other, { mergedIntoId: null }, now);
      if (!back) throw changed();
      await recomputeStatus(w.tx, saved, now);
      await recomputeStatus(w.tx, back, now);
      const seatRestored = undo.seat ? await restoreSeat(store, w, survivor, other, undo.seat) : null;

      await store.crises.addNote(w.tx, note(c.crisisId, survivor.id, by, `Merge with #${other.number} undone: separate records again`, null, now));
      await store.crises.addNote(w.tx, note(c.crisisId, other.id, by, `Merge into #${survivor.number} undone: separate records again`, null, now));
      await store.crises.replaceKeys(w.tx, c.crisisId, survivor.id, nameIndexKeys(saved));
      await store.crises.replaceKeys(w.tx, c.crisisId, other.id, nameIndexKeys(back));

      const crisis = await crisisIn(store, w.tx, c.crisisId);
      await w.audit('duplicate', c.id, 'undo', { status: 'same' }, { status: 'undone', survivor: survivor.number, merged: other.number, fields, conflicts, ...(seatRestored !== null ? { seatRestored } : {}) });
      await w.audit('person', survivor.id, 'unmerge', { number: survivor.number }, { number: survivor.number, separated: other.number, fields, conflicts });
      await w.audit('person', other.id, 'unmerge', { number: other.number, mergedInto: survivor.number }, { number: other.number });
      await scheduleBoard(outbox, w.tx, crisis, now);
      return {
        candidate: { ...c, status: 'undone', decidedById: deciderOf(by), decidedAt: now },
        crisis,
        survivor: await personIn(store, w.tx, survivor.id),
        restored: await personIn(store, w.tx, other.id),
        fields,
        conflicts,
        seatRestored,
      };
    }),
  );
  outbox.wake?.();
  return out;
}
