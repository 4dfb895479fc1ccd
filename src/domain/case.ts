// Urgent consular cases, the pure part: categories, priorities and statuses as people type them,
// the status transitions (with optimistic-concurrency versions and an event for the timeline),
// case references, what a subject record may hold, service levels with working-day deadlines in
// mission time, and the statistics of a report.
//
// No store and no clock: instants are epoch milliseconds passed in by the caller.
import { z } from 'zod/v4';
import { formatDuration, parseDuration } from './escalation';
import { emailSchema, phoneSchema } from './member';
import type { Role } from './roles';
import { compact, count, lookup, shown } from './words';
import { addDays, dateKey, localOf, parseClock, formatClock, parseDateKey, zonedInstant, type LocalDate } from './zoned';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Categories

export const CASE_CATEGORIES = [
  'arrest',
  'death',
  'hospital',
  'medical',
  'document',
  'crime',
  'missing',
  'welfare',
  'abduction',
  'forced-marriage',
  'destitution',
  'crisis',
  'other',
] as const;
export type CaseCategory = (typeof CASE_CATEGORIES)[number];

export const CATEGORY_LABELS: Record<CaseCategory, string> = {
  arrest: 'Arrest or detention',
  death: 'Death',
  hospital: 'Hospitalisation',
  medical: 'Medical emergency',
  document: 'Lost or stolen document',
  crime: 'Victim of crime',
  missing: 'Missing person',
  welfare: 'Welfare or whereabouts',
  abduction: 'Child abduction',
  'forced-marriage': 'Forced marriage',
  destitution: 'Destitution or repatriation',
  crisis: 'Crisis-related',
  other: 'Other',
};

const CATEGORY_WORDS = lookup(CASE_CATEGORIES, CATEGORY_LABELS, {
  arrest: ['arrested', 'detention', 'detained', 'detainee', 'custody', 'in custody', 'imprisoned', 'prison', 'jail'],
  death: ['died', 'dead', 'deceased', 'bereavement', 'fatality'],
  hospital: ['hospitalization', 'hospitalised', 'hospitalized', 'in hospital', 'admitted to hospital'],
  medical: ['medical', 'emergency medical', 'medical emergency', 'illness', 'ill', 'injury', 'injured'],
  document: [
    'documents',
    'lost document',
    'stolen document',
    'passport',
    'lost passport',
    'stolen passport',
    'lost or stolen passport',
    'emergency travel document',
    'etd',
  ],
  crime: ['crime victim', 'victim', 'assault', 'assaulted', 'robbery', 'robbed', 'mugged', 'mugging'],
  missing: ['missing', 'missing persons', 'disappeared', 'disappearance'],
  welfare: ['whereabouts', 'welfare and whereabouts', 'welfare check', 'whereabouts enquiry', 'whereabouts inquiry'],
  abduction: ['parental child abduction', 'child abduction', 'abducted child'],
  'forced-marriage': ['forced marriage', 'fm'],
  destitution: ['destitute', 'repatriation', 'repatriate', 'stranded'],
  crisis: ['crisis', 'crisis related', 'major incident'],
  other: ['misc', 'miscellaneous'],
});

export function isCaseCategory(s: string): s is CaseCategory {
  return (CASE_CATEGORIES as readonly string[]).includes(s);
}

/** A code, a label or a common synonym, in any case: "lost passport" → document. */
export function parseCategory(input: string): CaseCategory | null {
  return CATEGORY_WORDS.get(compact(input)) ?? null;
}

export const categorySchema = z.string({ error: 'a category is required' }).transform((s, ctx) => {
  const c = parseCategory(s);
  if (c === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not a case category; use one of ${CASE_CATEGORIES.join(', ')}` });
    return z.NEVER;
  }
  return c;
});

// ---------------------------------------------------------------------------------------------
// Priorities

export const CASE_PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type CasePriority = (typeof CASE_PRIORITIES)[number];

export const PRIORITY_DESCRIPTIONS: Record<CasePriority, string> = {
  P1: 'Life or liberty at stake now: act at once, day or night',
  P2: 'Urgent: serious harm or distress likely without action within hours',
  P3: 'Important: needs action today, nobody in immediate danger',
  P4: 'Routine: can wait for the next working day',
};

export function isCasePriority(s: string): s is CasePriority {
  return (CASE_PRIORITIES as readonly string[]).includes(s);
}

/** "P1", "p1", "1", "priority 1" → P1. */
export function parsePriority(input: string | number): CasePriority | null {
  const m = /^(?:priority|p)?([1-4])$/.exec(compact(String(input)));
  return m ? (`P${m[1]}` as CasePriority) : null;
}

export const prioritySchema = z.union([z.string(), z.number()], { error: 'a priority is required: P1, P2, P3 or P4' }).transform((s, ctx) => {
  const p = parsePriority(s);
  if (p === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(String(s))}" is not a priority; use P1 (life or liberty at stake), P2, P3 or P4 (routine)` });
    return z.NEVER;
  }
  return p;
});

// ---------------------------------------------------------------------------------------------
// Statuses

