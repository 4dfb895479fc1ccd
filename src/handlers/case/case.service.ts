// Opening and changing cases: the one place these happen, from a command, a form, a button or a
// job. Every change is fenced on the case's version, bumps it, writes its history and audit
// entry, refreshes the channel card and moves the service-level timers, in one transaction.
import {
  ackDueAt,
  formatCaseRef,
  initialsOf,
  isOpenStatus,
  nextUpdateDueAt,
  serviceLevelFor,
  transition,
  type CaseAction,
  type CaseCategory,
  type CasePriority,
  type CaseState,
  type CaseStatus,
  type ServiceLevel,
  type ServiceLevelOverride,
  type WorkingCalendar,
} from '../../domain/case';
import { message } from '../../domain/reply';
import { localOf } from '../../domain/zoned';
import type { Tx } from '../../store/client';
import { CaseRepository, PERSONAL_FIELDS, type CasePatch, type CaseRecord, type NewCase } from '../../store/case.repository';
import { newId, systemMeta, type AuditMeta, type Store, type Writer } from '../../store/store';
import type { Logger } from '../../logger';
import type { Outbox } from '../ports';
import { respondToPage } from '../page/page.service';

export const CASE_CARD_JOB = 'case-card';
export const CASE_REFRESH_JOB = 'case-refresh';
export const CASE_ACK_DUE_JOB = 'case-ack-due';
export const CASE_UPDATE_DUE_JOB = 'case-update-due';
/** The setting naming the channel new case cards go to ("slack:C123" | "teams:<conversation id>"). */
export const CASE_CHANNEL_SETTING = 'case.channel';

export interface CaseDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  missionTimeZone: string;
}

export interface Actor {
  id: string;
  name: string;
}

export type CaseError = { code: string; message: string; fields?: Record<string, string> };
export type CaseResult = { ok: true; case: CaseRecord; before: CaseRecord } | { ok: false; error: CaseError; current?: CaseRecord };

/** The audit log proves who changed what, without copying personal data into it. */
export function auditView(c: CaseRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const k of PERSONAL_FIELDS) if (out[k] !== null && out[k] !== undefined) out[k] = '[personal data]';
  delete out.card;
  return out;
}

/** Which personal fields differ, by name only. */
function changedPersonal(before: CaseRecord, after: CasePatch): string[] {
  return PERSONAL_FIELDS.filter((k) => k in after && after[k] !== before[k]);
}

export function stateOf(c: CaseRecord): CaseState {
  return {
    status: c.status as CaseStatus,
    version: c.version,
    acknowledgedAt: c.acknowledgedAt?.getTime() ?? null,
    acknowledgedBy: c.acknowledgedById,
    resolvedAt: c.resolvedAt?.getTime() ?? null,
    resolvedBy: c.resolvedById,
    closedAt: c.closedAt?.getTime() ?? null,
    closedBy: c.closedById,
    outcome: c.outcome,
  };
}

function patchOf(s: CaseState): CasePatch {
  const d = (t: number | null): Date | null => (t === null ? null : new Date(t));
  return {
    status: s.status,
    acknowledgedAt: d(s.acknowledgedAt),
    acknowledgedById: s.acknowledgedBy,
    resolvedAt: d(s.resolvedAt),
    resolvedById: s.resolvedBy,
    closedAt: d(s.closedAt),
    closedById: s.closedBy,
    outcome: s.outcome,
  };
}

export async function overridesOf(store: Store, tx?: Tx): Promise<ServiceLevelOverride[]> {
  const rows = await store.cases.serviceLevels(tx);
  return rows.map((r) => ({
    priority: r.priority as CasePriority,
    category: r.category === '*' ? null : r.category,
    ...(r.ack ? { ack: r.ack as ServiceLevelOverride['ack'] } : {}),
    ...(r.updateEveryMs !== null ? { updateEveryMs: r.updateEveryMs === 0 ? null : r.updateEveryMs } : {}),
  }));
}

/** The mission's working calendar: its zone, and every roster's holidays. */
export async function workingCalendar(store: Store, timeZone: string, tx?: Tx): Promise<WorkingCalendar> {
  const client = tx ?? store.db;
  const rows = await client.holiday.findMany({ select: { date: true } });
  return { timeZone, holidays: new Set(rows.map((r) => r.date)) };
}

export async function levelOf(store: Store, c: Pick<CaseRecord, 'priority' | 'category'>, tx?: Tx): Promise<ServiceLevel> {
  return serviceLevelFor(c.priority as CasePriority, c.category, await overridesOf(store, tx));
}

