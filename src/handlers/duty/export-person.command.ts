// /duty export-person: a data-protection subject access request. Everything Duty Desk holds about
// one person — their record(s) with every field, status reports, calls, seats on movements,
// duplicate decisions, cases with the same passport (and the case asked about, with its notes and
// history), and the audit entries about each of those — as a JSON file (keys sorted, ISO dates) and
// a PDF of the same, sent privately. The export is itself audited (action "subject-access").
import { z } from 'zod/v4';
import { formatCaseRef, parseCaseRef } from '../../domain/case';
import { message, type ReplyAttachment } from '../../domain/reply';
import { formatInZone } from '../../domain/time';
import type { CaseEventRecord, CaseNoteRecord, CaseRecord } from '../../store/case.repository';
import type { ContactAttemptRecord, PersonNoteRecord, PersonRecord } from '../../store/crisis.repository';
import { SubjectAccessRepository, type AuditRow, type DuplicateRow, type SeatRow } from '../../store/retention.repository';
import type { Store } from '../../store/store';
import { CommandError, defineCommand } from '../command';
import { renderPdf, type PdfBlock } from '../report/pdf';
import { MemberNames } from '../roster/roster-common';

export const SUBJECT_ACCESS_FORMAT = 'duty-desk-subject-access/1';

/** Person number (1234, #1234) or case reference (C-2026-00042). */
const subjectInput = z
  .string({ error: 'whose data? a person number (1234) or a case reference (C-2026-00042)' })
  .trim()
  .transform((s, ctx): { kind: 'person'; number: number } | { kind: 'case'; ref: string } => {
    if (/^#?\d{1,9}$/.test(s)) return { kind: 'person', number: Number(s.replace('#', '')) };
    const ref = parseCaseRef(s);
    if (ref) return { kind: 'case', ref: formatCaseRef(ref.year, ref.n) };
    ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 30)}" is neither a person number (1234) nor a case reference (C-2026-00042)` });
    return z.NEVER;
  });

// Every field of the records, in the repositories' terms (the hash columns are keyed digests of
// fields already exported, so they are left out).
const PERSON_FIELDS = [
  'id', 'number', 'crisisId', 'fullName', 'givenName', 'familyName', 'alternateNames', 'nameKey', 'sex', 'dateOfBirth', 'age', 'nationality', 'passportNumber',
  'homeStreet', 'homeNeighborhood', 'homeCity', 'homeState', 'homePostalCode', 'homeCountry', 'location', 'latitude', 'longitude', 'phone', 'email',
  'nokName', 'nokRelationship', 'nokPhone', 'nokEmail', 'description', 'needs', 'household', 'status', 'statusAt', 'source', 'sourceId', 'sourceDate', 'pfif',
  'mergedIntoId', 'version', 'createdAt', 'updatedAt',
] as const satisfies readonly (keyof PersonRecord)[];

const CASE_FIELDS = [
  'id', 'ref', 'year', 'number', 'category', 'priority', 'status', 'version', 'subjectName', 'subjectInitials', 'dateOfBirth', 'nationality', 'passportNumber',
  'contactDetails', 'nokName', 'nokRelationship', 'nokPhone', 'nokEmail', 'city', 'country', 'location', 'reporter', 'reporterDetail', 'summary', 'consent',
  'assigneeId', 'crisisId', 'outcome', 'openedAt', 'openedById', 'acknowledgedAt', 'acknowledgedById', 'resolvedAt', 'resolvedById', 'closedAt', 'closedById',
  'ackDueAt', 'updateDueAt', 'lastUpdateAt', 'card', 'cardChannel', 'updatedAt',
] as const satisfies readonly (keyof CaseRecord)[];

function pick<T extends object, K extends keyof T>(record: T, keys: readonly K[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, record[k] ?? null]));
}

/** Sorted keys at every level, dates as ISO 8601 text: the same data gives the same bytes. */
export function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

function parsedJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

interface PersonSection {
  reason: string;
  crisis: { code: string; name: string } | null;
  record: PersonRecord;
  erasedAt: Date | null;
  notes: PersonNoteRecord[];
  attempts: ContactAttemptRecord[];
  seats: SeatRow[];
  duplicates: DuplicateRow[];
}

