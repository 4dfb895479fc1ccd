// The door of POST /slack/events: size, signature, freshness, replays and workspace are checked
// here, before Bolt parses anything or a listener runs. Each rejection is logged once at warn,
// with its reason and never the body (it may hold personal data).
import crypto from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import type express from 'express';
import type { Logger } from '../../logger';
import type { SeenCheck } from '../../store/seen.repository';

/**
 * Well above anything Slack sends: the largest payloads are view submissions (the whole modal, at
 * most 100 blocks, with its state; a text input holds at most 3,000 characters) and message
 * events (at most 40,000 characters of text), a few hundred KB at worst once URL-encoded.
 */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

/** Slack's own rule: a request signed more than five minutes ago (or ahead) is refused. */
export const MAX_CLOCK_SKEW_S = 5 * 60;

/** Signatures remembered to refuse replays; at 100 requests a second that is 10 minutes' worth. */
const MAX_REMEMBERED = 60_000;

/** Workspaces (T…) and Enterprise Grid organisations (E…) whose requests are accepted. */
export interface SlackWorkspaces {
  teams: ReadonlySet<string>;
  enterprises: ReadonlySet<string>;
}

export function workspacesFrom(ids: readonly string[]): SlackWorkspaces {
  return { teams: new Set(ids.filter((x) => x.startsWith('T'))), enterprises: new Set(ids.filter((x) => x.startsWith('E'))) };
}

export function workspaceAllowed(allowed: SlackWorkspaces, where: { teamId?: string | undefined; enterpriseId?: string | undefined }): boolean {
  return (where.teamId !== undefined && allowed.teams.has(where.teamId)) || (where.enterpriseId !== undefined && allowed.enterprises.has(where.enterpriseId));
}

