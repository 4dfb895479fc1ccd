// Situation reports for leadership, the pure part: the cadence a crisis is reported on and when
// the next SITREP (and its review) is due, what happens when a deadline is missed, the
// conditions table with the change since the previous SITREP, the markdown document, and the
// limits on what the lead may type into a draft.
//
// No store and no clock: instants are epoch milliseconds passed in by the caller. Rendering takes
// only counts and the strings it is given, so a broadcast carries no personal data unless the
// lead typed it in.
import { z } from 'zod/v4';
import type { ParsedField } from './case';
import { formatDuration, parseDuration } from './escalation';
import { PERSON_STATUSES, PERSON_STATUS_LABELS, type PersonStatus } from './person';
import { count, lookup, compact, shown, wordSchema } from './words';
import { addDays, formatClock, localOf, parseClock, zonedInstant, zoneAbbreviation } from './zoned';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Cadence: "every 6h", "daily 08:00", "twice daily 08:00 20:00", "none"

export type Cadence = { kind: 'every'; ms: number } | { kind: 'at'; minutes: number[] } | { kind: 'none' };

export const MIN_CADENCE_MS = HOUR;
export const MAX_CADENCE_MS = 7 * DAY;
/** More fixed times than this a day is an interval in disguise. */
export const MAX_CADENCE_TIMES = 12;
/** The lead receives the draft this long before it is due. */
export const REVIEW_LEAD_MS = 30 * MINUTE;

const CADENCE_HELP = 'write e.g. every 6h, daily 08:00, twice daily 08:00 20:00 or none';
const NONE_WORDS = new Set(['none', 'off', 'no', 'never', 'disabled', 'manual']);

/** Cadences as people type them; times are local to the crisis's mission time zone. */
export function parseCadence(input: string): ParsedField<Cadence> {
  const s = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const fail = (error: string): ParsedField<Cadence> => ({ ok: false, error });
  if (s === '') return fail(`a cadence is required; ${CADENCE_HELP}`);
  if (NONE_WORDS.has(s)) return { ok: true, value: { kind: 'none' } };

  const fixed = /^(twice daily|twice a day|daily|every day|each day)(?: at)?(?: (.*))?$/.exec(s);
  if (fixed) return parseTimes(input, fixed[1] as string, fixed[2] ?? '');

  const every = s.replace(/^every /, '');
  // parseDuration stops at hours; whole days are common enough for a cadence to take here.
  const days = /^(\d+) ?(?:d|day|days)$/.exec(every);
  let ms: number;
  if (days) ms = Number(days[1]) * DAY;
  else {
    const d = parseDuration(every, { maxMs: Number.MAX_SAFE_INTEGER });
    if (!d.ok) return fail(`"${shown(input)}" is not a cadence; ${CADENCE_HELP}`);
    ms = d.ms;
  }
  if (ms < MIN_CADENCE_MS) return fail(`"${shown(input)}" is too often; SITREPs are at most hourly (every 1h)`);
  if (ms > MAX_CADENCE_MS) return fail(`"${shown(input)}" is too far apart; SITREPs are at least weekly (every 7d)`);
  return { ok: true, value: { kind: 'every', ms } };
}

function parseTimes(input: string, word: string, rest: string): ParsedField<Cadence> {
  const parts = rest.split(/\s*(?:,|;|\band\b|\s)\s*/).filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, error: `"${shown(input)}" needs a time of day; write e.g. ${word === 'twice daily' || word === 'twice a day' ? 'twice daily 08:00 20:00' : 'daily 08:00'}` };
  const minutes: number[] = [];
  for (const p of parts) {
    const m = parseClock(p);
    if (m === null) return { ok: false, error: `"${shown(p)}" is not a time of day; use 24-hour HH:MM, e.g. 08:00 or 20:30` };
    if (minutes.includes(m)) return { ok: false, error: `"${shown(input)}" gives ${formatClock(m)} twice` };
    minutes.push(m);
  }
  if (word.startsWith('twice') && minutes.length !== 2) return { ok: false, error: `"${shown(input)}": twice daily needs two times, e.g. twice daily 08:00 20:00` };
  if (minutes.length > MAX_CADENCE_TIMES) return { ok: false, error: `"${shown(input)}" gives ${minutes.length} times; at most ${MAX_CADENCE_TIMES} a day (or write every 2h)` };
  return { ok: true, value: { kind: 'at', minutes: minutes.sort((a, b) => a - b) } };
}

