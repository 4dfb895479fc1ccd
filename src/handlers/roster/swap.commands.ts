// Shift swaps: X asks Y to take a shift (and optionally to give one back); Y accepts or
// declines; a request still pending when the shift starts expires.
import { z } from 'zod/v4';
import { parseDate } from '../../domain/datetime-input';
import type { Member } from '../../domain/member';
import { describeRef, memberRefSchema } from '../../domain/member';
import { message } from '../../domain/reply';
import type { Roster } from '../../domain/roster';
import { onDutyAt, schedule } from '../../domain/rotation';
import { addDays, dateKey, zonedInstant, type LocalDate } from '../../domain/zoned';
import type { Store } from '../../store/store';
import type { Span, SwapRecord } from '../../store/roster.repository';
import { CommandError, defineCommand } from '../command';
import type { Outbox } from '../ports';
import { COVER_CHANGE_JOB } from './handoff.job';
import { loadPlan, MemberNames, resolveRoster, viewerZone, when } from './roster-common';

export const SWAP_EXPIRE_JOB = 'roster.swap-expire';

/** The member's shift (as it stands, with covers) starting on a local date of the roster. */
async function shiftOn(store: Store, roster: Roster, memberId: string, date: LocalDate): Promise<{ from: number; to: number } | null> {
  const { plan } = await loadPlan(store, roster);
  const dayStart = zonedInstant(roster.timeZone, date, 0);
  const dayEnd = zonedInstant(roster.timeZone, addDays(date, 1), 0);
  const overrides = await store.rosters.overrides(roster.id, dayStart, dayEnd + 90 * 86_400_000);
  const rows = schedule({ ...plan, coverage: [] }, overrides, dayStart, dayEnd);
  const row = rows.find((r) => r.start >= dayStart && r.primary === memberId) ?? rows.find((r) => r.primary === memberId);
  if (!row) return null;
  // The whole shift, not the part of it that fell on that date.
  const on = onDutyAt({ ...plan, coverage: [] }, overrides, row.start);
  return { from: Math.max(row.start, on.shift.start), to: on.shift.end };
}

function onRoster(roster: Roster, m: Member): boolean {
  return roster.members.includes(m.id) || (roster.backup.mode === 'order' && roster.backup.members.includes(m.id));
}

const dateList = (field: string) =>
  z
    .string({ error: `${field}=<date>[,<date>…] is required` })
    .trim()
    .max(200)
    .transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .refine((a) => a.length >= 1 && a.length <= 10, { error: 'one to ten dates, separated by commas' });

function spansText(spans: Span[], tz: string): string {
  return spans.map((x) => `${when(x.from, tz)} → ${when(x.to, tz)}`).join(', ');
}

export const swapCommand = defineCommand({
  key: 'duty swap',
  summary: 'ask someone on your roster to take one or more of your shifts (and give you theirs)',
  usage: '/duty swap @member shift=<date>[,<date>…] [for=<date>[,<date>…]] [roster]',
  allowed: ['officer', 'crisis', 'leader', 'admin'],
  positional: ['member'],
  rest: 'roster',
  input: z.strictObject({
    member: memberRefSchema,
    shift: dateList('shift'),
    for: dateList('for').optional(),
    roster: z.string().trim().max(60).optional(),
  }),
  async run(ctx, input) {
    const me = ctx.actor as Member;
    const roster = await resolveRoster(ctx, input.roster);
    const target = await ctx.store.members.resolve(input.member);
    if (!target) throw new CommandError('UNKNOWN_MEMBER', `No member ${describeRef(input.member)}.`, { member: 'unknown member' });
    if (target.id === me.id) throw new CommandError('SELF_SWAP', 'You cannot swap with yourself.');
    if (!onRoster(roster, me)) throw new CommandError('NOT_ON_ROSTER', `You are not on ${roster.name}.`);
    if (!onRoster(roster, target)) throw new CommandError('NOT_ON_ROSTER', `@${target.handle} is not on ${roster.name}; swaps are between members of the same roster.`, { member: 'not on this roster' });
    const now = ctx.now.getTime();
    // Each date names the person's shift on that day.
    const shifts = async (dates: string[], memberId: string, field: string, whose: string): Promise<Span[]> => {
      const out: Span[] = [];
      for (const d of dates) {
        const day = parseDate(d, roster.timeZone, now);
        if (!day) throw new CommandError('INVALID_INPUT', `${field}: "${d.slice(0, 20)}" is not a date; write e.g. 2026-12-24 or fri`, { [field]: 'not a date' });
        const span = await shiftOn(ctx.store, roster, memberId, day);
        if (!span) throw new CommandError('NO_SHIFT', `${whose} no ${roster.name} shift on ${dateKey(day)}.`, { [field]: 'no shift that day' });
        if (span.from <= now) throw new CommandError('STARTED', `The shift of ${dateKey(day)} has already started; ask an admin for cover instead.`, { [field]: 'already started' });
        if (!out.some((x) => x.from === span.from)) out.push(span);
      }
      return out;
    };
    const give = await shifts(input.shift, me.id, 'shift', 'You have');
    const take = input.for ? await shifts(input.for, target.id, 'for', `@${target.handle} has`) : [];
    const names = await MemberNames.load(ctx.store);
    const tzTarget = target.timeZone ?? roster.timeZone;
    const swap = await ctx.store.change(ctx.meta, async (w) => {
      const s = await ctx.store.rosters.addSwap(w, { rosterId: roster.id, requesterId: me.id, targetId: target.id, give, take });
      await ctx.outbox.deliver(w.tx, {
        key: `swap:${s.id}:ask`,
        to: { kind: 'member', memberId: target.id },
        reply: message({
          visibility: 'direct',
          title: `Swap request from ${names.label(me.id)}`,
          text: `${roster.name}: take ${names.short(me.id)}'s shift${give.length > 1 ? 's' : ''} ${spansText(give, tzTarget)}${take.length ? `, and give yours ${spansText(take, tzTarget)} in return` : ''}? The request expires when the first of these shifts starts.`,
          buttons: [
            { label: 'Accept', command: `/duty swap accept ${s.id}`, style: 'primary' },
            { label: 'Decline', command: `/duty swap decline ${s.id}`, style: 'danger' },
          ],
        }),
      });
      await ctx.outbox.schedule(w.tx, { kind: SWAP_EXPIRE_JOB, key: `swap:${s.id}:expire`, dueAt: new Date(expiryOf(s)), payload: { swapId: s.id } });
      return s;
    });
    const tz = viewerZone(ctx, roster);
    return message({ title: 'Swap requested', text: `Asked ${names.label(target.id)} to take ${spansText(swap.give, tz)}. You will get a message when they answer.` });
  },
});

