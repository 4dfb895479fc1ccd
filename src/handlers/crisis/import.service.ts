// Importing people into a crisis from a CSV or PFIF file: each row checked as a whole (imported
// complete, or listed with its problems), batches of 5,000 rows committed one by one,
// duplicates scored against the crisis and the file itself, and the same file imported again
// creating nothing new (each record keyed by its source and source id). The import is a job: it
// survives a restart and picks up where it stopped, and its message shows the progress.
import crypto from 'node:crypto';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { z } from 'zod/v4';
import {
  checkBirth,
  checkSourceDate,
  duplicateScore,
  DUPLICATE_THRESHOLD,
  emitBlockingKeys,
  fromPfifStatus,
  latestStatusNote,
  parseIsoInstant,
  parseSource,
  parseStatus,
  personInputSchema,
  type PersonData,
  type PersonStatus,
} from '../../domain/person';
import { KeyBuckets, KeyHashes } from '../../domain/key-buckets';
import { message, type MessageReply } from '../../domain/reply';
import type { JobOutcome, Scheduler } from '../../jobs/scheduler';
import type { Logger } from '../../logger';
import { parseChatCopy, type MessageUpdater, type Notifier } from '../../notify/types';
import type { Tx } from '../../store/client';
import { CrisisRepository, PERSON_COLUMNS, PERSON_NUMBER_COLUMN, PERSON_SEALING, personRow, type CrisisRecord, type PersonRecord } from '../../store/crisis.repository';
import { indexRow, sealedOnly, type FieldAt } from '../../store/field-crypto';
import { newId } from '../../store/ids';
import { sealAhead, writeSteps, type BulkStep } from '../../store/bulk-writer';
import type { SqlValue } from '../../store/sql';
import { AuditRepository } from '../../store/audit.repository';
import type { AuditMeta, Store } from '../../store/store';
import type { Outbox } from '../ports';
import { nameIndexKeys, personOf, scheduleBoard } from './crisis.service';
import type { PersonRecord as FileRecord, PfifNote } from './person-record';
import { readPeopleCsv } from './person-csv';
import { parsePfif, PfifError } from './pfif';

export const CRISIS_IMPORT_JOB = 'crisis-import';
/** Rows a transaction: fewer commits rewrite the indexes' pages less often; larger ones hold SQLite's write lock longer. */
const BATCH = 5000;
const FIRST_BATCH = 1000;
/** The name an expired PFIF placeholder is stored under. */
export const EXPIRED_NAME = 'Expired PFIF record';
/** Problems kept on the run for the report; the count is kept in full. */
const MAX_PROBLEMS = 500;
/** People in one blocking bucket a row is scored against: a common name must not make it quadratic. */
const MAX_PER_KEY = 25;
const MAX_PER_WEAK_KEY = 8;
/** The progress message is updated at most this often. */
const PROGRESS_EVERY_MS = 2000;
/**
 * An import run in the command (the console) still queues its job, this far behind it and pushed
 * back as batches are written (every TAKEOVER_MS / 5 at most): should the process die, a server
 * takes the import up (and resumes it) once the console has been silent this long. Longer than a
 * transaction may last (60 s), so a slow batch is not taken for a dead console.
 */
export const TAKEOVER_MS = 150_000;
/** Tries before an import is reported failed (each resumes where the last stopped). */
const IMPORT_ATTEMPTS = 4;

export interface ImportDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  missionTimeZone: string;
}

export interface ImportProblem {
  row: number;
  column: string;
  problem: string;
}

export interface ImportSummary {
  runId: string;
  status: 'done' | 'failed';
  total: number;
  imported: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  problems: ImportProblem[];
  problemCount: number;
  unmapped: string[];
}

/** Where the people of a file come from: the same file imported again maps onto the same records. */
export function importSource(fileName: string, format: 'csv' | 'pfif'): string {
  const base = fileName.trim().toLowerCase().replace(/^.*[\\/]/, '').slice(0, 120) || 'file';
  return `${format}:${base}`;
}

/** A row without an id of its own is known by its content. */
function contentId(r: FileRecord): string {
  const { notes: _n, pfif: _p, ...fields } = r;
  return `h:${crypto.createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 24)}`;
}

const FIELD_NAMES: Record<string, string> = { fullName: 'name', dateOfBirth: 'date of birth', passportNumber: 'passport', latitude: 'latitude', longitude: 'longitude', coordinates: 'coordinates' };

/** A file record checked as the domain wants it, or its problems. */
function checkRecord(r: FileRecord, now: number, tz: string): { ok: true; data: PersonData; status: PersonStatus | null } | { ok: false; problems: { column: string; problem: string }[] } {
  const parsed = personInputSchema.safeParse({
    fullName: r.fullName,
    givenName: r.givenName,
    familyName: r.familyName,
    alternateNames: r.alternateNames,
    sex: r.sex,
    dateOfBirth: r.dateOfBirth,
    age: r.age,
    nationality: r.nationality,
    passportNumber: r.passportNumber,
    homeStreet: r.homeStreet,
    homeNeighborhood: r.homeNeighborhood,
    homeCity: r.homeCity,
    homeState: r.homeState,
    homePostalCode: r.homePostalCode,
    homeCountry: r.homeCountry,
    location: r.location,
    latitude: r.latitude,
    longitude: r.longitude,
    phone: r.phone,
    email: r.email,
    nokName: r.nokName,
    nokRelationship: r.nokRelationship,
    nokPhone: r.nokPhone,
    nokEmail: r.nokEmail,
    description: r.description,
    needs: r.needs ?? undefined,
    household: r.household,
    // A PFIF source_name is a repository, and an export of ours names its file: neither is one
    // of our kinds of source, and neither is a reason to refuse the row.
    source: r.pfif || !r.source || !parseSource(r.source) ? 'registration' : r.source,
    sourceDate: r.sourceDate ?? undefined,
  });
  const problems: { column: string; problem: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const k = String(issue.path[0] ?? '');
      problems.push({ column: FIELD_NAMES[k] ?? k, problem: issue.message });
    }
  }
  if (r.dateOfBirth) {
    const b = checkBirth(r.dateOfBirth, now, tz);
    if (!b.ok && !problems.some((p) => p.column === 'date of birth')) problems.push({ column: 'date of birth', problem: b.error });
  }
  if (parsed.success && parsed.data.sourceDate !== null) {
    const d = checkSourceDate(parsed.data.sourceDate, now);
    if (!d.ok) problems.push({ column: 'source date', problem: d.error });
  }
  let status: PersonStatus | null = null;
  if (r.status && !r.pfif) {
    status = parseStatus(r.status);
    if (!status) problems.push({ column: 'status', problem: `"${r.status.slice(0, 40)}" is not a status` });
  }
  if (problems.length || !parsed.success) return { ok: false, problems };
  return { ok: true, data: parsed.data, status };
}