/** The canonical text of a cadence; parseCadence reads it back to the same value. */
export function formatCadence(c: Cadence): string {
  switch (c.kind) {
    case 'none':
      return 'none';
    case 'every':
      return c.ms % DAY === 0 ? `every ${c.ms / DAY}d` : `every ${formatDuration(c.ms)}`;
    case 'at': {
      const times = c.minutes.map(formatClock).join(' ');
      return c.minutes.length === 2 ? `twice daily ${times}` : `daily ${times}`;
    }
  }
}

/**
 * When the next SITREP is due, or null with no cadence.
 *
 * 'every' counts elapsed time, not wall-clock time (6h across a DST change is still 6 hours).
 * A result in the past means the SITREP is overdue: the late policy deals with it.
 *
 * 'at' is the next local time strictly after now. A SITREP published during the review window
 * (up to 30 minutes early) covers its slot, so the slot is not due a second time.
 */
export function nextSitrepDue(cadence: Cadence, lastPublishedAt: number | null, now: number, timeZone: string): number | null {
  switch (cadence.kind) {
    case 'none':
      return null;
    case 'every':
      if (lastPublishedAt !== null) return lastPublishedAt + cadence.ms;
      return Math.ceil((now + cadence.ms) / MINUTE) * MINUTE;
    case 'at': {
      const after = lastPublishedAt === null ? now : Math.max(now, lastPublishedAt + REVIEW_LEAD_MS);
      const local = localOf(timeZone, after);
      const times = [...cadence.minutes].sort((a, b) => a - b);
      // Two days ahead is always enough: today's remaining times, else tomorrow's first.
      for (let d = 0; d <= 2; d++) {
        const day = addDays(local, d);
        for (const m of times) {
          const t = zonedInstant(timeZone, day, m);
          if (t > after) return t;
        }
      }
      return null;
    }
  }
}

/** When the lead receives the draft to review. */
export function reviewDueAt(due: number): number {
  return due - REVIEW_LEAD_MS;
}

// ---------------------------------------------------------------------------------------------
// Missed deadlines

export const LATE_POLICIES = ['publish-draft', 'remind'] as const;
export type LatePolicy = (typeof LATE_POLICIES)[number];

export const LATE_POLICY_LABELS: Record<LatePolicy, string> = {
  'publish-draft': 'Publish the draft marked automatic',
  remind: 'Remind the lead again',
};

const LATE_POLICY_WORDS = lookup(LATE_POLICIES, LATE_POLICY_LABELS, {
  'publish-draft': ['publish', 'publish draft', 'auto', 'automatic', 'auto publish', 'autopublish', 'publish automatically', 'automatic draft', 'draft'],
  remind: ['reminder', 'reminders', 'remind again', 'remind lead', 'remind the lead', 'nag'],
});

export function parseLatePolicy(input: string): LatePolicy | null {
  return LATE_POLICY_WORDS.get(compact(input)) ?? null;
}

export const latePolicySchema = wordSchema(parseLatePolicy, 'a late policy', LATE_POLICIES);

export const REMINDER_INTERVAL_MS = 15 * MINUTE;
/** After this many quick reminders the lead is reminded hourly: still nagged, not spammed. */
export const QUICK_REMINDERS = 4;
export const SLOW_REMINDER_INTERVAL_MS = HOUR;

export type MissedDeadlineAction = { action: 'publish-automatic' } | { action: 'remind'; nextInMs: number };

/**
 * What to do when a SITREP is not published on time. `attempt` is 1 for the reminder sent at the
 * deadline, 2 for the next and so on; `nextInMs` is the wait before the following one.
 */
