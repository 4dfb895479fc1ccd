// The durable scheduler: every timer and every outbound message is a row in the Job table,
// claimed with a lease so that several processes can poll the same table safely.
//
// Life of a job: pending → running (claimed: lease, attempts+1) → done | failed | pending again
// (retry) ; pending → cancelled. A running job whose lease ran out belonged to a worker that
// died: ordinary kinds run again, at-most-once kinds (message sends) are marked failed because
// nobody knows whether the message went out (GoAlert's rule: never page anyone twice).
//
// Lanes: jobs of a kind registered with `lane` (messages, keyed by their destination) start in
// the order they were queued (job ids sort so), one at a time per lane within a process. A job of
// a lane waiting for its retry (the platform is down or rate-limiting) holds the lane: later jobs
// of the lane are put back, their attempt not counted, until it has gone or given up. The hold is
// a Setting row ("job-lane:<lane>"), so every process honours it; what is not shared is the turn
// taking, so two replicas may still start two jobs of one lane that fall due at the same instant.
import crypto from 'node:crypto';
import os from 'node:os';
import { z } from 'zod/v4';
import { Prisma, type Job } from '../generated/prisma-sqlite/client';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from '../store/availability';
import type { Tx } from '../store/client';
import { newId } from '../store/ids';
import { dateOf, dateOrNull, immediateBatch, inList, PgBatch, type SqlBatch, type SqlValue } from '../store/sql';
import type { Store } from '../store/store';
import { backoffMs } from './backoff';

export interface JobSpec {
  kind: string;
  /** Idempotency key: one row per intended action. */
  key: string;
  dueAt: Date;
  /** Stored as JSON. */
  payload: unknown;
}

/**
 * Database writes that belong to a job's outcome (a timeline entry, follow-up jobs): run in the
 * same transaction that records the outcome, so they happen exactly when the outcome is
 * recorded. Outcomes are written in batches (one transaction for many jobs), which is what lets
 * a burst of thousands of jobs through in seconds.
 */
export type Effects = (sql: SqlBatch) => void | Promise<void>;

/** The outcome of a job whose payload does not parse: failed for good, with zod's explanation. */
export function invalidPayload(error: z.ZodError): JobOutcome {
  return { status: 'failed', error: `invalid payload: ${z.prettifyError(error)}` };
}

export type JobOutcome =
  | { status: 'done'; result?: unknown; effects?: Effects }
  | { status: 'retry'; afterMs: number; error: string; effects?: Effects }
  | { status: 'failed'; error: string; effects?: Effects };

/** An at-most-once job whose worker died mid-run (see RegisterOptions.onLost). */
export interface LostJob {
  id: string;
  kind: string;
  key: string;
  payload: unknown;
}

export interface ClaimedJob {
  id: string;
  kind: string;
  key: string;
  payload: unknown;
  dueAt: Date;
  /** Including this one. */
  attempts: number;
}

export interface JobContext {
  /** The scheduler's clock when the job started. */
  now: Date;
  logger: Logger;
  scheduler: Scheduler;
}

export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<JobOutcome>;

export interface RegisterOptions {
  /**
   * The job has an effect outside the database that must not happen twice (a message). If its
   * worker dies mid-run the outcome is unknown: the job is marked failed, not run again; a
   * thrown handler is treated the same way. A `retry` outcome (known not to have happened) is
   * retried as usual.
   */
  atMostOnce?: boolean;
  /** Claims after which a job that keeps asking for a retry (or keeps throwing) fails. Default 8. */
  maxAttempts?: number;
  /**
   * Called, in the transaction that marks it failed, for each at-most-once job of this kind whose
   * worker died mid-run: the place to record "outcome unknown" where people will see it.
   */
  onLost?: (job: LostJob, tx: Tx) => Promise<void>;
  /**
   * Called when the scheduler gives up on a job whose workers kept dying on it (claimed more than
   * maxAttempts times), before it is marked failed without running: the place to close what the
   * job had opened (an import left "running"). Must be idempotent: a death between the two
   * brings it here again.
   */
  onAbandoned?: (job: LostJob, tx: Tx) => Promise<void>;
  /**
   * The job's lane (e.g. "chat:member:<id>"), from its payload; undefined for none. Jobs of one
   * lane, of any kind, are started in the order they were queued and never overtake one that
   * waits for its retry. Keep it cheap: it runs for every claimed job of the kind.
   */
  lane?: (payload: unknown) => string | undefined;
}

export interface SchedulerOptions {
  store: Store;
  logger: Logger;
  clock?: () => Date;
  /** Written to lockedBy; unique per process. */
  workerId?: string;
  /** Poll interval of start(). Default 500 ms. */
  pollMs?: number;
  /** How long a claim holds a job before another worker may take it. Default 60 s; renewed while the handler runs. */
  leaseMs?: number;
  /** Jobs claimed per cycle, and jobs running at once under start(). Default 50. */
  batch?: number;
  /** late() counts jobs overdue by more than this. Default 30 s. */
  lateAfterMs?: number;
}

export const OUTCOME_UNKNOWN = 'outcome unknown; not resent';
export const DEFAULT_MAX_ATTEMPTS = 8;
/** Setting rows that hold a lane for the job waiting for its retry. */
export const LANE_SETTING_PREFIX = 'job-lane:';
/** How soon a job put back behind a lane's job that runs (or is due) elsewhere looks again. */
export const LANE_RECHECK_MS = 250;
/**
 * Jobs of a lane due within this are counted as waiting ahead of a claimed one (those put back
 * for order, or to look again, are due within it). A message due that soon and queued earlier may
 * hold a later one back by as much.
 */
const LANE_ORDER_WINDOW_MS = 1_000;
/** The longest pause between claims while the database is away. */
const MAX_CLAIM_BACKOFF_MS = 5_000;