function expiryOf(s: SwapRecord): number {
  return Math.min(...s.give.map((x) => x.from), ...s.take.map((x) => x.from));
}

async function decide(ctx: Parameters<typeof swapCommand.run>[0], id: string, accept: boolean) {
  const me = ctx.actor as Member;
  const swap = await ctx.store.rosters.swap(id);
  if (!swap) throw new CommandError('UNKNOWN_SWAP', 'No such swap request.');
  if (swap.targetId !== me.id) throw new CommandError('FORBIDDEN', 'Only the person asked can answer this swap request.');
  if (swap.status !== 'pending') throw new CommandError('ALREADY_DECIDED', `This swap request is already ${swap.status}; nothing changed.`);
  const now = ctx.now.getTime();
  const names = await MemberNames.load(ctx.store);
  const roster = await ctx.store.rosters.byId(swap.rosterId);
  if (!roster) throw new CommandError('UNKNOWN_ROSTER', 'That roster no longer exists.');
  const expired = now >= expiryOf(swap);
  const status = expired ? 'expired' : accept ? 'accepted' : 'declined';
  if (status === 'accepted') {
    // The shifts may have changed hands since the request (another swap, a cover, an edit).
    const { plan } = await loadPlan(ctx.store, roster);
    const free = { ...plan, coverage: [] };
    const holder = async (t: number) => onDutyAt(free, await ctx.store.rosters.overrides(roster.id, t, t + 1), t);
    for (const span of swap.give) {
      const give = await holder(span.from);
      if (give.primary !== swap.requesterId) throw new CommandError('CHANGED', `${names.short(swap.requesterId)} no longer holds the shift of ${when(span.from, roster.timeZone)}; nothing changed.`);
      if (give.backup === swap.targetId) throw new CommandError('CLASH', `You are the backup on the shift of ${when(span.from, roster.timeZone)}; taking it would leave it without a backup. Ask an admin to re-arrange the backup first.`);
    }
    for (const span of swap.take) {
      const take = await holder(span.from);
      if (take.primary !== swap.targetId) throw new CommandError('CHANGED', `You no longer hold the shift of ${when(span.from, roster.timeZone)} offered in return; nothing changed.`);
      if (take.backup === swap.requesterId) throw new CommandError('CLASH', `${names.short(swap.requesterId)} is the backup on your shift of ${when(span.from, roster.timeZone)}; the swap would leave it without a backup.`);
    }
  }
  const done = await ctx.store.change(ctx.meta, async (w) => {
    if (!(await ctx.store.rosters.decideSwap(w, swap, status, ctx.now))) return false;
    if (status === 'accepted') {
      // Other people asked for the same shift are told it is taken.
      for (const other of await ctx.store.rosters.pendingSwapsFor(swap.rosterId, swap.requesterId, swap.give, w.tx)) {
        if (other.id === swap.id || !(await ctx.store.rosters.decideSwap(w, other, 'cancelled', ctx.now))) continue;
        await ctx.outbox.deliver(w.tx, {
          key: `swap:${other.id}:cancelled:target`,
          to: { kind: 'member', memberId: other.targetId },
          reply: message({ visibility: 'direct', title: 'Swap request withdrawn', text: `${roster.name}: ${names.short(swap.targetId)} took that shift; nothing for you to do.` }),
        });
      }
      const moves: [string, string, Span][] = [...swap.give.map((x): [string, string, Span] => [swap.targetId, swap.requesterId, x]), ...swap.take.map((x): [string, string, Span] => [swap.requesterId, swap.targetId, x])];
      for (const [by, replaces, span] of moves) {
        const o = await ctx.store.rosters.addOverride(w, { rosterId: roster.id, layer: 'primary', memberId: by, replaces, from: span.from, to: span.to, kind: 'swap', swapId: swap.id, createdBy: me.id });
        for (const [edge, at] of [['start', o.from], ['end', o.to]] as const) {
          await ctx.outbox.schedule(w.tx, { kind: COVER_CHANGE_JOB, key: `cover:${o.id}:${edge}`, dueAt: new Date(at), payload: { rosterId: roster.id, overrideId: o.id, at, edge } });
        }
      }
    }
    if (status === 'accepted') {
      await ctx.outbox.deliver(w.tx, {
        key: `swap:${swap.id}:${status}:target`,
        to: { kind: 'member', memberId: swap.targetId },
        reply: message({ visibility: 'direct', title: 'Swap confirmed', text: swapText(swap, status, names, names.get(swap.targetId)?.timeZone ?? roster.timeZone, roster.name) }),
      });
    }
    await ctx.outbox.deliver(w.tx, {
      key: `swap:${swap.id}:${status}:requester`,
      to: { kind: 'member', memberId: swap.requesterId },
      reply: message({ visibility: 'direct', title: `Swap ${status}`, text: swapText(swap, status, names, names.get(swap.requesterId)?.timeZone ?? roster.timeZone, roster.name) }),
    });
    return true;
  });
  if (!done) throw new CommandError('ALREADY_DECIDED', 'This swap request was answered a moment ago; nothing changed.');
  return message({ title: `Swap ${status}`, text: swapText(swap, status, names, viewerZone(ctx, roster), roster.name) });
}

