// Rosters and everything that hangs off them, as plain domain objects.
import { z } from 'zod/v4';
import { coverageJson, currentDefinition, planOfDefinitions, type Roster, type RosterDefinition } from '../domain/roster';
import { nextEpochStart, type Backup, type Layer, type Override, type ShiftUnit } from '../domain/rotation';
import { dateKey, parseDateKey } from '../domain/zoned';
import type { Db, Tx } from './client';
import { newId } from './ids';
import type { Writer } from './store';

const include = { members: { orderBy: { position: 'asc' as const } } };

type RosterRow = {
  id: string;
  name: string;
  timeZone: string;
  shiftUnit: string;
  shiftLength: number;
  handoffMinute: number;
  startDate: string;
  backupMode: string;
  backupOffset: number;
  coverage: string;
  channel: string | null;
  reminderHours: number;
  version: number;
  history: string;
  effectiveFrom: Date | null;
  memberOffset: number;
  archivedAt: Date | null;
  members: { layer: string; position: number; memberId: string }[];
};

const backupJson = z.union([
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('offset'), offset: z.number().int() }),
  z.object({ mode: z.literal('order'), members: z.array(z.string()) }),
]);

/** Earlier definitions as stored: -Infinity (the first one's start) is kept as null. */
const historyJson = z.array(
  z.object({
    from: z.number().nullable(),
    timeZone: z.string(),
    unit: z.enum(['hours', 'days', 'weeks']),
    length: z.number().int().positive(),
    handoff: z.number().int(),
    start: z.object({ y: z.number().int(), m: z.number().int(), d: z.number().int() }),
    members: z.array(z.string()),
    backup: backupJson,
    offset: z.number().int(),
  }),
);

function historyToJson(h: RosterDefinition[]): string {
  return JSON.stringify(h.map((d) => ({ ...d, from: Number.isFinite(d.from) ? d.from : null })));
}

const unitSchema = z.enum(['hours', 'days', 'weeks']);

function toRoster(r: RosterRow): Roster {
  const primary = r.members.filter((m) => m.layer === 'primary').map((m) => m.memberId);
  const backupOrder = r.members.filter((m) => m.layer === 'backup').map((m) => m.memberId);
  const backup: Backup =
    r.backupMode === 'order' ? { mode: 'order', members: backupOrder } : r.backupMode === 'offset' ? { mode: 'offset', offset: r.backupOffset } : { mode: 'none' };
  const start = parseDateKey(r.startDate);
  if (!start) throw new Error(`roster ${r.id} has a bad start date`);
  return {
    id: r.id,
    name: r.name,
    timeZone: r.timeZone,
    unit: unitSchema.parse(r.shiftUnit) as ShiftUnit,
    length: r.shiftLength,
    handoff: r.handoffMinute,
    start,
    backup,
    coverage: coverageJson.parse(JSON.parse(r.coverage)),
    channel: r.channel,
    reminderHours: r.reminderHours,
    version: r.version,
    members: primary,
    offset: r.memberOffset,
    effectiveFrom: r.effectiveFrom?.getTime() ?? null,
    history: historyJson.parse(JSON.parse(r.history)).map((d) => ({ ...d, from: d.from ?? -Infinity })),
    archivedAt: r.archivedAt,
  };
}

export function rosterSnapshot(r: Roster): Record<string, unknown> {
  return {
    name: r.name,
    timeZone: r.timeZone,
    shift: `${r.length} ${r.unit}`,
    handoff: r.handoff,
    start: dateKey(r.start),
    backup: r.backup,
    coverage: r.coverage,
    channel: r.channel,
    reminderHours: r.reminderHours,
    members: r.members,
    version: r.version,
    effectiveFrom: r.effectiveFrom === null ? null : new Date(r.effectiveFrom).toISOString(),
  };
}

export type RosterFields = Omit<Roster, 'id' | 'version' | 'archivedAt' | 'offset' | 'effectiveFrom' | 'history'>;

const ROTATION_FIELDS = ['timeZone', 'unit', 'length', 'handoff', 'start', 'backup', 'members'] as const;

