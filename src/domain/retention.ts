// Retention of personal data, the pure part: the period (a setting, 18 months by default, as
// Canada's crisis registration keeps it), when a stood-down crisis's people and a closed case fall
// due for erasure, and when the daily run happens. Months are calendar months of the mission time
// zone, counted on dates (date-fns addMonths): a record that ended on a given mission-local date
// falls due at the start of the date `months` later, and a date the target month lacks is its last
// day (31 January + 1 month = 28 February, or 29 in a leap year). Counting whole days keeps "due"
// monotonic: whatever ended earlier is due no later, so one cutoff answers "what is due now".
import { addMonths } from 'date-fns';
import { z } from 'zod/v4';
import { addDays, dateKey, localOf, zonedInstant, type LocalDate } from './zoned';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The Setting row with the period (JSON, see retentionConfigSchema). */
export const RETENTION_SETTING = 'duty.retention';
/** The Setting row with what the last run erased. */
export const RETENTION_RUN_SETTING = 'duty.retention.last-run';

export const DEFAULT_RETENTION_MONTHS = 18;
export const MIN_RETENTION_MONTHS = 1;
export const MAX_RETENTION_MONTHS = 120;
/** Records erased per transaction. */
export const RETENTION_BATCH = 500;
/** What required text columns hold once erased. */
export const ERASED = '[erased]';
/** The daily run: 03:00 mission time, when nobody is likely to be reading the records. */
export const RETENTION_RUN_MINUTES = 3 * 60;

export const retentionMonths = z.coerce
  .number({ error: 'months is a whole number, e.g. 18' })
  .int({ error: 'months is a whole number, e.g. 18' })
  .min(MIN_RETENTION_MONTHS, { error: `at least ${MIN_RETENTION_MONTHS} month` })
  .max(MAX_RETENTION_MONTHS, { error: `at most ${MAX_RETENTION_MONTHS} months (10 years)` });

export const retentionConfigSchema = z.object({ months: z.number().int().min(MIN_RETENTION_MONTHS).max(MAX_RETENTION_MONTHS) });
export type RetentionConfig = z.output<typeof retentionConfigSchema>;

/** The period in force: the stored setting, or the default when there is none (or it is unreadable). */
export function parseRetentionConfig(value: unknown): RetentionConfig {
  const r = retentionConfigSchema.safeParse(value);
  return r.success ? r.data : { months: DEFAULT_RETENTION_MONTHS };
}

/** What a run erased: counts and when, no names. */
export const retentionRunSchema = z.object({
  at: z.string(),
  people: z.number().int().min(0),
  cases: z.number().int().min(0),
  crises: z.array(z.string()),
  by: z.string(),
  /** more was due than one command erases at once; a job took over the rest */
  continued: z.boolean().optional(),
});
export type RetentionRun = z.output<typeof retentionRunSchema>;

export function parseRetentionRun(value: unknown): RetentionRun | null {
  const r = retentionRunSchema.safeParse(value);
  return r.success ? r.data : null;
}

/** The mission-local date `months` calendar months after `date` (clamped to the month's last day). */
export function addCalendarMonths(date: LocalDate, months: number): LocalDate {
  // Calendar arithmetic only: noon of the process's own zone always exists and no daylight-saving
  // change moves it to another date, so the fields read back are the date's (a TZDate would do the
  // same through Intl, a hundred times slower).
  const d = addMonths(new Date(date.y, date.m - 1, date.d, 12), months);
  return { y: d.getFullYear(), m: d.getMonth() + 1, d: d.getDate() };
}

/** When a record that ended (crisis stood down, case closed) at `endedAt` falls due: the start of the mission-local date `months` later. */
export function retentionDueAt(endedAt: number, months: number, timeZone: string): number {
  const ended = localOf(timeZone, endedAt);
  return zonedInstant(timeZone, addCalendarMonths({ y: ended.y, m: ended.m, d: ended.d }, months), 0);
}

export function isRetentionDue(endedAt: number, months: number, timeZone: string, now: number): boolean {
  return retentionDueAt(endedAt, months, timeZone) <= now;
}

/**
 * The latest end time that is due at `now` (the last millisecond of a mission-local date):
 * everything that ended at or before it is due, nothing after it is, so the database is asked with
 * one comparison. Found by bisection between bounds no month length can cross.
 */
export function retentionCutoff(now: number, months: number, timeZone: string): number {
  // A month is 28 to 31 days; two days either way cover whole days and daylight saving.
  let lo = now - months * 31 * DAY - 2 * DAY; // due
  let hi = now - months * 28 * DAY + 2 * DAY; // not due
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (isRetentionDue(mid, months, timeZone, now)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The daily run's date and instant: the first 03:00 mission time strictly after `from`. */
export function nextRetentionRun(timeZone: string, from: number): { date: LocalDate; key: string; dueAt: number } {
  const today = localOf(timeZone, from);
  let date: LocalDate = { y: today.y, m: today.m, d: today.d };
  let dueAt = zonedInstant(timeZone, date, RETENTION_RUN_MINUTES);
  if (dueAt <= from) {
    date = addDays(date, 1);
    dueAt = zonedInstant(timeZone, date, RETENTION_RUN_MINUTES);
  }
  return { date, key: `retention:daily:${dateKey(date)}`, dueAt };
}

export function monthsLabel(months: number): string {
  return months === 1 ? '1 month' : `${months} months`;
}
