// Requests and events already accepted, in the database: with several replicas, a replay (or
// Slack's retry) reaching another replica than the first is dropped too. One insert each, on a
// small pool of its own: it runs beside Slack's ack and before any work, and must not queue
// behind the commands' transactions for a connection.
import pg from 'pg';
import { pgConnectTimeoutMs } from './availability';

const PRUNE_EVERY_MS = 60_000;

export interface SeenCheck {
  /** True the first time `key` is seen before `expiresAt`; false for a repeat still fresh. */
  firstTime(key: string, expiresAt: Date, now: Date): Promise<boolean>;
  close(): Promise<void>;
}

/** PostgreSQL only (several replicas share it); one SQLite process remembers alone. */
export function seenInPostgres(url: string): SeenCheck {
  const pool = new pg.Pool({
    connectionString: url,
    max: 3,
    connectionTimeoutMillis: Math.min(pgConnectTimeoutMs(url), 2_000),
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server is an event on the pool, not a crash.
  pool.on('error', () => undefined);
  let prunedAt = 0;
  return {
    async firstTime(key, expiresAt, now) {
      if (now.getTime() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = now.getTime();
        await pool.query('DELETE FROM "SeenRequest" WHERE "expiresAt" < $1', [now]);
      }
      // An expired row of the same key (not pruned yet) is taken over, not counted as a repeat.
      const r = await pool.query(
        `INSERT INTO "SeenRequest" ("key", "expiresAt") VALUES ($1, $2)
         ON CONFLICT ("key") DO UPDATE SET "expiresAt" = EXCLUDED."expiresAt" WHERE "SeenRequest"."expiresAt" < $3`,
        [key, expiresAt, now],
      );
      return r.rowCount === 1;
    },
    close: () => pool.end(),
  };
}
