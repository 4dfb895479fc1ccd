import fc from 'fast-check';
import {
  AUTOMATIC_BANNER,
  formatCadence,
  formatChange,
  formatSitrepItems,
  formatSitrepTime,
  latePolicySchema,
  MAX_SITREP_ITEM,
  MAX_SITREP_ITEMS,
  MAX_SITREP_TEXT,
  nextSitrepDue,
  onMissedDeadline,
  parseCadence,
  parseCaseRefs,
  proposeSitrep,
  withNamedCases,
  parseLatePolicy,
  parseSitrepItems,
  renderSitrepMarkdown,
  reviewDueAt,
  sitrepActionsSchema,
  sitrepConditions,
  sitrepEditSchema,
  sitrepNeedsSchema,
  type Cadence,
  type SitrepDraft,
} from '../../src/domain/sitrep';
import { PERSON_STATUSES } from '../../src/domain/person';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const utc = (s: string) => Date.parse(s);

function ok(input: string): Cadence {
  const r = parseCadence(input);
  if (!r.ok) throw new Error(`expected ${input} to parse: ${r.error}`);
  return r.value;
}

function err(input: string): string {
  const r = parseCadence(input);
  if (r.ok) throw new Error(`expected ${input} to fail`);
  return r.error;
}

describe('parseCadence', () => {
  it('reads intervals', () => {
    expect(ok('every 6h')).toEqual({ kind: 'every', ms: 6 * HOUR });
    expect(ok('6h')).toEqual({ kind: 'every', ms: 6 * HOUR });
    expect(ok('Every  12 hours')).toEqual({ kind: 'every', ms: 12 * HOUR });
    expect(ok('every 1h30m')).toEqual({ kind: 'every', ms: 90 * MINUTE });
    expect(ok('every 2 days')).toEqual({ kind: 'every', ms: 2 * DAY });
    expect(ok('7d')).toEqual({ kind: 'every', ms: 7 * DAY });
  });

  it('reads fixed local times, sorted', () => {
    expect(ok('daily 08:00')).toEqual({ kind: 'at', minutes: [480] });
    expect(ok('daily at 8:30')).toEqual({ kind: 'at', minutes: [510] });
    expect(ok('twice daily 20:00 08:00')).toEqual({ kind: 'at', minutes: [480, 1200] });
    expect(ok('daily 06:00, 12:00 and 18:00')).toEqual({ kind: 'at', minutes: [360, 720, 1080] });
  });

  it('reads none and off', () => {
    expect(ok('none')).toEqual({ kind: 'none' });
    expect(ok(' OFF ')).toEqual({ kind: 'none' });
  });

  it('explains what is wrong', () => {
    expect(err('every 30m')).toBe('"every 30m" is too often; SITREPs are at most hourly (every 1h)');
    expect(err('every 8d')).toMatch(/too far apart.*at least weekly/);
    expect(err('every 200h')).toMatch(/too far apart/);
    expect(err('')).toMatch(/a cadence is required/);
    expect(err('sometimes')).toBe('"sometimes" is not a cadence; write e.g. every 6h, daily 08:00, twice daily 08:00 20:00 or none');
    expect(err('daily')).toMatch(/needs a time of day; write e.g. daily 08:00/);
    expect(err('daily 25:00')).toBe('"25:00" is not a time of day; use 24-hour HH:MM, e.g. 08:00 or 20:30');
    expect(err('daily 08:61')).toMatch(/not a time of day/);
    expect(err('twice daily 08:00')).toMatch(/twice daily needs two times/);
    expect(err('daily 08:00 08:00')).toMatch(/gives 08:00 twice/);
  });

  it('formats back to text that parses to the same cadence', () => {
    for (const c of [ok('every 6h'), ok('every 1h30m'), ok('every 2d'), ok('daily 08:00'), ok('twice daily 08:00 20:00'), ok('daily 06:00 12:00 18:00'), ok('off')]) {
      expect(ok(formatCadence(c))).toEqual(c);
    }
    expect(formatCadence({ kind: 'every', ms: 6 * HOUR })).toBe('every 6h');
    expect(formatCadence({ kind: 'at', minutes: [480, 1200] })).toBe('twice daily 08:00 20:00');
    expect(formatCadence({ kind: 'none' })).toBe('none');
  });
});

