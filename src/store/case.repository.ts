// Cases, their notes and history, service-level overrides and small settings. Returns plain
// records; enumerations are strings here and are checked by src/domain/case.ts where they matter.
import { z } from 'zod/v4';
import type { Db, Tx } from './client';
import { openColumns, sealColumns, type FieldCipher, type IdentifierKind } from './field-crypto';
import { newId } from './ids';
import { PageRepository } from './page.repository';
import { dateOf, dateOrNull, inList, type SqlRunner, type SqlValue } from './sql';

export interface CaseSubject {
  subjectName: string;
  dateOfBirth: string | null;
  nationality: string | null;
  passportNumber: string | null;
  contactDetails: string | null;
  nokName: string | null;
  nokRelationship: string | null;
  nokPhone: string | null;
  nokEmail: string | null;
  city: string | null;
  country: string | null;
  location: string | null;
}

export interface CaseRecord extends CaseSubject {
  id: string;
  ref: string;
  year: number;
  number: number;
  category: string;
  priority: string;
  status: string;
  version: number;
  subjectInitials: string;
  reporter: string;
  reporterDetail: string | null;
  summary: string;
  consent: string;
  assigneeId: string | null;
  crisisId: string | null;
  outcome: string | null;
  openedAt: Date;
  openedById: string | null;
  acknowledgedAt: Date | null;
  acknowledgedById: string | null;
  resolvedAt: Date | null;
  resolvedById: string | null;
  closedAt: Date | null;
  closedById: string | null;
  ackDueAt: Date | null;
  updateDueAt: Date | null;
  lastUpdateAt: Date;
  card: string | null;
  cardChannel: string | null;
  updatedAt: Date;
}

/** The fields that are personal data: never in channel cards, broadcasts or logs. */
export const PERSONAL_FIELDS = [
  'subjectName',
  'dateOfBirth',
  'nationality',
  'passportNumber',
  'contactDetails',
  'nokName',
  'nokRelationship',
  'nokPhone',
  'nokEmail',
  'location',
  'summary',
  'reporterDetail',
  // what was done usually names the person or their family
  'outcome',
] as const satisfies readonly (keyof CaseRecord)[];

/**
 * Encrypted at rest (field-crypto.ts): sealed on the way in and opened on the way out here, so
 * callers only ever see plain records. The passport's blind index is Case.passportHash.
 */
export const CASE_SEALED = ['dateOfBirth', 'passportNumber', 'contactDetails', 'nokPhone', 'nokEmail', 'summary'] as const satisfies readonly (keyof CaseRecord)[];
export const CASE_NOTE_SEALED = ['text'] as const satisfies readonly (keyof CaseNoteRecord)[];
/** The passport's blind-index column. */
export const CASE_BLIND = [{ kind: 'passport', column: 'passportNumber', hash: 'passportHash' }] as const satisfies readonly { kind: IdentifierKind; column: keyof CaseRecord; hash: string }[];

export type NewCase = Omit<CaseRecord, 'id' | 'ref' | 'year' | 'number' | 'version' | 'card' | 'cardChannel' | 'updatedAt' | 'acknowledgedAt' | 'acknowledgedById' | 'resolvedAt' | 'resolvedById' | 'closedAt' | 'closedById' | 'outcome'>;

export type CasePatch = Partial<Omit<CaseRecord, 'id' | 'ref' | 'year' | 'number' | 'version' | 'openedAt' | 'openedById'>>;

export interface CaseNoteRecord {
  id: string;
  caseId: string;
  authorId: string | null;
  authorName: string;
  text: string;
  createdAt: Date;
}

export interface CaseEventRecord {
  id: number;
  caseId: string;
  at: Date;
  byId: string | null;
  byName: string;
  type: string;
  fromValue: string | null;
  toValue: string | null;
  text: string | null;
}

export interface CaseFilter {
  statuses?: readonly string[];
  assigneeId?: string;
  priority?: string;
  category?: string;
  crisisId?: string;
}

/** What a report needs of each case: no personal data, no text beyond the codes. */
export interface CaseFacts {
  category: string;
  priority: string;
  status: string;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  ackDueAt: number | null;
}

