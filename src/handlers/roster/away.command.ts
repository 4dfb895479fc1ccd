// Leave: a member marks themselves away; the shifts it hits go to the roster admins with a
// "find cover" list of people free then.
import { z } from 'zod/v4';
import { parseDateTime } from '../../domain/datetime-input';
import type { Member } from '../../domain/member';
import { message, type ReplyRow } from '../../domain/reply';
import { schedule } from '../../domain/rotation';
import { CommandError, defineCommand } from '../command';
import { loadPlan, MemberNames, viewerZone, when } from './roster-common';

const MAX_LEAVE = 366 * 86_400_000;

export const awayCommand = defineCommand({
  key: 'duty away',
  summary: 'mark yourself away; clashing shifts go to the admins with who could cover',
  usage: '/duty away from=<date time> to=<date time> [note="…"]',
  allowed: 'any-member',
  input: z.strictObject({
    from: z.string({ error: 'from=<date time> is required' }).trim().max(40),
    to: z.string({ error: 'to=<date time> is required' }).trim().max(40),
    note: z.string().trim().max(300).optional(),
  }),
  async run(ctx, input) {
    const me = ctx.actor as Member;
    const tz = viewerZone(ctx);
    const now = ctx.now.getTime();
    const from = parseDateTime(input.from, tz, now);
    if (!from.ok) throw new CommandError('INVALID_INPUT', `from: ${from.error}`, { from: from.error });
    const to = parseDateTime(input.to, tz, now, 24 * 60 - 1);
    if (!to.ok) throw new CommandError('INVALID_INPUT', `to: ${to.error}`, { to: to.error });
    if (to.instant <= from.instant) throw new CommandError('END_BEFORE_START', 'The leave ends before it starts.', { to: 'must be after from' });
    if (to.instant - from.instant > MAX_LEAVE) throw new CommandError('TOO_LONG', 'Leave is at most a year at a time.', { to: 'at most a year' });
    if (to.instant <= now) throw new CommandError('IN_THE_PAST', 'That leave is over already.', { to: 'in the past' });

    const already = await ctx.store.rosters.leaves([me.id], from.instant, to.instant);
    if (already.length) {
      throw new CommandError('OVERLAP', `You are already away ${when(already[0]?.from ?? 0, tz)} → ${when(already[0]?.to ?? 0, tz)}; that overlaps.`, { from: 'overlaps your leave' });
    }
    const names = await MemberNames.load(ctx.store);
    const clashes: { roster: string; rosterId: string; start: number; end: number; layer: string; free: string[] }[] = [];
    for (const roster of await ctx.store.rosters.rostersOf(me.id, { from: from.instant, to: to.instant })) {
      const { plan } = await loadPlan(ctx.store, roster);
      const overrides = await ctx.store.rosters.overrides(roster.id, from.instant, to.instant);
      const rows = schedule(plan, overrides, from.instant, to.instant).filter((r) => r.primary === me.id || r.backup === me.id);
      if (!rows.length) continue;
      const others = roster.members.filter((id) => id !== me.id);
      const leaves = await ctx.store.rosters.leaves(others, from.instant, to.instant);
      const busy = schedule(plan, overrides, from.instant, to.instant);
      for (const r of rows) {
        const free = others.filter(
          (id) => !leaves.some((l) => l.memberId === id && l.from < r.end && l.to > r.start) && !busy.some((b) => b.start < r.end && b.end > r.start && (b.primary === id || b.backup === id)),
        );
        clashes.push({ roster: roster.name, rosterId: roster.id, start: r.start, end: r.end, layer: r.primary === me.id ? 'primary' : 'backup', free });
      }
    }
    const admins = await ctx.store.members.list({ role: 'admin' });
    await ctx.store.change(ctx.meta, async (w) => {
      const leave = await ctx.store.rosters.addLeave(w, { memberId: me.id, from: from.instant, to: to.instant, note: input.note ?? null });
      if (!clashes.length) return;
      for (const a of admins) {
        const atz = a.timeZone ?? ctx.settings.missionTimeZone;
        await ctx.outbox.deliver(w.tx, {
          key: `leave:${leave.id}:admin:${a.id}`,
          to: { kind: 'member', memberId: a.id },
          reply: message({
            visibility: 'direct',
            title: `Cover needed: ${names.label(me.id)} is away`,
            text: `${when(from.instant, atz)} → ${when(to.instant, atz)}${input.note ? ` (${input.note})` : ''}. These shifts need cover:`,
            rows: clashes.map((c) => ({
              text: `${c.roster} ${c.layer}: ${when(c.start, atz)} → ${when(c.end, atz)}\nfree then: ${c.free.map((id) => names.short(id)).join(', ') || 'nobody on the roster'}`,
              buttons: c.free.slice(0, 3).map((id) => ({
                label: `${names.short(id)} covers`,
                command: `/duty cover ${names.short(id)} from=${new Date(c.start).toISOString()} to=${new Date(c.end).toISOString()} for=@${me.handle} ${c.layer === 'backup' ? 'layer=backup ' : ''}"${c.roster}"`,
              })),
            })),
          }),
        });
      }
    });
    const rows: ReplyRow[] = clashes.map((c) => ({ text: `${c.roster} (${c.layer}): ${when(c.start, tz)} → ${when(c.end, tz)}` }));
    return message({
      title: 'Leave recorded',
      text: `Away ${when(from.instant, tz)} → ${when(to.instant, tz)}. ${clashes.length ? `${clashes.length} shift${clashes.length > 1 ? 's' : ''} need cover; the admins have been told.` : 'None of your shifts fall in it.'}`,
      rows,
    });
  },
});
