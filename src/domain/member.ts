// Members: who they are, how they are named in commands, and what a valid profile is.
import { z } from 'zod/v4';
import type { Platform } from './invocation';
import type { Role } from './roles';
import { canonicalTimeZone, isValidTimeZone } from './time';

export interface IdentityRef {
  platform: Platform;
  externalId: string;
}

export interface Member {
  id: string;
  handle: string;
  displayName: string;
  timeZone: string | null;
  email: string | null;
  phone: string | null;
  roles: Role[];
  identities: IdentityRef[];
  removedAt: Date | null;
}

export const handleSchema = z
  .string({ error: 'a handle, e.g. @alee' })
  .trim()
  .transform((s) => s.replace(/^@/, '').toLowerCase())
  .pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, {
        error: 'a handle is 2 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit',
      }),
  );

export const displayNameSchema = z
  .string()
  .trim()
  .min(1, { error: 'a name is required' })
  .max(80, { error: 'a name is at most 80 characters' });

export const timeZoneSchema = z
  .string()
  .trim()
  .transform((s, ctx) => {
    if (isValidTimeZone(s)) return canonicalTimeZone(s);
    ctx.addIssue({ code: 'custom', message: 'not a time zone; use an IANA name such as Europe/London' });
    return z.NEVER;
  });

export const emailSchema = z.string().trim().toLowerCase().pipe(z.email({ error: 'not an email address' }));

/** E.164, tolerating the spaces, dashes and brackets people type. */
export const phoneSchema = z
  .string()
  .trim()
  .transform((s) => s.replace(/[\s().-]/g, ''))
  .pipe(z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'a phone number in international form, e.g. +44 20 7946 0000' }));

/** A member named in a command: `@handle`, or a platform mention rewritten by the adapter. */
export type MemberRef = { kind: 'handle'; handle: string } | { kind: 'identity'; identity: IdentityRef };

const MENTION = /^<@(slack|teams|console):([^>|]+)(?:\|[^>]*)?>$/;

export function parseMemberRef(token: string): MemberRef | null {
  const m = MENTION.exec(token.trim());
  if (m) return { kind: 'identity', identity: { platform: m[1] as Platform, externalId: m[2] as string } };
  const h = handleSchema.safeParse(token);
  return h.success ? { kind: 'handle', handle: h.data } : null;
}

export const memberRefSchema = z
  .string({ error: 'name a member as @handle' })
  .trim()
  .min(1, { error: 'name a member as @handle' })
  .transform((s, ctx) => {
    const ref = parseMemberRef(s);
    if (!ref) {
      ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 40)}" is not a member reference; use @handle` });
      return z.NEVER;
    }
    return ref;
  });

export function describeRef(ref: MemberRef): string {
  return ref.kind === 'handle' ? `@${ref.handle}` : `${ref.identity.platform} user ${ref.identity.externalId}`;
}

/** "slack:T1:U1", "teams:<aad id>", "console:ops" → identity (BOOTSTRAP_ADMINS entries). */
export function parseIdentitySpec(spec: string): IdentityRef | null {
  const m = /^(slack|teams|console):(.+)$/.exec(spec.trim());
  if (!m) return null;
  const platform = m[1] as Platform;
  const externalId = (m[2] as string).trim();
  if (platform === 'slack' && !/^[A-Z0-9]+:[A-Z0-9]+$/.test(externalId)) return null;
  if (platform === 'console' && !handleSchema.safeParse(externalId).success) return null;
  if (platform === 'teams') {
    // Entra object ids are GUIDs; Teams sends them in lower case.
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(externalId)) return null;
    return { platform, externalId: externalId.toLowerCase() };
  }
  return externalId ? { platform, externalId } : null;
}

export function rolesLabel(roles: readonly Role[]): string {
  return roles.length ? roles.join(', ') : 'no roles';
}
