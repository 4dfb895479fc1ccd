// Retention and subject access, the store side. Erasure writes the tables directly (not through
// the case and crisis repositories, which decrypt and encrypt fields): it only ever writes nulls
// and the fixed ERASED text, and keeps every column that reports and boards count (status,
// category, priority, needs, times, merges, seats), so the figures stay the same afterwards.
// Subject access reads the rows that hold a person's data and the audit entries about them; the
// personal fields themselves are read through the repositories, which decrypt them.
import { ERASED } from '../domain/retention';
import type { ChainedFields } from './audit-chain';
import type { Db, Tx } from './client';
import type { Provider } from './migrate';
import { inList, numbered } from './sql';

export interface DueCrisis {
  id: string;
  code: string;
  stoodDownAt: Date;
  /** people not erased yet */
  people: number;
}

export interface RetentionOutlook {
  /** stood down at or before the cutoff, with people not erased yet */
  crises: DueCrisis[];
  /** closed at or before the cutoff, not erased yet */
  cases: number;
  /** the earliest end (stand-down, closing) after the cutoff with something still to erase */
  nextCrisis: { code: string; stoodDownAt: Date; people: number } | null;
  nextCaseClosedAt: Date | null;
  erased: { people: number; cases: number };
}

export interface ErasedPeople {
  personIds: string[];
  crises: { id: string; code: string }[];
}

/** Personal columns of Person, as erased. Kept: status and its time, needs, merges, source kind and time, numbers. */
const PERSON_ERASED = {
  fullName: ERASED,
  givenName: null,
  familyName: null,
  alternateNames: '[]',
  nameKey: ERASED,
  sex: null,
  dateOfBirth: null,
  age: null,
  nationality: null,
  passportNumber: null,
  homeStreet: null,
  homeNeighborhood: null,
  homeCity: null,
  homeState: null,
  homePostalCode: null,
  homeCountry: null,
  location: null,
  latitude: null,
  longitude: null,
  phone: null,
  email: null,
  nokName: null,
  nokRelationship: null,
  nokPhone: null,
  nokEmail: null,
  description: null,
  household: null,
  // the record's id in its source links back to the registration
  sourceId: null,
  // the PFIF fields we keep verbatim carry names, phones and emails
  pfif: null,
  passportHash: null,
  phoneHash: null,
  emailHash: null,
} as const;

/** Personal columns of Case, as erased. Kept: category, priority, status, city and country (on cards already), times, assignee. */
const CASE_ERASED = {
  subjectName: ERASED,
  subjectInitials: ERASED,
  dateOfBirth: null,
  nationality: null,
  passportNumber: null,
  passportHash: null,
  contactDetails: null,
  nokName: null,
  nokRelationship: null,
  nokPhone: null,
  nokEmail: null,
  location: null,
  reporterDetail: null,
  summary: ERASED,
  outcome: null,
} as const;

export class RetentionRepository {
  constructor(
    private readonly db: Db,
    private readonly provider: Provider,
  ) {}

  /** PostgreSQL: locks the rows until the transaction ends, so a concurrent reopen waits for the erasure or the erasure sees it. */
  private async lock(tx: Tx, table: 'Crisis' | 'Case', ids: readonly string[]): Promise<void> {
    // SQLite: the write transaction is already exclusive.
    if (this.provider !== 'postgresql' || !ids.length) return;
    await tx.$queryRawUnsafe(numbered(`SELECT "id" FROM "${table}" WHERE "id" IN (${inList(ids.length)}) FOR UPDATE`), ...ids);
  }