/**
 * The notes of a PFIF person, as ours. A note dated more than a few minutes ahead is reported and
 * left out: the latest by source time decides the status, so it would lock it.
 */
function pfifNotes(notes: readonly PfifNote[], personId: string, crisisId: string, now: Date, problem?: (column: string, text: string) => void): { rows: SqlValue[][]; latest: { status: PersonStatus; at: number } | null } {
  const rows: SqlValue[][] = [];
  const statusNotes: { id: string; status: PersonStatus | null; sourceDate: number; entryDate: number }[] = [];
  for (const n of notes) {
    const at = parseIsoInstant(n.sourceDate) ?? now.getTime();
    const future = checkSourceDate(at, now.getTime());
    if (!future.ok) {
      problem?.(`note ${n.noteRecordId}, source_date`, `${future.error}; the note was not imported`);
      continue;
    }
    const status = n.status ? fromPfifStatus(n.status) : null;
    const id = newId();
    statusNotes.push({ id, status, sourceDate: at, entryDate: n.entryDate ? (parseIsoInstant(n.entryDate) ?? at) : at });
    const extras = { noteRecordId: n.noteRecordId, linkedPersonRecordId: n.linkedPersonRecordId, entryDate: n.entryDate, authorEmail: n.authorEmail, authorPhone: n.authorPhone, pfifStatus: n.status, emailOfFoundPerson: n.emailOfFoundPerson, phoneOfFoundPerson: n.phoneOfFoundPerson, photoUrl: n.photoUrl, extra: n.extra };
    rows.push([id, personId, crisisId, null, n.authorName, 'pfif', status, n.text, n.lastKnownLocation, n.authorMadeContact, new Date(at), now, null, JSON.stringify(extras)]);
  }
  const latest = latestStatusNote(statusNotes);
  return { rows, latest: latest?.status ? { status: latest.status, at: latest.sourceDate } : null };
}

const NOTE_COLUMNS = ['id', 'personId', 'crisisId', 'authorId', 'authorName', 'source', 'status', 'text', 'lastKnownLocation', 'madeContact', 'sourceAt', 'createdAt', 'linkedPersonId', 'pfif'];
const NOTE_SEALING = CrisisRepository.noteSealing(NOTE_COLUMNS);
const PERSON_SEALED_ONLY = sealedOnly(PERSON_SEALING);

/**
 * Everything the duplicate check knows: people by blocking key. A candidate is scored only when
 * it shares a strong key, or two weaker ones (a name skeleton and the birth year, a birth date
 * and an initial): in a crisis of 100,000 the weak keys alone match hundreds of people a row.
 */
class DuplicateIndex {
  private readonly byKey = new KeyBuckets(1 << 16);
  private readonly people: PersonRecord[] = [];
  // Weights by person index, reset lazily by a generation stamp: the import asks this 100,000
  // times, and a Map per question was a fifth of its time (most of it in the garbage collector).
  private weight = new Int32Array(1024);
  private stamp = new Int32Array(1024);
  private generation = 0;
  private touched: number[] = [];
  // The record's blocking keys, hashed as they are made (no key is built as a string).
  private readonly keys = new KeyHashes();

  add(p: PersonRecord): void {
    emitBlockingKeys(p, this.keys.clear());
    this.addHashed(p);
  }

  /** People sharing enough keys with `p`, scored, those at or above the threshold; then `p` is added. */
  candidatesThenAdd(p: PersonRecord): { person: PersonRecord; score: number; reasons: string[] }[] {
    emitBlockingKeys(p, this.keys.clear());
    const out = this.candidates(p);
    this.addHashed(p);
    return out;
  }

  private addHashed(p: PersonRecord): void {
    const i = this.people.push(p) - 1;
    const { hash, strong, count } = this.keys;
    // A weak key alone never makes a candidate: a few from each bucket are enough to pair with.
    for (let j = 0; j < count; j++) this.byKey.addHashed(hash[j * 2] as number, hash[j * 2 + 1] as number, i, strong[j] ? MAX_PER_KEY : MAX_PER_WEAK_KEY);
  }