export function onMissedDeadline(policy: LatePolicy, attempt: number): MissedDeadlineAction {
  if (policy === 'publish-draft') return { action: 'publish-automatic' };
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  return { action: 'remind', nextInMs: n < QUICK_REMINDERS ? REMINDER_INTERVAL_MS : SLOW_REMINDER_INTERVAL_MS };
}

// ---------------------------------------------------------------------------------------------
// Conditions: people by status, with the change since the previous SITREP

export interface ConditionRow {
  status: PersonStatus;
  label: string;
  count: number;
  /** null when there is no previous SITREP to compare with */
  change: number | null;
}

export interface SitrepConditions {
  rows: ConditionRow[];
  total: { count: number; change: number | null };
}

/** Every status in the usual order, zeros included, so SITREPs read the same each time. */
export function sitrepConditions(current: ReadonlyMap<string, number>, previous: ReadonlyMap<string, number> | null): SitrepConditions {
  const rows = PERSON_STATUSES.map((status): ConditionRow => {
    const n = current.get(status) ?? 0;
    return { status, label: PERSON_STATUS_LABELS[status], count: n, change: previous === null ? null : n - (previous.get(status) ?? 0) };
  });
  const total = rows.reduce((a, r) => a + r.count, 0);
  const before = previous === null ? null : PERSON_STATUSES.reduce((a, s) => a + (previous.get(s) ?? 0), 0);
  return { rows, total: { count: total, change: before === null ? null : total - before } };
}

/** "+3", "−2" (a true minus sign, U+2212), "±0", "new" when there is nothing to compare with. */
export function formatChange(n: number | null): string {
  if (n === null) return 'new';
  if (n === 0) return '±0';
  return n > 0 ? `+${count(n)}` : `\u2212${count(-n)}`;
}

// ---------------------------------------------------------------------------------------------
// The document

export interface SitrepDraft {
  crisisCode: string;
  crisisName: string;
  number: number;
  at: number;
  timeZone: string;
  conditions: SitrepConditions;
  incidents: string[];
  /** movements, key cases by reference */
  actions: string[];
  needs: string[];
  nextAt: number | null;
  /** published by the late policy without review */
  automatic: boolean;
}

export const AUTOMATIC_BANNER = 'AUTOMATIC DRAFT — not reviewed';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayText(ld: { y: number; m: number; d: number; weekday: number }, year: boolean): string {
  return `${WEEKDAYS[ld.weekday]} ${ld.d} ${MONTHS[ld.m - 1]}${year ? ` ${ld.y}` : ''}`;
}

/**
 * "Sun 22 Nov 2026 18:00 NPT (12:15 UTC)": mission time for the cell, UTC for headquarters; the
 * UTC date is added when it is not the local one.
 */
export function formatSitrepTime(instant: number, timeZone: string): string {
  const local = localOf(timeZone, instant);
  const utc = localOf('UTC', instant);
  const sameDay = local.y === utc.y && local.m === utc.m && local.d === utc.d;
  const localText = `${dayText(local, true)} ${formatClock(local.minutes)} ${zoneAbbreviation(timeZone, instant)}`;
  if (timeZone === 'UTC') return localText;
  return `${localText} (${sameDay ? '' : `${dayText(utc, false)} `}${formatClock(utc.minutes)} UTC)`;
}

