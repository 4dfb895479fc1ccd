// SITREP jobs on the durable scheduler: send a published SITREP (once per destination), send the
// lead the draft to review 30 minutes before it is due, and at the deadline either publish the
// draft marked automatic or remind the lead again, as the crisis is configured.
import { z } from 'zod/v4';
import { onMissedDeadline } from '../../domain/sitrep';
import { message } from '../../domain/reply';
import type { JobOutcome, Scheduler } from '../../jobs/scheduler';
import { invalidPayload } from '../../jobs/scheduler';
import { deliveryOutcome } from '../../notify/deliver';
import type { ChannelProbe, Notifier } from '../../notify/types';
import type { Logger } from '../../logger';
import type { CrisisRecord } from '../../store/crisis.repository';
import { systemMeta, type Store } from '../../store/store';
import type { Outbox } from '../ports';
import { when } from '../roster/roster-common';
import { sitrepDraft, sitrepMessage } from './sitrep-view';
import { draftPreview } from './sitrep.commands';
import { currentDraft, latePolicyOf, publishedChart, publishSitrep, SITREP_DUE_JOB, SITREP_REVIEW_JOB, SITREP_SEND_JOB, type SitrepDeps } from './sitrep.service';

export interface SitrepJobDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  missionTimeZone: string;
  chat?: Notifier & Partial<ChannelProbe>;
}

const destinationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('channel'), channel: z.string().min(1) }),
  z.object({ kind: z.literal('member'), memberId: z.string().min(1) }),
]);
const sendPayload = z.object({ sitrepId: z.string().min(1), to: destinationSchema });
const slotPayload = z.object({ crisisId: z.string().min(1), dueAt: z.iso.datetime(), attempt: z.number().int().positive().optional() });

/** The slot is still the crisis's next one (a publish, a new cadence or a stand-down moves it on). */
function current(crisis: CrisisRecord | null, dueAt: string): crisis is CrisisRecord {
  return crisis !== null && crisis.status === 'active' && crisis.sitrepDueAt !== null && crisis.sitrepDueAt.toISOString() === dueAt;
}