  /** candidatesThenAdd() without the adding; its keys in this.keys. */
  private candidates(p: PersonRecord): { person: PersonRecord; score: number; reasons: string[] }[] {
    if (this.stamp.length < this.people.length + 1) {
      const size = Math.max(this.people.length + 1, this.stamp.length * 2);
      this.weight = new Int32Array(size);
      this.stamp = new Int32Array(size);
      this.generation = 0;
    }
    const gen = ++this.generation;
    const touched = this.touched;
    touched.length = 0;
    const { hash, strong, count } = this.keys;
    for (let j = 0; j < count; j++) {
      const w = strong[j] ? 2 : 1;
      const byKey = this.byKey;
      for (let e = byKey.firstEntry(hash[j * 2] as number, hash[j * 2 + 1] as number); e !== 0; e = byKey.nextEntry(e)) {
        const i = byKey.entryValue(e);
        if (this.stamp[i] === gen) this.weight[i] = (this.weight[i] as number) + w;
        else {
          this.stamp[i] = gen;
          this.weight[i] = w;
          touched.push(i);
        }
      }
    }
    const out: { person: PersonRecord; score: number; reasons: string[] }[] = [];
    for (const i of touched) {
      if ((this.weight[i] as number) < 2) continue;
      const other = this.people[i] as PersonRecord;
      if (other.id === p.id) continue;
      const s = duplicateScore(other, p);
      if (s.score >= DUPLICATE_THRESHOLD) out.push({ person: other, score: s.score, reasons: s.reasons });
    }
    return out;
  }
}

/** The same fields, so nothing to update. */
function sameFields(a: PersonRecord, b: PersonRecord): boolean {
  const skip = new Set(['id', 'number', 'status', 'statusAt', 'version', 'createdAt', 'updatedAt', 'mergedIntoId', 'crisisId']);
  return PERSON_COLUMNS.every((c, i) => skip.has(c) || JSON.stringify(personRow(a)[i]) === JSON.stringify(personRow(b)[i]));
}

interface Row {
  row: number;
  record?: FileRecord;
  /** PFIF top-level notes about a person not in the file (maybe one imported before) */
  notesFor?: { personRecordId: string; notes: PfifNote[] };
  problems: ImportProblem[];
}

/**
 * Rows of the next batch: the first FIRST_BATCH (the writer starts early), then BATCH, and near
 * the end of the file (`left` rows, about) half of what is left: the last writes, which nothing
 * overlaps, are short.
 */
function batchSize(batches: number, left: number | null): number {
  if (batches === 0) return FIRST_BATCH;
  if (left === null) return BATCH;
  return Math.max(FIRST_BATCH, Math.min(BATCH, Math.ceil(left / 2)));
}

function lineBreaks(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  // A last line without a break is a line too.
  return b.length && b[b.length - 1] !== 10 ? n + 1 : n;
}

/** The rows of the file, streamed (CSV) or read at once (PFIF), and the header report. */
async function rowsOf(format: 'csv' | 'pfif', content: Buffer): Promise<{ rows: AsyncIterable<Row> | Iterable<Row>; unmapped: string[]; fatal?: string }> {
  if (format === 'csv') {
    const csv = await readPeopleCsv(content);
    if (csv.headers.missingRequired.length) return { rows: [], unmapped: csv.headers.unmapped, fatal: `the header has no column for ${csv.headers.missingRequired.join(', ')}` };
    return { rows: csv.rows, unmapped: csv.headers.unmapped };
  }
  let r: ReturnType<typeof parsePfif>;
  try {
    r = parsePfif(content);
  } catch (e) {
    if (e instanceof PfifError) return { rows: [], unmapped: [], fatal: `the file is not valid PFIF: ${e.message}` };
    throw e;
  }
  // Records left out for an error come after those read, each its own row: reported by that row
  // and by the record's id (never "row 0").
  const byRecord = new Map<string, { column: string; problem: string }[]>();
  for (const p of r.problems) {
    if (p.severity !== 'error') continue;
    byRecord.set(p.record, [...(byRecord.get(p.record) ?? []), { column: p.field ? `${p.record}, ${p.field}` : p.record, problem: p.problem }]);
  }
  const rows: Row[] = r.persons.map((p, i) => ({ row: i + 1, record: p, problems: [] }));
  let n = rows.length;
  for (const [, problems] of byRecord) {
    const row = ++n;
    rows.push({ row, problems: problems.map((p) => ({ row, ...p })) });
  }
  // Notes about persons not in the file: each such person one row, matched to a stored record.
  const inFile = new Set(r.persons.flatMap((p) => (p.notes ?? []).map((x) => x.noteRecordId)));
  const orphans = new Map<string, PfifNote[]>();
  for (const note of r.notes) {
    if (inFile.has(note.noteRecordId)) continue;
    const key = note.personRecordId ?? '';
    orphans.set(key, [...(orphans.get(key) ?? []), note]);
  }
  for (const [personRecordId, notes] of orphans) rows.push({ row: ++n, notesFor: { personRecordId, notes }, problems: [] });
  return { rows, unmapped: [...new Set(r.problems.filter((p) => p.severity === 'warning' && /unknown/i.test(p.problem)).map((p) => p.field))] };
}

/**
 * Runs (or resumes) an import. Each batch of rows is one transaction; a row is imported whole or
 * listed with its problems. Re-running after a crash repeats nothing: rows already in are found by
 * their source id.
 */