/** One line per item: a pasted line break must not end the list or start a heading. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function bullets(items: readonly string[], empty: string): string[] {
  const lines = items.map(oneLine).filter((s) => s !== '');
  return lines.length === 0 ? [`_${empty}_`] : lines.map((s) => `- ${s}`);
}

export function renderSitrepMarkdown(draft: SitrepDraft): string {
  const out: string[] = [];
  out.push(`# SITREP ${draft.number} — ${oneLine(draft.crisisCode)} (${oneLine(draft.crisisName)})`, '');
  if (draft.automatic) out.push(`> **${AUTOMATIC_BANNER}**`, '');
  out.push(`**As of:** ${formatSitrepTime(draft.at, draft.timeZone)}`, '');
  out.push('## Conditions', '', '| Status | People | Change |', '| --- | ---: | ---: |');
  for (const r of draft.conditions.rows) out.push(`| ${r.label} | ${count(r.count)} | ${formatChange(r.change)} |`);
  const t = draft.conditions.total;
  out.push(`| **Total** | **${count(t.count)}** | **${formatChange(t.change)}** |`, '');
  out.push('### Key incidents', '', ...bullets(draft.incidents, 'None reported.'), '');
  out.push('## Actions', '', ...bullets(draft.actions, 'None reported.'), '');
  out.push('## Needs', '', ...bullets(draft.needs, 'None reported.'), '');
  out.push('## Next SITREP', '', draft.nextAt === null ? '_Not scheduled._' : formatSitrepTime(draft.nextAt, draft.timeZone), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// What the lead edits: incidents, actions and needs, one item per line

export const MAX_SITREP_ITEM = 500;
export const MAX_SITREP_ITEMS = 30;
export const MAX_SITREP_TEXT = 8000;

/** Lines to items: blank lines dropped, a leading "-", "*" or "•" bullet removed. */
export function parseSitrepItems(text: string, what: string): ParsedField<string[]> {
  if (text.length > MAX_SITREP_TEXT) return { ok: false, error: `${what}: ${count(text.length)} characters is too long; at most ${count(MAX_SITREP_TEXT)}` };
  const items: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const item = (lines[i] as string).replace(/^\s*(?:[-*•]\s+)?/, '').trim();
    if (item === '') continue;
    if (item.length > MAX_SITREP_ITEM) return { ok: false, error: `${what}: line ${i + 1} has ${count(item.length)} characters; keep each item to ${MAX_SITREP_ITEM} or fewer` };
    items.push(item);
  }
  if (items.length > MAX_SITREP_ITEMS) return { ok: false, error: `${what}: ${items.length} items is too many; at most ${MAX_SITREP_ITEMS}, one per line` };
  return { ok: true, value: items };
}

/** The editable text of items, one per line: parseSitrepItems reads it back. */
export function formatSitrepItems(items: readonly string[]): string {
  return items.map(oneLine).join('\n');
}

function itemsSchema(what: string) {
  return z.string({ error: `${what} must be text, one item per line` }).transform((s, ctx) => {
    const r = parseSitrepItems(s, what);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.value;
  });
}

export const sitrepIncidentsSchema = itemsSchema('incidents');
export const sitrepActionsSchema = itemsSchema('actions');
export const sitrepNeedsSchema = itemsSchema('needs');

/** An edit of a draft: any of the three parts; those not given stay as drafted. */
export const sitrepEditSchema = z.object({
  incidents: sitrepIncidentsSchema.optional(),
  actions: sitrepActionsSchema.optional(),
  needs: sitrepNeedsSchema.optional(),
});
export type SitrepEdit = z.output<typeof sitrepEditSchema>;

// ---------------------------------------------------------------------------------------------
// What a draft proposes from live data; the lead edits it before publishing

/** Statuses whose new reports are incidents leadership must hear about. */
const INCIDENT_STATUSES: readonly PersonStatus[] = ['deceased', 'missing', 'injured', 'in-hospital', 'needs-assistance'];

export interface SitrepMovement {
  kind: string;
  number: number;
  name: string;
  departureAt: number;
  capacity: number;
  taken: number;
  status: string;
}

export interface SitrepCase {
  ref: string;
  category: string;
  priority: string;
  status: string;
  /** only for cases the lead chose to name */
  subjectName?: string;
}

export interface SitrepInputs {
  /** the number of the SITREP compared with, null for the first */
  previousNumber: number | null;
  /** people reported in each status since the previous SITREP (or since the crisis opened) */
  reportedSince: ReadonlyMap<string, number>;
  needs: ReadonlyMap<string, number>;
  needLabels: Readonly<Record<string, string>>;
  movements: readonly SitrepMovement[];
  /** key cases: open P1/P2 of the crisis, and any named */
  cases: readonly SitrepCase[];
  categoryLabels: Readonly<Record<string, string>>;
  timeZone: string;
}

