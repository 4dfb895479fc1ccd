// SITREPs and the leaders subscribed to them. Plain records out; the rules live in
// src/domain/sitrep.ts and the use cases in src/handlers/sitrep.
import { z } from 'zod/v4';
import type { Db, Tx } from './client';

export type SitrepStatus = 'draft' | 'published' | 'discarded';

export interface SitrepRecord {
  id: string;
  crisisId: string;
  /** given when published */
  number: number | null;
  status: SitrepStatus;
  dueAt: Date | null;
  asOf: Date;
  counts: Record<string, number>;
  incidents: string[];
  actions: string[];
  needs: string[];
  namedCases: string[];
  nextAt: Date | null;
  automatic: boolean;
  editedAt: Date | null;
  version: number;
  reminders: number;
  createdAt: Date;
  createdById: string | null;
  publishedAt: Date | null;
  publishedById: string | null;
}

const countsSchema = z.record(z.string(), z.number().int().nonnegative());
const listSchema = z.array(z.string());

function parsed<T>(schema: z.ZodType<T>, json: string, fallback: T): T {
  try {
    const r = schema.safeParse(JSON.parse(json));
    return r.success ? r.data : fallback;
  } catch {
    return fallback;
  }
}

interface SitrepRow {
  id: string;
  crisisId: string;
  number: number | null;
  status: string;
  dueAt: Date | null;
  asOf: Date;
  counts: string;
  incidents: string;
  actions: string;
  needs: string;
  namedCases: string;
  nextAt: Date | null;
  automatic: boolean;
  editedAt: Date | null;
  version: number;
  reminders: number;
  createdAt: Date;
  createdById: string | null;
  publishedAt: Date | null;
  publishedById: string | null;
}

function toRecord(r: SitrepRow): SitrepRecord {
  return {
    ...r,
    status: r.status === 'published' || r.status === 'discarded' ? r.status : 'draft',
    counts: parsed(countsSchema, r.counts, {}),
    incidents: parsed(listSchema, r.incidents, []),
    actions: parsed(listSchema, r.actions, []),
    needs: parsed(listSchema, r.needs, []),
    namedCases: parsed(listSchema, r.namedCases, []),
  };
}

export type SitrepContent = Pick<SitrepRecord, 'asOf' | 'counts' | 'incidents' | 'actions' | 'needs' | 'namedCases' | 'nextAt' | 'dueAt'>;

function contentData(c: Partial<SitrepContent>) {
  return {
    ...(c.asOf !== undefined ? { asOf: c.asOf } : {}),
    ...(c.counts !== undefined ? { counts: JSON.stringify(c.counts) } : {}),
    ...(c.incidents !== undefined ? { incidents: JSON.stringify(c.incidents) } : {}),
    ...(c.actions !== undefined ? { actions: JSON.stringify(c.actions) } : {}),
    ...(c.needs !== undefined ? { needs: JSON.stringify(c.needs) } : {}),
    ...(c.namedCases !== undefined ? { namedCases: JSON.stringify(c.namedCases) } : {}),
    ...(c.nextAt !== undefined ? { nextAt: c.nextAt } : {}),
    ...(c.dueAt !== undefined ? { dueAt: c.dueAt } : {}),
  };
}

/** "*": every crisis. */
export const ALL_CRISES = '*';

export class SitrepRepository {
  constructor(private readonly db: Db) {}

  async byId(id: string, client: Db | Tx = this.db): Promise<SitrepRecord | null> {
    const r = await client.sitrep.findUnique({ where: { id } });
    return r ? toRecord(r) : null;
  }

  /** The open draft of a crisis, if any. */
  async draftOf(crisisId: string, client: Db | Tx = this.db): Promise<SitrepRecord | null> {
    const r = await client.sitrep.findFirst({ where: { crisisId, status: 'draft' }, orderBy: { createdAt: 'desc' } });
    return r ? toRecord(r) : null;
  }

  async byNumber(crisisId: string, number: number, client: Db | Tx = this.db): Promise<SitrepRecord | null> {
    const r = await client.sitrep.findUnique({ where: { crisisId_number: { crisisId, number } } });
    return r ? toRecord(r) : null;
  }

  /** Published SITREPs, newest first. */
  async published(crisisId: string, limit: number, client: Db | Tx = this.db): Promise<SitrepRecord[]> {
    const rows = await client.sitrep.findMany({ where: { crisisId, status: 'published' }, orderBy: { number: 'desc' }, take: limit });
    return rows.map(toRecord);
  }

  /** Published SITREPs numbered up to `number`, newest first: the history a SITREP's chart shows. */
  async publishedUpTo(crisisId: string, number: number, limit: number, client: Db | Tx = this.db): Promise<SitrepRecord[]> {
    const rows = await client.sitrep.findMany({ where: { crisisId, status: 'published', number: { lte: number } }, orderBy: { number: 'desc' }, take: limit });
    return rows.map(toRecord);
  }

  async publishedCount(crisisId: string, client: Db | Tx = this.db): Promise<number> {
    return client.sitrep.count({ where: { crisisId, status: 'published' } });
  }

  /** The newest published SITREP, the one a new one is compared with. */
  async latest(crisisId: string, client: Db | Tx = this.db): Promise<SitrepRecord | null> {
    return (await this.published(crisisId, 1, client))[0] ?? null;
  }