interface CaseSection {
  reason: string;
  record: CaseRecord;
  erasedAt: Date | null;
  notes: CaseNoteRecord[];
  events: CaseEventRecord[];
}

export interface SubjectAccess {
  request: string;
  people: PersonSection[];
  cases: CaseSection[];
  audit: AuditRow[];
  numbers: Map<string, number>;
}

/** Gathers everything about the subject; null when the person or case does not exist. */
export async function gatherSubject(store: Store, subject: { kind: 'person'; number: number } | { kind: 'case'; ref: string }): Promise<SubjectAccess | null> {
  const sar = new SubjectAccessRepository(store.db);
  const people = new Map<string, string>();
  const cases = new Map<string, string>();
  let passport: { value: string; hash: string | null } | null = null;

  if (subject.kind === 'person') {
    const p = await store.crises.personByNumber(subject.number);
    if (!p) return null;
    people.set(p.id, 'requested');
    for (const id of await sar.mergedInto(p.id)) people.set(id, `merged into #${p.number} as the same person`);
    if (p.passportNumber) passport = { value: p.passportNumber, hash: (await sar.personExtras(p.id))?.passportHash ?? null };
  } else {
    const c = await store.cases.byRef(subject.ref);
    if (!c) return null;
    cases.set(c.id, 'requested');
    if (c.passportNumber) passport = { value: c.passportNumber, hash: (await sar.caseExtras(c.id))?.passportHash ?? null };
  }
  if (passport) {
    // The repositories' own blind indexes (every readable key), and the one stored on the record.
    const hashes = new Set(store.cipher.blindIndexes('passport', passport.value));
    if (passport.hash) hashes.add(passport.hash);
    const same = await sar.byPassport(passport.value, [...hashes]);
    for (const id of same.personIds) if (!people.has(id)) people.set(id, 'same passport');
    for (const id of same.caseIds) if (!cases.has(id)) cases.set(id, 'same passport');
  }

  const personIds = [...people.keys()];
  const [seats, duplicates] = await Promise.all([sar.seats(personIds), sar.duplicates(personIds)]);
  const personSections: PersonSection[] = [];
  for (const [id, reason] of people) {
    const record = await store.crises.personById(id);
    if (!record) continue;
    const [crisis, notes, attempts, extras] = await Promise.all([store.crises.byId(record.crisisId), store.crises.notes(id), store.crises.attempts(id), sar.personExtras(id)]);
    personSections.push({
      reason,
      crisis: crisis ? { code: crisis.code, name: crisis.name } : null,
      record,
      erasedAt: extras?.erasedAt ?? null,
      notes,
      attempts,
      seats: seats.filter((s) => s.personId === id),
      duplicates: duplicates.filter((d) => d.personAId === id || d.personBId === id),
    });
  }
  const caseSections: CaseSection[] = [];
  for (const [id, reason] of cases) {
    const record = await store.cases.byId(id);
    if (!record) continue;
    const [notes, events, extras] = await Promise.all([store.cases.notes(id), store.cases.events(id), sar.caseExtras(id)]);
    caseSections.push({ reason, record, erasedAt: extras?.erasedAt ?? null, notes, events });
  }
  const others = duplicates.flatMap((d) => [d.personAId, d.personBId]);
  const numbers = await sar.personNumbers([...new Set([...personIds, ...others])]);
  const duplicateIds = [...new Set(duplicates.map((d) => d.id))];
  const audit = await sar.auditAbout(
    [
      ...personSections.map((p) => ({ entity: 'person', entityId: p.record.id })),
      ...caseSections.map((c) => ({ entity: 'case', entityId: c.record.id })),
      ...duplicateIds.map((id) => ({ entity: 'duplicate', entityId: id })),
    ],
    personIds,
  );
  const request = subject.kind === 'person' ? `person #${subject.number}` : `case ${subject.ref}`;
  return { request, people: personSections, cases: caseSections, audit, numbers };
}

