// Creating and shaping rosters: /duty roster new|edit|list|add|remove.
import { z } from 'zod/v4';
import { parseDate } from '../../domain/datetime-input';
import { describeRef, parseMemberRef, type Member } from '../../domain/member';
import { message, type FormField } from '../../domain/reply';
import { clockSchema, coverageSchema, describeRule, formatCoverage, formatShift, rosterNameSchema, rosterTimeZoneSchema, shiftSchema, type Roster } from '../../domain/roster';
import type { Backup } from '../../domain/rotation';
import { dateKey, formatClock, localOf } from '../../domain/zoned';
import { ensureDefaultPolicies } from '../page/default-policies';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { MemberNames, resolveRoster, viewerZone, when } from './roster-common';
import { planNextHandoff } from './handoff.job';

const memberList = z
  .string()
  .trim()
  .transform((s) => s.split(/[\s,]+/).filter(Boolean));

/** "offset 1" (default), "none", or an order of its own: "@a @b". */
const backupSpec = z
  .string()
  .trim()
  .transform((s, ctx): { mode: 'none' } | { mode: 'offset'; offset: number } | { mode: 'order'; refs: string[] } => {
    const t = s.toLowerCase();
    if (t === 'none' || t === 'no') return { mode: 'none' };
    const m = /^offset\s*(\d{1,2})$/.exec(t) ?? /^(\d{1,2})$/.exec(t);
    if (m) return { mode: 'offset', offset: Number(m[1]) };
    const refs = s.split(/[\s,]+/).filter(Boolean);
    if (refs.every((r) => parseMemberRef(r))) return { mode: 'order', refs };
    ctx.addIssue({ code: 'custom', message: 'backup is "offset N" (the next person in the order), "none", or a list of @members' });
    return z.NEVER;
  });

const channelSpec = z
  .string()
  .trim()
  .regex(/^(none|here|(slack|teams):\S{1,200})$/i, { error: 'a channel is "here" (this conversation), "none", or slack:<channel id> / teams:<conversation id>' });

const fields: FormField[] = [
  { name: 'name', label: 'Roster name', type: 'text', required: true, maxLength: 40, placeholder: 'Consular duty' },
  { name: 'members', label: 'Members, in rotation order', type: 'text', required: true, help: '@handles separated by spaces' },
  { name: 'shift', label: 'Shift length', type: 'text', required: true, placeholder: '1w', help: 'e.g. 12h, 1d, 1w' },
  { name: 'handoff', label: 'Handoff time', type: 'text', required: true, placeholder: '08:00', help: 'local time in the roster time zone' },
  { name: 'tz', label: 'Time zone', type: 'text', required: false, help: 'IANA name; empty for the mission time zone' },
  { name: 'start', label: 'First handoff date', type: 'date', required: false, help: 'empty for today' },
  { name: 'backup', label: 'Backup', type: 'text', required: false, placeholder: 'offset 1', help: '"offset 1" (next in order), "none", or @members of its own' },
  { name: 'coverage', label: 'Coverage hours', type: 'text', required: false, placeholder: 'after-hours', help: '"always", "after-hours", or e.g. "mon-fri 18:00-08:00, sat-sun all-day"' },
  { name: 'channel', label: 'Announcement channel', type: 'text', required: false, placeholder: 'here', help: '"here" for this conversation' },
  { name: 'reminder', label: 'Reminder before a shift (hours)', type: 'number', required: false, placeholder: '24' },
];

const shape = {
  name: rosterNameSchema,
  members: memberList,
  shift: shiftSchema,
  handoff: clockSchema,
  tz: rosterTimeZoneSchema.optional(),
  start: z.string().trim().max(20).optional(),
  backup: backupSpec.optional(),
  coverage: coverageSchema.optional(),
  channel: channelSpec.optional(),
  reminder: z.coerce.number({ error: 'hours, a number' }).int({ error: 'whole hours' }).min(0, { error: '0 to 168 hours' }).max(168, { error: '0 to 168 hours' }).optional(),
};

