// The paging engine's jobs. A step job (re-runnable: it only writes rows with unique keys)
// finds who is to be notified now and queues one send job per person and contact method; a send
// job (at most once) checks the page's fence, sends, and records the provider's answer with a
// timeline entry. Acknowledging or resolving bumps the fence, so later steps and sends stop.
import { z } from 'zod/v4';
import {
  contactPlan,
  deliveryKey,
  parseStepKey,
  type ContactMethod,
  type EscalationTarget,
} from '../../domain/escalation';
import { message, type MessageReply } from '../../domain/reply';
import { onDutyAt } from '../../domain/rotation';
import { invalidPayload, type Scheduler } from '../../jobs/scheduler';
import type { Logger } from '../../logger';
import { parseChatCopy, type ChatCopy, type DeliveryResult, type MessageUpdater, type Notifier } from '../../notify/types';
import type { MemberName } from '../../store/member.repository';
import { pagesSql, type NewNotification, type NotificationRecord, type PageEventRecord, type PageRecord } from '../../store/page.repository';
import { MemberRepository } from '../../store/member.repository';
import { newId } from '../../store/ids';
import { BatchLoader } from '../../store/batch-loader';
import { immediateBatch, type SqlBatch } from '../../store/sql';
import type { Store } from '../../store/store';
import type { CoreSettings } from '../command';
import type { Outbox } from '../ports';
import { loadPlan, when } from '../roster/roster-common';
import { CONTACT_CODE_JOB, type ContactCodePayload } from './contact-code';
import { nameOf, pageMessage } from './page-view';
import { addEvent, PAGE_CHANNEL_JOB, PAGE_REFRESH_JOB, PAGE_SEND_JOB, PAGE_STEP_JOB, PAGE_THREAD_JOB } from './page.service';

/** The ways out. Chat is the members' Slack or Teams DM; SMS and email only when configured. */
export interface PagingChannels {
  chat?: Notifier & Partial<MessageUpdater>;
  sms?: { send(phone: string, reply: MessageReply): Promise<DeliveryResult> };
  email?: { send(address: string, reply: MessageReply): Promise<DeliveryResult> };
}

export interface PagingJobDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  settings: CoreSettings;
  channels: PagingChannels;
}

/** A step firing later than this is reported (the watchdog's threshold). */
export const LATE_STEP_MS = 30_000;
const SEND_ATTEMPTS = 6;
/** How long a thread post waits for the page's channel message to exist. */
const THREAD_WAIT_ATTEMPTS = 8;

const stepPayload = z.object({ pageId: z.string(), version: z.number().int(), step: z.string() });
const sendPayload = z.object({ key: z.string() });
const pagePayload = z.object({ pageId: z.string() });
const threadPayload = z.union([z.object({ pageId: z.string(), at: z.number(), text: z.string() }), z.object({ pageId: z.string(), eventId: z.number().int() })]);
// address: only in jobs queued before addresses were encrypted; now read from the method at send time.
const codePayload = z.object({ contactId: z.string(), kind: z.enum(['sms', 'email']), address: z.string().optional(), text: z.string() });

/** When a member has set up nothing: their chat DM, at once. */
const DEFAULT_CHAT: ContactMethod = { id: 'chat', kind: 'chat', address: null, verified: true, delayMs: 0 };

function channelLabel(n: Pick<NotificationRecord, 'method'>, copy?: ChatCopy | null): string {
  if (n.method === 'sms') return 'SMS';
  if (n.method === 'email') return 'Email';
  return copy?.platform === 'teams' ? 'Teams chat' : copy?.platform === 'slack' ? 'Slack DM' : 'Chat DM';
}

