// Who is on duty: a rotation of members with handoffs at a local clock time, optional coverage
// windows (after-hours duty), holidays, a backup layer, and overrides. Pure; instants are epoch
// milliseconds.
import { addDays, dateKey, localOf, zonedInstant, type LocalDate } from './zoned';

export type ShiftUnit = 'hours' | 'days' | 'weeks';

export interface RotationRule {
  timeZone: string;
  unit: ShiftUnit;
  /** shift length in `unit`s, a positive whole number */
  length: number;
  /** local handoff time, minutes after midnight (for hour shifts: the time of the first handoff) */
  handoff: number;
  /** local date of the first handoff */
  start: LocalDate;
}

/** A recurring span of local time in which someone must be on duty. */
export interface CoverageWindow {
  /** weekdays the window starts on, 0 = Sunday … 6 = Saturday */
  days: number[];
  /** minutes after midnight; `to <= from` runs past midnight, `to === from` lasts 24 hours */
  from: number;
  to: number;
}

export type Layer = 'primary' | 'backup';

export interface Override {
  id: string;
  layer: Layer;
  /** the member who takes the duty */
  memberId: string;
  /** whose duty it takes; null takes the duty whoever has it */
  replaces: string | null;
  from: number;
  to: number;
  /** applied in this order, so an override of an override comes after it */
  seq: number;
  kind: 'cover' | 'swap';
}

export type Backup = { mode: 'none' } | { mode: 'offset'; offset: number } | { mode: 'order'; members: string[] };

/**
 * One definition of a rotation, in force from `from` until the next one. Changes to a roster
 * start at a handoff and never rewrite what came before: the first definition reaches back
 * indefinitely, each later one begins where the previous one's shift ended.
 */
export interface Epoch {
  from: number;
  rule: RotationRule;
  members: string[];
  backup: Backup;
  /** position in `members` of whoever holds the epoch's first shift */
  offset: number;
}

export interface RosterPlan {
  rule: RotationRule;
  members: string[];
  backup: Backup;
  /** position in `members` for shift 0 of the first definition (default 0) */
  offset?: number;
  /** later definitions, in order of `from` */
  epochs?: Epoch[];
  coverage: CoverageWindow[];
  /** local dates (YYYY-MM-DD) counted as all-day after-hours */
  holidays: ReadonlySet<string>;
}

export interface Shift {
  index: number;
  start: number;
  end: number;
}

const HOUR = 3_600_000;

function stepDays(rule: RotationRule): number {
  return rule.unit === 'weeks' ? rule.length * 7 : rule.length;
}

/** Start of shift k (k may be negative: the rotation extends backwards, so there is no gap). */
export function boundary(rule: RotationRule, k: number): number {
  if (rule.unit === 'hours') return zonedInstant(rule.timeZone, rule.start, rule.handoff) + k * rule.length * HOUR;
  return zonedInstant(rule.timeZone, addDays(rule.start, k * stepDays(rule)), rule.handoff);
}

