import { z } from 'zod/v4';
import { describeRef, memberRefSchema } from '../../domain/member';
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
    await ctx.store.change(ctx.meta, async (w) => {
      if (target.roles.includes('admin') && (await ctx.store.members.countAdmins(w.tx)) <= 1) {
        throw new CommandError('LAST_ADMIN', `@${target.handle} is the last admin; grant admin to someone else first.`);
      }
      await ctx.store.members.remove(w, target, ctx.now);
    });
    return message({ text: `Removed @${target.handle} (${target.displayName}). Their history stays in the audit log.` });
  },
});
