// Paging records: escalation policies, pages with their timeline and notifications, and
// members' contact methods. Returns plain domain objects; JSON columns are parsed with zod.
import { z } from 'zod/v4';
import {
  escalationPolicySchema,
  type ContactKind,
  type ContactMethod,
  type EscalationStep,
  type PageState,
  type PageStatus,
  type Severity,
} from '../domain/escalation';
import type { Prisma, Page as PageRow, ContactMethod as ContactRow, PageNotification as NotificationRow } from '../generated/prisma-sqlite/client';
import type { Db, Tx } from './client';
import { FieldCipher, normaliseIdentifier } from './field-crypto';
import { dateOf, dateOrNull, inList, type SqlBatch, type SqlRunner } from './sql';
import { newId } from './ids';
import type { Writer } from './store';

export type PageSource = 'manual' | 'case' | 'crisis' | 'system';

export interface PolicyRecord {
  id: string;
  name: string;
  steps: EscalationStep[];
  repeat: number;
  builtIn: string | null;
  archivedAt: Date | null;
}

/** The policy as a page keeps it: later edits of the policy do not change a running escalation. */
export interface PolicySnapshot {
  name: string;
  steps: EscalationStep[];
  repeat: number;
}

export interface PageRecord extends PageState {
  number: number;
  title: string;
  details: string | null;
  severity: Severity;
  source: PageSource;
  sourceRef: string | null;
  policyId: string | null;
  policy: PolicySnapshot;
  target: string;
  raisedById: string | null;
  raisedByName: string;
  channel: string | null;
  channelMessage: string | null;
}

export type PageEventType =
  | 'triggered'
  | 'retriggered'
  | 'step'
  | 'sent'
  | 'failed'
  | 'unknown'
  | 'unreachable'
  | 'acknowledged'
  | 'resolved';

export interface PageEventRecord {
  id: number;
  pageId: string;
  at: number;
  type: PageEventType;
  memberId: string | null;
  channel: string | null;
  text: string;
}

export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'unknown' | 'skipped';

export interface NotificationRecord {
  key: string;
  pageId: string;
  version: number;
  step: string;
  memberId: string;
  method: ContactKind;
  contactId: string | null;
  address: string | null;
  status: NotificationStatus;
  dueAt: number;
  doneAt: number | null;
  platform: 'slack' | 'teams' | null;
  conversation: string | null;
  messageId: string | null;
  providerId: string | null;
  error: string | null;
}

export interface ContactRecord extends ContactMethod {
  memberId: string;
  position: number;
  codeHash: string | null;
  codeExpiresAt: number | null;
  codeAttempts: number;
}

const snapshotSchema = z.object({ name: z.string(), steps: escalationPolicySchema.shape.steps, repeat: z.number().int().min(0) });

function parseSteps(json: string, where: string): EscalationStep[] {
  const r = escalationPolicySchema.shape.steps.safeParse(JSON.parse(json));
  if (!r.success) throw new Error(`${where}: stored steps are invalid: ${z.prettifyError(r.error)}`);
  return r.data;
}

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);

function toPage(r: PageRow): PageRecord {
  const snap = snapshotSchema.safeParse(JSON.parse(r.policy));
  if (!snap.success) throw new Error(`page ${r.id}: stored policy is invalid: ${z.prettifyError(snap.error)}`);
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    details: r.details,
    severity: r.severity as Severity,
    source: r.source as PageSource,
    sourceRef: r.sourceRef,
    dedupKey: r.dedupKey,
    status: r.status as PageStatus,
    version: r.version,
    policyId: r.policyId,
    policy: snap.data,
    target: r.target,
    raisedById: r.raisedById,
    raisedByName: r.raisedByName,
    channel: r.channel,
    channelMessage: r.channelMessage,
    triggerCount: r.triggerCount,
    triggeredAt: r.triggeredAt.getTime(),
    lastTriggeredAt: r.lastTriggeredAt.getTime(),
    escalationStartedAt: r.escalationStartedAt.getTime(),
    acknowledgedAt: ms(r.acknowledgedAt),
    acknowledgedBy: r.acknowledgedById,
    resolvedAt: ms(r.resolvedAt),
    resolvedBy: r.resolvedById,
    resolutionNote: r.resolutionNote,
  };
}

