// Dates and times as people type them, read in their own time zone:
// "2026-12-24 18:00", "24/12 18:00", "24/12/2026", "tomorrow 08:00", "fri 18:00", "now".
// A small parser of our own: the accepted forms are few and must mean exactly one thing
// (natural-language libraries guess, and a guessed duty time is worse than an error).
import { addDays, daysBetween, localOf, parseClock, zonedInstant, type LocalDate } from './zoned';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function validDate(y: number, m: number, d: number): LocalDate | null {
  const ld = { y, m, d };
  const back = addDays(ld, 0);
  return back.y === y && back.m === m && back.d === d ? ld : null;
}

/** A date on its own; `today` is the caller's local date. */
export function parseDateWord(s: string, today: LocalDate & { weekday: number }): LocalDate | null {
  const t = s.trim().toLowerCase();
  if (t === 'today') return { y: today.y, m: today.m, d: today.d };
  if (t === 'tomorrow') return addDays(today, 1);
  if (t === 'yesterday') return addDays(today, -1);
  const wd = WEEKDAYS.indexOf(t.slice(0, 3));
  if (wd >= 0 && /^[a-z]+$/.test(t) && (t.length === 3 || WEEKDAYS_FULL[wd]?.startsWith(t))) {
    return addDays(today, (wd - today.weekday + 7) % 7);
  }
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  if (m) return validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?$/.exec(t);
  if (m) {
    const d = Number(m[1]);
    const mo = Number(m[2]);
    if (m[3]) return validDate(Number(m[3]), mo, d);
    // No year: the next such date from today.
    const thisYear = validDate(today.y, mo, d);
    if (thisYear && daysBetween(today, thisYear) >= 0) return thisYear;
    return validDate(today.y + 1, mo, d);
  }
  return null;
}

const WEEKDAYS_FULL = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export type ParsedInstant = { ok: true; instant: number } | { ok: false; error: string };

/** A date and time (time defaults to `defaultMinutes`, e.g. the handoff time), or "now". */
export function parseDateTime(s: string, timeZone: string, now: number, defaultMinutes = 0): ParsedInstant {
  // An exact instant with its offset (what buttons carry): no zone to apply.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i.test(s.trim())) {
    const t = Date.parse(s.trim());
    if (!Number.isNaN(t)) return { ok: true, instant: t };
  }
  const t = s.trim().toLowerCase().replace(/^(\d{4}-\d{1,2}-\d{1,2})t/, '$1 ').replace(/\s+/g, ' ');
  if (t === 'now') return { ok: true, instant: now };
  const today = localOf(timeZone, now);
  const parts = t.split(' ');
  let datePart = parts[0] ?? '';
  let timePart = parts[1];
  // "18:00" alone: today at that time.
  if (parts.length === 1 && parseClock(datePart) !== null) {
    timePart = datePart;
    datePart = 'today';
  }
  if (parts.length > 2) return { ok: false, error: `"${s.slice(0, 40)}" is not a date and time; write e.g. 2026-12-24 18:00 or fri 18:00` };
  const date = parseDateWord(datePart, today);
  if (!date) return { ok: false, error: `"${datePart.slice(0, 30)}" is not a date; write e.g. 2026-12-24, 24/12, tomorrow or fri` };
  const minutes = timePart === undefined ? defaultMinutes : parseClock(timePart);
  if (minutes === null) return { ok: false, error: `"${timePart?.slice(0, 20)}" is not a time of day; write e.g. 18:00` };
  // A weekday name means the next one; if that is today and the time has passed, a week on.
  let instant = zonedInstant(timeZone, date, minutes);
  if (/^[a-z]+$/.test(datePart) && WEEKDAYS.includes(datePart.slice(0, 3)) && instant < now) {
    instant = zonedInstant(timeZone, addDays(date, 7), minutes);
  }
  return { ok: true, instant };
}

export function parseDate(s: string, timeZone: string, now: number): LocalDate | null {
  return parseDateWord(s.replace(/\s+/g, ''), localOf(timeZone, now));
}
