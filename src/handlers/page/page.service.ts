// Triggering, acknowledging and resolving pages: the one place these happen, whether from a
// command, a button, a DM reply, an SMS reply, a case or a crisis.
import { Prisma } from '../../generated/prisma-sqlite/client';
import {
  acknowledge,
  escalationJobKey,
  fenceOf,
  openPage,
  planEscalation,
  reTrigger,
  resolve,
  type PageError,
  type Severity,
} from '../../domain/escalation';
import { message } from '../../domain/reply';
import type { Logger } from '../../logger';
import type { Tx } from '../../store/client';
import { PageRepository, pageSnapshot, type PageEventRecord, type PageRecord, type PageSource, type PolicySnapshot } from '../../store/page.repository';
import { newId, type AuditMeta, type Store } from '../../store/store';
import type { Outbox } from '../ports';

export const PAGE_STEP_JOB = 'page-step';
export const PAGE_SEND_JOB = 'page-send';
export const PAGE_REFRESH_JOB = 'page-refresh';
export const PAGE_CHANNEL_JOB = 'page-channel';
export const PAGE_THREAD_JOB = 'page-thread';

export interface PagingDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
}

export interface TriggerInput {
  title: string;
  details?: string | null;
  severity: Severity;
  source: PageSource;
  sourceRef?: string | null;
  dedupKey?: string | null;
  policyId: string | null;
  policy: PolicySnapshot;
  /** the target as given, for people: "@alee", "Duty officer" */
  target: string;
  raisedById: string | null;
  raisedByName: string;
  /** "slack:C123" | "teams:<conversation id>": that channel gets the page and a threaded timeline */
  channel?: string | null;
}

export type TriggerResult = { merged: false; page: PageRecord } | { merged: true; page: PageRecord };

export type RespondError = PageError | { code: 'UNKNOWN_PAGE'; message: string };
export type RespondResult = { ok: true; page: PageRecord } | { ok: false; error: RespondError };

/** A timeline entry, and its post in the page's channel thread when it was raised in one. */
export async function addEvent(deps: Pick<PagingDeps, 'store' | 'outbox'>, tx: Tx, page: Pick<PageRecord, 'id' | 'channel'>, e: Omit<PageEventRecord, 'id' | 'pageId'>): Promise<void> {
  const { store, outbox } = deps;
  const id = await store.pages.addEvent(tx, { ...e, pageId: page.id });
  if (page.channel) await outbox.schedule(tx, { kind: PAGE_THREAD_JOB, key: `page:${page.id}:thread:${id}`, dueAt: new Date(e.at), payload: { pageId: page.id, at: e.at, text: e.text } });
}

/** Prefix of every escalation and delivery job of one escalation version (escalationJobKey's). */
export function versionKeyPrefix(pageId: string, version: number): string {
  return escalationJobKey({ pageId, version }, '').replace(/step:$/, '');
}

/**
 * Opens a page and schedules every step of its escalation, or, when an open page has the same
 * dedup key, counts the trigger on that page and pages nobody.
 */
export async function triggerPage(deps: PagingDeps, meta: AuditMeta, input: TriggerInput, now: Date): Promise<TriggerResult> {
  const { store, outbox } = deps;
  const t = now.getTime();
  const key = input.dedupKey?.trim() || null;
  const result = await store.change(meta, async (w): Promise<TriggerResult> => {
    if (key) {
      // Two triggers with one key at the same instant must not both open a page.
      if (store.provider === 'postgresql') await w.tx.$executeRaw(Prisma.sql`SELECT pg_advisory_xact_lock(hashtext(${`page-dedup:${key}`}))`);
      const open = await store.pages.openByDedupKey(key, w.tx);
      if (open) {
        const r = reTrigger(open, t);
        if (r.ok) {
          await store.pages.saveTransition(w.tx, open, r.page);
          await addEvent(deps, w.tx, open, { at: t, type: 'retriggered', memberId: input.raisedById, channel: null, text: `Triggered again by ${input.raisedByName} (${r.page.triggerCount} triggers); nobody paged again` });
          await w.audit('page', open.id, 'retrigger', pageSnapshot(open), pageSnapshot(r.page));
          return { merged: true, page: r.page };
        }
      }
    }
    const number = await PageRepository.next(w.tx, 'page');
    const opened = openPage({ id: newId(), dedupKey: key }, t);
    const page: PageRecord = {
      ...opened.page,
      number,
      title: input.title,
      details: input.details?.trim() || null,
      severity: input.severity,
      source: input.source,
      sourceRef: input.sourceRef ?? null,
      policyId: input.policyId,
      policy: input.policy,
      target: input.target,
      raisedById: input.raisedById,
      raisedByName: input.raisedByName,
      channel: input.channel ?? null,
      channelMessage: null,
    };
    await store.pages.createPage(w.tx, page);
    if (page.channel) await outbox.schedule(w.tx, { kind: PAGE_CHANNEL_JOB, key: `page:${page.id}:channel`, dueAt: now, payload: { pageId: page.id } });
    await addEvent(deps, w.tx, page, { at: t, type: 'triggered', memberId: input.raisedById, channel: null, text: `Raised by ${input.raisedByName}, paging ${input.target}` });
    const fence = fenceOf(page);
    for (const step of planEscalation(input.policy, t)) {
      await outbox.schedule(w.tx, { kind: PAGE_STEP_JOB, key: escalationJobKey(fence, step.key), dueAt: new Date(step.dueAt), payload: { pageId: page.id, version: page.version, step: step.key } });
    }
    await w.audit('page', page.id, 'trigger', null, pageSnapshot(page));
    return { merged: false, page };
  });
  outbox.wake?.();
  return result;
}

