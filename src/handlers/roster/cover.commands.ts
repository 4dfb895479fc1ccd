// Cover (overrides): someone takes someone else's duty for a while.
import { z } from 'zod/v4';
import { parseDate, parseDateTime } from '../../domain/datetime-input';
import { schedule } from '../../domain/rotation';
import { zonedInstant } from '../../domain/zoned';
import { describeRef, memberRefSchema } from '../../domain/member';
import { message } from '../../domain/reply';
import { CommandError, defineCommand } from '../command';
import { COVER_CHANGE_JOB } from './handoff.job';
import { loadPlan, MemberNames, overrideLine, resolveRoster, viewerZone } from './roster-common';

const MAX_SPAN = 90 * 86_400_000;

export const coverCommand = defineCommand({
  key: 'duty cover',
  summary: "have a member take someone's duty for a while",
  usage: '/duty cover @member from=<date time> to=<date time> [for=@member] [layer=backup] [roster]',
  allowed: ['admin', 'officer', 'crisis'],
  positional: ['member'],
  rest: 'roster',
  input: z.strictObject({
    member: memberRefSchema,
    from: z.string({ error: 'from=<date time> is required' }).trim().max(40),
    to: z.string({ error: 'to=<date time> is required' }).trim().max(40),
    for: memberRefSchema.optional(),
    layer: z.enum(['primary', 'backup'], { error: 'layer is primary or backup' }).default('primary'),
    note: z.string().trim().max(300).optional(),
    roster: z.string().trim().max(60).optional(),
  }),
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const tz = viewerZone(ctx, roster);
    const now = ctx.now.getTime();
    // A date alone means the roster's handoff that day, in the roster's zone; a date and time is
    // read in the caller's zone.
    const at = (text: string): ReturnType<typeof parseDateTime> => {
      const day = /\s|:/.test(text.trim()) ? null : parseDate(text, roster.timeZone, now);
      return day ? { ok: true, instant: zonedInstant(roster.timeZone, day, roster.handoff) } : parseDateTime(text, tz, now);
    };
    const from = at(input.from);
    if (!from.ok) throw new CommandError('INVALID_INPUT', `from: ${from.error}`, { from: from.error });
    const to = at(input.to);
    if (!to.ok) throw new CommandError('INVALID_INPUT', `to: ${to.error}`, { to: to.error });
    if (to.instant <= from.instant) throw new CommandError('END_BEFORE_START', 'The cover ends before it starts.', { to: 'must be after from' });
    if (to.instant - from.instant > MAX_SPAN) throw new CommandError('TOO_LONG', 'A cover is at most 90 days; change the roster for longer.', { to: 'at most 90 days after from' });
    if (to.instant <= now) throw new CommandError('IN_THE_PAST', 'That cover would be over already.', { to: 'in the past' });
    const coverer = await ctx.store.members.resolve(input.member);
    if (!coverer) throw new CommandError('UNKNOWN_MEMBER', `No member ${describeRef(input.member)}.`, { member: 'unknown member' });
    const replaced = input.for ? await ctx.store.members.resolve(input.for) : null;
    if (input.for && !replaced) throw new CommandError('UNKNOWN_MEMBER', `No member ${describeRef(input.for)}.`, { for: 'unknown member' });
    if (replaced?.id === coverer.id) throw new CommandError('SELF_COVER', `@${coverer.handle} cannot cover for themselves.`);
    // Officers volunteer themselves; handing your own duty to someone else needs their consent
    // (/duty swap) or an admin.
    const isAdmin = ctx.actor?.roles.includes('admin');
    if (!isAdmin && ctx.actor && coverer.id !== ctx.actor.id) {
      throw new CommandError('FORBIDDEN', 'You can only take duty yourself (/duty cover @you …). To hand yours to someone, ask them with /duty swap, or ask an admin.');
    }
    // A cover "for" someone who has no duty then would never apply.
    if (replaced) {
      const { plan } = await loadPlan(ctx.store, roster);
      // On duty then, had nobody covered for them yet (a second cover of them is an overlap, below).
      const others = (await ctx.store.rosters.overrides(roster.id, from.instant, to.instant)).filter((o) => o.replaces !== replaced.id);
      const rows = schedule({ ...plan, coverage: [] }, others, from.instant, to.instant);
      if (!rows.some((r) => r[input.layer] === replaced.id)) {
        throw new CommandError('NOT_ON_DUTY', `@${replaced.handle} is not on ${input.layer} duty on ${roster.name} at any time in that period.`, { for: 'not on duty then' });
      }
    }
    const names = await MemberNames.load(ctx.store);
    const created = await ctx.store.change(ctx.meta, async (w) => {
      const existing = await ctx.store.rosters.overrides(roster.id, from.instant, to.instant, w.tx);
      // Two covers of the same duty at the same time are ambiguous; a cover of a cover is not.
      const clash = existing.find((o) => o.layer === input.layer && o.replaces === (replaced?.id ?? null));
      if (clash) {
        throw new CommandError('OVERLAP', `That overlaps ${overrideLine(clash, names, tz)}. Remove it first (/duty cover remove ${clash.id.slice(0, 8)}), or cover that person with for=${names.short(clash.memberId)}.`, {
          from: 'overlaps another cover',
        });
      }
      const o = await ctx.store.rosters.addOverride(w, {
        rosterId: roster.id,
        layer: input.layer,
        memberId: coverer.id,
        replaces: replaced?.id ?? null,
        from: from.instant,
        to: to.instant,
        kind: 'cover',
        ...(input.note ? { note: input.note } : {}),
        createdBy: ctx.actor?.id ?? null,
      });
      for (const [edge, at] of [['start', o.from], ['end', o.to]] as const) {
        await ctx.outbox.schedule(w.tx, { kind: COVER_CHANGE_JOB, key: `cover:${o.id}:${edge}`, dueAt: new Date(Math.max(at, now)), payload: { rosterId: roster.id, overrideId: o.id, at, edge } });
      }
      return o;
    });
    return message({ title: 'Cover arranged', text: overrideLine(created, names, tz) });
  },
});