export const CASE_STATUSES = ['new', 'acknowledged', 'in-progress', 'waiting', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const OPEN_STATUSES: readonly CaseStatus[] = ['new', 'acknowledged', 'in-progress', 'waiting'];

export const STATUS_LABELS: Record<CaseStatus, string> = {
  new: 'New',
  acknowledged: 'Acknowledged',
  'in-progress': 'In progress',
  waiting: 'Waiting on a third party',
  resolved: 'Resolved',
  closed: 'Closed',
};

const STATUS_WORDS = lookup(CASE_STATUSES, STATUS_LABELS, {
  new: ['unacknowledged'],
  acknowledged: ['ack', 'acked', 'acknowledge'],
  'in-progress': ['progress', 'ongoing', 'working', 'working on it'],
  waiting: ['wait', 'waiting on third party', 'waiting for third party', 'waiting for a third party', 'on hold', 'pending'],
  resolved: ['resolve', 'done'],
  closed: ['close'],
});

export function isCaseStatus(s: string): s is CaseStatus {
  return (CASE_STATUSES as readonly string[]).includes(s);
}

export function isOpenStatus(s: CaseStatus): boolean {
  return s !== 'resolved' && s !== 'closed';
}

/** "in progress", "InProgress", "ack", "waiting on third party" … */
export function parseStatus(input: string): CaseStatus | null {
  return STATUS_WORDS.get(compact(input)) ?? null;
}

export const statusSchema = z.string({ error: 'a status is required' }).transform((s, ctx) => {
  const st = parseStatus(s);
  if (st === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not a case status; use one of ${CASE_STATUSES.join(', ')}` });
    return z.NEVER;
  }
  return st;
});

// ---------------------------------------------------------------------------------------------
// Transitions

export const MAX_OUTCOME = 1000;
export const MAX_REASON = 1000;

export interface CaseState {
  status: CaseStatus;
  /** bumped by every transition: the store updates only where the version it read still holds */
  version: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  closedAt: number | null;
  closedBy: string | null;
  /** what was done, required to resolve or close; cleared on reopen */
  outcome: string | null;
}

/** A case as opened: new, version 1. */
export function initialCaseState(): CaseState {
  return { status: 'new', version: 1, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null, closedAt: null, closedBy: null, outcome: null };
}

export type CaseAction =
  | { kind: 'acknowledge' }
  | { kind: 'set-status'; status: 'in-progress' | 'waiting'; reason?: string | null }
  | { kind: 'resolve'; outcome: string }
  | { kind: 'close'; outcome?: string | null }
  | { kind: 'reopen'; reason: string };

/** One line of the case timeline. `reason` is the reason given, or the outcome on resolve and close. */
export interface CaseEvent {
  at: number;
  by: string;
  from: CaseStatus;
  to: CaseStatus;
  reason: string | null;
}

export type CaseTransitionCode = 'TRANSITION_NOT_ALLOWED' | 'SAME_STATUS' | 'ALREADY_ACKNOWLEDGED' | 'OUTCOME_REQUIRED' | 'REASON_REQUIRED' | 'TEXT_TOO_LONG';

export type CaseTransition<S extends CaseState = CaseState> = { ok: true; next: S; event: CaseEvent } | { ok: false; code: CaseTransitionCode; message: string };

/** "in progress", "waiting on a third party": a status inside a sentence. */
export function statusPhrase(s: CaseStatus): string {
  return STATUS_LABELS[s].toLowerCase();
}

type TextResult = { ok: true; text: string | null } | { ok: false; message: string };

/** Trimmed; empty is missing (null). */
function checkText(input: string | null | undefined, what: string, max: number): TextResult {
  const t = input?.trim() ?? '';
  if (t === '') return { ok: true, text: null };
  if (t.length > max) return { ok: false, message: `The ${what} is ${count(t.length)} characters; keep it under ${count(max)}.` };
  return { ok: true, text: t };
}

/** Statuses that mean someone has picked the case up: reaching one acknowledges it if nobody had. */
const ACKNOWLEDGING: ReadonlySet<CaseStatus> = new Set<CaseStatus>(['acknowledged', 'in-progress', 'waiting', 'resolved']);

/**
 * Applies one action by member `by` at `now`. On success the state has the new status, version + 1
 * and the timestamps the move implies; on failure nothing changes and `code` says why.
 *
 * new → acknowledged, in-progress, waiting, resolved, closed; open ↔ in-progress/waiting;
 * open → resolved (outcome) or closed (outcome); resolved → closed (outcome kept);
 * resolved/closed → in-progress by reopening (reason).
 */
export function transition<S extends CaseState>(state: S, action: CaseAction, by: string, now: number): CaseTransition<S> {
  const from = state.status;
  const fail = (code: CaseTransitionCode, message: string): CaseTransition<S> => ({ ok: false, code, message });
  const move = (to: CaseStatus, reason: string | null, patch: Partial<CaseState> = {}): CaseTransition<S> => {
    const ack = state.acknowledgedAt === null && ACKNOWLEDGING.has(to);
    const next: S = {
      ...state,
      ...patch,
      status: to,
      version: state.version + 1,
      acknowledgedAt: ack ? now : state.acknowledgedAt,
      acknowledgedBy: ack ? by : state.acknowledgedBy,
    };
    return { ok: true, next, event: { at: now, by, from, to, reason } };
  };
  const reopenFirst = `The case is ${statusPhrase(from)}; reopen it, with a reason, first.`;

  switch (action.kind) {
    case 'acknowledge':
      if (from === 'acknowledged') return fail('SAME_STATUS', 'The case is already acknowledged.');
      if (from === 'in-progress' || from === 'waiting') return fail('ALREADY_ACKNOWLEDGED', `The case is already acknowledged; it is ${statusPhrase(from)}.`);
      if (from !== 'new') return fail('TRANSITION_NOT_ALLOWED', reopenFirst);
      return move('acknowledged', null);

    case 'set-status': {
      const to = action.status;
      // The type says so, but the action may come from a parsed command.
      if (to !== 'in-progress' && to !== 'waiting') return fail('TRANSITION_NOT_ALLOWED', `A case cannot be set to ${statusPhrase(to)} this way.`);
      if (from === to) return fail('SAME_STATUS', `The case is already ${statusPhrase(to)}.`);
      if (!isOpenStatus(from)) return fail('TRANSITION_NOT_ALLOWED', reopenFirst);
      const reason = checkText(action.reason, 'reason', MAX_REASON);
      if (!reason.ok) return fail('TEXT_TOO_LONG', reason.message);
      return move(to, reason.text);
    }

    case 'resolve': {
      if (from === 'resolved') return fail('SAME_STATUS', 'The case is already resolved; close it, or reopen it with a reason.');
      if (from === 'closed') return fail('TRANSITION_NOT_ALLOWED', reopenFirst);
      const outcome = checkText(action.outcome, 'outcome', MAX_OUTCOME);
      if (!outcome.ok) return fail('TEXT_TOO_LONG', outcome.message);
      if (outcome.text === null) return fail('OUTCOME_REQUIRED', 'Give an outcome to resolve the case: what was done, in a sentence or two.');
      return move('resolved', outcome.text, { resolvedAt: now, resolvedBy: by, outcome: outcome.text });
    }

    case 'close': {
      if (from === 'closed') return fail('SAME_STATUS', 'The case is already closed.');
      const outcome = checkText(action.outcome, 'outcome', MAX_OUTCOME);
      if (!outcome.ok) return fail('TEXT_TOO_LONG', outcome.message);
      // Closing a resolved case keeps its outcome unless a new one is given.
      const text = outcome.text ?? (from === 'resolved' ? state.outcome : null);
      if (text === null) return fail('OUTCOME_REQUIRED', 'Give an outcome to close the case: what happened, or why it is closed.');
      return move('closed', outcome.text, { closedAt: now, closedBy: by, outcome: text });
    }

    case 'reopen': {
      if (isOpenStatus(from)) return fail('TRANSITION_NOT_ALLOWED', `The case is ${statusPhrase(from)}, not resolved or closed; there is nothing to reopen.`);
      const reason = checkText(action.reason, 'reason', MAX_REASON);
      if (!reason.ok) return fail('TEXT_TOO_LONG', reason.message);
      if (reason.text === null) return fail('REASON_REQUIRED', 'Give a reason to reopen the case.');
      return move('in-progress', reason.text, { resolvedAt: null, resolvedBy: null, closedAt: null, closedBy: null, outcome: null });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// References: C-2026-00042

/** "C-2026-00042": at least five digits, more once a year passes 99,999 cases. */
export function formatCaseRef(year: number, n: number): string {
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`a case year has four digits, not ${year}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`a case number is a whole number from 1, not ${n}`);
  return `C-${year}-${String(n).padStart(5, '0')}`;
}

const CASE_REF = /^#?c-?(\d{4})-?(\d{1,15})$/i;

/** "C-2026-00042", "c-2026-42", "#C-2026-42", "C202600042" → { year, n }; anything else → null. */
export function parseCaseRef(input: string): { year: number; n: number } | null {
  const m = CASE_REF.exec(input.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const n = Number(m[2]);
  return year >= 1000 && n >= 1 && Number.isSafeInteger(n) ? { year, n } : null;
}

/** The name of the per-year counter the store draws case numbers from. */
export function caseCounterName(year: number): string {
  return `case:${year}`;
}

export const caseRefSchema = z.string({ error: 'a case reference is required, e.g. C-2026-00042' }).transform((s, ctx) => {
  const r = parseCaseRef(s);
  if (r === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not a case reference; write e.g. C-2026-00042` });
    return z.NEVER;
  }
  return r;
});

// ---------------------------------------------------------------------------------------------
// Privacy

/** Roles that may see a subject's name and details; everyone else sees initials. */
export const FULL_DETAIL_ROLES: readonly Role[] = ['officer', 'crisis', 'leader'];

export function maySeeFullDetails(roles: readonly Role[]): boolean {
  return roles.some((r) => FULL_DETAIL_ROLES.includes(r));
}

const HYPHENS = /[-\u2010\u2011]/;
const FIRST_LETTER = /\p{L}\p{M}*/u;

/**
 * "Jean-Luc Picard" → "J.-L. P.", "maría garcía lópez" → "M. G. L.", nothing → "?". Accents are
 * kept; `locale` matters for letters such as the Turkish i.
 */
export function initialsOf(fullName: string, locale = 'en'): string {
  const words: string[] = [];
  for (const word of fullName.normalize('NFC').trim().split(/\s+/)) {
    const parts: string[] = [];
    for (const part of word.split(HYPHENS)) {
      const m = FIRST_LETTER.exec(part);
      if (m) parts.push(`${m[0].toLocaleUpperCase(locale)}.`);
    }
    if (parts.length) words.push(parts.join('-'));
  }
  return words.length ? words.join(' ') : '?';
}

/** The subject's name as this viewer may see it. */
export function subjectNameFor(fullName: string, roles: readonly Role[], locale = 'en'): string {
  return maySeeFullDetails(roles) ? fullName : initialsOf(fullName, locale);
}

// ---------------------------------------------------------------------------------------------
// The subject and other fields

export const MAX_FULL_NAME = 200;
export const MAX_NATIONALITY = 100;
export const MIN_PASSPORT = 5;
export const MAX_PASSPORT = 20;
export const MAX_LOCATION_FIELD = 200;
export const MAX_CONTACT_DETAILS = 500;
export const MAX_RELATIONSHIP = 100;
export const MAX_SUMMARY = 4000;
export const MAX_NOTE = 4000;
export const MIN_BIRTH_YEAR = 1900;

/** Trimmed text, required, with the length in the message when it is too long. */
function requiredText(missing: string, the: string, max: number) {
  return z.string({ error: missing }).transform((s, ctx) => {
    const t = s.trim();
    if (t === '') {
      ctx.addIssue({ code: 'custom', message: missing });
      return z.NEVER;
    }
    if (t.length > max) {
      ctx.addIssue({ code: 'custom', message: `${the} is ${count(t.length)} characters; keep it under ${count(max)}` });
      return z.NEVER;
    }
    return t;
  });
}

/** Optional text: absent or blank is null. */
function optionalText(the: string, max: number) {
  return z
    .string()
    .nullish()
    .transform((s, ctx) => {
      const t = s?.trim() ?? '';
      if (t.length > max) {
        ctx.addIssue({ code: 'custom', message: `${the} is ${count(t.length)} characters; keep it under ${count(max)}` });
        return z.NEVER;
      }
      return t === '' ? null : t;
    });
}

/** Absent or blank is null; anything else must pass `schema`. */
function optional<T>(schema: z.ZodType<T, string>) {
  return z
    .preprocess((v) => (v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v), schema.optional())
    .transform((v): T | null => v ?? null);
}

export const fullNameSchema = z
  .string({ error: 'a full name is required' })
  // Invisible characters (zero-width spaces, direction marks) are not a name.
  .transform((s) => s.replace(/\p{Cf}/gu, '').trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, { error: 'a full name is required' })
      .max(MAX_FULL_NAME, { error: `a full name is at most ${MAX_FULL_NAME} characters` })
      .regex(/\p{L}/u, { error: 'a full name needs letters' }),
  );

/** YYYY-MM-DD and a real date; whether it is plausible needs the mission's date: checkDateOfBirth. */
export const dateOfBirthSchema = z.string({ error: 'a date of birth is required' }).transform((s, ctx) => {
  const t = s.trim();
  const problem = dateOfBirthFormatProblem(t);
  if (problem !== null) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return t;
});

function dateOfBirthFormatProblem(iso: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return `"${shown(iso)}": write a date of birth as YYYY-MM-DD, e.g. 1985-04-23`;
  return parseDateKey(iso) === null ? `${iso} is not a real date` : null;
}

/**
 * Why a date of birth cannot be right, or null: not YYYY-MM-DD, not a real date, before 1900, or
 * after today's date in the mission's time zone (born today is fine).
 */
export function checkDateOfBirth(iso: string, now: number, timeZone: string): string | null {
  const t = iso.trim();
  const problem = dateOfBirthFormatProblem(t);
  if (problem !== null) return problem;
  if (t < `${MIN_BIRTH_YEAR}-01-01`) return `a date of birth before ${MIN_BIRTH_YEAR} (${t}) is not plausible; check the year`;
  const today = dateKey(localOf(timeZone, now));
  // Keys compare as dates: both are zero-padded YYYY-MM-DD.
  if (t > today) return `a date of birth cannot be in the future: ${t} is after today (${today}, mission time)`;
  return null;
}

export const nationalitySchema = requiredText('a nationality is required', 'the nationality', MAX_NATIONALITY);

/** Upper case, spaces removed: "ab 12 34 567" → "AB1234567". */
export const passportNumberSchema = z
  .string({ error: 'a passport number is required' })
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .pipe(
    z
      .string()
      .regex(new RegExp(`^[A-Z0-9]{${MIN_PASSPORT},${MAX_PASSPORT}}$`), { error: `a passport number is ${MIN_PASSPORT} to ${MAX_PASSPORT} letters and digits` }),
  );

/** Where the person is: any of the three, each null when not given. */
export const locationSchema = z.object({
  city: optionalText('the city', MAX_LOCATION_FIELD),
  country: optionalText('the country', MAX_LOCATION_FIELD),
  /** a hospital, a police station, an address */
  details: optionalText('the location', MAX_LOCATION_FIELD),
});
export type CaseLocation = z.output<typeof locationSchema>;

/** How to reach the person: free text, as they may be in custody or without a phone. */
export const contactDetailsSchema = optionalText('the contact details', MAX_CONTACT_DETAILS);

export const nextOfKinSchema = z.object({
  name: fullNameSchema,
  relationship: optionalText('the relationship', MAX_RELATIONSHIP),
  phone: optional(phoneSchema),
  email: optional(emailSchema),
});
export type NextOfKin = z.output<typeof nextOfKinSchema>;

export const REPORTER_KINDS = ['self', 'relative', 'police', 'hospital', 'authorities', 'other'] as const;
export type ReporterKind = (typeof REPORTER_KINDS)[number];

export const REPORTER_LABELS: Record<ReporterKind, string> = {
  self: 'The person',
  relative: 'A relative',
  police: 'Police',
  hospital: 'A hospital',
  authorities: 'Local authorities',
  other: 'Someone else',
};

const REPORTER_WORDS = lookup(REPORTER_KINDS, REPORTER_LABELS, {
  self: ['person', 'subject', 'themselves', 'themself', 'the subject', 'customer'],
  relative: ['family', 'family member', 'next of kin', 'nok', 'relatives', 'parent', 'partner', 'spouse'],
  police: ['the police', 'local police'],
  hospital: ['the hospital', 'doctor', 'medical staff'],
  authorities: ['authority', 'local authority', 'the authorities', 'prison', 'government'],
  other: ['else', 'friend', 'third party', 'employer', 'ngo'],
});

export function parseReporterKind(input: string): ReporterKind | null {
  return REPORTER_WORDS.get(compact(input)) ?? null;
}

export const reporterKindSchema = z.string({ error: 'who reported the case is required' }).transform((s, ctx) => {
  const r = parseReporterKind(s);
  if (r === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not a kind of reporter; use one of ${REPORTER_KINDS.join(', ')}` });
    return z.NEVER;
  }
  return r;
});

export const CONSENT_VALUES = ['yes', 'no', 'unknown'] as const;
export type Consent = (typeof CONSENT_VALUES)[number];

const CONSENT_WORDS = new Map<string, Consent>(
  (
    [
      ['yes', ['yes', 'y', 'true', 'given', 'consents', 'agreed', 'ok']],
      ['no', ['no', 'n', 'false', 'refused', 'withheld', 'declined', 'none']],
      ['unknown', ['unknown', 'not known', 'not asked', 'unsure', '?', 'dont know']],
    ] as const
  ).flatMap(([v, words]) => words.map((w): [string, Consent] => [w === '?' ? '?' : compact(w), v])),
);

/** Consent to share with the next of kin: yes, no or unknown. */
export function parseConsent(input: string): Consent | null {
  const t = input.trim();
  return CONSENT_WORDS.get(t === '?' ? '?' : compact(t)) ?? null;
}

/** Absent or blank is `unknown`: nobody has asked yet. */
export const consentSchema = z
  .string()
  .nullish()
  .transform((s, ctx): Consent => {
    if (s === null || s === undefined || s.trim() === '') return 'unknown';
    const c = parseConsent(s);
    if (c === null) {
      ctx.addIssue({ code: 'custom', message: `"${shown(s)}": consent to share with the next of kin is yes, no or unknown` });
      return z.NEVER;
    }
    return c;
  });

export const summarySchema = requiredText('a summary is required: what happened, in a few sentences', 'the summary', MAX_SUMMARY);
export const noteSchema = requiredText('a note needs some text', 'the note', MAX_NOTE);
export const outcomeSchema = requiredText('an outcome is required: what was done', 'the outcome', MAX_OUTCOME);
export const reasonSchema = requiredText('a reason is required', 'the reason', MAX_REASON);

/** The person the case is about. Only the name is required; see checkDateOfBirth for the date. */
export const caseSubjectSchema = z.object({
  fullName: fullNameSchema,
  dateOfBirth: optional(dateOfBirthSchema),
  nationality: optional(nationalitySchema),
  passportNumber: optional(passportNumberSchema),
  location: locationSchema.nullish().transform((l) => l ?? { city: null, country: null, details: null }),
  contactDetails: contactDetailsSchema,
  nextOfKin: nextOfKinSchema.nullish().transform((n) => n ?? null),
});
export type CaseSubject = z.output<typeof caseSubjectSchema>;

/** A new case as the command layer hands it over (strings as typed). */
export const openCaseInputSchema = z.object({
  category: categorySchema,
  priority: prioritySchema,
  summary: summarySchema,
  reporter: reporterKindSchema,
  consent: consentSchema,
  subject: caseSubjectSchema,
});
export type OpenCaseInput = z.output<typeof openCaseInputSchema>;

// ---------------------------------------------------------------------------------------------
// Service levels

export type AckTarget = { kind: 'within'; ms: number } | { kind: 'next-working-day'; /** minutes after local midnight */ atMinutes: number };

export interface ServiceLevel {
  ack: AckTarget;
  /** how often the case needs an update while open; null: no schedule */
  updateEveryMs: number | null;
}

export const DEFAULT_SERVICE_LEVELS: Record<CasePriority, ServiceLevel> = {
  P1: { ack: { kind: 'within', ms: 15 * MINUTE }, updateEveryMs: 2 * HOUR },
  P2: { ack: { kind: 'within', ms: HOUR }, updateEveryMs: 8 * HOUR },
  P3: { ack: { kind: 'within', ms: 4 * HOUR }, updateEveryMs: 24 * HOUR },
  P4: { ack: { kind: 'next-working-day', atMinutes: 10 * 60 }, updateEveryMs: 72 * HOUR },
};

/** Longest "within" and "update every" accepted: a week. */
export const MAX_SERVICE_LEVEL_MS = 7 * DAY;
export const DEFAULT_NEXT_WORKING_DAY_MINUTES = 10 * 60;

/** Fields left out keep the less specific level's value; updateEveryMs null means no updates. */
export interface ServiceLevelPatch {
  ack?: AckTarget;
  updateEveryMs?: number | null;
}

export interface ServiceLevelOverride extends ServiceLevelPatch {
  priority: CasePriority;
  /** a category code, or null for every category of the priority */
  category: string | null;
}

/**
 * Field by field, the most specific override wins: priority and category, then priority alone,
 * then the default. Among overrides equally specific, the later in the list wins.
 */
export function serviceLevelFor(priority: CasePriority, category: string | null, overrides: readonly ServiceLevelOverride[] = []): ServiceLevel {
  const level: ServiceLevel = { ...DEFAULT_SERVICE_LEVELS[priority] };
  for (const specific of [false, true]) {
    for (const o of overrides) {
      if (o.priority !== priority) continue;
      if (specific ? o.category === null || o.category !== category : o.category !== null) continue;
      if (o.ack !== undefined) level.ack = o.ack;
      if (o.updateEveryMs !== undefined) level.updateEveryMs = o.updateEveryMs;
    }
  }
  return level;
}

export type ParsedField<T> = { ok: true; value: T } | { ok: false; error: string };

/** "15m", "within 1h30m", "next-working-day 10:00", "next working day at 09:30", "nwd". */
export function parseAckTarget(input: string): ParsedField<AckTarget> {
  const s = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const nwd = /^(?:next[ -]?working[ -]?day|nwd)(?: at)?(?: (.+))?$/.exec(s);
  if (nwd) {
    if (nwd[1] === undefined) return { ok: true, value: { kind: 'next-working-day', atMinutes: DEFAULT_NEXT_WORKING_DAY_MINUTES } };
    const at = parseClock(nwd[1]);
    if (at === null) return { ok: false, error: `"${shown(nwd[1])}" is not a time of day; write e.g. next-working-day 10:00` };
    return { ok: true, value: { kind: 'next-working-day', atMinutes: at } };
  }
  const d = parseDuration(s.replace(/^within /, ''), { maxMs: MAX_SERVICE_LEVEL_MS });
  if (!d.ok) return { ok: false, error: `${d.error}; or write next-working-day 10:00` };
  return { ok: true, value: { kind: 'within', ms: d.ms } };
}

/** "2h", "every 8h", "none" (no scheduled updates → null). */
export function parseUpdateEvery(input: string): ParsedField<number | null> {
  const s = input.trim().toLowerCase().replace(/\s+/g, ' ');
  if (['none', 'never', 'no', 'off'].includes(s)) return { ok: true, value: null };
  const d = parseDuration(s.replace(/^every /, ''), { maxMs: MAX_SERVICE_LEVEL_MS });
  if (!d.ok) return { ok: false, error: `${d.error}; or write none` };
  return { ok: true, value: d.ms };
}

export type ServiceLevelInputResult = { ok: true; patch: ServiceLevelPatch } | { ok: false; field: 'ack' | 'update'; error: string };

/** `ack=… update=…` as typed; at least one is needed. Blank counts as not given. */
export function parseServiceLevelInput(input: { ack?: string | null; update?: string | null }): ServiceLevelInputResult {
  const patch: ServiceLevelPatch = {};
  const ack = input.ack?.trim() ?? '';
  const update = input.update?.trim() ?? '';
  if (ack === '' && update === '') return { ok: false, field: 'ack', error: 'give ack=… (e.g. 15m or next-working-day 10:00) or update=… (e.g. 2h or none)' };
  if (ack !== '') {
    const a = parseAckTarget(ack);
    if (!a.ok) return { ok: false, field: 'ack', error: `ack: ${a.error}` };
    patch.ack = a.value;
  }
  if (update !== '') {
    const u = parseUpdateEvery(update);
    if (!u.ok) return { ok: false, field: 'update', error: `update: ${u.error}` };
    patch.updateEveryMs = u.value;
  }
  return { ok: true, patch };
}

const ackTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('within'), ms: z.number().int().min(SECOND).max(MAX_SERVICE_LEVEL_MS) }),
  z.object({ kind: z.literal('next-working-day'), atMinutes: z.number().int().min(0).max(24 * 60 - 1) }),
]);