export async function runImport(deps: ImportDeps, runId: string, clock: () => Date, onBatch?: (done: number) => Promise<void>): Promise<ImportSummary> {
  const { store } = deps;
  const run = await store.db.importRun.findUnique({ where: { id: runId } });
  const file = await store.crises.importFileContent(runId);
  if (!run || !file) throw new Error(`import ${runId} has no file`);
  const crisis = await store.crises.byId(run.crisisId);
  if (!crisis) throw new Error(`import ${runId}: crisis gone`);
  const format = run.format === 'pfif' ? 'pfif' : 'csv';
  const source = importSource(run.fileName, format);
  const now0 = clock();
  // Resumed after a crash: what earlier tries committed is counted already (with their rows, in
  // the same transactions), and their rows are found stored this time.
  const summary: ImportSummary = { runId, status: 'done', total: 0, imported: run.imported, updated: run.updated, unchanged: 0, duplicates: run.duplicates, problems: [], problemCount: 0, unmapped: [] };
  const content = store.cipher.openBytes(file, importFileAt(runId));
  const { rows, unmapped, fatal } = await rowsOf(format, content);
  // About how many rows the file has (its lines, less the header), to size the last batches.
  const expected = format === 'csv' ? Math.max(0, lineBreaks(content) - 1) : null;
  summary.unmapped = unmapped;
  if (fatal) {
    summary.problems.push({ row: 1, column: '', problem: fatal });
    summary.problemCount = 1;
    summary.status = 'failed';
    await finish(store, runId, summary, 'failed', clock());
    return summary;
  }
  // What the crisis already holds: this file's records (to update, not duplicate) and everyone (to score against).
  const existing = await store.crises.people(crisis.id, { includeMerged: true });
  const mine = new Map(existing.filter((p) => p.source === source && p.sourceId).map((p) => [p.sourceId as string, p]));
  const known: Known = { byId: new Map(existing.map((p) => [p.id, p])), byPfifId: new Map() };
  for (const p of existing) if (p.source.startsWith('pfif:') && p.sourceId && (!known.byPfifId.has(p.sourceId) || p.source === source)) known.byPfifId.set(p.sourceId, p);
  const meta: AuditMeta = { actorId: run.byId, actorName: 'import', platform: 'system', requestId: `import:${runId}` };
  const index = new DuplicateIndex();
  for (const p of existing) if (!p.mergedIntoId) index.add(p);

  const problem = (p: ImportProblem): void => {
    summary.problemCount++;
    if (summary.problems.length < MAX_PROBLEMS) summary.problems.push(p);
  };
  // A pipeline: while batches are written (on their own thread on SQLite, in the database's
  // process on PostgreSQL), the next is checked, scored and sealed here. Each batch's new people
  // are handed to the writer as soon as they are ready (it queues them, each written only if the
  // one before was), so it never waits for this thread; up to two batches wait there.
  const writer = store.bulkWriter();
  let writing: Promise<void> = Promise.resolve();
  let before: Promise<void> = Promise.resolve();
  let batch: Row[] = [];
  let batches = 0;
  // Batches handed over and not yet written.
  let pending = 0;
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const prepared = await prepareBatch(deps, runId, crisis, source, batch, mine, known, index, summary, problem, clock());
    batch = [];
    batches++;
    // The writer is behind (two batches not yet written, the older one awaited below): rather than
    // wait, seal some of this batch's rows here (it seals the rest).
    for (const step of prepared.steps) {
      if (!('rows' in step) || !step.seal) continue;
      while (pending >= 2 && (step.sealedAhead ?? 0) < step.rows.length) {
        sealAhead(store.cipher, step, (step.sealedAhead ?? 0) + SEAL_AHEAD_ROWS);
        await yieldTurn();
      }
    }
    await before;
    const inserted = prepared.steps.length ? writer.write(prepared.steps, { chained: true }) : Promise.resolve(null);
    // Awaited in its turn below; marked handled now (a failure shows there).
    inserted.catch(() => undefined);
    const last = writing;
    before = last;
    pending++;
    writing = (async () => {
      await last;
      const progressed = await writeBatch(deps, meta, runId, crisis, source, prepared, inserted, mine, known, summary, problem);
      if (!progressed) await store.transaction((tx) => progressTo(tx, runId, prepared.doneAfter, summary.problemCount));
      if (onBatch) await onBatch(prepared.doneAfter);
    })();
    // Awaited at a later batch or the end (this also marks a failure handled meanwhile).
    void writing.then(
      () => pending--,
      () => pending--,
    );
  };
  try {
    for await (const r of rows) {
      summary.total++;
      batch.push(r);
      if (batch.length >= batchSize(batches, expected === null ? null : expected - (summary.total - batch.length))) await flush();
    }
    await flush();
    await writing;
  } finally {
    // A failed batch: the one being read waits for the retry (rows committed stay, and are skipped).
    await writing.catch(() => undefined);
    await writer.close();
  }
  await finish(store, runId, summary, 'done', clock());
  await store.transaction((tx) => scheduleBoard(deps.outbox, tx, crisis, now0));
  deps.outbox.wake?.();
  return summary;
}

/** The import's job, if it still waits behind a run in the command: not needed any more. */
function retireTakeover(tx: Tx, runId: string, at: Date): Promise<unknown> {
  return tx.job.updateMany({ where: { idempotencyKey: importJobKey(runId), status: 'pending' }, data: { status: 'cancelled', finishedAt: at } });
}

/** A run in the command is alive: its job waits another TAKEOVER_MS from `now`. */
export async function deferTakeover(store: Store, runId: string, now: Date): Promise<void> {
  const dueAt = new Date(now.getTime() + TAKEOVER_MS);
  await store.transaction((tx) => tx.job.updateMany({ where: { idempotencyKey: importJobKey(runId), status: 'pending', dueAt: { lt: dueAt } }, data: { dueAt } }));
}

function importJobKey(runId: string): string {
  return `import:${runId}`;
}

async function finish(store: Store, runId: string, s: ImportSummary, status: 'done' | 'failed', at: Date): Promise<void> {
  await store.transaction(async (tx) => {
    await retireTakeover(tx, runId, at);
    await tx.importFile.deleteMany({ where: { runId } });
    await tx.importRun.update({
      where: { id: runId },
      data: { status, finishedAt: at, total: s.total, done: s.total, imported: s.imported, updated: s.updated, duplicates: s.duplicates, problems: JSON.stringify(s.problems), problemCount: s.problemCount },
    });
  });
}

/** The crisis's records as the import found them: by id (to follow merges), by PFIF record id (for notes). */
interface Known {
  byId: Map<string, PersonRecord>;
  byPfifId: Map<string, PersonRecord>;
}

