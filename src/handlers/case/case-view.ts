// How a case reads. The channel card and list rows carry no personal data (reference, category,
// priority, status, city, initials); full details are a separate view for the roles allowed it.
import {
  CATEGORY_LABELS,
  isOpenStatus,
  REPORTER_LABELS,
  STATUS_LABELS,
  type CaseCategory,
  type CaseStatus,
  type ReporterKind,
} from '../../domain/case';
import { message, type MessageReply, type ReplyButton, type ReplyField } from '../../domain/reply';
import type { CaseEventRecord, CaseNoteRecord, CaseRecord } from '../../store/case.repository';
import type { NameLookup } from '../page/page-view';
import { nameOf } from '../page/page-view';
import { when } from '../roster/roster-common';

export const PRIORITY_BADGE: Record<string, string> = { P1: '🔴 P1', P2: '🟠 P2', P3: '🟡 P3', P4: '🔵 P4' };

export function categoryLabel(c: string): string {
  return CATEGORY_LABELS[c as CaseCategory] ?? c;
}

export function statusLabel(s: string): string {
  return STATUS_LABELS[s as CaseStatus] ?? s;
}

function open(c: CaseRecord): boolean {
  return isOpenStatus(c.status as CaseStatus);
}

/** Buttons carry the version they were drawn at: pressing a stale card is refused, not misapplied. */
export function caseButtons(c: CaseRecord): ReplyButton[] {
  const v = `version=${c.version}`;
  if (!open(c)) return [{ label: 'Reopen', command: `/case reopen ${c.ref}` }];
  const out: ReplyButton[] = [];
  if (c.status === 'new') out.push({ label: 'Acknowledge', command: `/case ack ${c.ref} ${v}`, style: 'primary' });
  out.push({ label: 'Assign to me', command: `/case assign ${c.ref} me ${v}` });
  out.push({ label: 'Add note', command: `/case note ${c.ref}` });
  out.push({ label: 'Resolve', command: `/case resolve ${c.ref}` });
  return out;
}

/** Cards and lists name the city only (the issue's short list of what a channel may see). */
function where(c: Pick<CaseRecord, 'city'>): string {
  return c.city || 'unknown';
}

function ackLine(c: CaseRecord, names: NameLookup, tz: string, now: number): string {
  if (c.acknowledgedAt) return `Acknowledged by ${nameOf(names, c.acknowledgedById)} ${when(c.acknowledgedAt.getTime(), tz)}`;
  if (!c.ackDueAt) return 'Not acknowledged';
  const due = c.ackDueAt.getTime();
  return due < now && open(c) ? `⚠️ Not acknowledged: was due ${when(due, tz)}` : `Acknowledge by ${when(due, tz)}`;
}

/** The channel card: no names, dates of birth, passports or contact details. */
export function caseCard(c: CaseRecord, names: NameLookup, tz: string, now: number, noteCount?: number): MessageReply {
  const fields: ReplyField[] = [
    { label: 'Status', value: statusLabel(c.status) },
    { label: 'Priority', value: PRIORITY_BADGE[c.priority] ?? c.priority },
    { label: 'Category', value: categoryLabel(c.category) },
    { label: 'Subject', value: c.subjectInitials },
    { label: 'City', value: where(c) },
    { label: 'Assignee', value: c.assigneeId ? nameOf(names, c.assigneeId) : 'nobody yet' },
  ];
  if (noteCount !== undefined) fields.push({ label: 'Notes', value: String(noteCount) });
  const state = open(c) ? ackLine(c, names, tz, now) : `${statusLabel(c.status)} ${when((c.closedAt ?? c.resolvedAt ?? c.updatedAt).getTime(), tz)}`;
  return message({
    title: `${PRIORITY_BADGE[c.priority] ?? c.priority} · ${c.ref} · ${categoryLabel(c.category)}`,
    text: `${state}\nOpened ${when(c.openedAt.getTime(), tz)}. Full details: /case show ${c.ref}`,
    fields,
    buttons: caseButtons(c),
    visibility: 'channel',
    fallback: `Case ${c.ref} (${c.priority}, ${categoryLabel(c.category)}, ${where(c)}): ${statusLabel(c.status)}`,
  });
}

