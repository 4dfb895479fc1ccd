// The case jobs: the channel card (posted once, then updated in place as the case changes), the
// acknowledgement deadline (a P1 or P2 case nobody picked up pages the duty officer) and the
// update reminders the assignee gets while the case is open.
import { z } from 'zod/v4';
import { describeServiceLevel, isOpenStatus, type CaseStatus } from '../../domain/case';
import { message } from '../../domain/reply';
import { invalidPayload, type JobOutcome, type Scheduler } from '../../jobs/scheduler';
import type { Logger } from '../../logger';
import { parseChatCopy, type ChatCopy, type MessageUpdater, type Notifier } from '../../notify/types';
import type { CaseRecord } from '../../store/case.repository';
import { systemMeta, type Store } from '../../store/store';
import type { CoreSettings } from '../command';
import type { Outbox } from '../ports';
import { DUTY_OFFICER } from '../page/default-policies';
import { triggerPage } from '../page/page.service';
import { MemberNames, when } from '../roster/roster-common';
import { caseCard, categoryLabel } from './case-view';
import { ackPageKey, CASE_ACK_DUE_JOB, CASE_CARD_JOB, CASE_REFRESH_JOB, CASE_UPDATE_DUE_JOB, levelOf, resolveAckPage } from './case.service';

export interface CaseJobDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  settings: CoreSettings;
  chat?: Notifier & Partial<MessageUpdater>;
}

const ATTEMPTS = 6;
/** How many times a refresh waits for the card it updates to be posted. */
const CARD_WAIT_ATTEMPTS = 8;
const payload = z.object({ caseId: z.string() });

