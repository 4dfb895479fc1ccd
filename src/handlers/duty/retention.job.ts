// Erasure under the retention period: the code both the daily `retention` job and
// `/duty retention run` use. Each batch is one transaction that re-checks, under a lock, that the
// crisis is still stood down or the case still closed, erases, and writes one audit entry (entity
// "retention") with counts and ids only. A second run finds nothing more to erase.
import { z } from 'zod/v4';
import {
  nextRetentionRun,
  parseRetentionConfig,
  parseRetentionRun,
  RETENTION_BATCH,
  RETENTION_RUN_SETTING,
  RETENTION_SETTING,
  retentionCutoff,
  type RetentionConfig,
  type RetentionRun,
} from '../../domain/retention';
import { invalidPayload, type Scheduler } from '../../jobs/scheduler';
import type { Logger } from '../../logger';
import type { Tx } from '../../store/client';
import { RetentionRepository } from '../../store/retention.repository';
import { systemMeta, type AuditMeta, type Store } from '../../store/store';
import type { Outbox } from '../ports';

export const RETENTION_JOB = 'retention';

const payloadSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('daily'), date: z.string() }),
  /** what one `/duty retention run` left for the background */
  z.object({ mode: z.literal('continue'), requestedBy: z.string() }),
]);
export type RetentionPayload = z.output<typeof payloadSchema>;

export function retentionRepository(store: Store): RetentionRepository {
  return new RetentionRepository(store.db, store.provider);
}

export async function retentionConfig(store: Store, client?: Tx): Promise<RetentionConfig> {
  return parseRetentionConfig(await retentionRepository(store).setting(RETENTION_SETTING, client));
}

export async function lastRetentionRun(store: Store): Promise<RetentionRun | null> {
  return parseRetentionRun(await retentionRepository(store).setting(RETENTION_RUN_SETTING));
}

export interface RetentionResult {
  people: number;
  cases: number;
  /** codes of the crises whose people were erased */
  crises: string[];
  batches: number;
  /** stopped at maxBatches with more still due */
  more: boolean;
}

export interface EraseOptions {
  now: Date;
  /** the mission time zone: months are its calendar months */
  timeZone: string;
  /** names the run in the audit log (the job's key, or the command's request id) */
  runId: string;
  /** who ran it, for the last-run record: "@handle" or "daily run" */
  by: string;
  batchSize?: number;
  /** batches at most (a command answers in seconds; a job takes over the rest) */
  maxBatches?: number;
}

/** Erases everything due at `now`, in batches; idempotent. */
export async function eraseDue(store: Store, meta: AuditMeta, opts: EraseOptions): Promise<RetentionResult> {
  const repo = retentionRepository(store);
  const { months } = await retentionConfig(store);
  const cutoff = new Date(retentionCutoff(opts.now.getTime(), months, opts.timeZone));
  const size = opts.batchSize ?? RETENTION_BATCH;
  const max = opts.maxBatches ?? Number.POSITIVE_INFINITY;
  const result: RetentionResult = { people: 0, cases: 0, crises: [], batches: 0, more: false };
  const crises = new Set<string>();
  const rule = { months, cutoff: cutoff.toISOString() };

  for (;;) {
    const ids = await repo.duePeople(cutoff, size);
    if (!ids.length) break;
    if (result.batches >= max) {
      result.more = true;
      break;
    }
    const erased = await store.change(meta, async (w) => {
      const r = await repo.erasePeople(w.tx, ids, cutoff, opts.now);
      if (r.personIds.length) await w.audit('retention', opts.runId, 'erase', null, { ...rule, people: r.personIds.length, personIds: r.personIds, crises: r.crises });
      return r;
    });
    // Nothing erased: the crises were reopened meanwhile; the next run will see.
    if (!erased.personIds.length) break;
    result.batches++;
    result.people += erased.personIds.length;
    for (const c of erased.crises) crises.add(c.code);
  }

  while (!result.more) {
    const ids = await repo.dueCases(cutoff, size);
    if (!ids.length) break;
    if (result.batches >= max) {
      result.more = true;
      break;
    }
    const erased = await store.change(meta, async (w) => {
      const r = await repo.eraseCases(w.tx, ids, cutoff, opts.now);
      if (r.length) await w.audit('retention', opts.runId, 'erase', null, { ...rule, cases: r.length, caseIds: r });
      return r;
    });
    if (!erased.length) break;
    result.batches++;
    result.cases += erased.length;
  }

  result.crises = [...crises].sort();
  const run: RetentionRun = { at: opts.now.toISOString(), people: result.people, cases: result.cases, crises: result.crises, by: opts.by, ...(result.more ? { continued: true } : {}) };
  // Bookkeeping for /duty retention, not a change to anyone's data: the batches carry the audit.
  await store.transaction((tx) => repo.setSetting(tx, RETENTION_RUN_SETTING, run));
  return result;
}

export interface RetentionJobDeps {
  store: Store;
  outbox: Outbox;
  logger: Logger;
  missionTimeZone: string;
}

/** Plans the daily run after `from` (idempotent: replicas and restarts plan the same key). */
export async function planRetention(outbox: Outbox, tx: Tx, timeZone: string, from: number): Promise<number> {
  const next = nextRetentionRun(timeZone, from);
  const payload: RetentionPayload = { mode: 'daily', date: next.key.slice(-10) };
  await outbox.schedule(tx, { kind: RETENTION_JOB, key: next.key, dueAt: new Date(next.dueAt), payload });
  return next.dueAt;
}

/** Registers the kind; returns what to run at start-up (plans the next daily run). */
export function registerRetentionJob(scheduler: Scheduler, deps: RetentionJobDeps): { ensurePlanned(now: number): Promise<void> } {
  const { store, outbox, missionTimeZone: tz } = deps;
  scheduler.register(RETENTION_JOB, async (job, ctx) => {
    const p = payloadSchema.safeParse(job.payload);
    if (!p.success) return invalidPayload(p.error);
    if (p.data.mode === 'daily') {
      // Tomorrow's first, so that a failure below does not end the series.
      await store.transaction((tx) => planRetention(outbox, tx, tz, Math.max(ctx.now.getTime(), job.dueAt.getTime() + 1)));
    }
    const r = await eraseDue(store, systemMeta(job.key), { now: ctx.now, timeZone: tz, runId: job.key, by: p.data.mode === 'daily' ? 'daily run' : p.data.requestedBy });
    // Counts only: the log never names whose data it was.
    if (r.people || r.cases) ctx.logger.info({ people: r.people, cases: r.cases, batches: r.batches }, 'personal data erased under the retention period');
    return { status: 'done', result: { people: r.people, cases: r.cases, batches: r.batches } };
  });
  return {
    async ensurePlanned(now: number): Promise<void> {
      await store.transaction((tx) => planRetention(outbox, tx, tz, now));
    },
  };
}