async function resolveMembers(ctx: HandlerContext, refs: string[], field: string): Promise<Member[]> {
  const out: Member[] = [];
  const unknown: string[] = [];
  for (const r of refs) {
    const ref = parseMemberRef(r);
    const m = ref ? await ctx.store.members.resolve(ref) : null;
    if (!m) unknown.push(ref ? describeRef(ref) : r);
    else if (out.some((x) => x.id === m.id)) throw new CommandError('DUPLICATE_MEMBER', `@${m.handle} is listed twice.`, { [field]: `@${m.handle} is listed twice` });
    else out.push(m);
  }
  if (unknown.length) throw new CommandError('UNKNOWN_MEMBER', `No member ${unknown.join(', ')}.`, { [field]: `unknown: ${unknown.join(', ')}` });
  return out;
}

function channelOf(ctx: HandlerContext, spec: string | undefined): string | null | undefined {
  if (spec === undefined) return undefined;
  if (/^none$/i.test(spec)) return null;
  if (/^here$/i.test(spec)) {
    if (ctx.caller.platform === 'console' || !ctx.origin.channelId) throw new CommandError('NO_CHANNEL', '"here" works in a Slack or Teams channel; give slack:<id> or teams:<id> instead.', { channel: 'not in a channel' });
    return `${ctx.caller.platform}:${ctx.origin.channelId}`;
  }
  return spec;
}

async function backupOf(ctx: HandlerContext, spec: z.infer<typeof backupSpec> | undefined): Promise<Backup | undefined> {
  if (!spec) return undefined;
  if (spec.mode !== 'order') return spec;
  const order = await resolveMembers(ctx, spec.refs, 'backup');
  return { mode: 'order', members: order.map((m) => m.id) };
}

export function rosterSummary(r: Roster, names: MemberNames): { label: string; value: string }[] {
  return [
    { label: 'Rotation', value: describeRule(r) },
    { label: 'Members', value: r.members.map((id) => names.short(id)).join(' → ') || 'none yet' },
    { label: 'Backup', value: r.backup.mode === 'none' ? 'none' : r.backup.mode === 'offset' ? `next in order (+${r.backup.offset})` : r.backup.members.map((id) => names.short(id)).join(' → ') },
    { label: 'Coverage', value: formatCoverage(r.coverage) },
    { label: 'Announcements', value: r.channel ?? 'none' },
    { label: 'Reminder', value: r.reminderHours ? `${r.reminderHours} h before a shift` : 'off' },
  ];
}

export const rosterNewCommand = defineCommand({
  key: 'duty roster new',
  summary: 'create a roster (form, or fields inline)',
  usage: '/duty roster new name="…" members="@a @b" shift=1w handoff=08:00 [tz=…] [start=…] [backup=…] [coverage=…] [channel=here] [reminder=24]',
  allowed: ['admin'],
  form: { title: 'New roster', submitLabel: 'Create', fields },
  input: z.strictObject(shape),
  async run(ctx, input) {
    const tz = input.tz ?? ctx.settings.missionTimeZone;
    const start = input.start ? parseDate(input.start, tz, ctx.now.getTime()) : localOf(tz, ctx.now.getTime());
    if (!start) throw new CommandError('INVALID_INPUT', 'start: not a date; write e.g. 2026-12-01', { start: 'not a date' });
    const members = await resolveMembers(ctx, input.members, 'members');
    if (members.length === 0) throw new CommandError('INVALID_INPUT', 'members: name at least one @member', { members: 'name at least one member' });
    const backup = (await backupOf(ctx, input.backup)) ?? { mode: 'offset', offset: 1 };
    const channel = channelOf(ctx, input.channel) ?? null;
    const roster = await ctx.store.change(ctx.meta, async (w) => {
      if (await ctx.store.rosters.byName(input.name, w.tx)) throw new CommandError('NAME_TAKEN', `There is already a roster "${input.name}".`, { name: 'name taken' });
      const r = await ctx.store.rosters.create(w, {
        name: input.name,
        timeZone: tz,
        unit: input.shift.unit,
        length: input.shift.length,
        handoff: input.handoff,
        start: { y: start.y, m: start.m, d: start.d },
        backup,
        coverage: input.coverage ?? [],
        channel,
        reminderHours: input.reminder ?? 24,
        members: members.map((m) => m.id),
      });
      await planNextHandoff(ctx.outbox, w.tx, r, ctx.now.getTime());
      return r;
    });
    const names = await MemberNames.load(ctx.store);
    // The first roster completes the built-in "Duty officer" escalation policy.
    await ensureDefaultPolicies(ctx.store, ctx.logger);
    return message({ title: `Roster "${roster.name}" created`, fields: rosterSummary(roster, names), text: 'Type /duty schedule to see the coming shifts.' });
  },
});