function columns(f: Partial<RosterFields>) {
  return {
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.timeZone !== undefined ? { timeZone: f.timeZone } : {}),
    ...(f.unit !== undefined ? { shiftUnit: f.unit } : {}),
    ...(f.length !== undefined ? { shiftLength: f.length } : {}),
    ...(f.handoff !== undefined ? { handoffMinute: f.handoff } : {}),
    ...(f.start !== undefined ? { startDate: dateKey(f.start) } : {}),
    ...(f.backup !== undefined ? { backupMode: f.backup.mode, backupOffset: f.backup.mode === 'offset' ? f.backup.offset : 1 } : {}),
    ...(f.coverage !== undefined ? { coverage: JSON.stringify(f.coverage) } : {}),
    ...(f.channel !== undefined ? { channel: f.channel } : {}),
    ...(f.reminderHours !== undefined ? { reminderHours: f.reminderHours } : {}),
  };
}

export interface OverrideRecord extends Override {
  rosterId: string;
  note: string | null;
  createdBy: string | null;
}

export interface LeaveRecord {
  id: string;
  memberId: string;
  from: number;
  to: number;
  note: string | null;
}

export interface Span {
  from: number;
  to: number;
}

export interface SwapRecord {
  id: string;
  rosterId: string;
  requesterId: string;
  targetId: string;
  /** the requester's shifts the target takes (at least one) */
  give: Span[];
  /** the target's shifts the requester takes in return (possibly none) */
  take: Span[];
  status: 'pending' | 'accepted' | 'declined' | 'expired' | 'cancelled';
}

const spansJson = z.object({
  give: z.array(z.object({ from: z.number(), to: z.number() })).min(1),
  take: z.array(z.object({ from: z.number(), to: z.number() })),
});

function toOverride(o: {
  id: string;
  seq: number;
  rosterId: string;
  layer: string;
  memberId: string;
  replacesId: string | null;
  from: Date;
  to: Date;
  kind: string;
  note: string | null;
  createdBy: string | null;
}): OverrideRecord {
  return {
    id: o.id,
    seq: o.seq,
    rosterId: o.rosterId,
    layer: o.layer === 'backup' ? 'backup' : 'primary',
    memberId: o.memberId,
    replaces: o.replacesId,
    from: o.from.getTime(),
    to: o.to.getTime(),
    kind: o.kind === 'swap' ? 'swap' : 'cover',
    note: o.note,
    createdBy: o.createdBy,
  };
}

const swapStatus = z.enum(['pending', 'accepted', 'declined', 'expired', 'cancelled']);

function toSwap(s: {
  id: string;
  rosterId: string;
  requesterId: string;
  targetId: string;
  giveFrom: Date;
  giveTo: Date;
  takeFrom: Date | null;
  takeTo: Date | null;
  status: string;
  spans: string;
}): SwapRecord {
  const spans = s.spans
    ? spansJson.parse(JSON.parse(s.spans))
    : { give: [{ from: s.giveFrom.getTime(), to: s.giveTo.getTime() }], take: s.takeFrom && s.takeTo ? [{ from: s.takeFrom.getTime(), to: s.takeTo.getTime() }] : [] };
  return { id: s.id, rosterId: s.rosterId, requesterId: s.requesterId, targetId: s.targetId, ...spans, status: swapStatus.parse(s.status) };
}

export class RosterRepository {
  constructor(private readonly db: Db) {}

  async byName(name: string, client: Db | Tx = this.db): Promise<Roster | null> {
    // Names are matched without regard to case: people type "consular duty" for "Consular Duty".
    const rows = await client.roster.findMany({ where: { archivedAt: null }, include });
    const r = rows.find((x) => x.name.toLowerCase() === name.trim().toLowerCase());
    return r ? toRoster(r) : null;
  }

  async byId(id: string, client: Db | Tx = this.db): Promise<Roster | null> {
    const r = await client.roster.findUnique({ where: { id }, include });
    return r ? toRoster(r) : null;
  }