/** The JSON document (before canonical ordering). */
export function subjectDocument(s: SubjectAccess, at: Date, by: string, names: MemberNames): Record<string, unknown> {
  const numberOf = (id: string): number | null => s.numbers.get(id) ?? null;
  return {
    export: { format: SUBJECT_ACCESS_FORMAT, request: s.request, at, by },
    people: s.people.map((p) => ({
      reason: p.reason,
      crisis: p.crisis,
      record: { ...pick(p.record, PERSON_FIELDS), erasedAt: p.erasedAt },
      statusReports: p.notes,
      contactAttempts: p.attempts,
      movementSeats: p.seats.map(({ personId: _personId, ...rest }) => rest),
      duplicateDecisions: p.duplicates.map((d) => {
        const other = d.personAId === p.record.id ? d.personBId : d.personAId;
        return { id: d.id, otherPerson: numberOf(other), score: d.score, reasons: parsedJson(d.reasons), status: d.status, decidedBy: d.decidedById ? names.short(d.decidedById) : null, decidedAt: d.decidedAt, createdAt: d.createdAt };
      }),
    })),
    cases: s.cases.map((c) => ({ reason: c.reason, record: { ...pick(c.record, CASE_FIELDS), erasedAt: c.erasedAt }, notes: c.notes, history: c.events })),
    auditEntries: s.audit.map((e) => ({ ...e, before: parsedJson(e.before), after: parsedJson(e.after) })),
  };
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function keyValues(record: Record<string, unknown>): PdfBlock {
  return { kind: 'keyValues', pairs: Object.entries(record).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length)).map(([key, value]) => ({ key, value: text(value) })) };
}

function table(headers: string[], rows: string[][], none: string): PdfBlock {
  return rows.length ? { kind: 'table', table: { headers, rows } } : { kind: 'paragraph', text: none };
}

/** The same content as the JSON, laid out for reading. */
export function subjectPdfBlocks(s: SubjectAccess, at: Date, by: string, timeZone: string, names: MemberNames): PdfBlock[] {
  const t = (d: Date | null): string => (d ? formatInZone(d, timeZone) : '');
  const blocks: PdfBlock[] = [
    { kind: 'keyValues', pairs: [{ key: 'Request', value: s.request }, { key: 'Exported', value: `${t(at)} by ${by}` }, { key: 'Contents', value: `${s.people.length} person records, ${s.cases.length} cases, ${s.audit.length} audit entries` }] },
    { kind: 'paragraph', text: 'Everything Duty Desk holds about this person: their records, reports, calls, seats, duplicate decisions, cases with the same passport, and the audit entries about each. The JSON file beside this one has the same data for machines.' },
  ];
  for (const p of s.people) {
    blocks.push({ kind: 'heading', text: `Person #${p.record.number}${p.crisis ? ` (${p.crisis.code})` : ''}: ${p.reason}`, level: 1 });
    if (p.erasedAt) blocks.push({ kind: 'banner', text: `Personal data erased under the retention policy on ${t(p.erasedAt)}` });
    blocks.push(keyValues(pick(p.record, PERSON_FIELDS)));
    blocks.push({ kind: 'heading', text: 'Status reports', level: 2 });
    blocks.push(table(['Source time', 'Status', 'By', 'Text', 'Location'], p.notes.map((n) => [t(n.sourceAt), n.status ?? '', n.authorName, n.text ?? '', n.lastKnownLocation ?? '']), 'None.'));
    blocks.push({ kind: 'heading', text: 'Calls', level: 2 });
    blocks.push(table(['When', 'Outcome', 'By'], p.attempts.map((a) => [t(a.at), a.outcome, a.byName]), 'None.'));
    blocks.push({ kind: 'heading', text: 'Movements', level: 2 });
    blocks.push(table(['Movement', 'Departs', 'State', 'Assigned'], p.seats.map((x) => [`${x.movementNumber} ${x.movementName} (${x.movementKind})`, t(x.departureAt), x.state, t(x.assignedAt)]), 'None.'));
    blocks.push({ kind: 'heading', text: 'Duplicate decisions', level: 2 });
    blocks.push(
      table(
        ['With', 'Score', 'Status', 'Decided'],
        p.duplicates.map((d) => {
          const other = d.personAId === p.record.id ? d.personBId : d.personAId;
          return [`#${s.numbers.get(other) ?? '?'}`, String(d.score), d.status, d.decidedAt ? `${t(d.decidedAt)} ${d.decidedById ? names.short(d.decidedById) : ''}` : ''];
        }),
        'None.',
      ),
    );
  }
  for (const c of s.cases) {
    blocks.push({ kind: 'heading', text: `Case ${c.record.ref}: ${c.reason}`, level: 1 });
    if (c.erasedAt) blocks.push({ kind: 'banner', text: `Personal data erased under the retention policy on ${t(c.erasedAt)}` });
    blocks.push(keyValues(pick(c.record, CASE_FIELDS)));
    blocks.push({ kind: 'heading', text: 'Notes', level: 2 });
    blocks.push(table(['When', 'By', 'Note'], c.notes.map((n) => [t(n.createdAt), n.authorName, n.text]), 'None.'));
    blocks.push({ kind: 'heading', text: 'History', level: 2 });
    blocks.push(table(['When', 'By', 'Change'], c.events.map((e) => [t(e.at), e.byName, [e.type, e.fromValue && `${e.fromValue} →`, e.toValue, e.text].filter(Boolean).join(' ')]), 'None.'));
  }
  blocks.push({ kind: 'heading', text: 'Audit entries', level: 1 });
  blocks.push(table(['#', 'When', 'Who', 'What', 'After'], s.audit.map((e) => [String(e.id), t(e.at), e.actorName, `${e.action} ${e.entity}`, (e.after ?? '').slice(0, 200)]), 'None.'));
  return blocks;
}

