// A SITREP as a message (preview, channel post, direct message), a chart, Markdown and PDF.
// Pure but for the chart and PDF renderers; counts and what the lead wrote, nothing else.
import { PERSON_STATUSES, PERSON_STATUS_LABELS } from '../../domain/person';
import { message, type MessageReply, type ReplyAttachment, type ReplyButton } from '../../domain/reply';
import {
  AUTOMATIC_BANNER,
  formatChange,
  formatSitrepTime,
  renderSitrepMarkdown,
  sitrepConditions,
  type SitrepDraft,
} from '../../domain/sitrep';
import { count } from '../../domain/words';
import type { CrisisRecord } from '../../store/crisis.repository';
import type { SitrepRecord } from '../../store/sitrep.repository';
import { renderLineChart } from '../report/chart';
import { renderPdf, type PdfBlock } from '../report/pdf';
import { textTable } from '../report/text-table';

function counts(m: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(m));
}

/** The document model of a SITREP (or of a draft, with the number it would get). */
export function sitrepDraft(crisis: Pick<CrisisRecord, 'code' | 'name'>, s: SitrepRecord, previous: SitrepRecord | null, timeZone: string, number: number): SitrepDraft {
  return {
    crisisCode: crisis.code,
    crisisName: crisis.name,
    number,
    at: s.asOf.getTime(),
    timeZone,
    conditions: sitrepConditions(counts(s.counts), previous ? counts(previous.counts) : null),
    incidents: s.incidents,
    actions: s.actions,
    needs: s.needs,
    nextAt: s.nextAt?.getTime() ?? null,
    automatic: s.automatic,
  };
}

/** The conditions as an aligned table (for screen readers and clients without images). */
export function conditionsTable(d: SitrepDraft): string {
  const rows: (string | number)[][] = d.conditions.rows.map((r) => [r.label, r.count, formatChange(r.change)]);
  rows.push(['Total', d.conditions.total.count, formatChange(d.conditions.total.change)]);
  return textTable(['Status', 'People', 'Change'], rows);
}

function list(items: readonly string[]): string {
  return items.length ? items.map((i) => `• ${i.replace(/\s+/g, ' ')}`).join('\n') : '_None reported._';
}

/** The SITREP as a chat message: header, conditions table, incidents, actions, needs, next. */
export function sitrepMessage(d: SitrepDraft, opts: { draft?: boolean; buttons?: ReplyButton[]; attachments?: ReplyAttachment[]; visibility?: MessageReply['visibility'] } = {}): MessageReply {
  const title = `${opts.draft ? 'Draft ' : ''}SITREP ${d.number} — ${d.crisisCode} ${d.crisisName}`;
  const next = d.nextAt === null ? 'not scheduled' : formatSitrepTime(d.nextAt, d.timeZone);
  return message({
    title,
    text: `${d.automatic ? `*${AUTOMATIC_BANNER}*\n` : ''}As of ${formatSitrepTime(d.at, d.timeZone)}.${opts.draft ? ' Figures are taken again when it is published.' : ''}`,
    rows: [
      { text: `*Conditions*\n\`\`\`\n${conditionsTable(d)}\n\`\`\`` },
      { text: `*Key incidents*\n${list(d.incidents)}` },
      { text: `*Actions*\n${list(d.actions)}` },
      { text: `*Needs*\n${list(d.needs)}` },
      { text: `*Next SITREP*: ${next}` },
    ],
    ...(opts.buttons?.length ? { buttons: opts.buttons } : {}),
    ...(opts.attachments?.length ? { attachments: opts.attachments } : {}),
    visibility: opts.visibility ?? 'caller',
    fallback: `${title}: ${count(d.conditions.total.count)} people, ${count(d.conditions.rows.find((r) => r.status === 'unaccounted')?.count ?? 0)} unaccounted${d.automatic ? ` (${AUTOMATIC_BANNER})` : ''}`,
  });
}

/**
 * People by status at each published SITREP (and the draft, when given): the statuses that were
 * ever non-zero, so the lines leadership sees are the ones that matter.
 */
