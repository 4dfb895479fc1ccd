// The daily roundup as a message: a pure function of the figures loaded (roundup.service.ts), and
// its chart. Counts, case references, page numbers, crisis codes and duty officers' handles:
// nothing else, since it is broadcast to a leadership channel.
import { CASE_PRIORITIES, CATEGORY_LABELS, STATUS_LABELS, type CaseCategory, type CaseStatus } from '../../domain/case';
import { NEED_LABELS, PERSON_NEEDS, PERSON_STATUS_LABELS, PERSON_STATUSES } from '../../domain/person';
import { message, type MessageReply } from '../../domain/reply';
import { byPriority, ROUNDUP_MAX_LISTED, urgent, type DutySlot, type RosterDuty, type RoundupCaseLine, type RoundupCrisis, type RoundupData, type RoundupPage } from '../../domain/roundup';
import { count } from '../../domain/words';
import { formatClock, localOf, parseDateKey, zoneAbbreviation } from '../../domain/zoned';
import { renderBarChart, type BarChartSpec } from '../report/chart';
import { textTable } from '../report/text-table';
import { when } from '../roster/roster-common';

const formats = new Map<string, Intl.DateTimeFormat>();

/** "Sun 22 Nov 2026 07:00 NPT": the roundup's moment in mission time. */
export function roundupMoment(instant: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    formats.set(timeZone, f);
  }
  const p = f.formatToParts(new Date(instant));
  const g = (t: Intl.DateTimeFormatPartTypes): string => p.find((x) => x.type === t)?.value ?? '';
  return `${g('weekday')} ${g('day')} ${g('month')} ${g('year')} ${formatClock(localOf(timeZone, instant).minutes)} ${zoneAbbreviation(timeZone, instant)}`;
}

const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' });

