// /case report: counts, times to acknowledge and resolve, service-level breaches; a chart with a
// text table beside it, and the cases as CSV. No personal data: references, categories, cities.
import { z } from 'zod/v4';
import {
  CASE_CATEGORIES,
  CASE_PRIORITIES,
  CASE_STATUSES,
  CATEGORY_LABELS,
  isAckBreached,
  STATUS_LABELS,
  summariseCases,
  type CaseCategory,
  type CaseForSummary,
  type CasePriority,
  type CaseStatus,
  type DurationStats,
} from '../../domain/case';
import { parseDate } from '../../domain/datetime-input';
import { formatDuration } from '../../domain/escalation';
import { message } from '../../domain/reply';
import { addDays, dateKey, localOf, zonedInstant, type LocalDate } from '../../domain/zoned';
import { CommandError, defineCommand } from '../command';
import { renderBarChart } from '../report/chart';
import { toCsv } from '../report/csv';
import { textTable } from '../report/text-table';
import { CASE_ROLES } from './case.commands';

const DEFAULT_DAYS = 30;
const MAX_DAYS = 3 * 366;

function stats(label: string, s: DurationStats): string {
  if (!s.count) return `${label}: none yet`;
  return `${label}: median ${formatDuration(s.median ?? 0)}, 90th percentile ${formatDuration(s.p90 ?? 0)} (${s.count} cases)`;
}

export const caseReportCommand = defineCommand({
  key: 'case report',
  summary: 'case figures for a period: counts, times, breaches, chart and CSV',
  usage: '/case report [from] [to]   e.g. /case report 2026-01-01 2026-12-31 (default: the last 30 days)',
  allowed: CASE_ROLES,
  positional: ['from', 'to'],
  input: z.strictObject({ from: z.string().max(30).optional(), to: z.string().max(30).optional() }),
  async run(ctx, input) {
    const tz = ctx.settings.missionTimeZone;
    const now = ctx.now.getTime();
    const day = (s: string | undefined, field: 'from' | 'to', fallback: LocalDate): LocalDate => {
      if (!s) return fallback;
      const d = parseDate(s, tz, now);
      if (!d) throw new CommandError('INVALID_INPUT', `${field}: "${s.slice(0, 30)}" is not a date; use YYYY-MM-DD, e.g. 2026-01-31.`, { [field]: 'not a date' });
      return d;
    };
    const today = localOf(tz, now);
    const to = day(input.to, 'to', today);
    const from = day(input.from, 'from', addDays(to, -(DEFAULT_DAYS - 1)));
    const start = zonedInstant(tz, from, 0);
    const end = zonedInstant(tz, addDays(to, 1), 0);
    if (end <= start) throw new CommandError('INVALID_INPUT', `The period ends (${dateKey(to)}) before it starts (${dateKey(from)}).`, { to: 'before from' });
    if (end - start > MAX_DAYS * 86_400_000) throw new CommandError('INVALID_INPUT', `A report covers at most ${MAX_DAYS} days; split the period.`, { from: 'period too long' });

    const facts = await ctx.store.cases.facts(new Date(start), new Date(end));
    const summary = summariseCases(facts as unknown as CaseForSummary[], { from: start, to: end }, now);
    const period = `${dateKey(from)} – ${dateKey(to)}`;
    if (!summary.total) return message({ title: `Cases ${period}`, text: 'No cases were opened in this period.' });

    // Category × priority: the chart and, for screen readers, the same numbers as a table.
    const grid = new Map<string, number>();
    for (const f of facts) grid.set(`${f.category}|${f.priority}`, (grid.get(`${f.category}|${f.priority}`) ?? 0) + 1);
    const categories = CASE_CATEGORIES.filter((c) => summary.byCategory[c] > 0);
    const rows = categories.map((c) => [CATEGORY_LABELS[c], ...CASE_PRIORITIES.map((p) => grid.get(`${c}|${p}`) ?? 0), summary.byCategory[c]]);
    rows.push(['Total', ...CASE_PRIORITIES.map((p) => summary.byPriority[p]), summary.total]);
    const table = textTable(['Category', ...CASE_PRIORITIES, 'Total'], rows);
    const chart = await renderBarChart({
      title: `Cases opened ${period} by category and priority`,
      categories: categories.map((c) => CATEGORY_LABELS[c]),
      series: CASE_PRIORITIES.map((p) => ({ label: p, values: categories.map((c) => grid.get(`${c}|${p}`) ?? 0) })),
      stacked: true,
      yLabel: 'Cases',
    });
    const csv = toCsv(
      ['Reference', 'Category', 'Priority', 'Status', 'City', 'Country', 'Opened', 'Acknowledged', 'Resolved', 'Closed', 'Acknowledge by', 'Acknowledgement late'],
      facts.map((f) => [
        f.ref,
        CATEGORY_LABELS[f.category as CaseCategory] ?? f.category,
        f.priority,
        STATUS_LABELS[f.status as CaseStatus] ?? f.status,
        f.city,
        f.country,
        f.iso.openedAt,
        f.iso.acknowledgedAt,
        f.iso.resolvedAt,
        f.iso.closedAt,
        f.iso.ackDueAt,
        isAckBreached(f, now) ? 'yes' : 'no',
      ]),
    );
    const b = summary.breaches;
    const statusLine = CASE_STATUSES.filter((s) => summary.byStatus[s]).map((s) => `${STATUS_LABELS[s]} ${summary.byStatus[s]}`).join(' · ');
    const breachLine = b.total
      ? `${b.total} (${b.acknowledgedLate} acknowledged late, ${b.unacknowledged} not acknowledged in time): ${CASE_PRIORITIES.filter((p: CasePriority) => b.byPriority[p]).map((p) => `${p} ${b.byPriority[p]}`).join(', ')}`
      : 'none';
    return message({
      title: `Cases ${period} (${tz})`,
      text: [`${summary.total} cases opened.`, `By status: ${statusLine}`, stats('Time to acknowledge', summary.timeToAcknowledge), stats('Time to resolve', summary.timeToResolve), `Service-level breaches: ${breachLine}`].join('\n'),
      rows: [{ text: `\`\`\`\n${table}\n\`\`\`` }],
      attachments: [
        { filename: `cases-${dateKey(from)}-${dateKey(to)}.png`, mimeType: 'image/png', content: chart, title: `Cases by category and priority, ${period}`, altText: `Chart of the table above: ${summary.total} cases by category and priority.` },
        { filename: `cases-${dateKey(from)}-${dateKey(to)}.csv`, mimeType: 'text/csv', content: csv, title: `Cases ${period} (CSV)`, altText: `${facts.length} cases, one per row, without personal data.` },
      ],
      visibility: 'caller',
      fallback: `Cases ${period}: ${summary.total} opened, ${b.total} service-level breaches`,
    });
  },
});