export function shiftIndexAt(rule: RotationRule, t: number): number {
  const t0 = boundary(rule, 0);
  let k: number;
  if (rule.unit === 'hours') {
    k = Math.floor((t - t0) / (rule.length * HOUR));
  } else {
    k = Math.floor((t - t0) / (stepDays(rule) * 24 * HOUR));
    // DST makes some steps an hour short or long; correct the estimate.
    while (boundary(rule, k) > t) k--;
    while (boundary(rule, k + 1) <= t) k++;
  }
  return k;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function baseEpoch(plan: RosterPlan): Epoch {
  return { from: -Infinity, rule: plan.rule, members: plan.members, backup: plan.backup, offset: plan.offset ?? 0 };
}

/** The definition in force at t, and when the next one starts. */
export function epochAt(plan: RosterPlan, t: number): { epoch: Epoch; next: number } {
  let epoch = baseEpoch(plan);
  let next = Infinity;
  for (const e of plan.epochs ?? []) {
    if (e.from <= t) epoch = e;
    else {
      next = e.from;
      break;
    }
  }
  return { epoch, next };
}

export interface PlanShift extends Shift {
  epoch: Epoch;
}

function nominalLength(rule: RotationRule): number {
  return rule.length * (rule.unit === 'hours' ? HOUR : rule.unit === 'days' ? 24 * HOUR : 7 * 24 * HOUR);
}

/** The shift holding t: its bounds (cut where a new definition starts) and its number in its definition. */
export function shiftOf(plan: RosterPlan, t: number): PlanShift {
  const { epoch, next } = epochAt(plan, t);
  const k = shiftIndexAt(epoch.rule, t);
  if (epoch.from === -Infinity) return { index: k, start: boundary(epoch.rule, k), end: Math.min(boundary(epoch.rule, k + 1), next), epoch };
  // A definition starts at the previous one's handoff. Its first shift runs to its own first
  // handoff, or to the one after when that comes within half a shift (a handoff moved from
  // 18:00 to 19:00 gives one 25-hour shift, not a 1-hour one).
  const k0 = shiftIndexAt(epoch.rule, epoch.from);
  const merged = boundary(epoch.rule, k0 + 1) - epoch.from < nominalLength(epoch.rule) / 2;
  const firstEnd = boundary(epoch.rule, k0 + (merged ? 2 : 1));
  if (t < firstEnd) return { index: 0, start: epoch.from, end: Math.min(firstEnd, next), epoch };
  return { index: k - k0 - (merged ? 1 : 0), start: boundary(epoch.rule, k), end: Math.min(boundary(epoch.rule, k + 1), next), epoch };
}

export function primaryIn(e: Epoch, j: number): string | null {
  return e.members.length ? (e.members[mod(j + e.offset, e.members.length)] as string) : null;
}

export function backupIn(e: Epoch, j: number): string | null {
  const b = e.backup;
  if (b.mode === 'order') return b.members.length ? (b.members[mod(j, b.members.length)] as string) : null;
  if (b.mode === 'offset' && e.members.length > 1 && mod(b.offset, e.members.length) !== 0) {
    return e.members[mod(j + e.offset + b.offset, e.members.length)] as string;
  }
  return null;
}

/**
 * Where a changed definition starts and whose turn it is then: at the end of the shift holding
 * `now`, continuing with whoever was next (or the first of those after them still in the new
 * order), so a change never moves the shift in progress.
 */
export function nextEpochStart(plan: RosterPlan, now: number, members: string[]): { from: number; offset: number } {
  const from = shiftOf(plan, now).end;
  const at = shiftOf(plan, from);
  const order = at.epoch.members;
  const holder = primaryIn(at.epoch, at.index);
  const i = holder ? order.indexOf(holder) : -1;
  for (let n = 0; i >= 0 && n < order.length; n++) {
    const p = members.indexOf(order[(i + n) % order.length] as string);
    if (p >= 0) return { from, offset: p };
  }
  return { from, offset: 0 };
}

/** Inside a coverage window (always, when the roster has none)? Holidays are covered all day. */
export function isCovered(plan: RosterPlan, t: number): boolean {
  if (plan.coverage.length === 0) return true;
  const here = localOf(plan.rule.timeZone, t);
  if (plan.holidays.has(dateKey(here))) return true;
  const yesterday = (here.weekday + 6) % 7;
  for (const w of plan.coverage) {
    const overnight = w.to <= w.from;
    if (w.days.includes(here.weekday)) {
      if (overnight ? here.minutes >= w.from : here.minutes >= w.from && here.minutes < w.to) return true;
    }
    if (overnight && w.days.includes(yesterday) && here.minutes < w.to) return true;
  }
  return false;
}

export interface OnDuty {
  shift: Shift;
  covered: boolean;
  /** null outside coverage windows or on an empty roster */
  primary: string | null;
  backup: string | null;
  /** the rotation's choice, before overrides */
  scheduledPrimary: string | null;
  scheduledBackup: string | null;
  /** overrides in force at t */
  overrides: Override[];
}

/** Applies the overrides in force at t, in order, to one layer. */
function applyOverrides(base: string | null, layer: Layer, overrides: readonly Override[], t: number, used: Override[]): string | null {
  let who = base;
  for (const o of overrides) {
    if (o.layer !== layer || t < o.from || t >= o.to) continue;
    if (o.replaces !== null && o.replaces !== who) continue;
    who = o.memberId;
    used.push(o);
  }
  return who;
}

/** `overrides` must be sorted by seq (see sortOverrides). */
export function onDutyAt(plan: RosterPlan, overrides: readonly Override[], t: number): OnDuty {
  const { epoch, ...shift } = shiftOf(plan, t);
  const covered = isCovered(plan, t);
  const scheduledPrimary = primaryIn(epoch, shift.index);
  const scheduledBackup = backupIn(epoch, shift.index);
  const used: Override[] = [];
  const primary = covered ? applyOverrides(scheduledPrimary, 'primary', overrides, t, used) : null;
  const backup = covered ? applyOverrides(scheduledBackup, 'backup', overrides, t, used) : null;
  return { shift, covered, primary, backup, scheduledPrimary, scheduledBackup, overrides: used };
}

export function sortOverrides(overrides: readonly Override[]): Override[] {
  return [...overrides].sort((a, b) => a.seq - b.seq);
}

function sameOverrides(a: readonly Override[], b: readonly Override[]): boolean {
  return a.length === b.length && a.every((o, i) => o.id === b[i]?.id);
}

export interface ScheduleRow {
  start: number;
  end: number;
  /** the shift's number within its definition, and its start */
  shiftIndex: number;
  shiftStart: number;
  primary: string | null;
  backup: string | null;
  scheduledPrimary: string | null;
  scheduledBackup: string | null;
  overrides: Override[];
}

/**
 * The schedule between two instants: one row per shift, split where an override starts or
 * ends so every row has one primary and one backup. Coverage windows do not split rows; a row
 * says who holds the shift, and isCovered says when it applies.
 */
export function schedule(plan: RosterPlan, overrides: readonly Override[], from: number, to: number): ScheduleRow[] {
  const rows: ScheduleRow[] = [];
  const sorted = sortOverrides(overrides.filter((o) => o.to > from && o.from < to));
  for (let t = from; t < to; ) {
    const { epoch, index: k, start, end } = shiftOf(plan, t);
    t = end;
    const cuts = new Set<number>([Math.max(start, from)]);
    for (const o of sorted) {
      if (o.from > start && o.from < end) cuts.add(o.from);
      if (o.to > start && o.to < end) cuts.add(o.to);
    }
    const points = [...cuts].sort((a, b) => a - b);
    const scheduledPrimary = primaryIn(epoch, k);
    const scheduledBackup = backupIn(epoch, k);
    for (let i = 0; i < points.length; i++) {
      const s = points[i] as number;
      const e = Math.min(points[i + 1] ?? end, end);
      if (s >= to) break;
      const used: Override[] = [];
      const primary = applyOverrides(scheduledPrimary, 'primary', sorted, s, used);
      const backup = applyOverrides(scheduledBackup, 'backup', sorted, s, used);
      // An override edge that changes nothing (a cover of someone not on duty) splits no row.
      const last = rows[rows.length - 1];
      if (last && last.shiftStart === start && last.end === s && last.primary === primary && last.backup === backup && sameOverrides(last.overrides, used)) {
        last.end = e;
        continue;
      }
      rows.push({ start: s, end: e, shiftIndex: k, shiftStart: start, primary, backup, scheduledPrimary, scheduledBackup, overrides: used });
    }
  }
  return rows;
}