/** Timers for the case as it now is: acknowledge-by (while unacknowledged) and the next update owed. */
async function scheduleTimers(deps: CaseDeps, tx: Tx, c: CaseRecord): Promise<void> {
  if (!isOpenStatus(c.status as CaseStatus)) return;
  if (!c.acknowledgedAt && c.ackDueAt) {
    await deps.outbox.schedule(tx, { kind: CASE_ACK_DUE_JOB, key: `case:${c.id}:ack-due:${c.ackDueAt.getTime()}`, dueAt: c.ackDueAt, payload: { caseId: c.id } });
  }
  if (c.updateDueAt) {
    await deps.outbox.schedule(tx, { kind: CASE_UPDATE_DUE_JOB, key: `case:${c.id}:update-due:${c.updateDueAt.getTime()}`, dueAt: c.updateDueAt, payload: { caseId: c.id } });
  }
}

async function refreshCard(deps: CaseDeps, tx: Tx, c: CaseRecord, now: Date): Promise<void> {
  if (!c.cardChannel) return;
  await deps.outbox.schedule(tx, { kind: CASE_REFRESH_JOB, key: `case:${c.id}:refresh:v${c.version}`, dueAt: now, payload: { caseId: c.id } });
}

export interface OpenCase {
  category: CaseCategory;
  priority: CasePriority;
  summary: string;
  reporter: string;
  reporterDetail: string | null;
  consent: string;
  subject: {
    fullName: string;
    dateOfBirth: string | null;
    nationality: string | null;
    passportNumber: string | null;
    contactDetails: string | null;
    location: { city: string | null; country: string | null; details: string | null };
    nextOfKin: { name: string; relationship: string | null; phone: string | null; email: string | null } | null;
  };
  assigneeId: string | null;
  crisisId: string | null;
}

/**
 * Opens a case: the next reference of the mission-time year (gap-free: the counter row is locked
 * until this transaction ends), its history, its card and its service-level timers.
 */
export async function openCase(deps: CaseDeps, meta: AuditMeta, input: OpenCase, by: Actor, now: Date): Promise<CaseRecord> {
  const { store, outbox } = deps;
  const t = now.getTime();
  const created = await store.change(meta, async (w) => {
    const year = localOf(deps.missionTimeZone, t).y;
    const number = await CaseRepository.nextNumber(w.tx, year);
    const level = serviceLevelFor(input.priority, input.category, await overridesOf(store, w.tx));
    const due = ackDueAt(level, t, await workingCalendar(store, deps.missionTimeZone, w.tx));
    const update = nextUpdateDueAt(level, t);
    const channel = await caseChannel(store, w.tx);
    const s = input.subject;
    const fields: NewCase = {
      category: input.category,
      priority: input.priority,
      status: 'new',
      subjectName: s.fullName,
      subjectInitials: initialsOf(s.fullName),
      dateOfBirth: s.dateOfBirth,
      nationality: s.nationality,
      passportNumber: s.passportNumber,
      contactDetails: s.contactDetails,
      nokName: s.nextOfKin?.name ?? null,
      nokRelationship: s.nextOfKin?.relationship ?? null,
      nokPhone: s.nextOfKin?.phone ?? null,
      nokEmail: s.nextOfKin?.email ?? null,
      city: s.location.city,
      country: s.location.country,
      location: s.location.details,
      reporter: input.reporter,
      reporterDetail: input.reporterDetail,
      summary: input.summary,
      consent: input.consent,
      assigneeId: input.assigneeId,
      crisisId: input.crisisId,
      openedAt: now,
      openedById: by.id,
      ackDueAt: new Date(due),
      updateDueAt: update === null ? null : new Date(update),
      lastUpdateAt: now,
    };
    const c = await store.cases.create(w.tx, { ...fields, id: newId(), ref: formatCaseRef(year, number), year, number, cardChannel: channel }, now);
    await store.cases.addEvent(w.tx, { caseId: c.id, at: now, byId: by.id, byName: by.name, type: 'created', fromValue: null, toValue: 'new', text: `Opened by ${by.name} (${c.priority})` });
    if (c.assigneeId) {
      await store.cases.addEvent(w.tx, { caseId: c.id, at: now, byId: by.id, byName: by.name, type: 'assigned', fromValue: null, toValue: c.assigneeId, text: null });
      if (c.assigneeId !== by.id) await tellAssignee(deps, w.tx, c, by);
    }
    if (channel) await outbox.schedule(w.tx, { kind: CASE_CARD_JOB, key: `case:${c.id}:card`, dueAt: now, payload: { caseId: c.id } });
    await scheduleTimers(deps, w.tx, c);
    await w.audit('case', c.id, 'open', null, auditView(c));
    return c;
  });
  outbox.wake?.();
  return created;
}

