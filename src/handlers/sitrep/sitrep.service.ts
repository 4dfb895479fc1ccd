// SITREPs: drafting from live data, publishing once, and planning the next one. The commands,
// the buttons and the scheduled jobs all come through here.
import { CATEGORY_LABELS, CASE_STATUSES } from '../../domain/case';
import { NEED_LABELS } from '../../domain/person';
import type { Role } from '../../domain/roles';
import {
  nextSitrepDue,
  parseCadence,
  parseLatePolicy,
  proposeSitrep,
  reviewDueAt,
  type Cadence,
  type LatePolicy,
  type SitrepCase,
  type SitrepProposal,
} from '../../domain/sitrep';
import type { ChannelProbe } from '../../notify/types';
import type { Tx } from '../../store/client';
import type { CrisisRecord } from '../../store/crisis.repository';
import type { SitrepRecord } from '../../store/sitrep.repository';
import { isUniqueViolation } from '../../store/unique';
import type { AuditMeta, Store } from '../../store/store';
import { loadBoard } from '../crisis/crisis-board';
import type { ReplyAttachment } from '../../domain/reply';
import { chartPoints, sitrepChart } from './sitrep-view';
import type { Outbox } from '../ports';

export const SITREP_SEND_JOB = 'sitrep-send';
export const SITREP_REVIEW_JOB = 'sitrep-review';
export const SITREP_DUE_JOB = 'sitrep-due';

/** Who drafts, edits and publishes SITREPs (besides the crisis's lead). */
export const SITREP_ROLES: readonly Role[] = ['crisis', 'leader', 'admin'];

const OPEN_CASE_STATUSES = CASE_STATUSES.filter((s) => s !== 'resolved' && s !== 'closed');

export interface SitrepDeps {
  store: Store;
  outbox: Outbox;
  missionTimeZone: string;
  /** Absent on the console: the channel is then checked when the message is sent. */
  channels?: ChannelProbe | undefined;
}

/** SITREPs a chart shows: the newest this many. */
export const CHART_HISTORY = 25;

/** The chart of a published SITREP: people by status at it and the SITREPs before it. */
export async function publishedChart(store: Store, crisis: Pick<CrisisRecord, 'id' | 'code'>, s: SitrepRecord, timeZone: string): Promise<ReplyAttachment> {
  const history = await store.sitreps.publishedUpTo(crisis.id, s.number ?? 0, CHART_HISTORY);
  return sitrepChart(crisis.code, chartPoints(history, s, timeZone));
}

export function cadenceOf(crisis: Pick<CrisisRecord, 'sitrepCadence'>): Cadence {
  const c = parseCadence(crisis.sitrepCadence);
  return c.ok ? c.value : { kind: 'none' };
}

export function latePolicyOf(crisis: Pick<CrisisRecord, 'sitrepLatePolicy'>): LatePolicy {
  return parseLatePolicy(crisis.sitrepLatePolicy) ?? 'remind';
}

/** Live figures and what the draft proposes from them: counts and references, no names unless named. */
export async function liveFigures(
  store: Store,
  crisis: CrisisRecord,
  previous: SitrepRecord | null,
  namedCases: readonly string[],
  now: number,
  timeZone: string,
): Promise<{ counts: Record<string, number>; proposal: SitrepProposal }> {
  const [board, reportedSince, open] = await Promise.all([
    loadBoard(store, crisis, now),
    store.crises.statusChangesSince(crisis.id, previous?.asOf ?? crisis.openedAt),
    store.cases.list({ crisisId: crisis.id, statuses: OPEN_CASE_STATUSES }, 'priority', 200),
  ]);
  const cases: SitrepCase[] = open.rows.filter((c) => c.priority === 'P1' || c.priority === 'P2').map((c) => ({ ref: c.ref, category: c.category, priority: c.priority, status: c.status }));
  for (const ref of namedCases) {
    const c = await store.cases.byRef(ref);
    if (!c) continue;
    const entry = { ref: c.ref, category: c.category, priority: c.priority, status: c.status, subjectName: c.subjectName };
    const i = cases.findIndex((x) => x.ref === ref);
    if (i >= 0) cases[i] = entry;
    else cases.push(entry);
  }
  const proposal = proposeSitrep({
    previousNumber: previous?.number ?? null,
    reportedSince,
    needs: board.needs,
    needLabels: NEED_LABELS,
    movements: board.movements.map((m) => ({ kind: m.kind, number: m.number, name: m.name, departureAt: m.departureAt.getTime(), capacity: m.capacity, taken: m.taken, status: m.status })),
    cases,
    categoryLabels: CATEGORY_LABELS,
    timeZone,
  });
  return { counts: Object.fromEntries(board.counts), proposal };
}

