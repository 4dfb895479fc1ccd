// Paging, the pure part: escalation policies and the small language people type for them
// ("roster:Consular duty/primary 5m; role:leader"), the escalation plan over time, the fence that
// stops a step once a page is acknowledged or resolved, the page's state transitions, and a
// member's contact schedule ("chat now, SMS after 2 minutes, email after 5").
//
// No store and no clock: instants are epoch milliseconds passed in by the caller. Targets typed by
// people come back unresolved (a handle, a roster name) for the caller to look up.
import { z } from 'zod/v4';
import { emailSchema, handleSchema, parseMemberRef, phoneSchema, type MemberRef } from './member';
import { isRole, ROLES, type Role } from './roles';
import { rosterNameSchema } from './roster';

// ---------------------------------------------------------------------------------------------
// Types

export type RosterLayer = 'primary' | 'backup' | 'both';

/** Whom a step notifies, resolved to ids. A roster means whoever is on duty when the step fires. */
export type EscalationTarget =
  | { kind: 'roster'; rosterId: string; layer: RosterLayer }
  | { kind: 'member'; memberId: string }
  | { kind: 'role'; role: Role };

export interface EscalationStep {
  /** notified together, at the step's due time */
  targets: EscalationTarget[];
  /** the wait after this step before the next one (after the last: before the next pass) */
  delayMs: number;
}

export interface EscalationPolicy {
  id: string;
  name: string;
  steps: EscalationStep[];
  /** extra passes over all the steps when nobody acknowledges, 0..9 */
  repeat: number;
}

export type Severity = 'critical' | 'high' | 'normal';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'normal'];

export type PageStatus = 'triggered' | 'acknowledged' | 'resolved';

/** A target as typed, before the caller looks it up. `ref` is a member.ts MemberRef (a handle or a platform mention). */
export type TargetRef =
  | { kind: 'rosterRef'; name: string; layer: RosterLayer }
  | { kind: 'memberRef'; ref: MemberRef }
  | { kind: 'role'; role: Role };

export interface DraftStep {
  targets: TargetRef[];
  delayMs: number;
}

// ---------------------------------------------------------------------------------------------
// Limits and defaults

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A step written without a delay waits this long before the next (and the last, before a repeat). */
export const DEFAULT_STEP_DELAY_MS = 5 * MINUTE;
export const MAX_STEP_DELAY_MS = 24 * HOUR;
export const MAX_STEPS = 20;
/** Steps as typed: as long as a whole command may be. */
export const MAX_STEPS_TEXT = 4000;
export const MAX_TARGETS_PER_STEP = 10;
export const MAX_REPEAT = 9;
export const MAX_CONTACT_DELAY_MS = 24 * HOUR;
export const MAX_RESOLUTION_NOTE = 500;

const TARGET_HELP = 'roster:<name>[/primary|/backup|/both], @handle or role:<officer|crisis|leader|admin>';

