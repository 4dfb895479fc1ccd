// Open cases in the handoff brief: the incoming officer starts with what is still on the desk.
import { registerBriefSection } from '../roster/brief';
import { MemberNames, when } from '../roster/roster-common';
import { categoryLabel, PRIORITY_BADGE, statusLabel } from './case-view';

const BRIEF_CASES = 15;

registerBriefSection({
  title: 'Open cases',
  async lines(ctx) {
    const { rows, total } = await ctx.store.cases.list({ statuses: ['new', 'acknowledged', 'in-progress', 'waiting'] }, 'priority', BRIEF_CASES);
    if (!rows.length) return null;
    const names = await MemberNames.load(ctx.store);
    const lines = rows.map((c) => {
      const late = !c.acknowledgedAt && c.ackDueAt && c.ackDueAt.getTime() < ctx.now ? ' · ⚠️ not acknowledged in time' : '';
      const update = c.updateDueAt ? ` · update due ${when(c.updateDueAt.getTime(), ctx.timeZone)}` : '';
      return `${c.ref} ${PRIORITY_BADGE[c.priority] ?? c.priority} ${categoryLabel(c.category)} · ${c.subjectInitials} · ${c.city ?? '?'} · ${statusLabel(c.status)} · ${names.short(c.assigneeId)}${late}${update}`;
    });
    if (total > rows.length) lines.push(`…and ${total - rows.length} more: /case list`);
    return lines;
  },
});