/** A case as an export row: no personal data (the city is on channel cards too). Times as ISO 8601. */
export interface CaseExportRow {
  ref: string;
  category: string;
  priority: string;
  status: string;
  city: string | null;
  country: string | null;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  ackDueAt: string | null;
  /** the same as epoch ms, for the breach column */
  ackAt: number | null;
  dueAt: number | null;
  closedAtMs: number | null;
}

export interface ServiceLevelRow {
  priority: string;
  category: string;
  ack: unknown;
  updateEveryMs: number | null;
}

type CaseRow = CaseRecord & { passportHash?: string | null };

function toCase(r: CaseRow): CaseRecord {
  // The blind index is the store's business: kept out of records (and so of audit snapshots).
  const { passportHash: _hash, ...rest } = r;
  return rest;
}

/** A row read with plain SQL: dates come back as text (SQLite) or Date (PostgreSQL). */
function caseOfSql(r: Record<string, unknown>): CaseRecord {
  const s = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  return {
    id: String(r.id),
    ref: String(r.ref),
    year: Number(r.year),
    number: Number(r.number),
    category: String(r.category),
    priority: String(r.priority),
    status: String(r.status),
    version: Number(r.version),
    subjectName: String(r.subjectName),
    subjectInitials: String(r.subjectInitials),
    dateOfBirth: s('dateOfBirth'),
    nationality: s('nationality'),
    passportNumber: s('passportNumber'),
    contactDetails: s('contactDetails'),
    nokName: s('nokName'),
    nokRelationship: s('nokRelationship'),
    nokPhone: s('nokPhone'),
    nokEmail: s('nokEmail'),
    city: s('city'),
    country: s('country'),
    location: s('location'),
    reporter: String(r.reporter),
    reporterDetail: s('reporterDetail'),
    summary: String(r.summary),
    consent: String(r.consent),
    assigneeId: s('assigneeId'),
    crisisId: s('crisisId'),
    outcome: s('outcome'),
    openedAt: dateOf(r.openedAt),
    openedById: s('openedById'),
    acknowledgedAt: dateOrNull(r.acknowledgedAt),
    acknowledgedById: s('acknowledgedById'),
    resolvedAt: dateOrNull(r.resolvedAt),
    resolvedById: s('resolvedById'),
    closedAt: dateOrNull(r.closedAt),
    closedById: s('closedById'),
    ackDueAt: dateOrNull(r.ackDueAt),
    updateDueAt: dateOrNull(r.updateDueAt),
    lastUpdateAt: dateOf(r.lastUpdateAt),
    card: s('card'),
    cardChannel: s('cardChannel'),
    updatedAt: dateOf(r.updatedAt),
  };
}

function where(f: CaseFilter): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (f.statuses?.length) {
    parts.push(`"status" IN (${inList(f.statuses.length)})`);
    params.push(...f.statuses);
  }
  for (const [col, v] of [
    ['assigneeId', f.assigneeId],
    ['priority', f.priority],
    ['category', f.category],
    ['crisisId', f.crisisId],
  ] as const) {
    if (v === undefined) continue;
    parts.push(`"${col}" = ?`);
    params.push(v);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

const settingValue = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'setting is not JSON' });
    return z.NEVER;
  }
});

export class CaseRepository {
  constructor(
    private readonly db: Db,
    private readonly sqlRead: () => SqlRunner,
    private readonly cipher: FieldCipher,
  ) {}

  /** The sealed form of (some of) a case's columns, with the passport's blind index when the passport is among them. */
  private seal<T extends Partial<CaseRecord>>(id: string, data: T): T & { passportHash?: string | null } {
    const out: T & { passportHash?: string | null } = sealColumns(this.cipher, 'Case', id, data, CASE_SEALED);
    for (const b of CASE_BLIND) if (data[b.column] !== undefined) out[b.hash] = this.cipher.blindIndex(b.kind, data[b.column] ?? null);
    return out;
  }

  private opened(r: CaseRow): CaseRecord {
    return openColumns(this.cipher, 'Case', toCase(r), CASE_SEALED);
  }