export function registerCaseJobs(scheduler: Scheduler, deps: CaseJobDeps): void {
  const { store, logger, settings } = deps;
  const tz = settings.missionTimeZone;

  async function render(c: CaseRecord, now: number) {
    const [names, notes] = await Promise.all([MemberNames.load(store), store.db.caseNote.count({ where: { caseId: c.id } })]);
    return caseCard(c, names, tz, now, notes);
  }

  /**
   * Updates the card until what it shows is the latest version: two refreshes racing could
   * otherwise land an older rendering last.
   */
  async function updateCard(c0: CaseRecord, copy: ChatCopy, now: number): Promise<JobOutcome> {
    const update = deps.chat?.update?.bind(deps.chat);
    if (!update) return { status: 'done', result: { skipped: 'no chat platform can update messages' } };
    let c = c0;
    for (let i = 0; i < 3; i++) {
      const r = await update(copy, await render(c, now));
      if (!r.ok) return r.retryable ? { status: 'retry', afterMs: r.retryAfterMs ?? 2000, error: r.error } : { status: 'failed', error: r.error };
      const latest = await store.cases.byId(c.id);
      if (!latest || latest.version === c.version) break;
      c = latest;
    }
    return { status: 'done' };
  }

  // The card: posted once (at most once: a second post would be a duplicate card).
  scheduler.register(
    CASE_CARD_JOB,
    async (job, ctx) => {
      const p = payload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const c = await store.cases.byId(p.data.caseId);
      if (!c?.cardChannel || c.card) return { status: 'done' };
      if (!deps.chat) return { status: 'failed', error: 'no chat platform is connected' };
      const r = await deps.chat.send({ kind: 'channel', channel: c.cardChannel }, await render(c, ctx.now.getTime()));
      if (r.ok) {
        const copy = r.copy;
        if (!copy) return { status: 'done' };
        return {
          status: 'done',
          effects: (sql) => {
            sql.add(`UPDATE "Case" SET "card" = ? WHERE "id" = ?`, [JSON.stringify(copy), c.id]);
            // Refreshes that waited for this card go now.
            sql.add(`UPDATE "Job" SET "dueAt" = ? WHERE "idempotencyKey" LIKE ? AND "status" = 'pending'`, [ctx.now, `case:${c.id}:refresh:%`]);
          },
        };
      }
      if (r.retryable && job.attempts < ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? 1000 * job.attempts, error: r.error };
      ctx.logger.warn({ caseId: c.id, error: r.error }, 'could not post a case card');
      return { status: 'failed', error: r.error };
    },
    { atMostOnce: true, maxAttempts: ATTEMPTS },
  );

  scheduler.register(
    CASE_REFRESH_JOB,
    async (job, ctx) => {
      const p = payload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const c = await store.cases.byId(p.data.caseId);
      if (!c?.cardChannel) return { status: 'done' };
      const copy = parseChatCopy(c.card);
      if (!copy) {
        if (job.attempts < CARD_WAIT_ATTEMPTS) return { status: 'retry', afterMs: 500 * job.attempts, error: 'waiting for the card to be posted' };
        return { status: 'done', result: { skipped: 'the card was never posted' } };
      }
      return updateCard(c, copy, ctx.now.getTime());
    },
    { maxAttempts: Math.max(ATTEMPTS, CARD_WAIT_ATTEMPTS + 2) },
  );

  // Not acknowledged in time: P1 and P2 page the duty officer; every priority gets it on record.
  scheduler.register(CASE_ACK_DUE_JOB, async (job, ctx) => {
    const p = payload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const c = await store.cases.byId(p.data.caseId);
    if (!c || c.acknowledgedAt || !isOpenStatus(c.status as CaseStatus)) return { status: 'done', result: { skipped: 'acknowledged or closed' } };
    // A deadline moved since this job was planned (priority changed): its own job handles it.
    if (!c.ackDueAt || c.ackDueAt.getTime() > ctx.now.getTime()) return { status: 'done', result: { skipped: 'deadline moved' } };
    const level = await levelOf(store, c);
    const text = `Not acknowledged in time (${describeServiceLevel(level)}; due ${when(c.ackDueAt.getTime(), tz)})`;
    const urgent = c.priority === 'P1' || c.priority === 'P2';
    let paged = '';
    if (urgent) {
      const policy = await store.pages.policyByBuiltIn(DUTY_OFFICER);
      if (!policy) {
        ctx.logger.error({ caseId: c.id }, 'the Duty officer escalation policy is missing: nobody paged for an unacknowledged case');
      } else {
        const r = await triggerPage(
          { store, outbox: deps.outbox, logger },
          systemMeta('case-sla'),
          {
            // No personal data in a page: it goes by SMS and email too.
            title: `Case ${c.ref} (${c.priority}, ${categoryLabel(c.category)}) not acknowledged`,
            details: `${text}. Acknowledge it with /case ack ${c.ref}.`,
            severity: c.priority === 'P1' ? 'critical' : 'high',
            source: 'case',
            sourceRef: c.ref,
            dedupKey: ackPageKey(c.ref),
            policyId: policy.id,
            policy: { name: policy.name, steps: policy.steps, repeat: policy.repeat },
            target: policy.name,
            raisedById: null,
            raisedByName: 'Duty Desk (case service level)',
          },
          ctx.now,
        );
        paged = `; paging ${policy.name} (page #${r.page.number})`;
        // Picked up on another replica while this ran: its acknowledgement found no page to resolve.
        const again = await store.cases.byId(c.id);
        if (again && (again.acknowledgedAt || !isOpenStatus(again.status as CaseStatus))) {
          await resolveAckPage({ store, outbox: deps.outbox, logger, missionTimeZone: tz }, c.ref, { id: again.acknowledgedById ?? '', name: 'Duty Desk' }, ctx.now);
          paged += ', resolved at once: the case had just been picked up';
        }
      }
    }
    await store.transaction(async (tx) => {
      await store.cases.addEvent(tx, { caseId: c.id, at: ctx.now, byId: null, byName: 'Duty Desk', type: 'sla', fromValue: null, toValue: 'ack-breached', text: `${text}${paged}` });
      if (c.cardChannel) await deps.outbox.schedule(tx, { kind: CASE_REFRESH_JOB, key: `case:${c.id}:refresh:breach:${c.ackDueAt?.getTime() ?? 0}`, dueAt: ctx.now, payload: { caseId: c.id } });
    });
    deps.outbox.wake?.();
    return { status: 'done', result: { paged: urgent } };
  });

  // An update is owed: remind the assignee (or, with nobody assigned, the duty channel).
  scheduler.register(CASE_UPDATE_DUE_JOB, async (job, ctx) => {
    const p = payload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const c = await store.cases.byId(p.data.caseId);
    if (!c || !isOpenStatus(c.status as CaseStatus)) return { status: 'done', result: { skipped: 'closed' } };
    const now = ctx.now.getTime();
    // Updated since: the next reminder has its own job at the new time.
    if (!c.updateDueAt || c.updateDueAt.getTime() > now) return { status: 'done', result: { skipped: 'updated since' } };
    const level = await levelOf(store, c);
    const text = `Case ${c.ref} (${c.priority}, ${categoryLabel(c.category)}) is due an update (${describeServiceLevel(level)}; last update ${when(c.lastUpdateAt.getTime(), tz)}). Add one with /case note ${c.ref} …`;
    const reply = message({ title: `Update due: ${c.ref}`, text, buttons: [{ label: 'Add note', command: `/case note ${c.ref}`, style: 'primary' }, { label: 'Show case', command: `/case show ${c.ref}` }], visibility: 'direct', fallback: `Case ${c.ref} is due an update` });
    const every = level.updateEveryMs;
    await store.transaction(async (tx) => {
      // Claim this reminder first: a note that landed since the read moved the deadline, and then nothing is owed.
      const next = every !== null ? new Date(now + every) : null;
      const { count } = await tx.case.updateMany({ where: { id: c.id, updateDueAt: c.updateDueAt }, data: { updateDueAt: next } });
      if (count !== 1) return;
      const to = c.assigneeId ? { kind: 'member' as const, memberId: c.assigneeId } : c.cardChannel ? { kind: 'channel' as const, channel: c.cardChannel } : null;
      if (to) await deps.outbox.deliver(tx, { key: `case:${c.id}:update-reminder:${c.updateDueAt?.getTime() ?? now}`, to, reply: to.kind === 'channel' ? { ...reply, visibility: 'channel' } : reply });
      await store.cases.addEvent(tx, { caseId: c.id, at: ctx.now, byId: null, byName: 'Duty Desk', type: 'sla', fromValue: null, toValue: 'update-due', text: `Update due; reminded ${c.assigneeId ? 'the assignee' : c.cardChannel ? 'the duty channel' : 'nobody (no assignee, no duty channel)'}` });
      // Still owed: remind again after another interval (unless updates are not tracked any more).
      if (next) await deps.outbox.schedule(tx, { kind: CASE_UPDATE_DUE_JOB, key: `case:${c.id}:update-due:${next.getTime()}`, dueAt: next, payload: { caseId: c.id } });
    });
    deps.outbox.wake?.();
    return { status: 'done' };
  });
}