  /**
   * A new draft. Its id is derived from how many SITREPs the crisis has had, so two drafts
   * started at once collide on the key instead of both existing: the loser's transaction fails
   * with a unique violation (see isUniqueViolation) and it reads the winner's. Nothing is caught
   * in here: on PostgreSQL a failed statement spoils the whole transaction.
   */
  async createDraft(tx: Tx, crisisId: string, content: SitrepContent, by: string | null, now: Date): Promise<SitrepRecord | null> {
    // One open draft per crisis. Writing the crisis row first queues drafts of the same crisis
    // behind each other (a row lock on PostgreSQL; SQLite has one writer), so the check below
    // sees any draft committed meanwhile.
    await tx.$executeRaw`UPDATE "Crisis" SET "id" = "id" WHERE "id" = ${crisisId}`;
    if (await tx.sitrep.findFirst({ where: { crisisId, status: 'draft' }, select: { id: true } })) return null;
    const n = await tx.sitrep.count({ where: { crisisId } });
    const id = `${crisisId}:${n + 1}`;
    if (await tx.sitrep.findUnique({ where: { id }, select: { id: true } })) return null;
    const r = await tx.sitrep.create({ data: { id, crisisId, status: 'draft', createdAt: now, createdById: by, counts: '{}', incidents: '[]', actions: '[]', needs: '[]', ...contentData(content), asOf: content.asOf } });
    return toRecord(r);
  }

  /** The lead's edit, fenced on the version read and on still being a draft; null when someone got there first. */
  async editDraft(tx: Tx, before: Pick<SitrepRecord, 'id' | 'version'>, patch: Partial<SitrepContent>, now: Date): Promise<SitrepRecord | null> {
    const { count } = await tx.sitrep.updateMany({
      where: { id: before.id, version: before.version, status: 'draft' },
      data: { ...contentData(patch), editedAt: now, version: before.version + 1 },
    });
    return count === 1 ? this.byId(before.id, tx) : null;
  }

  /**
   * Fresh figures (and, for an unedited draft, fresh proposals) without bumping the version: a
   * preview the lead holds stays publishable, and publishing takes the figures again anyway.
   * Never overwrites an edit: fenced on editedAt as read.
   */
  async refreshDraft(tx: Tx, before: Pick<SitrepRecord, 'id' | 'editedAt'>, content: Partial<SitrepContent>): Promise<boolean> {
    const { count } = await tx.sitrep.updateMany({ where: { id: before.id, status: 'draft', editedAt: before.editedAt }, data: contentData(content) });
    return count === 1;
  }

  /** Reminders are bookkeeping: counted without bumping the version (an edit in progress stays valid). */
  async setReminders(tx: Tx, id: string, reminders: number): Promise<void> {
    await tx.sitrep.updateMany({ where: { id, status: 'draft' }, data: { reminders } });
  }

  /**
   * Publishes a draft as `number`, fenced on its version and status: exactly one of two
   * publishes of the same draft (a double click, a retried request) gets a record back.
   */
  async publish(
    tx: Tx,
    before: Pick<SitrepRecord, 'id' | 'version'>,
    p: Partial<SitrepContent> & { number: number; publishedAt: Date; publishedById: string | null; automatic: boolean },
  ): Promise<SitrepRecord | null> {
    const { count } = await tx.sitrep.updateMany({
      where: { id: before.id, version: before.version, status: 'draft' },
      data: { ...contentData(p), status: 'published', number: p.number, publishedAt: p.publishedAt, publishedById: p.publishedById, automatic: p.automatic, version: before.version + 1 },
    });
    return count === 1 ? this.byId(before.id, tx) : null;
  }

  async discard(tx: Tx, before: Pick<SitrepRecord, 'id' | 'version'>): Promise<boolean> {
    const { count } = await tx.sitrep.updateMany({ where: { id: before.id, version: before.version, status: 'draft' }, data: { status: 'discarded', version: before.version + 1 } });
    return count === 1;
  }

  async nextNumber(tx: Tx, crisisId: string): Promise<number> {
    const r = await tx.sitrep.aggregate({ where: { crisisId }, _max: { number: true } });
    return (r._max.number ?? 0) + 1;
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions

  async subscribe(tx: Tx, memberId: string, scope: string, now: Date): Promise<boolean> {
    if (await tx.sitrepSubscription.findUnique({ where: { memberId_scope: { memberId, scope } } })) return false;
    await tx.sitrepSubscription.create({ data: { memberId, scope, createdAt: now } });
    return true;
  }

  async unsubscribe(tx: Tx, memberId: string, scope: string | null): Promise<number> {
    const r = await tx.sitrepSubscription.deleteMany({ where: { memberId, ...(scope !== null ? { scope } : {}) } });
    return r.count;
  }

  async subscriptionsOf(memberId: string, client: Db | Tx = this.db): Promise<string[]> {
    return (await client.sitrepSubscription.findMany({ where: { memberId }, orderBy: { scope: 'asc' } })).map((r) => r.scope);
  }

  /** Members subscribed to a crisis's SITREPs (to it, or to all). */
  async subscribers(crisisId: string, client: Db | Tx = this.db): Promise<string[]> {
    const rows = await client.sitrepSubscription.findMany({ where: { scope: { in: [crisisId, ALL_CRISES] } }, select: { memberId: true } });
    return [...new Set(rows.map((r) => r.memberId))].sort();
  }
}