  /** What is due at `cutoff` (ends at or before it) and what comes next. */
  async outlook(cutoff: Date): Promise<RetentionOutlook> {
    const crises = await this.db.crisis.findMany({
      where: { status: 'stood-down', stoodDownAt: { lte: cutoff }, people: { some: { erasedAt: null } } },
      select: { id: true, code: true, stoodDownAt: true },
      orderBy: { stoodDownAt: 'asc' },
    });
    const due: DueCrisis[] = [];
    for (const c of crises) {
      due.push({ id: c.id, code: c.code, stoodDownAt: c.stoodDownAt as Date, people: await this.db.person.count({ where: { crisisId: c.id, erasedAt: null } }) });
    }
    const [cases, next, nextCase, erasedPeople, erasedCases] = await Promise.all([
      this.db.case.count({ where: { status: 'closed', closedAt: { lte: cutoff }, erasedAt: null } }),
      this.db.crisis.findFirst({
        where: { status: 'stood-down', stoodDownAt: { gt: cutoff }, people: { some: { erasedAt: null } } },
        select: { id: true, code: true, stoodDownAt: true },
        orderBy: { stoodDownAt: 'asc' },
      }),
      this.db.case.findFirst({ where: { status: 'closed', closedAt: { gt: cutoff }, erasedAt: null }, select: { closedAt: true }, orderBy: { closedAt: 'asc' } }),
      this.db.person.count({ where: { erasedAt: { not: null } } }),
      this.db.case.count({ where: { erasedAt: { not: null } } }),
    ]);
    return {
      crises: due,
      cases,
      nextCrisis: next ? { code: next.code, stoodDownAt: next.stoodDownAt as Date, people: await this.db.person.count({ where: { crisisId: next.id, erasedAt: null } }) } : null,
      nextCaseClosedAt: nextCase?.closedAt ?? null,
      erased: { people: erasedPeople, cases: erasedCases },
    };
  }

