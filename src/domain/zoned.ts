// Wall-clock time in an IANA zone, with the rules duty rosters rely on: a local time that does
// not exist (spring forward) moves to the first valid instant after it, and one that happens
// twice (fall back) means its first occurrence. Instants are epoch milliseconds.
import { tzOffset, tzScan } from '@date-fns/tz';

export interface LocalDate {
  y: number;
  /** 1-12 */
  m: number;
  d: number;
}

export interface LocalDateTime extends LocalDate {
  /** minutes after local midnight */
  minutes: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

interface YearOffsets {
  start: number;
  end: number;
  /** offset at the start of the UTC year */
  first: number;
  /** changes during the year, in order */
  changes: { at: number; offset: number }[];
}

const years = new Map<string, Map<number, YearOffsets>>();
/** The year last used per zone: schedules walk forward through one year at a time. */
const lastYear = new Map<string, YearOffsets>();

function loadYear(timeZone: string, y: number): YearOffsets {
  let zone = years.get(timeZone);
  if (!zone) {
    zone = new Map();
    years.set(timeZone, zone);
  }
  let c = zone.get(y);
  if (!c) {
    const start = new Date(Date.UTC(y, 0, 1));
    const end = new Date(Date.UTC(y + 1, 0, 1));
    // tzScan finds each change to within an hour or so; pin it to the minute with tzOffset.
    const changes = tzScan(timeZone, { start, end }).map((ch) => {
      const approx = ch.date.getTime();
      let lo = Math.floor((approx - 3 * 3_600_000) / MINUTE);
      let hi = Math.ceil((approx + 3 * 3_600_000) / MINUTE);
      if (tzOffset(timeZone, new Date(hi * MINUTE)) !== ch.offset || tzOffset(timeZone, new Date(lo * MINUTE)) === ch.offset) return { at: approx, offset: ch.offset };
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (tzOffset(timeZone, new Date(mid * MINUTE)) === ch.offset) hi = mid;
        else lo = mid;
      }
      return { at: hi * MINUTE, offset: ch.offset };
    });
    c = { start: start.getTime(), end: end.getTime(), first: tzOffset(timeZone, start), changes };
    if (zone.size > 400) zone.clear();
    zone.set(y, c);
  }
  return c;
}

/**
 * UTC offset in minutes. Each Intl lookup costs microseconds and a year-long schedule needs
 * thousands, so a zone's transitions are found once per UTC year (tzScan) and cached.
 */
export function offsetMinutes(timeZone: string, instant: number): number {
  if (timeZone === 'UTC') return 0;
  let c = lastYear.get(timeZone);
  if (!c || instant < c.start || instant >= c.end) {
    c = loadYear(timeZone, new Date(instant).getUTCFullYear());
    lastYear.set(timeZone, c);
  }
  let off = c.first;
  for (const ch of c.changes) {
    if (ch.at > instant) break;
    off = ch.offset;
  }
  return off;
}

function wall(ld: LocalDate, minutes: number): number {
  return Date.UTC(ld.y, ld.m - 1, ld.d) + minutes * MINUTE;
}

export function localOf(timeZone: string, instant: number): LocalDateTime {
  const w = new Date(instant + offsetMinutes(timeZone, instant) * MINUTE);
  return {
    y: w.getUTCFullYear(),
    m: w.getUTCMonth() + 1,
    d: w.getUTCDate(),
    minutes: w.getUTCHours() * 60 + w.getUTCMinutes(),
    weekday: w.getUTCDay(),
  };
}

export function addDays(ld: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(ld.y, ld.m - 1, ld.d + days));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

/** Whole days from a to b (calendar arithmetic, no zone involved). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / DAY);
}

export function dateKey(ld: LocalDate): string {
  return `${String(ld.y).padStart(4, '0')}-${String(ld.m).padStart(2, '0')}-${String(ld.d).padStart(2, '0')}`;
}

export function parseDateKey(s: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const ld = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  const back = addDays(ld, 0);
  return back.y === ld.y && back.m === ld.m && back.d === ld.d ? ld : null;
}

/** The instant of a local wall-clock time (see the rules at the top of this file). */
export function zonedInstant(timeZone: string, ld: LocalDate, minutes: number): number {
  const w = wall(ld, minutes);
  const before = offsetMinutes(timeZone, w - DAY);
  const after = offsetMinutes(timeZone, w + DAY);
  const offsets = new Set([before, after, offsetMinutes(timeZone, w)]);
  let best: number | undefined;
  for (const o of offsets) {
    const t = w - o * MINUTE;
    if (t + offsetMinutes(timeZone, t) * MINUTE === w && (best === undefined || t < best)) best = t;
  }
  if (best !== undefined) return best;
  // A gap: find the transition, the first instant with the later offset; its wall time is the
  // first valid one after w.
  let lo = Math.floor((w - Math.max(before, after) * MINUTE) / MINUTE);
  let hi = Math.ceil((w - Math.min(before, after) * MINUTE) / MINUTE);
  const late = offsetMinutes(timeZone, hi * MINUTE);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMinutes(timeZone, mid * MINUTE) === late) hi = mid;
    else lo = mid;
  }
  return hi * MINUTE;
}

const abbreviations = new Map<string, string>();
// Locales whose short names cover most zones by their usual letters (EST, CET, IST, AEDT).
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-IN', 'en-AU', 'en-NZ'];

/** "CET", "EST", "IST" where the zone has a common abbreviation, else "GMT+5:45", at that instant. */
export function zoneAbbreviation(timeZone: string, instant: number): string {
  const key = `${timeZone}|${offsetMinutes(timeZone, instant)}`;
  let name = abbreviations.get(key);
  if (name === undefined) {
    const names = ABBREVIATION_LOCALES.map(
      (locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? '',
    );
    name = names.find((n) => n !== '' && !/^(GMT|UTC)[+-−]/.test(n)) ?? names[1] ?? timeZone;
    abbreviations.set(key, name);
  }
  return name;
}

export function parseClock(s: string): number | null {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(s.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
