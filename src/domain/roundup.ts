// The daily roundup for leadership, the pure part: its setting (when, in mission time, and which
// channel), when each day's roundup is due across daylight-saving changes, and the figures it
// carries. Counts and references only: none of these types has room for a name or a summary.
import { z } from 'zod/v4';
import { CASE_PRIORITIES, type CasePriority } from './case';
import { shown } from './words';
import { addDays, dateKey, daysBetween, formatClock, localOf, parseClock, zonedInstant, type LocalDate } from './zoned';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The Setting row holding the configuration (JSON, see roundupConfigSchema). */
export const ROUNDUP_SETTING = 'duty.roundup';
/** The Setting row naming the last mission-local date whose roundup was claimed for sending. */
export const ROUNDUP_SENT_SETTING = 'duty.roundup.sent';

/** Days on the chart of cases per day, ending with the roundup's own date. */
export const ROUNDUP_CHART_DAYS = 14;
/** "The last 24 hours" of the roundup. */
export const ROUNDUP_WINDOW_MS = DAY;
/** "Tonight": who holds the duty at this mission-local time of the roundup's date. */
export const TONIGHT_MINUTES = 22 * 60;
/** A roundup that could not go out within this long of its time is skipped: it would mislead. */
export const ROUNDUP_MAX_LATE_MS = 6 * HOUR;
/** Cases, pages or crises listed by reference in one section, at most; the rest are counted. */
export const ROUNDUP_MAX_LISTED = 15;

const clockText = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'a time as HH:MM' });
const channelText = z.string().regex(/^(slack|teams):\S+$/, { error: 'a channel as slack:<id> or teams:<id>' });

/** The configuration as stored: `enabled: false` keeps the time and channel for the next `set`. */
export const roundupConfigSchema = z.object({ at: clockText, channel: channelText, enabled: z.boolean() });
export type RoundupConfig = z.output<typeof roundupConfigSchema>;

/** The configuration from a Setting's parsed JSON value; null when absent or unreadable. */
export function parseRoundupConfig(value: unknown): RoundupConfig | null {
  const r = roundupConfigSchema.safeParse(value);
  return r.success ? r.data : null;
}

/** Which day's roundup has been claimed for sending, and by which job (so that its retries go on). */
export const roundupSentSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), job: z.string().min(1) });
export type RoundupSent = z.output<typeof roundupSentSchema>;

export function parseRoundupSent(value: unknown): RoundupSent | null {
  const r = roundupSentSchema.safeParse(value);
  return r.success ? r.data : null;
}

/** "7:00", "07:00" or "0700" → "07:00"; anything else is an error to show the person. */
export function parseRoundupTime(input: string): { ok: true; at: string; minutes: number } | { ok: false; error: string } {
  const t = input.trim();
  const m = parseClock(/^\d{4}$/.test(t) ? `${t.slice(0, 2)}:${t.slice(2)}` : t);
  if (m === null) return { ok: false, error: `"${shown(input)}" is not a time of day; use HH:MM in mission time, e.g. 07:00` };
  return { ok: true, at: formatClock(m), minutes: m };
}

/** Minutes after midnight of a stored "HH:MM". */
export function minutesOf(at: string): number {
  const m = parseClock(at);
  if (m === null) throw new RangeError(`not a stored roundup time: ${at}`);
  return m;
}

/**
 * The idempotency key of a day's roundup: one per mission-local date and configured time, so
 * replicas and restarts plan the same job, and a changed time plans a new one (the old one finds
 * the time changed and stands down).
 */
export function roundupKey(date: LocalDate, at: string): string {
  return `roundup:${dateKey(date)}@${at}`;
}

export interface RoundupSlot {
  date: LocalDate;
  dueAt: number;
}

/** The instant of the roundup on a mission-local date: a skipped time moves to the first valid instant after it, a repeated one is the first. */
export function roundupInstant(timeZone: string, date: LocalDate, at: string): number {
  return zonedInstant(timeZone, date, minutesOf(at));
}

/**
 * The first roundup at or after `from`, skipping `sentOn` (a date whose roundup has already gone
 * out: at most one a day, even when the time is moved later the same day).
 */