/**
 * The crisis's draft, created when there is none, its figures refreshed (and, while the lead
 * has not edited it, its proposals too). `dueAt` marks the slot a scheduled draft answers.
 */
export async function currentDraft(deps: SitrepDeps, crisis: CrisisRecord, by: string | null, now: Date, dueAt?: Date | null): Promise<SitrepRecord> {
  const { store } = deps;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [draft, previous] = await Promise.all([store.sitreps.draftOf(crisis.id), store.sitreps.latest(crisis.id)]);
    const named = draft?.namedCases ?? [];
    const live = await liveFigures(store, crisis, previous, named, now.getTime(), deps.missionTimeZone);
    const slot = dueAt !== undefined ? { dueAt } : {};
    if (draft) {
      const content = draft.editedAt ? { asOf: now, counts: live.counts, ...slot } : { asOf: now, counts: live.counts, ...live.proposal, ...slot };
      if (await store.transaction((tx) => store.sitreps.refreshDraft(tx, draft, content))) return { ...draft, ...content };
      continue;
    }
    const created = await store
      .transaction((tx) => store.sitreps.createDraft(tx, crisis.id, { asOf: now, counts: live.counts, ...live.proposal, namedCases: [], nextAt: null, dueAt: dueAt ?? null }, by, now))
      .catch((err: unknown) => {
        // Someone else's draft won the race: read theirs.
        if (isUniqueViolation(err)) return null;
        throw err;
      });
    if (created) return created;
  }
  throw new Error(`could not settle the SITREP draft of ${crisis.code}: it kept changing`);
}

export type PublishResult =
  | { ok: true; sitrep: SitrepRecord; already: boolean }
  | { ok: false; code: 'NO_LEADERSHIP_CHANNEL' | 'CHANNEL_UNAVAILABLE' | 'SITREP_CHANGED' | 'NO_DRAFT' | 'NOT_ACTIVE'; message: string; draft?: SitrepRecord };

/**
 * Publishes the draft `draftId` as it was at `version`: once. A second publish of the same
 * version (a double click, a retried request) finds it published and says so; a draft edited
 * since is refused. Figures are taken again now; an unedited draft's proposals too. The post to
 * the leadership channel, the direct messages to subscribed leaders and the next SITREP's jobs
 * are written in the same transaction.
 */