export function registerPagingJobs(scheduler: Scheduler, deps: PagingJobDeps): void {
  const { store, logger, settings, channels } = deps;
  const tz = settings.missionTimeZone;
  // A claim starts many jobs at once: their reads go to the database together.
  const pageLoader = new BatchLoader((ids: string[]) => pagesSql.pages(store.sqlRead(), ids));
  const sendLoader = new BatchLoader((keys: string[]) => pagesSql.forSend(store.sqlRead(), store.cipher, keys));
  const namesLoader = new BatchLoader((ids: string[]) => MemberRepository.namesVia(store.sqlRead(), ids));
  const contactsLoader = new BatchLoader((ids: string[]) => pagesSql.contactsOf(store.sqlRead(), store.cipher, ids));

  /** Member ids a target means at `now`, or why it means nobody. */
  async function membersOf(t: EscalationTarget, now: number): Promise<{ ids: string[]; nobody?: string }> {
    if (t.kind === 'member') return { ids: [t.memberId] };
    if (t.kind === 'role') {
      const ids = await store.members.idsWithRole(t.role);
      return ids.length ? { ids } : { ids, nobody: `nobody has the ${t.role} role` };
    }
    const roster = await store.rosters.byId(t.rosterId);
    if (!roster) return { ids: [], nobody: 'the roster no longer exists' };
    const { plan } = await loadPlan(store, roster);
    const on = onDutyAt(plan, await store.rosters.overrides(roster.id, now, now + 1), now);
    if (!on.covered) return { ids: [], nobody: `${roster.name} is outside its coverage hours` };
    const ids = [...new Set([t.layer !== 'backup' ? on.primary : null, t.layer !== 'primary' ? on.backup : null].filter((x): x is string => x !== null))];
    return ids.length ? { ids } : { ids, nobody: `nobody is on ${t.layer === 'both' ? 'duty' : `${t.layer} duty`} on ${roster.name}` };
  }

  // -------------------------------------------------------------------------------------------
  // A step: who now, and one send per person and contact method.

  scheduler.register(PAGE_STEP_JOB, async (job, ctx) => {
    const p = stepPayload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const { pageId, version, step } = p.data;
    const page = (await pageLoader.load(pageId)) ?? null;
    if (!page) return { status: 'done', result: { skipped: 'no such page' } };
    // The fence: acknowledged, resolved or re-escalated since this step was planned.
    if (page.status !== 'triggered' || page.version !== version) return { status: 'done', result: { skipped: page.status } };
    const at = parseStepKey(step);
    const def = at ? page.policy.steps[at.stepIndex] : undefined;
    if (!at || !def) return { status: 'failed', error: `page ${pageId} has no step ${step}` };
    const now = ctx.now.getTime();
    const lateMs = now - job.dueAt.getTime();
    if (lateMs > LATE_STEP_MS) ctx.logger.warn({ pageId, step, lateMs }, 'escalation step fired late');

    const resolved = await Promise.all(def.targets.map((t) => membersOf(t, now)));
    const memberIds = [...new Set(resolved.flatMap((r) => r.ids))];
    const [nameList, contactList] = await Promise.all([Promise.all(memberIds.map((id) => namesLoader.load(id))), Promise.all(memberIds.map((id) => contactsLoader.load(id)))]);
    const names = new Map(memberIds.flatMap((id, i) => (nameList[i] ? [[id, nameList[i]] as const] : [])));
    const contacts = new Map(memberIds.map((id, i) => [id, contactList[i] ?? []] as const));
    const active = memberIds.filter((id) => names.get(id) && !names.get(id)?.removedAt);
    const fence = { pageId, version };
    const sends: NewNotification[] = [];
    const unreachable: string[] = [];
    for (const id of active) {
      const mine = contacts.get(id) ?? [];
      const plan = contactPlan(mine.length ? mine : [DEFAULT_CHAT], now);
      if (!plan.reachable) {
        unreachable.push(`${nameOf(names, id)} ${plan.message}`);
        continue;
      }
      for (const s of plan.steps) {
        sends.push({ key: deliveryKey(fence, step, id, s.key), pageId, version, step, memberId: id, method: s.method.kind, contactId: s.method.id === DEFAULT_CHAT.id ? null : s.method.id, address: s.method.address, dueAt: s.dueAt });
      }
    }
    const passes = page.policy.repeat + 1;
    const label = `${passes > 1 ? `Pass ${at.pass + 1} of ${passes}, step` : 'Step'} ${at.stepIndex + 1} of ${page.policy.steps.length}`;
    const nobody = resolved.map((r) => r.nobody).filter((x): x is string => Boolean(x));
    const reached = [...new Set(sends.map((s) => s.memberId))];
    if (!reached.length) ctx.logger.warn({ pageId, step, nobody, unreachable: unreachable.length }, 'an escalation step reached nobody');
    const who = reached.length ? `notifying ${reached.map((id) => nameOf(names, id)).join(', ')}` : 'reached nobody';
    const why = [...nobody, ...unreachable];
    return {
      status: 'done',
      effects: async (sql) => {
        pagesSql.addNotifications(sql, store.cipher, sends);
        scheduler.enqueueIn(sql, sends.map((s) => ({ kind: PAGE_SEND_JOB, key: s.key, dueAt: new Date(s.dueAt), payload: { key: s.key } })));
        event(sql, page, { at: now, type: reached.length ? 'step' : 'unreachable', memberId: null, channel: null, text: `${label}: ${who}${why.length ? ` (${why.join('; ')})` : ''}` });
      },
    };
  });

  /** addEvent in plain SQL: the timeline entry, and its thread post when the page has a channel. */
  function event(sql: SqlBatch, page: Pick<PageRecord, 'id' | 'channel'>, e: Omit<PageEventRecord, 'id' | 'pageId'>): void {
    pagesSql.addEvent(sql, { ...e, pageId: page.id });
    if (page.channel) scheduler.enqueueIn(sql, [{ kind: PAGE_THREAD_JOB, key: `page:${page.id}:thread:${newId()}`, dueAt: new Date(e.at), payload: { pageId: page.id, at: e.at, text: e.text } }]);
  }

  // -------------------------------------------------------------------------------------------
  // A send: fenced, at most once, its answer recorded.

  async function sendOne(n: NotificationRecord, page: PageRecord, viewerZone: string): Promise<DeliveryResult> {
    const reply = pageMessage(page, new Map<string, MemberName>(), viewerZone);
    if (n.method === 'chat') return channels.chat ? channels.chat.send({ kind: 'member', memberId: n.memberId }, reply) : { ok: false, retryable: false, error: 'no chat platform is connected' };
    if (!n.address) return { ok: false, retryable: false, error: `no ${n.method} address` };
    if (n.method === 'sms') return channels.sms ? channels.sms.send(n.address, reply) : { ok: false, retryable: false, error: 'SMS is not configured (SMS_WEBHOOK_URL)' };
    return channels.email ? channels.email.send(n.address, reply) : { ok: false, retryable: false, error: 'email is not configured (SMTP_URL)' };
  }

  scheduler.register(
    PAGE_SEND_JOB,
    async (job, ctx) => {
      const p = sendPayload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const found = await sendLoader.load(p.data.key);
      if (!found) return { status: 'failed', error: `no notification ${p.data.key}` };
      const { n, page } = found;
      if (n.status !== 'pending') return { status: 'done', result: { skipped: n.status } };
      const at = ctx.now.getTime();
      if (!page || page.status !== 'triggered' || page.version !== n.version) {
        const reason = page ? `page ${page.status} before this was due` : 'page gone';
        return { status: 'done', result: { skipped: reason }, effects: (sql) => pagesSql.finishNotification(sql, n.key, { status: 'skipped', at, error: reason }) };
      }
      const name = found.name ?? 'a removed member';
      const r = await sendOne(n, page, found.timeZone ?? tz);
      if (r.ok) {
        const copy = r.copy ?? null;
        const how = channelLabel(n, copy);
        return {
          status: 'done',
          effects: (sql) => {
            pagesSql.finishNotification(sql, n.key, { status: 'sent', at, providerId: r.providerId ?? null, platform: copy?.platform ?? null, conversation: copy?.conversation ?? null, messageId: copy?.messageId ?? null });
            event(sql, page, { at, type: 'sent', memberId: n.memberId, channel: copy?.platform ?? n.method, text: `${how} to ${name}` });
            // Answered while this was in flight: the refresh ran without this copy, so go again.
            if (copy) {
              sql.add(
                `INSERT INTO "Job" ("id", "kind", "idempotencyKey", "payload", "dueAt", "status", "createdAt")
                 SELECT ?, ?, ?, ?, ?, 'pending', ? WHERE EXISTS (SELECT 1 FROM "Page" WHERE "id" = ? AND "version" <> ?)
                 ON CONFLICT ("idempotencyKey") DO NOTHING`,
                [newId(), PAGE_REFRESH_JOB, `page:${page.id}:refresh:${n.key}`, JSON.stringify({ pageId: page.id }), new Date(at), new Date(at), page.id, page.version],
              );
            }
          },
        };
      }
      if (r.retryable && job.attempts < SEND_ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? Math.min(30_000, 1000 * 2 ** (job.attempts - 1)), error: r.error };
      const how = channelLabel(n);
      return {
        status: 'failed',
        error: r.error,
        effects: (sql) => {
          pagesSql.finishNotification(sql, n.key, { status: r.unknownOutcome ? 'unknown' : 'failed', at, error: r.error });
          event(sql, page, { at, type: r.unknownOutcome ? 'unknown' : 'failed', memberId: n.memberId, channel: n.method, text: `${how} to ${name} ${r.unknownOutcome ? 'may not have arrived' : 'failed'}: ${r.error}` });
        },
      };
    },
    {
      atMostOnce: true,
      maxAttempts: SEND_ATTEMPTS,
      // Its worker died mid-send: it may have gone out. Say so; never send it again.
      onLost: async (lost, tx) => {
        const p = sendPayload.safeParse(lost.payload);
        if (!p.success) return;
        const n = await store.pages.notification(p.data.key, tx);
        if (!n || n.status !== 'pending') return;
        const at = scheduler.now().getTime();
        const batch = immediateBatch(store.sqlIn(tx));
        pagesSql.finishNotification(batch, n.key, { status: 'unknown', at, error: 'the worker stopped mid-send; not resent' });
        await Promise.all(batch.pending);
        const page = await store.pages.page(n.pageId, tx);
        const member = (await store.members.names([n.memberId], tx)).get(n.memberId);
        if (page) await addEvent(deps, tx, page, { at, type: 'unknown', memberId: n.memberId, channel: n.method, text: `${channelLabel(n)} to ${member?.displayName ?? 'a removed member'}: outcome unknown (the sender stopped mid-send); not resent` });
      },
    },
  );

  // -------------------------------------------------------------------------------------------
  // Every copy of the page's message, updated in place after an acknowledgement or resolution.

  scheduler.register(PAGE_REFRESH_JOB, async (job) => {
    const p = pagePayload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const page = await store.pages.page(p.data.pageId);
    if (!page) return { status: 'done' };
    const update = channels.chat?.update?.bind(channels.chat);
    if (!update) return { status: 'done', result: { skipped: 'no chat platform can update messages' } };
    const sent = (await store.pages.notifications(page.id)).filter((n) => n.status === 'sent' && n.platform && n.conversation && n.messageId);
    const names = await store.members.names([...new Set([page.acknowledgedBy, page.resolvedBy, ...sent.map((n) => n.memberId)].filter((x): x is string => Boolean(x)))]);
    const copies: { copy: ChatCopy; zone: string }[] = sent.map((n) => ({
      copy: { platform: n.platform as 'slack' | 'teams', conversation: n.conversation as string, messageId: n.messageId as string },
      zone: names.get(n.memberId)?.timeZone ?? tz,
    }));
    const root = parseChatCopy(page.channelMessage);
    if (root) copies.push({ copy: root, zone: tz });
    const results = await Promise.all(copies.map(({ copy, zone }) => update(copy, { ...pageMessage(page, names, zone), visibility: 'channel' })));
    const retry = results.find((r) => !r.ok && r.retryable);
    if (retry && !retry.ok) return { status: 'retry', afterMs: retry.retryAfterMs ?? 2000, error: retry.error };
    const failed = results.filter((r) => !r.ok);
    if (failed.length) logger.warn({ pageId: page.id, failed: failed.length }, 'some copies of a page could not be updated');
    return { status: 'done', result: { updated: results.length - failed.length, failed: failed.length } };
  });

  // -------------------------------------------------------------------------------------------
  // A page raised in a channel: the page there, and its timeline in the thread under it.

  scheduler.register(
    PAGE_CHANNEL_JOB,
    async (job, ctx) => {
      const p = pagePayload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const page = await store.pages.page(p.data.pageId);
      if (!page?.channel) return { status: 'done' };
      if (!channels.chat) return { status: 'failed', error: 'no chat platform is connected' };
      const ids = [page.acknowledgedBy, page.resolvedBy].filter((x): x is string => Boolean(x));
      const r = await channels.chat.send({ kind: 'channel', channel: page.channel }, { ...pageMessage(page, await store.members.names(ids), tz), visibility: 'channel' });
      if (r.ok) {
        const copy = r.copy;
        if (!copy) return { status: 'done' };
        return {
          status: 'done',
          effects: (sql) => {
            sql.add(`UPDATE "Page" SET "channelMessage" = ? WHERE "id" = ?`, [JSON.stringify(copy), page.id]);
            // Timeline posts waiting for this root go now rather than at their next retry.
            sql.add(`UPDATE "Job" SET "dueAt" = ? WHERE "idempotencyKey" LIKE ? AND "status" = 'pending'`, [ctx.now, `page:${page.id}:thread:%`]);
          },
        };
      }
      if (r.retryable && job.attempts < SEND_ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? 1000 * job.attempts, error: r.error };
      ctx.logger.warn({ pageId: page.id, error: r.error }, 'could not post a page in its channel');
      return { status: 'failed', error: r.error };
    },
    { atMostOnce: true, maxAttempts: SEND_ATTEMPTS },
  );

  scheduler.register(
    PAGE_THREAD_JOB,
    async (job) => {
      const p = threadPayload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const page = await store.pages.page(p.data.pageId);
      if (!page?.channel) return { status: 'done' };
      if (!channels.chat) return { status: 'failed', error: 'no chat platform is connected' };
      const root = parseChatCopy(page.channelMessage);
      // The page's own post goes first; the thread hangs under it.
      if (!root && job.attempts < THREAD_WAIT_ATTEMPTS) return { status: 'retry', afterMs: 500 * job.attempts, error: 'waiting for the page to be posted in the channel' };
      const d = p.data;
      const e = 'text' in d ? d : (await store.pages.events(page.id, 1000)).find((x) => x.id === d.eventId);
      if (!e) return { status: 'done' };
      const text = `${when(e.at, tz)} · ${e.text}`;
      const r = await channels.chat.send({ kind: 'channel', channel: page.channel, ...(root ? { thread: root.messageId } : {}) }, message({ text, visibility: 'channel', fallback: text }));
      if (r.ok) return { status: 'done' };
      if (r.retryable && job.attempts < SEND_ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? 1000 * job.attempts, error: r.error };
      return { status: 'failed', error: r.error };
    },
    { atMostOnce: true, maxAttempts: Math.max(SEND_ATTEMPTS, THREAD_WAIT_ATTEMPTS + 2) },
  );

  // -------------------------------------------------------------------------------------------
  // Verification codes for new phones and emails.

  scheduler.register(
    CONTACT_CODE_JOB,
    async (job) => {
      const p = codePayload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const c: ContactCodePayload = p.data;
      const reply = message({ title: 'Duty Desk verification code', text: c.text, visibility: 'direct', fallback: c.text });
      const out = c.kind === 'sms' ? channels.sms : channels.email;
      if (!out) return { status: 'failed', error: `${c.kind} is not configured` };
      const address = c.address ?? (await store.pages.contactById(c.contactId))?.address;
      if (!address) return { status: 'failed', error: 'the contact method was removed before its code went out' };
      const r = await out.send(address, reply);
      if (r.ok) return { status: 'done' };
      if (r.retryable && job.attempts < SEND_ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? 1000 * job.attempts, error: r.error };
      return { status: 'failed', error: r.error };
    },
    { atMostOnce: true, maxAttempts: SEND_ATTEMPTS },
  );
}