export function registerSitrepJobs(scheduler: Scheduler, deps: SitrepJobDeps): void {
  const sitrepDeps: SitrepDeps = { store: deps.store, outbox: deps.outbox, missionTimeZone: deps.missionTimeZone, ...(deps.chat?.canPost ? { channels: deps.chat as ChannelProbe } : {}) };

  scheduler.register(
    SITREP_SEND_JOB,
    async (job): Promise<JobOutcome> => {
      const p = sendPayload.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      const chat = deps.chat;
      if (!chat) return { status: 'failed', error: 'no chat platform is connected' };
      const s = await deps.store.sitreps.byId(p.data.sitrepId);
      if (!s || s.status !== 'published' || s.number === null) return { status: 'failed', error: 'not a published SITREP' };
      const crisis = await deps.store.crises.byId(s.crisisId);
      if (!crisis) return { status: 'failed', error: 'the crisis is gone' };
      const to = p.data.to;
      if (to.kind === 'member') {
        // Checked at sending: a leader who unsubscribed or lost the role since gets nothing.
        const [member, scopes] = await Promise.all([deps.store.members.byId(to.memberId), deps.store.sitreps.subscriptionsOf(to.memberId)]);
        if (!member || member.removedAt || !member.roles.includes('leader')) return { status: 'done', result: { skipped: 'no longer a leader' } };
        if (!scopes.includes('*') && !scopes.includes(crisis.id)) return { status: 'done', result: { skipped: 'unsubscribed' } };
      }
      const tz = deps.missionTimeZone;
      const previous = s.number > 1 ? await deps.store.sitreps.byNumber(crisis.id, s.number - 1) : null;
      const chart = await publishedChart(deps.store, crisis, s, tz);
      const reply = sitrepMessage(sitrepDraft(crisis, s, previous, tz, s.number), {
        attachments: [chart],
        visibility: to.kind === 'channel' ? 'channel' : 'direct',
        buttons: [{ label: 'History', command: `/sitrep history ${crisis.code}` }],
      });
      const r = await chat.send(to, reply);
      if (!r.ok && !r.retryable) deps.logger.warn({ sitrepId: s.id, to: to.kind, error: r.error }, 'a SITREP could not be delivered');
      return deliveryOutcome(r, job.attempts);
    },
    // A second post of a SITREP would be a second SITREP to its readers.
    { atMostOnce: true },
  );

  scheduler.register(SITREP_REVIEW_JOB, async (job, ctx): Promise<JobOutcome> => {
    const p = slotPayload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const crisis = await deps.store.crises.byId(p.data.crisisId);
    if (!current(crisis, p.data.dueAt)) return { status: 'done', result: { skipped: 'not the next SITREP any more' } };
    if (!crisis.leadId) {
      ctx.logger.warn({ crisis: crisis.code }, 'a SITREP is due but the crisis has no lead to review it');
      return { status: 'done', result: { skipped: 'no lead' } };
    }
    const dueAt = new Date(p.data.dueAt);
    const draft = await currentDraft(sitrepDeps, crisis, null, ctx.now, dueAt);
    // No chart: a stored message carries no files; the table has the figures.
    const reply = await draftPreview({ store: deps.store, settings: { missionTimeZone: deps.missionTimeZone } }, crisis, draft, `SITREP due ${when(dueAt.getTime(), deps.missionTimeZone)}: please review and publish.`, { chart: false });
    await deps.store.transaction((tx) => deps.outbox.deliver(tx, { key: `sitrep-review-dm:${crisis.id}:${p.data.dueAt}`, to: { kind: 'member', memberId: crisis.leadId as string }, reply: { ...reply, visibility: 'direct' } }));
    deps.outbox.wake?.();
    return { status: 'done' };
  });

  scheduler.register(SITREP_DUE_JOB, async (job, ctx): Promise<JobOutcome> => {
    const p = slotPayload.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    const crisis = await deps.store.crises.byId(p.data.crisisId);
    if (!current(crisis, p.data.dueAt)) return { status: 'done', result: { skipped: 'published, rescheduled or stood down' } };
    const attempt = p.data.attempt ?? 1;
    const action = onMissedDeadline(latePolicyOf(crisis), attempt);
    const dueText = when(new Date(p.data.dueAt).getTime(), deps.missionTimeZone);
    let why = '';
    if (action.action === 'publish-automatic') {
      const draft = await currentDraft(sitrepDeps, crisis, null, ctx.now, new Date(p.data.dueAt));
      const r = await publishSitrep(sitrepDeps, crisis, draft.id, draft.version, { memberId: null, meta: systemMeta(job.id), automatic: true }, ctx.now);
      if (r.ok) {
        if (crisis.leadId) {
          await deps.store.transaction((tx) =>
            deps.outbox.deliver(tx, {
              key: `sitrep-auto:${crisis.id}:${p.data.dueAt}`,
              to: { kind: 'member', memberId: crisis.leadId as string },
              reply: message({ text: `SITREP ${r.sitrep.number} of ${crisis.code} was due ${dueText} and was published automatically, marked "automatic draft".`, buttons: [{ label: 'Show it', command: `/sitrep show ${crisis.code} ${r.sitrep.number}` }], visibility: 'direct' }),
            }),
          );
          deps.outbox.wake?.();
        }
        return { status: 'done', result: { published: r.sitrep.number } };
      }
      // Could not publish (no channel the bot can post to…): the lead must hear of it, and again later.
      why = ` It could not be published automatically: ${r.message}`;
      ctx.logger.warn({ crisis: crisis.code, code: r.code }, 'an automatic SITREP could not be published');
    }
    if (!crisis.leadId) return { status: 'done', result: { skipped: 'no lead to remind' } };
    const draft = await deps.store.sitreps.draftOf(crisis.id);
    // A failed automatic publish is retried on the reminder rhythm.
    const remind = action.action === 'remind' ? action : onMissedDeadline('remind', attempt);
    const nextAt = new Date(ctx.now.getTime() + (remind.action === 'remind' ? remind.nextInMs : 15 * 60_000));
    await deps.store.transaction(async (tx) => {
      if (draft) await deps.store.sitreps.setReminders(tx, draft.id, attempt);
      await deps.outbox.deliver(tx, {
        key: `sitrep-late:${crisis.id}:${p.data.dueAt}:${attempt}`,
        to: { kind: 'member', memberId: crisis.leadId as string },
        reply: message({
          title: `SITREP overdue: ${crisis.code}`,
          text: `The ${crisis.code} SITREP was due ${dueText} and is not published (reminder ${attempt}).${why} Next reminder ${when(nextAt.getTime(), deps.missionTimeZone)}.`,
          buttons: [{ label: 'Review the draft', command: `/sitrep ${crisis.code}`, style: 'primary' }, { label: 'Edit', command: `/sitrep edit ${crisis.code}` }],
          visibility: 'direct',
        }),
      });
      await deps.outbox.schedule(tx, { kind: SITREP_DUE_JOB, key: `sitrep-due:${crisis.id}:${p.data.dueAt}:${attempt + 1}`, dueAt: nextAt, payload: { crisisId: crisis.id, dueAt: p.data.dueAt, attempt: attempt + 1 } });
    });
    deps.outbox.wake?.();
    return { status: 'done', result: { reminded: attempt } };
  });
}
