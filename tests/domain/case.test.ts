import fc from 'fast-check';
import {
  ackDueAt,
  CASE_CATEGORIES,
  CASE_PRIORITIES,
  CASE_STATUSES,
  caseCounterName,
  caseRefSchema,
  caseSubjectSchema,
  CATEGORY_LABELS,
  categorySchema,
  checkDateOfBirth,
  consentSchema,
  dateOfBirthSchema,
  DEFAULT_SERVICE_LEVELS,
  describeServiceLevel,
  formatCaseRef,
  formatServiceLevelInput,
  FULL_DETAIL_ROLES,
  fullNameSchema,
  initialCaseState,
  initialsOf,
  isAckBreached,
  isOpenStatus,
  locationSchema,
  MAX_NOTE,
  MAX_OUTCOME,
  MAX_SUMMARY,
  maySeeFullDetails,
  median,
  nationalitySchema,
  nextOfKinSchema,
  nextUpdateDueAt,
  noteSchema,
  OPEN_STATUSES,
  openCaseInputSchema,
  parseCaseRef,
  parseCategory,
  parseConsent,
  parsePriority,
  parseReporterKind,
  parseServiceLevelInput,
  parseStatus,
  passportNumberSchema,
  percentile,
  PRIORITY_DESCRIPTIONS,
  prioritySchema,
  REPORTER_KINDS,
  REPORTER_LABELS,
  serviceLevelFor,
  serviceLevelOverrideSchema,
  STATUS_LABELS,
  statusSchema,
  subjectNameFor,
  summariseCases,
  summarySchema,
  transition,
  type CaseAction,
  type CaseForSummary,
  type CaseState,
  type CaseStatus,
  type CaseTransitionCode,
  type ServiceLevel,
  type ServiceLevelOverride,
} from '../../src/domain/case';
import { localOf } from '../../src/domain/zoned';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 22, 14, 0, 0);

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}
function err<T extends { ok: boolean }>(r: T): Extract<T, { ok: false }> {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: false }>;
}
function issue(r: { success: boolean; error?: { issues: { message: string }[] } }): string {
  if (r.success) throw new Error('expected the schema to refuse');
  return r.error?.issues[0]?.message ?? '';
}

// ---------------------------------------------------------------------------------------------

describe('categories', () => {
  it('are in the declared order with their labels', () => {
    expect(CASE_CATEGORIES).toEqual(['arrest', 'death', 'hospital', 'medical', 'document', 'crime', 'missing', 'welfare', 'abduction', 'forced-marriage', 'destitution', 'crisis', 'other']);
    expect(Object.keys(CATEGORY_LABELS)).toEqual([...CASE_CATEGORIES]);
    expect(CATEGORY_LABELS['forced-marriage']).toBe('Forced marriage');
    expect(CATEGORY_LABELS.document).toBe('Lost or stolen document');
  });

  it('parse from their code and label in any case', () => {
    for (const c of CASE_CATEGORIES) {
      expect(parseCategory(c)).toBe(c);
      expect(parseCategory(c.toUpperCase())).toBe(c);
      expect(parseCategory(CATEGORY_LABELS[c])).toBe(c);
      expect(parseCategory(`  ${CATEGORY_LABELS[c].toLowerCase()} `)).toBe(c);
    }
  });

  it.each([
    ['detention', 'arrest'],
    ['Arrested', 'arrest'],
    ['hospitalisation', 'hospital'],
    ['Hospitalization', 'hospital'],
    ['lost passport', 'document'],
    ['Stolen Passport', 'document'],
    ['passport', 'document'],
    ['crime victim', 'crime'],
    ['whereabouts', 'welfare'],
    ['repatriation', 'destitution'],
    ['forced marriage', 'forced-marriage'],
    ['FORCED_MARRIAGE', 'forced-marriage'],
    ['crisis related', 'crisis'],
    ['medical emergency', 'medical'],
    ['missing person', 'missing'],
  ])('%j → %s', (text, code) => {
    expect(parseCategory(text)).toBe(code);
  });

  it('refuses anything else', () => {
    for (const s of ['', '   ', 'parking ticket', 'arrest death']) expect(parseCategory(s)).toBeNull();
    expect(categorySchema.parse('Lost passport')).toBe('document');
    expect(issue(categorySchema.safeParse('parking'))).toBe('"parking" is not a case category; use one of arrest, death, hospital, medical, document, crime, missing, welfare, abduction, forced-marriage, destitution, crisis, other');
  });
});

describe('priorities', () => {
  it.each([
    ['P1', 'P1'],
    ['p2', 'P2'],
    [' 3 ', 'P3'],
    ['4', 'P4'],
    [1, 'P1'],
    ['priority 2', 'P2'],
  ])('%j → %s', (input, p) => {
    expect(parsePriority(input)).toBe(p);
  });

  it('refuses other values', () => {
    for (const s of ['', 'P0', 'P5', '5', 'high', 'P1x', 12]) expect(parsePriority(s)).toBeNull();
    expect(issue(prioritySchema.safeParse('urgent'))).toBe('"urgent" is not a priority; use P1 (life or liberty at stake), P2, P3 or P4 (routine)');
  });

  it('have descriptions, P1 about life or liberty and P4 routine', () => {
    expect(Object.keys(PRIORITY_DESCRIPTIONS)).toEqual([...CASE_PRIORITIES]);
    expect(PRIORITY_DESCRIPTIONS.P1.toLowerCase()).toContain('life or liberty at stake now');
    expect(PRIORITY_DESCRIPTIONS.P2.toLowerCase()).toContain('urgent');
    expect(PRIORITY_DESCRIPTIONS.P4.toLowerCase()).toContain('routine');
  });
});

describe('statuses', () => {
  it('are declared in order; open means not resolved or closed', () => {
    expect(CASE_STATUSES).toEqual(['new', 'acknowledged', 'in-progress', 'waiting', 'resolved', 'closed']);
    expect(OPEN_STATUSES).toEqual(['new', 'acknowledged', 'in-progress', 'waiting']);
    expect(CASE_STATUSES.filter(isOpenStatus)).toEqual(OPEN_STATUSES);
    expect(STATUS_LABELS.waiting).toBe('Waiting on a third party');
  });

  it.each([
    ['new', 'new'],
    ['ack', 'acknowledged'],
    ['Acknowledged', 'acknowledged'],
    ['in progress', 'in-progress'],
    ['inprogress', 'in-progress'],
    ['In-Progress', 'in-progress'],
    ['in_progress', 'in-progress'],
    ['waiting', 'waiting'],
    ['waiting on third party', 'waiting'],
    ['Waiting on a third party', 'waiting'],
    ['resolved', 'resolved'],
    ['CLOSED', 'closed'],
  ])('%j → %s', (text, status) => {
    expect(parseStatus(text)).toBe(status);
  });

  it('refuses anything else', () => {
    expect(parseStatus('sleeping')).toBeNull();
    expect(parseStatus('')).toBeNull();
    expect(statusSchema.parse('in progress')).toBe('in-progress');
    expect(issue(statusSchema.safeParse('sleeping'))).toContain('"sleeping" is not a case status');
  });
});

