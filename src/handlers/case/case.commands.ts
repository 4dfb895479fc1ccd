// /case: open, list, show, assign, note, change status, close, reopen.
import { z } from 'zod/v4';
import {
  CASE_CATEGORIES,
  CASE_PRIORITIES,
  CATEGORY_LABELS,
  checkDateOfBirth,
  CONSENT_VALUES,
  FULL_DETAIL_ROLES,
  maySeeFullDetails,
  MAX_CONTACT_DETAILS,
  MAX_FULL_NAME,
  MAX_LOCATION_FIELD,
  MAX_NATIONALITY,
  MAX_RELATIONSHIP,
  MAX_SUMMARY,
  noteSchema,
  OPEN_STATUSES,
  outcomeSchema,
  parseCaseRef,
  parseCategory,
  parsePriority,
  parseStatus,
  PRIORITY_DESCRIPTIONS,
  reasonSchema,
  REPORTER_KINDS,
  REPORTER_LABELS,
  STATUS_LABELS,
  type CaseAction,
  type CaseCategory,
  type CasePriority,
  type CaseStatus,
  caseSubjectSchema,
  categorySchema,
  consentSchema,
  formatCaseRef,
  prioritySchema,
  reporterKindSchema,
  summarySchema,
} from '../../domain/case';
import { parseMemberRef, type Member } from '../../domain/member';
import { failure, message, type MessageReply } from '../../domain/reply';
import type { Role } from '../../domain/roles';
import type { CaseFilter, CaseRecord } from '../../store/case.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { MemberNames, viewerZone } from '../roster/roster-common';
import { caseCard, caseDetails, caseRow, statusLabel } from './case-view';
import { addNote, assignCase, openCase, transitionCase, type CaseDeps, type CaseResult } from './case.service';
import { erasureNotice } from '../duty/retention.commands';

/** Who works cases. Admins run the desk but see no personal data unless they also hold one of these. */
export const CASE_ROLES: readonly Role[] = ['officer', 'crisis', 'leader', 'admin'];
const LIST_LIMIT = 25;

export const caseRefInput = z
  .string({ error: 'which case? e.g. C-2026-00042' })
  .trim()
  .transform((s, ctx) => {
    const r = parseCaseRef(s);
    if (!r) {
      ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 30)}" is not a case reference; they look like C-2026-00042` });
      return z.NEVER;
    }
    return formatCaseRef(r.year, r.n);
  });

const versionInput = z.coerce.number({ error: 'a version number' }).int({ error: 'a version number' }).positive({ error: 'a version number' }).optional();

function actorOf(ctx: HandlerContext): Member {
  if (!ctx.actor) throw new CommandError('NOT_REGISTERED', 'You are not registered with Duty Desk.');
  return ctx.actor;
}

function by(ctx: HandlerContext): { id: string; name: string } {
  const a = actorOf(ctx);
  return { id: a.id, name: a.displayName };
}

/** The outcome of a change: the card as it now is, or why not (with the current state when it moved on). */
async function resultReply(ctx: HandlerContext, r: CaseResult, done: (c: CaseRecord) => string): Promise<MessageReply> {
  const names = await MemberNames.load(ctx.store);
  const tz = viewerZone(ctx);
  const now = ctx.now.getTime();
  if (r.ok) return { ...caseCard(r.case, names, tz, now), title: done(r.case), visibility: 'caller' };
  const f = failure(r.error.code, r.error.message, r.error.fields);
  if (!r.current) return f;
  const card = caseCard(r.current, names, tz, now);
  return { ...f, title: card.title, fields: card.fields, buttons: card.buttons };
}

// ---------------------------------------------------------------------------------------------
// /case new

const optionalText = (max: number, what: string) => z.string().trim().max(max, { error: `${what} is at most ${max} characters` }).optional();