export interface SitrepProposal {
  incidents: string[];
  actions: string[];
  needs: string[];
}

function people(n: number): string {
  return `${count(n)} ${n === 1 ? 'person' : 'people'}`;
}

/** Counts, movements and case references: no names unless a case is named. */
export function proposeSitrep(i: SitrepInputs): SitrepProposal {
  const since = i.previousNumber === null ? 'since the crisis opened' : `since SITREP ${i.previousNumber}`;
  const incidents: string[] = [];
  for (const s of INCIDENT_STATUSES) {
    const n = i.reportedSince.get(s) ?? 0;
    if (n > 0) incidents.push(`${people(n)} newly reported ${PERSON_STATUS_LABELS[s].toLowerCase()} ${since}`);
  }
  for (const c of i.cases.filter((x) => x.priority === 'P1' && x.status !== 'resolved' && x.status !== 'closed')) {
    incidents.push(`${c.ref}: ${i.categoryLabels[c.category] ?? c.category} (P1, ${c.status})`);
  }

  const actions: string[] = [];
  for (const m of [...i.movements].sort((a, b) => a.departureAt - b.departureAt)) {
    const when = formatSitrepTime(m.departureAt, i.timeZone);
    const left = Math.max(0, m.capacity - m.taken);
    actions.push(`${m.kind} ${m.number} ${m.name}: ${m.status}, departs ${when}; ${count(m.taken)}/${count(m.capacity)} seats taken, ${count(left)} left`);
  }
  for (const c of i.cases) {
    const label = i.categoryLabels[c.category] ?? c.category;
    if (c.subjectName !== undefined) actions.push(`${c.ref} ${c.subjectName}: ${label} (${c.priority}, ${c.status})`);
    else if (c.priority !== 'P1') actions.push(`${c.ref}: ${label} (${c.priority}, ${c.status})`);
  }

  const needs: string[] = [];
  for (const [need, n] of [...i.needs.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    if (n > 0) needs.push(`${i.needLabels[need] ?? need}: ${people(n)}`);
  }
  return { incidents, actions, needs };
}

/** Case references as typed: "C-2026-00042", comma or space separated, upper-cased, at most 10. */
export function parseCaseRefs(input: string): ParsedField<string[]> {
  const refs = input.split(/[\s,;]+/).filter((s) => s !== '').map((s) => s.toUpperCase());
  for (const r of refs) if (!/^C-\d{4}-\d{1,6}$/.test(r)) return { ok: false, error: `"${shown(r)}" is not a case reference; write e.g. C-2026-00042` };
  const unique = [...new Set(refs)];
  if (unique.length > 10) return { ok: false, error: `${unique.length} cases is too many to name; at most 10` };
  return { ok: true, value: unique };
}

/**
 * The actions with the lead's named cases: one "C-… Name: category (P1, status)" line each,
 * replacing any line about that case, and dropping the lines of cases no longer named so that a
 * name does not stay in the broadcast after the lead took it out.
 */
export function withNamedCases(actions: readonly string[], named: readonly SitrepCase[], previouslyNamed: readonly string[], categoryLabels: Readonly<Record<string, string>>): string[] {
  const refs = named.map((c) => c.ref);
  const dropped = previouslyNamed.filter((r) => !refs.includes(r));
  const about = (line: string, ref: string) => line.startsWith(`${ref}:`) || line.startsWith(`${ref} `);
  const kept = actions.filter((l) => !refs.some((r) => about(l, r)) && !dropped.some((r) => l.startsWith(`${r} `)));
  return [...kept, ...named.map((c) => `${c.ref} ${c.subjectName ?? ''}: ${categoryLabels[c.category] ?? c.category} (${c.priority}, ${c.status})`.replace(' :', ':'))];
}
