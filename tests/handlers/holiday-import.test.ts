import { parseHolidayCsv, parseHolidayIcs } from '../../src/handlers/roster/holidays.command';

const NOW = Date.parse('2026-11-22T16:00:00Z');
const ics = (...events: string[][]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', ...events.flatMap((e, i) => ['BEGIN:VEVENT', `UID:${i}@t`, 'DTSTAMP:20260101T000000Z', ...e, 'END:VEVENT']), 'END:VCALENDAR'].join('\r\n');

test('iCalendar: all-day spans, a timed event ending at midnight, yearly rules', () => {
  const r = parseHolidayIcs(
    ics(
      ['DTSTART;VALUE=DATE:20261224', 'DTEND;VALUE=DATE:20261227', 'SUMMARY:Christmas'],
      ['DTSTART:20270101T000000Z', 'DTEND:20270102T000000Z', 'SUMMARY:New Year'],
      ['DTSTART;VALUE=DATE:20270714', 'RRULE:FREQ=YEARLY', 'SUMMARY:Fête nationale'],
    ),
    'UTC',
    NOW,
  );
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  const dates = r.days.map((d) => d.date);
  expect(dates).toEqual(expect.arrayContaining(['2026-12-24', '2026-12-25', '2026-12-26', '2027-01-01', '2027-07-14', '2028-07-14']));
  expect(dates).not.toContain('2026-12-27');
  expect(dates).not.toContain('2027-01-02');
});

test('iCalendar: an event longer than 60 days, or a file that is not iCalendar, is refused whole', () => {
  const long = parseHolidayIcs(ics(['DTSTART;VALUE=DATE:20270101', 'DTEND;VALUE=DATE:20270501', 'SUMMARY:Season']), 'UTC', NOW);
  expect(long).toEqual({ ok: false, errors: ['"Season" lasts 120 days; holidays are at most 60 days long'] });
  expect(parseHolidayIcs('BEGIN:VCALENDAR\r\nthis is not', 'UTC', NOW).ok).toBe(false);
});

test('CSV: header or not, DD/MM/YYYY, a BOM; one bad row refuses the file', () => {
  expect(parseHolidayCsv('\uFEFFDate;Name\n'.replace(';', ',') + '25/12/2026,Christmas\n')).toEqual({ ok: true, days: [{ date: '2026-12-25', name: 'Christmas' }] });
  expect(parseHolidayCsv('2026-12-25,Christmas\n2027-01-01,New Year\n')).toEqual({
    ok: true,
    days: [
      { date: '2026-12-25', name: 'Christmas' },
      { date: '2027-01-01', name: 'New Year' },
    ],
  });
  const bad = parseHolidayCsv('date,name\n2026-12-25,Christmas\n2026-02-30,Nope\n"unclosed,quote\n');
  expect(bad.ok).toBe(false);
});
