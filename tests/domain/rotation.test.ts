import { tzOffset } from '@date-fns/tz';
import fc from 'fast-check';
import { boundary, isCovered, nextEpochStart, onDutyAt, schedule, shiftIndexAt, shiftOf, sortOverrides, type Override, type RosterPlan, type RotationRule } from '../../src/domain/rotation';
import { localOf, zonedInstant, offsetMinutes, dateKey, zoneAbbreviation } from '../../src/domain/zoned';

const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham', 'UTC'];
const START = { y: 2026, m: 1, d: 1 };
const THREE_YEARS = 3 * 366;
const MIN = 60_000;
const HOUR = 60 * MIN;

function plan(rule: RotationRule, extra: Partial<RosterPlan> = {}): RosterPlan {
  return { rule, members: ['ana', 'bo', 'cy', 'di'], backup: { mode: 'offset', offset: 1 }, coverage: [], holidays: new Set(), ...extra };
}

describe.each(ZONES)('daily handoffs in %s over three years', (tz) => {
  test.each([
    ['08:00', 8 * 60],
    ['02:30 (inside many DST gaps and overlaps)', 2 * 60 + 30],
    ['00:00', 0],
  ])('handoff at %s: local clock time, gap → first valid instant after, overlap → first occurrence', (_label, handoff) => {
    const rule: RotationRule = { timeZone: tz, unit: 'days', length: 1, handoff, start: START };
    let prev = boundary(rule, -1);
    let gaps = 0;
    for (let k = 0; k < THREE_YEARS; k++) {
      const b = boundary(rule, k);
      expect(b).toBeGreaterThan(prev);
      const local = localOf(tz, b);
      if (local.minutes !== handoff) {
        // Only a skipped local time may move, and only forward to the transition.
        gaps++;
        expect(offsetMinutes(tz, b)).toBeGreaterThan(offsetMinutes(tz, b - MIN));
        expect(localOf(tz, b - MIN).minutes).toBeLessThan(handoff === 0 ? 24 * 60 : handoff);
      } else {
        // First occurrence: no earlier instant shows the same wall time.
        for (const back of [30 * MIN, HOUR]) {
          const earlier = localOf(tz, b - back);
          expect(earlier.minutes === handoff && earlier.d === local.d).toBe(false);
        }
      }
      expect(shiftIndexAt(rule, b)).toBe(k);
      expect(shiftIndexAt(rule, b - 1)).toBe(k - 1);
      prev = b;
    }
    expect(gaps).toBeLessThanOrEqual(3);
  });

  test('12-hour shifts are exactly 12 elapsed hours, across DST', () => {
    const rule: RotationRule = { timeZone: tz, unit: 'hours', length: 12, handoff: 8 * 60, start: START };
    for (let k = 0; k < THREE_YEARS * 2; k++) expect(boundary(rule, k + 1) - boundary(rule, k)).toBe(12 * HOUR);
  });

  test('weekly shifts: someone on duty at every moment, and it matches the schedule', () => {
    const p = plan({ timeZone: tz, unit: 'weeks', length: 1, handoff: 9 * 60, start: START });
    const t0 = boundary(p.rule, 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: THREE_YEARS * 24 * 60 }), (minute) => {
        const t = t0 + minute * MIN;
        const on = onDutyAt(p, [], t);
        expect(on.primary).not.toBeNull();
        expect(on.backup).not.toBeNull();
        expect(on.backup).not.toBe(on.primary);
        expect(on.shift.start).toBeLessThanOrEqual(t);
        expect(on.shift.end).toBeGreaterThan(t);
        const row = schedule(p, [], t, t + 1)[0];
        expect(row?.primary).toBe(on.primary);
      }),
      { numRuns: 300 },
    );
  });
});