function shown(s: string): string {
  const t = s.trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

// ---------------------------------------------------------------------------------------------
// Durations: "30s", "2m", "5 min", "1h", "1h30m", "1h 30m", "1 hour 30 minutes", "1h30"

type DurationUnit = 'h' | 'm' | 's';

const UNITS: Record<string, DurationUnit> = {
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
};
const UNIT_MS: Record<DurationUnit, number> = { h: HOUR, m: MINUTE, s: SECOND };
const UNIT_RANK: Record<DurationUnit, number> = { h: 0, m: 1, s: 2 };
const UNIT_NAME: Record<DurationUnit, string> = { h: 'hours', m: 'minutes', s: 'seconds' };
const ZERO_WORDS = new Set(['0', 'now', 'immediately', 'at once']);
const PART = /(\d+(?:[.,]\d+)?)\s*([a-z]*)\s*/y;
/** Text that is meant as a duration (a number with a unit), used to find a step's trailing delay. */
const LOOKS_LIKE_DURATION = /^\d+(?:[.,]\d+)?\s*[a-z]+(?:\s*\d+(?:[.,]\d+)?\s*[a-z]+)*(?:\s*\d+)?$/i;

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

export interface DurationOptions {
  /** accept 0 ("now", "0", "0m"): contact delays. Step delays must be positive. */
  allowZero?: boolean;
  /** default 24 hours */
  maxMs?: number;
}

/**
 * A delay as people type it, in whole seconds, minutes and hours (larger units first). A bare
 * number last means the next unit down ("1h30" = 1h30m, "2m30" = 2m30s); alone it needs a unit.
 */
export function parseDuration(input: string, opts: DurationOptions = {}): DurationResult {
  const max = opts.maxMs ?? MAX_STEP_DELAY_MS;
  const s = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const fail = (error: string): DurationResult => ({ ok: false, error });
  if (s === '') return fail('a delay is required, e.g. 30s, 5m or 1h30m');
  if (ZERO_WORDS.has(s)) return opts.allowZero ? { ok: true, ms: 0 } : fail(`"${shown(input)}": a delay must be more than zero, e.g. 30s or 5m`);
  if (s.startsWith('-')) return fail(`"${shown(input)}": a delay cannot be negative`);
  if (s.length > 40 || !/^\d/.test(s)) return fail(`"${shown(input)}" is not a duration; write e.g. 30s, 5m or 1h30m`);
  let pos = 0;
  let total = 0;
  let last: DurationUnit | null = null;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m || PART.lastIndex === pos) return fail(`"${shown(input)}" is not a duration; write e.g. 30s, 5m or 1h30m`);
    pos = PART.lastIndex;
    const num = m[1] as string;
    const word = m[2] as string;
    if (/[.,]/.test(num)) return fail(`"${shown(input)}": use whole numbers, e.g. 1h30m rather than 1.5h`);
    let unit: DurationUnit;
    if (word === '') {
      // "1h30" is 1h30m and "2m30" is 2m30s; a number on its own needs a unit.
      if (last === 'h' && pos === s.length) unit = 'm';
      else if (last === 'm' && pos === s.length) unit = 's';
      else if (last === null && pos === s.length) return fail(`"${shown(input)}" needs a unit: ${num}s, ${num}m or ${num}h`);
      else return fail(`"${shown(input)}": add a unit after ${num}, e.g. ${num}${last === 'h' ? 'm' : last === 'm' ? 's' : 'm'}`);
    } else {
      const u = UNITS[word];
      if (!u) return fail(`"${shown(input)}": "${word}" is not a unit; use s, m or h (seconds, minutes, hours)`);
      unit = u;
    }
    if (last !== null && UNIT_RANK[unit] === UNIT_RANK[last]) return fail(`"${shown(input)}" gives the ${UNIT_NAME[unit]} twice`);
    if (last !== null && UNIT_RANK[unit] < UNIT_RANK[last]) return fail(`"${shown(input)}": write larger units first, e.g. 1h30m`);
    last = unit;
    total += Number(num) * UNIT_MS[unit];
  }
  if (total === 0 && !opts.allowZero) return fail(`"${shown(input)}": a delay must be more than zero, e.g. 30s or 5m`);
  if (total > max) return fail(`"${shown(input)}" is too long; a delay is at most ${formatDuration(max)}`);
  return { ok: true, ms: total };
}

