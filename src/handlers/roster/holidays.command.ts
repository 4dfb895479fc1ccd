// Holidays per roster: typed one by one, or imported from CSV or iCalendar.
import fs from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
import { z } from 'zod/v4';
import { parseDate } from '../../domain/datetime-input';
import { message } from '../../domain/reply';
import { addDays, dateKey, daysBetween, localOf, parseDateKey, type LocalDate } from '../../domain/zoned';
import { CommandError, defineCommand } from '../command';
import { resolveRoster } from './roster-common';

// ical.js ships a CommonJS build, but its type declarations only describe the ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const ICAL = require('ical.js') as typeof ICALModule;
type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalTime = InstanceType<typeof ICAL.Time>;

export interface ImportedDay {
  date: string;
  name: string;
}

export type ImportResult = { ok: true; days: ImportedDay[] } | { ok: false; errors: string[] };

const MAX_DAYS = 2000;

function readDate(s: string): LocalDate | null {
  const t = s.trim();
  const iso = parseDateKey(t);
  if (iso) return iso;
  const m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(t);
  return m ? parseDateKey(`${m[3]}-${(m[2] as string).padStart(2, '0')}-${(m[1] as string).padStart(2, '0')}`) : null;
}

/** CSV with a date column and a name column (header optional). All rows valid, or nothing. */
export function parseHolidayCsv(text: string): ImportResult {
  let rows: string[][];
  try {
    rows = parseCsv(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    return { ok: false, errors: [`the CSV could not be read: ${(e as Error).message}`] };
  }
  const header = rows[0]?.map((h) => h.toLowerCase()) ?? [];
  const hasHeader = header.some((h) => /date|day/.test(h)) && !readDate(header[0] ?? '');
  const dateCol = hasHeader ? Math.max(0, header.findIndex((h) => /date|day/.test(h))) : 0;
  const nameCol = hasHeader ? header.findIndex((h) => /name|holiday|summary|description|title/.test(h)) : 1;
  const days: ImportedDay[] = [];
  const errors: string[] = [];
  rows.slice(hasHeader ? 1 : 0).forEach((r, i) => {
    const line = i + (hasHeader ? 2 : 1);
    const d = readDate(r[dateCol] ?? '');
    const name = (nameCol >= 0 ? (r[nameCol] ?? '') : '').trim() || 'Holiday';
    if (!d) errors.push(`row ${line}: "${(r[dateCol] ?? '').slice(0, 30)}" is not a date (YYYY-MM-DD or DD/MM/YYYY)`);
    else if (name.length > 100) errors.push(`row ${line}: the name is over 100 characters`);
    else days.push({ date: dateKey(d), name });
  });
  if (errors.length) return { ok: false, errors: errors.slice(0, 20) };
  if (days.length > MAX_DAYS) return { ok: false, errors: [`${days.length} days is more than the ${MAX_DAYS} one import takes`] };
  return { ok: true, days };
}

/** iCalendar: every day an event covers (all-day events, or timed ones by their local date), yearly rules expanded over the coming years. */
export function parseHolidayIcs(text: string, timeZone: string, now: number): ImportResult {
  let comp: IcalComponent;
  try {
    comp = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (e) {
    return { ok: false, errors: [`the iCalendar file could not be read: ${(e as Error).message}`] };
  }
  const days: ImportedDay[] = [];
  const errors: string[] = [];
  const until = ICAL.Time.fromJSDate(new Date(now + 3 * 366 * 86_400_000), true);
  const since = ICAL.Time.fromJSDate(new Date(now - 366 * 86_400_000), true);
  const toLocal = (t: IcalTime): LocalDate => (t.isDate ? { y: t.year, m: t.month, d: t.day } : localOf(timeZone, t.toJSDate().getTime()));
  for (const ve of comp.getAllSubcomponents('vevent')) {
    const ev = new ICAL.Event(ve);
    const name = (ev.summary || 'Holiday').slice(0, 100);
    const spans: [IcalTime, IcalTime][] = [];
    if (ev.isRecurring()) {
      const it = ev.iterator();
      for (let next = it.next(), n = 0; next && next.compare(until) < 0 && n < 500; next = it.next(), n++) {
        if (next.compare(since) < 0) continue;
        const occ = ev.getOccurrenceDetails(next);
        spans.push([occ.startDate, occ.endDate]);
      }
    } else if (ev.startDate) spans.push([ev.startDate, ev.endDate ?? ev.startDate]);
    for (const [s, e] of spans) {
      const first = toLocal(s);
      // DTEND is exclusive: an all-day event, or a timed one ending at midnight, ends the day before.
      const endLocal = e.isDate ? null : localOf(timeZone, e.toJSDate().getTime());
      const last = e.compare(s) <= 0 ? first : e.isDate || endLocal?.minutes === 0 ? addDays(toLocal(e), -1) : toLocal(e);
      const n = Math.max(0, daysBetween(first, last));
      if (n >= 60) errors.push(`"${name}" lasts ${n + 1} days; holidays are at most 60 days long`);
      else for (let i = 0; i <= n; i++) days.push({ date: dateKey(addDays(first, i)), name });
    }
  }
  if (errors.length) return { ok: false, errors: errors.slice(0, 20) };
  if (days.length === 0) return { ok: false, errors: ['the iCalendar file has no events'] };
  if (days.length > MAX_DAYS) return { ok: false, errors: [`${days.length} days is more than the ${MAX_DAYS} one import takes`] };
  return { ok: true, days };
}

export const holidaysCommand = defineCommand({
  key: 'duty holidays',
  summary: "a roster's holidays (all-day after-hours); add one, remove one, or import CSV/iCalendar",
  usage: '/duty holidays <roster> [add <date> <name> | remove <date> | import data="…"|file=<path>]',
  allowed: 'any-member',
  positional: ['roster', 'action', 'date'],
  rest: 'name',
  form: {
    title: 'Import holidays',
    submitLabel: 'Import',
    fields: [
      { name: 'roster', label: 'Roster', type: 'text', required: true },
      { name: 'action', label: 'Action', type: 'select', required: true, options: [{ value: 'import', label: 'import' }] },
      { name: 'data', label: 'CSV (date,name) or iCalendar text', type: 'longText', required: true, maxLength: 200_000 },
    ],
  },
  opensForm: (args) => args.action === 'import' && args.data === undefined && args.file === undefined,
  input: z.strictObject({
    roster: z.string().trim().max(60),
    action: z.enum(['add', 'remove', 'import', 'list'], { error: 'add, remove or import' }).default('list'),
    date: z.string().trim().max(20).optional(),
    name: z.string().trim().max(100, { error: 'a holiday name is at most 100 characters' }).optional(),
    data: z.string().max(200_000, { error: 'at most 200,000 characters at a time' }).optional(),
    file: z.string().trim().max(500).optional(),
  }),
  async run(ctx, input) {
    const roster = await resolveRoster(ctx, input.roster);
    const isAdmin = ctx.actor?.roles.includes('admin') ?? false;
    if (input.action !== 'list' && !isAdmin) throw new CommandError('FORBIDDEN', 'Only admins change holidays.');
    if (input.action === 'list') {
      const days = await ctx.store.rosters.holidays(roster.id);
      const today = dateKey(localOf(roster.timeZone, ctx.now.getTime()));
      const coming = days.filter((d) => d.date >= today);
      return message({ title: `${roster.name}: holidays`, text: coming.length ? undefined : 'None coming.', rows: coming.slice(0, 40).map((d) => ({ text: `${d.date} ${d.name}` })) });
    }
    if (input.action === 'add') {
      const d = input.date ? parseDate(input.date, roster.timeZone, ctx.now.getTime()) : null;
      if (!d) throw new CommandError('INVALID_INPUT', 'date: write e.g. 2026-12-25 or 25/12', { date: 'not a date' });
      const name = input.name || 'Holiday';
      await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.addHolidays(w, roster.id, [{ date: dateKey(d), name }]));
      return message({ text: `${dateKey(d)} ${name} is a holiday on ${roster.name}: covered all day.` });
    }
    if (input.action === 'remove') {
      const d = input.date ? parseDate(input.date, roster.timeZone, ctx.now.getTime()) : null;
      if (!d) throw new CommandError('INVALID_INPUT', 'date: write e.g. 2026-12-25', { date: 'not a date' });
      const removed = await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.removeHoliday(w, roster.id, dateKey(d)));
      if (!removed) throw new CommandError('UNKNOWN_HOLIDAY', `${dateKey(d)} is not a holiday on ${roster.name}.`);
      return message({ text: `${dateKey(d)} is no longer a holiday on ${roster.name}.` });
    }
    // import: a file path only from the console (the operator's own machine), else pasted text.
    let text = input.data;
    if (input.file) {
      if (ctx.caller.platform !== 'console') throw new CommandError('FORBIDDEN', 'file= works on the console only; in chat, paste the text into the import form.');
      try {
        text = fs.readFileSync(input.file, 'utf8');
      } catch (e) {
        throw new CommandError('FILE', `Could not read ${input.file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`, { file: 'unreadable' });
      }
    }
    if (!text?.trim()) throw new CommandError('INVALID_INPUT', 'Paste the CSV or iCalendar text (data=…), or give file=<path> on the console.', { data: 'required' });
    const parsed = /BEGIN:VCALENDAR/i.test(text) ? parseHolidayIcs(text, roster.timeZone, ctx.now.getTime()) : parseHolidayCsv(text);
    if (!parsed.ok) throw new CommandError('BAD_IMPORT', `Nothing imported:\n${parsed.errors.join('\n')}`, { data: parsed.errors[0] ?? 'invalid' });
    const added = await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.addHolidays(w, roster.id, parsed.days));
    return message({ text: `Imported ${parsed.days.length} holiday day${parsed.days.length === 1 ? '' : 's'} into ${roster.name} (${added} new).` });
  },
});