/** The live record `p` stands for: itself, or the one it was merged into; null for an expired placeholder. */
function liveOf(known: Known, p: PersonRecord): PersonRecord | null {
  let q: PersonRecord | undefined = p;
  for (let hops = 0; q?.mergedIntoId && hops < 20; hops++) {
    if (q.mergedIntoId === q.id) return null;
    q = known.byId.get(q.mergedIntoId);
  }
  return q && !q.mergedIntoId ? q : null;
}

/** Notes and statuses for records already stored (a re-import, or notes about them). */
interface Addition {
  row: number;
  /** the stored record the file names */
  named: PersonRecord;
  /** where the notes go: the named record, or the one it was merged into */
  target: PersonRecord;
  status?: { status: PersonStatus; at: Date; location: string | null };
  notes?: readonly PfifNote[];
}

/** A row of a record already known: `next` is the record as the row has it. */
interface Existing {
  row: number;
  read: PersonRecord;
  next: PersonRecord;
}

/** A batch checked, scored and sealed, ready to be written. */
interface PreparedBatch {
  fresh: { row: number; p: PersonRecord }[];
  existing: Existing[];
  additions: Addition[];
  /** The steps writing the new people, their name keys, notes and duplicate candidates. */
  steps: BulkStep[];
  candidates: number;
  /** Rows of the file read up to the end of this batch. */
  doneAfter: number;
  now: Date;
}

/** Rows checked or scored between two turns of the event loop while a batch is prepared. */
const ROWS_A_TURN = 500;
/** Rows sealed here between two turns while the writer is behind. */
const SEAL_AHEAD_ROWS = 100;

/**
 * Everything that needs no database: each row checked, new people built (numbered when written),
 * scored against everyone known so far. Only one batch is prepared at a time, so the index and
 * the maps it updates are only ever touched by it and by the written batches' updates (which
 * change records this batch reads only to compare when it is written). It gives the event loop a
 * turn every ROWS_A_TURN rows: an answer of the writer thread is taken at once, and its next
 * batch given its turn, instead of after the whole batch.
 */
async function prepareBatch(
  deps: ImportDeps,
  runId: string,
  crisis: CrisisRecord,
  source: string,
  rows: Row[],
  mine: Map<string, PersonRecord>,
  known: Known,
  index: DuplicateIndex,
  summary: ImportSummary,
  problem: (p: ImportProblem) => void,
  now: Date,
): Promise<PreparedBatch> {
  const fresh: { row: number; p: PersonRecord; status: PersonStatus | null; notes: readonly PfifNote[] }[] = [];
  const existing: Existing[] = [];
  const additions: Addition[] = [];
  let n = 0;
  for (const r of rows) {
    if (++n % ROWS_A_TURN === 0) await yieldTurn();
    for (const p of r.problems) problem(p);
    if (r.notesFor) {
      const named = known.byPfifId.get(r.notesFor.personRecordId);
      const target = named ? liveOf(known, named) : null;
      if (named && target) additions.push({ row: r.row, named, target, notes: r.notesFor.notes });
      else for (const n of r.notesFor.notes) problem({ row: r.row, column: `note ${n.noteRecordId}`, problem: `about person ${n.personRecordId ?? '(none)'}, who is neither in the file nor in ${crisis.code}: not imported` });
      continue;
    }
    if (!r.record) continue;
    // An expired PFIF record keeps only its ids and dates: kept (an export must not lose it) as a
    // placeholder that is never live (it points at itself), so no list, count or search shows it.
    const expired = !r.record.fullName.trim() && Boolean(r.record.pfif?.expiryDate);
    if (expired) r.record = { ...r.record, fullName: EXPIRED_NAME };
    const checked = checkRecord(r.record, now.getTime(), deps.missionTimeZone);
    if (!checked.ok) {
      for (const p of checked.problems) problem({ row: r.row, column: p.column, problem: p.problem });
      continue;
    }
    const sourceId = r.record.pfif?.personRecordId ?? r.record.sourceId ?? contentId(r.record);
    // PFIF's source_name is the record's own (a repository's name): kept to be written back as it was.
    const pfif = r.record.pfif ? JSON.stringify({ ...r.record.pfif, ...(r.record.source ? { sourceName: r.record.source } : {}) }) : null;
    const before = mine.get(sourceId);
    if (before) {
      const next = { ...personOf(checked.data, { crisisId: crisis.id, number: before.number, source, sourceId, now, pfif, id: before.id }), status: before.status, statusAt: before.statusAt, createdAt: before.createdAt, version: before.version, mergedIntoId: before.mergedIntoId };
      // Whether its fields apply is decided when written: the same record earlier in the file
      // (in this batch, or the one being written meanwhile) may have changed it by then.
      existing.push({ row: r.row, read: before, next });
      // Statuses and notes: appended (deduplicated) on the live record; the latest by source time decides.
      const target = liveOf(known, before);
      if (target && (checked.status || r.record.notes?.length)) {
        additions.push({ row: r.row, named: before, target, ...(checked.status ? { status: { status: checked.status, at: next.sourceDate, location: next.location } } : {}), ...(r.record.notes?.length ? { notes: r.record.notes } : {}) });
      }
      continue;
    }
    const p = personOf(checked.data, { crisisId: crisis.id, number: 0, source, sourceId, now, pfif });
    if (expired) p.mergedIntoId = p.id;
    mine.set(sourceId, p);
    known.byId.set(p.id, p);
    if (r.record.pfif) known.byPfifId.set(sourceId, p);
    fresh.push({ row: r.row, p, status: checked.status, notes: r.record.notes ?? [] });
  }
  const candidates: SqlValue[][] = [];
  const notes: SqlValue[][] = [];
  for (const f of fresh) {
    if (++n % ROWS_A_TURN === 0) await yieldTurn();
    if (f.notes.length) {
      const n = pfifNotes(f.notes, f.p.id, crisis.id, now, (column, text) => problem({ row: f.row, column, problem: text }));
      notes.push(...n.rows);
      if (n.latest) {
        f.p.status = n.latest.status;
        f.p.statusAt = new Date(n.latest.at);
      }
    } else if (f.status) {
      f.p.status = f.status;
      f.p.statusAt = f.p.sourceDate;
      notes.push([newId(), f.p.id, crisis.id, null, 'Import', source, f.status, 'Imported', f.p.location, null, f.p.sourceDate, now, null, null]);
    }
    for (const d of index.candidatesThenAdd(f.p)) {
      const [a, b] = d.person.id < f.p.id ? [d.person.id, f.p.id] : [f.p.id, d.person.id];
      candidates.push([newId(), crisis.id, a, b, d.score, JSON.stringify(d.reasons), 'open', now]);
    }
  }
  const steps: BulkStep[] = [];
  if (fresh.length) {
    steps.push({ reserve: CrisisRepository.reserveNumbersSql(fresh.length) });
    // Blind indexes are made here and the columns sealed by the writer: on SQLite the writer's
    // thread is the busier of the two (it inserts), so its share of the hashing moved here.
    const cipher = deps.store.cipher;
    const personRows = fresh.map((f) => {
      const row = personRow(f.p);
      indexRow(cipher, PERSON_SEALING, row);
      return row;
    });
    steps.push({ table: 'Person', columns: PERSON_COLUMNS, rows: personRows, numberColumn: PERSON_NUMBER_COLUMN, seal: PERSON_SEALED_ONLY });
    steps.push({ table: 'PersonKey', columns: ['personId', 'crisisId', 'key'], rows: fresh.flatMap((f) => nameIndexKeys(f.p).map((k) => [f.p.id, crisis.id, k])), tail: 'ON CONFLICT DO NOTHING' });
    if (notes.length) steps.push({ table: 'PersonNote', columns: NOTE_COLUMNS, rows: notes, seal: NOTE_SEALING });
    if (candidates.length) steps.push({ table: 'DuplicateCandidate', columns: ['id', 'crisisId', 'personAId', 'personBId', 'score', 'reasons', 'status', 'createdAt'], rows: candidates, tail: 'ON CONFLICT ("personAId", "personBId") DO NOTHING' });
    // Counted with the rows: a try that dies after this commit has them counted, and the next finds
    // them stored. The progress too: no commit of the main connection's a batch (see bulk-writer.thread.ts).
    steps.push({
      // Progress only ever forward: a written batch's updates may have counted later problems.
      sql: 'UPDATE "ImportRun" SET "imported" = "imported" + ?, "duplicates" = "duplicates" + ?, "done" = CASE WHEN "done" < ? THEN ? ELSE "done" END, "problemCount" = CASE WHEN "problemCount" < ? THEN ? ELSE "problemCount" END WHERE "id" = ?',
      params: [fresh.length, candidates.length, summary.total, summary.total, summary.problemCount, summary.problemCount, runId],
    });
  }
  return { fresh, existing, additions, steps, candidates: candidates.length, doneAfter: summary.total, now };
}

