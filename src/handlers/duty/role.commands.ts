import { z } from 'zod/v4';
import { describeRef, memberRefSchema, rolesLabel } from '../../domain/member';
import { failure, message } from '../../domain/reply';
import { ROLES } from '../../domain/roles';
import { CommandError, defineCommand } from '../command';

const roleSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(ROLES, { error: `roles are ${ROLES.join(', ')}` }));

const input = z.strictObject({ member: memberRefSchema, role: roleSchema });

export const roleGrantCommand = defineCommand({
  key: 'duty role grant',
  summary: 'give a member a role',
  usage: '/duty role grant @member officer|crisis|leader|admin',
  allowed: ['admin'],
  positional: ['member', 'role'],
  input,
  async run(ctx, { member, role }) {
    const target = await ctx.store.members.resolve(member);
    if (!target) return failure('UNKNOWN_MEMBER', `No member ${describeRef(member)}.`);
    const changed = await ctx.store.change(ctx.meta, async (w) => {
      const now = await ctx.store.members.current(w, target.id);
      if (!now) throw new CommandError('UNKNOWN_MEMBER', `@${target.handle} was removed a moment ago.`);
      return ctx.store.members.grant(w, now, role, ctx.actor?.id ?? null);
    });
    return message({
      text: changed ? `@${target.handle} now has the ${role} role.` : `@${target.handle} already has the ${role} role; nothing changed.`,
    });
  },
});

export const roleRevokeCommand = defineCommand({
  key: 'duty role revoke',
  summary: 'take a role away from a member',
  usage: '/duty role revoke @member officer|crisis|leader|admin',
  allowed: ['admin'],
  positional: ['member', 'role'],
  input,
  async run(ctx, { member, role }) {
    const target = await ctx.store.members.resolve(member);
    if (!target) return failure('UNKNOWN_MEMBER', `No member ${describeRef(member)}.`);
    const changed = await ctx.store.change(ctx.meta, async (w) => {
      const admins = role === 'admin' ? await ctx.store.members.countAdmins(w.tx, ctx.store.provider) : 0;
      const now = await ctx.store.members.current(w, target.id);
      if (!now) throw new CommandError('UNKNOWN_MEMBER', `@${target.handle} was removed a moment ago.`);
      if (role === 'admin' && now.roles.includes('admin') && admins <= 1) {
        throw new CommandError('LAST_ADMIN', `@${target.handle} is the last admin; grant admin to someone else first.`);
      }
      return ctx.store.members.revoke(w, now, role);
    });
    return message({
      text: changed ? `@${target.handle} no longer has the ${role} role.` : `@${target.handle} did not have the ${role} role; nothing changed.`,
    });
  },
});

export const roleListCommand = defineCommand({
  key: 'duty role list',
  summary: 'who holds which role',
  usage: '/duty role list',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const members = await ctx.store.members.list();
    return message({
      title: 'Roles',
      rows: ROLES.map((r) => {
        const holders = members.filter((m) => m.roles.includes(r)).map((m) => `@${m.handle}`);
        return { text: `*${r}*: ${holders.length ? holders.join(', ') : 'nobody'}` };
      }),
      fields: [{ label: 'Members without a role', value: members.filter((m) => m.roles.length === 0).map((m) => `@${m.handle}`).join(', ') || 'none' }],
      fallback: members.map((m) => `@${m.handle}: ${rolesLabel(m.roles)}`).join('\n'),
    });
  },
});
