import { parseDate, parseDateTime } from '../../src/domain/datetime-input';
import { dateKey } from '../../src/domain/zoned';

// Sunday 22 November 2026, 16:00 UTC (17:00 in Paris).
const NOW = Date.parse('2026-11-22T16:00:00Z');
const iso = (r: ReturnType<typeof parseDateTime>): string => (r.ok ? new Date(r.instant).toISOString() : `error: ${r.error}`);

test.each([
  ['2026-12-24 18:00', 'Europe/Paris', '2026-12-24T17:00:00.000Z'],
  ['2026-12-24T18:00', 'Europe/Paris', '2026-12-24T17:00:00.000Z'],
  ['24/12 18:00', 'Europe/Paris', '2026-12-24T17:00:00.000Z'],
  ['24/12/2027 18:00', 'Europe/Paris', '2027-12-24T17:00:00.000Z'],
  ['tomorrow 08:00', 'Europe/Paris', '2026-11-23T07:00:00.000Z'],
  ['today 18:00', 'America/New_York', '2026-11-22T23:00:00.000Z'],
  ['fri 18:00', 'Europe/Paris', '2026-11-27T17:00:00.000Z'],
  ['Friday 18:00', 'Asia/Kolkata', '2026-11-27T12:30:00.000Z'],
  // Today is Sunday; 10:00 has passed in Paris, so "sun 10:00" is next week.
  ['sun 10:00', 'Europe/Paris', '2026-11-29T09:00:00.000Z'],
  ['sun 20:00', 'Europe/Paris', '2026-11-22T19:00:00.000Z'],
  ['18:00', 'UTC', '2026-11-22T18:00:00.000Z'],
  ['now', 'UTC', '2026-11-22T16:00:00.000Z'],
  ['2026-12-01T08:00:00.000Z', 'Pacific/Chatham', '2026-12-01T08:00:00.000Z'],
  // 1 January: the next one, since 1/1 of this year has passed.
  ['1/1 00:00', 'UTC', '2027-01-01T00:00:00.000Z'],
])('%s in %s', (text, tz, expected) => {
  expect(iso(parseDateTime(text, tz, NOW))).toBe(expected);
});

test.each(['someday', '31/02 10:00', '2026-13-01', 'fri 25:00', 'next week please', ''])('"%s" is refused with a message', (text) => {
  const r = parseDateTime(text, 'UTC', NOW);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toMatch(/is not a (date|time)/);
});

test('a date alone takes the default time (e.g. the handoff)', () => {
  expect(iso(parseDateTime('2026-12-24', 'Europe/London', NOW, 8 * 60))).toBe('2026-12-24T08:00:00.000Z');
  expect(dateKey(parseDate('fri', 'UTC', NOW) ?? { y: 0, m: 0, d: 0 })).toBe('2026-11-27');
  expect(parseDate('yesterday', 'UTC', NOW)).toEqual({ y: 2026, m: 11, d: 21 });
});
