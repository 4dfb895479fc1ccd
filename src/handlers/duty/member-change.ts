// The shape every change to one named member shares: find them, then change the record as it
// stands inside the transaction (a concurrent change is seen, and the audit's "before" is current).
import { describeRef, type Member, type MemberRef } from '../../domain/member';
import type { Writer } from '../../store/store';
import { CommandError, type HandlerContext } from '../command';

export async function changeMember<T>(
  ctx: HandlerContext,
  ref: MemberRef,
  change: (w: Writer, member: Member) => Promise<T>,
  /** runs first inside the transaction, e.g. to lock the admin grants before anything is read */
  lock?: (w: Writer) => Promise<void>,
): Promise<{ member: Member; result: T }> {
  const target = await ctx.store.members.resolve(ref);
  if (!target) throw new CommandError('UNKNOWN_MEMBER', `No member ${describeRef(ref)}.`);
  const result = await ctx.store.change(ctx.meta, async (w) => {
    if (lock) await lock(w);
    const now = await ctx.store.members.current(w, target.id);
    if (!now) throw new CommandError('UNKNOWN_MEMBER', `@${target.handle} was removed a moment ago.`);
    return change(w, now);
  });
  return { member: target, result };
}

export function lastAdminError(m: Member): CommandError {
  return new CommandError('LAST_ADMIN', `@${m.handle} is the last admin; grant admin to someone else first.`);
}