  async list(client: Db | Tx = this.db): Promise<Roster[]> {
    const rows = await client.roster.findMany({ where: { archivedAt: null }, include, orderBy: { name: 'asc' } });
    return rows.map(toRoster);
  }

  async create(w: Writer, f: RosterFields & { backupMembers?: string[] }): Promise<Roster> {
    const id = newId();
    await w.tx.roster.create({
      data: {
        id,
        ...columns(f),
        name: f.name,
        timeZone: f.timeZone,
        shiftUnit: f.unit,
        shiftLength: f.length,
        handoffMinute: f.handoff,
        startDate: dateKey(f.start),
        members: {
          create: [
            ...f.members.map((memberId, position) => ({ layer: 'primary', position, memberId })),
            ...(f.backup.mode === 'order' ? f.backup.members : []).map((memberId, position) => ({ layer: 'backup', position, memberId })),
          ],
        },
      },
    });
    const created = (await this.byId(id, w.tx)) as Roster;
    await w.audit('roster', id, 'create', null, rosterSnapshot(created));
    return created;
  }

  /**
   * Changes fields and/or the member order; bumps the version so scheduled handoffs re-plan.
   * A change to the rotation itself takes effect at the end of the shift in progress at `now`
   * (the previous definition is kept as history), so it never moves the shift in progress nor
   * rewrites past ones; a change made before a pending one started replaces it.
   */
  async update(w: Writer, before: Roster, patch: Partial<RosterFields>, now: number): Promise<Roster> {
    let rotation = {};
    if (ROTATION_FIELDS.some((k) => patch[k] !== undefined)) {
      const pending = before.effectiveFrom !== null && before.effectiveFrom > now;
      const history = pending ? before.history : [...before.history, currentDefinition(before)];
      const basis = planOfDefinitions(history, before.coverage, []);
      const { from, offset } = nextEpochStart(basis, now, patch.members ?? before.members);
      rotation = { history: historyToJson(history), effectiveFrom: new Date(from), memberOffset: offset };
    }
    await w.tx.roster.update({ where: { id: before.id }, data: { ...columns(patch), ...rotation, version: { increment: 1 } } });
    const layers: [string, string[] | undefined][] = [
      ['primary', patch.members],
      ['backup', patch.backup?.mode === 'order' ? patch.backup.members : patch.backup ? [] : undefined],
    ];
    for (const [layer, ids] of layers) {
      if (!ids) continue;
      await w.tx.rosterMember.deleteMany({ where: { rosterId: before.id, layer } });
      if (ids.length) await w.tx.rosterMember.createMany({ data: ids.map((memberId, position) => ({ rosterId: before.id, layer, position, memberId })) });
    }
    const after = (await this.byId(before.id, w.tx)) as Roster;
    await w.audit('roster', before.id, 'update', rosterSnapshot(before), rosterSnapshot(after));
    return after;
  }

  /**
   * Rosters that name the member in their rotation (any definition still in force or to come),
   * and, with `covering` set, those where they take someone's duty between the two instants.
   */
  async rostersOf(memberId: string, covering?: { from: number; to: number }): Promise<Roster[]> {
    const coverIds = covering
      ? new Set(
          (
            await this.db.rosterOverride.findMany({
              where: { memberId, removedAt: null, to: { gt: new Date(covering.from) }, from: { lt: new Date(covering.to) } },
              select: { rosterId: true },
            })
          ).map((o) => o.rosterId),
        )
      : new Set<string>();
    const named = (r: Roster): boolean =>
      [currentDefinition(r), ...r.history.slice(-1)].some((d) => d.members.includes(memberId) || (d.backup.mode === 'order' && d.backup.members.includes(memberId)));
    return (await this.list()).filter((r) => named(r) || coverIds.has(r.id));
  }

  // Overrides ------------------------------------------------------------------------------

  async overrides(rosterId: string, from: number, to: number, client: Db | Tx = this.db): Promise<OverrideRecord[]> {
    const rows = await client.rosterOverride.findMany({
      where: { rosterId, removedAt: null, to: { gt: new Date(from) }, from: { lt: new Date(to) } },
      orderBy: { seq: 'asc' },
    });
    return rows.map(toOverride);
  }

