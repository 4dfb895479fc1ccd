import {
  byPriority,
  caseFigures,
  nextRoundup,
  parseRoundupConfig,
  parseRoundupSent,
  parseRoundupTime,
  roundupInstant,
  roundupKey,
  tonightAt,
  urgent,
  type RoundupCaseFact,
} from '../../src/domain/roundup';
import { dateKey } from '../../src/domain/zoned';

const utc = (s: string) => Date.parse(s);

describe('roundup time and setting', () => {
  test('times are read as HH:MM (or H:MM, HHMM) and stored as HH:MM', () => {
    expect(parseRoundupTime('07:00')).toEqual({ ok: true, at: '07:00', minutes: 420 });
    expect(parseRoundupTime(' 7:30 ')).toEqual({ ok: true, at: '07:30', minutes: 450 });
    expect(parseRoundupTime('1815')).toEqual({ ok: true, at: '18:15', minutes: 1095 });
    for (const bad of ['25:00', '07:60', '7am', '', 'noon', '7']) {
      const r = parseRoundupTime(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain('HH:MM');
    }
  });

  test('the stored setting is validated: anything else reads as not configured', () => {
    expect(parseRoundupConfig({ at: '07:00', channel: 'slack:C1', enabled: true })).toEqual({ at: '07:00', channel: 'slack:C1', enabled: true });
    expect(parseRoundupConfig({ at: '7:00', channel: 'slack:C1', enabled: true })).toBeNull();
    expect(parseRoundupConfig({ at: '07:00', channel: '#leadership', enabled: true })).toBeNull();
    expect(parseRoundupConfig({ at: '07:00', channel: 'slack:C1' })).toBeNull();
    expect(parseRoundupConfig(undefined)).toBeNull();
    expect(parseRoundupSent({ date: '2026-11-22', job: 'j1' })).toEqual({ date: '2026-11-22', job: 'j1' });
    expect(parseRoundupSent({ date: '22/11/2026', job: 'j1' })).toBeNull();
  });

  test('a key per mission-local date and configured time', () => {
    expect(roundupKey({ y: 2026, m: 11, d: 22 }, '07:00')).toBe('roundup:2026-11-22@07:00');
  });
});

describe('when the next roundup is due', () => {
  const npt = 'Asia/Kathmandu';

  test("today's when its time has not passed, else tomorrow's; never a date already sent", () => {
    // 07:00 NPT (UTC+5:45) is 01:15 UTC.
    const before = nextRoundup(npt, '07:00', utc('2026-11-22T00:00:00Z'));
    expect(dateKey(before.date)).toBe('2026-11-22');
    expect(before.dueAt).toBe(utc('2026-11-22T01:15:00Z'));
    // Exactly at the time: due now.
    expect(nextRoundup(npt, '07:00', utc('2026-11-22T01:15:00Z')).dueAt).toBe(utc('2026-11-22T01:15:00Z'));
    expect(nextRoundup(npt, '07:00', utc('2026-11-22T01:15:00.001Z')).dueAt).toBe(utc('2026-11-23T01:15:00Z'));
    // Sent today already (the time was moved later): tomorrow's.
    const moved = nextRoundup(npt, '09:00', utc('2026-11-22T02:00:00Z'), '2026-11-22');
    expect(dateKey(moved.date)).toBe('2026-11-23');
    expect(moved.dueAt).toBe(utc('2026-11-23T03:15:00Z'));
  });

  test('the local hour holds across daylight-saving changes', () => {
    const paris = 'Europe/Paris';
    // Spring forward on Sun 28 Mar 2027: 07:00 is 06:00 UTC on Saturday, 05:00 UTC on Sunday.
    expect(nextRoundup(paris, '07:00', utc('2027-03-27T06:00:00.001Z')).dueAt).toBe(utc('2027-03-28T05:00:00Z'));
    expect(roundupInstant(paris, { y: 2027, m: 3, d: 27 }, '07:00')).toBe(utc('2027-03-27T06:00:00Z'));
    // 02:30 does not exist that night: the first valid instant after it, 03:00 CEST.
    expect(roundupInstant(paris, { y: 2027, m: 3, d: 28 }, '02:30')).toBe(utc('2027-03-28T01:00:00Z'));
    // Fall back on Sun 25 Oct 2026: 02:30 happens twice; the first (CEST) is meant.
    expect(roundupInstant(paris, { y: 2026, m: 10, d: 25 }, '02:30')).toBe(utc('2026-10-25T00:30:00Z'));
    // Sat 24 Oct 07:00 CEST has passed at 06:00 UTC: Sun 25 Oct 07:00 CET, 06:00 UTC.
    expect(nextRoundup(paris, '07:00', utc('2026-10-24T06:00:00Z')).dueAt).toBe(utc('2026-10-25T06:00:00Z'));
  });

  test('"tonight" is 22:00 mission time of the day, until it has passed', () => {
    expect(tonightAt('Asia/Kathmandu', utc('2026-11-22T01:15:00Z'))).toBe(utc('2026-11-22T16:15:00Z'));
    expect(tonightAt('Asia/Kathmandu', utc('2026-11-22T17:00:00Z'))).toBeNull();
  });
});

describe('case figures', () => {
  const tz = 'Asia/Kathmandu';
  const now = utc('2026-11-22T01:15:00Z'); // Sun 22 Nov 07:00 NPT
  const fact = (ref: string, priority: string, openedAt: string, resolvedAt: string | null = null, status = 'new'): RoundupCaseFact => ({
    ref,
    category: 'arrest',
    priority,
    status,
    openedAt: utc(openedAt),
    resolvedAt: resolvedAt ? utc(resolvedAt) : null,
  });

  test('the last 24 hours: opened and resolved, P1 first; per mission-local day over 14 days', () => {
    const cases = [
      fact('C-2026-00003', 'P3', '2026-11-21T20:00:00Z'),
      fact('C-2026-00002', 'P1', '2026-11-21T20:00:00Z'),
      fact('C-2026-00004', 'P2', '2026-11-21T02:00:00Z', '2026-11-21T12:00:00Z', 'resolved'),
      // Opened 25 hours ago, resolved within the window.
      fact('C-2026-00001', 'P1', '2026-11-21T00:15:00Z', '2026-11-21T21:00:00Z', 'closed'),
      // Before the chart: counted nowhere but in the lists it moved in.
      fact('C-2026-00009', 'P4', '2026-10-01T00:00:00Z', '2026-11-21T22:00:00Z', 'resolved'),
      // 00:05 NPT on 9 Nov (18:20 UTC the day before): the chart's first day, in mission time.
      fact('C-2026-00010', 'P4', '2026-11-08T18:20:00Z'),
      // 23:50 NPT on 8 Nov: before the chart.
      fact('C-2026-00011', 'P4', '2026-11-08T18:05:00Z'),
    ];
    const f = caseFigures(cases, tz, now);
    expect(f.opened.map((c) => c.ref)).toEqual(['C-2026-00002', 'C-2026-00004', 'C-2026-00003']);
    expect(f.resolved.map((c) => c.ref)).toEqual(['C-2026-00001', 'C-2026-00004', 'C-2026-00009']);
    expect(f.perDay).toHaveLength(14);
    expect(f.perDay[0]).toEqual({ date: '2026-11-09', opened: 1, resolved: 0 });
    expect(f.perDay[13]?.date).toBe('2026-11-22');
    const day = (d: string) => f.perDay.find((x) => x.date === d);
    // 20:00 UTC on the 21st is 01:45 NPT on the 22nd; 21:00 and 22:00 UTC are 02:45 and 03:45.
    expect(day('2026-11-22')).toEqual({ date: '2026-11-22', opened: 2, resolved: 2 });
    expect(day('2026-11-21')).toEqual({ date: '2026-11-21', opened: 2, resolved: 1 });
    expect(f.perDay.reduce((a, x) => a + x.opened, 0)).toBe(5);
    expect(f.perDay.reduce((a, x) => a + x.resolved, 0)).toBe(3);
    expect(byPriority(f.opened)).toEqual({ P1: 1, P2: 1, P3: 1, P4: 0 });
    expect(urgent(f.opened).map((c) => c.ref)).toEqual(['C-2026-00002', 'C-2026-00004']);
  });

  test('the chart starts on the 14th day back', () => {
    const f = caseFigures([fact('C-2026-00010', 'P4', '2026-11-09T00:00:00Z')], tz, now);
    expect(f.perDay[0]).toEqual({ date: '2026-11-09', opened: 1, resolved: 0 });
  });
});
