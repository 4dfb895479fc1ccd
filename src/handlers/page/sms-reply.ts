// An SMS answer to a page ("ack 42", "resolve 42 consul on site", or just "ack" when one page
// waits for this person), forwarded by the provider to POST /sms/inbound.
import { phoneSchema } from '../../domain/member';
import type { AuditMeta } from '../../store/store';
import { respondToPage, type PagingDeps } from './page.service';

const ANSWER = /^\s*(ack|acknowledge|ok|resolve|resolved)\b\s*#?(\d{1,9})?\s*(.*)$/is;

/** What the sender is told back, in one SMS. */
export async function answerSms(deps: PagingDeps, from: string, body: string, requestId: string, now: Date): Promise<string> {
  const phone = phoneSchema.safeParse(from);
  if (!phone.success) return 'Duty Desk could not read your number.';
  const members = await deps.store.pages.membersWithPhone(phone.data);
  const member = members.length === 1 ? await deps.store.members.byId(members[0] as string) : null;
  if (!member || member.removedAt) {
    return members.length > 1 ? 'This number belongs to several Duty Desk members; answer in Slack or Teams.' : 'This number is not a verified Duty Desk contact. Answer in Slack or Teams.';
  }
  const m = ANSWER.exec(body);
  if (!m) return 'Reply "ack <page number>" to acknowledge or "resolve <page number> [note]" to resolve.';
  const resolve = /^r/i.test(m[1] as string);
  let n = m[2] ? Number(m[2]) : null;
  if (n === null) {
    // Without a number: the one open page this person was paged about, if there is just one.
    const open = await deps.store.pages.list({ status: resolve ? ['triggered', 'acknowledged'] : ['triggered'], memberId: member.id, limit: 5 });
    if (open.length !== 1) {
      return open.length
        ? `Which page? ${open.map((p) => `#${p.number} ${p.title.slice(0, 40)}`).join('; ')}. Reply "${resolve ? 'resolve' : 'ack'} <number>".`
        : 'You have no open page to answer.';
    }
    n = (open[0] as { number: number }).number;
  }
  const meta: AuditMeta = { actorId: member.id, actorName: `@${member.handle} (SMS)`, platform: 'system', requestId };
  const note = (m[3] ?? '').trim().slice(0, 500) || null;
  const r = await respondToPage(deps, meta, n, { id: member.id, name: member.displayName }, resolve ? { kind: 'resolve', note } : { kind: 'ack' }, now, 'by SMS');
  if (!r.ok) return r.error.message;
  return `Page #${r.page.number} ${resolve ? 'resolved' : 'acknowledged'}. Escalation has stopped.`;
}