/** Where new case cards go: the setting, else (never set) the first roster's announcement channel. */
export async function caseChannel(store: Store, tx?: Tx): Promise<string | null> {
  const set = await store.cases.setting(CASE_CHANNEL_SETTING, tx);
  // Set to '' ("none"): no cards, whatever the rosters say.
  if (typeof set === 'string') return set || null;
  const rosters = await store.rosters.list(tx);
  return rosters.find((r) => r.channel)?.channel ?? null;
}

async function tellAssignee(deps: CaseDeps, tx: Tx, c: CaseRecord, by: Actor): Promise<void> {
  if (!c.assigneeId) return;
  await deps.outbox.deliver(tx, {
    key: `case:${c.id}:assigned:v${c.version}:${c.assigneeId}`,
    to: { kind: 'member', memberId: c.assigneeId },
    reply: message({
      title: `Case ${c.ref} is yours`,
      text: `${by.name} assigned you case ${c.ref} (${c.priority}, ${c.category}). Open it with /case show ${c.ref}.`,
      buttons: [{ label: 'Show case', command: `/case show ${c.ref}`, style: 'primary' }],
      visibility: 'direct',
      fallback: `Case ${c.ref} assigned to you by ${by.name}`,
    }),
  });
}

/**
 * A change to an existing case, fenced: when `expectedVersion` is given (a button on a card) and
 * the case has moved on, or when someone else saves first, nothing is saved and the current case
 * comes back with CASE_CHANGED.
 */
async function change(
  deps: CaseDeps,
  meta: AuditMeta,
  ref: string,
  expectedVersion: number | undefined,
  now: Date,
  fn: (c: CaseRecord, w: Writer) => Promise<{ ok: true; patch: CasePatch; action: string; events: { type: string; from?: string | null; to?: string | null; text?: string | null }[] } | { ok: false; error: CaseError }>,
  by: Actor,
): Promise<CaseResult> {
  const { store, outbox } = deps;
  const result = await store.change(meta, async (w): Promise<CaseResult> => {
    const before = await store.cases.byRef(ref, w.tx);
    if (!before) return { ok: false, error: { code: 'UNKNOWN_CASE', message: `There is no case ${ref}. Check /case list.` } };
    if (expectedVersion !== undefined && expectedVersion !== before.version) {
      return { ok: false, error: changedError(before), current: before };
    }
    const r = await fn(before, w);
    if (!r.ok) return { ok: false, error: r.error, current: before };
    const after = await store.cases.save(w.tx, before.id, before.version, r.patch, now);
    if (!after) {
      const current = (await store.cases.byId(before.id, w.tx)) ?? before;
      return { ok: false, error: changedError(current), current };
    }
    for (const e of r.events) {
      await store.cases.addEvent(w.tx, { caseId: after.id, at: now, byId: by.id, byName: by.name, type: e.type, fromValue: e.from ?? null, toValue: e.to ?? null, text: e.text ?? null });
    }
    await refreshCard(deps, w.tx, after, now);
    await scheduleTimers(deps, w.tx, after);
    const personal = changedPersonal(before, r.patch);
    await w.audit('case', after.id, r.action, auditView(before), { ...auditView(after), ...(personal.length ? { personalFieldsChanged: personal } : {}) });
    return { ok: true, case: after, before };
  });
  if (result.ok) outbox.wake?.();
  return result;
}

function changedError(current: CaseRecord): CaseError {
  return { code: 'CASE_CHANGED', message: `Case ${current.ref} changed while you were looking at it; nothing was saved. It is now ${current.status} (version ${current.version}).` };
}

/** Marks the update the assignee owed as given: the next reminder moves out. */
function updatedNow(level: ServiceLevel, now: Date): CasePatch {
  const next = nextUpdateDueAt(level, now.getTime());
  return { lastUpdateAt: now, updateDueAt: next === null ? null : new Date(next) };
}

/** The dedup key of the page a late acknowledgement raises: acknowledging the case resolves it. */
export function ackPageKey(ref: string): string {
  return `case:${ref}:ack`;
}

/** Once a case is picked up, the page its missed deadline raised has done its job. */
export async function resolveAckPage(deps: CaseDeps, ref: string, by: Actor, now: Date): Promise<void> {
  try {
    const page = await deps.store.pages.openByDedupKey(ackPageKey(ref));
    if (!page) return;
    await respondToPage(deps, systemMeta('case-ack'), page.number, by, { kind: 'resolve', note: `case ${ref} picked up` }, now, 'case picked up');
  } catch (err) {
    // The case change stands; the page stays open for someone to resolve by hand.
    deps.logger.warn({ err, ref }, 'could not resolve the page raised for a late acknowledgement');
  }
}