/** A stored override (e.g. a JSON column) checked on the way in. */
export const serviceLevelOverrideSchema = z.object({
  priority: z.enum(CASE_PRIORITIES),
  category: z.enum(CASE_CATEGORIES).nullable(),
  ack: ackTargetSchema.optional(),
  updateEveryMs: z.number().int().min(SECOND).max(MAX_SERVICE_LEVEL_MS).nullable().optional(),
});

/** The mission's working week. */
export interface WorkingCalendar {
  timeZone: string;
  /** local weekdays off, 0 = Sunday; default Saturday and Sunday */
  weekend?: readonly number[];
  /** local dates off, YYYY-MM-DD */
  holidays?: ReadonlySet<string>;
}

export const DEFAULT_WEEKEND: readonly number[] = [0, 6];

function weekdayOf(ld: LocalDate): number {
  return new Date(Date.UTC(ld.y, ld.m - 1, ld.d)).getUTCDay();
}

/** The first working local date strictly after the local date of `instant`. */
export function nextWorkingDay(instant: number, calendar: WorkingCalendar): LocalDate {
  let weekend = calendar.weekend ?? DEFAULT_WEEKEND;
  // A week with no working day is a configuration mistake; a deadline that never comes is worse.
  if ([0, 1, 2, 3, 4, 5, 6].every((d) => weekend.includes(d))) weekend = [];
  const holidays = calendar.holidays;
  let day: LocalDate = addDays(localOf(calendar.timeZone, instant), 1);
  // Bounded: a year of holidays in a row is also a mistake.
  for (let i = 0; i < 400; i++) {
    if (!weekend.includes(weekdayOf(day)) && !holidays?.has(dateKey(day))) break;
    day = addDays(day, 1);
  }
  return day;
}

