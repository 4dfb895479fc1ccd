// Crises, the people affected, their append-only notes, contact attempts, duplicate candidates and
// import runs. Plain records out; the rules (statuses, matching, merging) live in src/domain/person.ts.
import { z } from 'zod/v4';
import type { Db, Tx } from './client';
import { normaliseIdentifier, openColumns, rowSealing, sealColumns, type FieldCipher, type IdentifierKind, type RowSealing } from './field-crypto';
import { newId } from './ids';
import { PageRepository } from './page.repository';
import { dateOf, dateOrNull, inList, type SqlBatch, type SqlRunner, type SqlValue } from './sql';

export interface CrisisRecord {
  id: string;
  code: string;
  name: string;
  region: string;
  description: string | null;
  status: string;
  leadershipChannel: string | null;
  channel: string | null;
  boardMessage: string | null;
  openedAt: Date;
  openedById: string | null;
  stoodDownAt: Date | null;
  /** who drafts and publishes SITREPs (default: who opened the crisis) */
  leadId: string | null;
  /** canonical cadence text, see parseCadence */
  sitrepCadence: string;
  sitrepLatePolicy: string;
  /** when the next scheduled SITREP is due */
  sitrepDueAt: Date | null;
  version: number;
}

type SitrepSettings = 'leadId' | 'sitrepCadence' | 'sitrepLatePolicy' | 'sitrepDueAt';

export interface PersonFields {
  fullName: string;
  givenName: string | null;
  familyName: string | null;
  alternateNames: string[];
  sex: string | null;
  dateOfBirth: string | null;
  age: string | null;
  nationality: string | null;
  passportNumber: string | null;
  homeStreet: string | null;
  homeNeighborhood: string | null;
  homeCity: string | null;
  homeState: string | null;
  homePostalCode: string | null;
  homeCountry: string | null;
  location: string | null;
  latitude: number | null;
  longitude: number | null;
  phone: string | null;
  email: string | null;
  nokName: string | null;
  nokRelationship: string | null;
  nokPhone: string | null;
  nokEmail: string | null;
  description: string | null;
  needs: string[];
  household: string | null;
}

