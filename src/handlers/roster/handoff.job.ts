// Handoffs, reminders and cover changes: timed jobs in the durable scheduler. Each job checks
// at run time that what it was planned for still holds (roster version, override not removed),
// and every message it sends has its own idempotency key, so nothing is sent twice.
import { z } from 'zod/v4';
import { message, type MessageReply } from '../../domain/reply';
import { onDutyAt, shiftOf, type OnDuty } from '../../domain/rotation';
import { planOf, type Roster } from '../../domain/roster';
import type { Tx } from '../../store/client';
import type { Store } from '../../store/store';
import type { Outbox } from '../ports';
import { buildBrief, registerBriefSection } from './brief';
import { MemberNames, when } from './roster-common';

export const HANDOFF_JOB = 'roster.handoff';
export const REMINDER_JOB = 'roster.reminder';
export const COVER_CHANGE_JOB = 'roster.cover-change';

const HOUR = 3_600_000;
const iso = (t: number): string => new Date(t).toISOString();

export type RosterJobResult = { status: 'done'; result?: unknown };

/** Plans the next handoff of a roster and the reminders that fall before it. Idempotent. */
export async function planNextHandoff(outbox: Outbox, tx: Tx, roster: Roster, now: number): Promise<void> {
  const plan = planOf(roster, []);
  const next = shiftOf(plan, now).end;
  await outbox.schedule(tx, {
    kind: HANDOFF_JOB,
    key: `handoff:${roster.id}:v${roster.version}:${iso(next)}`,
    dueAt: new Date(next),
    payload: { rosterId: roster.id, version: roster.version, at: next },
  });
  await planReminders(outbox, tx, roster, now, next);
}

/** Reminders whose time falls in [from, to): each falls in exactly one such window. */
async function planReminders(outbox: Outbox, tx: Tx, roster: Roster, from: number, to: number): Promise<void> {
  if (roster.reminderHours <= 0) return;
  const plan = planOf(roster, []);
  const lead = roster.reminderHours * HOUR;
  for (let sh = shiftOf(plan, from + lead); ; sh = shiftOf(plan, sh.end)) {
    const due = sh.start - lead;
    if (due >= to) break;
    if (due < from) continue;
    await outbox.schedule(tx, {
      kind: REMINDER_JOB,
      key: `reminder:${roster.id}:v${roster.version}:${iso(sh.start)}`,
      dueAt: new Date(due),
      payload: { rosterId: roster.id, version: roster.version, shiftStart: sh.start },
    });
  }
}

const handoffPayload = z.object({ rosterId: z.string(), version: z.number().int(), at: z.number() });
const reminderPayload = z.object({ rosterId: z.string(), version: z.number().int(), shiftStart: z.number() });
const coverPayload = z.object({ rosterId: z.string(), overrideId: z.string(), at: z.number(), edge: z.enum(['start', 'end']) });

/** Who holds the shift at t, whatever the coverage hours (handoffs speak of shifts). */
async function holderAt(store: Store, roster: Roster, t: number): Promise<OnDuty> {
  const holidays = await store.rosters.holidays(roster.id);
  const plan = { ...planOf(roster, holidays.map((h) => h.date)), coverage: [] };
  return onDutyAt(plan, await store.rosters.overrides(roster.id, t, t + 1), t);
}

registerBriefSection({
  title: 'Duty log of the last shift',
  async lines(ctx) {
    const entries = await ctx.store.rosters.log(ctx.roster.id, ctx.outgoing.start);
    if (!entries.length) return null;
    const names = await MemberNames.load(ctx.store);
    return entries.map((e) => `${when(e.at.getTime(), ctx.timeZone)} ${names.short(e.authorId)}: ${e.text}`);
  },
});

export interface RosterJobDeps {
  store: Store;
  outbox: Outbox;
}

function dm(outbox: Outbox, tx: Tx, key: string, memberId: string, reply: MessageReply): Promise<void> {
  return outbox.deliver(tx, { key, to: { kind: 'member', memberId }, reply: { ...reply, visibility: 'direct' } });
}