/**
 * The new people in one transaction (numbered there), then the updates and added notes in
 * another: each commits whole, and a retry skips what is already stored (by source id).
 */
async function writeBatch(
  deps: ImportDeps,
  meta: AuditMeta,
  runId: string,
  crisis: CrisisRecord,
  source: string,
  b: PreparedBatch,
  inserted: Promise<number | null>,
  mine: Map<string, PersonRecord>,
  known: Known,
  summary: ImportSummary,
  problem: (p: ImportProblem) => void,
): Promise<boolean> {
  const { store } = deps;
  const { now } = b;
  if (b.steps.length) {
    const first = await inserted;
    if (first === null) throw new Error('the import wrote people without numbering them');
    b.fresh.forEach((f, i) => {
      f.p.number = first + i;
    });
  }
  summary.imported += b.fresh.length;
  summary.duplicates += b.candidates;
  // Fields only from a newer source, and never onto a merged-away record (its data lives on in the
  // survivor); compared with the record as it is now, every earlier batch written.
  const current = (e: Existing): PersonRecord => mine.get(e.next.sourceId as string) ?? e.read;
  const newer = b.existing.filter((e) => !current(e).mergedIntoId && e.next.sourceDate.getTime() > current(e).sourceDate.getTime());
  const touched = new Set<number>();
  // Updates and added notes, in a transaction of the store that also writes the batch's progress.
  const updating = newer.length > 0 || b.additions.length > 0;
  if (updating) {
    await store.transaction(async (tx: Tx) => {
      for (const e of newer) {
        const before = current(e);
        const next = { ...e.next, number: before.number };
        // Checked again: an earlier row of this batch may have updated the same record.
        if (before.mergedIntoId || next.sourceDate.getTime() <= before.sourceDate.getTime() || sameFields(before, next)) continue;
        const { id: _id, number: _number, crisisId: _c, status: _s, statusAt: _sa, version: _v, createdAt: _ca, mergedIntoId: _m, updatedAt: _u, ...rest } = next;
        // Fenced on the version this import last wrote or read: an edit (or merge) made meanwhile wins.
        if (!(await store.crises.updatePerson(tx, before, rest, now, { live: true }))) {
          problem({ row: e.row, column: '', problem: `#${before.number} was changed by someone else during the import: not updated; import the file again to retry` });
          continue;
        }
        await store.crises.replaceKeys(tx, crisis.id, before.id, nameIndexKeys(next));
        await AuditRepository.write(tx, meta, { entity: 'person', entityId: before.id, action: 'import-update', before: { number: before.number, sourceDate: before.sourceDate }, after: { number: before.number, sourceDate: next.sourceDate, source, fields: '[personal data]' } });
        const updated = { ...next, status: before.status, statusAt: before.statusAt, createdAt: before.createdAt, version: before.version + 1, mergedIntoId: before.mergedIntoId, updatedAt: now };
        mine.set(next.sourceId as string, updated);
        known.byId.set(updated.id, updated);
        touched.add(e.row);
      }
      for (const a of b.additions) {
        if (await addToStored(store, tx, meta, crisis, source, a, now, problem)) touched.add(a.row);
      }
      if (touched.size) await tx.importRun.update({ where: { id: runId }, data: { updated: { increment: touched.size } } });
      await progressTo(tx, runId, b.doneAfter, summary.problemCount);
    });
  }
  // Each row once: updated if anything of it was written, else unchanged (a row of notes only,
  // about a record not in the file, is neither when nothing was new).
  summary.updated += touched.size;
  summary.unchanged += b.existing.filter((e) => !touched.has(e.row)).length;
  // Whether the batch's progress was written with it.
  return b.steps.length > 0 || updating;
}