type Action = { kind: 'ack' } | { kind: 'resolve'; note: string | null };

/**
 * Acknowledges or resolves page number `n` as `by` (a member id, named `byName`). Fenced on the
 * page's version: of two acknowledgements at once, one wins and the other is told who won.
 * Escalation stops: pending steps and sends of the old version are cancelled, and every copy of
 * the page's message is updated.
 */
export async function respondToPage(deps: PagingDeps, meta: AuditMeta, n: number, by: { id: string; name: string }, action: Action, now: Date, via?: string): Promise<RespondResult> {
  const { store, outbox } = deps;
  const t = now.getTime();
  const result = await store.change(meta, async (w): Promise<RespondResult> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const page = await store.pages.pageByNumber(n, w.tx);
      if (!page) return { ok: false, error: { code: 'UNKNOWN_PAGE', message: `There is no page #${n}.` } };
      const tr = action.kind === 'ack' ? acknowledge(page, by.id, t) : resolve(page, by.id, t, action.note);
      if (!tr.ok) return { ok: false, error: tr.error };
      // Lost to a concurrent response: read it again, and the domain says who was first.
      if (!(await store.pages.saveTransition(w.tx, page, tr.page))) continue;
      const next = tr.page;
      // Steps and sends not yet started are cancelled; a send already under way records its outcome.
      const prefix = versionKeyPrefix(page.id, page.version);
      const cancelled = await w.tx.job.updateManyAndReturn({
        where: { idempotencyKey: { startsWith: prefix }, status: 'pending' },
        data: { status: 'cancelled', finishedAt: now },
        select: { idempotencyKey: true },
      });
      await store.pages.skipPending(w.tx, cancelled.map((j) => j.idempotencyKey), t, action.kind === 'ack' ? 'acknowledged before it was due' : 'resolved before it was due');
      const how = via ? ` (${via})` : '';
      const text =
        action.kind === 'ack'
          ? `Acknowledged by ${by.name}${how}; escalation stopped`
          : `Resolved by ${by.name}${how}${next.resolutionNote ? `: ${next.resolutionNote}` : ''}`;
      await addEvent(deps, w.tx, page, { at: t, type: action.kind === 'ack' ? 'acknowledged' : 'resolved', memberId: by.id, channel: null, text });
      await outbox.schedule(w.tx, { kind: PAGE_REFRESH_JOB, key: `page:${page.id}:refresh:v${next.version}`, dueAt: now, payload: { pageId: page.id } });
      // Whoever raised it from a DM hears back there (a channel sees it in the thread).
      if (page.raisedById && page.raisedById !== by.id && !page.channel) {
        await outbox.deliver(w.tx, {
          key: `page:${page.id}:raiser:v${next.version}`,
          to: { kind: 'member', memberId: page.raisedById },
          reply: message({ title: `Page #${page.number}: ${page.title}`, text, visibility: 'direct', fallback: `Page #${page.number} ${action.kind === 'ack' ? 'acknowledged' : 'resolved'} by ${by.name}` }),
        });
      }
      await w.audit('page', page.id, action.kind === 'ack' ? 'acknowledge' : 'resolve', pageSnapshot(page), pageSnapshot(next));
      return { ok: true, page: next };
    }
    return { ok: false, error: { code: 'NOT_OPEN', message: `Page #${n} changed while you answered it; look at it again with /page show ${n}.` } };
  });
  if (result.ok) outbox.wake?.();
  return result;
}