// ---------------------------------------------------------------------------------------------

const BY = 'member-1';
const EARLIER = T0 - HOUR;

/** A consistent state in the given status, as the transitions would have left it. */
function stateIn(status: CaseStatus): CaseState {
  const s: CaseState = { ...initialCaseState(), status, version: 7 };
  if (status !== 'new') Object.assign(s, { acknowledgedAt: EARLIER, acknowledgedBy: 'member-0' });
  if (status === 'resolved') Object.assign(s, { resolvedAt: EARLIER, resolvedBy: 'member-0', outcome: 'Released without charge' });
  if (status === 'closed') Object.assign(s, { closedAt: EARLIER, closedBy: 'member-0', outcome: 'Duplicate of C-2026-00041' });
  return s;
}

const ACTIONS: Record<string, CaseAction> = {
  ack: { kind: 'acknowledge' },
  progress: { kind: 'set-status', status: 'in-progress' },
  wait: { kind: 'set-status', status: 'waiting', reason: 'Waiting for the police report' },
  resolve: { kind: 'resolve', outcome: 'Family informed, repatriation arranged' },
  close: { kind: 'close', outcome: 'Handed over to the crisis cell' },
  reopen: { kind: 'reopen', reason: 'New information from the hospital' },
};

type Expected = CaseStatus | CaseTransitionCode;
const TABLE: Record<CaseStatus, Record<keyof typeof ACTIONS, Expected>> = {
  new: { ack: 'acknowledged', progress: 'in-progress', wait: 'waiting', resolve: 'resolved', close: 'closed', reopen: 'TRANSITION_NOT_ALLOWED' },
  acknowledged: { ack: 'SAME_STATUS', progress: 'in-progress', wait: 'waiting', resolve: 'resolved', close: 'closed', reopen: 'TRANSITION_NOT_ALLOWED' },
  'in-progress': { ack: 'ALREADY_ACKNOWLEDGED', progress: 'SAME_STATUS', wait: 'waiting', resolve: 'resolved', close: 'closed', reopen: 'TRANSITION_NOT_ALLOWED' },
  waiting: { ack: 'ALREADY_ACKNOWLEDGED', progress: 'in-progress', wait: 'SAME_STATUS', resolve: 'resolved', close: 'closed', reopen: 'TRANSITION_NOT_ALLOWED' },
  resolved: { ack: 'TRANSITION_NOT_ALLOWED', progress: 'TRANSITION_NOT_ALLOWED', wait: 'TRANSITION_NOT_ALLOWED', resolve: 'SAME_STATUS', close: 'closed', reopen: 'in-progress' },
  closed: { ack: 'TRANSITION_NOT_ALLOWED', progress: 'TRANSITION_NOT_ALLOWED', wait: 'TRANSITION_NOT_ALLOWED', resolve: 'TRANSITION_NOT_ALLOWED', close: 'SAME_STATUS', reopen: 'in-progress' },
};

