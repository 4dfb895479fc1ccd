// "Who is on duty now, at a given time, and next."
import { z } from 'zod/v4';
import { parseDateTime } from '../../domain/datetime-input';
import { message, type ReplyRow } from '../../domain/reply';
import { onDutyAt, schedule, shiftOf } from '../../domain/rotation';
import type { Roster } from '../../domain/roster';
import type { Store } from '../../store/store';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { loadPlan, MemberNames, resolveRoster, viewerZone, when } from './roster-common';

async function dutyAt(store: Store, roster: Roster, t: number) {
  const { plan } = await loadPlan(store, roster);
  const overrides = await store.rosters.overrides(roster.id, t, t + 1);
  return onDutyAt(plan, overrides, t);
}

export async function describeAt(ctx: HandlerContext, roster: Roster, t: number, names: MemberNames): Promise<ReplyRow> {
  const on = await dutyAt(ctx.store, roster, t);
  const tz = viewerZone(ctx, roster);
  const who = !on.covered
    ? 'nobody (outside the coverage hours)'
    : roster.members.length === 0
      ? 'nobody: the roster has no members'
      : names.label(on.primary);
  const lines = [`*${roster.name}*: ${who}`];
  if (on.covered && on.backup) lines.push(`backup: ${names.label(on.backup)}`);
  lines.push(`shift ${when(on.shift.start, tz)} → ${when(on.shift.end, tz)}`);
  if (on.overrides.length) lines.push(`covering for ${on.overrides.map((o) => names.short(o.replaces ?? on.scheduledPrimary)).join(', ')}`);
  return { text: lines.join('\n') };
}

const rosterArg = z.string().trim().max(60).optional();

export const nowCommand = defineCommand({
  key: 'duty now',
  summary: 'who is on duty now',
  usage: '/duty now [roster]',
  allowed: 'any-member',
  rest: 'roster',
  input: z.strictObject({ roster: rosterArg }),
  async run(ctx, input) {
    const t = ctx.now.getTime();
    const names = await MemberNames.load(ctx.store);
    const rosters = input.roster ? [await resolveRoster(ctx, input.roster)] : await ctx.store.rosters.list();
    if (rosters.length === 0) return message({ ok: false, text: 'There are no rosters yet. An admin creates one with /duty roster new.', error: { code: 'NO_ROSTERS', message: 'no rosters' } });
    return message({ title: 'On duty now', rows: await Promise.all(rosters.map((r) => describeAt(ctx, r, t, names))) });
  },
});

export const atCommand = defineCommand({
  key: 'duty at',
  summary: 'who is on duty at a given time',
  usage: '/duty at <date time> [roster]   e.g. /duty at fri 18:00, /duty at 24/12 20:00 Consular',
  allowed: 'any-member',
  rest: 'text',
  input: z.strictObject({ text: z.string({ error: 'say when, e.g. /duty at fri 18:00' }).trim().min(1, { error: 'say when, e.g. /duty at fri 18:00' }).max(100) }),
  async run(ctx, input) {
    const words = input.text.split(/\s+/);
    const tz = viewerZone(ctx);
    // The time is the first one or two words; whatever follows names the roster.
    for (const n of [2, 1]) {
      if (words.length < n) continue;
      const parsed = parseDateTime(words.slice(0, n).join(' '), tz, ctx.now.getTime());
      if (!parsed.ok) continue;
      const rest = words.slice(n).join(' ');
      const names = await MemberNames.load(ctx.store);
      const rosters = rest ? [await resolveRoster(ctx, rest)] : await ctx.store.rosters.list();
      return message({
        title: `On duty at ${when(parsed.instant, tz)}`,
        rows: await Promise.all(rosters.map((r) => describeAt(ctx, r, parsed.instant, names))),
      });
    }
    const first = parseDateTime(words.slice(0, 2).join(' '), tz, ctx.now.getTime());
    throw new CommandError('BAD_TIME', first.ok ? 'Could not read that time.' : first.error, { text: 'not a date and time' });
  },
});

export const nextCommand = defineCommand({
  key: 'duty next',
  summary: 'who takes over next, and when',
  usage: '/duty next [roster]',
  allowed: 'any-member',
  rest: 'roster',
  input: z.strictObject({ roster: rosterArg }),
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const { plan } = await loadPlan(ctx.store, roster);
    const names = await MemberNames.load(ctx.store);
    const tz = viewerZone(ctx, roster);
    const now = ctx.now.getTime();
    const current = shiftOf(plan, now);
    // Whole shifts, whatever the coverage hours, with covers and swaps applied: the holder of
    // each stretch of the next three shifts.
    let to = current.end;
    for (let i = 0; i < 3; i++) to = shiftOf(plan, to).end;
    const overrides = await ctx.store.rosters.overrides(roster.id, current.end, to);
    const rows: ReplyRow[] = schedule({ ...plan, coverage: [] }, overrides, current.end, to).map((r) => ({
      text: `${when(r.start, tz)} → ${when(r.end, tz)}: ${names.label(r.primary)}${r.backup ? `, backup ${names.short(r.backup)}` : ''}${r.overrides.length ? ` (${r.overrides.map((o) => (o.kind === 'swap' ? 'swap' : 'cover')).join(', ')})` : ''}`,
    }));
    return message({ title: `${roster.name}: next shifts`, rows });
  },
});
