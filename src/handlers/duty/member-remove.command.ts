import { z } from 'zod/v4';
import { handleSchema, memberRefSchema } from '../../domain/member';
import { failure, message } from '../../domain/reply';
import { CommandError, defineCommand } from '../command';
import { changeMember, lastAdminError } from './member-change';

export const memberRemoveCommand = defineCommand({
  key: 'duty member remove',
  summary: 'remove a member (their history is kept)',
  usage: '/duty member remove @member',
  allowed: ['admin'],
  positional: ['member'],
  input: z.strictObject({ member: memberRefSchema }),
  async run(ctx, input) {
    let admins = 0;
    const { member: target } = await changeMember(
      ctx,
      input.member,
      async (w, now) => {
        // A removed member cannot be reached: they must not stay in a rotation.
        const rosters = await ctx.store.rosters.rostersOf(now.id);
        if (rosters.length) {
          throw new CommandError('ON_ROSTER', `@${now.handle} is on ${rosters.map((r) => r.name).join(', ')}; take them off first (/duty roster remove @${now.handle} <roster>) so nobody is left on duty unreachable.`);
        }
        if (now.roles.includes('admin') && admins <= 1) throw lastAdminError(now);
        await ctx.store.members.remove(w, now, ctx.now);
      },
      async (w) => {
        admins = await ctx.store.members.countAdmins(w.tx, ctx.store.provider);
      },
    );
    return message({ text: `Removed @${target.handle} (${target.displayName}). Their history stays in the audit log.` });
  },
});

export const memberRestoreCommand = defineCommand({
  key: 'duty member restore',
  summary: 'bring back a removed member, with their accounts and roles',
  usage: '/duty member restore @member',
  allowed: ['admin'],
  positional: ['member'],
  input: z.strictObject({ member: handleSchema }),
  async run(ctx, input) {
    const target = await ctx.store.members.byHandle(input.member);
    if (!target) return failure('UNKNOWN_MEMBER', `No member @${input.member}.`);
    if (!target.removedAt) return failure('NOT_REMOVED', `@${target.handle} is not removed; nothing changed.`);
    await ctx.store.change(ctx.meta, (w) => ctx.store.members.restore(w, target));
    return message({ text: `Restored @${target.handle} (${target.displayName}).` });
  },
});