/** One line of /case list: still no personal data beyond initials. */
export function caseRow(c: CaseRecord, names: NameLookup, tz: string, now: number): { text: string; buttons: ReplyButton[] } {
  const who = c.assigneeId ? nameOf(names, c.assigneeId) : 'unassigned';
  return {
    text: `*${c.ref}* ${PRIORITY_BADGE[c.priority] ?? c.priority} ${categoryLabel(c.category)} · ${c.subjectInitials} · ${where(c)}\n${statusLabel(c.status)} · ${who} · ${open(c) ? ackLine(c, names, tz, now) : `opened ${when(c.openedAt.getTime(), tz)}`}`,
    buttons: [{ label: 'Show', command: `/case show ${c.ref}` }],
  };
}

function line(label: string, ...parts: (string | null | undefined)[]): ReplyField | null {
  const v = parts.filter((p): p is string => Boolean(p)).join(' · ');
  return v ? { label, value: v } : null;
}

/** Everything about the case: only for officer, crisis and leader roles, only privately. */
export function caseDetails(c: CaseRecord, notes: readonly CaseNoteRecord[], events: readonly CaseEventRecord[], names: NameLookup, tz: string, now: number, crisisCode?: string | null): MessageReply {
  const fields = [
    line('Status', statusLabel(c.status), c.outcome ? `outcome: ${c.outcome}` : null),
    line('Priority', PRIORITY_BADGE[c.priority] ?? c.priority),
    line('Category', categoryLabel(c.category)),
    line('Name', c.subjectName),
    line('Date of birth', c.dateOfBirth),
    line('Nationality', c.nationality),
    line('Passport', c.passportNumber),
    line('Location', c.location, c.city, c.country),
    line('Contact', c.contactDetails),
    line('Next of kin', c.nokName, c.nokRelationship, c.nokPhone, c.nokEmail),
    line('Consent to share with next of kin', c.consent),
    line('Reported by', REPORTER_LABELS[c.reporter as ReporterKind] ?? c.reporter, c.reporterDetail),
    line('Assignee', c.assigneeId ? nameOf(names, c.assigneeId) : 'nobody yet'),
    line('Crisis', crisisCode ?? null),
    line('Service level', ackLine(c, names, tz, now), c.updateDueAt && open(c) ? `next update due ${when(c.updateDueAt.getTime(), tz)}` : null),
  ].filter((f): f is ReplyField => f !== null);
  const rows = [
    { text: `*Summary*\n${c.summary}` },
    ...(notes.length ? [{ text: `*Notes (${notes.length})*\n${notes.map((n) => `${when(n.createdAt.getTime(), tz)} ${n.authorName}: ${n.text}`).join('\n')}` }] : []),
    { text: `*History*\n${events.map((e) => `${when(e.at.getTime(), tz)} ${eventText(e, names)}`).join('\n')}` },
  ];
  return message({
    title: `${PRIORITY_BADGE[c.priority] ?? c.priority} · ${c.ref} · ${categoryLabel(c.category)}`,
    fields,
    rows,
    buttons: caseButtons(c),
    // Personal data: a direct message (Slack DM, Teams 1:1 chat), never the conversation asked from.
    visibility: 'direct',
    fallback: `Case ${c.ref}: ${statusLabel(c.status)}`,
  });
}

export function eventText(e: CaseEventRecord, names: NameLookup): string {
  switch (e.type) {
    case 'created':
      return e.text ?? `Opened by ${e.byName}`;
    case 'assigned':
      return e.toValue ? `${e.byName} assigned it to ${nameOf(names, e.toValue)}` : `${e.byName} unassigned it`;
    case 'status':
      return `${e.byName}: ${statusLabel(e.fromValue ?? '')} → ${statusLabel(e.toValue ?? '')}${e.text ? ` (${e.text})` : ''}`;
    case 'reopened':
      return `${e.byName} reopened it${e.text ? `: ${e.text}` : ''}`;
    default:
      return e.text ?? e.type;
  }
}