/** Where a notification went (a phone or an email address): sealed, keyed by the notification. */
function notificationAddress(cipher: FieldCipher, key: string, stored: string | null): string | null {
  return cipher.openOrNull(stored, { table: 'PageNotification', column: 'address', id: key });
}

/** A contact address as the audit log keeps it: enough to tell two apart, not to reach anyone. */
export function maskAddress(address: string | null): string | null {
  if (address === null) return null;
  const at = address.indexOf('@');
  if (at > 0) return `${address.slice(0, 1)}…@${address.slice(at + 1)}`;
  return address.length > 4 ? `…${address.slice(-3)}` : '…';
}

function toNotification(r: NotificationRow, cipher: FieldCipher): NotificationRecord {
  return {
    key: r.key,
    pageId: r.pageId,
    version: r.version,
    step: r.step,
    memberId: r.memberId,
    method: r.method as ContactKind,
    contactId: r.contactId,
    address: notificationAddress(cipher, r.key, r.address),
    status: r.status as NotificationStatus,
    dueAt: r.dueAt.getTime(),
    doneAt: ms(r.doneAt),
    platform: r.platform as 'slack' | 'teams' | null,
    conversation: r.conversation,
    messageId: r.messageId,
    providerId: r.providerId,
    error: r.error,
  };
}

function toContact(r: ContactRow, cipher: FieldCipher): ContactRecord {
  return {
    id: r.id,
    memberId: r.memberId,
    kind: r.kind as ContactKind,
    address: cipher.openOrNull(r.address, { table: 'ContactMethod', column: 'address', id: r.id }),
    verified: r.verifiedAt !== null,
    delayMs: r.delayMs,
    position: r.position,
    codeHash: r.codeHash,
    codeExpiresAt: ms(r.codeExpiresAt),
    codeAttempts: r.codeAttempts,
  };
}

export function pageSnapshot(p: PageRecord): Record<string, unknown> {
  return { number: p.number, status: p.status, version: p.version, severity: p.severity, title: p.title, target: p.target, triggerCount: p.triggerCount };
}

/** A raw Page row (plain SQL) in the shape Prisma returns. */
function pageRowOf(r: Record<string, unknown>): PageRow {
  const str = (k: string): string => String(r[k]);
  const strOrNull = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  return {
    id: str('id'),
    number: Number(r.number),
    title: str('title'),
    details: strOrNull('details'),
    severity: str('severity'),
    source: str('source'),
    sourceRef: strOrNull('sourceRef'),
    dedupKey: strOrNull('dedupKey'),
    status: str('status'),
    version: Number(r.version),
    policyId: strOrNull('policyId'),
    policy: str('policy'),
    target: str('target'),
    raisedById: strOrNull('raisedById'),
    raisedByName: str('raisedByName'),
    channel: strOrNull('channel'),
    channelMessage: strOrNull('channelMessage'),
    triggerCount: Number(r.triggerCount),
    triggeredAt: dateOf(r.triggeredAt),
    lastTriggeredAt: dateOf(r.lastTriggeredAt),
    escalationStartedAt: dateOf(r.escalationStartedAt),
    acknowledgedAt: dateOrNull(r.acknowledgedAt),
    acknowledgedById: strOrNull('acknowledgedById'),
    resolvedAt: dateOrNull(r.resolvedAt),
    resolvedById: strOrNull('resolvedById'),
    resolutionNote: strOrNull('resolutionNote'),
  };
}

export type NewNotification = Omit<NotificationRecord, 'status' | 'doneAt' | 'platform' | 'conversation' | 'messageId' | 'providerId' | 'error'>;

/**
 * The escalation engine's hot path in plain SQL (see sql.ts): thousands of steps and sends a
 * second, where Prisma's per-call cost would dominate.
 */
