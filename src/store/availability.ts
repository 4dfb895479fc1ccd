// Whether an error means "the database is not there right now" (stopped, restarting, unreachable,
// out of connections) rather than a fault in what we asked of it. One place, for the dispatcher
// (which answers "temporarily unavailable") and the scheduler (which backs off and waits).
//
// The shapes seen: Prisma's own errors (P1001 "Can't reach database server", P1017 "Server has
// closed the connection", P2010 raw query failed, each with `meta.driverAdapterError.cause.kind`
// such as DatabaseNotReachable or ConnectionClosed), node-postgres errors from our own pool
// (ECONNREFUSED, ECONNRESET, "Connection terminated unexpectedly", "timeout expired" when a
// connect outlasts connect_timeout), and PostgreSQL's own refusals (57P01 admin shutdown, 57P03
// starting up, 53300 too many connections, class 08 connection exceptions).
import pg from 'pg';

/** Prisma error codes that say the database could not be reached or stopped answering. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** Driver adapter error kinds (@prisma/driver-adapter-utils) of the same meaning. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** Socket errors: the connection could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EAI_AGAIN']);

/** SQLSTATEs: admin shutdown, crash shutdown, cannot connect now (starting up), too many connections. */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

const MESSAGES = [
  /can't reach database server/i,
  /server has closed the connection/i,
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  // node-postgres's own connect timeout (connectionTimeoutMillis on the client).
  /^timeout expired$/,
  /not queryable/i,
  /unable to start a transaction in the given time/i,
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function oneLevel(e: Record<string, unknown>): boolean {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) {
    if (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATES.has(code)) return true;
    // Class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.originalCode === 'string' && (SQLSTATES.has(e.originalCode) || SOCKET_CODES.has(e.originalCode))) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return message !== '' && MESSAGES.some((m) => m.test(message));
}

/**
 * True when `err` (or what it wraps: `cause`, Prisma's `meta.driverAdapterError`) says the
 * database is unreachable or went away; false for everything else, including SQLite's "database
 * is locked" and constraint violations.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length && seen.size < 16) {
    const e = queue.shift();
    if (!isRecord(e) || seen.has(e)) continue;
    seen.add(e);
    if (oneLevel(e)) return true;
    queue.push(e.cause);
    if (isRecord(e.meta)) queue.push(e.meta.driverAdapterError);
    // AggregateError (a connect to several addresses that all failed).
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return false;
}

/**
 * Default wait for a new PostgreSQL connection: long enough for a loaded replica (500 requests at
 * once on 2 cores took over 5 s), short enough that nothing waits for ever.
 */
export const DEFAULT_PG_CONNECT_TIMEOUT_MS = 30_000;

/**
 * How long to wait for a new PostgreSQL connection: the URL's `connect_timeout` in seconds (the
 * parameter libpq and Prisma read; 0 waits for ever), else 30 s. Without a bound a request would
 * wait as long as the kernel keeps retrying a connect to a host that is down.
 */
export function pgConnectTimeoutMs(url: string): number {
  let raw: string | null;
  try {
    raw = new URL(url).searchParams.get('connect_timeout');
  } catch {
    return DEFAULT_PG_CONNECT_TIMEOUT_MS;
  }
  if (raw === null || raw.trim() === '') return DEFAULT_PG_CONNECT_TIMEOUT_MS;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : DEFAULT_PG_CONNECT_TIMEOUT_MS;
}

/**
 * The pg client class for a pool over `url`: each new connection gives up after the connect
 * timeout. Set on the client, not the pool, because pg-pool would also apply its own to the wait
 * for a free pooled connection, and under load requests should queue for one as before, not fail.
 */
export function boundedConnectClient(url: string): typeof pg.Client {
  const connectionTimeoutMillis = pgConnectTimeoutMs(url);
  return class BoundedConnectClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(typeof config === 'string' ? { connectionString: config, connectionTimeoutMillis } : { ...config, connectionTimeoutMillis });
    }
  };
}