  private openNote(n: CaseNoteRecord): CaseNoteRecord {
    return openColumns(this.cipher, 'CaseNote', n, CASE_NOTE_SEALED);
  }

  /** The next gap-free number of a year's sequence, inside the creating transaction. */
  static nextNumber(tx: Tx, year: number): Promise<number> {
    return PageRepository.next(tx, `case:${year}`);
  }

  async create(tx: Tx, c: NewCase & { id?: string; ref: string; year: number; number: number; cardChannel: string | null }, now: Date): Promise<CaseRecord> {
    const id = c.id ?? newId();
    const row = await tx.case.create({
      data: this.seal(id, { ...c, id, version: 1, updatedAt: now }),
    });
    return this.opened(row);
  }

  async byRef(ref: string, client: Db | Tx = this.db): Promise<CaseRecord | null> {
    const row = await client.case.findUnique({ where: { ref } });
    return row ? this.opened(row) : null;
  }

  async byId(id: string, client: Db | Tx = this.db): Promise<CaseRecord | null> {
    const row = await client.case.findUnique({ where: { id } });
    return row ? this.opened(row) : null;
  }

  /**
   * Fenced on the version read: null when someone else changed the case in between (the caller
   * tells the person and shows the current state). Bumps the version.
   */
  async save(tx: Tx, id: string, expectedVersion: number, patch: CasePatch, now: Date): Promise<CaseRecord | null> {
    const { count } = await tx.case.updateMany({ where: { id, version: expectedVersion }, data: { ...this.seal(id, patch), version: expectedVersion + 1, updatedAt: now } });
    if (count !== 1) return null;
    return this.byId(id, tx);
  }

  /** 'priority': P1 first, oldest first within a priority (what waits longest); 'newest': by opening, newest first. `limit` rows, and how many match in all. */
  async list(f: CaseFilter, order: 'priority' | 'newest', limit: number): Promise<{ rows: CaseRecord[]; total: number }> {
    const sql = this.sqlRead();
    const w = where(f);
    const orderBy = order === 'priority' ? `ORDER BY "priority", "openedAt"` : `ORDER BY "openedAt" DESC`;
    const [rows, count] = await Promise.all([
      sql.all(`SELECT * FROM "Case" ${w.sql} ${orderBy} LIMIT ?`, [...w.params, limit]),
      sql.all<{ n: unknown }>(`SELECT COUNT(*) AS "n" FROM "Case" ${w.sql}`, w.params),
    ]);
    return { rows: rows.map((r) => this.opened(caseOfSql(r))), total: Number(count[0]?.n ?? 0) };
  }

  /** Epoch milliseconds of a DateTime column, computed by the database (no date text to parse). */
  private epochMs(sql: SqlRunner, column: string): string {
    // `column` is one of our column names, or a COALESCE of two (never user input).
    const c = column.startsWith('COALESCE') ? column : `"${column}"`;
    return sql.provider === 'sqlite' ? `CAST(ROUND(unixepoch(${c}, 'subsec') * 1000) AS INTEGER)` : `CAST(EXTRACT(EPOCH FROM ${c}) * 1000 AS BIGINT)`;
  }