export interface SlackGateOptions {
  signingSecret: string;
  /** Resolved per request: the default set comes from auth.test, which may not have answered yet. */
  workspaces: () => Promise<SlackWorkspaces>;
  logger: Logger;
  maxBodyBytes?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
  /** Shared with the other replicas (PostgreSQL): a replay reaching another one is acknowledged and dropped. */
  seen?: SeenCheck;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function header(req: express.Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body as Bolt will read it: JSON, a form, or a form whose `payload` field is JSON. */
export function parseSlackBody(raw: string, contentType: string | undefined): Record<string, unknown> | undefined {
  try {
    if (contentType?.split(';')[0]?.trim() === 'application/x-www-form-urlencoded') {
      const form = parseQuery(raw);
      const parsed: unknown = typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
      return isRecord(parsed) ? parsed : undefined;
    }
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The installation a request is for, as Bolt decides it (App.buildSource): for events the first
 * authorization, for views the workspace the app was installed in, else the team of the payload
 * (null in org-wide installs, then the user's).
 */
export function workspaceOf(body: Record<string, unknown>): { teamId?: string; enterpriseId?: string } {
  const auth = Array.isArray(body.authorizations) && isRecord(body.authorizations[0]) ? body.authorizations[0] : undefined;
  const view = isRecord(body.view) ? body.view : undefined;
  const team = isRecord(body.team) ? body.team : undefined;
  const user = isRecord(body.user) ? body.user : undefined;
  const enterprise = isRecord(body.enterprise) ? body.enterprise : undefined;
  const teamId = str(auth?.team_id) ?? str(view?.app_installed_team_id) ?? str(body.team_id) ?? str(team?.id) ?? str(user?.team_id);
  const enterpriseId = str(auth?.enterprise_id) ?? str(body.enterprise_id) ?? str(enterprise?.id) ?? str(team?.enterprise_id);
  return { ...(teamId ? { teamId } : {}), ...(enterpriseId ? { enterpriseId } : {}) };
}

/** Slack's handshakes carry no workspace; Bolt answers them and runs nothing. */
function isHandshake(body: Record<string, unknown>): boolean {
  return body.type === 'url_verification' || body.ssl_check !== undefined;
}

/** Authentic requests seen within the freshness window, by signature: each is accepted once. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = MAX_REMEMBERED) {}

  /** False when this signature was already accepted and is still fresh. */
  firstTime(signature: string, expiresAtMs: number, nowMs: number): boolean {
    const at = this.seen.get(signature);
    if (at !== undefined && at > nowMs) return false;
    this.seen.delete(signature);
    this.seen.set(signature, expiresAtMs);
    // Insertion order is close to expiry order (timestamps are within minutes of now).
    for (const [k, t] of this.seen) {
      if (this.seen.size <= this.max && t > nowMs) break;
      this.seen.delete(k);
    }
    return true;
  }
}

/** The context key (and request property) holding the shared replay check of a request. */
export const SHARED_CHECK = 'sharedFirstTime';

type GatedRequest = express.Request & { [SHARED_CHECK]?: Promise<boolean> };

/** For Bolt's customPropertiesExtractor: the gate's shared check rides into the listener's context. */
export function sharedCheckOf(req: express.Request): Record<string, unknown> {
  const check = (req as GatedRequest)[SHARED_CHECK];
  return check ? { [SHARED_CHECK]: check } : {};
}

/**
 * True when another replica accepted this very request first (a replay): the listener, having
 * acknowledged it, does nothing more. Socket Mode and single-replica requests carry no check.
 */
export async function replayedElsewhere(context: Record<string, unknown>): Promise<boolean> {
  const check = context[SHARED_CHECK];
  return check instanceof Promise ? !(await (check as Promise<boolean>)) : false;
}

/** The peer's address; the socket is gone once the client has hung up. */
function remoteAddress(req: express.Request): string | undefined {
  return (req.socket as express.Request['socket'] | null)?.remoteAddress;
}

type Rejection = { status: number; error: string; reason: string; extra?: Record<string, unknown> };

function verifySignature(secret: string, raw: Buffer, timestamp: string, signature: string): boolean {
  const expected = Buffer.from(`v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** Express middleware for POST /slack/events, mounted before Bolt's receiver; hands Bolt the raw body. */
export function slackGate(opts: SlackGateOptions): express.RequestHandler {
  const limit = opts.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const now = opts.now ?? Date.now;
  const replays = new ReplayGuard();
  const logger = opts.logger.child({ component: 'slack' });

  function reject(req: express.Request, res: express.Response, r: Rejection): void {
    logger.warn(
      { reason: r.reason, status: r.status, ip: remoteAddress(req), retryNum: header(req, 'x-slack-retry-num'), ...(r.extra ?? {}) },
      'rejected a Slack request',
    );
    // Slack retries failed events; a refused one will not do better next time.
    res.setHeader('X-Slack-No-Retry', '1');
    res.status(r.status).json({ ok: false, error: r.error });
  }

  /**
   * The body up to the limit. Past it nothing more is kept, but the rest is still read (and
   * dropped) so that the 413 reaches the client; Node's request timeout bounds an endless body.
   */
  function readBody(req: express.Request): Promise<Buffer | 'too_large'> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > limit) {
          over = true;
          chunks.length = 0;
          resolve('too_large');
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  async function check(req: express.Request): Promise<Rejection | Buffer> {
    const declared = Number(header(req, 'content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limit) {
      return { status: 413, error: 'body_too_large', reason: `body of ${declared} bytes is over the ${limit}-byte limit`, extra: { bytes: declared } };
    }
    const signature = header(req, 'x-slack-signature');
    const timestamp = header(req, 'x-slack-request-timestamp');
    if (!signature || !timestamp) return { status: 401, error: 'unsigned', reason: 'no X-Slack-Signature or X-Slack-Request-Timestamp header' };
    if (!/^\d{1,12}$/.test(timestamp)) return { status: 401, error: 'bad_timestamp', reason: 'the request timestamp is not a number' };
    const skew = Math.floor(now() / 1000) - Number(timestamp);
    if (Math.abs(skew) > MAX_CLOCK_SKEW_S) {
      return { status: 401, error: 'stale_request', reason: skew > 0 ? 'signed more than 5 minutes ago' : 'signed more than 5 minutes in the future', extra: { skewSeconds: skew } };
    }
    let raw: Buffer | 'too_large';
    try {
      raw = await readBody(req);
    } catch {
      return { status: 400, error: 'bad_body', reason: 'the body could not be read (the client went away?)' };
    }
    if (raw === 'too_large') return { status: 413, error: 'body_too_large', reason: `body over the ${limit}-byte limit` };
    if (!verifySignature(opts.signingSecret, raw, timestamp, signature)) return { status: 401, error: 'bad_signature', reason: 'the signature does not match the body' };
    const expiresAt = (Number(timestamp) + MAX_CLOCK_SKEW_S) * 1000;
    if (!replays.firstTime(signature, expiresAt, now())) {
      return { status: 401, error: 'replayed', reason: 'a request with this signature was already accepted' };
    }
    const body = parseSlackBody(raw.toString('utf8'), header(req, 'content-type'));
    if (!body) return { status: 400, error: 'bad_body', reason: 'the body is neither JSON nor a form Slack sends' };
    if (isHandshake(body)) return raw;
    const where = workspaceOf(body);
    let allowed: SlackWorkspaces;
    try {
      allowed = await opts.workspaces();
    } catch (err) {
      return { status: 503, error: 'not_ready', reason: 'the bot token\'s workspace is not known yet (auth.test failed)', extra: { err } };
    }
    if (!workspaceAllowed(allowed, where)) {
      return { status: 403, error: 'workspace_not_allowed', reason: 'the workspace is not one of SLACK_TEAM_IDS (or the token\'s)', extra: { teamId: where.teamId ?? null, enterpriseId: where.enterpriseId ?? null } };
    }
    if (opts.seen) (req as GatedRequest)[SHARED_CHECK] = sharedCheck(opts.seen, req, `slack-signature:${signature}`, new Date(expiresAt));
    return raw;
  }

  /**
   * Started here, awaited by the listener after its ack: the ack must not wait on the database
   * (Slack allows 3 s, and a loaded one took 100 ms more at p99), but no work may start before it.
   */
  async function sharedCheck(seen: SeenCheck, req: express.Request, key: string, expiresAt: Date): Promise<boolean> {
    try {
      if (await seen.firstTime(key, expiresAt, new Date(now()))) return true;
      logger.warn({ reason: 'a request with this signature was already accepted (by another replica)', status: 200, ip: remoteAddress(req) }, 'rejected a Slack request');
      return false;
    } catch (err) {
      // The database away: the commands will say so themselves; this replica's memory still holds.
      logger.warn({ err }, 'slack: could not check the shared replay table; this replica\'s memory only');
      return true;
    }
  }

  return (req, res, next) => {
    check(req).then(
      (r) => {
        if (!Buffer.isBuffer(r)) return reject(req, res, r);
        // Bolt's receiver reads `rawBody` when present (as on Google Cloud) instead of the stream.
        (req as express.Request & { rawBody?: Buffer }).rawBody = r;
        next();
      },
      (err: unknown) => {
        logger.error({ err }, 'the Slack request gate failed');
        if (!res.headersSent) res.status(500).json({ ok: false, error: 'internal' });
      },
    );
  };
}