export async function publishSitrep(
  deps: SitrepDeps,
  crisis: CrisisRecord,
  draftId: string,
  version: number,
  by: { memberId: string | null; meta: AuditMeta; automatic: boolean },
  now: Date,
): Promise<PublishResult> {
  const { store } = deps;
  const draft = await store.sitreps.byId(draftId);
  if (!draft || draft.crisisId !== crisis.id) return { ok: false, code: 'NO_DRAFT', message: `${crisis.code} has no such SITREP draft; start one with /sitrep ${crisis.code}.` };
  if (draft.status === 'published' && draft.version === version + 1) return { ok: true, sitrep: draft, already: true };
  if (draft.status !== 'draft') return { ok: false, code: 'SITREP_CHANGED', message: draft.status === 'published' ? `That draft was already published as SITREP ${draft.number}.` : 'That draft was discarded.' };
  if (draft.version !== version) return { ok: false, code: 'SITREP_CHANGED', message: 'The draft was edited since you saw it; nothing was published. Here it is now.', draft };
  if (crisis.status !== 'active') return { ok: false, code: 'NOT_ACTIVE', message: `Crisis ${crisis.code} was stood down; reopen it to publish (/crisis reopen ${crisis.code}).` };
  const channel = crisis.leadershipChannel;
  if (!channel) return { ok: false, code: 'NO_LEADERSHIP_CHANNEL', message: `${crisis.code} has no leadership channel, so there is nowhere to publish; set one with /crisis edit ${crisis.code} leadership=#channel. Nothing was published.` };
  if (deps.channels) {
    const probe = await deps.channels.canPost(channel);
    if (!probe.ok) return { ok: false, code: 'CHANNEL_UNAVAILABLE', message: `Cannot post to the leadership channel: ${probe.error}. Nothing was published.` };
  }

  const previous = await store.sitreps.latest(crisis.id);
  const live = await liveFigures(store, crisis, previous, draft.namedCases, now.getTime(), deps.missionTimeZone);
  const cadence = cadenceOf(crisis);
  const next = nextSitrepDue(cadence, now.getTime(), now.getTime(), deps.missionTimeZone);
  const nextAt = next === null ? null : new Date(next);

  const outcome = await store.change(by.meta, async (w) => {
    const number = await store.sitreps.nextNumber(w.tx, crisis.id);
    const content = draft.editedAt ? { asOf: now, counts: live.counts, nextAt } : { asOf: now, counts: live.counts, ...live.proposal, nextAt };
    const published = await store.sitreps.publish(w.tx, draft, { ...content, number, publishedAt: now, publishedById: by.memberId, automatic: by.automatic });
    if (!published) return null;
    await w.audit('sitrep', published.id, by.automatic ? 'publish.automatic' : 'publish', null, { crisis: crisis.code, number, counts: live.counts });
    await deliverSitrep(deps, w.tx, crisis, published, channel, now);
    await planNext(deps, w.tx, crisis, nextAt, now);
    return published;
  });
  if (outcome) {
    deps.outbox.wake?.();
    return { ok: true, sitrep: outcome, already: false };
  }
  // Lost the race: to a publish of the same version (fine) or to an edit (refused).
  const now2 = await store.sitreps.byId(draftId);
  if (now2?.status === 'published' && now2.version === version + 1) return { ok: true, sitrep: now2, already: true };
  return { ok: false, code: 'SITREP_CHANGED', message: 'The draft changed while you published it; nothing was published. Here it is now.', ...(now2 ? { draft: now2 } : {}) };
}

/** One send job per destination, keyed on the SITREP: never posted twice. */
async function deliverSitrep(deps: SitrepDeps, tx: Tx, crisis: CrisisRecord, s: SitrepRecord, channel: string, now: Date): Promise<void> {
  await deps.outbox.schedule(tx, { kind: SITREP_SEND_JOB, key: `sitrep:${s.id}:channel`, dueAt: now, payload: { sitrepId: s.id, to: { kind: 'channel', channel } } });
  const subscribers = await deps.store.sitreps.subscribers(crisis.id, tx);
  for (const memberId of subscribers) {
    // The leader role is checked again when the message is sent: a role revoked meanwhile stops it.
    await deps.outbox.schedule(tx, { kind: SITREP_SEND_JOB, key: `sitrep:${s.id}:member:${memberId}`, dueAt: now, payload: { sitrepId: s.id, to: { kind: 'member', memberId } } });
  }
}

/**
 * Records when the next SITREP is due and schedules its review (30 minutes before) and its
 * deadline. Jobs for any other instant find the crisis moved on and stop.
 */
export async function planNext(deps: Pick<SitrepDeps, 'store' | 'outbox'>, tx: Tx, crisis: Pick<CrisisRecord, 'id'>, dueAt: Date | null, now: Date): Promise<void> {
  await tx.crisis.updateMany({ where: { id: crisis.id }, data: { sitrepDueAt: dueAt } });
  if (!dueAt) return;
  const at = dueAt.toISOString();
  const review = Math.max(now.getTime(), reviewDueAt(dueAt.getTime()));
  await deps.outbox.schedule(tx, { kind: SITREP_REVIEW_JOB, key: `sitrep-review:${crisis.id}:${at}`, dueAt: new Date(review), payload: { crisisId: crisis.id, dueAt: at } });
  await deps.outbox.schedule(tx, { kind: SITREP_DUE_JOB, key: `sitrep-due:${crisis.id}:${at}:1`, dueAt, payload: { crisisId: crisis.id, dueAt: at, attempt: 1 } });
}