export async function sitrepChart(crisisCode: string, points: { label: string; counts: Record<string, number> }[]): Promise<ReplyAttachment> {
  const shown = PERSON_STATUSES.filter((s) => points.some((p) => (p.counts[s] ?? 0) > 0));
  const statuses = shown.length ? shown : (['unaccounted'] as const);
  const png = await renderLineChart({
    title: `${crisisCode}: people by status at each SITREP`,
    labels: points.map((p) => p.label),
    series: statuses.map((s) => ({ label: PERSON_STATUS_LABELS[s], values: points.map((p) => p.counts[s] ?? 0) })),
    yLabel: 'People',
  });
  const last = points[points.length - 1];
  const alt = last ? statuses.map((s) => `${PERSON_STATUS_LABELS[s]} ${last.counts[s] ?? 0}`).join(', ') : '';
  return {
    filename: `${crisisCode.toLowerCase()}-people-by-status.png`,
    mimeType: 'image/png',
    content: png,
    title: `${crisisCode}: people by status over time`,
    altText: `Line chart of people by status at each SITREP; latest: ${alt}. The conditions table has the figures.`,
  };
}

/** Chart points: the published SITREPs oldest first, then `current` if it is not one of them. */
export function chartPoints(history: readonly SitrepRecord[], current: SitrepRecord | null, timeZone: string): { label: string; counts: Record<string, number> }[] {
  const label = (s: SitrepRecord) => (s.number !== null ? `#${s.number} ${formatSitrepTime(s.asOf.getTime(), timeZone).replace(/ \(.*\)$/, '').replace(/^\w{3} /, '').replace(/ \d{4} /, ' ')}` : 'now (draft)');
  const ordered = [...history].sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  if (current && !ordered.some((s) => s.id === current.id)) ordered.push(current);
  return ordered.map((s) => ({ label: label(s), counts: s.counts }));
}

export function sitrepMarkdown(d: SitrepDraft): Buffer {
  return Buffer.from(renderSitrepMarkdown(d), 'utf8');
}

/** The PDF to email to headquarters: the same sections as the Markdown, with the chart. */
export function sitrepPdf(d: SitrepDraft, chart: ReplyAttachment | null, publishedAt: Date): Promise<Buffer> {
  // renderPdf prints the title at the top of the first page.
  const blocks: PdfBlock[] = [];
  if (d.automatic) blocks.push({ kind: 'banner', text: AUTOMATIC_BANNER });
  blocks.push({ kind: 'keyValues', pairs: [{ key: 'As of', value: formatSitrepTime(d.at, d.timeZone) }] });
  blocks.push({ kind: 'heading', text: 'Conditions', level: 2 });
  const rows = d.conditions.rows.map((r) => [r.label, count(r.count), formatChange(r.change)]);
  rows.push(['Total', count(d.conditions.total.count), formatChange(d.conditions.total.change)]);
  blocks.push({ kind: 'table', table: { headers: ['Status', 'People', 'Change'], rows, alignRight: [1, 2] } });
  if (chart) blocks.push({ kind: 'image', png: chart.content, alt: chart.altText ?? 'chart', width: 460 });
  blocks.push({ kind: 'heading', text: 'Key incidents', level: 3 }, { kind: 'bullets', items: d.incidents, empty: 'None reported.' });
  blocks.push({ kind: 'heading', text: 'Actions', level: 2 }, { kind: 'bullets', items: d.actions, empty: 'None reported.' });
  blocks.push({ kind: 'heading', text: 'Needs', level: 2 }, { kind: 'bullets', items: d.needs, empty: 'None reported.' });
  blocks.push({ kind: 'heading', text: 'Next SITREP', level: 2 }, { kind: 'paragraph', text: d.nextAt === null ? 'Not scheduled.' : formatSitrepTime(d.nextAt, d.timeZone) });
  return renderPdf({
    title: `SITREP ${d.number} — ${d.crisisCode} (${d.crisisName})`,
    author: 'Duty Desk',
    subject: `${d.crisisName}: situation report ${d.number}`,
    createdAt: publishedAt,
    footer: `Duty Desk — SITREP ${d.number} ${d.crisisCode}`,
    blocks,
  });
}