  /**
   * Report inputs for cases opened in [from, to): codes and times only, as arrays (a year is
   * 100,000 rows). A case closed without being resolved counts as resolved when it was closed.
   */
  async facts(from: Date, to: Date): Promise<CaseFacts[]> {
    const sql = this.sqlRead();
    const ms = (c: string): string => this.epochMs(sql, c);
    const rows = await sql.values(
      `SELECT "category", "priority", "status", ${ms('openedAt')}, ${ms('acknowledgedAt')}, ${ms('COALESCE("resolvedAt", "closedAt")')}, ${ms('closedAt')}, ${ms('ackDueAt')} FROM "Case" WHERE "openedAt" >= ? AND "openedAt" < ?`,
      [from, to],
    );
    const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => ({
      category: r[0] as string,
      priority: r[1] as string,
      status: r[2] as string,
      openedAt: Number(r[3]),
      acknowledgedAt: n(r[4]),
      resolvedAt: n(r[5]),
      closedAt: n(r[6]),
      ackDueAt: n(r[7]),
    }));
  }

  /** Every case opened in [from, to), oldest first, without personal data. */
  async exportRows(from: Date, to: Date): Promise<CaseExportRow[]> {
    const sql = this.sqlRead();
    const rows = await sql.values(
      `SELECT "ref", "category", "priority", "status", "city", "country", "openedAt", "acknowledgedAt", "resolvedAt", "closedAt", "ackDueAt" FROM "Case" WHERE "openedAt" >= ? AND "openedAt" < ? ORDER BY "openedAt"`,
      [from, to],
    );
    const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    // The same text from either database: SQLite keeps "+00:00", PostgreSQL gives a Date.
    const iso = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v.replace(/\+00:00$/, 'Z') : dateOf(v).toISOString());
    const t = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === 'string' ? Date.parse(v) : dateOf(v).getTime());
    return rows.map((r) => ({
      ref: String(r[0]),
      category: String(r[1]),
      priority: String(r[2]),
      status: String(r[3]),
      city: text(r[4]),
      country: text(r[5]),
      openedAt: iso(r[6]) as string,
      acknowledgedAt: iso(r[7]),
      resolvedAt: iso(r[8]),
      closedAt: iso(r[9]),
      ackDueAt: iso(r[10]),
      ackAt: t(r[7]),
      dueAt: t(r[10]),
      closedAtMs: t(r[9]),
    }));
  }

  async addNote(tx: Tx, n: Omit<CaseNoteRecord, 'id'>): Promise<CaseNoteRecord> {
    const id = newId();
    return this.openNote(await tx.caseNote.create({ data: sealColumns(this.cipher, 'CaseNote', id, { ...n, id }, CASE_NOTE_SEALED) }));
  }

  async notes(caseId: string, client: Db | Tx = this.db): Promise<CaseNoteRecord[]> {
    return (await client.caseNote.findMany({ where: { caseId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map((n) => this.openNote(n));
  }

  async addEvent(tx: Tx, e: Omit<CaseEventRecord, 'id'>): Promise<void> {
    await tx.caseEvent.create({ data: e });
  }

  async events(caseId: string, client: Db | Tx = this.db): Promise<CaseEventRecord[]> {
    return client.caseEvent.findMany({ where: { caseId }, orderBy: { id: 'asc' } });
  }

  /** Open cases, for the handoff brief and App Home (most urgent first). */
  async open(limit: number, assigneeId?: string): Promise<CaseRecord[]> {
    return (await this.list({ statuses: ['new', 'acknowledged', 'in-progress', 'waiting'], ...(assigneeId ? { assigneeId } : {}) }, 'priority', limit)).rows;
  }

  // -------------------------------------------------------------------------------------------
  // Service levels

  async serviceLevels(client: Db | Tx = this.db): Promise<ServiceLevelRow[]> {
    const rows = await client.caseServiceLevel.findMany({ orderBy: [{ priority: 'asc' }, { category: 'asc' }] });
    return rows.map((r) => ({ priority: r.priority, category: r.category, ack: r.ack === null ? null : settingValue.parse(r.ack), updateEveryMs: r.updateEveryMs }));
  }

  async setServiceLevel(tx: Tx, row: ServiceLevelRow): Promise<void> {
    const data = { ack: row.ack === null || row.ack === undefined ? null : JSON.stringify(row.ack), updateEveryMs: row.updateEveryMs };
    await tx.caseServiceLevel.upsert({
      where: { priority_category: { priority: row.priority, category: row.category } },
      create: { id: newId(), priority: row.priority, category: row.category, ...data },
      update: data,
    });
  }

  async removeServiceLevel(tx: Tx, priority: string, category: string): Promise<boolean> {
    const { count } = await tx.caseServiceLevel.deleteMany({ where: { priority, category } });
    return count > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  async setting(key: string, client: Db | Tx = this.db): Promise<unknown> {
    const row = await client.setting.findUnique({ where: { key } });
    return row ? settingValue.parse(row.value) : undefined;
  }

  async setSetting(tx: Tx, key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(value);
    await tx.setting.upsert({ where: { key }, create: { key, value: v }, update: { value: v } });
  }
}