/** An import's progress, only ever forward: a later batch's rows may have been counted already. */
async function progressTo(tx: Tx, runId: string, done: number, problemCount: number): Promise<void> {
  await tx.importRun.updateMany({ where: { id: runId, done: { lt: done } }, data: { done } });
  await tx.importRun.updateMany({ where: { id: runId, problemCount: { lt: problemCount } }, data: { problemCount } });
}

/** Appends the notes (and a row's status) not stored yet to a stored record; the latest by source time decides its status. */
async function addToStored(store: Store, tx: Tx, meta: AuditMeta, crisis: CrisisRecord, source: string, a: Addition, now: Date, problem: (p: ImportProblem) => void): Promise<boolean> {
  const ids = [...new Set([a.named.id, a.target.id])];
  const stored = (await tx.personNote.findMany({ where: { personId: { in: ids } }, select: { id: true, status: true, sourceAt: true, source: true, pfif: true } })).map((n) => store.crises.openNote(n));
  let added = 0;
  let latest: { status: PersonStatus; at: number } | null = null;
  if (a.notes?.length) {
    const have = new Set<string>();
    for (const n of stored) {
      const id = noteRecordIdOf(n.pfif);
      if (id) have.add(id);
    }
    const n = pfifNotes(a.notes.filter((x) => !have.has(x.noteRecordId)), a.target.id, crisis.id, now, (column, text) => problem({ row: a.row, column, problem: text }));
    if (n.rows.length) await writeSteps(store.sqlIn(tx), [{ table: 'PersonNote', columns: NOTE_COLUMNS, rows: n.rows, seal: NOTE_SEALING }], store.cipher);
    added += n.rows.length;
    latest = n.latest;
  }
  if (a.status && !stored.some((n) => n.status === a.status?.status && n.source === source && n.sourceAt.getTime() === a.status?.at.getTime())) {
    await store.crises.addNote(tx, { personId: a.target.id, crisisId: crisis.id, authorId: null, authorName: 'Import', source, status: a.status.status, text: 'Imported', lastKnownLocation: a.status.location, madeContact: null, sourceAt: a.status.at, createdAt: now, linkedPersonId: null, pfif: null });
    added++;
    if (!latest || a.status.at.getTime() >= latest.at) latest = { status: a.status.status, at: a.status.at.getTime() };
  }
  if (!added) return false;
  const applied = latest ? await store.crises.applyStatus(tx, a.target.id, latest.status, new Date(latest.at), now) : false;
  await AuditRepository.write(tx, meta, { entity: 'person', entityId: a.target.id, action: 'import-notes', before: null, after: { number: a.target.number, notes: added, ...(latest ? { status: latest.status, applied } : {}), ...(a.named.id !== a.target.id ? { reportedOn: a.named.number } : {}) } });
  return true;
}

const notePfifSchema = z.object({ noteRecordId: z.string() });

