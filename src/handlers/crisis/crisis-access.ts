// Who works a crisis: members with the crisis role (and admins, who run the desk), plus anyone
// added to that crisis. Commands that name a crisis check it here.
import { z } from 'zod/v4';
import type { Member } from '../../domain/member';
import type { CrisisRecord } from '../../store/crisis.repository';
import { CommandError, type HandlerContext } from '../command';

export const crisisCodeInput = z
  .string({ error: 'which crisis? e.g. NPL-EQ' })
  .trim()
  .min(2, { error: 'a crisis code, e.g. NPL-EQ' })
  .max(20, { error: 'a crisis code is at most 20 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, { error: 'a crisis code is letters, digits and dashes, e.g. NPL-EQ' })
  .transform((s) => s.toUpperCase());

export function actorOf(ctx: HandlerContext): Member {
  if (!ctx.actor) throw new CommandError('NOT_REGISTERED', 'You are not registered with Duty Desk.');
  return ctx.actor;
}

/** The crisis role, admins and leaders work every crisis; others only those they were added to. */
export async function mayWork(ctx: HandlerContext, crisis: CrisisRecord): Promise<boolean> {
  const actor = actorOf(ctx);
  if (actor.roles.some((r) => r === 'crisis' || r === 'admin' || r === 'leader')) return true;
  return (await ctx.store.crises.memberIds(crisis.id)).includes(actor.id);
}

/** The crisis named by `code`, if it exists and the caller works it. */
export async function crisisFor(ctx: HandlerContext, code: string, opts: { active?: boolean } = {}): Promise<CrisisRecord> {
  const crisis = await ctx.store.crises.byCode(code);
  if (!crisis) {
    const active = (await ctx.store.crises.list()).filter((c) => c.status === 'active').map((c) => c.code);
    throw new CommandError('UNKNOWN_CRISIS', `There is no crisis ${code}.${active.length ? ` Active: ${active.join(', ')}.` : ' None is active.'}`, { crisis: 'unknown crisis' });
  }
  if (!(await mayWork(ctx, crisis))) throw new CommandError('FORBIDDEN', `Crisis ${crisis.code} is for the crisis role and the members added to it; ask its lead to add you (/crisis add ${crisis.code} @you).`);
  if (opts.active && crisis.status !== 'active') throw new CommandError('NOT_ACTIVE', `Crisis ${crisis.code} was stood down; reopen it first (/crisis reopen ${crisis.code}).`);
  return crisis;
}

/** The crisis a person command means: the one named, else the only active one the caller works. */
export async function defaultCrisis(ctx: HandlerContext, code: string | undefined): Promise<CrisisRecord> {
  if (code) return crisisFor(ctx, code, { active: true });
  const active = (await ctx.store.crises.list()).filter((c) => c.status === 'active');
  const mine: CrisisRecord[] = [];
  for (const c of active) if (await mayWork(ctx, c)) mine.push(c);
  if (mine.length === 1) return mine[0] as CrisisRecord;
  if (!mine.length) throw new CommandError('NO_CRISIS', 'No active crisis that you work; open one with /crisis open.', { crisis: 'no active crisis' });
  throw new CommandError('WHICH_CRISIS', `Several crises are active (${mine.map((c) => c.code).join(', ')}): say which with crisis=CODE.`, { crisis: 'which crisis?' });
}