const editShape = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof shape]: z.ZodOptional<(typeof shape)[K]> };

export const rosterEditCommand = defineCommand({
  key: 'duty roster edit',
  summary: 'change a roster (no fields: opens the form)',
  usage: '/duty roster edit <roster> [name=…] [members="@a @b"] [shift=…] [handoff=…] [tz=…] [start=…] [backup=…] [coverage=…] [channel=…] [reminder=…]',
  allowed: ['admin'],
  positional: ['roster'],
  form: { title: 'Edit roster', submitLabel: 'Save', fields: fields.map((f) => ({ ...f, required: false })) },
  opensForm: () => false,
  input: z.strictObject({ roster: z.string().trim().max(60).optional(), context: z.string().optional(), ...editShape }),
  async run(ctx, input) {
    const roster = input.context ? await ctx.store.rosters.byId(input.context) : await resolveRoster(ctx, input.roster);
    if (!roster) throw new CommandError('UNKNOWN_ROSTER', 'That roster no longer exists.');
    const names = await MemberNames.load(ctx.store);
    const changed = (Object.keys(shape) as (keyof typeof shape)[]).filter((k) => input[k] !== undefined);
    if (changed.length === 0) {
      return {
        kind: 'form',
        form: {
          command: 'duty roster edit',
          title: 'Edit roster',
          submitLabel: 'Save',
          fields: fields.map((f) => ({ ...f, required: false })),
          context: roster.id,
          values: {
            name: roster.name,
            members: roster.members.map((id) => names.short(id)).join(' '),
            shift: formatShift(roster.unit, roster.length),
            handoff: formatClock(roster.handoff),
            tz: roster.timeZone,
            start: dateKey(roster.start),
            backup: roster.backup.mode === 'offset' ? `offset ${roster.backup.offset}` : roster.backup.mode === 'none' ? 'none' : roster.backup.members.map((id) => names.short(id)).join(' '),
            coverage: formatCoverage(roster.coverage) === 'around the clock' ? 'always' : formatCoverage(roster.coverage).replace(/ all day/g, ' all-day'),
            channel: roster.channel ?? 'none',
            reminder: String(roster.reminderHours),
          },
        },
      };
    }
    const tz = input.tz ?? roster.timeZone;
    const start = input.start ? parseDate(input.start, tz, ctx.now.getTime()) : undefined;
    if (start === null) throw new CommandError('INVALID_INPUT', 'start: not a date; write e.g. 2026-12-01', { start: 'not a date' });
    const members = input.members ? await resolveMembers(ctx, input.members, 'members') : undefined;
    if (members && members.length === 0) throw new CommandError('INVALID_INPUT', 'members: a roster needs at least one member', { members: 'at least one member' });
    const backup = await backupOf(ctx, input.backup);
    const channel = channelOf(ctx, input.channel);
    const after = await ctx.store.change(ctx.meta, async (w) => {
      if (input.name && input.name.toLowerCase() !== roster.name.toLowerCase() && (await ctx.store.rosters.byName(input.name, w.tx))) {
        throw new CommandError('NAME_TAKEN', `There is already a roster "${input.name}".`, { name: 'name taken' });
      }
      const current = (await ctx.store.rosters.byId(roster.id, w.tx)) as Roster;
      const r = await ctx.store.rosters.update(w, current, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.tz !== undefined ? { timeZone: input.tz } : {}),
        ...(input.shift !== undefined ? { unit: input.shift.unit, length: input.shift.length } : {}),
        ...(input.handoff !== undefined ? { handoff: input.handoff } : {}),
        ...(start ? { start: { y: start.y, m: start.m, d: start.d } } : {}),
        ...(backup ? { backup } : {}),
        ...(input.coverage !== undefined ? { coverage: input.coverage } : {}),
        ...(channel !== undefined ? { channel } : {}),
        ...(input.reminder !== undefined ? { reminderHours: input.reminder } : {}),
        ...(members ? { members: members.map((m) => m.id) } : {}),
      }, ctx.now.getTime());
      await planNextHandoff(ctx.outbox, w.tx, r, ctx.now.getTime());
      return r;
    });
    const from = after.effectiveFrom !== null && after.effectiveFrom > ctx.now.getTime() ? after.effectiveFrom : null;
    return message({
      title: `Roster "${after.name}" updated`,
      text: from ? `Rotation changes apply from the next handoff, ${when(from, viewerZone(ctx, after))}; the shift in progress stays as it is.` : undefined,
      fields: rosterSummary(after, names),
    });
  },
});