/** When the case must be acknowledged by, for a case opened at `openedAt`. */
export function ackDueAt(level: ServiceLevel, openedAt: number, calendar: WorkingCalendar): number {
  if (level.ack.kind === 'within') return openedAt + level.ack.ms;
  return zonedInstant(calendar.timeZone, nextWorkingDay(openedAt, calendar), level.ack.atMinutes);
}

/** When the next update is due after the one at `lastUpdateAt` (or the opening), or null. */
export function nextUpdateDueAt(level: ServiceLevel, lastUpdateAt: number): number | null {
  return level.updateEveryMs === null ? null : lastUpdateAt + level.updateEveryMs;
}

export interface AckTiming {
  ackDueAt: number | null;
  acknowledgedAt: number | null;
  /** when a case was closed without ever being acknowledged; the clock stops there */
  closedAt?: number | null;
}

/** Acknowledged after the deadline, or not acknowledged and the deadline has passed. On time is not late. */
export function isAckBreached(c: AckTiming, now: number): boolean {
  if (c.ackDueAt === null) return false;
  if (c.acknowledgedAt !== null) return c.acknowledgedAt > c.ackDueAt;
  return (c.closedAt ?? now) > c.ackDueAt;
}

/** "2 h", "15 min", "1 h 30 min". */
function spokenDuration(ms: number): string {
  const total = Math.round(ms / SECOND);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [h ? `${h} h` : '', m ? `${m} min` : '', s ? `${s} s` : ''].filter((p) => p !== '');
  return parts.length ? parts.join(' ') : '0 min';
}

