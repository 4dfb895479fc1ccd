import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { ROLES } from '../../domain/roles';
import { defineCommand } from '../command';
import { memberLine } from './member-view';

export const memberListCommand = defineCommand({
  key: 'duty member list',
  summary: 'list members, optionally with one role',
  usage: '/duty member list [officer|crisis|leader|admin] [removed=yes]',
  allowed: ['admin'],
  positional: ['role'],
  input: z.strictObject({
    role: z.enum(ROLES, { error: `roles are ${ROLES.join(', ')}` }).optional(),
    removed: z.enum(['yes', 'no']).optional(),
  }),
  async run(ctx, input) {
    const members = await ctx.store.members.list({ role: input.role, includeRemoved: input.removed === 'yes' });
    return message({
      title: `Members${input.role ? ` with role ${input.role}` : ''} (${members.length})`,
      text: members.length ? undefined : 'None.',
      rows: members.map((m) => ({ text: memberLine(m) + (m.removedAt ? ' — removed' : '') })),
    });
  },
});