  /** Up to `limit` people not erased yet of crises stood down at or before `cutoff`. */
  async duePeople(cutoff: Date, limit: number): Promise<string[]> {
    const rows = await this.db.person.findMany({
      where: { erasedAt: null, crisis: { status: 'stood-down', stoodDownAt: { lte: cutoff } } },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** Up to `limit` cases not erased yet, closed at or before `cutoff`, the oldest first. */
  async dueCases(cutoff: Date, limit: number): Promise<string[]> {
    const rows = await this.db.case.findMany({
      where: { status: 'closed', closedAt: { lte: cutoff }, erasedAt: null },
      select: { id: true },
      orderBy: [{ closedAt: 'asc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /**
   * Erases the personal data of those of `personIds` whose crisis is (still, checked under a lock)
   * stood down at or before `cutoff`; people of a crisis reopened meanwhile are left alone.
   */
  async erasePeople(tx: Tx, personIds: readonly string[], cutoff: Date, now: Date): Promise<ErasedPeople> {
    if (!personIds.length) return { personIds: [], crises: [] };
    const candidates = await tx.person.findMany({ where: { id: { in: [...personIds] }, erasedAt: null }, select: { id: true, crisisId: true } });
    const crisisIds = [...new Set(candidates.map((p) => p.crisisId))].sort();
    await this.lock(tx, 'Crisis', crisisIds);
    const crises = await tx.crisis.findMany({ where: { id: { in: crisisIds }, status: 'stood-down', stoodDownAt: { lte: cutoff } }, select: { id: true, code: true }, orderBy: { code: 'asc' } });
    const allowed = new Set(crises.map((c) => c.id));
    const ids = candidates.filter((p) => allowed.has(p.crisisId)).map((p) => p.id).sort();
    if (!ids.length) return { personIds: [], crises: [] };
    await tx.person.updateMany({ where: { id: { in: ids }, erasedAt: null }, data: { ...PERSON_ERASED, erasedAt: now, version: { increment: 1 } } });
    // Status reports keep their status, times and contact flag; what was said and where goes.
    await tx.personNote.updateMany({ where: { personId: { in: ids } }, data: { text: null, lastKnownLocation: null, pfif: null } });
    // Authors who are not members (PFIF imports: relatives, the public) are personal data too.
    await tx.personNote.updateMany({ where: { personId: { in: ids }, authorId: null, source: { not: 'staff' } }, data: { authorName: ERASED } });
    // Blocking keys are names, birth dates, passports, phones and emails.
    await tx.personKey.deleteMany({ where: { personId: { in: ids } } });
    // A merge's undo record holds both records' fields; the decision and its score stay.
    await tx.duplicateCandidate.updateMany({ where: { OR: [{ personAId: { in: ids } }, { personBId: { in: ids } }] }, data: { mergeUndo: null } });
    // Imported files and their row problems quote what the rows held.
    const runs = await tx.importRun.findMany({ where: { crisisId: { in: [...allowed] } }, select: { id: true } });
    if (runs.length) {
      await tx.importFile.deleteMany({ where: { runId: { in: runs.map((r) => r.id) } } });
      await tx.importRun.updateMany({ where: { id: { in: runs.map((r) => r.id) } }, data: { problems: '[]' } });
    }
    // Every crisis allowed has at least one of the candidates, now erased.
    return { personIds: ids, crises };
  }

  /** Erases the personal data of those of `caseIds` still closed at or before `cutoff` (checked under a lock). */
  async eraseCases(tx: Tx, caseIds: readonly string[], cutoff: Date, now: Date): Promise<string[]> {
    if (!caseIds.length) return [];
    const sorted = [...caseIds].sort();
    await this.lock(tx, 'Case', sorted);
    const rows = await tx.case.findMany({ where: { id: { in: sorted }, status: 'closed', closedAt: { lte: cutoff }, erasedAt: null }, select: { id: true }, orderBy: { id: 'asc' } });
    const ids = rows.map((r) => r.id);
    if (!ids.length) return [];
    // The version moves on: a card button drawn before the erasure is refused, not applied.
    await tx.case.updateMany({ where: { id: { in: ids } }, data: { ...CASE_ERASED, erasedAt: now, version: { increment: 1 } } });
    await tx.caseNote.updateMany({ where: { caseId: { in: ids } }, data: { text: ERASED } });
    // Status reasons and outcomes are free text officers typed about the person.
    await tx.caseEvent.updateMany({ where: { caseId: { in: ids } }, data: { text: null } });
    return ids;
  }

  /** A Setting's value as parsed JSON; undefined when absent or not JSON (callers validate it with zod). */
  async setting(key: string, client: Db | Tx = this.db): Promise<unknown> {
    const row = await client.setting.findUnique({ where: { key } });
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  async setSetting(tx: Tx, key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(value);
    await tx.setting.upsert({ where: { key }, create: { key, value: v }, update: { value: v } });
  }

  /** When a person's or a case's personal data was erased; null when it was not. */
  async erasedAt(kind: 'person' | 'case', id: string): Promise<Date | null> {
    const row = kind === 'person' ? await this.db.person.findUnique({ where: { id }, select: { erasedAt: true } }) : await this.db.case.findUnique({ where: { id }, select: { erasedAt: true } });
    return row?.erasedAt ?? null;
  }
}

// -------------------------------------------------------------------------------------------------
// Subject access

export interface SeatRow {
  personId: string;
  movementNumber: number;
  movementName: string;
  movementKind: string;
  departureAt: Date;
  state: string;
  assignedAt: Date;
  checkedInAt: Date | null;
  boardedAt: Date | null;
}

export interface DuplicateRow {
  id: string;
  personAId: string;
  personBId: string;
  score: number;
  reasons: string;
  status: string;
  decidedById: string | null;
  decidedAt: Date | null;
  createdAt: Date;
}

/** An audit entry as subject access shows it: its chain fields (seq, prevHash) left out. */
export type AuditRow = { id: number } & Omit<ChainedFields, 'seq' | 'prevHash'>;

export class SubjectAccessRepository {
  constructor(private readonly db: Db) {}

  /** When a record's personal data was erased (null: it was not), and its stored passport index. */
  async personExtras(id: string): Promise<{ passportHash: string | null; erasedAt: Date | null } | null> {
    return this.db.person.findUnique({ where: { id }, select: { passportHash: true, erasedAt: true } });
  }

  async caseExtras(id: string): Promise<{ passportHash: string | null; erasedAt: Date | null } | null> {
    return this.db.case.findUnique({ where: { id }, select: { passportHash: true, erasedAt: true } });
  }

  /** Ids of records merged into this one (the same person, by a decision). */
  async mergedInto(personId: string): Promise<string[]> {
    return (await this.db.person.findMany({ where: { mergedIntoId: personId }, select: { id: true }, orderBy: { number: 'asc' } })).map((r) => r.id);
  }

  /**
   * Ids of people and cases holding this passport: by its blind indexes where the records have one
   * (encrypted columns: under every readable key, so rows not yet rotated match too), else by the
   * stored value.
   */
  async byPassport(passport: string, hashes: readonly string[]): Promise<{ personIds: string[]; caseIds: string[] }> {
    const where = { OR: [{ passportNumber: passport }, ...(hashes.length ? [{ passportHash: { in: [...hashes] } }] : [])] };
    // A person's passport in clear is indexed only where it has no blind index (prisma/partial-indexes.sql).
    const personWhere = { OR: [{ passportNumber: passport, passportHash: null }, ...(hashes.length ? [{ passportHash: { in: [...hashes] } }] : [])] };
    const [people, cases] = await Promise.all([
      this.db.person.findMany({ where: personWhere, select: { id: true }, orderBy: { number: 'asc' } }),
      this.db.case.findMany({ where, select: { id: true }, orderBy: [{ year: 'asc' }, { number: 'asc' }] }),
    ]);
    return { personIds: people.map((r) => r.id), caseIds: cases.map((r) => r.id) };
  }

  async seats(personIds: readonly string[]): Promise<SeatRow[]> {
    if (!personIds.length) return [];
    const rows = await this.db.movementSeat.findMany({ where: { personId: { in: [...personIds] } }, include: { movement: true }, orderBy: { assignedAt: 'asc' } });
    return rows.map((s) => ({
      personId: s.personId,
      movementNumber: s.movement.number,
      movementName: s.movement.name,
      movementKind: s.movement.kind,
      departureAt: s.movement.departureAt,
      state: s.state,
      assignedAt: s.assignedAt,
      checkedInAt: s.checkedInAt,
      boardedAt: s.boardedAt,
    }));
  }

  async duplicates(personIds: readonly string[]): Promise<DuplicateRow[]> {
    if (!personIds.length) return [];
    const ids = [...personIds];
    return this.db.duplicateCandidate.findMany({
      where: { OR: [{ personAId: { in: ids } }, { personBId: { in: ids } }] },
      select: { id: true, personAId: true, personBId: true, score: true, reasons: true, status: true, decidedById: true, decidedAt: true, createdAt: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Numbers of people by id (the other side of a duplicate pair). */
  async personNumbers(ids: readonly string[]): Promise<Map<string, number>> {
    if (!ids.length) return new Map();
    const rows = await this.db.person.findMany({ where: { id: { in: [...ids] } }, select: { id: true, number: true } });
    return new Map(rows.map((r) => [r.id, r.number]));
  }

  /** Audit entries about these entities (exact ids), and about the seats of these people, oldest first. */
  async auditAbout(entities: readonly { entity: string; entityId: string }[], seatsOf: readonly string[]): Promise<AuditRow[]> {
    if (!entities.length && !seatsOf.length) return [];
    return this.db.auditEntry.findMany({
      where: {
        OR: [
          ...entities.map((e) => ({ entity: e.entity, entityId: e.entityId })),
          // movement-seat entries are keyed "<movement id>:<person id>"
          ...seatsOf.map((id) => ({ entity: 'movement-seat', entityId: { endsWith: `:${id}` } })),
        ],
      },
      select: { id: true, at: true, actorId: true, actorName: true, platform: true, requestId: true, entity: true, entityId: true, action: true, before: true, after: true },
      orderBy: { id: 'asc' },
    });
  }
}