/** Acknowledge, set in-progress/waiting, resolve, close, reopen. */
export async function transitionCase(deps: CaseDeps, meta: AuditMeta, ref: string, action: CaseAction, by: Actor, now: Date, expectedVersion?: number): Promise<CaseResult> {
  const r = await change(
    deps,
    meta,
    ref,
    expectedVersion,
    now,
    async (c, w) => {
      const tr = transition(stateOf(c), action, by.id, now.getTime());
      if (!tr.ok) return { ok: false, error: { code: tr.code, message: tr.message } };
      const patch: CasePatch = { ...patchOf(tr.next), ...updatedNow(await levelOf(deps.store, c, w.tx), now) };
      // Reopened: a fresh update schedule; the acknowledgement it had stands.
      if (!isOpenStatus(tr.next.status)) patch.updateDueAt = null;
      const text = tr.event.reason;
      return { ok: true, patch, action: action.kind, events: [{ type: action.kind === 'reopen' ? 'reopened' : 'status', from: tr.event.from, to: tr.event.to, text }] };
    },
    by,
  );
  // Picked up, or resolved/closed without ever being acknowledged: the page has done its job.
  const leftOpen = r.ok && isOpenStatus(r.before.status as CaseStatus) && !isOpenStatus(r.case.status as CaseStatus);
  if (r.ok && ((!r.before.acknowledgedAt && r.case.acknowledgedAt) || leftOpen)) await resolveAckPage(deps, r.case.ref, by, now);
  return r;
}

/** Assigns to a member (already checked to hold a case role), or unassigns with null. */
export async function assignCase(deps: CaseDeps, meta: AuditMeta, ref: string, assignee: { id: string; name: string } | null, by: Actor, now: Date, expectedVersion?: number): Promise<CaseResult> {
  const r = await change(
    deps,
    meta,
    ref,
    expectedVersion,
    now,
    async (c, w) => {
      if (!isOpenStatus(c.status as CaseStatus)) return { ok: false, error: { code: 'NOT_OPEN', message: `Case ${c.ref} is ${c.status}; reopen it before assigning it.` } };
      if ((assignee?.id ?? null) === c.assigneeId) return { ok: false, error: { code: 'SAME_ASSIGNEE', message: assignee ? `Case ${c.ref} is already assigned to ${assignee.name}.` : `Case ${c.ref} is not assigned to anyone.` } };
      // Told in the same transaction: the assignment and its message commit together.
      if (assignee && assignee.id !== by.id) await tellAssignee(deps, w.tx, { ...c, assigneeId: assignee.id, version: c.version + 1 }, by);
      return { ok: true, patch: { assigneeId: assignee?.id ?? null }, action: 'assign', events: [{ type: 'assigned', from: c.assigneeId, to: assignee?.id ?? null, text: assignee ? `Assigned to ${assignee.name}` : 'Unassigned' }] };
    },
    by,
  );
  return r;
}

/**
 * A note is its own row, so two officers writing at once both keep theirs. The case's version
 * still moves (the card shows the count), unfenced: a note never fails for being concurrent.
 */
export async function addNote(deps: CaseDeps, meta: AuditMeta, ref: string, text: string, by: Actor, now: Date): Promise<{ ok: true; case: CaseRecord } | { ok: false; error: CaseError }> {
  const { store } = deps;
  const r = await store.change(meta, async (w) => {
    const c = await store.cases.byRef(ref, w.tx);
    if (!c) return { ok: false as const, error: { code: 'UNKNOWN_CASE', message: `There is no case ${ref}. Check /case list.` } };
    await store.cases.addNote(w.tx, { caseId: c.id, authorId: by.id, authorName: by.name, text, createdAt: now });
    const level = await levelOf(store, c, w.tx);
    const patch = isOpenStatus(c.status as CaseStatus) ? updatedNow(level, now) : { lastUpdateAt: now };
    await w.tx.case.update({ where: { id: c.id }, data: { ...patch, version: { increment: 1 }, updatedAt: now } });
    const after = (await store.cases.byId(c.id, w.tx)) as CaseRecord;
    await refreshCard(deps, w.tx, after, now);
    await scheduleTimers(deps, w.tx, after);
    await w.audit('case', c.id, 'note', null, { ref: c.ref, note: '[personal data]' });
    return { ok: true as const, case: after };
  });
  if (r.ok) deps.outbox.wake?.();
  return r;
}
