// How a page reads: the message every recipient gets (and that is updated in place), list rows,
// and the timeline. Pure functions of records and names.
import { formatDuration, type Severity } from '../../domain/escalation';
import type { MemberName } from '../../store/member.repository';
import { message, type MessageReply, type ReplyButton } from '../../domain/reply';
import type { NotificationRecord, PageEventRecord, PageRecord } from '../../store/page.repository';
import { when } from '../roster/roster-common';

export const SEVERITY_LABEL: Record<Severity, string> = { critical: '🔴 CRITICAL', high: '🟠 HIGH', normal: '🔵 normal' };

/** Looks up names for ids (a MemberNames or a map). */
export interface NameLookup {
  get(id: string | null): MemberName | undefined;
}

export function nameOf(names: NameLookup, id: string | null): string {
  if (!id) return 'nobody';
  const m = names.get(id);
  return m ? m.displayName : 'a removed member';
}

export function pageButtons(p: PageRecord): ReplyButton[] {
  const out: ReplyButton[] = [];
  if (p.status === 'triggered') out.push({ label: 'Acknowledge', command: `/page ack ${p.number}`, style: 'primary' });
  if (p.status !== 'resolved') out.push({ label: 'Resolve', command: `/page resolve ${p.number}` });
  return out;
}

export function statusLine(p: PageRecord, names: NameLookup, tz: string): string {
  if (p.status === 'resolved') {
    const note = p.resolutionNote ? `: ${p.resolutionNote}` : '';
    return `✅ Resolved by ${nameOf(names, p.resolvedBy)} at ${when(p.resolvedAt ?? 0, tz)}${note}`;
  }
  if (p.status === 'acknowledged') return `👀 Acknowledged by ${nameOf(names, p.acknowledgedBy)} at ${when(p.acknowledgedAt ?? 0, tz)}`;
  return `⏳ Waiting for someone to acknowledge (raised ${when(p.triggeredAt, tz)})`;
}

/**
 * The page as its recipients see it. `fallback` is what SMS and notifications show, so it is
 * short and says how to answer.
 */
export function pageMessage(p: PageRecord, names: NameLookup, tz: string): MessageReply {
  const fields = [
    { label: 'Severity', value: SEVERITY_LABEL[p.severity] },
    { label: 'Raised by', value: p.raisedByName },
    { label: 'Paging', value: p.target },
  ];
  if (p.triggerCount > 1) fields.push({ label: 'Triggers', value: `${p.triggerCount} (the latest ${when(p.lastTriggeredAt, tz)})` });
  const answer = p.status === 'triggered' ? ` Reply "ack ${p.number}" to acknowledge.` : '';
  return message({
    title: `${SEVERITY_LABEL[p.severity]} page #${p.number}: ${p.title}`,
    text: [p.details, statusLine(p, names, tz)].filter(Boolean).join('\n\n'),
    fields,
    buttons: pageButtons(p),
    visibility: 'direct',
    fallback: `${p.severity === 'normal' ? '' : `${p.severity.toUpperCase()} `}page #${p.number}: ${p.title} (${p.status}).${answer}`,
  });
}

export function pageRow(p: PageRecord, names: NameLookup, tz: string): { text: string; buttons: ReplyButton[] } {
  return { text: `*#${p.number}* ${SEVERITY_LABEL[p.severity]} ${p.title}\n${statusLine(p, names, tz)} · paging ${p.target}`, buttons: pageButtons(p) };
}

/** "14:02 Slack DM to Ana Lee" lines. */
export function timelineLines(events: readonly PageEventRecord[], tz: string): string[] {
  return events.map((e) => `${when(e.at, tz)}  ${e.text}`);
}

export function notificationLine(n: NotificationRecord, names: NameLookup, tz: string): string {
  const how = n.method === 'chat' ? (n.platform === 'teams' ? 'Teams chat' : n.platform === 'slack' ? 'Slack DM' : 'chat DM') : n.method === 'sms' ? 'SMS' : 'email';
  const state = n.status === 'pending' ? `due ${when(n.dueAt, tz)}` : `${n.status}${n.doneAt ? ` ${when(n.doneAt, tz)}` : ''}${n.error ? ` (${n.error})` : ''}`;
  return `${how} to ${nameOf(names, n.memberId)}: ${state}`;
}

export function stepsSummary(p: PageRecord): string {
  const passes = p.policy.repeat + 1;
  return `${p.policy.steps.length} step${p.policy.steps.length === 1 ? '' : 's'}${passes > 1 ? `, ${passes} passes` : ''}, ${formatDuration(p.policy.steps.reduce((s, x) => s + x.delayMs, 0))} a pass`;
}