export const exportPersonCommand = defineCommand({
  key: 'duty export-person',
  summary: 'subject access: everything held about one person, as JSON and PDF (privately; audited)',
  usage: '/duty export-person <person number|case reference>',
  allowed: ['admin'],
  positional: ['subject'],
  input: z.strictObject({ subject: subjectInput }),
  async run(ctx, input) {
    const s = await gatherSubject(ctx.store, input.subject);
    if (!s) {
      const what = input.subject.kind === 'person' ? `person #${input.subject.number}` : `case ${input.subject.ref}`;
      throw new CommandError(input.subject.kind === 'person' ? 'UNKNOWN_PERSON' : 'UNKNOWN_CASE', `There is no ${what}.`);
    }
    const by = ctx.actor ? `@${ctx.actor.handle}` : ctx.meta.actorName;
    const names = await MemberNames.load(ctx.store);
    const tz = ctx.settings.missionTimeZone;
    const json = `${JSON.stringify(canonical(subjectDocument(s, ctx.now, by, names)), null, 2)}\n`;
    const base = `subject-access-${input.subject.kind === 'person' ? `person-${input.subject.number}` : input.subject.ref}`;
    const pdf = await renderPdf({
      title: `Subject access: ${s.request}`,
      author: 'Duty Desk',
      subject: 'Subject access export (personal data)',
      createdAt: ctx.now,
      footer: `Duty Desk — subject access ${s.request} — personal data`,
      blocks: subjectPdfBlocks(s, ctx.now, by, tz, names),
    });
    const counts = { people: s.people.length, cases: s.cases.length, auditEntries: s.audit.length };
    // Who exported whose data, and how much; never the data itself.
    const primary = s.people.find((p) => p.reason === 'requested') ?? null;
    const entity = primary ? { entity: 'person', id: primary.record.id } : { entity: 'case', id: s.cases[0]?.record.id ?? '' };
    await ctx.store.change(ctx.meta, (w) => w.audit(entity.entity, entity.id, 'subject-access', null, { request: s.request, ...counts }));
    const attachments: ReplyAttachment[] = [
      { filename: `${base}.json`, mimeType: 'application/json', content: Buffer.from(json, 'utf8'), title: `Subject access ${s.request} (JSON)`, altText: `Everything held about ${s.request}, as JSON` },
      { filename: `${base}.pdf`, mimeType: 'application/pdf', content: pdf, title: `Subject access ${s.request} (PDF)`, altText: `Everything held about ${s.request}, as a PDF` },
    ];
    return message({
      title: `Subject access: ${s.request}`,
      text: `${counts.people} person record${counts.people === 1 ? '' : 's'}, ${counts.cases} case${counts.cases === 1 ? '' : 's'} and ${counts.auditEntries} audit entr${counts.auditEntries === 1 ? 'y' : 'ies'}, as JSON and PDF. They hold personal data: keep them only as long as the request needs.`,
      attachments,
      // Personal data: a direct message (Slack DM, the Teams 1:1 chat), never a channel.
      visibility: 'direct',
      fallback: `Subject access export: ${s.request}`,
    });
  },
});