export const pagesSql = {
  async pages(sql: SqlRunner, ids: string[]): Promise<Map<string, PageRecord>> {
    if (!ids.length) return new Map();
    const rows = await sql.all(`SELECT * FROM "Page" WHERE "id" IN (${inList(ids.length)})`, ids);
    return new Map(rows.map((r) => [String(r.id), toPage(pageRowOf(r))]));
  },

  async contactsOf(sql: SqlRunner, cipher: FieldCipher, memberIds: string[]): Promise<Map<string, ContactRecord[]>> {
    const out = new Map<string, ContactRecord[]>(memberIds.map((id) => [id, []]));
    if (!memberIds.length) return out;
    const rows = await sql.all(`SELECT * FROM "ContactMethod" WHERE "memberId" IN (${inList(memberIds.length)}) ORDER BY "memberId", "position"`, memberIds);
    for (const r of rows) {
      const row = { ...(r as unknown as ContactRow), position: Number(r.position), delayMs: Number(r.delayMs), codeAttempts: Number(r.codeAttempts), verifiedAt: dateOrNull(r.verifiedAt), codeExpiresAt: dateOrNull(r.codeExpiresAt), createdAt: dateOf(r.createdAt) };
      out.get(row.memberId)?.push(toContact(row, cipher));
    }
    return out;
  },

  addNotifications(sql: SqlBatch, cipher: FieldCipher, rows: readonly NewNotification[]): void {
    for (const n of rows) {
      const address = cipher.sealOrNull(n.address, { table: 'PageNotification', column: 'address', id: n.key });
      sql.insert(
        `INSERT INTO "PageNotification" ("key", "pageId", "version", "step", "memberId", "method", "contactId", "address", "status", "dueAt")`,
        [n.key, n.pageId, n.version, n.step, n.memberId, n.method, n.contactId, address, 'pending', new Date(n.dueAt)],
        `ON CONFLICT ("key") DO NOTHING`,
      );
    }
  },

  finishNotification(
    sql: SqlBatch,
    key: string,
    p: { status: Exclude<NotificationStatus, 'pending'>; at: number; error?: string | null; providerId?: string | null; platform?: 'slack' | 'teams' | null; conversation?: string | null; messageId?: string | null },
  ): void {
    sql.update(
      'PageNotification',
      'key',
      [{ name: 'status' }, { name: 'doneAt', pgType: 'timestamp(3)' }, { name: 'error' }, { name: 'providerId' }, { name: 'platform' }, { name: 'conversation' }, { name: 'messageId' }],
      [key, p.status, new Date(p.at), p.error ?? null, p.providerId ?? null, p.platform ?? null, p.conversation ?? null, p.messageId ?? null],
      (t) => `${t}"status" = 'pending'`,
    );
  },

  addEvent(sql: SqlBatch, e: Omit<PageEventRecord, 'id'>): void {
    sql.insert(`INSERT INTO "PageEvent" ("pageId", "at", "type", "memberId", "channel", "text")`, [e.pageId, new Date(e.at), e.type, e.memberId, e.channel, e.text]);
  },

  /** Notifications with their page and their member's name and zone: what sends need, in one read. */
  async forSend(sql: SqlRunner, cipher: FieldCipher, keys: string[]): Promise<Map<string, { n: NotificationRecord; page: PageRecord | null; name: string | null; timeZone: string | null }>> {
    const out = new Map<string, { n: NotificationRecord; page: PageRecord | null; name: string | null; timeZone: string | null }>();
    if (!keys.length) return out;
    const rows = await sql.all(
      `SELECT n."key" AS "n_key", n."pageId" AS "n_pageId", n."version" AS "n_version", n."step" AS "n_step", n."memberId" AS "n_memberId", n."method" AS "n_method",
              n."contactId" AS "n_contactId", n."address" AS "n_address", n."status" AS "n_status", n."dueAt" AS "n_dueAt", m."displayName" AS "m_name", m."timeZone" AS "m_zone", p.*
       FROM "PageNotification" n LEFT JOIN "Page" p ON p."id" = n."pageId" LEFT JOIN "Member" m ON m."id" = n."memberId"
       WHERE n."key" IN (${inList(keys.length)})`,
      keys,
    );
    const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    for (const r of rows) {
      const n: NotificationRecord = {
        key: String(r.n_key),
        pageId: String(r.n_pageId),
        version: Number(r.n_version),
        step: String(r.n_step),
        memberId: String(r.n_memberId),
        method: String(r.n_method) as ContactKind,
        contactId: text(r.n_contactId),
        address: notificationAddress(cipher, String(r.n_key), text(r.n_address)),
        status: String(r.n_status) as NotificationStatus,
        dueAt: dateOf(r.n_dueAt).getTime(),
        doneAt: null,
        platform: null,
        conversation: null,
        messageId: null,
        providerId: null,
        error: null,
      };
      out.set(n.key, { n, page: r.id === null || r.id === undefined ? null : toPage(pageRowOf(r)), name: text(r.m_name), timeZone: text(r.m_zone) });
    }
    return out;
  },
};

