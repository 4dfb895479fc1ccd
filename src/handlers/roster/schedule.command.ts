import { z } from 'zod/v4';
import { message, type ReplyRow } from '../../domain/reply';
import { schedule } from '../../domain/rotation';
import { defineCommand } from '../command';
import { loadPlan, MemberNames, resolveRoster, viewerZone, when } from './roster-common';

const WEEK = 7 * 86_400_000;

export const scheduleCommand = defineCommand({
  key: 'duty schedule',
  summary: 'the coming shifts: primary, backup, covers, swaps and leave conflicts',
  usage: '/duty schedule [roster] [weeks=N]',
  allowed: 'any-member',
  rest: 'roster',
  input: z.strictObject({
    roster: z.string().trim().max(60).optional(),
    weeks: z.coerce.number({ error: 'weeks is a number' }).int({ error: 'whole weeks' }).min(1, { error: '1 to 12 weeks' }).max(12, { error: '1 to 12 weeks' }).default(2),
  }),
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const { plan } = await loadPlan(ctx.store, roster);
    const from = ctx.now.getTime();
    const to = from + input.weeks * WEEK;
    const overrides = await ctx.store.rosters.overrides(roster.id, from, to);
    const rows = schedule(plan, overrides, from, to);
    const ids = [...new Set(rows.flatMap((r) => [r.primary, r.backup]).filter((x): x is string => x !== null))];
    const leaves = await ctx.store.rosters.leaves(ids, from, to);
    const names = await MemberNames.load(ctx.store);
    const tz = viewerZone(ctx, roster);
    const out: ReplyRow[] = rows.map((r) => {
      const marks: string[] = [];
      for (const o of r.overrides) marks.push(o.kind === 'swap' ? `⇄ swap (for ${names.short(o.replaces)})` : `↺ cover (for ${names.short(o.replaces ?? r.scheduledPrimary)})`);
      const away = leaves.filter((l) => (l.memberId === r.primary || l.memberId === r.backup) && l.from < r.end && l.to > r.start);
      for (const l of away) marks.push(`⚠ ${names.short(l.memberId)} on leave`);
      return {
        text: `${when(r.start, tz)} → ${when(r.end, tz)}  ${names.short(r.primary)}${r.backup ? ` (backup ${names.short(r.backup)})` : ''}${marks.length ? `  ${marks.join('; ')}` : ''}`,
      };
    });
    return message({
      title: `${roster.name}: next ${input.weeks} week${input.weeks > 1 ? 's' : ''}`,
      text: `Times in ${tz}. ↺ cover, ⇄ swap, ⚠ conflict.`,
      rows: out,
    });
  },
});
