import { z } from 'zod/v4';
import { describeRef, handleSchema, memberRefSchema } from '../../domain/member';

const handleOnly = handleSchema;
import { failure, message } from '../../domain/reply';
import { CommandError, defineCommand } from '../command';

export const memberRemoveCommand = defineCommand({
  key: 'duty member remove',
  summary: 'remove a member (their history is kept)',
  usage: '/duty member remove @member',
  allowed: ['admin'],
  positional: ['member'],
  input: z.strictObject({ member: memberRefSchema }),
  async run(ctx, input) {
    const target = await ctx.store.members.resolve(input.member);
    if (!target) return failure('UNKNOWN_MEMBER', `No member ${describeRef(input.member)}.`);
    // A removed member cannot be reached: they must not stay in a rotation.
    const rosters = await ctx.store.rosters.rostersOf(target.id);
    if (rosters.length) {
      return failure('ON_ROSTER', `@${target.handle} is on ${rosters.map((r) => r.name).join(', ')}; take them off first (/duty roster remove @${target.handle} <roster>) so nobody is left on duty unreachable.`);
    }
    await ctx.store.change(ctx.meta, async (w) => {
      const admins = await ctx.store.members.countAdmins(w.tx, ctx.store.provider);
      const now = await ctx.store.members.current(w, target.id);
      if (!now) throw new CommandError('UNKNOWN_MEMBER', `@${target.handle} was removed a moment ago.`);
      if (now.roles.includes('admin') && admins <= 1) {
        throw new CommandError('LAST_ADMIN', `@${target.handle} is the last admin; grant admin to someone else first.`);
      }
      await ctx.store.members.remove(w, now, ctx.now);
    });
    return message({ text: `Removed @${target.handle} (${target.displayName}). Their history stays in the audit log.` });
  },
});

export const memberRestoreCommand = defineCommand({
  key: 'duty member restore',
  summary: 'bring back a removed member, with their accounts and roles',
  usage: '/duty member restore @member',
  allowed: ['admin'],
  positional: ['member'],
  input: z.strictObject({ member: handleOnly }),
  async run(ctx, input) {
    const target = await ctx.store.members.byHandle(input.member);
    if (!target) return failure('UNKNOWN_MEMBER', `No member @${input.member}.`);
    if (!target.removedAt) return failure('NOT_REMOVED', `@${target.handle} is not removed; nothing changed.`);
    await ctx.store.change(ctx.meta, (w) => ctx.store.members.restore(w, target));
    return message({ text: `Restored @${target.handle} (${target.displayName}).` });
  },
});