export class PageRepository {
  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher = FieldCipher.plaintext(),
  ) {}

  /** The next value of a gap-free counter, in the caller's transaction (rolled back with it). */
  static async next(tx: Tx, name: string): Promise<number> {
    const rows = await tx.$queryRaw<{ value: number | bigint }[]>`
      INSERT INTO "Counter" ("name", "value") VALUES (${name}, 1)
      ON CONFLICT ("name") DO UPDATE SET "value" = "Counter"."value" + 1
      RETURNING "value"`;
    const v = rows[0]?.value;
    if (v === undefined) throw new Error(`counter ${name}: no value returned`);
    return Number(v);
  }

  // ---------------------------------------------------------------------------------------------
  // Policies

  private toPolicy(r: { id: string; name: string; steps: string; repeat: number; builtIn: string | null; archivedAt: Date | null }): PolicyRecord {
    return { id: r.id, name: r.name, steps: parseSteps(r.steps, `policy ${r.name}`), repeat: r.repeat, builtIn: r.builtIn, archivedAt: r.archivedAt };
  }

  async policies(client: Db | Tx = this.db): Promise<PolicyRecord[]> {
    const rows = await client.escalationPolicy.findMany({ where: { archivedAt: null }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => this.toPolicy(r));
  }

  /** Case-insensitive, active policies only. */
  async policyByName(name: string, client: Db | Tx = this.db): Promise<PolicyRecord | null> {
    const all = await this.policies(client);
    const n = name.trim().toLowerCase();
    return all.find((p) => p.name.toLowerCase() === n) ?? null;
  }

  async policyById(id: string, client: Db | Tx = this.db): Promise<PolicyRecord | null> {
    const r = await client.escalationPolicy.findUnique({ where: { id } });
    return r ? this.toPolicy(r) : null;
  }

  async policyByBuiltIn(builtIn: string, client: Db | Tx = this.db): Promise<PolicyRecord | null> {
    const r = await client.escalationPolicy.findUnique({ where: { builtIn } });
    return r ? this.toPolicy(r) : null;
  }

  async createPolicy(w: Writer, p: { name: string; steps: EscalationStep[]; repeat: number; builtIn?: string }): Promise<PolicyRecord> {
    const r = await w.tx.escalationPolicy.create({ data: { id: newId(), name: p.name, steps: JSON.stringify(p.steps), repeat: p.repeat, builtIn: p.builtIn ?? null } });
    const out = this.toPolicy(r);
    await w.audit('policy', out.id, 'create', null, { name: out.name, steps: out.steps, repeat: out.repeat });
    return out;
  }

  async updatePolicy(w: Writer, before: PolicyRecord, patch: { name?: string; steps?: EscalationStep[]; repeat?: number }): Promise<PolicyRecord> {
    const r = await w.tx.escalationPolicy.update({
      where: { id: before.id },
      data: {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.steps !== undefined ? { steps: JSON.stringify(patch.steps) } : {}),
        ...(patch.repeat !== undefined ? { repeat: patch.repeat } : {}),
      },
    });
    const out = this.toPolicy(r);
    await w.audit('policy', out.id, 'update', { name: before.name, steps: before.steps, repeat: before.repeat }, { name: out.name, steps: out.steps, repeat: out.repeat });
    return out;
  }

  /** Archived, not deleted: pages keep their snapshot, and the name is freed (renamed aside). */
  async archivePolicy(w: Writer, before: PolicyRecord, at: Date): Promise<void> {
    await w.tx.escalationPolicy.update({ where: { id: before.id }, data: { archivedAt: at, name: `${before.name} (removed ${before.id.slice(0, 8)})` } });
    await w.audit('policy', before.id, 'remove', { name: before.name, steps: before.steps, repeat: before.repeat }, null);
  }

  // ---------------------------------------------------------------------------------------------
  // Pages

  async page(id: string, client: Db | Tx = this.db): Promise<PageRecord | null> {
    const r = await client.page.findUnique({ where: { id } });
    return r ? toPage(r) : null;
  }

  async pageByNumber(n: number, client: Db | Tx = this.db): Promise<PageRecord | null> {
    const r = await client.page.findUnique({ where: { number: n } });
    return r ? toPage(r) : null;
  }

  /** The oldest open page with this dedup key. */
  async openByDedupKey(key: string, client: Db | Tx = this.db): Promise<PageRecord | null> {
    const r = await client.page.findFirst({ where: { dedupKey: key, status: { not: 'resolved' } }, orderBy: { triggeredAt: 'asc' } });
    return r ? toPage(r) : null;
  }

  async list(opts: { status?: PageStatus[]; memberId?: string; limit?: number }, client: Db | Tx = this.db): Promise<PageRecord[]> {
    const where: Prisma.PageWhereInput = {
      ...(opts.status ? { status: { in: opts.status } } : {}),
      ...(opts.memberId ? { OR: [{ raisedById: opts.memberId }, { notifications: { some: { memberId: opts.memberId } } }, { acknowledgedById: opts.memberId }] } : {}),
    };
    const rows = await client.page.findMany({ where, orderBy: { number: 'desc' }, take: opts.limit ?? 20 });
    return rows.map(toPage);
  }

  async createPage(tx: Tx, p: PageRecord): Promise<void> {
    await tx.page.create({
      data: {
        id: p.id,
        number: p.number,
        title: p.title,
        details: p.details,
        severity: p.severity,
        source: p.source,
        sourceRef: p.sourceRef,
        dedupKey: p.dedupKey,
        status: p.status,
        version: p.version,
        policyId: p.policyId,
        policy: JSON.stringify(p.policy),
        target: p.target,
        raisedById: p.raisedById,
        raisedByName: p.raisedByName,
        channel: p.channel,
        channelMessage: p.channelMessage,
        triggerCount: p.triggerCount,
        triggeredAt: new Date(p.triggeredAt),
        lastTriggeredAt: new Date(p.lastTriggeredAt),
        escalationStartedAt: new Date(p.escalationStartedAt),
      },
    });
  }

  /**
   * Writes a transition, fenced: only if the stored version is still `before.version` (a
   * concurrent acknowledgement wins once). False when someone else changed the page first.
   */
  async saveTransition(tx: Tx, before: PageRecord, after: PageRecord): Promise<boolean> {
    const { count } = await tx.page.updateMany({
      where: { id: before.id, version: before.version, status: before.status },
      data: {
        status: after.status,
        version: after.version,
        triggerCount: after.triggerCount,
        lastTriggeredAt: new Date(after.lastTriggeredAt),
        acknowledgedAt: after.acknowledgedAt === null ? null : new Date(after.acknowledgedAt),
        acknowledgedById: after.acknowledgedBy,
        resolvedAt: after.resolvedAt === null ? null : new Date(after.resolvedAt),
        resolvedById: after.resolvedBy,
        resolutionNote: after.resolutionNote,
      },
    });
    return count === 1;
  }

  async events(pageId: string, limit = 200, client: Db | Tx = this.db): Promise<PageEventRecord[]> {
    const rows = await client.pageEvent.findMany({ where: { pageId }, orderBy: { id: 'asc' }, take: limit });
    return rows.map((r) => ({ id: r.id, pageId: r.pageId, at: r.at.getTime(), type: r.type as PageEventType, memberId: r.memberId, channel: r.channel, text: r.text }));
  }

  async addEvent(tx: Tx, e: Omit<PageEventRecord, 'id'>): Promise<number> {
    const r = await tx.pageEvent.create({ data: { pageId: e.pageId, at: new Date(e.at), type: e.type, memberId: e.memberId, channel: e.channel, text: e.text }, select: { id: true } });
    return r.id;
  }

  async notifications(pageId: string, client: Db | Tx = this.db): Promise<NotificationRecord[]> {
    const rows = await client.pageNotification.findMany({ where: { pageId }, orderBy: [{ dueAt: 'asc' }, { key: 'asc' }] });
    return rows.map((r) => toNotification(r, this.cipher));
  }

  async notification(key: string, client: Db | Tx = this.db): Promise<NotificationRecord | null> {
    const r = await client.pageNotification.findUnique({ where: { key } });
    return r ? toNotification(r, this.cipher) : null;
  }

  /** Notifications whose send job was cancelled before it started: marked skipped. */
  async skipPending(tx: Tx, keys: string[], at: number, reason: string): Promise<number> {
    if (!keys.length) return 0;
    const { count } = await tx.pageNotification.updateMany({ where: { key: { in: keys }, status: 'pending' }, data: { status: 'skipped', doneAt: new Date(at), error: reason } });
    return count;
  }

  // ---------------------------------------------------------------------------------------------
  // Contact methods

  async contacts(memberId: string, client: Db | Tx = this.db): Promise<ContactRecord[]> {
    const rows = await client.contactMethod.findMany({ where: { memberId }, orderBy: { position: 'asc' } });
    return rows.map((r) => toContact(r, this.cipher));
  }

  async contactById(id: string, client: Db | Tx = this.db): Promise<ContactRecord | null> {
    const r = await client.contactMethod.findUnique({ where: { id } });
    return r ? toContact(r, this.cipher) : null;
  }

  /** Members with a verified SMS method at this number (an inbound SMS names its sender so). */
  async membersWithPhone(phone: string, client: Db | Tx = this.db): Promise<string[]> {
    // By blind index (and by the number itself, for a row written before encryption), then compared in clear.
    const hashes = this.cipher.blindIndexes('phone', phone);
    const rows = await client.contactMethod.findMany({
      where: { kind: 'sms', verifiedAt: { not: null }, OR: [{ address: phone }, ...(hashes.length ? [{ addressHash: { in: hashes } }] : [])] },
    });
    const wanted = normaliseIdentifier('phone', phone);
    return [...new Set(rows.map((r) => toContact(r, this.cipher)).filter((c) => c.address !== null && normaliseIdentifier('phone', c.address) === wanted).map((c) => c.memberId))];
  }

  async addContact(
    w: Writer,
    c: { memberId: string; kind: ContactKind; address: string | null; delayMs: number; verifiedAt: Date | null; codeHash: string | null; codeExpiresAt: Date | null },
  ): Promise<ContactRecord> {
    const last = await w.tx.contactMethod.aggregate({ where: { memberId: c.memberId }, _max: { position: true } });
    const id = newId();
    const address = this.cipher.sealOrNull(c.address, { table: 'ContactMethod', column: 'address', id });
    const addressHash = c.kind === 'sms' ? this.cipher.blindIndex('phone', c.address) : null;
    const r = await w.tx.contactMethod.create({ data: { id, ...c, address, addressHash, position: (last._max.position ?? 0) + 1 } });
    const out = toContact(r, this.cipher);
    await w.audit('contact', out.id, 'create', null, { memberId: out.memberId, kind: out.kind, address: maskAddress(out.address), delayMs: out.delayMs, verified: out.verified });
    return out;
  }

  async updateContact(tx: Tx, id: string, data: { verifiedAt?: Date | null; codeHash?: string | null; codeExpiresAt?: Date | null; codeAttempts?: number; delayMs?: number }): Promise<ContactRecord> {
    return toContact(await tx.contactMethod.update({ where: { id }, data }), this.cipher);
  }

  async removeContact(w: Writer, c: ContactRecord): Promise<void> {
    await w.tx.contactMethod.delete({ where: { id: c.id } });
    await w.audit('contact', c.id, 'remove', { memberId: c.memberId, kind: c.kind, address: maskAddress(c.address) }, null);
  }
}
