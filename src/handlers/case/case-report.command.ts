// /case report: counts, times to acknowledge and resolve, service-level breaches; a chart with a
// text table beside it, and the figures as CSV. /case export: every case of a period as CSV.
// No personal data in either: references, categories, cities.
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
import { CommandError, defineCommand, type HandlerContext } from '../command';
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

interface Period {
  from: LocalDate;
  to: LocalDate;
  start: number;
  end: number;
  label: string;
}

/** [from 00:00, the day after `to` 00:00) in mission time; the last 30 days by default. */
function periodOf(ctx: HandlerContext, input: { from?: string | undefined; to?: string | undefined }): Period {
  const tz = ctx.settings.missionTimeZone;
  const now = ctx.now.getTime();
  const day = (s: string | undefined, field: 'from' | 'to', fallback: LocalDate): LocalDate => {
    if (!s) return fallback;
    const d = parseDate(s, tz, now);
    if (!d) throw new CommandError('INVALID_INPUT', `${field}: "${s.slice(0, 30)}" is not a date; use YYYY-MM-DD, e.g. 2026-01-31.`, { [field]: 'not a date' });
    return d;
  };
  const to = day(input.to, 'to', localOf(tz, now));
  const from = day(input.from, 'from', addDays(to, -(DEFAULT_DAYS - 1)));
  const start = zonedInstant(tz, from, 0);
  const end = zonedInstant(tz, addDays(to, 1), 0);
  if (end <= start) throw new CommandError('INVALID_INPUT', `The period ends (${dateKey(to)}) before it starts (${dateKey(from)}).`, { to: 'before from' });
  if (end - start > MAX_DAYS * 86_400_000) throw new CommandError('INVALID_INPUT', `A period covers at most ${MAX_DAYS} days; split it.`, { from: 'period too long' });
  return { from, to, start, end, label: `${dateKey(from)} – ${dateKey(to)}` };
}

const minutes = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 6000) / 10);

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
    const p = periodOf(ctx, input);
    const facts = await ctx.store.cases.facts(new Date(p.start), new Date(p.end));
    const summary = summariseCases(facts as CaseForSummary[], { from: p.start, to: p.end }, now);
    if (!summary.total) return message({ title: `Cases ${p.label}`, text: 'No cases were opened in this period.' });

    // Category × priority: the chart and, for screen readers, the same numbers as a table.
    const grid = new Int32Array(CASE_CATEGORIES.length * CASE_PRIORITIES.length);
    const ci = new Map<string, number>(CASE_CATEGORIES.map((c, i) => [c, i]));
    const pi = new Map<string, number>(CASE_PRIORITIES.map((x, i) => [x, i]));
    for (const f of facts) {
      const c = ci.get(f.category);
      const q = pi.get(f.priority);
      if (c !== undefined && q !== undefined) grid[c * CASE_PRIORITIES.length + q] = (grid[c * CASE_PRIORITIES.length + q] ?? 0) + 1;
    }
    const cell = (c: CaseCategory, q: CasePriority): number => grid[(ci.get(c) as number) * CASE_PRIORITIES.length + (pi.get(q) as number)] ?? 0;
    const categories = CASE_CATEGORIES.filter((c) => summary.byCategory[c] > 0);
    const rows = categories.map((c) => [CATEGORY_LABELS[c], ...CASE_PRIORITIES.map((q) => cell(c, q)), summary.byCategory[c]]);
    rows.push(['Total', ...CASE_PRIORITIES.map((q) => summary.byPriority[q]), summary.total]);
    const table = textTable(['Category', ...CASE_PRIORITIES, 'Total'], rows);
    const chart = await renderBarChart({
      title: `Cases opened ${p.label} by category and priority`,
      categories: categories.map((c) => CATEGORY_LABELS[c]),
      series: CASE_PRIORITIES.map((q) => ({ label: q, values: categories.map((c) => cell(c, q)) })),
      stacked: true,
      yLabel: 'Cases',
    });
    const b = summary.breaches;
    const ack = summary.timeToAcknowledge;
    const res = summary.timeToResolve;
    const csv = toCsv(
      ['Figure', 'Item', 'Value'],
      [
        ['Period', 'From', dateKey(p.from)],
        ['Period', 'To', dateKey(p.to)],
        ['Period', 'Time zone', tz],
        ['Cases opened', 'Total', summary.total],
        ...CASE_CATEGORIES.map((c) => ['By category', CATEGORY_LABELS[c], summary.byCategory[c]]),
        ...CASE_PRIORITIES.map((q) => ['By priority', q, summary.byPriority[q]]),
        ...CASE_STATUSES.map((st) => ['By status', STATUS_LABELS[st], summary.byStatus[st]]),
        ...categories.flatMap((c) => CASE_PRIORITIES.map((q) => ['By category and priority', `${CATEGORY_LABELS[c]} / ${q}`, cell(c, q)])),
        ['Time to acknowledge (minutes)', 'Cases measured', ack.count],
        ['Time to acknowledge (minutes)', 'Median', minutes(ack.median)],
        ['Time to acknowledge (minutes)', '90th percentile', minutes(ack.p90)],
        ['Time to resolve (minutes)', 'Cases measured', res.count],
        ['Time to resolve (minutes)', 'Median', minutes(res.median)],
        ['Time to resolve (minutes)', '90th percentile', minutes(res.p90)],
        ['Service-level breaches', 'Total', b.total],
        ['Service-level breaches', 'Acknowledged late', b.acknowledgedLate],
        ['Service-level breaches', 'Not acknowledged in time', b.unacknowledged],
        ...CASE_PRIORITIES.map((q) => ['Service-level breaches', q, b.byPriority[q]]),
      ],
    );
    const statusLine = CASE_STATUSES.filter((st) => summary.byStatus[st]).map((st) => `${STATUS_LABELS[st]} ${summary.byStatus[st]}`).join(' · ');
    const breachLine = b.total
      ? `${b.total} (${b.acknowledgedLate} acknowledged late, ${b.unacknowledged} not acknowledged in time): ${CASE_PRIORITIES.filter((q) => b.byPriority[q]).map((q) => `${q} ${b.byPriority[q]}`).join(', ')}`
      : 'none';
    const file = `cases-${dateKey(p.from)}-${dateKey(p.to)}`;
    return message({
      title: `Cases ${p.label} (${tz})`,
      text: [`${summary.total} case${summary.total === 1 ? '' : 's'} opened.`, `By status: ${statusLine}`, stats('Time to acknowledge', ack), stats('Time to resolve', res), `Service-level breaches: ${breachLine}`, `Every case of the period: /case export ${dateKey(p.from)} ${dateKey(p.to)}`].join('\n'),
      rows: [{ text: `\`\`\`\n${table}\n\`\`\`` }],
      attachments: [
        { filename: `${file}.png`, mimeType: 'image/png', content: chart, title: `Cases by category and priority, ${p.label}`, altText: `Chart of the table above: ${summary.total} cases by category and priority.` },
        { filename: `${file}.csv`, mimeType: 'text/csv', content: csv, title: `Case figures ${p.label} (CSV)`, altText: 'The figures of this report, one per line.' },
      ],
      visibility: 'caller',
      fallback: `Cases ${p.label}: ${summary.total} opened, ${b.total} service-level breaches`,
    });
  },
});

