// Profile fields shared by /duty member add and /duty member edit: one schema for inline
// arguments and form submissions.
import { z } from 'zod/v4';
import type { IdentityRef } from '../../domain/member';
import { displayNameSchema, emailSchema, handleSchema, phoneSchema, timeZoneSchema } from '../../domain/member';
import type { FormField } from '../../domain/reply';
import { ROLES } from '../../domain/roles';

/** "none" or "-" clears an optional field on edit. */
const CLEAR = /^(none|-)$/i;
export const clearable = (s: z.ZodType<string, string>) =>
  z.string().transform((v, ctx): string | null => {
    if (CLEAR.test(v.trim())) return null;
    const r = s.safeParse(v);
    if (r.success) return r.data;
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
    return z.NEVER;
  });

const slackIdentity = z
  .string()
  .trim()
  .transform((s, ctx): { team?: string; user: string } => {
    const mention = /^<@slack:([A-Z0-9]+):([A-Z0-9]+)>$/.exec(s);
    const pair = /^([A-Z0-9]+):([A-Z0-9]+)$/.exec(s);
    const bare = /^([UW][A-Z0-9]+)$/.exec(s);
    if (mention) return { team: mention[1] as string, user: mention[2] as string };
    if (pair) return { team: pair[1] as string, user: pair[2] as string };
    if (bare) return { user: bare[1] as string };
    ctx.addIssue({ code: 'custom', message: 'a Slack user id such as U0123ABCD (or TEAM:USER)' });
    return z.NEVER;
  });

const teamsIdentity = z
  .string()
  .trim()
  .transform((s) => s.replace(/^<@teams:(.+)>$/, '$1'))
  .pipe(
    z
      .string()
      .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
        error: 'a Teams user is named by their Entra (AAD) object id, a GUID',
      })
      .transform((s) => s.toLowerCase()),
  );

const roleList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.enum(ROLES, { error: `roles are ${ROLES.join(', ')}` })));

export const profileShape = {
  handle: handleSchema,
  name: displayNameSchema,
  tz: clearable(timeZoneSchema).optional(),
  email: clearable(emailSchema).optional(),
  phone: clearable(phoneSchema).optional(),
  slack: slackIdentity.optional(),
  teams: teamsIdentity.optional(),
  roles: roleList.optional(),
};

export function identitiesFrom(
  input: { slack?: { team?: string; user: string }; teams?: string },
  workspaceId: string | undefined,
): { ok: true; identities: IdentityRef[] } | { ok: false; field: string; message: string } {
  const out: IdentityRef[] = [];
  if (input.slack) {
    const team = input.slack.team ?? workspaceId;
    if (!team) return { ok: false, field: 'slack', message: 'give the Slack user as TEAM:USER (e.g. T0123:U0456) outside Slack' };
    out.push({ platform: 'slack', externalId: `${team}:${input.slack.user}` });
  }
  if (input.teams) out.push({ platform: 'teams', externalId: input.teams });
  return { ok: true, identities: out };
}

export function profileFormFields(opts: { forEdit: boolean }): FormField[] {
  return [
    { name: 'handle', label: 'Handle', type: 'text', required: !opts.forEdit, help: 'Short name used in commands, e.g. alee', maxLength: 32 },
    { name: 'name', label: 'Full name', type: 'text', required: !opts.forEdit, maxLength: 80 },
    { name: 'tz', label: 'Time zone', type: 'text', required: false, help: 'IANA name, e.g. Europe/Paris; empty for the mission time zone' },
    { name: 'email', label: 'Email', type: 'text', required: false },
    { name: 'phone', label: 'Mobile phone', type: 'text', required: false, help: 'International form, e.g. +33 6 12 34 56 78' },
    { name: 'slack', label: 'Slack user', type: 'user', required: false, help: 'Their Slack account, if any' },
    { name: 'teams', label: 'Teams user id', type: 'text', required: false, help: 'Their Entra object id, if they use Teams' },
    ...(opts.forEdit
      ? []
      : [
          {
            name: 'roles',
            label: 'Roles',
            type: 'multiSelect' as const,
            required: false,
            options: ROLES.map((r) => ({ value: r, label: r })),
          },
        ]),
  ];
}