describe('transitions', () => {
  const rows = CASE_STATUSES.flatMap((from) => Object.keys(ACTIONS).map((action) => [from, action, TABLE[from][action] as Expected] as const));

  it.each(rows)('%s + %s → %s', (from, action, expected) => {
    const state = stateIn(from);
    const before = structuredClone(state);
    const r = transition(state, ACTIONS[action] as CaseAction, BY, T0);
    expect(state).toEqual(before);
    if ((CASE_STATUSES as readonly string[]).includes(expected)) {
      const { next, event } = ok(r);
      expect(next.status).toBe(expected);
      expect(next.version).toBe(state.version + 1);
      const a = ACTIONS[action] as CaseAction;
      const reason = 'reason' in a ? (a.reason ?? null) : 'outcome' in a ? (a.outcome ?? null) : null;
      expect(event).toEqual({ at: T0, by: BY, from, to: expected, reason });
    } else {
      const e = err(r);
      expect(e.code).toBe(expected);
      expect(e.message).toMatch(/^The case /);
    }
  });

  it('says what the status already is when nothing would change', () => {
    expect(err(transition(stateIn('waiting'), ACTIONS.wait as CaseAction, BY, T0)).message).toBe('The case is already waiting on a third party.');
    expect(err(transition(stateIn('in-progress'), ACTIONS.progress as CaseAction, BY, T0)).message).toBe('The case is already in progress.');
    expect(err(transition(stateIn('acknowledged'), ACTIONS.ack as CaseAction, BY, T0)).message).toBe('The case is already acknowledged.');
    expect(err(transition(stateIn('closed'), ACTIONS.close as CaseAction, BY, T0)).message).toBe('The case is already closed.');
    expect(err(transition(stateIn('closed'), ACTIONS.progress as CaseAction, BY, T0)).message).toBe('The case is closed; reopen it, with a reason, first.');
  });

  it('acknowledging a new case records who and when', () => {
    const { next, event } = ok(transition(initialCaseState(), { kind: 'acknowledge' }, BY, T0));
    expect(next).toEqual({ ...initialCaseState(), status: 'acknowledged', version: 2, acknowledgedAt: T0, acknowledgedBy: BY });
    expect(event).toEqual({ at: T0, by: BY, from: 'new', to: 'acknowledged', reason: null });
  });

  it.each<[CaseAction]>([[{ kind: 'set-status', status: 'in-progress' }], [{ kind: 'set-status', status: 'waiting' }], [{ kind: 'resolve', outcome: 'Done' }]])(
    'moving a new case on acknowledges it: %j',
    (action) => {
      const { next } = ok(transition(initialCaseState(), action, BY, T0));
      expect(next.acknowledgedAt).toBe(T0);
      expect(next.acknowledgedBy).toBe(BY);
    },
  );

  it('a later move keeps the first acknowledgement', () => {
    const { next } = ok(transition(stateIn('acknowledged'), { kind: 'set-status', status: 'in-progress' }, BY, T0));
    expect(next.acknowledgedAt).toBe(EARLIER);
    expect(next.acknowledgedBy).toBe('member-0');
  });

  it('closing a new case is not an acknowledgement', () => {
    const { next } = ok(transition(initialCaseState(), { kind: 'close', outcome: 'Opened by mistake' }, BY, T0));
    expect(next).toMatchObject({ status: 'closed', closedAt: T0, closedBy: BY, outcome: 'Opened by mistake', acknowledgedAt: null, resolvedAt: null });
  });

  it('set-status carries an optional, trimmed reason', () => {
    expect(ok(transition(stateIn('in-progress'), { kind: 'set-status', status: 'waiting', reason: '  Police report  ' }, BY, T0)).event.reason).toBe('Police report');
    expect(ok(transition(stateIn('in-progress'), { kind: 'set-status', status: 'waiting', reason: '   ' }, BY, T0)).event.reason).toBeNull();
    expect(ok(transition(stateIn('waiting'), { kind: 'set-status', status: 'in-progress' }, BY, T0)).event.reason).toBeNull();
    const e = err(transition(stateIn('in-progress'), { kind: 'set-status', status: 'waiting', reason: 'x'.repeat(1001) }, BY, T0));
    expect(e).toEqual({ ok: false, code: 'TEXT_TOO_LONG', message: 'The reason is 1,001 characters; keep it under 1,000.' });
  });

  describe('resolve', () => {
    it('needs an outcome, trimmed, at most 1000 characters', () => {
      expect(err(transition(stateIn('in-progress'), { kind: 'resolve', outcome: '  ' }, BY, T0)).code).toBe('OUTCOME_REQUIRED');
      expect(err(transition(stateIn('in-progress'), { kind: 'resolve', outcome: 'x'.repeat(MAX_OUTCOME + 1) }, BY, T0)).code).toBe('TEXT_TOO_LONG');
      const { next, event } = ok(transition(stateIn('in-progress'), { kind: 'resolve', outcome: ` ${'x'.repeat(MAX_OUTCOME)} ` }, BY, T0));
      expect(next.outcome).toBe('x'.repeat(MAX_OUTCOME));
      expect(event.reason).toBe(next.outcome);
    });

    it('records who resolved it and when', () => {
      const { next } = ok(transition(stateIn('waiting'), { kind: 'resolve', outcome: 'Released' }, BY, T0));
      expect(next).toMatchObject({ status: 'resolved', version: 8, resolvedAt: T0, resolvedBy: BY, outcome: 'Released', closedAt: null });
    });
  });

  describe('close', () => {
    it('from an open status needs an outcome', () => {
      for (const from of OPEN_STATUSES) {
        const e = err(transition(stateIn(from), { kind: 'close' }, BY, T0));
        expect(e.code).toBe('OUTCOME_REQUIRED');
        expect(e.message).toBe('Give an outcome to close the case: what happened, or why it is closed.');
        expect(err(transition(stateIn(from), { kind: 'close', outcome: ' ' }, BY, T0)).code).toBe('OUTCOME_REQUIRED');
      }
    });

    it('from resolved keeps the outcome unless a new one is given', () => {
      const kept = ok(transition(stateIn('resolved'), { kind: 'close' }, BY, T0));
      expect(kept.next).toMatchObject({ status: 'closed', outcome: 'Released without charge', resolvedAt: EARLIER, closedAt: T0, closedBy: BY });
      expect(kept.event.reason).toBeNull();
      const replaced = ok(transition(stateIn('resolved'), { kind: 'close', outcome: 'Final: case file sent to London' }, BY, T0));
      expect(replaced.next.outcome).toBe('Final: case file sent to London');
    });

    it('from resolved without an outcome on record still needs one', () => {
      const odd: CaseState = { ...stateIn('resolved'), outcome: null };
      expect(err(transition(odd, { kind: 'close' }, BY, T0)).code).toBe('OUTCOME_REQUIRED');
    });

    it('refuses an outcome over 1000 characters', () => {
      expect(err(transition(stateIn('resolved'), { kind: 'close', outcome: 'y'.repeat(1500) }, BY, T0)).message).toBe('The outcome is 1,500 characters; keep it under 1,000.');
    });
  });

  describe('reopen', () => {
    it('needs a reason', () => {
      for (const reason of ['', '   ']) {
        const e = err(transition(stateIn('resolved'), { kind: 'reopen', reason }, BY, T0));
        expect(e).toEqual({ ok: false, code: 'REASON_REQUIRED', message: 'Give a reason to reopen the case.' });
      }
      expect(err(transition(stateIn('closed'), { kind: 'reopen', reason: 'z'.repeat(1001) }, BY, T0)).code).toBe('TEXT_TOO_LONG');
    });

    it('is only for resolved or closed cases', () => {
      for (const from of OPEN_STATUSES) {
        const e = err(transition(stateIn(from), { kind: 'reopen', reason: 'Why not' }, BY, T0));
        expect(e.code).toBe('TRANSITION_NOT_ALLOWED');
        expect(e.message).toContain('not resolved or closed');
      }
    });

    it('goes to in progress and clears the resolution, keeping the acknowledgement', () => {
      for (const from of ['resolved', 'closed'] as const) {
        const { next, event } = ok(transition(stateIn(from), { kind: 'reopen', reason: ' Detained again ' }, BY, T0));
        expect(next).toEqual({ ...stateIn(from), status: 'in-progress', version: 8, resolvedAt: null, resolvedBy: null, closedAt: null, closedBy: null, outcome: null });
        expect(event).toEqual({ at: T0, by: BY, from, to: 'in-progress', reason: 'Detained again' });
      }
    });

    it('a case closed unacknowledged is acknowledged when reopened', () => {
      const closed = ok(transition(initialCaseState(), { kind: 'close', outcome: 'Duplicate' }, 'a', T0)).next;
      const { next } = ok(transition(closed, { kind: 'reopen', reason: 'Not a duplicate' }, 'b', T0 + MIN));
      expect(next).toMatchObject({ status: 'in-progress', version: 3, acknowledgedAt: T0 + MIN, acknowledgedBy: 'b' });
    });
  });

  it('keeps the fields of a richer state', () => {
    const state = { ...initialCaseState(), id: 'case-9', ref: 'C-2026-00009' };
    const { next } = ok(transition(state, { kind: 'acknowledge' }, BY, T0));
    expect(next.id).toBe('case-9');
    expect(next.ref).toBe('C-2026-00009');
  });

  it('property: never ok with an unchanged status; ok always bumps the version by one', () => {
    const text = fc.oneof(fc.constant(''), fc.constant('   '), fc.string({ maxLength: 20 }), fc.constant('w'.repeat(1001)));
    const action: fc.Arbitrary<CaseAction> = fc.oneof(
      fc.constant({ kind: 'acknowledge' as const }),
      fc.record({ kind: fc.constant('set-status' as const), status: fc.constantFrom('in-progress' as const, 'waiting' as const), reason: fc.option(text) }),
      fc.record({ kind: fc.constant('resolve' as const), outcome: text }),
      fc.record({ kind: fc.constant('close' as const), outcome: fc.option(text) }),
      fc.record({ kind: fc.constant('reopen' as const), reason: text }),
    );
    const state: fc.Arbitrary<CaseState> = fc.record({
      status: fc.constantFrom(...CASE_STATUSES),
      version: fc.integer({ min: 1, max: 1000 }),
      acknowledgedAt: fc.option(fc.integer({ min: 0, max: T0 })),
      acknowledgedBy: fc.option(fc.constant('m0')),
      resolvedAt: fc.option(fc.integer({ min: 0, max: T0 })),
      resolvedBy: fc.option(fc.constant('m0')),
      closedAt: fc.option(fc.integer({ min: 0, max: T0 })),
      closedBy: fc.option(fc.constant('m0')),
      outcome: fc.option(fc.string({ minLength: 1, maxLength: 10 })),
    });
    fc.assert(
      fc.property(state, action, (s, a) => {
        const r = transition(s, a, BY, T0);
        if (!r.ok) {
          expect(r.message.length).toBeGreaterThan(0);
          return;
        }
        expect(r.next.status).not.toBe(s.status);
        expect(r.next.version).toBe(s.version + 1);
        expect(r.event).toMatchObject({ at: T0, by: BY, from: s.status, to: r.next.status });
        if (['in-progress', 'waiting', 'resolved', 'acknowledged'].includes(r.next.status)) expect(r.next.acknowledgedAt).not.toBeNull();
        if (r.next.status === 'resolved' || r.next.status === 'closed') expect(r.next.outcome?.trim()).toBeTruthy();
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('case references', () => {
  it('format with five digits at least', () => {
    expect(formatCaseRef(2026, 42)).toBe('C-2026-00042');
    expect(formatCaseRef(2026, 1)).toBe('C-2026-00001');
    expect(formatCaseRef(2026, 99999)).toBe('C-2026-99999');
    expect(formatCaseRef(2026, 123456)).toBe('C-2026-123456');
    expect(() => formatCaseRef(2026, 0)).toThrow(RangeError);
    expect(() => formatCaseRef(2026, 1.5)).toThrow(RangeError);
    expect(() => formatCaseRef(26, 1)).toThrow(RangeError);
  });

  it.each(['C-2026-00042', 'c-2026-42', 'C-2026-42', '#C-2026-00042', '  #c-2026-0042 ', 'C202600042'])('%j → 2026/42', (text) => {
    expect(parseCaseRef(text)).toEqual({ year: 2026, n: 42 });
  });

  it.each(['', 'C-2026-0', 'C-2026-00000', 'C-26-42', 'X-2026-42', '2026-42', 'C-2026-', 'C-2026-42x', 'C--2026-42', '##C-2026-42', 'C-0999-1'])('%j is not a reference', (text) => {
    expect(parseCaseRef(text)).toBeNull();
  });

  it('round-trip', () => {
    expect(parseCaseRef(formatCaseRef(2026, 123456))).toEqual({ year: 2026, n: 123456 });
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 2_000_000_000 }), (year, n) => {
        expect(parseCaseRef(formatCaseRef(year, n))).toEqual({ year, n });
        expect(parseCaseRef(formatCaseRef(year, n).toLowerCase())).toEqual({ year, n });
      }),
    );
  });

  it('schema and counter name', () => {
    expect(caseRefSchema.parse('#c-2026-7')).toEqual({ year: 2026, n: 7 });
    expect(issue(caseRefSchema.safeParse('case 7'))).toBe('"case 7" is not a case reference; write e.g. C-2026-00042');
    expect(caseCounterName(2026)).toBe('case:2026');
  });
});

// ---------------------------------------------------------------------------------------------

describe('privacy', () => {
  it.each([
    ['Jean-Luc Picard', 'J.-L. P.'],
    ['maría garcía lópez', 'M. G. L.'],
    ['  Ana   Lima  ', 'A. L.'],
    ['åsa ek', 'Å. E.'],
    ['e\u0301mile zola', 'É. Z.'],
    ["o'brien", 'O.'],
    ['Jean - Luc', 'J. L.'],
    ['Ludwig van Beethoven', 'L. V. B.'],
    ['Ελένη Παπαδοπούλου', 'Ε. Π.'],
    ['', '?'],
    ['   ', '?'],
    ['-- 123', '?'],
  ])('initials of %j: %s', (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });

  it('upper-cases by locale when one is given', () => {
    expect(initialsOf('ismail ince', 'tr')).toBe('İ. İ.');
    expect(initialsOf('ismail ince')).toBe('I. I.');
  });

  it('full details for officers, crisis cell and leaders only', () => {
    expect(FULL_DETAIL_ROLES).toEqual(['officer', 'crisis', 'leader']);
    expect(maySeeFullDetails(['officer'])).toBe(true);
    expect(maySeeFullDetails(['admin', 'leader'])).toBe(true);
    expect(maySeeFullDetails(['admin'])).toBe(false);
    expect(maySeeFullDetails([])).toBe(false);
    expect(subjectNameFor('Jean-Luc Picard', ['crisis'])).toBe('Jean-Luc Picard');
    expect(subjectNameFor('Jean-Luc Picard', ['admin'])).toBe('J.-L. P.');
  });
});

// ---------------------------------------------------------------------------------------------

describe('subject fields', () => {
  it('full name: 1 to 200 characters, spaces tidied', () => {
    expect(fullNameSchema.parse('  Ana   Lima ')).toBe('Ana Lima');
    expect(fullNameSchema.parse('x'.repeat(200))).toHaveLength(200);
    expect(issue(fullNameSchema.safeParse('x'.repeat(201)))).toBe('a full name is at most 200 characters');
    expect(issue(fullNameSchema.safeParse('   '))).toBe('a full name is required');
  });

  it('date of birth: YYYY-MM-DD and a real date', () => {
    expect(dateOfBirthSchema.parse(' 1985-04-23 ')).toBe('1985-04-23');
    expect(dateOfBirthSchema.parse('2024-02-29')).toBe('2024-02-29');
    expect(issue(dateOfBirthSchema.safeParse('2026-02-30'))).toBe('2026-02-30 is not a real date');
    expect(issue(dateOfBirthSchema.safeParse('2023-02-29'))).toBe('2023-02-29 is not a real date');
    expect(issue(dateOfBirthSchema.safeParse('23/04/1985'))).toBe('"23/04/1985": write a date of birth as YYYY-MM-DD, e.g. 1985-04-23');
  });

  describe('checkDateOfBirth', () => {
    // 23:30 UTC on 1 March: already 2 March in Auckland (UTC+13).
    const now = Date.UTC(2026, 2, 1, 23, 30);

    it('accepts plausible dates, today included', () => {
      expect(checkDateOfBirth('1985-04-23', now, 'Europe/London')).toBeNull();
      expect(checkDateOfBirth('1900-01-01', now, 'Europe/London')).toBeNull();
      expect(checkDateOfBirth('2026-03-01', now, 'Europe/London')).toBeNull();
    });

    it('refuses the future, by the mission date', () => {
      expect(checkDateOfBirth('2026-03-02', now, 'Europe/London')).toBe('a date of birth cannot be in the future: 2026-03-02 is after today (2026-03-01, mission time)');
      expect(checkDateOfBirth('2026-03-02', now, 'Pacific/Auckland')).toBeNull();
      expect(checkDateOfBirth('2030-01-01', now, 'Pacific/Auckland')).toContain('cannot be in the future');
    });

    it('refuses before 1900, bad forms and impossible dates', () => {
      expect(checkDateOfBirth('1899-12-31', now, 'UTC')).toBe('a date of birth before 1900 (1899-12-31) is not plausible; check the year');
      expect(checkDateOfBirth('2026-02-30', now, 'UTC')).toBe('2026-02-30 is not a real date');
      expect(checkDateOfBirth('yesterday', now, 'UTC')).toContain('write a date of birth as YYYY-MM-DD');
    });
  });

  it('nationality: free text up to 100 characters', () => {
    expect(nationalitySchema.parse(' British ')).toBe('British');
    expect(issue(nationalitySchema.safeParse('n'.repeat(101)))).toBe('the nationality is 101 characters; keep it under 100');
  });

  it('passport number: upper case, no spaces, 5 to 20 letters and digits', () => {
    expect(passportNumberSchema.parse(' ab 12 34 567 ')).toBe('AB1234567');
    expect(passportNumberSchema.parse('12345')).toBe('12345');
    expect(passportNumberSchema.parse('A'.repeat(20))).toBe('A'.repeat(20));
    for (const bad of ['AB12', 'A'.repeat(21), 'AB-123456', 'ÄB123456', '']) {
      expect(issue(passportNumberSchema.safeParse(bad))).toBe('a passport number is 5 to 20 letters and digits');
    }
  });

  it('location: city, country and details, each up to 200, blank is null', () => {
    expect(locationSchema.parse({ city: ' Lyon ', country: 'France', details: '' })).toEqual({ city: 'Lyon', country: 'France', details: null });
    expect(locationSchema.parse({})).toEqual({ city: null, country: null, details: null });
    expect(issue(locationSchema.safeParse({ city: 'c'.repeat(201) }))).toBe('the city is 201 characters; keep it under 200');
  });

  it('next of kin: a name, and phone and email checked and normalised', () => {
    expect(nextOfKinSchema.parse({ name: 'Marie Curie', relationship: 'Sister', phone: '+44 (20) 7946-0000', email: ' Marie@Example.ORG ' })).toEqual({
      name: 'Marie Curie',
      relationship: 'Sister',
      phone: '+442079460000',
      email: 'marie@example.org',
    });
    expect(nextOfKinSchema.parse({ name: 'M', phone: '  ', email: null })).toEqual({ name: 'M', relationship: null, phone: null, email: null });
    expect(issue(nextOfKinSchema.safeParse({ name: 'M', phone: '020 7946 0000' }))).toBe('a phone number in international form, e.g. +44 20 7946 0000');
    expect(issue(nextOfKinSchema.safeParse({ name: 'M', email: 'marie@' }))).toBe('not an email address');
    expect(nextOfKinSchema.safeParse({ phone: '+442079460000' }).success).toBe(false);
  });

  it('reporter kinds parse leniently', () => {
    expect(REPORTER_KINDS).toEqual(['self', 'relative', 'police', 'hospital', 'authorities', 'other']);
    expect(REPORTER_LABELS.self).toBe('The person');
    expect(REPORTER_LABELS.relative).toBe('A relative');
    for (const k of REPORTER_KINDS) {
      expect(parseReporterKind(k)).toBe(k);
      expect(parseReporterKind(REPORTER_LABELS[k].toUpperCase())).toBe(k);
    }
    expect(parseReporterKind('family')).toBe('relative');
    expect(parseReporterKind('next of kin')).toBe('relative');
    expect(parseReporterKind('the police')).toBe('police');
    expect(parseReporterKind('local authority')).toBe('authorities');
    expect(parseReporterKind('a passer-by')).toBeNull();
  });

  it('consent defaults to unknown', () => {
    expect(consentSchema.parse(undefined)).toBe('unknown');
    expect(consentSchema.parse('  ')).toBe('unknown');
    expect(consentSchema.parse('Yes')).toBe('yes');
    expect(consentSchema.parse('refused')).toBe('no');
    expect(parseConsent('?')).toBe('unknown');
    expect(parseConsent("don't know")).toBe('unknown');
    expect(issue(consentSchema.safeParse('maybe'))).toBe('"maybe": consent to share with the next of kin is yes, no or unknown');
  });

  it('summary: 1 to 4000 characters; 10,000 is refused with its length', () => {
    expect(summarySchema.parse('  Arrested at the airport  ')).toBe('Arrested at the airport');
    expect(summarySchema.parse('s'.repeat(MAX_SUMMARY))).toHaveLength(MAX_SUMMARY);
    expect(issue(summarySchema.safeParse('s'.repeat(10_000)))).toBe('the summary is 10,000 characters; keep it under 4,000');
    expect(issue(summarySchema.safeParse('   '))).toBe('a summary is required: what happened, in a few sentences');
  });

  it('note: 1 to 4000 characters', () => {
    expect(noteSchema.parse('Called the hospital')).toBe('Called the hospital');
    expect(issue(noteSchema.safeParse('n'.repeat(MAX_NOTE + 1)))).toBe('the note is 4,001 characters; keep it under 4,000');
    expect(noteSchema.safeParse('').success).toBe(false);
  });

  it('a whole subject and a new case', () => {
    expect(caseSubjectSchema.parse({ fullName: 'Ana Lima', passportNumber: '', location: { city: 'Porto' } })).toEqual({
      fullName: 'Ana Lima',
      dateOfBirth: null,
      nationality: null,
      passportNumber: null,
      location: { city: 'Porto', country: null, details: null },
      contactDetails: null,
      nextOfKin: null,
    });
    const input = openCaseInputSchema.parse({
      category: 'arrested',
      priority: '1',
      summary: 'Detained at the border',
      reporter: 'family',
      subject: { fullName: 'Ana Lima', dateOfBirth: '1990-01-31', passportNumber: 'p 123 456' },
    });
    expect(input).toMatchObject({ category: 'arrest', priority: 'P1', reporter: 'relative', consent: 'unknown', subject: { dateOfBirth: '1990-01-31', passportNumber: 'P123456' } });
    expect(issue(openCaseInputSchema.safeParse({ ...input, summary: 'x'.repeat(10_000) }))).toBe('the summary is 10,000 characters; keep it under 4,000');
  });
});

// ---------------------------------------------------------------------------------------------

describe('service levels', () => {
  it('defaults by priority', () => {
    expect(serviceLevelFor('P1', 'arrest')).toEqual({ ack: { kind: 'within', ms: 15 * MIN }, updateEveryMs: 2 * HOUR });
    expect(serviceLevelFor('P2', null)).toEqual({ ack: { kind: 'within', ms: HOUR }, updateEveryMs: 8 * HOUR });
    expect(serviceLevelFor('P3', 'other')).toEqual({ ack: { kind: 'within', ms: 4 * HOUR }, updateEveryMs: 24 * HOUR });
    expect(serviceLevelFor('P4', 'document')).toEqual({ ack: { kind: 'next-working-day', atMinutes: 600 }, updateEveryMs: 72 * HOUR });
  });

  it('the most specific override wins, field by field', () => {
    const overrides: ServiceLevelOverride[] = [
      { priority: 'P1', category: 'arrest', ack: { kind: 'within', ms: 5 * MIN } },
      { priority: 'P1', category: null, ack: { kind: 'within', ms: 10 * MIN }, updateEveryMs: HOUR },
      { priority: 'P2', category: null, updateEveryMs: null },
    ];
    for (const list of [overrides, [...overrides].reverse()]) {
      expect(serviceLevelFor('P1', 'arrest', list)).toEqual({ ack: { kind: 'within', ms: 5 * MIN }, updateEveryMs: HOUR });
      expect(serviceLevelFor('P1', 'death', list)).toEqual({ ack: { kind: 'within', ms: 10 * MIN }, updateEveryMs: HOUR });
      expect(serviceLevelFor('P1', null, list)).toEqual({ ack: { kind: 'within', ms: 10 * MIN }, updateEveryMs: HOUR });
      expect(serviceLevelFor('P2', 'arrest', list)).toEqual({ ack: { kind: 'within', ms: HOUR }, updateEveryMs: null });
      expect(serviceLevelFor('P3', 'arrest', list)).toEqual(DEFAULT_SERVICE_LEVELS.P3);
    }
    // Equally specific: the later one.
    const twice: ServiceLevelOverride[] = [
      { priority: 'P3', category: 'death', updateEveryMs: HOUR },
      { priority: 'P3', category: 'death', updateEveryMs: 2 * HOUR },
    ];
    expect(serviceLevelFor('P3', 'death', twice).updateEveryMs).toBe(2 * HOUR);
  });

  it('does not change the defaults', () => {
    serviceLevelFor('P1', null, [{ priority: 'P1', category: null, updateEveryMs: MIN }]);
    expect(DEFAULT_SERVICE_LEVELS.P1.updateEveryMs).toBe(2 * HOUR);
  });

  it('parses ack= and update= as typed', () => {
    expect(ok(parseServiceLevelInput({ ack: '15m' })).patch).toEqual({ ack: { kind: 'within', ms: 15 * MIN } });
    expect(ok(parseServiceLevelInput({ ack: 'within 1h30m', update: 'every 2h' })).patch).toEqual({ ack: { kind: 'within', ms: 90 * MIN }, updateEveryMs: 2 * HOUR });
    expect(ok(parseServiceLevelInput({ ack: 'next-working-day 10:00' })).patch).toEqual({ ack: { kind: 'next-working-day', atMinutes: 600 } });
    expect(ok(parseServiceLevelInput({ ack: 'Next working day at 9:30' })).patch).toEqual({ ack: { kind: 'next-working-day', atMinutes: 570 } });
    expect(ok(parseServiceLevelInput({ ack: 'next-working-day' })).patch).toEqual({ ack: { kind: 'next-working-day', atMinutes: 600 } });
    expect(ok(parseServiceLevelInput({ update: 'none' })).patch).toEqual({ updateEveryMs: null });
    expect(ok(parseServiceLevelInput({ ack: '', update: '72h' })).patch).toEqual({ updateEveryMs: 72 * HOUR });
  });

  it.each([
    [{}, 'ack', 'give ack=… (e.g. 15m or next-working-day 10:00) or update=… (e.g. 2h or none)'],
    [{ ack: 'soon' }, 'ack', 'ack: "soon" is not a duration'],
    [{ ack: '0m' }, 'ack', 'must be more than zero'],
    [{ ack: 'next-working-day 25:00' }, 'ack', 'ack: "25:00" is not a time of day; write e.g. next-working-day 10:00'],
    [{ ack: '15m', update: '3d' }, 'update', 'update: "3d": "d" is not a unit'],
    [{ update: '169h' }, 'update', 'is too long'],
  ])('%j is refused', (input, field, message) => {
    const e = err(parseServiceLevelInput(input));
    expect(e.field).toBe(field);
    expect(e.error).toContain(message);
  });

  it('writes back what it reads', () => {
    for (const level of Object.values(DEFAULT_SERVICE_LEVELS)) {
      const text = formatServiceLevelInput(level);
      const m = /^ack="([^"]*)" update="([^"]*)"$/.exec(text);
      expect(m).not.toBeNull();
      expect(ok(parseServiceLevelInput({ ack: m?.[1], update: m?.[2] })).patch).toEqual(level);
    }
    expect(formatServiceLevelInput({ updateEveryMs: null })).toBe('update="none"');
  });

  it('stored overrides are checked', () => {
    expect(serviceLevelOverrideSchema.safeParse({ priority: 'P1', category: 'arrest', ack: { kind: 'within', ms: 5 * MIN } }).success).toBe(true);
    expect(serviceLevelOverrideSchema.safeParse({ priority: 'P5', category: null }).success).toBe(false);
    expect(serviceLevelOverrideSchema.safeParse({ priority: 'P1', category: 'parking' }).success).toBe(false);
  });

  it('describes itself', () => {
    expect(describeServiceLevel(DEFAULT_SERVICE_LEVELS.P1)).toBe('acknowledge within 15 min, update every 2 h');
    expect(describeServiceLevel(DEFAULT_SERVICE_LEVELS.P2)).toBe('acknowledge within 1 h, update every 8 h');
    expect(describeServiceLevel(DEFAULT_SERVICE_LEVELS.P4)).toBe('acknowledge by 10:00 mission time the next working day, update every 72 h');
    expect(describeServiceLevel({ ack: { kind: 'within', ms: 90 * MIN }, updateEveryMs: null })).toBe('acknowledge within 1 h 30 min, no scheduled updates');
  });

  it('next update and breaches', () => {
    expect(nextUpdateDueAt(DEFAULT_SERVICE_LEVELS.P1, T0)).toBe(T0 + 2 * HOUR);
    expect(nextUpdateDueAt({ ...DEFAULT_SERVICE_LEVELS.P1, updateEveryMs: null }, T0)).toBeNull();
    const due = T0 + 15 * MIN;
    expect(isAckBreached({ ackDueAt: due, acknowledgedAt: due }, T0 + DAY)).toBe(false);
    expect(isAckBreached({ ackDueAt: due, acknowledgedAt: due + 1 }, T0)).toBe(true);
    expect(isAckBreached({ ackDueAt: due, acknowledgedAt: null }, due)).toBe(false);
    expect(isAckBreached({ ackDueAt: due, acknowledgedAt: null }, due + 1)).toBe(true);
    expect(isAckBreached({ ackDueAt: due, acknowledgedAt: null, closedAt: due - 1 }, T0 + DAY)).toBe(false);
    expect(isAckBreached({ ackDueAt: null, acknowledgedAt: null }, T0 + DAY)).toBe(false);
  });
});

describe('ackDueAt', () => {
  const P4 = DEFAULT_SERVICE_LEVELS.P4;
  const london = { timeZone: 'Europe/London' };
  const weekday = (tz: string, t: number): number => localOf(tz, t).weekday;

  it('within: opened plus the time', () => {
    expect(ackDueAt(DEFAULT_SERVICE_LEVELS.P1, T0, london)).toBe(T0 + 15 * MIN);
    expect(ackDueAt(DEFAULT_SERVICE_LEVELS.P3, T0, london)).toBe(T0 + 4 * HOUR);
  });

  it('P4 opened on a Friday evening is due on Monday at 10:00', () => {
    const friday = Date.UTC(2026, 10, 20, 19, 0);
    expect(weekday('Europe/London', friday)).toBe(5);
    expect(ackDueAt(P4, friday, london)).toBe(Date.UTC(2026, 10, 23, 10, 0));
  });

  it('the next working day is strictly after the opening day', () => {
    const mondayEarly = Date.UTC(2026, 10, 23, 0, 30);
    expect(ackDueAt(P4, mondayEarly, london)).toBe(Date.UTC(2026, 10, 24, 10, 0));
    const saturday = Date.UTC(2026, 10, 21, 12, 0);
    expect(ackDueAt(P4, saturday, london)).toBe(Date.UTC(2026, 10, 23, 10, 0));
  });

  it('skips holidays', () => {
    // Thursday 24 December; Friday 25 and Monday 28 are holidays.
    const christmasEve = Date.UTC(2026, 11, 24, 18, 0);
    expect(weekday('Europe/London', christmasEve)).toBe(4);
    const holidays = new Set(['2026-12-25', '2026-12-28']);
    expect(ackDueAt(P4, christmasEve, { ...london, holidays })).toBe(Date.UTC(2026, 11, 29, 10, 0));
  });

  it('is 10:00 local across a DST change in Europe/London', () => {
    // Clocks go forward on Sunday 29 March 2026: Monday 10:00 BST is 09:00 UTC.
    const fridaySpring = Date.UTC(2026, 2, 27, 19, 0);
    expect(ackDueAt(P4, fridaySpring, london)).toBe(Date.UTC(2026, 2, 30, 9, 0));
    // Clocks go back on Sunday 25 October 2026: opened at 18:00 BST, due Monday 10:00 GMT.
    const fridayAutumn = Date.UTC(2026, 9, 23, 17, 0);
    expect(ackDueAt(P4, fridayAutumn, london)).toBe(Date.UTC(2026, 9, 26, 10, 0));
  });

  it('a local time skipped by the change moves to the first valid instant', () => {
    const level: ServiceLevel = { ack: { kind: 'next-working-day', atMinutes: 90 }, updateEveryMs: null };
    // Saturday 28 March, no weekend: due Sunday 29 March 01:30, which does not exist in London.
    expect(ackDueAt(level, Date.UTC(2026, 2, 28, 12, 0), { ...london, weekend: [] })).toBe(Date.UTC(2026, 2, 29, 1, 0));
  });

  it('uses the local date and a Friday–Saturday weekend in Asia/Riyadh', () => {
    const riyadh = { timeZone: 'Asia/Riyadh', weekend: [5, 6] };
    // Thursday 8 January 2026, 20:00 local: Sunday 11 January 10:00 local is 07:00 UTC.
    const thursday = Date.UTC(2026, 0, 8, 17, 0);
    expect(weekday('Asia/Riyadh', thursday)).toBe(4);
    expect(ackDueAt(P4, thursday, riyadh)).toBe(Date.UTC(2026, 0, 11, 7, 0));
    // Friday 22:30 UTC is already Saturday in Riyadh: still Sunday.
    expect(ackDueAt(P4, Date.UTC(2026, 0, 9, 22, 30), riyadh)).toBe(Date.UTC(2026, 0, 11, 7, 0));
    // Sunday evening: Monday.
    expect(ackDueAt(P4, Date.UTC(2026, 0, 11, 15, 0), riyadh)).toBe(Date.UTC(2026, 0, 12, 7, 0));
    // With the default weekend, Friday would be a working day.
    expect(ackDueAt(P4, thursday, { timeZone: 'Asia/Riyadh' })).toBe(Date.UTC(2026, 0, 9, 7, 0));
  });

  it('a week with no working day does not hang', () => {
    expect(ackDueAt(P4, T0, { ...london, weekend: [0, 1, 2, 3, 4, 5, 6] })).toBe(Date.UTC(2026, 10, 23, 10, 0));
  });
});

// ---------------------------------------------------------------------------------------------

describe('statistics', () => {
  it('percentile by linear interpolation between closest ranks', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 90)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1);
    expect(percentile(new Float64Array([10, 20]), 25)).toBe(12.5);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    expect(median(values)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
    expect(median([])).toBeNull();
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });

  const FROM = T0;
  const TO = T0 + 7 * DAY;
  const base = (over: Partial<CaseForSummary>): CaseForSummary => ({
    category: 'other',
    priority: 'P3',
    status: 'new',
    openedAt: T0,
    acknowledgedAt: null,
    resolvedAt: null,
    ackDueAt: null,
    ...over,
  });
  const cases: CaseForSummary[] = [
    base({ category: 'arrest', priority: 'P1', status: 'resolved', openedAt: T0, acknowledgedAt: T0 + 10 * MIN, resolvedAt: T0 + 2 * HOUR, ackDueAt: T0 + 15 * MIN }),
    // acknowledged late
    base({ category: 'arrest', priority: 'P1', status: 'in-progress', openedAt: T0 + HOUR, acknowledgedAt: T0 + HOUR + 20 * MIN, ackDueAt: T0 + HOUR + 15 * MIN }),
    // never acknowledged, deadline passed
    base({ category: 'death', priority: 'P2', status: 'new', openedAt: T0 + 2 * HOUR, ackDueAt: T0 + 3 * HOUR }),
    // closed unacknowledged before its deadline
    base({ category: 'document', priority: 'P4', status: 'closed', openedAt: T0 + 3 * HOUR, closedAt: T0 + 3 * HOUR + 5 * MIN, ackDueAt: T0 + DAY }),
    base({ category: 'hospital', priority: 'P3', status: 'waiting', openedAt: T0 + 4 * HOUR, acknowledgedAt: T0 + 5 * HOUR, ackDueAt: T0 + 8 * HOUR }),
    // no deadline
    base({ category: 'welfare', priority: 'P2', status: 'new', openedAt: T0 + 5 * HOUR }),
    // outside the range: before it, and at its (exclusive) end
    base({ category: 'crime', priority: 'P1', openedAt: T0 - 1, ackDueAt: T0 }),
    base({ category: 'crime', priority: 'P1', openedAt: TO, ackDueAt: TO }),
  ];

  it('summarises counts, times and breaches', () => {
    const s = summariseCases(cases, { from: FROM, to: TO }, TO + DAY);
    expect(s.total).toBe(6);
    expect(Object.keys(s.byCategory)).toEqual([...CASE_CATEGORIES]);
    expect(Object.keys(s.byPriority)).toEqual([...CASE_PRIORITIES]);
    expect(Object.keys(s.byStatus)).toEqual([...CASE_STATUSES]);
    expect(s.byCategory).toMatchObject({ arrest: 2, death: 1, document: 1, hospital: 1, welfare: 1, crime: 0, other: 0, 'forced-marriage': 0 });
    expect(s.byPriority).toEqual({ P1: 2, P2: 2, P3: 1, P4: 1 });
    expect(s.byStatus).toEqual({ new: 2, acknowledged: 0, 'in-progress': 1, waiting: 1, resolved: 1, closed: 1 });
    // 10, 20 and 60 minutes: the median 20, p90 20 + 0.8 × 40 = 52.
    expect(s.timeToAcknowledge).toEqual({ count: 3, median: 20 * MIN, p90: 52 * MIN });
    expect(s.timeToResolve).toEqual({ count: 1, median: 2 * HOUR, p90: 2 * HOUR });
    expect(s.breaches).toEqual({ total: 2, acknowledgedLate: 1, unacknowledged: 1, byPriority: { P1: 1, P2: 1, P3: 0, P4: 0 } });
  });

  it('an unacknowledged case is not in breach before its deadline', () => {
    const s = summariseCases(cases, { from: FROM, to: TO }, T0 + 2 * HOUR + 30 * MIN);
    expect(s.breaches).toEqual({ total: 1, acknowledgedLate: 1, unacknowledged: 0, byPriority: { P1: 1, P2: 0, P3: 0, P4: 0 } });
  });

  it('an empty range has every key at zero and no times', () => {
    const s = summariseCases(cases, { from: TO + DAY, to: TO + 2 * DAY }, TO + 2 * DAY);
    expect(s.total).toBe(0);
    expect(Object.values(s.byCategory).every((n) => n === 0)).toBe(true);
    expect(s.timeToAcknowledge).toEqual({ count: 0, median: null, p90: null });
    expect(s.timeToResolve).toEqual({ count: 0, median: null, p90: null });
    expect(s.breaches.total).toBe(0);
  });

  it('summarises 100,000 cases', () => {
    const many: CaseForSummary[] = Array.from({ length: 100_000 }, (_, i) => ({
      category: CASE_CATEGORIES[i % CASE_CATEGORIES.length] ?? 'other',
      priority: CASE_PRIORITIES[i % 4] ?? 'P4',
      status: CASE_STATUSES[i % 6] ?? 'new',
      openedAt: T0 + i * SEC,
      acknowledgedAt: i % 3 === 0 ? null : T0 + i * SEC + ((i * 7919) % 3600) * SEC,
      resolvedAt: i % 5 === 0 ? null : T0 + i * SEC + ((i * 104729) % 86400) * SEC,
      ackDueAt: T0 + i * SEC + 30 * MIN,
    }));
    // Its speed is measured by the cases benchmark (a one-year report), not here.
    const s = summariseCases(many, { from: T0, to: TO }, TO);
    expect(s.total).toBe(100_000);
    expect(s.byPriority.P1).toBe(25_000);
    expect(s.timeToAcknowledge.count).toBe(66_666);
  });
});