export const caseExportCommand = defineCommand({
  key: 'case export',
  summary: 'every case opened in a period as CSV (reference, category, priority, status, city, times; no personal data)',
  usage: '/case export [from] [to]   (default: the last 30 days)',
  allowed: CASE_ROLES,
  positional: ['from', 'to'],
  input: z.strictObject({ from: z.string().max(30).optional(), to: z.string().max(30).optional() }),
  async run(ctx, input) {
    const now = ctx.now.getTime();
    const p = periodOf(ctx, input);
    const cases = await ctx.store.cases.exportRows(new Date(p.start), new Date(p.end));
    if (!cases.length) return message({ title: `Cases ${p.label}`, text: 'No cases were opened in this period.' });
    const csv = toCsv(
      ['Reference', 'Category', 'Priority', 'Status', 'City', 'Country', 'Opened', 'Acknowledged', 'Resolved', 'Closed', 'Acknowledge by', 'Acknowledgement late'],
      cases.map((c) => [
        c.ref,
        CATEGORY_LABELS[c.category as CaseCategory] ?? c.category,
        c.priority,
        STATUS_LABELS[c.status as CaseStatus] ?? c.status,
        c.city,
        c.country,
        c.openedAt,
        c.acknowledgedAt,
        c.resolvedAt,
        c.closedAt,
        c.ackDueAt,
        isAckBreached({ ackDueAt: c.dueAt, acknowledgedAt: c.ackAt, closedAt: c.closedAtMs }, now) ? 'yes' : 'no',
      ]),
    );
    return message({
      title: `Cases ${p.label}`,
      text: `${cases.length} cases, one per row, without personal data.`,
      attachments: [{ filename: `cases-${dateKey(p.from)}-${dateKey(p.to)}-list.csv`, mimeType: 'text/csv', content: csv, title: `Cases ${p.label} (CSV)`, altText: `${cases.length} cases, one per row.` }],
      visibility: 'caller',
      fallback: `${cases.length} cases ${p.label} as CSV`,
    });
  },
});