function swapText(s: SwapRecord, status: string, names: MemberNames, tz: string, rosterName: string): string {
  const give = `${names.short(s.requesterId)}'s shift${s.give.length > 1 ? 's' : ''} ${spansText(s.give, tz)}`;
  const take = s.take.length ? `${names.short(s.targetId)}'s shift${s.take.length > 1 ? 's' : ''} ${spansText(s.take, tz)}` : '';
  if (status === 'accepted') return `${rosterName}: ${names.short(s.targetId)} takes ${give}${take ? `; ${names.short(s.requesterId)} takes ${take}` : ''}.`;
  if (status === 'expired') return `${rosterName}: the request about ${give}${take ? ` and ${take}` : ''} expired before an answer; nothing changed.`;
  return `${rosterName}: ${names.short(s.targetId)} declined to take ${give}${take ? ` for ${take}` : ''}; nothing changed.`;
}

const idInput = z.strictObject({ id: z.string({ error: 'a swap request id' }).trim().uuid({ error: 'a swap request id' }) });

export const swapAcceptCommand = defineCommand({
  key: 'duty swap accept',
  summary: 'accept a swap request',
  usage: '/duty swap accept <request id>',
  allowed: ['officer', 'crisis', 'leader', 'admin'],
  hidden: true,
  positional: ['id'],
  input: idInput,
  run: (ctx, input) => decide(ctx, input.id, true),
});

export const swapDeclineCommand = defineCommand({
  key: 'duty swap decline',
  summary: 'decline a swap request',
  usage: '/duty swap decline <request id>',
  allowed: ['officer', 'crisis', 'leader', 'admin'],
  hidden: true,
  positional: ['id'],
  input: idInput,
  run: (ctx, input) => decide(ctx, input.id, false),
});

/** The job that expires a request nobody answered before the shift. */
export function swapJobs(deps: { store: Store; outbox: Outbox }) {
  return {
    async [SWAP_EXPIRE_JOB](payload: unknown, now: number) {
      const { swapId } = z.object({ swapId: z.string() }).parse(payload);
      const swap = await deps.store.rosters.swap(swapId);
      if (!swap || swap.status !== 'pending') return { status: 'done' as const, result: 'decided' };
      const roster = await deps.store.rosters.byId(swap.rosterId);
      const names = await MemberNames.load(deps.store);
      const meta = { actorId: null, actorName: 'system', platform: 'system' as const, requestId: `swap-expire:${swapId}` };
      await deps.store.change(meta, async (w) => {
        if (!(await deps.store.rosters.decideSwap(w, swap, 'expired', new Date(now)))) return;
        for (const who of [swap.requesterId, swap.targetId]) {
          await deps.outbox.deliver(w.tx, {
            key: `swap:${swap.id}:expired:${who}`,
            to: { kind: 'member', memberId: who },
            reply: message({ visibility: 'direct', title: 'Swap request expired', text: swapText(swap, 'expired', names, names.get(who)?.timeZone ?? roster?.timeZone ?? 'UTC', roster?.name ?? 'Roster') }),
          });
        }
      });
      return { status: 'done' as const, result: 'expired' };
    },
  };
}

