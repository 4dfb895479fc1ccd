// Adding people, reporting their status, logging calls, finding them and their duplicates: the one
// place these happen, whether from a command, a form, a button or an import.
import {
  duplicateScore,
  DUPLICATE_THRESHOLD,
  isNameMatch,
  nameKey,
  nameSkeleton,
  nameTokens,
  normalisePassport,
  personNameScore,
  type ContactOutcome,
  type PersonData,
  type PersonStatus,
} from '../../domain/person';
import type { Tx } from '../../store/client';
import type { CrisisRecord, PersonRecord } from '../../store/crisis.repository';
import { CrisisRepository } from '../../store/crisis.repository';
import { newTimeOrderedId, type AuditMeta, type Store } from '../../store/store';
import { CommandError } from '../command';
import type { Outbox } from '../ports';

export const CRISIS_BOARD_JOB = 'crisis-board';
/** The board is updated at most this often, however many changes arrive. */
export const BOARD_INTERVAL_MS = 10_000;
/** Candidates a new record is scored against, at most. */
const MAX_CANDIDATES = 200;

export interface CrisisDeps {
  store: Store;
  outbox: Outbox;
}

export interface Actor {
  id: string | null;
  name: string;
}

/**
 * One board refresh per 10-second window: every change in a window maps to the same job key, due
 * at the window's end, so a burst of changes costs one update.
 */
export async function scheduleBoard(outbox: Outbox, tx: Tx, crisis: Pick<CrisisRecord, 'id' | 'channel'>, now: Date): Promise<void> {
  if (!crisis.channel) return;
  const window = Math.floor(now.getTime() / BOARD_INTERVAL_MS) + 1;
  await outbox.schedule(tx, { kind: CRISIS_BOARD_JOB, key: `crisis:${crisis.id}:board:${window}`, dueAt: new Date(window * BOARD_INTERVAL_MS), payload: { crisisId: crisis.id } });
}

/**
 * Keys /person find and duplicate detection look names up by: each folded word. Slips are matched
 * against the distinct words sharing the first letter (see matchingWords), so one row a word is
 * enough; an import writes several hundred thousand of them.
 */
export function nameIndexKeys(p: { fullName: string; alternateNames: readonly string[] }): string[] {
  const keys = new Set<string>();
  for (const name of [p.fullName, ...p.alternateNames]) for (const t of nameTokens(name)) keys.add(`w:${t}`);
  return [...keys];
}

/** A new person record from checked input. */
export function personOf(data: PersonData, o: { crisisId: string; number: number; source: string; sourceId: string | null; now: Date; pfif?: string | null; id?: string }): PersonRecord {
  return {
    // Time-ordered: an import adds people by the hundred thousand, each at the end of the indexes.
    id: o.id ?? newTimeOrderedId(),
    crisisId: o.crisisId,
    number: o.number,
    fullName: data.fullName,
    givenName: data.givenName,
    familyName: data.familyName,
    alternateNames: data.alternateNames,
    nameKey: nameKey(data.fullName),
    sex: data.sex,
    dateOfBirth: data.dateOfBirth,
    age: data.age,
    nationality: data.nationality,
    passportNumber: data.passportNumber,
    homeStreet: data.homeStreet,
    homeNeighborhood: data.homeNeighborhood,
    homeCity: data.homeCity,
    homeState: data.homeState,
    homePostalCode: data.homePostalCode,
    homeCountry: data.homeCountry,
    location: data.location,
    latitude: data.latitude,
    longitude: data.longitude,
    phone: data.phone,
    email: data.email,
    nokName: data.nokName,
    nokRelationship: data.nokRelationship,
    nokPhone: data.nokPhone,
    nokEmail: data.nokEmail,
    description: data.description,
    needs: data.needs,
    household: data.household,
    status: 'unaccounted',
    statusAt: null,
    source: o.source,
    sourceId: o.sourceId,
    sourceDate: new Date(data.sourceDate ?? o.now.getTime()),
    pfif: o.pfif ?? null,
    mergedIntoId: null,
    version: 1,
    createdAt: o.now,
    updatedAt: o.now,
  };
}

export interface DuplicateMatch {
  person: PersonRecord;
  score: number;
  reasons: string[];
}

