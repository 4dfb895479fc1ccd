// Calendar feeds (RFC 5545): per roster and per member, behind a secret token.
import crypto from 'node:crypto';
import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { z } from 'zod/v4';
import { localOf } from '../../domain/zoned';
import { message } from '../../domain/reply';
import { schedule, shiftOf, type ScheduleRow } from '../../domain/rotation';
import type { Roster } from '../../domain/roster';
import type { Store } from '../../store/store';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { loadPlan, MemberNames, resolveRoster } from './roster-common';

// ical.js ships a CommonJS build, but its type declarations only describe the ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const ICAL = require('ical.js') as typeof ICALModule;

const DAY = 86_400_000;
export const FEED_PAST_DAYS = 30;
export const FEED_FUTURE_DAYS = 365;

const pad = (n: number): string => String(n).padStart(2, '0');

/** A jCal (RFC 7265) DATE-TIME: the zone's wall-clock fields under TZID, or UTC. */
function dateTime(name: string, instant: number, timeZone: string): unknown[] {
  if (timeZone === 'UTC') return [name, {}, 'date-time', `${new Date(instant).toISOString().slice(0, 19)}Z`];
  const l = localOf(timeZone, instant);
  return [name, { tzid: timeZone }, 'date-time', `${l.y}-${pad(l.m)}-${pad(l.d)}T${pad(Math.floor(l.minutes / 60))}:${pad(l.minutes % 60)}:00`];
}

const vtimezones = new Map<string, string | null>();

/** The zone's VTIMEZONE (IANA rules packaged by timezones-ical-library), or null if unknown. */
function vtimezone(tz: string): string | null {
  if (!vtimezones.has(tz)) {
    const block = tzlib_get_ical_block(tz)[0];
    vtimezones.set(tz, block && block.startsWith('BEGIN:VTIMEZONE') ? block : null);
  }
  return vtimezones.get(tz) ?? null;
}

interface FeedEvent {
  roster: Roster;
  row: ScheduleRow;
  layer: 'primary' | 'backup';
  memberId: string;
}

/** The iCalendar text of a feed. Event UIDs depend only on the roster, layer and times, so they stay put when the feed is regenerated. */
export async function renderFeed(store: Store, target: { rosterId?: string | null; memberId?: string | null }, now: number): Promise<string | null> {
  const from = now - FEED_PAST_DAYS * DAY;
  const to = now + FEED_FUTURE_DAYS * DAY;
  const names = await MemberNames.load(store);
  let rosters: Roster[];
  let title: string;
  if (target.rosterId) {
    const r = await store.rosters.byId(target.rosterId);
    if (!r || r.archivedAt) return null;
    rosters = [r];
    title = `${r.name} (Duty Desk)`;
  } else if (target.memberId) {
    const m = names.get(target.memberId);
    if (!m || m.removedAt) return null;
    // Their own rosters, and those where they cover for someone.
    rosters = await store.rosters.rostersOf(m.id, { from, to });
    title = `My duty: ${m.displayName} (Duty Desk)`;
  } else return null;

  const events: FeedEvent[] = [];
  for (const roster of rosters) {
    const { plan } = await loadPlan(store, roster);
    // From a shift boundary, so the first event (and its UID) does not move with the clock.
    const start = shiftOf(plan, from).start;
    const end = shiftOf(plan, to).end;
    const overrides = await store.rosters.overrides(roster.id, start, end);
    for (const row of schedule(plan, overrides, start, end)) {
      for (const layer of ['primary', 'backup'] as const) {
        const who = row[layer];
        if (!who) continue;
        if (target.memberId ? who === target.memberId : layer === 'primary') events.push({ roster, row, layer, memberId: who });
      }
    }
  }
  const zone = rosters.length === 1 ? (rosters[0] as Roster).timeZone : (names.get(target.memberId ?? null)?.timeZone ?? rosters[0]?.timeZone ?? 'UTC');
  // Built as jCal and serialised by ical.js, which escapes and folds lines per RFC 5545.
  const components: unknown[] = [];
  // One VTIMEZONE per zone the events use, so every client places them without guessing.
  for (const tz of new Set(events.map((e) => e.roster.timeZone))) {
    const block = vtimezone(tz);
    if (block) components.push(ICAL.parse(block));
  }
  for (const e of events) {
    const who = names.get(e.memberId);
    const marks = e.row.overrides.filter((o) => o.layer === e.layer).map((o) => (o.kind === 'swap' ? `swap with ${names.short(o.replaces)}` : `covering for ${names.short(o.replaces ?? e.row.scheduledPrimary)}`));
    const tz = vtimezone(e.roster.timeZone) ? e.roster.timeZone : 'UTC';
    components.push([
      'vevent',
      [
        ['uid', {}, 'text', `${e.roster.id}-${e.layer}-${e.row.start}-${e.row.end}@duty-desk`],
        dateTime('dtstamp', now, 'UTC'),
        dateTime('dtstart', e.row.start, tz),
        dateTime('dtend', e.row.end, tz),
        ['summary', {}, 'text', `${e.layer === 'backup' ? 'Backup duty' : 'Duty'}: ${target.memberId ? e.roster.name : (who?.displayName ?? 'member')}${marks.length ? ` (${marks.join(', ')})` : ''}`],
        ['description', {}, 'text', `${e.roster.name}: ${names.label(e.row.primary)} on duty${e.row.backup ? `, backup ${names.label(e.row.backup)}` : ''}.${marks.length ? ` ${marks.join('; ')}.` : ''}`],
        ['transp', {}, 'text', 'OPAQUE'],
      ],
      [],
    ]);
  }
  const cal = [
    'vcalendar',
    [
      ['prodid', {}, 'text', '-//Duty Desk//duty-desk//EN'],
      ['version', {}, 'text', '2.0'],
      ['calscale', {}, 'text', 'GREGORIAN'],
      ['method', {}, 'text', 'PUBLISH'],
      ['x-wr-calname', {}, 'unknown', title],
      ['x-wr-timezone', {}, 'unknown', zone],
      ['x-published-ttl', {}, 'unknown', 'PT1H'],
    ],
    components,
  ];
  return ICAL.stringify(cal as Parameters<typeof ICAL.stringify>[0]);
}