test('Europe/London: spring forward skips 01:30, fall back repeats it', () => {
  const tz = 'Europe/London';
  // 2026-03-29: 01:00 → 02:00. 01:30 does not exist: the handoff is at the jump, 01:00 UTC.
  expect(new Date(zonedInstant(tz, { y: 2026, m: 3, d: 29 }, 90)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
  // 2026-10-25: 02:00 → 01:00. 01:30 happens twice: the first is 00:30 UTC.
  expect(new Date(zonedInstant(tz, { y: 2026, m: 10, d: 25 }, 90)).toISOString()).toBe('2026-10-25T00:30:00.000Z');
});

test('Pacific/Chatham (+12:45/+13:45) and Asia/Kolkata (+5:30, no DST)', () => {
  expect(new Date(zonedInstant('Asia/Kolkata', { y: 2026, m: 6, d: 1 }, 8 * 60)).toISOString()).toBe('2026-06-01T02:30:00.000Z');
  expect(new Date(zonedInstant('Pacific/Chatham', { y: 2026, m: 6, d: 1 }, 8 * 60)).toISOString()).toBe('2026-05-31T19:15:00.000Z');
});

describe('coverage windows and holidays', () => {
  const rule: RotationRule = { timeZone: 'Europe/Paris', unit: 'weeks', length: 1, handoff: 18 * 60, start: { y: 2026, m: 11, d: 2 } };
  // Weekdays 18:00-08:00, all day at weekends and on holidays: the usual after-hours duty.
  const p = plan(rule, {
    coverage: [
      { days: [1, 2, 3, 4, 5], from: 18 * 60, to: 8 * 60 },
      { days: [0, 6], from: 0, to: 0 },
    ],
    holidays: new Set(['2026-12-25']),
  });
  const at = (d: number, hh: number, mm = 0) => zonedInstant('Europe/Paris', { y: 2026, m: 12, d }, hh * 60 + mm);

  test('office hours are not covered; evenings, nights, weekends and holidays are', () => {
    expect(isCovered(p, at(22, 12))).toBe(false); // Tuesday noon
    expect(isCovered(p, at(22, 18))).toBe(true); // Tuesday evening
    expect(isCovered(p, at(23, 7, 59))).toBe(true); // Wednesday before 08:00, from Tuesday's window
    expect(isCovered(p, at(23, 8))).toBe(false);
    expect(isCovered(p, at(26, 12))).toBe(true); // Saturday
    expect(isCovered(p, at(25, 12))).toBe(true); // Christmas, a Friday
    expect(onDutyAt(p, [], at(22, 12)).primary).toBeNull();
    expect(onDutyAt(p, [], at(22, 19)).primary).not.toBeNull();
  });

  test('nobody is missing inside a coverage window (property)', () => {
    const t0 = at(1, 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }), (minute) => {
        const t = t0 + minute * MIN;
        const on = onDutyAt(p, [], t);
        if (on.covered) expect(on.primary).not.toBeNull();
        else expect(on.primary).toBeNull();
      }),
      { numRuns: 2000 },
    );
    expect(dateKey(localOf('Europe/Paris', at(25, 12)))).toBe('2026-12-25');
  });
});

describe('overrides', () => {
  const rule: RotationRule = { timeZone: 'UTC', unit: 'days', length: 1, handoff: 8 * 60, start: { y: 2026, m: 12, d: 1 } };
  const p = plan(rule);
  const t = (d: number, h: number) => Date.UTC(2026, 11, d, h);
  const o = (id: string, memberId: string, replaces: string | null, from: number, to: number, seq: number, layer: 'primary' | 'backup' = 'primary'): Override => ({
    id,
    memberId,
    replaces,
    from,
    to,
    seq,
    layer,
    kind: 'cover',
  });

  test('an override beats the rotation; an override of it applies on top; removing the first restores the rotation', () => {
    expect(onDutyAt(p, [], t(1, 12)).primary).toBe('ana');
    const cover = o('1', 'cy', 'ana', t(1, 10), t(1, 20), 1);
    const coverOfCover = o('2', 'di', 'cy', t(1, 14), t(1, 16), 2);
    const both = sortOverrides([coverOfCover, cover]);
    expect(onDutyAt(p, both, t(1, 9)).primary).toBe('ana');
    expect(onDutyAt(p, both, t(1, 12)).primary).toBe('cy');
    expect(onDutyAt(p, both, t(1, 15)).primary).toBe('di');
    expect(onDutyAt(p, both, t(1, 15)).overrides.map((x) => x.id)).toEqual(['1', '2']);
    expect(onDutyAt(p, [coverOfCover], t(1, 15)).primary).toBe('ana');
    const rows = schedule(p, both, t(1, 8), t(2, 8));
    expect(rows.map((r) => [new Date(r.start).getUTCHours(), r.primary])).toEqual([
      [8, 'ana'],
      [10, 'cy'],
      [14, 'di'],
      [16, 'cy'],
      [20, 'ana'],
    ]);
  });

  test('an override for someone else does not apply; backup overrides touch only the backup', () => {
    expect(onDutyAt(p, [o('1', 'cy', 'bo', t(1, 10), t(1, 20), 1)], t(1, 12)).primary).toBe('ana');
    const on = onDutyAt(p, [o('1', 'di', null, t(1, 10), t(1, 20), 1, 'backup')], t(1, 12));
    expect([on.primary, on.backup]).toEqual(['ana', 'di']);
  });
});