export interface PersonRecord extends PersonFields {
  id: string;
  crisisId: string;
  number: number;
  nameKey: string;
  status: string;
  statusAt: Date | null;
  source: string;
  sourceId: string | null;
  sourceDate: Date;
  pfif: string | null;
  mergedIntoId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface PersonNoteRecord {
  id: string;
  personId: string;
  crisisId: string;
  authorId: string | null;
  authorName: string;
  source: string;
  status: string | null;
  text: string | null;
  lastKnownLocation: string | null;
  madeContact: boolean | null;
  sourceAt: Date;
  createdAt: Date;
  linkedPersonId: string | null;
  pfif: string | null;
}

export interface ContactAttemptRecord {
  id: string;
  personId: string;
  crisisId: string;
  byId: string | null;
  byName: string;
  outcome: string;
  at: Date;
}

export interface DuplicateRecord {
  id: string;
  crisisId: string;
  personAId: string;
  personBId: string;
  score: number;
  reasons: string[];
  status: string;
  decidedById: string | null;
  decidedAt: Date | null;
  mergeUndo: string | null;
  createdAt: Date;
}

const stringList = z.array(z.string());

function list(json: string): string[] {
  try {
    const r = stringList.safeParse(JSON.parse(json));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

/**
 * Encrypted at rest (field-crypto.ts): sealed on the way in and opened on the way out here, so
 * callers only ever see plain records. `pfif` holds the PFIF fields we keep verbatim (names,
 * phones, emails of the source). Passport, phone and email have blind indexes for search.
 */
export const PERSON_SEALED = ['dateOfBirth', 'passportNumber', 'phone', 'email', 'nokPhone', 'nokEmail', 'pfif'] as const satisfies readonly (keyof PersonRecord)[];
/** Identifier columns and their blind-index columns. */
export const PERSON_BLIND = [
  { kind: 'passport', column: 'passportNumber', hash: 'passportHash' },
  { kind: 'phone', column: 'phone', hash: 'phoneHash' },
  { kind: 'email', column: 'email', hash: 'emailHash' },
] as const satisfies readonly { kind: IdentifierKind; column: keyof PersonRecord; hash: string }[];
/** A status report's free text, and the PFIF note fields we keep (author and found person's email and phone). */
export const PERSON_NOTE_SEALED = ['text', 'pfif'] as const satisfies readonly (keyof PersonNoteRecord)[];
/** What a merge changed (the fields' values before and after): sealed as a whole. */
export const DUPLICATE_SEALED = ['mergeUndo'] as const;

type PersonHashes = { passportHash?: string | null; phoneHash?: string | null; emailHash?: string | null };
type PersonRow = Omit<PersonRecord, 'alternateNames' | 'needs'> & { alternateNames: string; needs: string } & PersonHashes;

function toPerson(r: PersonRow): PersonRecord {
  // The blind indexes are the store's business: kept out of records.
  const { passportHash: _p, phoneHash: _t, emailHash: _e, ...rest } = r;
  return { ...rest, alternateNames: list(r.alternateNames), needs: list(r.needs) };
}

/** A Person row read with plain SQL. */
function personOfSql(r: Record<string, unknown>): PersonRecord {
  const s = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  const n = (k: string): number | null => (r[k] === null || r[k] === undefined ? null : Number(r[k]));
  return {
    id: String(r.id),
    crisisId: String(r.crisisId),
    number: Number(r.number),
    fullName: String(r.fullName),
    givenName: s('givenName'),
    familyName: s('familyName'),
    alternateNames: list(String(r.alternateNames ?? '[]')),
    nameKey: String(r.nameKey),
    sex: s('sex'),
    dateOfBirth: s('dateOfBirth'),
    age: s('age'),
    nationality: s('nationality'),
    passportNumber: s('passportNumber'),
    homeStreet: s('homeStreet'),
    homeNeighborhood: s('homeNeighborhood'),
    homeCity: s('homeCity'),
    homeState: s('homeState'),
    homePostalCode: s('homePostalCode'),
    homeCountry: s('homeCountry'),
    location: s('location'),
    latitude: n('latitude'),
    longitude: n('longitude'),
    phone: s('phone'),
    email: s('email'),
    nokName: s('nokName'),
    nokRelationship: s('nokRelationship'),
    nokPhone: s('nokPhone'),
    nokEmail: s('nokEmail'),
    description: s('description'),
    needs: list(String(r.needs ?? '[]')),
    household: s('household'),
    status: String(r.status),
    statusAt: dateOrNull(r.statusAt),
    source: String(r.source),
    sourceId: s('sourceId'),
    sourceDate: dateOf(r.sourceDate),
    pfif: s('pfif'),
    mergedIntoId: s('mergedIntoId'),
    version: Number(r.version),
    createdAt: dateOf(r.createdAt),
    updatedAt: dateOf(r.updatedAt),
  };
}

/** The columns savePerson and updatePerson write. */
export type PersonPatch = Partial<PersonFields> & { nameKey?: string; mergedIntoId?: string | null; sourceDate?: Date; pfif?: string | null; source?: string; sourceId?: string | null };

function toDuplicate(r: Omit<DuplicateRecord, 'reasons'> & { reasons: string }): DuplicateRecord {
  return { ...r, reasons: list(r.reasons) };
}

/** Person columns in insert order, for the bulk import path. */
export const PERSON_COLUMNS = [
  'id', 'crisisId', 'number', 'fullName', 'givenName', 'familyName', 'alternateNames', 'nameKey', 'sex', 'dateOfBirth', 'age', 'nationality', 'passportNumber',
  'homeStreet', 'homeNeighborhood', 'homeCity', 'homeState', 'homePostalCode', 'homeCountry', 'location', 'latitude', 'longitude', 'phone', 'email',
  'nokName', 'nokRelationship', 'nokPhone', 'nokEmail', 'description', 'needs', 'household', 'status', 'statusAt', 'source', 'sourceId', 'sourceDate', 'pfif',
  'mergedIntoId', 'version', 'createdAt', 'updatedAt', 'passportHash', 'phoneHash', 'emailHash',
] as const;
export const PERSON_NUMBER_COLUMN = PERSON_COLUMNS.indexOf('number');
/** How a row of PERSON_COLUMNS is sealed, its blind indexes included (the bulk writer seals them so). */
export const PERSON_SEALING = rowSealing('Person', PERSON_COLUMNS, PERSON_SEALED, PERSON_BLIND);

/** The row in clear, without blind indexes (comparisons, the benchmark's raw driver); the bulk writer seals it by PERSON_SEALING. */
export function personRow(p: PersonRecord & PersonHashes): (string | number | Date | null)[] {
  // Column by column, without a copy of the record (an import builds 100,000 of these).
  const out = new Array<string | number | Date | null>(PERSON_COLUMNS.length);
  for (let i = 0; i < PERSON_COLUMNS.length; i++) {
    const c = PERSON_COLUMNS[i] as (typeof PERSON_COLUMNS)[number];
    out[i] = c === 'alternateNames' || c === 'needs' ? JSON.stringify(p[c]) : (p[c] ?? null);
  }
  return out;
}

export class CrisisRepository {
  constructor(
    private readonly db: Db,
    private readonly sqlRead: () => SqlRunner,
    private readonly cipher: FieldCipher,
  ) {}

  /** The sealed form of (some of) a person's columns, with the blind index of each identifier among them. */
  private seal<T extends Partial<PersonRecord>>(id: string, data: T): T & PersonHashes {
    const out: T & PersonHashes = sealColumns(this.cipher, 'Person', id, data, PERSON_SEALED);
    for (const b of PERSON_BLIND) {
      const v = data[b.column];
      if (v !== undefined) out[b.hash] = this.cipher.blindIndex(b.kind, v);
    }
    return out;
  }

  /**
   * Opens the sealed columns present on a Person row read directly (a partial select), for code
   * outside this repository that selects them.
   */
  opened<T extends { id: string }>(row: T): T {
    return openColumns(this.cipher, 'Person', row, PERSON_SEALED);
  }

  private open(p: PersonRecord): PersonRecord {
    return openColumns(this.cipher, 'Person', p, PERSON_SEALED);
  }

  private openDuplicate(d: DuplicateRecord): DuplicateRecord {
    return openColumns(this.cipher, 'DuplicateCandidate', d, DUPLICATE_SEALED);
  }

  // -------------------------------------------------------------------------------------------
  // Crises

  async byCode(code: string, client: Db | Tx = this.db): Promise<CrisisRecord | null> {
    return client.crisis.findUnique({ where: { code: code.toUpperCase() } });
  }

  async byId(id: string, client: Db | Tx = this.db): Promise<CrisisRecord | null> {
    return client.crisis.findUnique({ where: { id } });
  }

  async list(client: Db | Tx = this.db): Promise<CrisisRecord[]> {
    return client.crisis.findMany({ orderBy: [{ status: 'asc' }, { openedAt: 'desc' }] });
  }

  async create(tx: Tx, c: Omit<CrisisRecord, 'id' | 'version' | 'boardMessage' | 'stoodDownAt' | SitrepSettings> & Partial<Pick<CrisisRecord, SitrepSettings>>): Promise<CrisisRecord> {
    return tx.crisis.create({ data: { leadId: c.openedById, ...c, id: newId(), version: 1 } });
  }

  /** Fenced on the version read; null when someone changed it in between. */
  async save(tx: Tx, before: CrisisRecord, patch: Partial<Omit<CrisisRecord, 'id' | 'code' | 'version'>>): Promise<CrisisRecord | null> {
    const { count } = await tx.crisis.updateMany({ where: { id: before.id, version: before.version }, data: { ...patch, version: before.version + 1 } });
    return count === 1 ? this.byId(before.id, tx) : null;
  }

  /**
   * Writes the board message, fenced: only while the crisis's channel is still `fence.channel` (the
   * one posted to) and, when given, the stored value is still `fence.current`. False when not written.
   * Does not bump the version: the board is bookkeeping, not an edit of the crisis.
   */
  async setBoardMessage(tx: Tx, id: string, copy: string | null, fence: { channel: string; current?: string | null }): Promise<boolean> {
    const { count } = await tx.crisis.updateMany({ where: { id, channel: fence.channel, ...(fence.current !== undefined ? { boardMessage: fence.current } : {}) }, data: { boardMessage: copy } });
    return count === 1;
  }

  /**
   * Claims the first post of a board atomically: sets `claim` only if the board message is still
   * `expected` (null: none yet) and the crisis unchanged (version, hence channel, as read). Only the
   * caller whose claim applied may post.
   */
  async claimBoard(tx: Tx, crisis: Pick<CrisisRecord, 'id' | 'version' | 'channel'>, expected: string | null, claim: string): Promise<boolean> {
    if (!crisis.channel) return false;
    const { count } = await tx.crisis.updateMany({ where: { id: crisis.id, version: crisis.version, channel: crisis.channel, boardMessage: expected }, data: { boardMessage: claim } });
    return count === 1;
  }

  async addMember(tx: Tx, crisisId: string, memberId: string, at: Date): Promise<boolean> {
    const r = await tx.crisisMember.createMany({ data: [{ crisisId, memberId, addedAt: at }] }).catch(() => ({ count: 0 }));
    return r.count > 0;
  }

  async memberIds(crisisId: string, client: Db | Tx = this.db): Promise<string[]> {
    return (await client.crisisMember.findMany({ where: { crisisId }, select: { memberId: true } })).map((r) => r.memberId);
  }

  // -------------------------------------------------------------------------------------------
  // People

  static nextNumber(tx: Tx): Promise<number> {
    return PageRepository.next(tx, 'person');
  }

  /** Reserves `n` consecutive numbers at once (imports). Returns the first. */
  /** `count` person numbers for a bulk write: the statement RETURNs the counter's new (last) value. */
  static reserveNumbersSql(n: number): { sql: string; params: readonly SqlValue[]; count: number } {
    return {
      sql: `INSERT INTO "Counter" ("name", "value") VALUES ('person', ?) ON CONFLICT ("name") DO UPDATE SET "value" = "Counter"."value" + ? RETURNING "value"`,
      params: [n, n],
      count: n,
    };
  }

  async createPerson(tx: Tx, p: PersonRecord): Promise<PersonRecord> {
    const row = await tx.person.create({ data: { ...this.seal(p.id, p), alternateNames: JSON.stringify(p.alternateNames), needs: JSON.stringify(p.needs) } });
    return this.open(toPerson(row));
  }

  async personByNumber(n: number, client: Db | Tx = this.db): Promise<PersonRecord | null> {
    const row = await client.person.findUnique({ where: { number: n } });
    return row ? this.open(toPerson(row)) : null;
  }

  async personById(id: string, client: Db | Tx = this.db): Promise<PersonRecord | null> {
    const row = await client.person.findUnique({ where: { id } });
    return row ? this.open(toPerson(row)) : null;
  }

  async peopleByIds(ids: string[], sql: SqlRunner = this.sqlRead()): Promise<PersonRecord[]> {
    if (!ids.length) return [];
    const out: PersonRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      out.push(...(await sql.all(`SELECT * FROM "Person" WHERE "id" IN (${inList(chunk.length)})`, chunk)).map((r) => this.open(personOfSql(r))));
    }
    return out;
  }

  async bySource(crisisId: string, source: string, sourceIds: string[], sql: SqlRunner = this.sqlRead()): Promise<Map<string, PersonRecord>> {
    const out = new Map<string, PersonRecord>();
    for (let i = 0; i < sourceIds.length; i += 500) {
      const chunk = sourceIds.slice(i, i + 500);
      const rows = await sql.all(`SELECT * FROM "Person" WHERE "crisisId" = ? AND "source" = ? AND "sourceId" IN (${inList(chunk.length)})`, [crisisId, source, ...chunk]);
      for (const r of rows) {
        const p = this.open(personOfSql(r));
        if (p.sourceId) out.set(p.sourceId, p);
      }
    }
    return out;
  }

  /** Fenced on the version read. */
  async savePerson(tx: Tx, before: PersonRecord, patch: PersonPatch, now: Date): Promise<PersonRecord | null> {
    return (await this.updatePerson(tx, before, patch, now)) ? this.personById(before.id, tx) : null;
  }

  /**
   * Writes the patch (sealed) if the record is still at the version read (and, with `live`, not
   * merged away); false when someone changed it in between. Bumps the version.
   */
  async updatePerson(tx: Tx, before: Pick<PersonRecord, 'id' | 'version'>, patch: PersonPatch, now: Date, opts: { live?: boolean } = {}): Promise<boolean> {
    const { alternateNames, needs, ...rest } = patch;
    const data = {
      ...this.seal(before.id, rest),
      ...(alternateNames ? { alternateNames: JSON.stringify(alternateNames) } : {}),
      ...(needs ? { needs: JSON.stringify(needs) } : {}),
      version: before.version + 1,
      updatedAt: now,
    };
    const { count } = await tx.person.updateMany({ where: { id: before.id, version: before.version, ...(opts.live ? { mergedIntoId: null } : {}) }, data });
    return count === 1;
  }

  /**
   * Live (not merged away) people matching any of the exact identifiers: by blind index under
   * every readable key, and in clear for rows stored before encryption was turned on (until
   * keys:rotate encrypts them). Compared again once decrypted, so only exact matches return.
   */
  async byIdentifiers(crisisId: string | null, ids: { passport?: string; phone?: string; email?: string }): Promise<PersonRecord[]> {
    const q = this.identifierQuery(crisisId, ids);
    if (!q) return [];
    const rows = await this.sqlRead().all(q.sql, q.params);
    return rows
      .map((r) => this.open(personOfSql(r)))
      .filter((p) => q.wanted.some((w) => {
        const v = p[w.column];
        return v !== null && normaliseIdentifier(w.kind, v) === w.value;
      }));
  }

  /** byIdentifiers' query (its plan is tested): null when no identifier is usable. */
  identifierQuery(crisisId: string | null, ids: { passport?: string; phone?: string; email?: string }): { sql: string; params: string[]; wanted: { kind: IdentifierKind; column: (typeof PERSON_BLIND)[number]['column']; value: string }[] } | null {
    const parts: string[] = [];
    const params: string[] = [];
    const wanted: { kind: IdentifierKind; column: (typeof PERSON_BLIND)[number]['column']; value: string }[] = [];
    for (const b of PERSON_BLIND) {
      const value = ids[b.kind];
      if (!value || normaliseIdentifier(b.kind, value) === '') continue;
      wanted.push({ kind: b.kind, column: b.column, value: normaliseIdentifier(b.kind, value) });
      const hashes = this.cipher.blindIndexes(b.kind, value);
      if (hashes.length) {
        parts.push(`"${b.hash}" IN (${inList(hashes.length)})`);
        params.push(...hashes);
      }
      // In clear only where there is no blind index: the partial index holds just those rows.
      parts.push(`("${b.column}" = ? AND "${b.hash}" IS NULL)`);
      params.push(value);
    }
    if (!parts.length) return null;
    // On SQLite, "+" keeps the crisis out of the index choice: without statistics it walked the
    // crisis's whole index instead of looking each identifier up.
    const scope = crisisId ? ` AND ${this.sqlRead().provider === 'sqlite' ? '+' : ''}"crisisId" = ?` : '';
    return { sql: `SELECT * FROM "Person" WHERE (${parts.join(' OR ')}) AND "mergedIntoId" IS NULL${scope} LIMIT 50`, params: [...params, ...(crisisId ? [crisisId] : [])], wanted };
  }

  /** Ids of live people of a crisis sharing any blocking key, with how many keys they share. */
  async candidatesByKeys(crisisId: string, keys: string[], limit = 200): Promise<{ personId: string; shared: number }[]> {
    if (!keys.length) return [];
    const rows = await this.sqlRead().all<{ personId: string; shared: unknown }>(
      `SELECT k."personId" AS "personId", COUNT(*) AS "shared" FROM "PersonKey" k WHERE k."crisisId" = ? AND k."key" IN (${inList(keys.length)})
       GROUP BY k."personId" ORDER BY COUNT(*) DESC LIMIT ?`,
      [crisisId, ...keys, limit],
    );
    return rows.map((r) => ({ personId: String(r.personId), shared: Number(r.shared) }));
  }

  addKeys(sql: SqlBatch, crisisId: string, personId: string, keys: readonly string[]): void {
    for (const key of new Set(keys)) sql.insert(`INSERT INTO "PersonKey" ("personId", "crisisId", "key")`, [personId, crisisId, key], `ON CONFLICT DO NOTHING`);
  }

  async replaceKeys(tx: Tx, crisisId: string, personId: string, keys: readonly string[]): Promise<void> {
    await tx.personKey.deleteMany({ where: { personId } });
    if (keys.length) await tx.personKey.createMany({ data: [...new Set(keys)].map((key) => ({ personId, crisisId, key })) });
  }

  /** Counts by status of a crisis's live people: what the board shows. */
  async statusCounts(crisisId: string): Promise<Map<string, number>> {
    const rows = await this.sqlRead().all<{ status: string; n: unknown }>(
      `SELECT "status", COUNT(*) AS "n" FROM "Person" WHERE "crisisId" = ? AND "mergedIntoId" IS NULL GROUP BY "status"`,
      [crisisId],
    );
    return new Map(rows.map((r) => [String(r.status), Number(r.n)]));
  }

  /**
   * Status reports recorded since `since` (by when they were recorded, not the time the source
   * gives), per status: people of the crisis's live records reported in each status in the window
   * (each person once per status). Walks PersonNote(crisisId, createdAt).
   */
  async statusChangesSince(crisisId: string, since: Date): Promise<Map<string, number>> {
    const rows = await this.sqlRead().all<{ status: string; n: unknown }>(
      `SELECT n."status" AS "status", COUNT(DISTINCT n."personId") AS "n" FROM "PersonNote" n JOIN "Person" p ON p."id" = n."personId"
       WHERE n."crisisId" = ? AND n."createdAt" >= ? AND n."status" IS NOT NULL AND p."mergedIntoId" IS NULL GROUP BY n."status"`,
      [crisisId, since],
    );
    return new Map(rows.map((r) => [String(r.status), Number(r.n)]));
  }

  async needsCounts(crisisId: string): Promise<Map<string, number>> {
    // Two ranges around '[]' (no needs), each its own SELECT: neither <> nor an OR of the two is
    // answered from the index as a range (SQLite walked all 100,000 entries, 7.6 ms; now 0.02 ms).
    const live = `FROM "Person" WHERE "crisisId" = ? AND "mergedIntoId" IS NULL`;
    const rows = await this.sqlRead().all<{ needs: string; n: unknown }>(
      `SELECT "needs", COUNT(*) AS "n" ${live} AND "needs" < '[]' GROUP BY "needs" UNION ALL SELECT "needs", COUNT(*) AS "n" ${live} AND "needs" > '[]' GROUP BY "needs"`,
      [crisisId, crisisId],
    );
    const out = new Map<string, number>();
    for (const r of rows) for (const need of list(String(r.needs))) out.set(need, (out.get(need) ?? 0) + Number(r.n));
    return out;
  }

  /** People of a crisis whose name key starts with `prefix` (the cheap first pass of /person find). */
  async byNameKeyPrefix(crisisId: string | null, prefix: string, limit: number): Promise<PersonRecord[]> {
    const scope = crisisId ? `"crisisId" = ? AND ` : '';
    const rows = await this.sqlRead().all(
      `SELECT * FROM "Person" WHERE ${scope}"nameKey" >= ? AND "nameKey" < ? AND "mergedIntoId" IS NULL ORDER BY "nameKey" LIMIT ?`,
      [...(crisisId ? [crisisId] : []), prefix, `${prefix}\uffff`, limit],
    );
    return rows.map((r) => this.open(personOfSql(r)));
  }

  // -------------------------------------------------------------------------------------------
  // Notes and status

  async addNote(tx: Tx, n: Omit<PersonNoteRecord, 'id'> & { id?: string }): Promise<PersonNoteRecord> {
    const id = n.id ?? newId();
    return this.openNote(await tx.personNote.create({ data: sealColumns(this.cipher, 'PersonNote', id, { ...n, id }, PERSON_NOTE_SEALED) }));
  }

  /** Opens the sealed columns present on a PersonNote row (a partial select included). */
  openNote<T extends { id: string }>(n: T): T {
    return openColumns(this.cipher, 'PersonNote', n, PERSON_NOTE_SEALED);
  }

  /** How PersonNote rows with these columns are sealed (the bulk writer seals them so). */
  static noteSealing(columns: readonly string[]): RowSealing {
    return rowSealing('PersonNote', columns, PERSON_NOTE_SEALED);
  }

  /** Notes of these people, in no particular order. */
  async notesOfPeople(personIds: readonly string[], client: Db | Tx = this.db): Promise<PersonNoteRecord[]> {
    return (await client.personNote.findMany({ where: { personId: { in: [...personIds] } } })).map((n) => this.openNote(n));
  }

  /**
   * The person's status follows a note only when the note is at least as recent (by source time)
   * as the one that set the current status: concurrent and late reports converge on the latest.
   */
  async applyStatus(tx: Tx, personId: string, status: string, sourceAt: Date, now: Date): Promise<boolean> {
    const { count } = await tx.person.updateMany({
      where: { id: personId, OR: [{ statusAt: null }, { statusAt: { lte: sourceAt } }] },
      data: { status, statusAt: sourceAt, updatedAt: now },
    });
    return count > 0;
  }

  async notes(personId: string, client: Db | Tx = this.db): Promise<PersonNoteRecord[]> {
    return (await client.personNote.findMany({ where: { personId }, orderBy: [{ sourceAt: 'asc' }, { createdAt: 'asc' }] })).map((n) => this.openNote(n));
  }

  async notesOfCrisis(crisisId: string): Promise<PersonNoteRecord[]> {
    return (await this.db.personNote.findMany({ where: { crisisId }, orderBy: [{ personId: 'asc' }, { sourceAt: 'asc' }] })).map((n) => this.openNote(n));
  }

  async addAttempt(tx: Tx, a: Omit<ContactAttemptRecord, 'id'>): Promise<ContactAttemptRecord> {
    return tx.contactAttempt.create({ data: { ...a, id: newId() } });
  }

  async attempts(personId: string, client: Db | Tx = this.db): Promise<ContactAttemptRecord[]> {
    return client.contactAttempt.findMany({ where: { personId }, orderBy: { at: 'asc' } });
  }

  /**
   * The call list: live, unaccounted people of the crisis not tried since `since`, never-tried
   * first, then the longest since their last try, then the oldest records.
   */
  async callList(crisisId: string, since: Date, limit: number): Promise<{ person: PersonRecord; lastAttemptAt: Date | null; attempts: number }[]> {
    const rows = await this.sqlRead().all(
      `SELECT p.*, a."last" AS "lastAttemptAt", COALESCE(a."n", 0) AS "attemptCount"
       FROM "Person" p
       LEFT JOIN (SELECT "personId", MAX("at") AS "last", COUNT(*) AS "n" FROM "ContactAttempt" WHERE "crisisId" = ? GROUP BY "personId") a ON a."personId" = p."id"
       WHERE p."crisisId" = ? AND p."status" = 'unaccounted' AND p."mergedIntoId" IS NULL AND (a."last" IS NULL OR a."last" < ?)
       ORDER BY CASE WHEN a."last" IS NULL THEN 0 ELSE 1 END, a."last", p."createdAt"
       LIMIT ?`,
      [crisisId, crisisId, since, limit],
    );
    return rows.map((r) => ({ person: this.open(personOfSql(r)), lastAttemptAt: dateOrNull(r.lastAttemptAt), attempts: Number(r.attemptCount) }));
  }

  /**
   * Keeps an uploaded file (sealed) for its import, in `sql` (the caller's transaction). Plain
   * SQL: Prisma's SQLite adapter took 0.25 s for a 9 MB file.
   */
  async storeImportFile(sql: SqlRunner, runId: string, content: Uint8Array): Promise<void> {
    await sql.run(`INSERT INTO "ImportFile" ("runId", "content") VALUES (?, ?)`, [runId, Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
  }

  /**
   * An import's uploaded file as stored (sealed), read with plain SQL: Prisma's SQLite adapter
   * hands bytes over as an array of numbers, one element a byte (a 7 MB file took 0.6 s and a
   * heap of 7 million elements).
   */
  async importFileContent(runId: string): Promise<Buffer | null> {
    const [row] = await this.sqlRead().values(`SELECT "content" FROM "ImportFile" WHERE "runId" = ?`, [runId]);
    const v = row?.[0];
    if (v === undefined || v === null) return null;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (Array.isArray(v)) return Buffer.from(v as number[]);
    throw new Error(`import ${runId}: the file's content is a ${typeof v}`);
  }

  async people(crisisId: string, opts: { includeMerged?: boolean } = {}): Promise<PersonRecord[]> {
    const rows = await this.sqlRead().all(`SELECT * FROM "Person" WHERE "crisisId" = ?${opts.includeMerged ? '' : ` AND "mergedIntoId" IS NULL`} ORDER BY "number"`, [crisisId]);
    return rows.map((r) => this.open(personOfSql(r)));
  }

  // -------------------------------------------------------------------------------------------
  // Duplicates

  async addCandidate(tx: Tx, c: { crisisId: string; a: string; b: string; score: number; reasons: string[]; at: Date }): Promise<void> {
    // One row per pair, whichever way round it was found.
    const [x, y] = c.a < c.b ? [c.a, c.b] : [c.b, c.a];
    await tx.$executeRaw`INSERT INTO "DuplicateCandidate" ("id", "crisisId", "personAId", "personBId", "score", "reasons", "status", "createdAt")
      VALUES (${newId()}, ${c.crisisId}, ${x}, ${y}, ${c.score}, ${JSON.stringify(c.reasons)}, 'open', ${c.at})
      ON CONFLICT ("personAId", "personBId") DO NOTHING`;
  }

  addCandidateIn(sql: SqlBatch, c: { crisisId: string; a: string; b: string; score: number; reasons: string[]; at: Date }): void {
    const [x, y] = c.a < c.b ? [c.a, c.b] : [c.b, c.a];
    sql.insert(`INSERT INTO "DuplicateCandidate" ("id", "crisisId", "personAId", "personBId", "score", "reasons", "status", "createdAt")`, [newId(), c.crisisId, x, y, c.score, JSON.stringify(c.reasons), 'open', c.at], `ON CONFLICT ("personAId", "personBId") DO NOTHING`);
  }

  async candidates(crisisId: string, status = 'open', limit = 20): Promise<DuplicateRecord[]> {
    const rows = await this.db.duplicateCandidate.findMany({ where: { crisisId, status }, orderBy: [{ score: 'desc' }, { createdAt: 'asc' }], take: limit });
    return rows.map((r) => this.openDuplicate(toDuplicate(r)));
  }

  /** Open pairs whose two records are both still live (a merge hides the others). */
  async candidateCount(crisisId: string): Promise<number> {
    const rows = await this.sqlRead().all<{ n: unknown }>(
      `SELECT COUNT(*) AS "n" FROM "DuplicateCandidate" d JOIN "Person" a ON a."id" = d."personAId" JOIN "Person" b ON b."id" = d."personBId"
       WHERE d."crisisId" = ? AND d."status" = 'open' AND a."mergedIntoId" IS NULL AND b."mergedIntoId" IS NULL`,
      [crisisId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async candidateById(id: string, client: Db | Tx = this.db): Promise<DuplicateRecord | null> {
    const r = await client.duplicateCandidate.findUnique({ where: { id } });
    return r ? this.openDuplicate(toDuplicate(r)) : null;
  }

  async decideCandidate(tx: Tx, c: DuplicateRecord, status: 'same' | 'different' | 'undone', by: string, at: Date, mergeUndo: string | null): Promise<boolean> {
    const from = status === 'undone' ? 'same' : 'open';
    const data = sealColumns(this.cipher, 'DuplicateCandidate', c.id, { status, decidedById: by, decidedAt: at, mergeUndo }, DUPLICATE_SEALED);
    const { count } = await tx.duplicateCandidate.updateMany({ where: { id: c.id, status: from }, data });
    return count === 1;
  }

  /** Records what a merge changed (JSON), sealed: it holds the merged fields' values. */
  async setMergeUndo(tx: Tx, candidateId: string, mergeUndo: string): Promise<void> {
    await tx.duplicateCandidate.update({ where: { id: candidateId }, data: sealColumns(this.cipher, 'DuplicateCandidate', candidateId, { mergeUndo }, DUPLICATE_SEALED) });
  }

  /** Pairs involving the person that were merged ("same"), with what each merge changed. */
  async mergesOf(tx: Tx, personId: string): Promise<{ id: string; mergeUndo: string | null }[]> {
    const rows = await tx.duplicateCandidate.findMany({ where: { status: 'same', OR: [{ personAId: personId }, { personBId: personId }] }, select: { id: true, mergeUndo: true } });
    return rows.map((r) => openColumns(this.cipher, 'DuplicateCandidate', r, DUPLICATE_SEALED));
  }
}