  async overrideById(id: string, client: Db | Tx = this.db): Promise<OverrideRecord | null> {
    const o = await client.rosterOverride.findUnique({ where: { id } });
    return o && !o.removedAt ? toOverride(o) : null;
  }

  async addOverride(
    w: Writer,
    o: { rosterId: string; layer: Layer; memberId: string; replaces: string | null; from: number; to: number; kind: 'cover' | 'swap'; swapId?: string; note?: string; createdBy: string | null },
  ): Promise<OverrideRecord> {
    const last = await w.tx.rosterOverride.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } });
    const row = await w.tx.rosterOverride.create({
      data: {
        id: newId(),
        seq: (last?.seq ?? 0) + 1,
        rosterId: o.rosterId,
        layer: o.layer,
        memberId: o.memberId,
        replacesId: o.replaces,
        from: new Date(o.from),
        to: new Date(o.to),
        kind: o.kind,
        swapId: o.swapId ?? null,
        note: o.note ?? null,
        createdBy: o.createdBy,
      },
    });
    const rec = toOverride(row);
    await w.audit('roster.override', rec.id, 'create', null, { ...rec, from: new Date(rec.from).toISOString(), to: new Date(rec.to).toISOString() });
    return rec;
  }

  async removeOverride(w: Writer, o: OverrideRecord, at: Date): Promise<void> {
    await w.tx.rosterOverride.update({ where: { id: o.id }, data: { removedAt: at } });
    await w.audit('roster.override', o.id, 'remove', { memberId: o.memberId, replaces: o.replaces, from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString() }, null);
  }

  // Holidays -------------------------------------------------------------------------------

  async holidays(rosterId: string, client: Db | Tx = this.db): Promise<{ date: string; name: string }[]> {
    return client.holiday.findMany({ where: { rosterId }, orderBy: { date: 'asc' }, select: { date: true, name: true } });
  }

  async addHolidays(w: Writer, rosterId: string, days: { date: string; name: string }[]): Promise<number> {
    let added = 0;
    for (const d of days) {
      const existing = await w.tx.holiday.findUnique({ where: { rosterId_date: { rosterId, date: d.date } } });
      if (existing) {
        if (existing.name !== d.name) await w.tx.holiday.update({ where: { rosterId_date: { rosterId, date: d.date } }, data: { name: d.name } });
        continue;
      }
      await w.tx.holiday.create({ data: { rosterId, date: d.date, name: d.name } });
      added++;
    }
    await w.audit('roster', rosterId, 'holidays.add', null, { days });
    return added;
  }

  async removeHoliday(w: Writer, rosterId: string, date: string): Promise<boolean> {
    const r = await w.tx.holiday.deleteMany({ where: { rosterId, date } });
    if (r.count) await w.audit('roster', rosterId, 'holidays.remove', { date }, null);
    return r.count > 0;
  }

  // Leave ----------------------------------------------------------------------------------

  async leaves(memberIds: string[] | null, from: number, to: number): Promise<LeaveRecord[]> {
    const rows = await this.db.leave.findMany({
      where: { removedAt: null, to: { gt: new Date(from) }, from: { lt: new Date(to) }, ...(memberIds ? { memberId: { in: memberIds } } : {}) },
      orderBy: { from: 'asc' },
    });
    return rows.map((l) => ({ id: l.id, memberId: l.memberId, from: l.from.getTime(), to: l.to.getTime(), note: l.note }));
  }

  async addLeave(w: Writer, l: { memberId: string; from: number; to: number; note: string | null }): Promise<LeaveRecord> {
    const id = newId();
    await w.tx.leave.create({ data: { id, memberId: l.memberId, from: new Date(l.from), to: new Date(l.to), note: l.note } });
    await w.audit('leave', id, 'create', null, { memberId: l.memberId, from: new Date(l.from).toISOString(), to: new Date(l.to).toISOString(), note: l.note });
    return { id, ...l };
  }

  // Swaps ----------------------------------------------------------------------------------

  async swap(id: string, client: Db | Tx = this.db): Promise<SwapRecord | null> {
    const s = await client.swapRequest.findUnique({ where: { id } });
    return s ? toSwap(s) : null;
  }

  async addSwap(w: Writer, s: Omit<SwapRecord, 'id' | 'status'>): Promise<SwapRecord> {
    const row = await w.tx.swapRequest.create({
      data: {
        id: newId(),
        rosterId: s.rosterId,
        requesterId: s.requesterId,
        targetId: s.targetId,
        giveFrom: new Date((s.give[0] as Span).from),
        giveTo: new Date((s.give[0] as Span).to),
        takeFrom: s.take[0] ? new Date(s.take[0].from) : null,
        takeTo: s.take[0] ? new Date(s.take[0].to) : null,
        spans: JSON.stringify({ give: s.give, take: s.take }),
      },
    });
    const rec = toSwap(row);
    await w.audit('roster.swap', rec.id, 'request', null, rec);
    return rec;
  }

  /** Pending requests by the requester that offer any of these shifts. */
  async pendingSwapsFor(rosterId: string, requesterId: string, give: Span[], client: Db | Tx = this.db): Promise<SwapRecord[]> {
    const rows = await client.swapRequest.findMany({ where: { rosterId, requesterId, status: 'pending' } });
    return rows.map(toSwap).filter((s) => s.give.some((a) => give.some((b) => a.from === b.from)));
  }

  /** Moves a pending swap to a final status; false when it was no longer pending (a race lost). */
  async decideSwap(w: Writer, s: SwapRecord, status: 'accepted' | 'declined' | 'expired' | 'cancelled', at: Date): Promise<boolean> {
    const r = await w.tx.swapRequest.updateMany({ where: { id: s.id, status: 'pending' }, data: { status, decidedAt: at } });
    if (r.count === 0) return false;
    await w.audit('roster.swap', s.id, status, { status: 'pending' }, { status });
    return true;
  }

  // Duty log -------------------------------------------------------------------------------

  async addLog(w: Writer, e: { rosterId: string; shiftStart: number; authorId: string; text: string }): Promise<void> {
    const id = newId();
    await w.tx.dutyLogEntry.create({ data: { id, rosterId: e.rosterId, shiftStart: new Date(e.shiftStart), authorId: e.authorId, text: e.text } });
    await w.audit('duty.log', id, 'create', null, { rosterId: e.rosterId, shiftStart: new Date(e.shiftStart).toISOString(), length: e.text.length });
  }

  async log(rosterId: string, shiftStart: number): Promise<{ at: Date; authorId: string; text: string }[]> {
    return this.db.dutyLogEntry.findMany({
      where: { rosterId, shiftStart: new Date(shiftStart) },
      orderBy: { at: 'asc' },
      select: { at: true, authorId: true, text: true },
    });
  }

  // Calendar feeds -------------------------------------------------------------------------

  async feedFor(target: { rosterId?: string; memberId?: string }, client: Db | Tx = this.db): Promise<{ id: string; token: string } | null> {
    return client.calendarFeed.findFirst({ where: { ...target, revokedAt: null }, select: { id: true, token: true } });
  }

  async createFeed(w: Writer, target: { rosterId?: string; memberId?: string }, token: string, createdBy: string | null, at: Date): Promise<void> {
    const previous = await w.tx.calendarFeed.findMany({ where: { ...target, revokedAt: null } });
    for (const p of previous) await w.tx.calendarFeed.update({ where: { id: p.id }, data: { revokedAt: at } });
    const id = newId();
    await w.tx.calendarFeed.create({ data: { id, token, ...target, createdBy } });
    // The token itself stays out of the audit log: it is a secret.
    await w.audit('calendar.feed', id, previous.length ? 'reset' : 'create', previous.length ? { revoked: previous.map((p) => p.id) } : null, target);
  }

  async feedByToken(token: string): Promise<{ rosterId: string | null; memberId: string | null } | null> {
    return this.db.calendarFeed.findFirst({ where: { token, revokedAt: null }, select: { rosterId: true, memberId: true } });
  }
}