describe('nextSitrepDue', () => {
  const every6h: Cadence = { kind: 'every', ms: 6 * HOUR };

  it('is null without a cadence', () => {
    expect(nextSitrepDue({ kind: 'none' }, null, utc('2026-03-01T00:00:00Z'), 'UTC')).toBeNull();
  });

  it('counts an interval from the last SITREP, in elapsed time across a DST change', () => {
    // 00:00 GMT on 29 March 2026; clocks go forward at 01:00 UTC, so 6 hours later is 07:00 BST.
    const last = utc('2026-03-29T00:00:00Z');
    const due = nextSitrepDue(every6h, last, last + HOUR, 'Europe/London') as number;
    expect(due).toBe(utc('2026-03-29T06:00:00Z'));
    expect(localOfMinutes('Europe/London', due)).toBe(7 * 60);
  });

  it('starts an interval from now, rounded up to the minute, before the first SITREP', () => {
    const now = utc('2026-05-01T10:00:20Z');
    expect(nextSitrepDue(every6h, null, now, 'UTC')).toBe(utc('2026-05-01T16:01:00Z'));
    expect(nextSitrepDue(every6h, null, utc('2026-05-01T10:00:00Z'), 'UTC')).toBe(utc('2026-05-01T16:00:00Z'));
  });

  it('returns an overdue time as it is, for the late policy', () => {
    const last = utc('2026-05-01T00:00:00Z');
    expect(nextSitrepDue(every6h, last, utc('2026-05-01T09:00:00Z'), 'UTC')).toBe(utc('2026-05-01T06:00:00Z'));
  });

  it('finds the next fixed time later today or tomorrow, in mission time', () => {
    const twice: Cadence = { kind: 'at', minutes: [8 * 60, 20 * 60] };
    // Kathmandu is UTC+5:45: 10:00 local is 04:15 UTC.
    const morning = utc('2026-11-22T04:15:00Z');
    expect(nextSitrepDue(twice, null, morning, 'Asia/Kathmandu')).toBe(utc('2026-11-22T14:15:00Z'));
    const night = utc('2026-11-22T16:15:00Z'); // 22:00 local
    expect(nextSitrepDue(twice, null, night, 'Asia/Kathmandu')).toBe(utc('2026-11-23T02:15:00Z'));
    // Exactly at a slot: strictly after, so the next one.
    expect(nextSitrepDue(twice, null, utc('2026-11-22T02:15:00Z'), 'Asia/Kathmandu')).toBe(utc('2026-11-22T14:15:00Z'));
  });

  it('keeps local time across the London spring change', () => {
    const daily8: Cadence = { kind: 'at', minutes: [8 * 60] };
    // 09:00 GMT on Saturday 28 March; the next 08:00 is Sunday, by then BST (07:00 UTC).
    expect(nextSitrepDue(daily8, null, utc('2026-03-28T09:00:00Z'), 'Europe/London')).toBe(utc('2026-03-29T07:00:00Z'));
    // 01:30 does not exist on 29 March: the first valid instant after it, 02:00 BST.
    expect(nextSitrepDue({ kind: 'at', minutes: [90] }, null, utc('2026-03-28T23:00:00Z'), 'Europe/London')).toBe(utc('2026-03-29T01:00:00Z'));
  });

  it('does not ask again for a slot published early during review', () => {
    const twice: Cadence = { kind: 'at', minutes: [8 * 60, 20 * 60] };
    const published = utc('2026-06-01T07:45:00Z');
    expect(nextSitrepDue(twice, published, published + MINUTE, 'UTC')).toBe(utc('2026-06-01T20:00:00Z'));
  });

  it('is always after now for fixed times, and not before now for intervals just published', () => {
    const zones = fc.constantFrom('UTC', 'Europe/London', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham');
    const start = utc('2024-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        zones,
        fc.integer({ min: start, max: start + 3 * 365 * DAY }),
        fc.uniqueArray(fc.integer({ min: 0, max: 1439 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 7 * 24 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (zone, now, minutes, hours, frac) => {
          const at = nextSitrepDue({ kind: 'at', minutes }, null, now, zone) as number;
          expect(at).toBeGreaterThan(now);
          expect(at - now).toBeLessThanOrEqual(2 * DAY);
          const ms = hours * HOUR;
          const last = now - Math.floor(frac * ms);
          expect(nextSitrepDue({ kind: 'every', ms }, last, now, zone)).toBeGreaterThanOrEqual(now);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function localOfMinutes(zone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(instant));
  return Number(parts.find((p) => p.type === 'hour')?.value) * 60 + Number(parts.find((p) => p.type === 'minute')?.value);
}

describe('reviewDueAt', () => {
  it('is 30 minutes before the due time', () => {
    expect(reviewDueAt(utc('2026-05-01T12:00:00Z'))).toBe(utc('2026-05-01T11:30:00Z'));
  });
});

describe('late policy', () => {
  it('parses leniently', () => {
    expect(parseLatePolicy('publish-draft')).toBe('publish-draft');
    expect(parseLatePolicy('Publish automatically')).toBe('publish-draft');
    expect(parseLatePolicy('auto')).toBe('publish-draft');
    expect(parseLatePolicy('REMIND')).toBe('remind');
    expect(parseLatePolicy('remind again')).toBe('remind');
    expect(parseLatePolicy('shrug')).toBeNull();
    const r = latePolicySchema.safeParse('shrug');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('"shrug" is not a late policy; use publish-draft or remind');
  });

  it('publishes automatically or reminds every 15 minutes four times, then hourly', () => {
    expect(onMissedDeadline('publish-draft', 1)).toEqual({ action: 'publish-automatic' });
    expect([1, 2, 3].map((a) => onMissedDeadline('remind', a))).toEqual(Array(3).fill({ action: 'remind', nextInMs: 15 * MINUTE }));
    // Reminders 1-4 go out at 0, 15, 30 and 45 minutes; after the fourth the wait is an hour.
    expect(onMissedDeadline('remind', 4)).toEqual({ action: 'remind', nextInMs: HOUR });
    expect(onMissedDeadline('remind', 10)).toEqual({ action: 'remind', nextInMs: HOUR });
    expect(onMissedDeadline('remind', 0)).toEqual({ action: 'remind', nextInMs: 15 * MINUTE });
  });
});

describe('conditions', () => {
  const current = new Map([
    ['safe', 40],
    ['unaccounted', 12],
    ['injured', 3],
    ['evacuated', 5],
  ]);

  it('lists every status in order with no change before the first SITREP', () => {
    const c = sitrepConditions(current, null);
    expect(c.rows.map((r) => r.status)).toEqual([...PERSON_STATUSES]);
    expect(c.rows[0]).toEqual({ status: 'unaccounted', label: 'Unaccounted', count: 12, change: null });
    expect(c.rows.find((r) => r.status === 'missing')).toEqual({ status: 'missing', label: 'Missing', count: 0, change: null });
    expect(c.total).toEqual({ count: 60, change: null });
  });

  it('gives the change since the previous SITREP', () => {
    const previous = new Map([
      ['safe', 37],
      ['unaccounted', 14],
      ['injured', 3],
      ['missing', 1],
    ]);
    const c = sitrepConditions(current, previous);
    const by = new Map(c.rows.map((r) => [r.status, r.change]));
    expect(by.get('safe')).toBe(3);
    expect(by.get('unaccounted')).toBe(-2);
    expect(by.get('injured')).toBe(0);
    expect(by.get('missing')).toBe(-1);
    expect(by.get('evacuated')).toBe(5);
    expect(c.total).toEqual({ count: 60, change: 5 });
  });

  it('formats changes with a true minus sign', () => {
    expect(formatChange(3)).toBe('+3');
    expect(formatChange(-2)).toBe('\u22122');
    expect(formatChange(-2)).not.toContain('-');
    expect(formatChange(0)).toBe('±0');
    expect(formatChange(null)).toBe('new');
    expect(formatChange(12345)).toBe('+12,345');
  });
});

describe('renderSitrepMarkdown', () => {
  const draft: SitrepDraft = {
    crisisCode: 'NP-EQ',
    crisisName: 'Nepal earthquake',
    number: 4,
    at: utc('2026-11-22T12:15:00Z'),
    timeZone: 'Asia/Kathmandu',
    conditions: sitrepConditions(new Map([['safe', 40], ['unaccounted', 12]]), new Map([['safe', 35], ['unaccounted', 14]])),
    incidents: ['Aftershock M5.1 at 14:20 local', 'Road to Pokhara closed'],
    actions: ['Coach 2 left Kathmandu with 38 people', 'Case C-2026-0042 escalated'],
    needs: [],
    nextAt: utc('2026-11-23T00:15:00Z'),
    automatic: false,
  };

  it('has a header with the time in mission zone and UTC', () => {
    const md = renderSitrepMarkdown(draft);
    expect(md.split('\n')[0]).toBe('# SITREP 4 — NP-EQ (Nepal earthquake)');
    expect(md).toMatch(/\*\*As of:\*\* Sun 22 Nov 2026 18:00 \S+ \(12:15 UTC\)/);
    expect(formatSitrepTime(utc('2026-07-01T12:00:00Z'), 'Europe/London')).toBe('Wed 1 Jul 2026 13:00 BST (12:00 UTC)');
    // The UTC date is given when it is not the local one.
    expect(formatSitrepTime(utc('2026-11-22T20:00:00Z'), 'Asia/Kathmandu')).toMatch(/^Mon 23 Nov 2026 01:45 \S+ \(Sun 22 Nov 20:00 UTC\)$/);
    expect(formatSitrepTime(utc('2026-01-05T09:00:00Z'), 'UTC')).toBe('Mon 5 Jan 2026 09:00 UTC');
  });

  it('has the conditions table with changes, and the sections', () => {
    const md = renderSitrepMarkdown(draft);
    expect(md).toContain('## Conditions\n\n| Status | People | Change |\n| --- | ---: | ---: |\n| Unaccounted | 12 | \u22122 |\n| Safe | 40 | +5 |');
    expect(md).toContain('| Missing | 0 | ±0 |');
    expect(md).toContain('| **Total** | **52** | **+3** |');
    expect(md).toContain('### Key incidents\n\n- Aftershock M5.1 at 14:20 local\n- Road to Pokhara closed');
    expect(md).toContain('## Actions\n\n- Coach 2 left Kathmandu with 38 people\n- Case C-2026-0042 escalated');
    expect(md).toContain('## Needs\n\n_None reported._');
    expect(md).toMatch(/## Next SITREP\n\nMon 23 Nov 2026 06:00 \S+ \(00:15 UTC\)/);
    expect(md).not.toContain(AUTOMATIC_BANNER);
  });

  it('marks an automatic draft and an unscheduled next SITREP', () => {
    const md = renderSitrepMarkdown({ ...draft, automatic: true, nextAt: null });
    expect(md).toContain('> **AUTOMATIC DRAFT — not reviewed**');
    expect(md).toContain('## Next SITREP\n\n_Not scheduled._');
  });

  it('keeps each item on one line', () => {
    const md = renderSitrepMarkdown({ ...draft, needs: ['Two more\n# coaches', '   '] });
    expect(md).toContain('## Needs\n\n- Two more # coaches\n');
    expect(md).not.toMatch(/^# coaches/m);
  });
});

describe('editable parts', () => {
  it('reads one item per line, dropping blanks and bullets', () => {
    expect(sitrepActionsSchema.parse('- Coach left\n\n* Flight booked\r\n• Case C-1 closed\n  plain  ')).toEqual(['Coach left', 'Flight booked', 'Case C-1 closed', 'plain']);
    expect(sitrepNeedsSchema.parse('')).toEqual([]);
    expect(formatSitrepItems(['a', 'b'])).toBe('a\nb');
    const back = parseSitrepItems(formatSitrepItems(['one', 'two']), 'needs');
    expect(back).toEqual({ ok: true, value: ['one', 'two'] });
  });

  it('enforces the limits with clear messages', () => {
    const long = 'x'.repeat(MAX_SITREP_ITEM + 1);
    expect(parseSitrepItems(`fine\n${long}`, 'needs')).toEqual({ ok: false, error: 'needs: line 2 has 501 characters; keep each item to 500 or fewer' });
    expect(parseSitrepItems('x'.repeat(MAX_SITREP_ITEM), 'needs').ok).toBe(true);
    const many = Array.from({ length: MAX_SITREP_ITEMS + 1 }, (_, i) => `item ${i}`).join('\n');
    expect(parseSitrepItems(many, 'actions')).toEqual({ ok: false, error: 'actions: 31 items is too many; at most 30, one per line' });
    const huge = Array.from({ length: 20 }, () => 'y'.repeat(450)).join('\n');
    expect(huge.length).toBeGreaterThan(MAX_SITREP_TEXT);
    expect(parseSitrepItems(huge, 'incidents')).toEqual({ ok: false, error: 'incidents: 9,019 characters is too long; at most 8,000' });

    const r = sitrepEditSchema.safeParse({ incidents: many.replace(/\n/g, '\n\n'), needs: 42 });
    expect(r.success).toBe(false);
    const messages = r.error?.issues.map((i) => i.message) ?? [];
    expect(messages).toContain('incidents: 31 items is too many; at most 30, one per line');
    expect(messages).toContain('needs must be text, one item per line');
    expect(sitrepEditSchema.parse({ actions: 'one' })).toEqual({ actions: ['one'] });
  });
});

describe('proposeSitrep: what a draft proposes from live data', () => {
  const base = {
    previousNumber: 3,
    reportedSince: new Map([['deceased', 1], ['injured', 2], ['safe', 40]]),
    needs: new Map([['shelter', 3], ['medical', 5], ['other', 0]]),
    needLabels: { medical: 'Medical care', shelter: 'Shelter' },
    movements: [
      { kind: 'flight', number: 2, name: 'KTM-DEL', departureAt: Date.parse('2026-11-23T04:15:00Z'), capacity: 180, taken: 150, status: 'planned' },
      { kind: 'bus', number: 1, name: 'Pokhara to Kathmandu', departureAt: Date.parse('2026-11-22T02:15:00Z'), capacity: 40, taken: 44, status: 'departed' },
    ],
    cases: [
      { ref: 'C-2026-00007', category: 'death', priority: 'P1', status: 'new' },
      { ref: 'C-2026-00009', category: 'detention', priority: 'P2', status: 'in-progress' },
    ],
    categoryLabels: { death: 'Death abroad', detention: 'Arrest or detention' },
    timeZone: 'Asia/Kathmandu',
  };

  test('incidents: new reports of serious statuses since the previous SITREP, then open P1 cases; safe reports are not incidents', () => {
    const p = proposeSitrep(base);
    expect(p.incidents).toEqual(['1 person newly reported deceased since SITREP 3', '2 people newly reported injured since SITREP 3', 'C-2026-00007: Death abroad (P1, new)']);
  });

  test('actions: movements in departure order with seats (never negative), then P2 cases by reference; needs largest first, zeros left out', () => {
    const p = proposeSitrep(base);
    expect(p.actions[0]).toBe('bus 1 Pokhara to Kathmandu: departed, departs Sun 22 Nov 2026 08:00 GMT+5:45 (02:15 UTC); 44/40 seats taken, 0 left');
    expect(p.actions[1]).toContain('flight 2 KTM-DEL: planned');
    expect(p.actions[2]).toBe('C-2026-00009: Arrest or detention (P2, in-progress)');
    expect(p.needs).toEqual(['Medical care: 5 people', 'Shelter: 3 people']);
  });

  test('the first SITREP counts since the crisis opened; nothing to report gives empty lists', () => {
    const p = proposeSitrep({ ...base, previousNumber: null, reportedSince: new Map([['missing', 1]]), needs: new Map(), movements: [], cases: [] });
    expect(p).toEqual({ incidents: ['1 person newly reported missing since the crisis opened'], actions: [], needs: [] });
  });

  test('no names unless a case is named', () => {
    const named = proposeSitrep({ ...base, cases: [{ ref: 'C-2026-00007', category: 'death', priority: 'P1', status: 'new', subjectName: 'Ann Example' }] });
    expect(named.actions).toContain('C-2026-00007 Ann Example: Death abroad (P1, new)');
    expect(JSON.stringify(proposeSitrep(base))).not.toMatch(/Ann Example/);
  });
});

describe('named cases', () => {
  test('parseCaseRefs: references upper-cased and de-duplicated; anything else refused', () => {
    expect(parseCaseRefs('c-2026-00042, C-2026-00042 C-2026-7')).toEqual({ ok: true, value: ['C-2026-00042', 'C-2026-7'] });
    expect(parseCaseRefs('')).toEqual({ ok: true, value: [] });
    expect(parseCaseRefs('Ann Example')).toMatchObject({ ok: false });
    expect(parseCaseRefs(Array.from({ length: 11 }, (_, i) => `C-2026-${i + 1}`).join(' '))).toMatchObject({ ok: false, error: expect.stringContaining('at most 10') });
  });

  test('withNamedCases replaces the line about a case, and drops a name the lead took out', () => {
    const labels = { death: 'Death abroad' };
    const named = withNamedCases(['Convoy left at 08:00', 'C-2026-00007: Death abroad (P1, new)'], [{ ref: 'C-2026-00007', category: 'death', priority: 'P1', status: 'new', subjectName: 'Ann Example' }], [], labels);
    expect(named).toEqual(['Convoy left at 08:00', 'C-2026-00007 Ann Example: Death abroad (P1, new)']);
    expect(withNamedCases(named, [], ['C-2026-00007'], labels)).toEqual(['Convoy left at 08:00']);
  });
});