export const rosterListCommand = defineCommand({
  key: 'duty roster list',
  summary: 'all rosters',
  usage: '/duty roster list',
  allowed: 'any-member',
  input: z.strictObject({}),
  async run(ctx) {
    const rosters = await ctx.store.rosters.list();
    const names = await MemberNames.load(ctx.store);
    return message({
      title: `Rosters (${rosters.length})`,
      text: rosters.length ? undefined : 'None yet. An admin creates one with /duty roster new.',
      rows: rosters.map((r) => ({ text: `*${r.name}*: ${describeRule(r)}; ${r.members.map((id) => names.short(id)).join(' → ')}; ${formatCoverage(r.coverage)}` })),
    });
  },
});

const memberRosterInput = z.strictObject({
  member: z.string({ error: 'name the member, e.g. @alee' }).trim().min(1, { error: 'name the member, e.g. @alee' }),
  roster: z.string().trim().max(60).optional(),
});

/** Re-reads the roster inside the change, applies a new member order, and re-plans handoffs. */
async function changeMembers(ctx: HandlerContext, rosterId: string, order: (current: string[]) => string[]): Promise<void> {
  await ctx.store.change(ctx.meta, async (w) => {
    const current = (await ctx.store.rosters.byId(rosterId, w.tx)) as Roster;
    const r = await ctx.store.rosters.update(w, current, { members: order(current.members) }, ctx.now.getTime());
    await planNextHandoff(ctx.outbox, w.tx, r, ctx.now.getTime());
  });
}

export const rosterAddCommand = defineCommand({
  key: 'duty roster add',
  summary: 'add a member at the end of a roster',
  usage: '/duty roster add @member [roster]',
  allowed: ['admin'],
  positional: ['member'],
  rest: 'roster',
  input: memberRosterInput,
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const [m] = await resolveMembers(ctx, [input.member], 'member');
    const member = m as Member;
    if (roster.members.includes(member.id)) throw new CommandError('ALREADY_MEMBER', `@${member.handle} is already on ${roster.name}.`);
    await changeMembers(ctx, roster.id, (ids) => [...ids, member.id]);
    return message({ text: `Added @${member.handle} to ${roster.name} (position ${roster.members.length + 1}), from the next handoff.` });
  },
});

export const rosterRemoveCommand = defineCommand({
  key: 'duty roster remove',
  summary: 'take a member out of a roster',
  usage: '/duty roster remove @member [roster]',
  allowed: ['admin'],
  positional: ['member'],
  rest: 'roster',
  input: memberRosterInput,
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const [m] = await resolveMembers(ctx, [input.member], 'member');
    const member = m as Member;
    if (!roster.members.includes(member.id)) throw new CommandError('NOT_MEMBER', `@${member.handle} is not on ${roster.name}.`);
    if (roster.members.length === 1) throw new CommandError('LAST_MEMBER', `@${member.handle} is the only member of ${roster.name}; add someone first, so there is never nobody on duty.`);
    await changeMembers(ctx, roster.id, (ids) => ids.filter((id) => id !== member.id));
    return message({ text: `Removed @${member.handle} from ${roster.name} from the next handoff; the shift in progress stays as it is and the rotation continues with the others.` });
  },
});