export const caseNewCommand = defineCommand({
  key: 'case new',
  summary: 'log an urgent consular case (opens a form without arguments)',
  usage: '/case new category=… priority=P1..P4 name="…" reporter=… summary="…" [dob=YYYY-MM-DD] [nationality=] [passport=] [city=] [country=] [location=] [contact=] [nok_name=] [nok_relationship=] [nok_phone=] [nok_email=] [consent=yes|no|unknown] [assignee=@member] [crisis=CODE]',
  allowed: CASE_ROLES,
  form: {
    title: 'Log a case',
    submitLabel: 'Log case',
    fields: [
      { name: 'category', label: 'Category', type: 'select', required: true, options: CASE_CATEGORIES.map((c) => ({ value: c, label: CATEGORY_LABELS[c] })) },
      { name: 'priority', label: 'Priority', type: 'select', required: true, options: CASE_PRIORITIES.map((p) => ({ value: p, label: `${p}: ${PRIORITY_DESCRIPTIONS[p]}`.slice(0, 75) })) },
      { name: 'name', label: 'Full name of the person', type: 'text', required: true, maxLength: MAX_FULL_NAME },
      { name: 'summary', label: 'What happened', type: 'longText', required: true, maxLength: MAX_SUMMARY },
      { name: 'reporter', label: 'Reported by', type: 'select', required: true, options: REPORTER_KINDS.map((r) => ({ value: r, label: REPORTER_LABELS[r] })) },
      { name: 'reporter_detail', label: 'Reporter details', type: 'text', required: false, maxLength: 200, help: 'Who exactly, e.g. the police station or hospital' },
      { name: 'dob', label: 'Date of birth', type: 'date', required: false },
      { name: 'nationality', label: 'Nationality', type: 'text', required: false, maxLength: MAX_NATIONALITY },
      { name: 'passport', label: 'Passport number', type: 'text', required: false, maxLength: 30 },
      { name: 'city', label: 'City', type: 'text', required: false, maxLength: MAX_LOCATION_FIELD },
      { name: 'country', label: 'Country', type: 'text', required: false, maxLength: MAX_LOCATION_FIELD },
      { name: 'location', label: 'Where exactly', type: 'text', required: false, maxLength: MAX_LOCATION_FIELD, help: 'Hospital, police station, address' },
      { name: 'contact', label: 'How to reach them', type: 'longText', required: false, maxLength: MAX_CONTACT_DETAILS },
      { name: 'nok_name', label: 'Next of kin: name', type: 'text', required: false, maxLength: MAX_FULL_NAME },
      { name: 'nok_relationship', label: 'Next of kin: relationship', type: 'text', required: false, maxLength: MAX_RELATIONSHIP },
      { name: 'nok_phone', label: 'Next of kin: phone', type: 'text', required: false, maxLength: 30, placeholder: '+44 20 7946 0000' },
      { name: 'nok_email', label: 'Next of kin: email', type: 'text', required: false, maxLength: 200 },
      { name: 'consent', label: 'Consent to share with next of kin', type: 'select', required: false, options: CONSENT_VALUES.map((c) => ({ value: c, label: c })) },
      { name: 'assignee', label: 'Assign to', type: 'user', required: false },
      { name: 'crisis', label: 'Crisis code', type: 'text', required: false, maxLength: 20, help: 'When the case belongs to a crisis, e.g. NPL-EQ' },
    ],
  },
  // Raw text here; run() checks every field and reports all problems at once, beside their fields.
  input: z.strictObject({
    category: z.string().optional(),
    priority: z.string().optional(),
    name: z.string().optional(),
    summary: z.string().optional(),
    reporter: z.string().optional(),
    reporter_detail: z.string().optional(),
    dob: z.string().optional(),
    nationality: z.string().optional(),
    passport: z.string().optional(),
    city: z.string().optional(),
    country: z.string().optional(),
    location: z.string().optional(),
    contact: z.string().optional(),
    nok_name: z.string().optional(),
    nok_relationship: z.string().optional(),
    nok_phone: z.string().optional(),
    nok_email: z.string().optional(),
    consent: z.string().optional(),
    assignee: z.string().optional(),
    crisis: z.string().optional(),
  }),
  async run(ctx, input) {
    const actor = by(ctx);
    const fields: Record<string, string> = {};
    const check = <T>(field: string, schema: z.ZodType<T>, value: unknown, missing?: string): T | undefined => {
      if (missing && (value === undefined || (typeof value === 'string' && value.trim() === ''))) {
        fields[field] = missing;
        return undefined;
      }
      const r = schema.safeParse(value);
      if (r.success) return r.data;
      fields[field] = r.error.issues[0]?.message ?? 'not valid';
      return undefined;
    };
    const category = check('category', categorySchema, input.category, 'the category is required');
    const priority = check('priority', prioritySchema, input.priority, 'the priority is required: P1, P2, P3 or P4');
    const summary = check('summary', summarySchema, input.summary, 'say what happened, in a few sentences');
    const reporter = check('reporter', reporterKindSchema, input.reporter, 'say who reported it');
    const reporterDetail = check('reporter_detail', optionalText(200, 'reporter details'), input.reporter_detail);
    const consent = check('consent', consentSchema.optional(), input.consent);
    if (!input.name?.trim()) fields.name = 'the full name of the person is required';
    // The subject as one object, so each problem is reported beside its own field.
    const nokGiven = Boolean(input.nok_name || input.nok_phone || input.nok_email || input.nok_relationship);
    const subject = caseSubjectSchema.safeParse({
      fullName: input.name ?? '',
      dateOfBirth: input.dob,
      nationality: input.nationality,
      passportNumber: input.passport,
      location: { city: input.city, country: input.country, details: input.location },
      contactDetails: input.contact,
      nextOfKin: nokGiven ? { name: input.nok_name ?? '', relationship: input.nok_relationship, phone: input.nok_phone, email: input.nok_email } : null,
    });
    if (!subject.success) {
      const names: Record<string, string> = { fullName: 'name', dateOfBirth: 'dob', nationality: 'nationality', passportNumber: 'passport', contactDetails: 'contact' };
      const nested: Record<string, string> = { city: 'city', country: 'country', details: 'location', name: 'nok_name', relationship: 'nok_relationship', phone: 'nok_phone', email: 'nok_email' };
      for (const issue of subject.error.issues) {
        const [a, b] = issue.path.map(String);
        const k = a === 'location' || a === 'nextOfKin' ? (nested[b ?? ''] ?? a) : (names[a ?? ''] ?? a ?? '_');
        fields[k] ??= issue.message;
      }
    }
    if (input.dob?.trim()) {
      const problem = checkDateOfBirth(input.dob, ctx.now.getTime(), ctx.settings.missionTimeZone);
      if (problem) fields.dob ??= problem;
    }
    let assignee: Member | null = null;
    if (input.assignee) {
      const r = await assigneeOf(ctx, input.assignee);
      if (typeof r === 'string') fields.assignee = r;
      else assignee = r;
    }
    let crisisId: string | null = null;
    if (input.crisis?.trim()) {
      const crisis = await ctx.store.crises.byCode(input.crisis.trim());
      if (!crisis) fields.crisis = `there is no crisis ${input.crisis.trim().slice(0, 20)}; see /crisis list`;
      else crisisId = crisis.id;
    }
    if (Object.keys(fields).length || !subject.success || !category || !priority || !summary || !reporter) {
      throw new CommandError('INVALID_INPUT', `The case was not saved: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ')}.`, fields);
    }
    const c = await openCase(
      caseDeps(ctx),
      ctx.meta,
      {
        category,
        priority,
        summary,
        reporter,
        reporterDetail: reporterDetail || null,
        consent: consent ?? 'unknown',
        subject: subject.data,
        assigneeId: assignee?.id ?? null,
        crisisId,
      },
      actor,
      ctx.now,
    );
    const names = await MemberNames.load(ctx.store);
    const card = caseCard(c, names, viewerZone(ctx), ctx.now.getTime());
    return {
      ...card,
      title: `Case ${c.ref} logged`,
      text: `${card.text ?? ''}${c.cardChannel ? '' : '\nNo duty channel is set, so no card was posted: an admin can set one with /case channel #channel.'}`,
      visibility: 'caller',
    };
  },
});

