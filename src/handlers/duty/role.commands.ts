import { z } from 'zod/v4';
import { memberRefSchema, rolesLabel } from '../../domain/member';
import { message } from '../../domain/reply';
import { ROLES } from '../../domain/roles';
import { defineCommand } from '../command';
import { changeMember, lastAdminError } from './member-change';

const roleSchema = z
  .string({ error: `which role? ${ROLES.join(', ')}` })
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
    const { member: target, result: changed } = await changeMember(ctx, member, (w, now) => ctx.store.members.grant(w, now, role, ctx.actor?.id ?? null));
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
    let admins = 0;
    const { member: target, result: changed } = await changeMember(
      ctx,
      member,
      async (w, now) => {
        if (role === 'admin' && now.roles.includes('admin') && admins <= 1) throw lastAdminError(now);
        return ctx.store.members.revoke(w, now, role);
      },
      async (w) => {
        if (role === 'admin') admins = await ctx.store.members.countAdmins(w.tx, ctx.store.provider);
      },
    );
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