export function nextRoundup(timeZone: string, at: string, from: number, sentOn?: string | null): RoundupSlot {
  const l = localOf(timeZone, from);
  let date: LocalDate = { y: l.y, m: l.m, d: l.d };
  for (;;) {
    const dueAt = roundupInstant(timeZone, date, at);
    if (dueAt >= from && dateKey(date) !== sentOn) return { date, dueAt };
    date = addDays(date, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

/** What the roundup knows of a case: its reference and codes, and when it was opened and resolved. */
export interface RoundupCaseFact {
  ref: string;
  category: string;
  priority: string;
  status: string;
  openedAt: number;
  /** when it was resolved, or closed without being resolved; null while open */
  resolvedAt: number | null;
}

export interface RoundupCaseLine {
  ref: string;
  category: string;
  priority: string;
  status: string;
}

export interface DayCount {
  /** YYYY-MM-DD, mission time */
  date: string;
  opened: number;
  resolved: number;
}

export interface CaseFigures {
  /** opened in the last 24 hours, by priority then reference */
  opened: RoundupCaseLine[];
  /** resolved (or closed unresolved) in the last 24 hours */
  resolved: RoundupCaseLine[];
  /** per mission-local day, oldest first, ending with the day of `now` */
  perDay: DayCount[];
}

const byUrgency = (a: RoundupCaseLine, b: RoundupCaseLine): number => a.priority.localeCompare(b.priority) || a.ref.localeCompare(b.ref);
const line = (c: RoundupCaseFact): RoundupCaseLine => ({ ref: c.ref, category: c.category, priority: c.priority, status: c.status });

/** The 24-hour lists and the per-day counts of the chart, from the cases that moved in the period. */
export function caseFigures(cases: readonly RoundupCaseFact[], timeZone: string, now: number, days = ROUNDUP_CHART_DAYS): CaseFigures {
  const since = now - ROUNDUP_WINDOW_MS;
  const inWindow = (t: number | null): boolean => t !== null && t > since && t <= now;
  const l = localOf(timeZone, now);
  const last: LocalDate = { y: l.y, m: l.m, d: l.d };
  const first = addDays(last, -(days - 1));
  const perDay: DayCount[] = Array.from({ length: days }, (_, i) => ({ date: dateKey(addDays(first, i)), opened: 0, resolved: 0 }));
  const dayOf = (t: number): DayCount | undefined => {
    if (t > now) return undefined;
    const x = localOf(timeZone, t);
    return perDay[daysBetween(first, x)];
  };
  for (const c of cases) {
    const o = dayOf(c.openedAt);
    if (o) o.opened++;
    if (c.resolvedAt !== null) {
      const r = dayOf(c.resolvedAt);
      if (r) r.resolved++;
    }
  }
  return {
    opened: cases.filter((c) => inWindow(c.openedAt)).map(line).sort(byUrgency),
    resolved: cases.filter((c) => inWindow(c.resolvedAt)).map(line).sort(byUrgency),
    perDay,
  };
}

/** Counts by priority, P1 to P4. */
export function byPriority(lines: readonly { priority: string }[]): Record<CasePriority, number> {
  const out = Object.fromEntries(CASE_PRIORITIES.map((p) => [p, 0])) as Record<CasePriority, number>;
  for (const c of lines) if ((CASE_PRIORITIES as readonly string[]).includes(c.priority)) out[c.priority as CasePriority]++;
  return out;
}

/** The P1 and P2 cases of a list: those the roundup names by reference. */
export function urgent<T extends { priority: string }>(lines: readonly T[]): T[] {
  return lines.filter((c) => c.priority === 'P1' || c.priority === 'P2');
}

/** Who holds a roster's duty at one instant, by member handle (never a citizen's name). */
export interface DutySlot {
  at: number;
  /** false outside the roster's coverage hours */
  covered: boolean;
  /** the roster has no members */
  empty: boolean;
  /** "@alee", or null for nobody */
  primary: string | null;
  backup: string | null;
}

export interface RosterDuty {
  roster: string;
  now: DutySlot;
  /** null when the roundup is itself after "tonight" */
  tonight: DutySlot | null;
}

export interface RoundupPage {
  number: number;
  severity: string;
  status: string;
  /** the target as given: "@alee", "Duty officer", "roster:Consular" */
  target: string;
  /** the case reference it was raised for, if any */
  sourceRef: string | null;
  triggeredAt: number;
}

export interface RoundupCrisis {
  code: string;
  name: string;
  /** live people by status */
  counts: Record<string, number>;
  /** people reported in each status in the last 24 hours */
  lastDay: Record<string, number>;
  needs: Record<string, number>;
}

/** Everything a roundup shows, loaded at one instant. */
export interface RoundupData {
  now: number;
  timeZone: string;
  duty: RosterDuty[];
  cases: CaseFigures;
  /** open cases now, by priority */
  openNow: Record<CasePriority, number>;
  /** open pages (triggered or acknowledged), oldest first, at most ROUNDUP_MAX_LISTED */
  pages: RoundupPage[];
  pagesTotal: number;
  /** active crises, by code */
  crises: RoundupCrisis[];
}

/** The instant "tonight" names on the roundup's date, or null when it has passed. */
export function tonightAt(timeZone: string, now: number): number | null {
  const l = localOf(timeZone, now);
  const t = zonedInstant(timeZone, { y: l.y, m: l.m, d: l.d }, TONIGHT_MINUTES);
  return t > now ? t : null;
}