/** "acknowledge within 15 min, update every 2 h". */
export function describeServiceLevel(level: ServiceLevel): string {
  const ack = level.ack.kind === 'within' ? `acknowledge within ${spokenDuration(level.ack.ms)}` : `acknowledge by ${formatClock(level.ack.atMinutes)} mission time the next working day`;
  return `${ack}, ${level.updateEveryMs === null ? 'no scheduled updates' : `update every ${spokenDuration(level.updateEveryMs)}`}`;
}

/** ack="15m" update="2h": what parseServiceLevelInput reads back. */
export function formatServiceLevelInput(level: ServiceLevelPatch): string {
  const parts: string[] = [];
  if (level.ack) parts.push(`ack="${level.ack.kind === 'within' ? formatDuration(level.ack.ms) : `next-working-day ${formatClock(level.ack.atMinutes)}`}"`);
  if (level.updateEveryMs !== undefined) parts.push(`update="${level.updateEveryMs === null ? 'none' : formatDuration(level.updateEveryMs)}"`);
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Report statistics

function isSorted(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if ((v[i] as number) < (v[i - 1] as number)) return false;
  return true;
}

function ofSorted(v: ArrayLike<number>, p: number): number {
  // Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC).
  const h = ((v.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const a = v[lo] as number;
  return lo + 1 < v.length ? a + (h - lo) * ((v[lo + 1] as number) - a) : a;
}

/**
 * The p-th percentile (0..100) of finite numbers, by linear interpolation between the closest
 * ranks, so the 50th is the usual median. Sorted input is used as is; otherwise a sorted copy.
 * Empty → null.
 */
export function percentile(values: readonly number[] | Float64Array, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile is from 0 to 100, not ${p}`);
  if (values.length === 0) return null;
  if (isSorted(values)) return ofSorted(values, p);
  return ofSorted(Float64Array.from(values).sort(), p);
}

export function median(values: readonly number[] | Float64Array): number | null {
  return percentile(values, 50);
}

export interface CaseForSummary {
  category: CaseCategory;
  priority: CasePriority;
  status: CaseStatus;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  ackDueAt: number | null;
  /** optional: a case closed without acknowledgement stops its ack clock here, not at `now` */
  closedAt?: number | null;
}

export interface DurationStats {
  /** cases measured */
  count: number;
  /** whole milliseconds; null when none */
  median: number | null;
  p90: number | null;
}

export interface CaseSummary {
  from: number;
  to: number;
  /** cases opened in [from, to) */
  total: number;
  /** every key, in declared order, zeros included */
  byCategory: Record<CaseCategory, number>;
  byPriority: Record<CasePriority, number>;
  byStatus: Record<CaseStatus, number>;
  /** openedAt → acknowledgedAt */
  timeToAcknowledge: DurationStats;
  /** openedAt → resolvedAt */
  timeToResolve: DurationStats;
  breaches: {
    total: number;
    /** acknowledged, but after the deadline */
    acknowledgedLate: number;
    /** never acknowledged, deadline passed */
    unacknowledged: number;
    byPriority: Record<CasePriority, number>;
  };
}

function indexOf<T extends string>(codes: readonly T[]): Map<string, number> {
  return new Map(codes.map((c, i) => [c, i]));
}
const CATEGORY_INDEX = indexOf(CASE_CATEGORIES);
const PRIORITY_INDEX = indexOf(CASE_PRIORITIES);
const STATUS_INDEX = indexOf(CASE_STATUSES);

function record<T extends string>(codes: readonly T[], counts: Int32Array): Record<T, number> {
  const out = {} as Record<T, number>;
  codes.forEach((c, i) => {
    out[c] = counts[i] as number;
  });
  return out;
}

function bump(counts: Int32Array, i: number): void {
  counts[i] = (counts[i] ?? 0) + 1;
}

function stats(values: Float64Array, n: number): DurationStats {
  if (n === 0) return { count: 0, median: null, p90: null };
  const sorted = values.subarray(0, n).sort();
  return { count: n, median: Math.round(ofSorted(sorted, 50)), p90: Math.round(ofSorted(sorted, 90)) };
}

/**
 * Counts, times and service-level breaches of the cases opened in [range.from, range.to). One pass
 * into typed arrays, then one sort per duration set; unknown codes (old data) are left out of the
 * per-key counts but still in the total.
 */
export function summariseCases(cases: readonly CaseForSummary[], range: { from: number; to: number }, now: number): CaseSummary {
  const byCategory = new Int32Array(CASE_CATEGORIES.length);
  const byPriority = new Int32Array(CASE_PRIORITIES.length);
  const byStatus = new Int32Array(CASE_STATUSES.length);
  const breachByPriority = new Int32Array(CASE_PRIORITIES.length);
  const ackTimes = new Float64Array(cases.length);
  const resolveTimes = new Float64Array(cases.length);
  let total = 0;
  let acks = 0;
  let resolves = 0;
  let late = 0;
  let unacknowledged = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i] as CaseForSummary;
    if (c.openedAt < range.from || c.openedAt >= range.to) continue;
    total++;
    const ci = CATEGORY_INDEX.get(c.category);
    if (ci !== undefined) bump(byCategory, ci);
    const pi = PRIORITY_INDEX.get(c.priority);
    if (pi !== undefined) bump(byPriority, pi);
    const si = STATUS_INDEX.get(c.status);
    if (si !== undefined) bump(byStatus, si);
    // A clock a little off between replicas must not make a negative duration.
    if (c.acknowledgedAt !== null) ackTimes[acks++] = Math.max(0, c.acknowledgedAt - c.openedAt);
    if (c.resolvedAt !== null) resolveTimes[resolves++] = Math.max(0, c.resolvedAt - c.openedAt);
    if (isAckBreached(c, now)) {
      if (c.acknowledgedAt !== null) late++;
      else unacknowledged++;
      if (pi !== undefined) bump(breachByPriority, pi);
    }
  }
  return {
    from: range.from,
    to: range.to,
    total,
    byCategory: record(CASE_CATEGORIES, byCategory),
    byPriority: record(CASE_PRIORITIES, byPriority),
    byStatus: record(CASE_STATUSES, byStatus),
    timeToAcknowledge: stats(ackTimes, acks),
    timeToResolve: stats(resolveTimes, resolves),
    breaches: { total: late + unacknowledged, acknowledgedLate: late, unacknowledged, byPriority: record(CASE_PRIORITIES, breachByPriority) },
  };
}
