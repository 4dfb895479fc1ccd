// Configuration from the environment (and an optional .env), validated once at start-up.
import { z } from 'zod/v4';
import { parseIdentitySpec } from './domain/member';
import { canonicalTimeZone, isValidTimeZone } from './domain/time';
import { parseDataKey } from './store/field-crypto';

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const flag = z
  .enum(['', '0', '1', 'true', 'false', 'yes', 'no'], { error: 'expected 1 or 0' })
  .optional()
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .default('file:./data/duty-desk.db')
    .refine((v) => /^(file:|postgres:\/\/|postgresql:\/\/)/.test(v), {
      error: 'expected file:<path> for SQLite or postgres://… / postgresql://… for PostgreSQL',
    }),
  PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int({ error: 'expected a whole number' })
    .min(0, { error: 'expected a port from 0 to 65535' })
    .max(65535, { error: 'expected a port from 0 to 65535' })
    .default(3000),
  SLACK_BOT_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xoxb-'), {
    error: 'expected a bot token starting with xoxb-',
  }),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), {
    error: 'expected an app-level token starting with xapp-',
  }),
  SLACK_API_URL: optionalString.refine((v) => v === undefined || URL.canParse(v), { error: 'expected a URL' }),
  // Empty: only the workspace (or, for an org-wide install, the organisation) the bot token belongs to.
  SLACK_TEAM_IDS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .refine((list) => list.every((x) => /^[TE][A-Z0-9]+$/.test(x)), {
      error: 'expected comma-separated Slack workspace ids (T…) or Enterprise Grid organisation ids (E…)',
    }),
  TEAMS_APP_ID: optionalString,
  TEAMS_APP_PASSWORD: optionalString,
  TEAMS_TENANT_ID: optionalString,
  TEAMS_ANONYMOUS: flag,
  MISSION_TIMEZONE: z
    .string()
    .trim()
    .default('UTC')
    .transform((s, ctx) => {
      if (isValidTimeZone(s)) return canonicalTimeZone(s);
      ctx.addIssue({ code: 'custom', message: 'expected an IANA time zone such as Europe/London' });
      return z.NEVER;
    }),
  BOOTSTRAP_ADMINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .refine((list) => list.every((x) => parseIdentitySpec(x) !== null), {
      error: 'expected comma-separated slack:TEAM:USER, teams:<Entra object id> or console:<handle> entries',
    }),
  SMTP_URL: optionalString.refine((v) => v === undefined || /^smtps?:\/\//.test(v), { error: 'expected smtp://user:pass@host:port or smtps://…' }),
  EMAIL_FROM: optionalString,
  SMS_WEBHOOK_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), { error: 'expected the provider\'s http(s) URL, e.g. https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json' }),
  SMS_FROM: optionalString,
  SMS_AUTH_TOKEN: optionalString,
  PUBLIC_BASE_URL: optionalString.refine((v) => v === undefined || URL.canParse(v), { error: 'expected a URL' }),
  // "<keyId>:<base64 of 32 bytes>" (or the base64 alone, key id k1); kept as text, parsed by the store.
  DATA_ENCRYPTION_KEY: optionalString.refine((v) => v === undefined || typeof parseDataKey(v) !== 'string', {
    error: (i) => (typeof i.input === 'string' ? String(parseDataKey(i.input)) : 'expected <keyId>:<base64 of 32 random bytes>'),
  }),
  // Keys still readable during a rotation (comma-separated, same form).
  DATA_ENCRYPTION_OLD_KEYS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .refine((list) => list.every((x) => typeof parseDataKey(x) !== 'string'), {
      error: 'expected comma-separated <keyId>:<base64 of 32 random bytes> keys',
    }),
  // Keys the audit chain's hashes (HMAC-SHA-256): a database writer without it cannot rewrite the chain.
  AUDIT_CHAIN_KEY: optionalString,
  NODE_ENV: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; error: string };

/** Validates an environment; the error is one line naming the variable and what is expected. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const r = configSchema.safeParse(set);
  if (r.success) {
    const c = r.data;
    if (c.SLACK_BOT_TOKEN && !c.SLACK_SIGNING_SECRET && !c.SLACK_APP_TOKEN) {
      return { ok: false, error: 'SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)' };
    }
    if ((c.SLACK_SIGNING_SECRET || c.SLACK_APP_TOKEN) && !c.SLACK_BOT_TOKEN) {
      return { ok: false, error: 'SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set' };
    }
    if (Boolean(c.TEAMS_APP_ID) !== Boolean(c.TEAMS_APP_PASSWORD)) {
      return { ok: false, error: `${c.TEAMS_APP_ID ? 'TEAMS_APP_PASSWORD' : 'TEAMS_APP_ID'}: TEAMS_APP_ID and TEAMS_APP_PASSWORD go together` };
    }
    const keyProblem = dataKeyProblem(c);
    if (keyProblem) return { ok: false, error: keyProblem };
    if (c.SMS_WEBHOOK_URL && !c.SMS_FROM) return { ok: false, error: 'SMS_FROM: required with SMS_WEBHOOK_URL (the number or sender id pages come from)' };
    return { ok: true, config: c };
  }
  const issue = r.error.issues[0];
  const name = issue?.path.join('.') ?? 'environment';
  return { ok: false, error: `${name}: ${issue?.message ?? 'invalid'}` };
}

/** Production never stores personal data in clear; key ids must tell the keys apart. */
function dataKeyProblem(c: Config): string | null {
  if (c.NODE_ENV === 'production' && !c.DATA_ENCRYPTION_KEY) {
    return 'DATA_ENCRYPTION_KEY: required when NODE_ENV=production (personal data is encrypted at rest); generate one with: echo "k1:$(openssl rand -base64 32)"';
  }
  const ids = [c.DATA_ENCRYPTION_KEY, ...c.DATA_ENCRYPTION_OLD_KEYS].flatMap((spec) => {
    const k = spec === undefined ? spec : parseDataKey(spec);
    return k === undefined || typeof k === 'string' ? [] : [k.id];
  });
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) return `DATA_ENCRYPTION_OLD_KEYS: key id ${twice} is used twice; give each key its own id (<keyId>:<base64>)`;
  return null;
}

export function slackEnabled(c: Config): boolean {
  return Boolean(c.SLACK_BOT_TOKEN);
}

export function teamsEnabled(c: Config): boolean {
  return Boolean(c.TEAMS_APP_ID) || c.TEAMS_ANONYMOUS;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}