/** Words of the crisis's name index that a query word matches (exactly, as a prefix, or within a slip). */
async function matchingWords(store: Store, crisisId: string, word: string): Promise<string[]> {
  const first = word.slice(0, 1);
  const rows = await store.sqlRead().all<{ key: string }>(`SELECT DISTINCT "key" FROM "PersonKey" WHERE "crisisId" = ? AND "key" >= ? AND "key" < ?`, [crisisId, `w:${first}`, `w:${first}\uffff`]);
  // Within a slip, or the same consonant skeleton (transposed or doubled letters, vowel spellings).
  const skeleton = word.length >= 3 ? nameSkeleton(word) : null;
  return rows.map((r) => r.key).filter((k) => isNameMatch(word, k.slice(2)) || (skeleton !== null && k.length >= 5 && nameSkeleton(k.slice(2)) === skeleton));
}

/**
 * Live people of the crisis whose names match every word of `query` (ignoring case, accents and
 * word order, forgiving small slips), best first.
 */
export async function findByName(store: Store, crisisId: string, query: string, limit: number): Promise<{ people: { person: PersonRecord; score: number }[]; more: number }> {
  const words = [...new Set(nameTokens(query))];
  if (!words.length) return { people: [], more: 0 };
  const perWord = await Promise.all(words.map((w) => matchingWords(store, crisisId, w)));
  const keyToWords = new Map<string, number[]>();
  perWord.forEach((keys, i) => keys.forEach((k) => keyToWords.set(k, [...(keyToWords.get(k) ?? []), i])));
  const keys = [...keyToWords.keys()];
  if (!keys.length) return { people: [], more: 0 };
  const covered = new Map<string, Set<number>>();
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows = await store.sqlRead().all<{ personId: string; key: string }>(`SELECT "personId", "key" FROM "PersonKey" WHERE "crisisId" = ? AND "key" IN (${chunk.map(() => '?').join(', ')})`, [crisisId, ...chunk]);
    for (const r of rows) {
      const set = covered.get(r.personId) ?? new Set<number>();
      for (const w of keyToWords.get(r.key) ?? []) set.add(w);
      covered.set(r.personId, set);
    }
  }
  const ids = [...covered].filter(([, s]) => s.size === words.length).map(([id]) => id);
  const pool = ids.slice(0, Math.max(limit * 10, MAX_CANDIDATES));
  const people = (await store.crises.peopleByIds(pool)).filter((p) => !p.mergedIntoId);
  const scored = people.map((person) => ({ person, score: personNameScore(query, person) })).filter((x) => x.score > 0);
  scored.sort((a, b) => b.score - a.score || a.person.number - b.person.number);
  return { people: scored.slice(0, limit), more: Math.max(0, ids.length - limit) };
}

/** People of the crisis who may be the same as `p`: blocked on names and identifiers, then scored. */
export async function findDuplicates(store: Store, crisisId: string, p: PersonRecord): Promise<DuplicateMatch[]> {
  const ids = new Set<string>();
  for (const x of await store.crises.byIdentifiers(crisisId, { ...(p.passportNumber ? { passport: normalisePassport(p.passportNumber) } : {}), ...(p.phone ? { phone: p.phone } : {}), ...(p.email ? { email: p.email } : {}) })) ids.add(x.id);
  // Names: people sharing every word (or nearly) of the full name.
  for (const x of (await findByName(store, crisisId, p.fullName, MAX_CANDIDATES)).people) ids.add(x.person.id);
  ids.delete(p.id);
  const people = await store.crises.peopleByIds([...ids]);
  const out: DuplicateMatch[] = [];
  for (const other of people) {
    if (other.mergedIntoId) continue;
    const s = duplicateScore(other, p);
    if (s.score >= DUPLICATE_THRESHOLD) out.push({ person: other, score: s.score, reasons: s.reasons });
  }
  return out.sort((a, b) => b.score - a.score);
}

/**
 * Adds a person: a number, the name index, an opening note, possible duplicates recorded for a
 * human to decide, and a board refresh.
 */
