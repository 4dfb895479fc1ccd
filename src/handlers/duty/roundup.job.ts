// The `roundup` job: each day at the configured mission time, the roundup is built from live data
// and posted to the leadership channel with its chart; `/duty roundup now` posts one at once.
// A day's job is keyed by date and time (roundup.service.ts planRoundup), plans the next day's
// before it sends, and claims its date first, so a day gets one roundup at most whatever the
// replicas, restarts or time changes. At most once: a lost run is not repeated.
import { z } from 'zod/v4';
import { message, type MessageReply } from '../../domain/reply';
import { minutesOf, ROUNDUP_MAX_LATE_MS } from '../../domain/roundup';
import { parseDateKey, zonedInstant } from '../../domain/zoned';
import { backoffMs } from '../../jobs/backoff';
import { invalidPayload, type ClaimedJob, type JobContext, type JobOutcome, type Scheduler } from '../../jobs/scheduler';
import type { Logger } from '../../logger';
import type { DeliveryResult, Notifier } from '../../notify/types';
import type { Store } from '../../store/store';
import type { Outbox } from '../ports';
import { claimRoundupDay, loadRoundup, planRoundup, ROUNDUP_JOB, roundupConfig } from './roundup.service';
import { renderRoundup } from './roundup.view';

/** Claims of one roundup before a retryable delivery failure is final. */
const ATTEMPTS = 6;

const payloadSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('daily'), date: z.string(), at: z.string() }),
  z.object({ mode: z.literal('now'), channel: z.string().min(1), requestedBy: z.string().nullable() }),
]);

export interface RoundupJobDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  missionTimeZone: string;
  chat?: Notifier;
}

/** What a delivery's result means for the job: retried while the provider says it may work later. */
function outcomeOf(r: DeliveryResult, job: ClaimedJob, log: Logger, result: Record<string, unknown>): JobOutcome {
  if (r.ok) {
    // A part of the message (the chart) may not have gone: the message did, so it is not resent.
    const warning = (r as { warning?: unknown }).warning;
    if (typeof warning === 'string') log.warn({ warning }, 'the roundup was posted without all of its attachments');
    return { status: 'done', result: { ...result, ...(r.copy ? { copy: r.copy } : {}) } };
  }
  if (r.retryable && job.attempts < ATTEMPTS) return { status: 'retry', afterMs: r.retryAfterMs ?? backoffMs(job.attempts), error: r.error };
  log.error({ error: r.error, ...result }, 'the roundup could not be posted');
  return { status: 'failed', error: r.error };
}

/** The roundup from live data; a failure to build it (nothing was sent) is retried. */
async function build(deps: RoundupJobDeps, job: ClaimedJob, ctx: JobContext): Promise<{ ok: true; reply: MessageReply } | { ok: false; outcome: JobOutcome }> {
  try {
    return { ok: true, reply: await renderRoundup(await loadRoundup(deps.store, deps.missionTimeZone, ctx.now.getTime())) };
  } catch (err) {
    const error = `building the roundup failed: ${err instanceof Error ? err.message : String(err)}`;
    if (job.attempts < ATTEMPTS) return { ok: false, outcome: { status: 'retry', afterMs: backoffMs(job.attempts), error } };
    ctx.logger.error({ err }, 'the roundup could not be built');
    return { ok: false, outcome: { status: 'failed', error } };
  }
}

/** Registers the kind; returns what to run at start-up (plans the next roundup, whatever happened before). */
export function registerRoundupJob(scheduler: Scheduler, deps: RoundupJobDeps): { ensurePlanned(now: number): Promise<void> } {
  const { store, outbox, missionTimeZone: tz } = deps;

  async function daily(job: ClaimedJob, ctx: JobContext, p: { date: string; at: string }): Promise<JobOutcome> {
    const date = parseDateKey(p.date);
    if (!date) return { status: 'failed', error: `invalid payload: date "${p.date}"` };
    const config = await roundupConfig(store);
    if (!config?.enabled) return { status: 'done', result: { skipped: 'the roundup is off' } };
    // The time was changed since this job was planned: the new time has its own job.
    if (config.at !== p.at) return { status: 'done', result: { skipped: `stale: the roundup is now at ${config.at}` } };
    const now = ctx.now.getTime();
    const dueAt = zonedInstant(tz, date, minutesOf(p.at));
    // Tomorrow's first, so that nothing below (a failure, a crash mid-send) ends the series.
    await store.transaction((tx) => planRoundup(store, outbox, tx, config, tz, Math.max(now, dueAt + 1)));
    outbox.wake?.();
    if (now - dueAt > ROUNDUP_MAX_LATE_MS) {
      ctx.logger.warn({ date: p.date, at: p.at }, 'the roundup is too late to send (was the server down?); skipped');
      return { status: 'done', result: { skipped: 'too late' } };
    }
    if (!(await claimRoundupDay(store, p.date, job.id, ctx.now))) return { status: 'done', result: { skipped: `the roundup of ${p.date} has gone out already` } };
    if (!deps.chat) return { status: 'failed', error: 'no chat platform is connected' };
    const built = await build(deps, job, ctx);
    if (!built.ok) return built.outcome;
    const r = await deps.chat.send({ kind: 'channel', channel: config.channel }, built.reply);
    return outcomeOf(r, job, ctx.logger, { channel: config.channel, date: p.date });
  }

  async function now(job: ClaimedJob, ctx: JobContext, p: { channel: string; requestedBy: string | null }): Promise<JobOutcome> {
    const tell = async (text: string): Promise<void> => {
      if (!p.requestedBy) return;
      const to = p.requestedBy;
      await store.transaction((tx) => outbox.deliver(tx, { key: `${job.key}:told`, to: { kind: 'member', memberId: to }, reply: message({ title: 'Daily roundup', text, visibility: 'direct', fallback: text }) }));
      outbox.wake?.();
    };
    if (!deps.chat) {
      await tell('No chat platform is connected: the roundup was not posted.');
      return { status: 'failed', error: 'no chat platform is connected' };
    }
    const built = await build(deps, job, ctx);
    if (!built.ok) {
      if (built.outcome.status === 'failed') await tell('The roundup could not be built; the error is logged.');
      return built.outcome;
    }
    const r = await deps.chat.send({ kind: 'channel', channel: p.channel }, built.reply);
    const outcome = outcomeOf(r, job, ctx.logger, { channel: p.channel, requested: true });
    if (outcome.status === 'failed') await tell(`The roundup could not be posted to ${p.channel}: ${outcome.error}. Check that the bot is in that channel.`);
    return outcome;
  }

  scheduler.register(
    ROUNDUP_JOB,
    async (job, ctx) => {
      const p = payloadSchema.safeParse(job.payload);
      if (!p.success) return invalidPayload(p.error);
      return p.data.mode === 'daily' ? daily(job, ctx, p.data) : now(job, ctx, p.data);
    },
    // A second post would be a second roundup in the channel: a run whose worker died is not repeated.
    { atMostOnce: true, maxAttempts: ATTEMPTS },
  );

  return {
    async ensurePlanned(at: number): Promise<void> {
      const config = await roundupConfig(store);
      if (!config?.enabled) return;
      await store.transaction((tx) => planRoundup(store, outbox, tx, config, tz, at));
      outbox.wake?.();
    },
  };
}