/** "2026-11-22" → "Sun 22 Nov". */
function dayLabel(key: string): string {
  const d = parseDateKey(key);
  return d ? dayFormat.format(new Date(Date.UTC(d.y, d.m - 1, d.d))).replace(',', '') : key;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

function categoryLabel(c: string): string {
  return CATEGORY_LABELS[c as CaseCategory] ?? c;
}

function statusLabel(s: string): string {
  return STATUS_LABELS[s as CaseStatus] ?? s;
}

/** The first ROUNDUP_MAX_LISTED lines, then how many more of `total` there are. */
function capped(lines: string[], total = lines.length): string[] {
  const shown = lines.slice(0, ROUNDUP_MAX_LISTED);
  const rest = total - shown.length;
  return rest > 0 ? [...shown, `…and ${count(rest)} more`] : shown;
}

function slotText(s: DutySlot): string {
  if (s.empty) return 'nobody (the roster has no members)';
  if (!s.covered) return 'nobody (outside the coverage hours)';
  if (!s.primary) return 'nobody';
  return `${s.primary}${s.backup ? ` (backup ${s.backup})` : ''}`;
}

function dutyLine(d: RosterDuty, timeZone: string): string {
  const now = `now ${slotText(d.now)}`;
  if (!d.tonight) return `${d.roster}: ${now}`;
  const same = slotText(d.tonight) === slotText(d.now);
  return `${d.roster}: ${now}; tonight (${formatClock(localOf(timeZone, d.tonight.at).minutes)}) ${same ? 'the same' : slotText(d.tonight)}`;
}

function caseLine(c: RoundupCaseLine): string {
  return `${c.ref} · ${c.priority} · ${categoryLabel(c.category)} · ${statusLabel(c.status)}`;
}

function priorities(counts: Record<string, number>): string {
  const parts = CASE_PRIORITIES.filter((p) => counts[p]).map((p) => `${p} ${counts[p]}`);
  return parts.length ? ` (${parts.join(' · ')})` : '';
}

function pageLine(p: RoundupPage, timeZone: string): string {
  return `#${p.number} ${p.severity}, ${p.status}, to ${p.target}${p.sourceRef ? ` (${p.sourceRef})` : ''}, since ${when(p.triggeredAt, timeZone)}`;
}

function crisisLine(c: RoundupCrisis): string {
  const total = Object.values(c.counts).reduce((a, n) => a + n, 0);
  const statuses = PERSON_STATUSES.filter((s) => c.counts[s]).map((s) => `${PERSON_STATUS_LABELS[s].toLowerCase()} ${count(c.counts[s] ?? 0)}`);
  const reported = Object.values(c.lastDay).reduce((a, n) => a + n, 0);
  const changes = PERSON_STATUSES.filter((s) => c.lastDay[s]).map((s) => `${PERSON_STATUS_LABELS[s].toLowerCase()} +${count(c.lastDay[s] ?? 0)}`);
  const needs = PERSON_NEEDS.filter((n) => c.needs[n]).map((n) => `${NEED_LABELS[n].toLowerCase()} ${count(c.needs[n] ?? 0)}`);
  return [
    `${c.code} ${c.name}: ${plural(total, 'person', 'people')}, ${count(c.counts.unaccounted ?? 0)} unaccounted`,
    statuses.length ? `  by status: ${statuses.join(' · ')}` : null,
    `  last 24 h: ${reported ? changes.join(' · ') : 'no status reports'}`,
    needs.length ? `  needs: ${needs.join(' · ')}` : null,
  ]
    .filter((x): x is string => x !== null)
    .join('\n');
}

/** The per-day figures as an aligned table, for screen readers and clients that show no image. */
export function roundupTable(d: RoundupData): string {
  const rows: (string | number)[][] = d.cases.perDay.map((x) => [dayLabel(x.date), x.opened, x.resolved]);
  rows.push(['Total', d.cases.perDay.reduce((a, x) => a + x.opened, 0), d.cases.perDay.reduce((a, x) => a + x.resolved, 0)]);
  return textTable(['Day', 'Opened', 'Resolved'], rows);
}

function period(d: RoundupData): string {
  const first = d.cases.perDay[0]?.date ?? '';
  const last = d.cases.perDay[d.cases.perDay.length - 1]?.date ?? '';
  return `${dayLabel(first)} – ${dayLabel(last)}`;
}

/** The chart: cases opened and resolved per mission-local day, the same figures as the table. */
export function roundupChartSpec(d: RoundupData): BarChartSpec {
  return {
    title: `Cases per day, ${period(d)} (${d.timeZone})`,
    categories: d.cases.perDay.map((x) => dayLabel(x.date).replace(/^\w+ /, '')),
    series: [
      { label: 'Opened', values: d.cases.perDay.map((x) => x.opened) },
      { label: 'Resolved', values: d.cases.perDay.map((x) => x.resolved) },
    ],
    yLabel: 'Cases',
  };
}

/** The roundup without its chart: pure. */
export function roundupMessage(d: RoundupData): MessageReply {
  const tz = d.timeZone;
  const { opened, resolved } = d.cases;
  const openTotal = Object.values(d.openNow).reduce((a, n) => a + n, 0);
  const urgentOpened = urgent(opened).map(caseLine);
  const urgentResolved = urgent(resolved).map(caseLine);
  const caseLines = [
    `*Cases, last 24 hours*: ${count(opened.length)} opened${priorities(byPriority(opened))}, ${count(resolved.length)} resolved${priorities(byPriority(resolved))}`,
    `Open now: ${count(openTotal)}${priorities(d.openNow)}`,
    ...(urgentOpened.length ? ['P1 and P2 opened:', ...capped(urgentOpened)] : []),
    ...(urgentResolved.length ? ['P1 and P2 resolved:', ...capped(urgentResolved)] : []),
  ];
  const pageLines = d.pages.map((p) => pageLine(p, tz));
  const summary = `${plural(opened.length, 'case')} opened and ${count(resolved.length)} resolved in the last 24 hours; ${plural(d.pagesTotal, 'open page')}; ${plural(d.crises.length, 'active crisis', 'active crises')}.`;
  return message({
    title: `Daily roundup — ${roundupMoment(d.now, tz)}`,
    text: `${summary} Times are mission time (${tz}).`,
    rows: [
      { text: `*On duty*\n${d.duty.length ? d.duty.map((x) => dutyLine(x, tz)).join('\n') : 'No rosters.'}` },
      { text: caseLines.join('\n') },
      { text: `*Open pages* (${count(d.pagesTotal)})\n${pageLines.length ? capped(pageLines, d.pagesTotal).join('\n') : 'none'}` },
      { text: `*Active crises* (${count(d.crises.length)})\n${d.crises.length ? capped(d.crises.map(crisisLine)).join('\n') : 'none'}` },
      { text: `*Cases per day*, ${period(d)}\n\`\`\`\n${roundupTable(d)}\n\`\`\`` },
    ],
    visibility: 'channel',
    fallback: `Daily roundup ${roundupMoment(d.now, tz)}: ${summary}`,
  });
}

/** The roundup with its chart attached as a PNG. */
export async function renderRoundup(d: RoundupData): Promise<MessageReply> {
  const reply = roundupMessage(d);
  const chart = await renderBarChart(roundupChartSpec(d));
  const last = d.cases.perDay[d.cases.perDay.length - 1]?.date ?? 'today';
  const opened = d.cases.perDay.reduce((a, x) => a + x.opened, 0);
  const resolved = d.cases.perDay.reduce((a, x) => a + x.resolved, 0);
  return {
    ...reply,
    attachments: [
      {
        filename: `roundup-${last}.png`,
        mimeType: 'image/png',
        content: chart,
        title: `Cases per day, ${period(d)}`,
        altText: `Chart of the table above: cases opened (${count(opened)}) and resolved (${count(resolved)}) per day, ${period(d)}.`,
      },
    ],
  };
}