/** The member to assign, or why not: they must work cases (officer, crisis or leader). */
async function assigneeOf(ctx: HandlerContext, token: string): Promise<Member | string> {
  const t = token.trim();
  const ref = t.toLowerCase() === 'me' ? null : parseMemberRef(t);
  const m = t.toLowerCase() === 'me' ? actorOf(ctx) : ref ? await ctx.store.members.resolve(ref) : null;
  if (!m || m.removedAt) return `no member ${t.slice(0, 40)}; check /duty member list`;
  if (!maySeeFullDetails(m.roles)) return `${m.displayName} has no case role (${FULL_DETAIL_ROLES.join(', ')}); an admin can grant one with /duty role grant`;
  return m;
}

// ---------------------------------------------------------------------------------------------
// /case list

interface ListQuery {
  filter: CaseFilter;
  order: 'priority' | 'newest';
  label: string;
}

function listQuery(words: string[], me: string): ListQuery | string {
  const filter: CaseFilter = { statuses: [...OPEN_STATUSES] };
  let order: ListQuery['order'] = 'priority';
  const label: string[] = [];
  for (const raw of words) {
    const w = raw.toLowerCase();
    const [k, v] = w.includes('=') ? [w.slice(0, w.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [null, raw];
    if (k === 'category') {
      const c = parseCategory(v);
      if (!c) return `"${v.slice(0, 30)}" is not a category; use one of ${CASE_CATEGORIES.join(', ')}`;
      filter.category = c;
      label.push(CATEGORY_LABELS[c]);
    } else if (k === 'status') {
      const s = parseStatus(v);
      if (!s) return `"${v.slice(0, 30)}" is not a status; use one of ${Object.keys(STATUS_LABELS).join(', ')}`;
      filter.statuses = [s];
      label.push(STATUS_LABELS[s]);
    } else if (k !== null) {
      return `unknown filter "${k.slice(0, 20)}"; use mine, open, all, P1..P4, category=… or status=…`;
    } else if (w === 'mine') {
      filter.assigneeId = me;
      label.push('assigned to you');
    } else if (w === 'open') {
      filter.statuses = [...OPEN_STATUSES];
    } else if (w === 'all') {
      delete filter.statuses;
      order = 'newest';
      label.push('all');
    } else if (parsePriority(w) && /^p?[1-4]$/i.test(w)) {
      filter.priority = parsePriority(w) as CasePriority;
      label.push(filter.priority);
    } else {
      const c = parseCategory(raw);
      if (!c) return `"${raw.slice(0, 30)}" is not a filter; use mine, open, all, P1..P4, category=… or status=…`;
      filter.category = c;
      label.push(CATEGORY_LABELS[c]);
    }
  }
  if (filter.statuses?.length === OPEN_STATUSES.length) label.unshift('open');
  return { filter, order, label: label.join(', ') || 'open' };
}

export const caseListCommand = defineCommand({
  key: 'case list',
  summary: 'cases: open (default), mine, all, by priority or category',
  usage: '/case list [mine|open|all|P1..P4|category=…|status=…]',
  allowed: CASE_ROLES,
  rest: 'filter',
  input: z.strictObject({ filter: z.string().max(200).optional(), category: z.string().max(60).optional(), status: z.string().max(60).optional() }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const words = (input.filter ?? '').split(/\s+/).filter(Boolean);
    if (input.category) words.push(`category=${input.category}`);
    if (input.status) words.push(`status=${input.status}`);
    const q = listQuery(words, actor.id);
    if (typeof q === 'string') throw new CommandError('INVALID_INPUT', `${q}.`, { filter: q });
    const [{ rows, total }, names] = await Promise.all([ctx.store.cases.list(q.filter, q.order, LIST_LIMIT), MemberNames.load(ctx.store)]);
    const tz = viewerZone(ctx);
    if (!rows.length) return message({ title: `Cases (${q.label})`, text: 'No cases match.' });
    const now = ctx.now.getTime();
    return message({
      title: `Cases (${q.label}): ${total}`,
      text: total > rows.length ? `The ${rows.length} ${q.order === 'priority' ? 'most urgent' : 'newest'} of ${total}; narrow with mine, P1, category=… or status=….` : undefined,
      rows: rows.map((c) => caseRow(c, names, tz, now)),
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /case show

export const caseShowCommand = defineCommand({
  key: 'case show',
  summary: 'a case in full (privately; every view is audited)',
  usage: '/case show <ref>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  input: z.strictObject({ ref: caseRefInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const c = await ctx.store.cases.byRef(input.ref);
    if (!c) throw new CommandError('UNKNOWN_CASE', `There is no case ${input.ref}. Check /case list.`);
    const names = await MemberNames.load(ctx.store);
    const tz = viewerZone(ctx);
    const now = ctx.now.getTime();
    if (!maySeeFullDetails(actor.roles)) {
      const card = caseCard(c, names, tz, now);
      return { ...card, visibility: 'caller', text: `${card.text ?? ''}\nFull details are for the ${FULL_DETAIL_ROLES.join(', ')} roles.` };
    }
    const [notes, events] = await Promise.all([ctx.store.cases.notes(c.id), ctx.store.cases.events(c.id)]);
    // Reading personal data is recorded like changing it.
    await ctx.store.change(ctx.meta, (w) => w.audit('case', c.id, 'view', null, { ref: c.ref, fields: 'full details' }));
    const crisis = c.crisisId ? await ctx.store.crises.byId(c.crisisId) : null;
    const details = caseDetails(c, notes, events, names, tz, now, crisis?.code ?? null);
    const erased = await erasureNotice(ctx.store, 'case', c.id, ctx.settings.missionTimeZone);
    return erased ? { ...details, text: erased } : details;
  },
});

// ---------------------------------------------------------------------------------------------
// Assign, note, status, resolve, close, reopen

export const caseAssignCommand = defineCommand({
  key: 'case assign',
  summary: 'assign a case to a member with a case role (me, @member, or nobody)',
  usage: '/case assign <ref> <@member|me|nobody>',
  allowed: CASE_ROLES,
  positional: ['ref', 'member'],
  input: z.strictObject({ ref: caseRefInput, member: z.string({ error: 'whom to assign: @member, me or nobody' }).trim().min(1), version: versionInput }),
  async run(ctx, input) {
    let assignee: { id: string; name: string } | null = null;
    if (input.member.toLowerCase() !== 'nobody') {
      const m = await assigneeOf(ctx, input.member);
      if (typeof m === 'string') throw new CommandError('INVALID_ASSIGNEE', `Not assigned: ${m}.`, { member: m });
      assignee = { id: m.id, name: m.displayName };
    }
    const r = await assignCase(caseDeps(ctx), ctx.meta, input.ref, assignee, by(ctx), ctx.now, input.version);
    return resultReply(ctx, r, (c) => (assignee ? `Case ${c.ref} assigned to ${assignee.name}` : `Case ${c.ref} unassigned`));
  },
});

function caseDeps(ctx: HandlerContext): CaseDeps {
  return { store: ctx.store, outbox: ctx.outbox, logger: ctx.logger, missionTimeZone: ctx.settings.missionTimeZone };
}

export const caseNoteCommand = defineCommand({
  key: 'case note',
  summary: 'add a note to a case (counts as an update)',
  usage: '/case note <ref> <text>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  rest: 'text',
  form: { title: 'Add a note', submitLabel: 'Add note', fields: [{ name: 'ref', label: 'Case', type: 'text', required: true, maxLength: 20 }, { name: 'text', label: 'Note', type: 'longText', required: true, maxLength: 3000 }] },
  input: z.strictObject({ ref: caseRefInput, text: noteSchema }),
  async run(ctx, input) {
    const r = await addNote(caseDeps(ctx), ctx.meta, input.ref, input.text, by(ctx), ctx.now);
    if (!r.ok) return failure(r.error.code, r.error.message);
    return message({ title: `Note added to ${r.case.ref}`, text: input.text.length > 200 ? `${input.text.slice(0, 200)}…` : input.text });
  },
});

const STATUS_WORDS = 'acknowledged, in-progress, waiting, resolved, closed';

export const caseStatusCommand = defineCommand({
  key: 'case status',
  summary: 'move a case: acknowledged, in-progress, waiting (on a third party), resolved, closed',
  usage: '/case status <ref> <status> [reason or outcome]',
  allowed: CASE_ROLES,
  positional: ['ref', 'status'],
  rest: 'reason',
  input: z.strictObject({
    ref: caseRefInput,
    status: z.string({ error: `which status? ${STATUS_WORDS}` }).transform((s, c) => {
      const st = parseStatus(s);
      if (!st || st === 'new') {
        c.addIssue({ code: 'custom', message: `"${s.slice(0, 30)}" is not a status to move to; use ${STATUS_WORDS}` });
        return z.NEVER;
      }
      return st;
    }),
    reason: z.string().max(1000, { error: 'at most 1000 characters' }).optional(),
    outcome: z.string().max(1000, { error: 'at most 1000 characters' }).optional(),
    version: versionInput,
  }),
  async run(ctx, input) {
    const action = actionFor(input.status, input.outcome ?? input.reason ?? null);
    const r = await transitionCase(caseDeps(ctx), ctx.meta, input.ref, action, by(ctx), ctx.now, input.version);
    if (!r.ok && r.error.code === 'OUTCOME_REQUIRED') r.error.fields = { outcome: 'an outcome is required: what was done' };
    return resultReply(ctx, r, (c) => `Case ${c.ref}: ${statusLabel(c.status)}`);
  },
});

function actionFor(status: Exclude<CaseStatus, 'new'>, text: string | null): CaseAction {
  switch (status) {
    case 'acknowledged':
      return { kind: 'acknowledge' };
    case 'in-progress':
    case 'waiting':
      return { kind: 'set-status', status, reason: text };
    case 'resolved':
      return { kind: 'resolve', outcome: text ?? '' };
    case 'closed':
      return { kind: 'close', outcome: text };
  }
}

export const caseAckCommand = defineCommand({
  key: 'case ack',
  summary: 'acknowledge a case: you have it',
  usage: '/case ack <ref>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  input: z.strictObject({ ref: caseRefInput, version: versionInput }),
  async run(ctx, input) {
    const r = await transitionCase(caseDeps(ctx), ctx.meta, input.ref, { kind: 'acknowledge' }, by(ctx), ctx.now, input.version);
    return resultReply(ctx, r, (c) => `Case ${c.ref} acknowledged`);
  },
});

const outcomeForm = (title: string, submitLabel: string) => ({
  title,
  submitLabel,
  fields: [
    { name: 'ref', label: 'Case', type: 'text' as const, required: true, maxLength: 20 },
    { name: 'outcome', label: 'Outcome: what was done', type: 'longText' as const, required: true, maxLength: 1000 },
  ],
});

export const caseResolveCommand = defineCommand({
  key: 'case resolve',
  summary: 'resolve a case with its outcome',
  usage: '/case resolve <ref> outcome=<text>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  rest: 'outcome',
  form: outcomeForm('Resolve a case', 'Resolve'),
  input: z.strictObject({ ref: caseRefInput, outcome: outcomeSchema, version: versionInput }),
  async run(ctx, input) {
    const r = await transitionCase(caseDeps(ctx), ctx.meta, input.ref, { kind: 'resolve', outcome: input.outcome }, by(ctx), ctx.now, input.version);
    return resultReply(ctx, r, (c) => `Case ${c.ref} resolved`);
  },
});

export const caseCloseCommand = defineCommand({
  key: 'case close',
  summary: 'close a case (an outcome is required unless it was resolved with one)',
  usage: '/case close <ref> outcome=<text>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  rest: 'outcome',
  input: z.strictObject({ ref: caseRefInput, outcome: z.string().max(1000, { error: 'at most 1000 characters' }).optional(), version: versionInput }),
  async run(ctx, input) {
    const r = await transitionCase(caseDeps(ctx), ctx.meta, input.ref, { kind: 'close', outcome: input.outcome ?? null }, by(ctx), ctx.now, input.version);
    if (!r.ok && r.error.code === 'OUTCOME_REQUIRED') r.error.fields = { outcome: 'an outcome is required: what was done' };
    return resultReply(ctx, r, (c) => `Case ${c.ref} closed`);
  },
});

export const caseReopenCommand = defineCommand({
  key: 'case reopen',
  summary: 'reopen a resolved or closed case, with the reason',
  usage: '/case reopen <ref> reason=<text>',
  allowed: CASE_ROLES,
  positional: ['ref'],
  rest: 'reason',
  form: { title: 'Reopen a case', submitLabel: 'Reopen', fields: [{ name: 'ref', label: 'Case', type: 'text', required: true, maxLength: 20 }, { name: 'reason', label: 'Why reopen it', type: 'longText', required: true, maxLength: 1000 }] },
  input: z.strictObject({ ref: caseRefInput, reason: reasonSchema }),
  async run(ctx, input) {
    const r = await transitionCase(caseDeps(ctx), ctx.meta, input.ref, { kind: 'reopen', reason: input.reason }, by(ctx), ctx.now);
    return resultReply(ctx, r, (c) => `Case ${c.ref} reopened`);
  },
});

export const caseCommands = [
  caseNewCommand,
  caseListCommand,
  caseShowCommand,
  caseAssignCommand,
  caseNoteCommand,
  caseAckCommand,
  caseStatusCommand,
  caseResolveCommand,
  caseCloseCommand,
  caseReopenCommand,
];

export type { CaseCategory };