test('cached offsets agree with the zone database at every instant, transitions included', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES, 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Africa/Casablanca'), fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2031, 0, 1) }), (tz, t) => {
      expect(offsetMinutes(tz, t)).toBe(tzOffset(tz, new Date(t)));
    }),
    { numRuns: 3000 },
  );
  for (const tz of ['Europe/London', 'Pacific/Chatham', 'America/Santiago', 'Australia/Lord_Howe']) {
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 15 * MIN) {
      const a = offsetMinutes(tz, t);
      const b = offsetMinutes(tz, t + 15 * MIN);
      if (a !== b) for (const dt of [-MIN, 0, MIN, 15 * MIN]) expect(offsetMinutes(tz, t + dt)).toBe(tzOffset(tz, new Date(t + dt)));
    }
  }
});

test('zone abbreviations as people know them, the offset where there is none', () => {
  const jan = Date.UTC(2026, 0, 15, 12);
  const jul = Date.UTC(2026, 6, 15, 12);
  expect([zoneAbbreviation('Europe/Paris', jan), zoneAbbreviation('Europe/Paris', jul)]).toEqual(['CET', 'CEST']);
  expect([zoneAbbreviation('America/New_York', jan), zoneAbbreviation('America/New_York', jul)]).toEqual(['EST', 'EDT']);
  expect(zoneAbbreviation('Europe/London', jul)).toBe('BST');
  expect(zoneAbbreviation('Asia/Kolkata', jan)).toBe('IST');
  expect(zoneAbbreviation('Australia/Sydney', jan)).toBe('AEDT');
  expect(zoneAbbreviation('UTC', jan)).toBe('UTC');
  expect(zoneAbbreviation('Asia/Kathmandu', jan)).toMatch(/^GMT\+5:45$/);
});

describe('changes take effect at the next handoff', () => {
  const rule: RotationRule = { timeZone: 'Europe/Paris', unit: 'days', length: 1, handoff: 18 * 60, start: { y: 2026, m: 11, d: 1 } };
  const base: RosterPlan = { rule, members: ['ana', 'bo', 'cy'], backup: { mode: 'offset', offset: 1 }, coverage: [], holidays: new Set() };
  const now = Date.parse('2026-11-22T12:00:00Z'); // Cy's shift (since 21 Nov 18:00 Paris); Ana is next

  test('removing the person on duty keeps their shift in progress and the past, and continues with whoever was next', () => {
    const members = ['ana', 'bo'];
    const { from, offset } = nextEpochStart(base, now, members);
    expect(new Date(from).toISOString()).toBe('2026-11-22T17:00:00.000Z');
    const plan: RosterPlan = { ...base, epochs: [{ from, rule, members, backup: base.backup, offset }] };
    expect(onDutyAt(plan, [], now).primary).toBe('cy');
    expect(onDutyAt(plan, [], Date.parse('2026-11-05T20:00:00Z')).primary).toBe(onDutyAt(base, [], Date.parse('2026-11-05T20:00:00Z')).primary);
    // Ana was next and still is; then Bo, then Ana.
    expect(schedule(plan, [], from, from + 3 * 86_400_000).map((r) => r.primary)).toEqual(['ana', 'bo', 'ana']);
  });

  test('moving the handoff gives one longer shift, then the new time; no gap and no overlap (property)', () => {
    const newRule: RotationRule = { ...rule, handoff: 19 * 60 };
    const { from, offset } = nextEpochStart(base, now, base.members);
    const plan: RosterPlan = { ...base, epochs: [{ from, rule: newRule, members: base.members, backup: base.backup, offset }] };
    const rows = schedule(plan, [], now - 5 * 86_400_000, now + 10 * 86_400_000);
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.start).toBe(rows[i - 1]?.end);
    const first = rows.find((r) => r.start === from);
    expect(first?.primary).toBe('ana');
    expect(((first?.end ?? 0) - from) / 3_600_000).toBe(25);
    fc.assert(
      fc.property(fc.integer({ min: now - 30 * 86_400_000, max: now + 30 * 86_400_000 }), (t) => {
        const sh = shiftOf(plan, t);
        expect(sh.start).toBeLessThanOrEqual(t);
        expect(sh.end).toBeGreaterThan(t);
        expect(onDutyAt(plan, [], t).primary).not.toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});