export function rosterJobs(deps: RosterJobDeps) {
  const { store, outbox } = deps;

  async function handoff(payload: unknown, now: number): Promise<RosterJobResult> {
    const p = handoffPayload.parse(payload);
    const roster = await store.rosters.byId(p.rosterId);
    // An edit since planning re-planned under a new version; this one is stale.
    if (!roster || roster.archivedAt || roster.version !== p.version) return { status: 'done', result: 'stale' };
    const names = await MemberNames.load(store);
    const before = await holderAt(store, roster, p.at - 1);
    const after = await holderAt(store, roster, p.at);
    const end = after.shift.end;
    if (now >= end) {
      // Back from downtime after the whole shift: plan on from now, announce nothing stale.
      await store.transaction((tx) => planNextHandoff(outbox, tx, roster, now));
      return { status: 'done', result: 'missed; re-planned' };
    }
    const brief = await buildBrief({ store, roster, outgoing: { start: before.shift.start, end: before.shift.end }, now, timeZone: roster.timeZone });
    await store.transaction(async (tx) => {
      const base = `duty:${roster.id}:${iso(p.at)}`;
      const incoming = after.primary;
      const outgoing = before.primary;
      if (incoming) {
        const tz = names.get(incoming)?.timeZone ?? roster.timeZone;
        await dm(
          outbox,
          tx,
          `${base}:in:${incoming}`,
          incoming,
          message({
            title: `You are on duty: ${roster.name}`,
            text: `From ${when(p.at, tz)} until ${when(end, tz)}.${after.backup ? ` Backup: ${names.label(after.backup)}.` : ''}${outgoing && outgoing !== incoming ? ` Taking over from ${names.label(outgoing)}.` : ''}`,
            rows: brief.map((s) => ({ text: `*${s.title}*\n${s.lines.join('\n')}` })),
          }),
        );
      }
      if (outgoing && outgoing !== incoming) {
        const tz = names.get(outgoing)?.timeZone ?? roster.timeZone;
        await dm(outbox, tx, `${base}:out:${outgoing}`, outgoing, message({ title: `Off duty: ${roster.name}`, text: `${names.label(incoming)} has it from ${when(p.at, tz)} until ${when(end, tz)}. Thank you.` }));
      }
      // The incoming backup is told too: they are the second person a page reaches.
      if (after.backup && after.backup !== before.backup && after.backup !== incoming) {
        const tz = names.get(after.backup)?.timeZone ?? roster.timeZone;
        await dm(
          outbox,
          tx,
          `${base}:in-backup:${after.backup}`,
          after.backup,
          message({ title: `You are backup: ${roster.name}`, text: `From ${when(p.at, tz)} until ${when(end, tz)}, behind ${names.label(incoming)}.` }),
        );
      }
      if (roster.channel && incoming !== outgoing) {
        await outbox.deliver(tx, {
          key: `${base}:channel`,
          to: { kind: 'channel', channel: roster.channel },
          reply: message({ visibility: 'channel', text: `${roster.name}: duty passes from ${names.label(outgoing)} to ${names.label(incoming)} until ${when(end, roster.timeZone)}.` }),
        });
      }
      await planNextHandoff(outbox, tx, roster, p.at);
    });
    return { status: 'done', result: { incoming: after.primary, outgoing: before.primary } };
  }

  async function reminder(payload: unknown, now: number): Promise<RosterJobResult> {
    const p = reminderPayload.parse(payload);
    if (now >= p.shiftStart) return { status: 'done', result: 'too late to remind' };
    const roster = await store.rosters.byId(p.rosterId);
    if (!roster || roster.archivedAt || roster.version !== p.version) return { status: 'done', result: 'stale' };
    const on = await holderAt(store, roster, p.shiftStart);
    if (!on.primary) return { status: 'done', result: 'nobody' };
    const names = await MemberNames.load(store);
    const tz = names.get(on.primary)?.timeZone ?? roster.timeZone;
    await store.transaction((tx) =>
      dm(
        outbox,
        tx,
        `reminder:${roster.id}:${iso(p.shiftStart)}:${on.primary}`,
        on.primary as string,
        message({
          title: `Reminder: ${roster.name} duty`,
          text: `You are on duty from ${when(p.shiftStart, tz)} until ${when(on.shift.end, tz)}. Can't make it? /duty swap or ask an admin for cover.`,
        }),
      ),
    );
    return { status: 'done', result: { to: on.primary } };
  }

  async function coverChange(payload: unknown, now: number): Promise<RosterJobResult> {
    const p = coverPayload.parse(payload);
    const roster = await store.rosters.byId(p.rosterId);
    const o = await store.rosters.overrideById(p.overrideId);
    if (!roster || roster.archivedAt || !o) return { status: 'done', result: 'stale' };
    // At a rotation handoff the handoff job announces the change (with the brief).
    if (shiftOf(planOf(roster, []), p.at).start === p.at) return { status: 'done', result: 'handoff announces it' };
    // Back from downtime after the cover ended: telling people now would mislead them.
    if (now >= (p.edge === 'start' ? o.to : p.at + HOUR)) return { status: 'done', result: 'too late to announce' };
    const before = await holderAt(store, roster, p.at - 1);
    const after = await holderAt(store, roster, p.at);
    const layer = o.layer;
    const was = layer === 'primary' ? before.primary : before.backup;
    const is = layer === 'primary' ? after.primary : after.backup;
    if (was === is) return { status: 'done', result: 'unchanged' };
    const names = await MemberNames.load(store);
    const until = p.edge === 'start' ? o.to : after.shift.end;
    await store.transaction(async (tx) => {
      // Keyed by roster, instant and person: whichever job announces a change, it is told once.
      const base = `duty:${roster.id}:${iso(p.at)}`;
      if (is) {
        const tz = names.get(is)?.timeZone ?? roster.timeZone;
        await dm(outbox, tx, `${base}:in:${is}`, is, message({ title: `You are on duty: ${roster.name}${layer === 'backup' ? ' (backup)' : ''}`, text: `Covering from ${when(p.at, tz)} until ${when(until, tz)}.` }));
      }
      if (was) {
        const tz = names.get(was)?.timeZone ?? roster.timeZone;
        await dm(outbox, tx, `${base}:out:${was}`, was, message({ title: `Off duty: ${roster.name}`, text: `${names.label(is)} covers from ${when(p.at, tz)} until ${when(until, tz)}.` }));
      }
    });
    return { status: 'done', result: { from: was, to: is } };
  }

  /** At start-up: every roster has its next handoff planned, whatever happened before. */
  async function ensurePlanned(now: number): Promise<void> {
    for (const roster of await store.rosters.list()) await store.transaction((tx) => planNextHandoff(outbox, tx, roster, now));
  }

  return { jobs: { [HANDOFF_JOB]: handoff, [REMINDER_JOB]: reminder, [COVER_CHANGE_JOB]: coverChange }, ensurePlanned };
}