function noteRecordIdOf(json: string | null): string | null {
  if (!json) return null;
  try {
    const r = notePfifSchema.safeParse(JSON.parse(json));
    return r.success ? r.data.noteRecordId : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Starting an import, its job, and its progress message

/** The authenticated place of an import's file (ImportFile is keyed by its run). */
export function importFileAt(runId: string): FieldAt {
  return { table: 'ImportFile', column: 'content', id: runId };
}

export async function startImport(
  deps: ImportDeps,
  meta: AuditMeta,
  crisis: CrisisRecord,
  file: { name: string; content: Buffer; format: 'csv' | 'pfif' },
  reportTo: string | null,
  by: { id: string | null },
  now: Date,
  opts: { runHere?: boolean } = {},
): Promise<string> {
  const id = newId();
  await deps.store.change(meta, async (w) => {
    await w.tx.importRun.create({ data: { id, crisisId: crisis.id, fileName: file.name, format: file.format, reportTo, status: 'running', startedAt: now, byId: by.id } });
    // The file is personal data too: sealed like the fields until the import drops it.
    await deps.store.crises.storeImportFile(deps.store.sqlIn(w.tx), id, deps.store.cipher.sealBytes(file.content, importFileAt(id)));
    // runHere: the caller runs the import itself (the console); the job only stands by behind it.
    const dueAt = opts.runHere ? new Date(now.getTime() + TAKEOVER_MS) : now;
    await deps.outbox.schedule(w.tx, { kind: CRISIS_IMPORT_JOB, key: importJobKey(id), dueAt, payload: { runId: id } });
    await w.audit('crisis', crisis.id, 'import', null, { runId: id, file: file.name, bytes: file.content.length });
  });
  if (!opts.runHere) deps.outbox.wake?.();
  return id;
}

/** An import that could not finish: marked failed with the reason, its file dropped. */
export async function failImport(store: Store, runId: string, reason: string, at: Date): Promise<void> {
  await store.transaction((tx) => failImportIn(tx, runId, reason, at));
}

/** failImport in the caller's transaction. */
async function failImportIn(tx: Tx, runId: string, reason: string, at: Date): Promise<void> {
  await retireTakeover(tx, runId, at);
  await tx.importFile.deleteMany({ where: { runId } });
  await tx.importRun.updateMany({
    where: { id: runId, status: 'running' },
    data: { status: 'failed', finishedAt: at, problems: JSON.stringify([{ row: 0, column: '', problem: reason.slice(0, 500) }]), problemCount: 1 },
  });
}

export function importMessage(run: { fileName: string; status: string; done: number; imported: number; updated: number; duplicates: number; problemCount: number; problems: ImportProblem[] }, crisisCode: string, total?: number): MessageReply {
  const head = run.status === 'running' ? `Importing ${run.fileName} into ${crisisCode}: ${run.done.toLocaleString('en')}${total ? ` of ${total.toLocaleString('en')}` : ''} rows…` : `Import of ${run.fileName} into ${crisisCode} ${run.status === 'done' ? 'finished' : 'failed'}: ${run.done.toLocaleString('en')} rows`;
  const lines = [
    `${run.imported} new, ${run.updated} updated, ${run.problemCount} rows with problems, ${run.duplicates} possible duplicates${run.duplicates ? ` (review: /crisis duplicates ${crisisCode})` : ''}.`,
    ...run.problems.slice(0, 15).map((p) => `Row ${p.row}${p.column ? `, ${p.column}` : ''}: ${p.problem}`),
    ...(run.problemCount > 15 ? [`…and ${run.problemCount - 15} more.`] : []),
  ];
  return message({ title: head, text: lines.join('\n'), visibility: 'direct', fallback: head });
}

const payloadSchema = z.object({ runId: z.string() });
const problemsSchema = z.array(z.object({ row: z.number(), column: z.string(), problem: z.string() }));

export interface ImportJobDeps extends ImportDeps {
  chat?: Notifier & Partial<MessageUpdater>;
}

/** The import job (re-runnable: a second run skips what the first imported) and its progress message. */
export function registerImportJobs(scheduler: Scheduler, deps: ImportJobDeps): void {
  const { store } = deps;

  async function showProgress(runId: string): Promise<void> {
    const run = await store.db.importRun.findUnique({ where: { id: runId } });
    if (!run?.reportTo || !deps.chat) return;
    const crisis = await store.crises.byId(run.crisisId);
    const reply = importMessage({ ...run, problems: problemsSchema.catch([]).parse(JSON.parse(run.problems)) }, crisis?.code ?? '?');
    const copy = parseChatCopy(run.message);
    if (copy && deps.chat.update) {
      const r = await deps.chat.update(copy, reply);
      if (r.ok) return;
    }
    const to = run.reportTo.startsWith('member:') ? { kind: 'member' as const, memberId: run.reportTo.slice(7) } : { kind: 'channel' as const, channel: run.reportTo };
    const r = await deps.chat.send(to, to.kind === 'channel' ? { ...reply, visibility: 'channel' } : reply);
    if (r.ok && r.copy) {
      const copyJson = JSON.stringify(r.copy);
      await store.transaction((tx) => tx.importRun.update({ where: { id: runId }, data: { message: copyJson } }));
    }
  }

  scheduler.register(
    CRISIS_IMPORT_JOB,
    async (job, ctx): Promise<JobOutcome> => {
      const p = payloadSchema.safeParse(job.payload);
      if (!p.success) return { status: 'failed', error: 'invalid payload' };
      const run = await store.db.importRun.findUnique({ where: { id: p.data.runId } });
      if (!run || run.status !== 'running') return { status: 'done', result: { skipped: run?.status ?? 'gone' } };
      let last = 0;
      await showProgress(run.id).catch((err: unknown) => ctx.logger.warn({ err }, 'could not show import progress'));
      let s: ImportSummary;
      try {
        s = await runImport(deps, run.id, () => scheduler.now(), async () => {
          if (Date.now() - last < PROGRESS_EVERY_MS) return;
          last = Date.now();
          await showProgress(run.id).catch((err: unknown) => ctx.logger.warn({ err }, 'could not show import progress'));
        });
      } catch (err) {
        // Rows already committed stay, and a retry skips them. Out of retries: say so, never leave it "running".
        if (job.attempts < IMPORT_ATTEMPTS) throw err;
        ctx.logger.error({ err, runId: run.id }, 'import failed');
        await failImport(store, run.id, err instanceof Error ? err.message : String(err), scheduler.now());
        await showProgress(run.id).catch((e: unknown) => ctx.logger.warn({ err: e }, 'could not show import progress'));
        return { status: 'failed', error: `import failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      await showProgress(run.id).catch((err: unknown) => ctx.logger.warn({ err }, 'could not show import progress'));
      ctx.logger.info({ runId: run.id, total: s.total, imported: s.imported, problems: s.problemCount }, 'import finished');
      return { status: 'done', result: { total: s.total, imported: s.imported, updated: s.updated, problems: s.problemCount } };
    },
    {
      maxAttempts: IMPORT_ATTEMPTS,
      // Its workers kept dying on it (a file that kills the process?): say so, never leave it "running".
      onAbandoned: async (job, tx) => {
        const p = payloadSchema.safeParse(job.payload);
        if (!p.success) return;
        await failImportIn(tx, p.data.runId, `the import stopped ${IMPORT_ATTEMPTS} times without finishing; rows already imported stay`, scheduler.now());
      },
    },
  );
}