export const coverListCommand = defineCommand({
  key: 'duty cover list',
  summary: 'current and coming covers',
  usage: '/duty cover list [roster]',
  allowed: 'any-member',
  rest: 'roster',
  input: z.strictObject({ roster: z.string().trim().max(60).optional() }),
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const now = ctx.now.getTime();
    const overrides = await ctx.store.rosters.overrides(roster.id, now, now + 365 * 86_400_000);
    const names = await MemberNames.load(ctx.store);
    const tz = viewerZone(ctx, roster);
    return message({ title: `${roster.name}: covers`, text: overrides.length ? undefined : 'None.', rows: overrides.map((o) => ({ text: overrideLine(o, names, tz), buttons: [{ label: 'Remove', command: `/duty cover remove ${o.id}`, style: 'danger' as const }] })) });
  },
});

export const coverRemoveCommand = defineCommand({
  key: 'duty cover remove',
  summary: 'remove a cover; what was there before returns',
  usage: '/duty cover remove <cover id>',
  allowed: ['admin', 'officer', 'crisis'],
  positional: ['id'],
  input: z.strictObject({ id: z.string({ error: 'which cover? its id as shown by /duty cover list' }).trim().regex(/^[0-9a-f-]{8,36}$/i, { error: 'a cover id as shown by /duty cover list' }) }),
  async run(ctx, input) {
    const rosters = await ctx.store.rosters.list();
    const now = ctx.now.getTime();
    for (const r of rosters) {
      const all = await ctx.store.rosters.overrides(r.id, now - 365 * 86_400_000, now + 365 * 86_400_000);
      const matches = all.filter((o) => o.id.startsWith(input.id.toLowerCase()));
      if (matches.length > 1) throw new CommandError('AMBIGUOUS', 'More than one cover starts with that id; give more of it.');
      const o = matches[0];
      if (!o) continue;
      const mine = ctx.actor && (o.memberId === ctx.actor.id || o.replaces === ctx.actor.id || o.createdBy === ctx.actor.id);
      if (!ctx.actor?.roles.includes('admin') && !mine) throw new CommandError('FORBIDDEN', 'Only an admin or the people in a cover can remove it.');
      const names = await MemberNames.load(ctx.store);
      await ctx.store.change(ctx.meta, async (w) => {
        await ctx.store.rosters.removeOverride(w, o, ctx.now);
        // A cover not over yet changes who is on duty: the people in it hear of it.
        if (o.to <= now) return;
        for (const who of [o.memberId, o.replaces]) {
          if (!who || who === ctx.actor?.id) continue;
          const tz = names.get(who)?.timeZone ?? r.timeZone;
          await ctx.outbox.deliver(w.tx, {
            key: `cover:${o.id}:removed:${who}`,
            to: { kind: 'member', memberId: who },
            reply: message({ visibility: 'direct', title: `Cover removed: ${r.name}`, text: `${overrideLine(o, names, tz)} no longer applies; the roster is as scheduled.` }),
          });
        }
      });
      return message({ text: `Removed ${overrideLine(o, names, viewerZone(ctx, r))}.` });
    }
    throw new CommandError('UNKNOWN_COVER', `No cover ${input.id}. /duty cover list shows them.`);
  },
});