export async function addPerson(
  deps: CrisisDeps,
  meta: AuditMeta,
  crisis: CrisisRecord,
  data: PersonData,
  o: { source: string; sourceId?: string | null; status?: PersonStatus | null; note?: string | null; by: Actor },
  now: Date,
): Promise<{ person: PersonRecord; duplicates: DuplicateMatch[] }> {
  const { store, outbox } = deps;
  const draft = personOf(data, { crisisId: crisis.id, number: 0, source: o.source, sourceId: o.sourceId ?? null, now });
  // Read before the write transaction: SQLite has one writer, and this may read a lot.
  const duplicates = await findDuplicates(store, crisis.id, draft);
  const person = await store.change(meta, async (w) => {
    const number = await CrisisRepository.nextNumber(w.tx);
    const p = await store.crises.createPerson(w.tx, { ...draft, number });
    await store.crises.replaceKeys(w.tx, crisis.id, p.id, nameIndexKeys(p));
    // Unaccounted by default means "nothing known yet": it carries no status of its own, so any
    // report, even about an earlier moment, says more. A status given with the record does count.
    const status = o.status ?? null;
    await store.crises.addNote(w.tx, { personId: p.id, crisisId: crisis.id, authorId: o.by.id, authorName: o.by.name, source: o.source, status, text: o.note ?? 'Record created', lastKnownLocation: p.location, madeContact: null, sourceAt: p.sourceDate, createdAt: now, linkedPersonId: null, pfif: null });
    if (status) await store.crises.applyStatus(w.tx, p.id, status, p.sourceDate, now);
    for (const d of duplicates) await store.crises.addCandidate(w.tx, { crisisId: crisis.id, a: d.person.id, b: p.id, score: d.score, reasons: d.reasons, at: now });
    await scheduleBoard(outbox, w.tx, crisis, now);
    await w.audit('person', p.id, 'add', null, { number: p.number, crisis: crisis.code, fields: '[personal data]' });
    return (await store.crises.personById(p.id, w.tx)) as PersonRecord;
  });
  outbox.wake?.();
  return { person, duplicates };
}

/** Most merges a chain can hold before it is taken for a cycle. */
const MAX_MERGE_HOPS = 20;

/**
 * The person as stored now, following mergedIntoId to the live record it was merged into (read in
 * the caller's transaction, so a merge that landed meanwhile is seen).
 */
export async function liveSurvivor(store: Store, tx: Tx, personId: string): Promise<PersonRecord> {
  let p = await store.crises.personById(personId, tx);
  for (let hops = 0; p?.mergedIntoId && hops < MAX_MERGE_HOPS; hops++) p = await store.crises.personById(p.mergedIntoId, tx);
  if (!p || p.mergedIntoId) throw new CommandError('UNKNOWN_PERSON', 'That person record no longer exists.', { person: 'unknown person' });
  return p;
}

/**
 * A status report: an append-only note. The person's status follows only if the note is the
 * latest by source time, so a late report about an earlier moment changes nothing but history.
 */
export async function reportStatus(
  deps: CrisisDeps,
  meta: AuditMeta,
  crisis: CrisisRecord,
  person: PersonRecord,
  r: { status: PersonStatus; text: string | null; location: string | null; madeContact: boolean | null; source: string; sourceAt: Date },
  by: Actor,
  now: Date,
): Promise<{ applied: boolean; person: PersonRecord; redirectedFrom: PersonRecord | null }> {
  const { store, outbox } = deps;
  const out = await store.change(meta, async (w) => {
    // Re-read inside the transaction: a merge may have landed since the caller read the person,
    // and a report on the merged-away record would be lost from the survivor's status.
    const target = await liveSurvivor(store, w.tx, person.id);
    const redirectedFrom = target.id === person.id ? null : person;
    person = target;
    await store.crises.addNote(w.tx, { personId: person.id, crisisId: crisis.id, authorId: by.id, authorName: by.name, source: r.source, status: r.status, text: r.text, lastKnownLocation: r.location, madeContact: r.madeContact, sourceAt: r.sourceAt, createdAt: now, linkedPersonId: null, pfif: null });
    const applied = await store.crises.applyStatus(w.tx, person.id, r.status, r.sourceAt, now);
    if (applied && r.location) await w.tx.person.update({ where: { id: person.id }, data: { location: r.location } });
    await scheduleBoard(outbox, w.tx, crisis, now);
    await w.audit('person', person.id, 'status', { status: person.status }, { status: r.status, applied, ...(redirectedFrom ? { reportedOn: redirectedFrom.number } : {}) });
    return { applied, person: (await store.crises.personById(person.id, w.tx)) as PersonRecord, redirectedFrom };
  });
  outbox.wake?.();
  return out;
}

export async function logContact(deps: CrisisDeps, meta: AuditMeta, crisis: CrisisRecord, person: PersonRecord, outcome: ContactOutcome, by: Actor, now: Date): Promise<void> {
  await deps.store.change(meta, async (w) => {
    await deps.store.crises.addAttempt(w.tx, { personId: person.id, crisisId: crisis.id, byId: by.id, byName: by.name, outcome, at: now });
    await w.audit('person', person.id, 'contact', null, { outcome });
  });
}