function feedUrl(ctx: HandlerContext, token: string): string {
  const base = ctx.settings.publicBaseUrl ?? 'http://localhost:3000';
  return `${base.replace(/\/$/, '')}/calendar/${token}.ics`;
}

async function feedTarget(ctx: HandlerContext, which: string | undefined): Promise<{ target: { rosterId?: string; memberId?: string }; label: string }> {
  if (!which || which.toLowerCase() === 'me') {
    if (!ctx.actor) throw new CommandError('NOT_REGISTERED', 'Only members have a calendar.');
    return { target: { memberId: ctx.actor.id }, label: 'your shifts' };
  }
  const r: Roster = await resolveRoster(ctx, which);
  return { target: { rosterId: r.id }, label: `${r.name}` };
}

const input = z.strictObject({ which: z.string().trim().max(60).optional() });

export const calendarCommand = defineCommand({
  key: 'duty calendar',
  summary: 'the address of a calendar feed of a roster or of your own shifts',
  usage: '/duty calendar [roster|me]',
  allowed: 'any-member',
  rest: 'which',
  input,
  async run(ctx, { which }) {
    const { target, label } = await feedTarget(ctx, which);
    let feed = await ctx.store.rosters.feedFor(target);
    if (!feed) {
      const token = crypto.randomBytes(24).toString('base64url');
      await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.createFeed(w, target, token, ctx.actor?.id ?? null, ctx.now));
      feed = { id: '', token };
    }
    return message({
      title: `Calendar feed: ${label}`,
      text: `Subscribe to this address in Google Calendar, Outlook or Apple Calendar (add calendar → from URL):\n${feedUrl(ctx, feed.token)}\nAnyone with the address can read it; /duty calendar reset ${which ?? 'me'} gives a new one and stops the old.`,
    });
  },
});

export const calendarResetCommand = defineCommand({
  key: 'duty calendar reset',
  summary: 'replace a calendar feed address (the old one stops working)',
  usage: '/duty calendar reset [roster|me]',
  allowed: 'any-member',
  rest: 'which',
  input,
  async run(ctx, { which }) {
    const { target, label } = await feedTarget(ctx, which);
    if (target.rosterId && !ctx.actor?.roles.includes('admin')) throw new CommandError('FORBIDDEN', "Only admins reset a roster's feed.");
    const token = crypto.randomBytes(24).toString('base64url');
    await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.createFeed(w, target, token, ctx.actor?.id ?? null, ctx.now));
    return message({ title: `New calendar feed: ${label}`, text: `${feedUrl(ctx, token)}\nThe old address no longer works.` });
  },
});