interface Registration {
  handler: JobHandler;
  atMostOnce: boolean;
  maxAttempts: number;
  onLost?: (job: LostJob, tx: Tx) => Promise<void>;
  onAbandoned?: (job: LostJob, tx: Tx) => Promise<void>;
  lane?: (payload: unknown) => string | undefined;
}

/** `deferred`: back to pending, not run, its attempt not counted (it waits for its lane). */
type Finish =
  | { status: 'done'; result?: unknown }
  | { status: 'pending'; dueAt: Date; error: string }
  | { status: 'failed'; error: string }
  | { status: 'deferred'; dueAt: Date };

/** A claimed job's place in its lane. */
interface LanePlan {
  lane: string;
  /** It holds the lane (it is the job the others wait for). */
  holder: boolean;
  /** Not to run now: put back until then. */
  deferUntil?: Date;
}

interface Finishing {
  row: Job;
  f: Finish;
  effects?: Effects;
  reg?: Registration;
  lane?: LanePlan;
  log: Logger;
  done: () => void;
}

/** Outcomes written per transaction, at most. */
const FLUSH_BATCH = 200;

// Job ids sort in the order they were made (UUID version 7: milliseconds, then a counter), so
// that a lane's jobs can be taken in the order they were queued.
let idMs = 0;
let idSeq = 0;

