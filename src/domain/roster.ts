// Rosters as the rest of the product sees them, and the small languages people type to
// describe them: "1w" shifts, "08:00" handoffs, "mon-fri 18:00-08:00, sat-sun all-day" coverage.
import { z } from 'zod/v4';
import { timeZoneSchema } from './member';
import type { Backup, CoverageWindow, RosterPlan, ShiftUnit } from './rotation';
import { dateKey, formatClock, parseClock, type LocalDate } from './zoned';

/** A rotation as it was defined from `from` (-Infinity for the first definition). */
export interface RosterDefinition {
  from: number;
  timeZone: string;
  unit: ShiftUnit;
  length: number;
  handoff: number;
  start: LocalDate;
  members: string[];
  backup: Backup;
  offset: number;
}

export interface Roster {
  id: string;
  name: string;
  timeZone: string;
  unit: ShiftUnit;
  length: number;
  handoff: number;
  start: LocalDate;
  backup: Backup;
  coverage: CoverageWindow[];
  channel: string | null;
  reminderHours: number;
  version: number;
  /** member ids in rotation order */
  members: string[];
  /** see RosterDefinition */
  offset: number;
  effectiveFrom: number | null;
  history: RosterDefinition[];
  archivedAt: Date | null;
}

export function currentDefinition(r: Roster): RosterDefinition {
  return {
    from: r.effectiveFrom ?? -Infinity,
    timeZone: r.timeZone,
    unit: r.unit,
    length: r.length,
    handoff: r.handoff,
    start: r.start,
    members: r.members,
    backup: r.backup,
    offset: r.offset,
  };
}

const ruleOf = (d: RosterDefinition) => ({ timeZone: d.timeZone, unit: d.unit, length: d.length, handoff: d.handoff, start: d.start });

/** The plan of a list of definitions (the first reaching back indefinitely). */
export function planOfDefinitions(defs: RosterDefinition[], coverage: CoverageWindow[], holidays: Iterable<string>): RosterPlan {
  const [base, ...later] = defs;
  if (!base) throw new Error('a roster has at least one definition');
  return {
    rule: ruleOf(base),
    members: base.members,
    backup: base.backup,
    offset: base.offset,
    epochs: later.map((d) => ({ from: d.from, rule: ruleOf(d), members: d.members, backup: d.backup, offset: d.offset })),
    coverage,
    holidays: new Set(holidays),
  };
}

export function planOf(r: Roster, holidays: Iterable<string>): RosterPlan {
  return planOfDefinitions([...r.history, currentDefinition(r)], r.coverage, holidays);
}

export const rosterNameSchema = z
  .string()
  .trim()
  .min(2, { error: 'a roster name is 2 to 40 characters' })
  .max(40, { error: 'a roster name is 2 to 40 characters' })
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, { error: 'a roster name is letters, digits, spaces, dots, dashes or underscores' });

/** The same rule as a member's zone: an IANA name, stored in its canonical spelling. */
export const rosterTimeZoneSchema = timeZoneSchema;

/** "12h", "1d", "1w", "7 days", "24 hours" */
export function parseShift(s: string): { unit: ShiftUnit; length: number } | null {
  const m = /^(\d{1,3})\s*(h|hours?|d|days?|w|weeks?)$/i.exec(s.trim());
  if (!m) return null;
  const length = Number(m[1]);
  const u = (m[2] as string)[0]?.toLowerCase();
  const unit: ShiftUnit = u === 'h' ? 'hours' : u === 'd' ? 'days' : 'weeks';
  const max = unit === 'hours' ? 24 * 28 : unit === 'days' ? 28 : 8;
  return length >= 1 && length <= max ? { unit, length } : null;
}

export function formatShift(unit: ShiftUnit, length: number): string {
  return `${length}${unit[0]}`;
}

export const shiftSchema = z.string().transform((s, ctx) => {
  const r = parseShift(s);
  if (!r) {
    ctx.addIssue({ code: 'custom', message: 'a shift length such as 12h, 1d or 1w (at most 4 weeks)' });
    return z.NEVER;
  }
  return r;
});

export const clockSchema = z.string().transform((s, ctx) => {
  const r = parseClock(s);
  if (r === null) {
    ctx.addIssue({ code: 'custom', message: 'a time of day such as 08:00' });
    return z.NEVER;
  }
  return r;
});

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function parseDays(s: string): number[] | null {
  const t = s.toLowerCase();
  if (t === 'daily' || t === 'everyday' || t === 'all') return [0, 1, 2, 3, 4, 5, 6];
  if (t === 'weekdays') return [1, 2, 3, 4, 5];
  if (t === 'weekends') return [0, 6];
  const out = new Set<number>();
  for (const part of t.split('+')) {
    const range = /^([a-z]{3})[a-z]*(?:-([a-z]{3})[a-z]*)?$/.exec(part);
    if (!range) return null;
    const a = DAY_NAMES.indexOf(range[1] as string);
    const b = range[2] ? DAY_NAMES.indexOf(range[2]) : a;
    if (a < 0 || b < 0) return null;
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === b) break;
    }
  }
  return [...out].sort();
}

/**
 * "after-hours" (weekdays 18:00-08:00, weekends all day), "always", or a list such as
 * "mon-fri 18:00-08:00, sat+sun all-day".
 */
export function parseCoverage(s: string): CoverageWindow[] | string {
  const t = s.trim().toLowerCase();
  if (t === '' || t === 'always' || t === '24/7') return [];
  if (t === 'after-hours' || t === 'afterhours') {
    return [
      { days: [1, 2, 3, 4, 5], from: 18 * 60, to: 8 * 60 },
      { days: [0, 6], from: 0, to: 0 },
    ];
  }
  const windows: CoverageWindow[] = [];
  for (const item of t.split(/[,;]/).map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\S+)\s+(all-day|allday|(\d{1,2}:\d{2})-(\d{1,2}:\d{2}))$/.exec(item);
    const days = m ? parseDays(m[1] as string) : null;
    if (!m || !days) return `"${item.slice(0, 40)}" is not a coverage window; write e.g. "mon-fri 18:00-08:00, sat-sun all-day"`;
    if (m[3] && m[4]) {
      const from = parseClock(m[3]);
      const to = parseClock(m[4]);
      if (from === null || to === null) return `"${item.slice(0, 40)}" has a time that is not a time of day`;
      windows.push({ days, from, to });
    } else windows.push({ days, from: 0, to: 0 });
  }
  return windows;
}

export function formatCoverage(c: CoverageWindow[]): string {
  if (c.length === 0) return 'around the clock';
  return c
    .map((w) => {
      const days = w.days.length === 7 ? 'daily' : w.days.map((d) => DAY_NAMES[d]).join('+');
      return `${days} ${w.from === 0 && w.to === 0 ? 'all day' : `${formatClock(w.from)}-${formatClock(w.to)}`}`;
    })
    .join(', ');
}

export const coverageSchema = z.string().transform((s, ctx) => {
  const r = parseCoverage(s);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  }
  return r;
});

export const coverageJson = z.array(
  z.object({ days: z.array(z.number().int().min(0).max(6)), from: z.number().int().min(0).max(1439), to: z.number().int().min(0).max(1439) }),
);

export function describeRule(r: Roster): string {
  const every = r.unit === 'hours' ? `${r.length}-hour shifts from ${formatClock(r.handoff)}` : `${formatShift(r.unit, r.length)} shifts, handoff at ${formatClock(r.handoff)}`;
  return `${every} ${r.timeZone}, since ${dateKey(r.start)}`;
}