/** 1h30m, 2m, 30s, 1h5s; 0 is "now". Whole seconds (rounded down). */
export function formatDuration(ms: number): string {
  const total = Math.floor(ms / SECOND);
  if (total <= 0) return 'now';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec ? `${sec}s` : ''}`;
}

function durationTransform(opts: DurationOptions) {
  return z.string().transform((s, ctx) => {
    const r = parseDuration(s, opts);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.ms;
  });
}

/** A step delay: positive, at most 24 hours → milliseconds. */
export const durationSchema = durationTransform({});
/** A contact delay: "now" or up to 24 hours → milliseconds. */
export const contactDelaySchema = durationTransform({ allowZero: true, maxMs: MAX_CONTACT_DELAY_MS });

// ---------------------------------------------------------------------------------------------
// Targets and steps as typed

export type TargetResult = { ok: true; target: TargetRef } | { ok: false; error: string };

/** One target: `roster:Consular duty/backup`, `@alee`, `member:alee`, a platform mention, `role:leader`. */
export function parseTarget(input: string): TargetResult {
  const t = input.trim().replace(/\s+/g, ' ');
  const fail = (error: string): TargetResult => ({ ok: false, error });
  if (t === '') return fail(`an empty target; use ${TARGET_HELP}`);
  if (t.includes(',')) return fail(`"${shown(t)}": join the targets of one step with + and separate steps with a semicolon`);
  if (t.startsWith('<@')) {
    const ref = parseMemberRef(t);
    return ref?.kind === 'identity' ? { ok: true, target: { kind: 'memberRef', ref } } : fail(`"${shown(t)}" is not a member mention`);
  }
  if (t.startsWith('@')) return memberTarget(t);
  const m = /^([a-z]+) ?: ?(.*)$/i.exec(t);
  if (!m) {
    const handleLike = handleSchema.safeParse(t).success;
    return fail(`"${shown(t)}" is not a target; ${handleLike ? `write @${t.toLowerCase()} for a member, or use ` : 'use '}${TARGET_HELP}`);
  }
  const kind = (m[1] as string).toLowerCase();
  const rest = (m[2] as string).trim();
  switch (kind) {
    case 'roster':
      return rosterTarget(rest);
    case 'member':
      return memberTarget(rest);
    case 'role': {
      const r = rest.toLowerCase();
      const role = isRole(r) ? r : r.endsWith('s') && isRole(r.slice(0, -1)) ? r.slice(0, -1) : null;
      if (role === null || !isRole(role)) {
        return fail(rest === '' ? `role: needs a role: ${ROLES.join(', ')}` : `"${shown(rest)}" is not a role; roles are ${ROLES.join(', ')}`);
      }
      return { ok: true, target: { kind: 'role', role } };
    }
    default:
      return fail(`"${shown(kind)}" is not a kind of target; use ${TARGET_HELP}`);
  }
}

function memberTarget(text: string): TargetResult {
  if (text.replace(/^@/, '') === '') return { ok: false, error: 'a member target needs a handle, e.g. @alee' };
  if (text.startsWith('<@')) return parseTarget(text);
  const h = handleSchema.safeParse(text);
  if (!h.success) return { ok: false, error: `"${shown(text)}" is not a member: ${h.error.issues[0]?.message ?? 'not a handle'}` };
  return { ok: true, target: { kind: 'memberRef', ref: { kind: 'handle', handle: h.data } } };
}

function rosterTarget(rest: string): TargetResult {
  const slash = rest.lastIndexOf('/');
  const name = (slash < 0 ? rest : rest.slice(0, slash)).trim();
  const layerText = slash < 0 ? 'primary' : rest.slice(slash + 1).trim().toLowerCase();
  if (name === '') return { ok: false, error: 'roster: needs a roster name, e.g. roster:Consular duty/primary' };
  if (layerText !== 'primary' && layerText !== 'backup' && layerText !== 'both') {
    return { ok: false, error: `"${shown(layerText)}" is not a roster layer; use /primary, /backup or /both` };
  }
  const n = rosterNameSchema.safeParse(name);
  if (!n.success) return { ok: false, error: `roster "${shown(name)}": ${n.error.issues[0]?.message ?? 'not a roster name'}` };
  return { ok: true, target: { kind: 'rosterRef', name: n.data, layer: layerText } };
}

/** A stable identity for a typed target: duplicates in one step are refused. */
export function targetRefKey(t: TargetRef): string {
  if (t.kind === 'rosterRef') return `roster:${t.name.toLowerCase()}/${t.layer}`;
  if (t.kind === 'role') return `role:${t.role}`;
  return t.ref.kind === 'handle' ? `@${t.ref.handle}` : `<@${t.ref.identity.platform}:${t.ref.identity.externalId}>`;
}

/** How a typed target is written back, so that parseTarget reads it the same. */
export function formatTargetRef(t: TargetRef): string {
  if (t.kind === 'rosterRef') return `roster:${t.name}/${t.layer}`;
  return targetRefKey(t);
}

type TargetsResult = { ok: true; targets: TargetRef[] } | { ok: false; error: string };

function parseTargets(text: string): TargetsResult {
  const parts = text.split('+').map((p) => p.trim());
  if (parts.some((p) => p === '')) return { ok: false, error: 'an empty target between + signs' };
  if (parts.length > MAX_TARGETS_PER_STEP) return { ok: false, error: `a step notifies at most ${MAX_TARGETS_PER_STEP} targets` };
  const targets: TargetRef[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    const r = parseTarget(p);
    if (!r.ok) return r;
    const key = targetRefKey(r.target);
    if (seen.has(key)) return { ok: false, error: `${formatTargetRef(r.target)} is named twice` };
    seen.add(key);
    targets.push(r.target);
  }
  return { ok: true, targets };
}

export type StepsResult = { ok: true; steps: DraftStep[] } | { ok: false; error: string };

/**
 * Steps separated by `;` (or new lines); each is targets joined by `+`, then an optional delay:
 * `roster:Consular duty/primary 5m; @alee+@bob 2m; role:leader`. A missing delay is 5 minutes;
 * the last step's delay is the wait before a repeat. A roster target without a layer means the
 * primary. Every error is reported, one sentence per step.
 */
export function parseSteps(text: string): StepsResult {
  // A form submission has no length limit of its own, and finding each step's delay costs more than linear time.
  if (text.length > MAX_STEPS_TEXT) return { ok: false, error: `Steps are at most ${MAX_STEPS_TEXT} characters; these are ${text.length}.` };
  const segments = text
    .split(/[;\n]/)
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter((s) => s !== '');
  if (segments.length === 0) return { ok: false, error: 'A policy needs at least one step, e.g. steps="roster:Consular duty/primary 5m; role:leader".' };
  if (segments.length > MAX_STEPS) return { ok: false, error: `A policy has at most ${MAX_STEPS} steps; this one has ${segments.length}.` };
  const steps: DraftStep[] = [];
  const errors: string[] = [];
  segments.forEach((seg, i) => {
    const r = parseStep(seg);
    if (r.ok) steps.push(r.step);
    else errors.push(`Step ${i + 1}: ${r.error}.`);
  });
  return errors.length ? { ok: false, error: errors.join(' ') } : { ok: true, steps };
}

function parseStep(seg: string): { ok: true; step: DraftStep } | { ok: false; error: string } {
  if (LOOKS_LIKE_DURATION.test(seg)) return { ok: false, error: `"${shown(seg)}" is only a delay; name whom to notify first, e.g. "role:leader ${shown(seg)}"` };
  const words = seg.split(' ');
  // The delay is the longest run of trailing words that reads as a duration.
  let split = -1;
  for (let i = 1; i < words.length; i++) {
    // A delay starts with a digit: skip the join for every other word (long hostile text).
    if (/^\d/.test(words[i] as string) && LOOKS_LIKE_DURATION.test(words.slice(i).join(' '))) {
      split = i;
      break;
    }
  }
  if (split > 0) {
    const delayText = words.slice(split).join(' ');
    const delay = parseDuration(delayText);
    const targets = parseTargets(words.slice(0, split).join(' '));
    if (delay.ok && targets.ok) return { ok: true, step: { targets: targets.targets, delayMs: delay.ms } };
    // "roster:Floor 2nd" is a roster name that merely ends like a duration.
    const whole = parseTargets(seg);
    if (whole.ok) return { ok: true, step: { targets: whole.targets, delayMs: DEFAULT_STEP_DELAY_MS } };
    if (!delay.ok) return { ok: false, error: targets.ok ? `the delay ${delay.error}` : `${targets.error}; and the delay ${delay.error}` };
    return { ok: false, error: targets.ok ? 'no target' : targets.error };
  }
  const whole = parseTargets(seg);
  if (whole.ok) return { ok: true, step: { targets: whole.targets, delayMs: DEFAULT_STEP_DELAY_MS } };
  const lastWord = words[words.length - 1] as string;
  if (words.length > 1 && /^\d+$/.test(lastWord)) {
    return { ok: false, error: `the delay "${lastWord}" needs a unit, e.g. ${lastWord}m, ${lastWord}s or ${lastWord}h` };
  }
  return { ok: false, error: whole.error };
}

/** Written back in the form parseSteps reads, every delay and layer explicit. */
export function formatSteps(steps: readonly DraftStep[]): string {
  return steps.map((s) => `${s.targets.map(formatTargetRef).join('+')} ${formatDuration(s.delayMs)}`).join('; ');
}

export type RepeatResult = { ok: true; repeat: number } | { ok: false; error: string };

export function parseRepeat(input: string | number): RepeatResult {
  const s = String(input).trim().toLowerCase();
  const n = s === 'none' || s === 'no' ? 0 : /^\d{1,3}$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_REPEAT) {
    return { ok: false, error: `repeat is a whole number from 0 to ${MAX_REPEAT}: how many more times to run all the steps when nobody acknowledges` };
  }
  return { ok: true, repeat: n };
}

export const stepsSchema = z.string({ error: 'steps="…" is required, e.g. steps="roster:Consular duty/primary 5m; role:leader"' }).transform((s, ctx) => {
  const r = parseSteps(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.steps;
});

export const repeatSchema = z.union([z.string(), z.number()]).transform((s, ctx) => {
  const r = parseRepeat(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.repeat;
});

export const policyNameSchema = z
  .string({ error: 'a policy name is required' })
  .trim()
  .min(2, { error: 'a policy name is 2 to 40 characters' })
  .max(40, { error: 'a policy name is 2 to 40 characters' })
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, { error: 'a policy name is letters, digits, spaces, dots, dashes or underscores' });

/** `name=… steps="…" [repeat=N]` as the dispatcher hands them over (repeat defaults to 0). */
export const policyInputSchema = z.object({
  name: policyNameSchema,
  steps: stepsSchema,
  repeat: repeatSchema.optional().transform((r) => r ?? 0),
});
export type PolicyInput = z.output<typeof policyInputSchema>;

export const severitySchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['critical', 'high', 'normal'], { error: 'severity is critical, high or normal' }));

/** A stored policy (e.g. a JSON column) checked on the way in. */
const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('roster'), rosterId: z.string().min(1), layer: z.enum(['primary', 'backup', 'both']) }),
  z.object({ kind: z.literal('member'), memberId: z.string().min(1) }),
  z.object({ kind: z.literal('role'), role: z.enum(ROLES) }),
]);
export const escalationPolicySchema = z.object({
  id: z.string().min(1),
  name: policyNameSchema,
  steps: z
    .array(
      z.object({
        targets: z.array(targetSchema).min(1).max(MAX_TARGETS_PER_STEP),
        delayMs: z.number().int().min(SECOND).max(MAX_STEP_DELAY_MS),
      }),
    )
    .min(1, { error: 'a policy needs at least one step' })
    .max(MAX_STEPS),
  repeat: z.number().int().min(0).max(MAX_REPEAT),
});

// ---------------------------------------------------------------------------------------------
// Resolving typed targets (the caller supplies the lookups; no store here)

export interface TargetLookup {
  /** member id, or null when nobody (active) answers to the reference */
  member(ref: MemberRef): string | null;
  /** roster id by name (the caller decides on case), or null */
  roster(name: string): string | null;
}

/** What a draft names, each once, so the caller can fetch them in one go before resolveSteps. */
export function referencesOf(steps: readonly DraftStep[]): { members: MemberRef[]; rosters: string[] } {
  const members = new Map<string, MemberRef>();
  const rosters = new Map<string, string>();
  for (const s of steps) {
    for (const t of s.targets) {
      // The first spelling wins.
      if (t.kind === 'memberRef' && !members.has(targetRefKey(t))) members.set(targetRefKey(t), t.ref);
      if (t.kind === 'rosterRef' && !rosters.has(t.name.toLowerCase())) rosters.set(t.name.toLowerCase(), t.name);
    }
  }
  return { members: [...members.values()], rosters: [...rosters.values()] };
}

export type ResolveResult = { ok: true; steps: EscalationStep[] } | { ok: false; errors: string[] };

/** Typed targets → ids. Every unknown reference is reported once; two references to one member in a step collapse. */
export function resolveSteps(steps: readonly DraftStep[], lookup: TargetLookup): ResolveResult {
  const errors = new Set<string>();
  const out: EscalationStep[] = [];
  for (const s of steps) {
    const targets: EscalationTarget[] = [];
    const seen = new Set<string>();
    for (const t of s.targets) {
      let resolved: EscalationTarget | null = null;
      if (t.kind === 'role') resolved = { kind: 'role', role: t.role };
      else if (t.kind === 'memberRef') {
        const id = lookup.member(t.ref);
        if (id === null) errors.add(`No member ${formatTargetRef(t)}.`);
        else resolved = { kind: 'member', memberId: id };
      } else {
        const id = lookup.roster(t.name);
        if (id === null) errors.add(`No roster named "${t.name}".`);
        else resolved = { kind: 'roster', rosterId: id, layer: t.layer };
      }
      if (!resolved) continue;
      const key = targetKey(resolved);
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push(resolved);
    }
    out.push({ targets, delayMs: s.delayMs });
  }
  return errors.size ? { ok: false, errors: [...errors] } : { ok: true, steps: out };
}

export interface TargetNames {
  /** handle of a member id (without @) */
  memberHandle(memberId: string): string;
  rosterName(rosterId: string): string;
}

/** Resolved steps written back as a draft, for `/page policy show` and the edit form. */
export function unresolveSteps(steps: readonly EscalationStep[], names: TargetNames): DraftStep[] {
  return steps.map((s) => ({
    delayMs: s.delayMs,
    targets: s.targets.map((t): TargetRef => {
      if (t.kind === 'role') return t;
      if (t.kind === 'member') return { kind: 'memberRef', ref: { kind: 'handle', handle: names.memberHandle(t.memberId) } };
      return { kind: 'rosterRef', name: names.rosterName(t.rosterId), layer: t.layer };
    }),
  }));
}

export function targetKey(t: EscalationTarget): string {
  if (t.kind === 'roster') return `roster:${t.rosterId}/${t.layer}`;
  if (t.kind === 'member') return `member:${t.memberId}`;
  return `role:${t.role}`;
}

// ---------------------------------------------------------------------------------------------
// The plan: every step of every pass, with its due time

export interface PlannedStep {
  /** `pass:step`, both from 0; unique within one escalation run */
  key: string;
  /** 0 is the first pass; `repeat` extra passes follow */
  pass: number;
  stepIndex: number;
  dueAt: number;
  targets: EscalationTarget[];
}

export function stepKey(pass: number, stepIndex: number): string {
  return `${pass}:${stepIndex}`;
}

export function parseStepKey(key: string): { pass: number; stepIndex: number } | null {
  const m = /^(\d+):(\d+)$/.exec(key);
  return m ? { pass: Number(m[1]), stepIndex: Number(m[2]) } : null;
}

/** One pass: the sum of every step's delay (the last step's delay is the wait before a repeat). */
export function passLength(policy: Pick<EscalationPolicy, 'steps'>): number {
  return policy.steps.reduce((sum, s) => sum + s.delayMs, 0);
}

/** Step 0 of pass 0 is due at `startedAt`; each later step after the previous one's delay. Ordered by due time. */
export function planEscalation(policy: Pick<EscalationPolicy, 'steps' | 'repeat'>, startedAt: number): PlannedStep[] {
  const out: PlannedStep[] = [];
  const passes = Math.max(0, Math.floor(policy.repeat)) + 1;
  let t = startedAt;
  for (let pass = 0; pass < passes && policy.steps.length > 0; pass++) {
    policy.steps.forEach((s, stepIndex) => {
      out.push({ key: stepKey(pass, stepIndex), pass, stepIndex, dueAt: t, targets: s.targets });
      t += Math.max(0, s.delayMs);
    });
  }
  return out;
}

/** When the escalation is over if nobody acknowledges: the last step's due time plus its delay. */
export function escalationEndsAt(policy: Pick<EscalationPolicy, 'steps' | 'repeat'>, startedAt: number): number {
  return startedAt + passLength(policy) * (Math.max(0, Math.floor(policy.repeat)) + 1);
}

// ---------------------------------------------------------------------------------------------
// Fencing

/** Carried by every escalation job: it may act only while the page is triggered at this version. */
export interface FenceToken {
  pageId: string;
  version: number;
}

export function fenceOf(page: Pick<PageState, 'id' | 'version'>): FenceToken {
  return { pageId: page.id, version: page.version };
}

/** A step runs only while the page is triggered and its escalation version still matches. */
export function isCurrent(page: Pick<PageState, 'id' | 'status' | 'version'>, token: FenceToken): boolean {
  return page.id === token.pageId && page.status === 'triggered' && page.version === token.version;
}

/** Job key of one escalation step: unique per page, version and `pass:step`. */
export function escalationJobKey(token: FenceToken, key: string): string {
  return `page:${token.pageId}:v${token.version}:step:${key}`;
}

/** Idempotency key of one intended delivery: page, version, `pass:step`, member and contact (see contactPlan's keys). */
export function deliveryKey(token: FenceToken, key: string, memberId: string, contactKey: string): string {
  return `${escalationJobKey(token, key)}:member:${memberId}:${contactKey}`;
}

// ---------------------------------------------------------------------------------------------
// What is due now

export interface EscalationState {
  pageId: string;
  /** the page's status now */
  status: PageStatus;
  /** the page's escalation version now */
  version: number;
  /** when the current escalation started (step 0:0 is due then) */
  startedAt: number;
  /** `pass:step` keys already fired in this escalation */
  fired: ReadonlySet<string>;
}

export function escalationStateOf(page: PageState, fired: Iterable<string>): EscalationState {
  return { pageId: page.id, status: page.status, version: page.version, startedAt: page.escalationStartedAt, fired: new Set(fired) };
}

export interface DueStep extends PlannedStep {
  /** how late it is being fired (now − dueAt); the watchdog reports more than 30 s */
  lateMs: number;
  fence: FenceToken;
  /** escalationJobKey(fence, key) */
  jobKey: string;
}

export interface NextSteps {
  /** steps due at `now` that have not fired, in due order (overdue ones too, each once) */
  due: DueStep[];
  /** the earliest due time of a step still to come, or null when none is */
  nextDueAt: number | null;
  /** why nothing more will fire: the page is no longer triggered, or every step has been fired */
  done: 'acknowledged' | 'resolved' | 'exhausted' | null;
}

/**
 * The steps due at `now`. The caller records them as fired (with the returned keys) before or
 * with their deliveries, so no step is returned twice; an acknowledged or resolved page returns
 * nothing. Steps overdue after an outage are all returned, in order, with their lateness.
 */
export function nextStep(policy: Pick<EscalationPolicy, 'steps' | 'repeat'>, state: EscalationState, now: number): NextSteps {
  if (state.status !== 'triggered') return { due: [], nextDueAt: null, done: state.status };
  const fence: FenceToken = { pageId: state.pageId, version: state.version };
  const due: DueStep[] = [];
  let nextDueAt: number | null = null;
  for (const p of planEscalation(policy, state.startedAt)) {
    if (state.fired.has(p.key)) continue;
    if (p.dueAt <= now) due.push({ ...p, lateMs: now - p.dueAt, fence, jobKey: escalationJobKey(fence, p.key) });
    else if (nextDueAt === null || p.dueAt < nextDueAt) nextDueAt = p.dueAt;
  }
  return { due, nextDueAt, done: due.length === 0 && nextDueAt === null ? 'exhausted' : null };
}

// ---------------------------------------------------------------------------------------------
// Pages: state transitions

export interface PageState {
  id: string;
  status: PageStatus;
  /** the escalation version (the fence); acknowledge and resolve bump it */
  version: number;
  /** open pages with the same key absorb later triggers; null: never merged */
  dedupKey: string | null;
  /** triggers this page has absorbed, the first included */
  triggerCount: number;
  triggeredAt: number;
  lastTriggeredAt: number;
  /** when the current escalation started */
  escalationStartedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

export type PageEvent =
  | { type: 'triggered'; pageId: string; at: number; version: number }
  | { type: 'retriggered'; pageId: string; at: number; count: number; status: PageStatus }
  | { type: 'acknowledged'; pageId: string; at: number; by: string; version: number }
  | { type: 'resolved'; pageId: string; at: number; by: string; note: string | null; version: number };

export type PageErrorCode = 'ALREADY_ACKNOWLEDGED' | 'ALREADY_RESOLVED' | 'NOT_OPEN' | 'NOTE_TOO_LONG';

export interface PageError {
  code: PageErrorCode;
  message: string;
  /** who acknowledged or resolved it before, and when (for a reply with names and times) */
  by?: string | null;
  at?: number | null;
}

export type Transition<P extends PageState> = { ok: true; page: P; events: PageEvent[] } | { ok: false; error: PageError };

export const dedupKeySchema = z
  .string()
  .trim()
  .min(1, { error: 'a dedup key is 1 to 200 characters' })
  .max(200, { error: 'a dedup key is 1 to 200 characters' });

/** A new page, triggered at `now`, escalation version 1. */
export function openPage(input: { id: string; dedupKey?: string | null }, now: number): { page: PageState; events: PageEvent[] } {
  const page: PageState = {
    id: input.id,
    status: 'triggered',
    version: 1,
    dedupKey: input.dedupKey?.trim() || null,
    triggerCount: 1,
    triggeredAt: now,
    lastTriggeredAt: now,
    escalationStartedAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    resolutionNote: null,
  };
  return { page, events: [{ type: 'triggered', pageId: page.id, at: now, version: page.version }] };
}

/** The open page a trigger with this key merges into, if any (the oldest, should there be several). */
export function findOpenByDedupKey<P extends Pick<PageState, 'status' | 'dedupKey' | 'triggeredAt'>>(pages: readonly P[], dedupKey: string | null | undefined): P | null {
  const key = dedupKey?.trim();
  if (!key) return null;
  let best: P | null = null;
  for (const p of pages) {
    if (p.status !== 'resolved' && p.dedupKey === key && (best === null || p.triggeredAt < best.triggeredAt)) best = p;
  }
  return best;
}

function resolvedError(page: PageState, doing: string): PageError {
  return { code: 'ALREADY_RESOLVED', message: `Page ${page.id} is already resolved; there is nothing to ${doing}.`, by: page.resolvedBy, at: page.resolvedAt };
}

/** Stops escalation. A second acknowledgement (a double click included) fails, page unchanged. */
export function acknowledge<P extends PageState>(page: P, by: string, now: number): Transition<P> {
  if (page.status === 'resolved') return { ok: false, error: resolvedError(page, 'acknowledge') };
  if (page.status === 'acknowledged') {
    const mine = page.acknowledgedBy === by;
    return {
      ok: false,
      error: {
        code: 'ALREADY_ACKNOWLEDGED',
        message: mine ? `You already acknowledged page ${page.id}; escalation has stopped.` : `Page ${page.id} is already acknowledged by someone else; escalation has stopped.`,
        by: page.acknowledgedBy,
        at: page.acknowledgedAt,
      },
    };
  }
  const next: P = { ...page, status: 'acknowledged', version: page.version + 1, acknowledgedAt: now, acknowledgedBy: by };
  return { ok: true, page: next, events: [{ type: 'acknowledged', pageId: page.id, at: now, by, version: next.version }] };
}

/** Closes a triggered or acknowledged page and stops escalation; resolving twice fails, page unchanged. */
export function resolve<P extends PageState>(page: P, by: string, now: number, note?: string | null): Transition<P> {
  if (page.status === 'resolved') return { ok: false, error: resolvedError(page, 'resolve') };
  const text = note?.trim() || null;
  if (text !== null && text.length > MAX_RESOLUTION_NOTE) {
    return { ok: false, error: { code: 'NOTE_TOO_LONG', message: `A resolution note is at most ${MAX_RESOLUTION_NOTE} characters; this one has ${text.length}.` } };
  }
  const next: P = { ...page, status: 'resolved', version: page.version + 1, resolvedAt: now, resolvedBy: by, resolutionNote: text };
  return { ok: true, page: next, events: [{ type: 'resolved', pageId: page.id, at: now, by, note: text, version: next.version }] };
}

/**
 * A trigger with the dedup key of an open page: counted on that page, nobody paged again.
 * Status, version and escalation are unchanged (an acknowledged page stays acknowledged).
 * A resolved page is not open: the caller opens a new page instead.
 */
export function reTrigger<P extends PageState>(page: P, now: number): Transition<P> {
  if (page.status === 'resolved') {
    return { ok: false, error: { code: 'NOT_OPEN', message: `Page ${page.id} is resolved; a new trigger opens a new page.`, by: page.resolvedBy, at: page.resolvedAt } };
  }
  const next: P = { ...page, triggerCount: page.triggerCount + 1, lastTriggeredAt: Math.max(page.lastTriggeredAt, now) };
  return { ok: true, page: next, events: [{ type: 'retriggered', pageId: page.id, at: now, count: next.triggerCount, status: page.status }] };
}

// ---------------------------------------------------------------------------------------------
// Contact methods

export type ContactKind = 'chat' | 'sms' | 'email';

export interface ContactMethod {
  id: string;
  kind: ContactKind;
  /** E.164 phone for sms, email address for email, null for chat (the member's Slack or Teams DM) */
  address: string | null;
  /** phones and emails are used only once verified with a code; chat is created verified */
  verified: boolean;
  /** after the member is notified: 0 is at once ("chat now, SMS after 2m, email after 5m") */
  delayMs: number;
}

const KIND_WORDS: Record<string, ContactKind> = {
  chat: 'chat', dm: 'chat', slack: 'chat', teams: 'chat',
  sms: 'sms', text: 'sms', phone: 'sms', mobile: 'sms',
  email: 'email', mail: 'email', 'e-mail': 'email',
};

export type ContactInputResult = { ok: true; method: Omit<ContactMethod, 'id' | 'verified'> } | { ok: false; error: string; field: 'kind' | 'address' | 'after' };

/** `/duty contact add <chat|sms|email> [address] [after=2m]`: validated, address normalised. */
export function parseContactInput(kind: string, address: string | null | undefined, after: string | null | undefined): ContactInputResult {
  const k = KIND_WORDS[kind.trim().toLowerCase()];
  if (!k) return { ok: false, field: 'kind', error: `"${shown(kind)}" is not a contact method; use chat, sms or email` };
  let delayMs = 0;
  if (after !== null && after !== undefined && after.trim() !== '') {
    const d = parseDuration(after, { allowZero: true, maxMs: MAX_CONTACT_DELAY_MS });
    if (!d.ok) return { ok: false, field: 'after', error: `after: ${d.error}` };
    delayMs = d.ms;
  }
  const a = address?.trim() ?? '';
  if (k === 'chat') {
    if (a !== '') return { ok: false, field: 'address', error: 'chat needs no address: it is your Slack or Teams direct message' };
    return { ok: true, method: { kind: k, address: null, delayMs } };
  }
  if (a === '') return { ok: false, field: 'address', error: k === 'sms' ? 'sms needs a phone number, e.g. +44 20 7946 0000' : 'email needs an address, e.g. name@example.org' };
  const r = (k === 'sms' ? phoneSchema : emailSchema).safeParse(a);
  if (!r.success) return { ok: false, field: 'address', error: `"${shown(a)}": ${r.error.issues[0]?.message ?? 'not valid'}` };
  return { ok: true, method: { kind: k, address: r.data, delayMs } };
}

/** A method the member already has (same kind and address), if any: adding it again is refused. */
export function findDuplicateContact<M extends Pick<ContactMethod, 'kind' | 'address'>>(methods: readonly M[], candidate: Pick<ContactMethod, 'kind' | 'address'>): M | null {
  return methods.find((m) => m.kind === candidate.kind && (m.address ?? '').toLowerCase() === (candidate.address ?? '').toLowerCase()) ?? null;
}

export interface ContactStep {
  method: ContactMethod;
  dueAt: number;
  /** `contact:<method id>`: the contact part of a delivery key */
  key: string;
}

export interface SkippedContact {
  method: ContactMethod;
  reason: 'unverified' | 'invalid-address';
}

export type ContactPlan =
  | { reachable: true; steps: ContactStep[]; skipped: SkippedContact[] }
  | { reachable: false; reason: 'no-methods' | 'none-usable'; message: string; steps: []; skipped: SkippedContact[] };

function addressValid(m: ContactMethod): boolean {
  if (m.kind === 'chat') return true;
  if (m.address === null) return false;
  return (m.kind === 'sms' ? phoneSchema : emailSchema).safeParse(m.address).success;
}

/**
 * When to try each of a member's contact methods, notified at `notifiedAt`: by due time, ties in
 * the member's own order. Unverified methods and bad addresses are skipped (and listed); with
 * nothing left the member is unreachable, a value the engine logs and escalates past.
 */
export function contactPlan(methods: readonly ContactMethod[], notifiedAt: number): ContactPlan {
  if (methods.length === 0) return { reachable: false, reason: 'no-methods', message: 'has no contact methods', steps: [], skipped: [] };
  const skipped: SkippedContact[] = [];
  const usable: { m: ContactMethod; order: number }[] = [];
  const seen = new Set<string>();
  methods.forEach((m, order) => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    if (!m.verified) skipped.push({ method: m, reason: 'unverified' });
    else if (!addressValid(m)) skipped.push({ method: m, reason: 'invalid-address' });
    else usable.push({ m, order });
  });
  if (usable.length === 0) return { reachable: false, reason: 'none-usable', message: 'has no verified contact method', steps: [], skipped };
  usable.sort((a, b) => a.m.delayMs - b.m.delayMs || a.order - b.order);
  return {
    reachable: true,
    steps: usable.map(({ m }) => ({ method: m, dueAt: notifiedAt + Math.max(0, m.delayMs), key: `contact:${m.id}` })),
    skipped,
  };
}