/** A UUIDv7 string, strictly increasing within this process. */
export function jobId(): string {
  // Random bits from a v4 UUID: node draws those from a cached pool, far cheaper than randomBytes.
  const r = crypto.randomUUID();
  const now = Date.now();
  if (now > idMs) {
    idMs = now;
    // A random start leaves room for the counter and keeps processes apart.
    idSeq = parseInt(r.slice(15, 18), 16) & 0x7ff;
  } else if (++idSeq > 0xfff) {
    // 4,096 in one millisecond: borrow the next one.
    idMs++;
    idSeq = 0;
  }
  const ms = idMs.toString(16).padStart(12, '0');
  // r's last two groups keep their RFC 9562 variant bits.
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${idSeq.toString(16).padStart(3, '0')}-${r.slice(19)}`;
}

interface LaneHold {
  job: string;
  until: string;
}

/** The Setting value of a lane's hold: it starts with the job's id, so that a DELETE can match on it. */
function holdValue(jobId: string, until: Date): string {
  return JSON.stringify({ job: jobId, until: until.toISOString() } satisfies LaneHold);
}

const holdSchema = z.object({ job: z.string(), until: z.string() });

function parseHold(value: string): LaneHold | null {
  try {
    const r = holdSchema.safeParse(JSON.parse(value));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function later(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ClaimArgs {
  now: Date;
  /** The new lease's end. */
  until: Date;
  limit: number;
  atMostOnce: string[];
  mine: string[];
}

/** `AND "id" NOT IN (…)` for raw PostgreSQL queries, or nothing. */
function notMine(ids: string[]): Prisma.Sql {
  return ids.length ? Prisma.sql`AND "id" NOT IN (${Prisma.join(ids)})` : Prisma.empty;
}

/** A Job row read in plain SQL, in the shape Prisma returns. */
function jobOf(r: Record<string, unknown>): Job {
  const str = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  return {
    id: String(r.id),
    kind: String(r.kind),
    idempotencyKey: String(r.idempotencyKey),
    payload: String(r.payload),
    dueAt: dateOf(r.dueAt),
    status: String(r.status),
    lockedUntil: dateOrNull(r.lockedUntil),
    lockedBy: str('lockedBy'),
    attempts: Number(r.attempts),
    lastError: str('lastError'),
    result: str('result'),
    createdAt: dateOf(r.createdAt),
    finishedAt: dateOrNull(r.finishedAt),
  };
}

/** JSON.stringify that never returns undefined (a job's result column is text). */
function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

export class Scheduler {
  readonly workerId: string;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly clock: () => Date;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly lateAfterMs: number;
  private readonly handlers = new Map<string, Registration>();
  private readonly running = new Set<Promise<void>>();
  /** Ids of the jobs this process is running: never "lost", however late their lease renewal. */
  private readonly active = new Set<string>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  /** A wake() that came while the loop was busy: the next idle() returns at once. */
  private woken = false;
  /** When the PostgreSQL lost-job sweep last ran (epoch ms). */
  private lastSweep = 0;
  /** Outcomes waiting to be written, and the loop writing them. */
  private finishing: Finishing[] = [];
  private flushing: Promise<void> | undefined;
  /** Per lane, the end of the turn of the last job handed to it here: when the lane is free again. */
  private readonly laneTails = new Map<string, Promise<Date | undefined>>();

  constructor(opts: SchedulerOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? (() => new Date());
    this.workerId = opts.workerId ?? `${os.hostname()}:${process.pid}:${newId().slice(0, 8)}`;
    this.pollMs = opts.pollMs ?? 500;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.batch = Math.max(1, opts.batch ?? 50);
    this.lateAfterMs = opts.lateAfterMs ?? 30_000;
    this.log = opts.logger.child({ component: 'scheduler', workerId: this.workerId });
  }

  /** The scheduler's clock. */
  now(): Date {
    return this.clock();
  }

  /** Register every kind before start(): a claimed job of an unknown kind fails. */
  register(kind: string, handler: JobHandler, opts: RegisterOptions = {}): void {
    if (this.handlers.has(kind)) throw new Error(`job kind "${kind}" is already registered`);
    this.handlers.set(kind, {
      handler,
      atMostOnce: opts.atMostOnce ?? false,
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(opts.onLost ? { onLost: opts.onLost } : {}),
      ...(opts.onAbandoned ? { onAbandoned: opts.onAbandoned } : {}),
      ...(opts.lane ? { lane: opts.lane } : {}),
    });
  }

  /**
   * Idempotent: a second enqueue with the same key does nothing and returns false. Pass the
   * transaction of a store.change() (w.tx) so that the job commits, or rolls back, with the
   * change that caused it.
   */
  async enqueue(spec: JobSpec, tx?: Tx): Promise<boolean> {
    if (!spec.kind) throw new Error('a job needs a kind');
    if (!spec.key) throw new Error('a job needs an idempotency key');
    if (!(spec.dueAt instanceof Date) || Number.isNaN(spec.dueAt.getTime())) throw new Error(`job ${spec.key}: dueAt is not a valid date`);
    const payload = json(spec.payload);
    const createdAt = this.clock();
    // ON CONFLICT DO NOTHING rather than insert-and-catch: on PostgreSQL a failed insert would
    // abort the caller's whole transaction. Dates go through the driver adapter's formatting,
    // the same as Prisma's own writes (ISO text on SQLite, UTC timestamp on PostgreSQL).
    const insert = (t: Tx): Promise<number> =>
      t.$executeRaw`INSERT INTO "Job" ("id", "kind", "idempotencyKey", "payload", "dueAt", "status", "attempts", "createdAt")
        VALUES (${jobId()}, ${spec.kind}, ${spec.key}, ${payload}, ${spec.dueAt}, 'pending', 0, ${createdAt})
        ON CONFLICT ("idempotencyKey") DO NOTHING`;
    const inserted = (tx ? await insert(tx) : await this.store.transaction(insert)) === 1;
    if (inserted) {
      this.log.debug({ kind: spec.kind, key: spec.key, dueAt: spec.dueAt.toISOString() }, 'job enqueued');
      // Outside a transaction the row is committed now: no need to wait for the next poll.
      if (!tx && spec.dueAt.getTime() <= createdAt.getTime()) this.wake();
    }
    return inserted;
  }

  /**
   * enqueue() for many jobs in one statement, in a job's effects. Same idempotency: existing
   * keys are left alone.
   */
  enqueueIn(sql: SqlBatch, specs: readonly JobSpec[]): void {
    if (!specs.length) return;
    const createdAt = this.clock();
    for (const spec of specs) {
      sql.insert(`INSERT INTO "Job" ("id", "kind", "idempotencyKey", "payload", "dueAt", "status", "createdAt")`, [jobId(), spec.kind, spec.key, json(spec.payload), spec.dueAt, 'pending', createdAt], `ON CONFLICT ("idempotencyKey") DO NOTHING`);
    }
  }

  /** pending → cancelled. False when there is no pending job with this key (already ran, running, unknown). */
  async cancel(key: string, tx?: Tx): Promise<boolean> {
    const now = this.clock();
    const update = (t: Tx): Promise<{ count: number }> =>
      t.job.updateMany({ where: { idempotencyKey: key, status: 'pending' }, data: { status: 'cancelled', finishedAt: now, lockedUntil: null, lockedBy: null } });
    const { count } = tx ? await update(tx) : await this.store.transaction(update);
    if (count) this.log.debug({ key }, 'job cancelled');
    return count === 1;
  }

  /** One claim-and-run cycle at clock(): claims up to `batch` due jobs, runs them, returns how many ran. */
  async runDue(): Promise<number> {
    const jobs = await this.claim(this.batch);
    await Promise.all(await this.hand(jobs));
    return jobs.length;
  }

  /**
   * Polls every pollMs until stop(), running at most `batch` jobs at once. A claim that filled
   * every free slot polls again as soon as a slot frees.
   */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.pollLoop();
  }

  /** Stops polling and waits for running handlers to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    const loop = this.loop;
    this.loop = undefined;
    await loop;
    while (this.running.size) await Promise.all([...this.running]);
  }

  /**
   * The watchdog, for /healthz: pending jobs due more than lateAfterMs ago, and running jobs
   * whose lease ran out more than lateAfterMs ago (nobody is taking them over). oldestMs is how
   * late the oldest of them is (0 when none).
   */
  async late(): Promise<{ count: number; oldestMs: number }> {
    const now = this.clock();
    const limit = new Date(now.getTime() - this.lateAfterMs);
    const [pending, stuck] = await Promise.all([
      this.store.db.job.aggregate({ where: { status: 'pending', dueAt: { lt: limit } }, _count: { _all: true }, _min: { dueAt: true } }),
      this.store.db.job.aggregate({ where: { status: 'running', lockedUntil: { lt: limit } }, _count: { _all: true }, _min: { lockedUntil: true } }),
    ]);
    const oldest = [pending._min.dueAt, stuck._min.lockedUntil].filter((d): d is Date => d !== null).map((d) => d.getTime());
    return {
      count: pending._count._all + stuck._count._all,
      oldestMs: oldest.length ? now.getTime() - Math.min(...oldest) : 0,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Claiming

  private atMostOnceKinds(): string[] {
    return [...this.handlers].filter(([, r]) => r.atMostOnce).map(([k]) => k);
  }

  /**
   * In one write transaction: fails the lost at-most-once jobs, then claims up to `limit` due
   * jobs for this worker.
   */
  private async claim(limit: number): Promise<Job[]> {
    const now = this.clock();
    const until = new Date(now.getTime() + this.leaseMs);
    const atMostOnce = this.atMostOnceKinds();
    // A stalled event loop can let our own lease lapse before its renewal runs; those jobs are
    // alive here, and must neither be failed as lost nor claimed a second time.
    const mine = [...this.active];
    const postgres = this.store.provider === 'postgresql';
    let lost: Awaited<ReturnType<Scheduler['failLost']>> = [];
    let jobs: Job[];
    if (postgres) {
      // The lost-job sweep (rare work, with its hooks in a transaction) at most once a second;
      // the claim itself is one autocommit statement on our own pool, the busiest query there is.
      if (atMostOnce.length && now.getTime() - this.lastSweep >= 1000) {
        this.lastSweep = now.getTime();
        lost = await this.store.transaction((tx) => this.failLost(tx, now, atMostOnce, mine));
      }
      jobs = await this.claimPostgres({ now, until, limit, atMostOnce, mine });
    } else {
      ({ lost, jobs } = await this.store.transaction(async (tx) => {
        // Take SQLite's write lock first (a no-op write does): a read first would pin a
        // snapshot, and another process's commit before our write would then fail it
        // ("database is locked") instead of making it wait its turn.
        await this.store.sqlIn(tx).run(`UPDATE "Job" SET "status" = "status" WHERE 0 = 1`);
        const lost = atMostOnce.length ? await this.failLost(tx, now, atMostOnce, mine) : [];
        return { lost, jobs: await this.claimSqlite(tx, { now, until, limit, atMostOnce, mine }) };
      }));
    }
    for (const j of lost) {
      this.log.warn({ jobId: j.id, kind: j.kind, key: j.idempotencyKey, lostWorker: j.lockedBy, attempts: j.attempts }, 'job outcome unknown (its worker stopped mid-run); marked failed, not resent');
    }
    if (jobs.length) this.log.debug({ count: jobs.length }, 'jobs claimed');
    return jobs;
  }

  /** Running at-most-once jobs whose lease ran out: their worker died mid-send. */
  private async failLost(tx: Tx, now: Date, kinds: string[], mine: string[]): Promise<Pick<Job, 'id' | 'kind' | 'idempotencyKey' | 'lockedBy' | 'attempts'>[]> {
    const lost = await this.markLost(tx, now, kinds, mine);
    for (const j of lost) {
      const onLost = this.handlers.get(j.kind)?.onLost;
      if (!onLost) continue;
      let payload: unknown = null;
      try {
        payload = JSON.parse(j.payload) as unknown;
      } catch {
        // an unreadable payload still gets its hook, with null
      }
      await onLost({ id: j.id, kind: j.kind, key: j.idempotencyKey, payload }, tx);
    }
    return lost;
  }

  private markLost(tx: Tx, now: Date, kinds: string[], mine: string[]): Promise<Pick<Job, 'id' | 'kind' | 'idempotencyKey' | 'lockedBy' | 'attempts' | 'payload'>[]> {
    if (this.store.provider === 'postgresql') {
      // SKIP LOCKED here too: workers sweeping at the same moment neither wait for nor deadlock
      // on each other's rows; a row skipped now is swept by whoever holds it, or next cycle.
      return tx.$queryRaw`
        UPDATE "Job" SET "status" = 'failed', "lastError" = ${OUTCOME_UNKNOWN}, "finishedAt" = ${now}, "lockedUntil" = NULL
        WHERE "id" IN (
          SELECT "id" FROM "Job"
          WHERE "status" = 'running' AND "lockedUntil" < ${now} AND "kind" IN (${Prisma.join(kinds)}) ${notMine(mine)}
          FOR UPDATE SKIP LOCKED)
        RETURNING "id", "kind", "idempotencyKey", "lockedBy", "attempts", "payload"`;
    }
    // Plain SQL: this runs every poll, and Prisma's cost per call would be most of it.
    return this.store
      .sqlIn(tx)
      .all<{ id: string; kind: string; idempotencyKey: string; lockedBy: string | null; attempts: number; payload: string }>(
        `UPDATE "Job" SET "status" = 'failed', "lastError" = ?, "finishedAt" = ?, "lockedUntil" = NULL
         WHERE "status" = 'running' AND "lockedUntil" < ? AND "kind" IN (${inList(kinds.length)})${mine.length ? ` AND "id" NOT IN (${inList(mine.length)})` : ''}
         RETURNING "id", "kind", "idempotencyKey", "lockedBy", "attempts", "payload"`,
        [OUTCOME_UNKNOWN, now, now, ...kinds, ...mine],
      );
  }

  /**
   * One statement: the sub-select locks due rows, skipping those another worker is claiming at
   * this instant, and the update takes them. Lost at-most-once jobs are never claimed (should
   * failLost have missed one, e.g. through clock skew between workers, it stays for the next).
   */
  private async claimPostgres({ now, until, limit, atMostOnce, mine }: ClaimArgs): Promise<Job[]> {
    const notAtMostOnce = atMostOnce.length ? ` AND "kind" NOT IN (${inList(atMostOnce.length)})` : '';
    const notMineSql = mine.length ? ` AND "id" NOT IN (${inList(mine.length)})` : '';
    const rows = await this.store.sqlAutocommit().all<Record<string, unknown>>(
      `WITH due AS (
        SELECT "id" FROM "Job"
        WHERE ("status" = 'pending' AND "dueAt" <= ?)
           OR ("status" = 'running' AND "lockedUntil" < ?${notAtMostOnce}${notMineSql})
        ORDER BY "dueAt"
        LIMIT ?
        FOR UPDATE SKIP LOCKED)
      UPDATE "Job" AS j
      SET "status" = 'running', "lockedUntil" = ?, "lockedBy" = ?, "attempts" = j."attempts" + 1
      FROM due WHERE j."id" = due."id"
      RETURNING j.*`,
      [now, now, ...atMostOnce, ...mine, limit, until, this.workerId],
    );
    return rows.map(jobOf).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  /**
   * SQLite has one writer at a time and we hold the write lock: pick due rows and take them.
   * The update checks again that each is still due, so the claim stays right even without the
   * lock (e.g. should a driver ever run this outside a transaction).
   */
  private async claimSqlite(tx: Tx, { now, until, limit, atMostOnce, mine }: ClaimArgs): Promise<Job[]> {
    const sql = this.store.sqlIn(tx);
    // Two index-friendly selects ("status", "dueAt") rather than one OR, which SQLite would
    // answer by scanning the whole table at every poll.
    const due = await sql.all<{ id: string }>(`SELECT "id" FROM "Job" WHERE "status" = 'pending' AND "dueAt" <= ? ORDER BY "dueAt" LIMIT ?`, [now, limit]);
    const notAtMostOnce = atMostOnce.length ? ` AND "kind" NOT IN (${inList(atMostOnce.length)})` : '';
    const notMineSql = mine.length ? ` AND "id" NOT IN (${inList(mine.length)})` : '';
    const expired = await sql.all<{ id: string }>(`SELECT "id" FROM "Job" WHERE "status" = 'running' AND "lockedUntil" < ?${notAtMostOnce}${notMineSql} LIMIT ?`, [now, ...atMostOnce, ...mine, limit]);
    const ids = [...due, ...expired].slice(0, limit).map((r) => r.id);
    if (!ids.length) return [];
    // We hold the write lock, so these are still as selected; the update says so again anyway.
    const rows = await sql.all<Record<string, unknown>>(
      `UPDATE "Job" SET "status" = 'running', "lockedUntil" = ?, "lockedBy" = ?, "attempts" = "attempts" + 1
       WHERE "id" IN (${inList(ids.length)}) AND (("status" = 'pending' AND "dueAt" <= ?) OR ("status" = 'running' AND "lockedUntil" < ?))
       RETURNING *`,
      [until, this.workerId, ...ids, now, now],
    );
    return rows.map(jobOf).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  // -------------------------------------------------------------------------------------------
  // Lanes

  /** The lane of a job of a kind registered with one; undefined for none (or an unreadable payload). */
  private laneOf(kind: string, payload: string): string | undefined {
    const lane = this.handlers.get(kind)?.lane;
    if (!lane) return undefined;
    try {
      return lane(JSON.parse(payload) as unknown);
    } catch {
      return undefined;
    }
  }

  /**
   * Where each claimed job of a lane stands: free to run (in turn, behind the lane's earlier
   * jobs here), or to be put back because the lane is held elsewhere, or because an earlier job
   * of the lane waits unclaimed. Reads only when the claim holds laned jobs.
   */
  private async planLanes(jobs: Job[]): Promise<Map<string, LanePlan>> {
    const plans = new Map<string, LanePlan>();
    const laned: { row: Job; lane: string }[] = [];
    for (const row of jobs) {
      const lane = this.laneOf(row.kind, row.payload);
      if (lane !== undefined) laned.push({ row, lane });
    }
    if (!laned.length) return plans;
    const now = this.clock();
    const recheck = new Date(now.getTime() + LANE_RECHECK_MS);
    const claimed = new Set(jobs.map((j) => j.id));
    const lanes = [...new Set(laned.map((l) => l.lane))];
    const sql = this.store.sqlRead();

    const holds = new Map<string, LaneHold & { value: string }>();
    const rows = await sql.all<{ key: string; value: string }>(`SELECT "key", "value" FROM "Setting" WHERE "key" IN (${inList(lanes.length)})`, lanes.map((l) => LANE_SETTING_PREFIX + l));
    for (const r of rows) {
      const b = parseHold(r.value);
      if (b) holds.set(r.key.slice(LANE_SETTING_PREFIX.length), { ...b, value: r.value });
    }
    // Holders neither claimed now nor running here: still waiting, running elsewhere, or gone?
    const elsewhere = [...new Set([...holds.values()].map((b) => b.job).filter((id) => !claimed.has(id) && !this.active.has(id)))];
    const holders = new Map<string, { status: string; dueAt: Date }>();
    if (elsewhere.length) {
      for (const r of await sql.all<{ id: string; status: string; dueAt: unknown }>(`SELECT "id", "status", "dueAt" FROM "Job" WHERE "id" IN (${inList(elsewhere.length)})`, elsewhere)) {
        holders.set(String(r.id), { status: String(r.status), dueAt: dateOf(r.dueAt) });
      }
    }
    // Earlier jobs of the same lanes that this claim did not take: due at the same instant but
    // past its limit (ties come back in no particular order on PostgreSQL), or put back a moment
    // ago to let an earlier one go first. Each lane's earliest of them goes before ours.
    const kinds = [...this.handlers].filter(([, r]) => r.lane).map(([k]) => k);
    const waiting = await sql.all<{ id: string; kind: string; payload: string; dueAt: unknown }>(
      `SELECT "id", "kind", "payload", "dueAt" FROM "Job" WHERE "status" = 'pending' AND "dueAt" <= ? AND "kind" IN (${inList(kinds.length)})`,
      [new Date(now.getTime() + LANE_ORDER_WINDOW_MS), ...kinds],
    );
    const earliest = new Map<string, { id: string; dueAt: Date }>();
    const wanted = new Set(lanes);
    for (const r of waiting) {
      const id = String(r.id);
      if (claimed.has(id)) continue;
      const lane = this.laneOf(String(r.kind), String(r.payload));
      if (lane === undefined || !wanted.has(lane)) continue;
      const cur = earliest.get(lane);
      if (cur === undefined || id < cur.id) earliest.set(lane, { id, dueAt: dateOf(r.dueAt) });
    }

    const stale: { lane: string; value: string }[] = [];
    for (const { row, lane } of laned) {
      const hold = holds.get(lane);
      const plan: LanePlan = { lane, holder: hold?.job === row.id };
      plans.set(row.id, plan);
      const first = earliest.get(lane);
      // (The holder goes first anyway: it was first when it was tried.)
      if (first !== undefined && first.id < row.id && !plan.holder) {
        // Just after it, so that claims (in due order) take it first.
        plan.deferUntil = new Date(first.dueAt.getTime() + 1);
        continue;
      }
      // No hold, our own, or its holder runs here (first in the lane's turn): go in turn.
      if (!hold || plan.holder || claimed.has(hold.job) || this.active.has(hold.job)) continue;
      const holder = holders.get(hold.job);
      if (!holder || (holder.status !== 'pending' && holder.status !== 'running')) {
        // Its job finished without releasing it (cancelled, lost with its worker): let go.
        if (!stale.some((x) => x.lane === lane)) stale.push({ lane, value: hold.value });
        continue;
      }
      // Waiting for its retry: until then. Due now or running elsewhere: look again shortly.
      plan.deferUntil = holder.status === 'pending' && holder.dueAt.getTime() > now.getTime() ? holder.dueAt : recheck;
    }
    for (const x of stale) {
      this.log.info({ lane: x.lane }, 'releasing a lane held by a job that no longer waits');
      // Only that hold: a newer one may have taken its place meanwhile.
      await this.writeNow(`DELETE FROM "Setting" WHERE "key" = ? AND "value" = ?`, [LANE_SETTING_PREFIX + x.lane, x.value]);
    }
    return plans;
  }

  /** One statement, committed at once (SQLite: on the write connection, in a transaction). */
  private async writeNow(sql: string, params: SqlValue[]): Promise<void> {
    if (this.store.provider === 'postgresql') await this.store.sqlAutocommit().run(sql, params);
    else await this.store.transaction((tx) => this.store.sqlIn(tx).run(sql, params));
  }

  /**
   * Starts claimed jobs; resolves, once each has its place in its lane, with one promise per job
   * (settled when the job's outcome is written). Never rejects: the jobs are claimed, and must
   * run or go back.
   */
  private async hand(jobs: Job[]): Promise<Promise<void>[]> {
    let plans: Map<string, LanePlan>;
    try {
      plans = await this.planLanes(jobs);
    } catch (err) {
      this.log.warn({ err }, 'could not read the lanes of claimed jobs; putting them back');
      plans = new Map();
      const until = new Date(this.clock().getTime() + LANE_RECHECK_MS);
      for (const row of jobs) {
        const lane = this.laneOf(row.kind, row.payload);
        if (lane !== undefined) plans.set(row.id, { lane, holder: false, deferUntil: until });
      }
    }
    // Within a lane: its holder first, then in the order queued (job ids sort so).
    const laned = jobs.filter((j) => plans.has(j.id));
    const key = (j: Job): string => {
      const p = plans.get(j.id) as LanePlan;
      return `${p.lane}\u0000${p.holder ? 0 : 1}\u0000${j.id}`;
    };
    laned.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return [...jobs.filter((j) => !plans.has(j.id)), ...laned].map((j) => this.execute(j, plans.get(j.id)));
  }

  // -------------------------------------------------------------------------------------------
  // Running

  private async execute(row: Job, plan?: LanePlan): Promise<void> {
    this.active.add(row.id);
    // Take its turn in the lane now, before any await, so that turns follow the order given.
    let before: Promise<Date | undefined> | undefined;
    let endTurn: (heldUntil: Date | undefined) => void = () => undefined;
    if (plan) {
      before = this.laneTails.get(plan.lane);
      const turn = new Promise<Date | undefined>((resolve) => (endTurn = resolve));
      this.laneTails.set(plan.lane, turn);
      void turn.then(() => {
        if (this.laneTails.get(plan.lane) === turn) this.laneTails.delete(plan.lane);
      });
    }
    let heldUntil: Date | undefined;
    try {
      // The lane's previous job here, if it ended waiting for a retry, holds this one back too.
      const until = later(plan?.deferUntil, before ? await before : undefined);
      if (until && plan) {
        heldUntil = until;
        const log = this.log.child({ jobId: row.id, kind: row.kind, key: row.idempotencyKey, lane: plan.lane });
        log.debug({ until: until.toISOString() }, 'job put back: an earlier job of its lane goes first');
        await this.finish(row, { status: 'deferred', dueAt: until }, log, undefined, undefined, plan);
        return;
      }
      const f = await this.run(row, plan);
      if (f.status === 'pending') heldUntil = f.dueAt;
    } finally {
      this.active.delete(row.id);
      endTurn(heldUntil);
    }
  }

  /** Runs the job and records its outcome; resolves with the outcome once written. */
  private async run(row: Job, plan?: LanePlan): Promise<Finish> {
    const log = this.log.child({ jobId: row.id, kind: row.kind, key: row.idempotencyKey, attempt: row.attempts, ...(plan ? { lane: plan.lane } : {}) });
    const record = async (f: Finish, effects?: Effects, reg?: Registration): Promise<Finish> => {
      await this.finish(row, f, log, effects, reg, plan);
      return f;
    };
    const reg = this.handlers.get(row.kind);
    if (!reg) {
      log.error('no handler registered for this job kind');
      return record({ status: 'failed', error: `no handler registered for job kind "${row.kind}"` });
    }
    // Only reachable when workers keep dying on this job: don't let it take down the next one.
    if (row.attempts > reg.maxAttempts) {
      const onAbandoned = reg.onAbandoned;
      if (onAbandoned) {
        let payload: unknown = null;
        try {
          payload = JSON.parse(row.payload) as unknown;
        } catch {
          // an unreadable payload still gets its hook, with null
        }
        try {
          await this.store.transaction((tx) => onAbandoned({ id: row.id, kind: row.kind, key: row.idempotencyKey, payload }, tx));
        } catch (err) {
          // Back to pending, attempts still over: the next claim tries the hook again.
          log.error({ err }, 'could not close an abandoned job; it will be tried again');
          return record({ status: 'pending', dueAt: new Date(this.clock().getTime() + backoffMs(row.attempts)), error: errorText(err) });
        }
      }
      return record({ status: 'failed', error: `gave up after ${row.attempts - 1} attempts (its worker stopped each time)` });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(row.payload) as unknown;
    } catch {
      return record({ status: 'failed', error: 'the payload is not valid JSON' });
    }
    const job: ClaimedJob = { id: row.id, kind: row.kind, key: row.idempotencyKey, payload, dueAt: row.dueAt, attempts: row.attempts };
    // Keep the lease while the handler runs, so a slow handler is not taken for a dead one.
    const renewEvery = Math.max(250, Math.floor(this.leaseMs / 3));
    const renewal = setInterval(() => void this.renew(row, log), renewEvery);
    renewal.unref();
    let outcome: JobOutcome;
    try {
      outcome = await reg.handler(job, { now: this.clock(), logger: log, scheduler: this });
    } catch (err) {
      if (reg.atMostOnce) {
        // It may have thrown after its effect (a message) happened: do not risk doing it twice.
        log.error({ err }, 'at-most-once job threw; marked failed, not retried');
        outcome = { status: 'failed', error: `${OUTCOME_UNKNOWN}: ${errorText(err)}` };
      } else {
        log.error({ err }, 'job threw; it will be retried');
        outcome = { status: 'retry', afterMs: backoffMs(row.attempts), error: errorText(err) };
      }
    } finally {
      clearInterval(renewal);
    }
    return record(this.toFinish(outcome, row, reg, log), outcome.effects, reg);
  }

  private toFinish(outcome: JobOutcome, row: Job, reg: Registration, log: Logger): Finish {
    switch (outcome.status) {
      case 'done':
        return outcome;
      case 'failed':
        log.warn({ error: outcome.error }, 'job failed');
        return outcome;
      case 'retry': {
        if (row.attempts >= reg.maxAttempts) {
          log.warn({ error: outcome.error }, 'job failed: out of attempts');
          return { status: 'failed', error: `gave up after ${row.attempts} attempts: ${outcome.error}` };
        }
        const afterMs = Number.isFinite(outcome.afterMs) ? Math.max(0, outcome.afterMs) : backoffMs(row.attempts);
        log.info({ error: outcome.error, afterMs }, 'job will be retried');
        return { status: 'pending', dueAt: new Date(this.clock().getTime() + afterMs), error: outcome.error };
      }
      default:
        return { status: 'failed', error: `the handler returned an unknown outcome: ${json(outcome)}` };
    }
  }

  /**
   * Records the outcome (and its effects), fenced: only if this worker still holds this claim.
   * Outcomes finishing together are written in one transaction; resolves once written.
   */
  private finish(row: Job, f: Finish, log: Logger, effects?: Effects, reg?: Registration, lane?: LanePlan): Promise<void> {
    return new Promise((done) => {
      this.finishing.push({ row, f, log, done, ...(effects ? { effects } : {}), ...(reg ? { reg } : {}), ...(lane ? { lane } : {}) });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      // Let the jobs finishing in this turn of the event loop join the batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.finishing.length) {
        const items = this.finishing.splice(0, FLUSH_BATCH);
        let failed = await this.attempt(() => this.write(items, true));
        // The database is away: keep the outcomes (a message sent, or known not sent) until it is
        // back, rather than lose them and leave the jobs to be found "lost" when their leases end.
        if (failed !== undefined && isDatabaseUnavailable(failed.err)) failed = await this.whileUnavailable(() => this.write(items, true), failed.err, items.length);
        if (failed !== undefined) {
          // One bad effect must not cost the others their outcome: write them one by one.
          this.log.warn({ err: failed.err, count: items.length }, 'writing a batch of job outcomes failed; writing them one by one');
          for (const item of items) await this.writeAlone(item);
        }
        for (const item of items) item.done();
        // Effects may have enqueued work that is due now.
        this.wake();
      }
    } finally {
      this.flushing = undefined;
      if (this.finishing.length) this.flushing = this.flushLoop();
    }
  }

  private async attempt(fn: () => Promise<void>): Promise<{ err: unknown } | undefined> {
    try {
      await fn();
      return undefined;
    } catch (err) {
      return { err };
    }
  }

  /**
   * Tries `fn` again, backing off, while the database is unavailable: for at most 80% of a lease
   * (after that the claim is moot), and not past stop(). Undefined once it worked.
   */
  private async whileUnavailable(fn: () => Promise<void>, err: unknown, count: number): Promise<{ err: unknown } | undefined> {
    const deadline = Date.now() + Math.floor(this.leaseMs * 0.8);
    this.log.warn({ err, count }, 'cannot record job outcomes: the database is unavailable; holding them until it is back');
    for (let n = 0; Date.now() < deadline && !this.stopping; n++) {
      await sleep(Math.min(MAX_CLAIM_BACKOFF_MS, 100 * 2 ** Math.min(n, 6), Math.max(0, deadline - Date.now())));
      const failed = await this.attempt(fn);
      if (failed === undefined) {
        this.log.info({ count }, 'job outcomes recorded after the database came back');
        return undefined;
      }
      if (!isDatabaseUnavailable(failed.err)) return failed;
      err = failed.err;
    }
    return { err };
  }

  /** The outcome's statement, fenced on this worker's claim; it returns the job's id when it applied. */
  private outcomeStatement(item: Finishing, now: Date): { sql: string; params: SqlValue[] } {
    const f = item.f;
    const set =
      f.status === 'done'
        ? { sql: `"status" = 'done', "finishedAt" = ?, "lockedUntil" = NULL, "result" = ?`, params: [now, f.result === undefined ? null : json(f.result)] }
        : f.status === 'pending'
          ? { sql: `"status" = 'pending', "dueAt" = ?, "lockedUntil" = NULL, "lockedBy" = NULL, "lastError" = ?`, params: [f.dueAt, f.error] }
          : f.status === 'deferred'
            ? // Not run: the claim's attempt is given back.
              { sql: `"status" = 'pending', "dueAt" = ?, "lockedUntil" = NULL, "lockedBy" = NULL, "attempts" = "attempts" - 1`, params: [f.dueAt] }
            : { sql: `"status" = 'failed', "finishedAt" = ?, "lockedUntil" = NULL, "lastError" = ?`, params: [now, f.error] };
    return {
      sql: `UPDATE "Job" SET ${set.sql} WHERE "id" = ? AND "status" = 'running' AND "lockedBy" = ? AND "attempts" = ? RETURNING "id"`,
      params: [...set.params, item.row.id, this.workerId, item.row.attempts],
    };
  }

  /**
   * The outcomes (with their effects when `withEffects`) in one transaction. The common "done"
   * goes in one statement per chunk: a job of ours is never claimed again while it runs (claims
   * skip `active`), so id and worker fence it as well as the attempt count would.
   */
  private async write(items: Finishing[], withEffects: boolean): Promise<void> {
    const now = this.clock();
    const statements: { sql: string; params: SqlValue[] }[] = [];
    const plainDone = items.filter((i) => i.f.status === 'done' && i.f.result === undefined);
    for (const i of items) if (!plainDone.includes(i)) statements.push(this.outcomeStatement(i, now));
    for (let k = 0; k < plainDone.length; k += 500) {
      const chunk = plainDone.slice(k, k + 500);
      statements.push({
        sql: `UPDATE "Job" SET "status" = 'done', "finishedAt" = ?, "lockedUntil" = NULL, "result" = NULL WHERE "status" = 'running' AND "lockedBy" = ? AND "id" IN (${inList(chunk.length)}) RETURNING "id"`,
        params: [now, this.workerId, ...chunk.map((c) => c.row.id)],
      });
    }
    statements.push(...this.laneStatements(items, now));
    let written: Set<string>;
    if (this.store.provider === 'postgresql') {
      // One round trip for the lot: effects and outcomes as one multi-statement transaction.
      const batch = new PgBatch();
      if (withEffects) for (const i of items) if (i.effects) await i.effects(batch);
      const effects = batch.statements.length;
      for (const st of statements) batch.add(st.sql, st.params);
      const results = await this.store.pgBatch(batch.statements);
      written = new Set(results.slice(effects).flatMap((rows) => rows.map((r) => String(r.id))));
    } else {
      written = await this.store.transaction(async (tx) => {
        const sql = this.store.sqlIn(tx);
        const batch = immediateBatch(sql);
        if (withEffects) for (const i of items) if (i.effects) await i.effects(batch);
        await Promise.all(batch.pending);
        const ids = new Set<string>();
        for (const st of statements) for (const r of await sql.all<{ id: string }>(st.sql, st.params)) ids.add(String(r.id));
        return ids;
      });
    }
    for (const i of items) if (!written.has(i.row.id)) i.log.warn({ outcome: i.f.status }, 'the claim was lost before the job finished (lease ran out); outcome not recorded');
  }

  /**
   * A laned job waiting for its retry holds its lane (until its retry); one that held it and is
   * finished lets go. A job that never retried never held it: nothing to write for it.
   */
  private laneStatements(items: Finishing[], now: Date): { sql: string; params: SqlValue[] }[] {
    const out: { sql: string; params: SqlValue[] }[] = [];
    for (const i of items) {
      if (!i.lane) continue;
      const key = LANE_SETTING_PREFIX + i.lane.lane;
      if (i.f.status === 'pending') {
        out.push({
          sql: `INSERT INTO "Setting" ("key", "value", "updatedAt") VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"`,
          params: [key, holdValue(i.row.id, i.f.dueAt), now],
        });
      } else if ((i.f.status === 'done' || i.f.status === 'failed') && (i.lane.holder || i.row.attempts > 1)) {
        out.push({ sql: `DELETE FROM "Setting" WHERE "key" = ? AND "value" LIKE ?`, params: [key, `{"job":"${i.row.id}",%`] });
      }
    }
    return out;
  }

  private async writeAlone(item: Finishing): Promise<void> {
    try {
      await this.write([item], true);
      return;
    } catch (err) {
      item.log.error({ err }, 'recording the effects of a job failed');
      // Without its effects: a job that may run again is retried (its effects with it); an
      // at-most-once job keeps its outcome, since its message went out (or may have).
      if ((item.f.status === 'done' || item.f.status === 'pending') && !item.reg?.atMostOnce) {
        item.f = { status: 'pending', dueAt: new Date(this.clock().getTime() + backoffMs(item.row.attempts)), error: `recording its effects failed: ${errorText(err)}` };
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write([item], false);
        return;
      } catch (err) {
        if (attempt >= 3) {
          item.log.error({ err, outcome: item.f.status }, 'could not record the outcome of a job');
          return;
        }
        await sleep(200 * attempt);
      }
    }
  }

  private async renew(row: Job, log: Logger): Promise<void> {
    try {
      const lockedUntil = new Date(this.clock().getTime() + this.leaseMs);
      await this.store.transaction((tx) =>
        tx.job.updateMany({ where: { id: row.id, status: 'running', lockedBy: this.workerId, attempts: row.attempts }, data: { lockedUntil } }),
      );
    } catch (err) {
      log.warn({ err }, 'could not renew a job lease');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Polling

  /** Look for due jobs now: call after committing a transaction that enqueued jobs due now. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    if (w) w();
    else this.woken = true;
  }

  private idle(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.log.error({ err }, 'job runner failed'))
      .finally(() => {
        this.running.delete(tracked);
        // A slot is free: look for more work now rather than at the next tick.
        this.wake();
      });
    this.running.add(tracked);
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const free = this.batch - this.running.size;
      let again = false;
      let wait = this.pollMs;
      if (free > 0) {
        try {
          const jobs = await this.claim(free);
          if (failures) this.log.info({ failures }, 'claiming due jobs works again');
          failures = 0;
          for (const p of await this.hand(jobs)) this.track(p);
          again = jobs.length === free;
        } catch (err) {
          // The database is away: poll less often until it is back (a few seconds at most, so
          // that due pages go soon after), rather than log twice a second.
          failures++;
          wait = Math.max(this.pollMs, Math.min(this.pollMs * 2 ** Math.min(failures - 1, 10), MAX_CLAIM_BACKOFF_MS));
          if (isDatabaseUnavailable(err)) this.log.warn({ err, failures, retryInMs: wait }, 'claiming due jobs failed: the database is unavailable');
          else this.log.error({ err, failures, retryInMs: wait }, 'claiming due jobs failed');
        }
      }
      // Full: wait for a slot (track() wakes us), or the poll interval.
      if (!this.stopping && !(again && this.running.size < this.batch)) await this.idle(wait);
    }
  }
}
