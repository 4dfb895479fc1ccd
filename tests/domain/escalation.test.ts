import fc from 'fast-check';
import {
  acknowledge,
  contactDelaySchema,
  contactPlan,
  DEFAULT_STEP_DELAY_MS,
  deliveryKey,
  durationSchema,
  escalationEndsAt,
  escalationJobKey,
  escalationPolicySchema,
  escalationStateOf,
  fenceOf,
  findDuplicateContact,
  findOpenByDedupKey,
  formatDuration,
  formatSteps,
  isCurrent,
  nextStep,
  openPage,
  parseContactInput,
  parseDuration,
  parseRepeat,
  parseStepKey,
  parseSteps,
  parseTarget,
  passLength,
  planEscalation,
  policyInputSchema,
  policyNameSchema,
  referencesOf,
  reTrigger,
  resolve,
  resolveSteps,
  severitySchema,
  stepKey,
  unresolveSteps,
  type ContactMethod,
  type DraftStep,
  type EscalationPolicy,
  type EscalationTarget,
  type PageState,
  type TargetRef,
} from '../../src/domain/escalation';
import type { MemberRef } from '../../src/domain/member';
import { ROLES } from '../../src/domain/roles';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 22, 14, 0, 0);

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}
function err<T extends { ok: boolean }>(r: T): Extract<T, { ok: false }> {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: false }>;
}

const handle = (h: string): TargetRef => ({ kind: 'memberRef', ref: { kind: 'handle', handle: h } });
const rosterRef = (name: string, layer: 'primary' | 'backup' | 'both' = 'primary'): TargetRef => ({ kind: 'rosterRef', name, layer });

// ---------------------------------------------------------------------------------------------

describe('durations', () => {
  test.each([
    ['30s', 30 * SEC],
    ['2m', 2 * MIN],
    ['5 min', 5 * MIN],
    ['5 mins', 5 * MIN],
    ['1h', HOUR],
    ['1h30m', 90 * MIN],
    ['1h 30m', 90 * MIN],
    ['1H30M', 90 * MIN],
    ['1 hour 30 minutes', 90 * MIN],
    ['2 hours', 2 * HOUR],
    ['1h30', 90 * MIN],
    ['2m30', 2 * MIN + 30 * SEC],
    ['1h5s', HOUR + 5 * SEC],
    ['90 seconds', 90 * SEC],
    ['  10 sec ', 10 * SEC],
    ['24h', 24 * HOUR],
    ['1440m', 24 * HOUR],
  ])('%s', (text, ms) => {
    expect(ok(parseDuration(text)).ms).toBe(ms);
  });

  test.each([
    ['', 'a delay is required, e.g. 30s, 5m or 1h30m'],
    ['   ', 'a delay is required, e.g. 30s, 5m or 1h30m'],
    ['0', '"0": a delay must be more than zero, e.g. 30s or 5m'],
    ['now', '"now": a delay must be more than zero, e.g. 30s or 5m'],
    ['0m', '"0m": a delay must be more than zero, e.g. 30s or 5m'],
    ['0h0m0s', '"0h0m0s": a delay must be more than zero, e.g. 30s or 5m'],
    ['-5m', '"-5m": a delay cannot be negative'],
    ['abc', '"abc" is not a duration; write e.g. 30s, 5m or 1h30m'],
    ['m5', '"m5" is not a duration; write e.g. 30s, 5m or 1h30m'],
    ['5m!', '"5m!" is not a duration; write e.g. 30s, 5m or 1h30m'],
    ['1 hour and 30 minutes', '"1 hour and 30 minutes" is not a duration; write e.g. 30s, 5m or 1h30m'],
    ['1'.repeat(41) + 's', 'is not a duration; write e.g. 30s, 5m or 1h30m'],
    ['1.5h', '"1.5h": use whole numbers, e.g. 1h30m rather than 1.5h'],
    ['2,5m', '"2,5m": use whole numbers, e.g. 1h30m rather than 1.5h'],
    ['5', '"5" needs a unit: 5s, 5m or 5h'],
    ['5 5m', '"5 5m": add a unit after 5, e.g. 5m'],
    ['1h30 5s', '"1h30 5s": add a unit after 30, e.g. 30m'],
    ['5x', '"5x": "x" is not a unit; use s, m or h (seconds, minutes, hours)'],
    ['1d', '"1d": "d" is not a unit; use s, m or h (seconds, minutes, hours)'],
    ['1m1m', '"1m1m" gives the minutes twice'],
    ['1h 2 hours', '"1h 2 hours" gives the hours twice'],
    ['30m1h', '"30m1h": write larger units first, e.g. 1h30m'],
    ['10s5m', '"10s5m": write larger units first, e.g. 1h30m'],
    ['25h', '"25h" is too long; a delay is at most 24h'],
    ['24h1s', '"24h1s" is too long; a delay is at most 24h'],
    ['99999999999999999999s', 'is too long; a delay is at most 24h'],
  ])('%j is refused: %s', (text, message) => {
    expect(err(parseDuration(text)).error).toContain(message);
  });

  test('contact delays may be zero ("now") and have their own maximum', () => {
    for (const z of ['now', '0', '0m', 'immediately', 'NOW']) expect(ok(parseDuration(z, { allowZero: true })).ms).toBe(0);
    expect(ok(parseDuration('2m', { allowZero: true })).ms).toBe(2 * MIN);
    expect(err(parseDuration('2h', { maxMs: HOUR })).error).toBe('"2h" is too long; a delay is at most 1h');
  });

  test('formatDuration writes what parseDuration reads', () => {
    expect(formatDuration(90 * MIN)).toBe('1h30m');
    expect(formatDuration(30 * SEC)).toBe('30s');
    expect(formatDuration(HOUR + 5 * SEC)).toBe('1h5s');
    expect(formatDuration(0)).toBe('now');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 3600 }), (s) => {
        expect(ok(parseDuration(formatDuration(s * SEC))).ms).toBe(s * SEC);
      }),
    );
  });

  test('the zod schemas carry the same messages', () => {
    expect(durationSchema.parse('1h30m')).toBe(90 * MIN);
    const bad = durationSchema.safeParse('25h');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('"25h" is too long; a delay is at most 24h');
    expect(contactDelaySchema.parse('now')).toBe(0);
    expect(contactDelaySchema.safeParse('soon').error?.issues[0]?.message).toBe('"soon" is not a duration; write e.g. 30s, 5m or 1h30m');
  });
});

// ---------------------------------------------------------------------------------------------

describe('targets', () => {
  test.each<[string, TargetRef]>([
    ['@alee', handle('alee')],
    ['@ALee', handle('alee')],
    ['member:alee', handle('alee')],
    ['member: @alee', handle('alee')],
    ['<@slack:T1:U1>', { kind: 'memberRef', ref: { kind: 'identity', identity: { platform: 'slack', externalId: 'T1:U1' } } }],
    ['member:<@teams:0f8fad5b-d9cb-469f-a165-70867728950e>', { kind: 'memberRef', ref: { kind: 'identity', identity: { platform: 'teams', externalId: '0f8fad5b-d9cb-469f-a165-70867728950e' } } }],
    ['roster:Consular duty', rosterRef('Consular duty')],
    ['roster:Consular duty/backup', rosterRef('Consular duty', 'backup')],
    ['Roster : Consular  duty / BOTH', rosterRef('Consular duty', 'both')],
    ['role:leader', { kind: 'role', role: 'leader' }],
    ['ROLE:Leaders', { kind: 'role', role: 'leader' }],
    ['role:admins', { kind: 'role', role: 'admin' }],
  ])('%s', (text, target) => {
    expect(ok(parseTarget(text)).target).toEqual(target);
  });

  test.each([
    ['', 'an empty target; use roster:<name>[/primary|/backup|/both], @handle or role:<officer|crisis|leader|admin>'],
    ['role:leader, role:admin', 'join the targets of one step with + and separate steps with a semicolon'],
    ['<@nobody>', '"<@nobody>" is not a member mention'],
    ['@', 'a member target needs a handle, e.g. @alee'],
    ['member:', 'a member target needs a handle, e.g. @alee'],
    ['@a', '"@a" is not a member: a handle is 2 to 32 letters'],
    ['@al ee', '"@al ee" is not a member: a handle is 2 to 32 letters'],
    ['team:ops', '"team" is not a kind of target; use roster:<name>[/primary|/backup|/both], @handle or role:<officer|crisis|leader|admin>'],
    ['alee', '"alee" is not a target; write @alee for a member, or use roster:<name>'],
    ['Ana Lima', '"Ana Lima" is not a target; use roster:<name>'],
    ['role:', 'role: needs a role: officer, crisis, leader, admin'],
    ['role:boss', '"boss" is not a role; roles are officer, crisis, leader, admin'],
    ['roster:', 'roster: needs a roster name, e.g. roster:Consular duty/primary'],
    ['roster:/backup', 'roster: needs a roster name, e.g. roster:Consular duty/primary'],
    ['roster:Consular duty/tertiary', '"tertiary" is not a roster layer; use /primary, /backup or /both'],
    ['roster:Consular duty/', '"" is not a roster layer; use /primary, /backup or /both'],
    ['roster:!duty', 'roster "!duty": a roster name is letters, digits, spaces, dots, dashes or underscores'],
    ['roster:x', 'roster "x": a roster name is 2 to 40 characters'],
  ])('%j is refused', (text, message) => {
    expect(err(parseTarget(text)).error).toContain(message);
  });
});

describe('steps as typed', () => {
  test('the example from the issue', () => {
    const steps = ok(parseSteps('roster:Consular duty/primary 5m; roster:Consular duty/backup 5m; role:leader')).steps;
    expect(steps).toEqual([
      { targets: [rosterRef('Consular duty', 'primary')], delayMs: 5 * MIN },
      { targets: [rosterRef('Consular duty', 'backup')], delayMs: 5 * MIN },
      { targets: [{ kind: 'role', role: 'leader' }], delayMs: DEFAULT_STEP_DELAY_MS },
    ]);
  });

  test('several targets joined with +, delays in any accepted form, new lines separate steps too', () => {
    const steps = ok(parseSteps('@alee+@bob 2m\n@cy + role:leader + roster:Night desk/both 1 hour 30 minutes;;  role:admin 30s ;')).steps;
    expect(steps).toEqual([
      { targets: [handle('alee'), handle('bob')], delayMs: 2 * MIN },
      { targets: [handle('cy'), { kind: 'role', role: 'leader' }, rosterRef('Night desk', 'both')], delayMs: 90 * MIN },
      { targets: [{ kind: 'role', role: 'admin' }], delayMs: 30 * SEC },
    ]);
  });

  test('a missing delay is 5 minutes, on any step', () => {
    const steps = ok(parseSteps('@alee; @bob 1m; @cy')).steps;
    expect(steps.map((s) => s.delayMs)).toEqual([DEFAULT_STEP_DELAY_MS, MIN, DEFAULT_STEP_DELAY_MS]);
  });

  test('a roster name that ends like a duration stays a name when it cannot be a delay', () => {
    expect(ok(parseSteps('roster:Floor 2nd')).steps).toEqual([{ targets: [rosterRef('Floor 2nd')], delayMs: DEFAULT_STEP_DELAY_MS }]);
    expect(ok(parseSteps('roster:Floor 2 10m')).steps).toEqual([{ targets: [rosterRef('Floor 2')], delayMs: 10 * MIN }]);
    expect(ok(parseSteps('roster:Team 2')).steps).toEqual([{ targets: [rosterRef('Team 2')], delayMs: DEFAULT_STEP_DELAY_MS }]);
  });

  test.each([
    ['', 'A policy needs at least one step, e.g. steps="roster:Consular duty/primary 5m; role:leader".'],
    [' ; \n ', 'A policy needs at least one step'],
    [Array.from({ length: 21 }, () => 'role:leader').join('; '), 'A policy has at most 20 steps; this one has 21.'],
    ['5m', 'Step 1: "5m" is only a delay; name whom to notify first, e.g. "role:leader 5m".'],
    ['@alee; 1h30m', 'Step 2: "1h30m" is only a delay'],
    ['@alee 5', 'Step 1: the delay "5" needs a unit, e.g. 5m, 5s or 5h.'],
    ['@alee 25h', 'Step 1: the delay "25h" is too long; a delay is at most 24h.'],
    ['@alee 0m', 'Step 1: the delay "0m": a delay must be more than zero, e.g. 30s or 5m.'],
    ['@alee 1.5h', 'Step 1: the delay "1.5h": use whole numbers'],
    ['@alee 5x', 'Step 1: the delay "5x": "x" is not a unit'],
    ['@alee+ +@bob 2m', 'Step 1: an empty target between + signs.'],
    ['+@alee', 'Step 1: an empty target between + signs.'],
    ['@alee+@ALEE 2m', 'Step 1: @alee is named twice.'],
    ['roster:Duty/backup + roster:duty/backup', 'Step 1: roster:duty/backup is named twice.'],
    [Array.from({ length: 11 }, (_, i) => `@member${i}`).join('+'), 'Step 1: a step notifies at most 10 targets.'],
    ['team:ops 5m', 'Step 1: "team" is not a kind of target'],
    ['foo 25h', 'Step 1: "foo" is not a target; write @foo for a member, or use roster:<name>[/primary|/backup|/both], @handle or role:<officer|crisis|leader|admin>; and the delay "25h" is too long'],
    ['role:leader, role:admin 5m', 'Step 1: "role:leader, role:admin": join the targets of one step with + and separate steps with a semicolon.'],
  ])('%j is refused', (text, message) => {
    expect(err(parseSteps(text)).error).toContain(message);
  });

  test('every bad step is reported, numbered, and good steps do not hide them', () => {
    const e = err(parseSteps('role:boss 5m; @alee 2m; team:x; roster:Duty/tertiary')).error;
    expect(e).toBe(
      'Step 1: "boss" is not a role; roles are officer, crisis, leader, admin. ' +
        'Step 3: "team" is not a kind of target; use roster:<name>[/primary|/backup|/both], @handle or role:<officer|crisis|leader|admin>. ' +
        'Step 4: "tertiary" is not a roster layer; use /primary, /backup or /both.',
    );
  });

  const rosterName = fc
    .tuple(fc.constantFrom('A', 'b', 'Z', '7', 'é'), fc.array(fc.constantFrom('a', 'x', '2', '5', 'm', 'h', 's', ' ', '.', '-', '_'), { maxLength: 20 }))
    .map(([h, rest]) => (h + rest.join('')).replace(/\s+/g, ' ').trim())
    .filter((n) => n.length >= 2 && n.length <= 40);
  const targetRef: fc.Arbitrary<TargetRef> = fc.oneof(
    fc.record({ kind: fc.constant('rosterRef' as const), name: rosterName, layer: fc.constantFrom('primary' as const, 'backup' as const, 'both' as const) }),
    fc.stringMatching(/^[a-z0-9][a-z0-9._-]{1,12}$/).map(handle),
    fc.stringMatching(/^U[A-Z0-9]{4,8}$/).map((u): TargetRef => ({ kind: 'memberRef', ref: { kind: 'identity', identity: { platform: 'slack', externalId: `T1:${u}` } } })),
    fc.constantFrom(...ROLES).map((role): TargetRef => ({ kind: 'role', role })),
  );
  const draftStep: fc.Arbitrary<DraftStep> = fc.record({
    targets: fc.uniqueArray(targetRef, { minLength: 1, maxLength: 4, selector: (t) => formatSteps([{ targets: [t], delayMs: SEC }]).toLowerCase() }),
    delayMs: fc.integer({ min: 1, max: 24 * 3600 }).map((s) => s * SEC),
  });

  test('property: formatSteps writes what parseSteps reads back', () => {
    fc.assert(
      fc.property(fc.array(draftStep, { minLength: 1, maxLength: 6 }), (steps) => {
        expect(ok(parseSteps(formatSteps(steps))).steps).toEqual(steps);
      }),
      { numRuns: 300 },
    );
  });
});

describe('policy input', () => {
  test('repeat', () => {
    expect(ok(parseRepeat('0')).repeat).toBe(0);
    expect(ok(parseRepeat(' 9 ')).repeat).toBe(9);
    expect(ok(parseRepeat(2)).repeat).toBe(2);
    expect(ok(parseRepeat('none')).repeat).toBe(0);
    for (const bad of ['10', '-1', '2.5', 'x', '', 2.5, 'twice']) {
      expect(err(parseRepeat(bad)).error).toBe('repeat is a whole number from 0 to 9: how many more times to run all the steps when nobody acknowledges');
    }
  });

  test('the inline command arguments', () => {
    const input = policyInputSchema.parse({ name: ' Duty officer ', steps: 'roster:Consular duty/primary 5m; roster:Consular duty/backup 5m; role:leader', repeat: '2' });
    expect(input.name).toBe('Duty officer');
    expect(input.repeat).toBe(2);
    expect(input.steps).toHaveLength(3);
    expect(policyInputSchema.parse({ name: 'Leadership', steps: 'role:leader' }).repeat).toBe(0);
  });

  test('every field of a bad policy is reported with its message', () => {
    const r = policyInputSchema.safeParse({ name: 'x', steps: 'role:boss', repeat: '12' });
    expect(r.success).toBe(false);
    const byField = Object.fromEntries((r.error?.issues ?? []).map((i) => [String(i.path[0]), i.message]));
    expect(byField).toEqual({
      name: 'a policy name is 2 to 40 characters',
      steps: 'Step 1: "boss" is not a role; roles are officer, crisis, leader, admin.',
      repeat: 'repeat is a whole number from 0 to 9: how many more times to run all the steps when nobody acknowledges',
    });
    const missing = policyInputSchema.safeParse({ name: 'Leadership' });
    expect(missing.error?.issues[0]?.message).toBe('steps="…" is required, e.g. steps="roster:Consular duty/primary 5m; role:leader"');
    expect(policyNameSchema.safeParse('Duty/officer').error?.issues[0]?.message).toBe('a policy name is letters, digits, spaces, dots, dashes or underscores');
  });

  test('severity', () => {
    expect(severitySchema.parse(' Critical ')).toBe('critical');
    expect(severitySchema.parse('normal')).toBe('normal');
    expect(severitySchema.safeParse('urgent').error?.issues[0]?.message).toBe('severity is critical, high or normal');
  });

  test('a stored policy is checked on the way in', () => {
    const good: EscalationPolicy = { id: 'p1', name: 'Duty officer', repeat: 2, steps: [{ targets: [{ kind: 'roster', rosterId: 'r1', layer: 'primary' }], delayMs: 5 * MIN }] };
    expect(escalationPolicySchema.parse(good)).toEqual(good);
    expect(escalationPolicySchema.safeParse({ ...good, steps: [] }).error?.issues[0]?.message).toBe('a policy needs at least one step');
    expect(escalationPolicySchema.safeParse({ ...good, repeat: 10 }).success).toBe(false);
    expect(escalationPolicySchema.safeParse({ ...good, steps: [{ targets: [{ kind: 'team', id: 'x' }], delayMs: MIN }] }).success).toBe(false);
    expect(escalationPolicySchema.safeParse({ ...good, steps: [{ targets: [{ kind: 'role', role: 'leader' }], delayMs: 0 }] }).success).toBe(false);
  });
});

describe('resolving what was typed', () => {
  const members: Record<string, string> = { alee: 'm-alee', bob: 'm-bob', 'slack:T1:U1': 'm-alee' };
  const rosters: Record<string, string> = { 'consular duty': 'r-duty' };
  const lookup = {
    member: (ref: MemberRef) => members[ref.kind === 'handle' ? ref.handle : `${ref.identity.platform}:${ref.identity.externalId}`] ?? null,
    roster: (name: string) => rosters[name.toLowerCase()] ?? null,
  };

  test('references are listed once each, then resolved to ids; one member named twice in a step collapses', () => {
    const draft = ok(parseSteps('roster:Consular duty/primary + @alee + <@slack:T1:U1> 5m; roster:consular duty/backup + @bob; role:leader')).steps;
    const refs = referencesOf(draft);
    expect(refs.rosters).toEqual(['Consular duty']);
    expect(refs.members).toEqual([
      { kind: 'handle', handle: 'alee' },
      { kind: 'identity', identity: { platform: 'slack', externalId: 'T1:U1' } },
      { kind: 'handle', handle: 'bob' },
    ]);
    const steps = ok(resolveSteps(draft, lookup)).steps;
    expect(steps).toEqual([
      { targets: [{ kind: 'roster', rosterId: 'r-duty', layer: 'primary' }, { kind: 'member', memberId: 'm-alee' }], delayMs: 5 * MIN },
      { targets: [{ kind: 'roster', rosterId: 'r-duty', layer: 'backup' }, { kind: 'member', memberId: 'm-bob' }], delayMs: DEFAULT_STEP_DELAY_MS },
      { targets: [{ kind: 'role', role: 'leader' }], delayMs: DEFAULT_STEP_DELAY_MS },
    ]);
    const names = { memberHandle: (id: string) => id.replace('m-', ''), rosterName: () => 'Consular duty' };
    expect(formatSteps(unresolveSteps(steps, names))).toBe('roster:Consular duty/primary+@alee 5m; roster:Consular duty/backup+@bob 5m; role:leader 5m');
  });

  test('every unknown reference is reported once', () => {
    const draft = ok(parseSteps('@zed + roster:Nowhere; @zed; <@slack:T1:U9>')).steps;
    expect(err(resolveSteps(draft, lookup)).errors).toEqual(['No member @zed.', 'No roster named "Nowhere".', 'No member <@slack:T1:U9>.']);
  });
});

// ---------------------------------------------------------------------------------------------

const duty = (id: string): EscalationTarget => ({ kind: 'roster', rosterId: 'r-duty', layer: id === 'b' ? 'backup' : 'primary' });
const POLICY: EscalationPolicy = {
  id: 'p-duty',
  name: 'Duty officer',
  repeat: 2,
  steps: [
    { targets: [duty('p')], delayMs: 5 * MIN },
    { targets: [duty('b')], delayMs: 3 * MIN },
    { targets: [{ kind: 'role', role: 'leader' }], delayMs: 30 * SEC },
  ],
};

describe('the escalation plan', () => {
  test('every step of every pass with its due time; the last delay is the wait before a repeat', () => {
    const plan = planEscalation(POLICY, T0);
    const cycle = 8 * MIN + 30 * SEC;
    expect(passLength(POLICY)).toBe(cycle);
    expect(plan.map((p) => [p.key, p.dueAt - T0])).toEqual([
      ['0:0', 0],
      ['0:1', 5 * MIN],
      ['0:2', 8 * MIN],
      ['1:0', cycle],
      ['1:1', cycle + 5 * MIN],
      ['1:2', cycle + 8 * MIN],
      ['2:0', 2 * cycle],
      ['2:1', 2 * cycle + 5 * MIN],
      ['2:2', 2 * cycle + 8 * MIN],
    ]);
    expect(plan[4]).toMatchObject({ pass: 1, stepIndex: 1, targets: [duty('b')] });
    expect(escalationEndsAt(POLICY, T0)).toBe(T0 + 3 * cycle);
  });

  test('no repeat: one pass; no steps: nothing', () => {
    expect(planEscalation({ ...POLICY, repeat: 0 }, T0)).toHaveLength(3);
    expect(planEscalation({ steps: [], repeat: 3 }, T0)).toEqual([]);
  });

  test('step keys and job keys', () => {
    expect(stepKey(2, 1)).toBe('2:1');
    expect(parseStepKey('2:1')).toEqual({ pass: 2, stepIndex: 1 });
    expect(parseStepKey('x:1')).toBeNull();
    const token = { pageId: 'pg1', version: 3 };
    expect(escalationJobKey(token, '2:1')).toBe('page:pg1:v3:step:2:1');
    expect(deliveryKey(token, '2:1', 'm-alee', 'contact:c1')).toBe('page:pg1:v3:step:2:1:member:m-alee:contact:c1');
  });
});

describe('what is due now', () => {
  function engine(page: PageState, policy = POLICY) {
    const fired = new Set<string>();
    return {
      fired,
      poll(now: number, p: PageState = page) {
        const r = nextStep(policy, escalationStateOf(p, fired), now);
        for (const d of r.due) fired.add(d.key);
        return r;
      },
    };
  }

  test('on time: each step at its due time, the next due time in between, then exhausted', () => {
    const { page } = openPage({ id: 'pg1' }, T0);
    const e = engine(page);
    let r = e.poll(T0);
    expect(r.due.map((d) => d.key)).toEqual(['0:0']);
    expect(r.due[0]).toMatchObject({ lateMs: 0, fence: { pageId: 'pg1', version: 1 }, jobKey: 'page:pg1:v1:step:0:0', targets: [duty('p')] });
    expect(r.nextDueAt).toBe(T0 + 5 * MIN);
    r = e.poll(T0 + 5 * MIN - 1);
    expect(r).toEqual({ due: [], nextDueAt: T0 + 5 * MIN, done: null });
    r = e.poll(T0 + 5 * MIN);
    expect(r.due.map((d) => d.key)).toEqual(['0:1']);
    // The same instant again: nothing twice.
    expect(e.poll(T0 + 5 * MIN).due).toEqual([]);
    const end = planEscalation(POLICY, T0).at(-1)?.dueAt as number;
    r = e.poll(end + HOUR);
    expect(r.due.map((d) => d.key)).toEqual(['0:2', '1:0', '1:1', '1:2', '2:0', '2:1', '2:2']);
    expect(r.due[0]?.lateMs).toBe(end + HOUR - (T0 + 8 * MIN));
    expect(r.nextDueAt).toBeNull();
    expect(e.poll(end + 2 * HOUR)).toEqual({ due: [], nextDueAt: null, done: 'exhausted' });
  });

  test('after an outage the overdue steps come once each, in order, with how late they are', () => {
    const { page } = openPage({ id: 'pg1' }, T0);
    const e = engine(page);
    e.poll(T0);
    const r = e.poll(T0 + 9 * MIN);
    expect(r.due.map((d) => [d.key, d.lateMs])).toEqual([
      ['0:1', 4 * MIN],
      ['0:2', MIN],
      ['1:0', 30 * SEC],
    ]);
    expect(r.nextDueAt).toBe(T0 + 13 * MIN + 30 * SEC);
    expect(e.poll(T0 + 9 * MIN).due).toEqual([]);
  });

  test('acknowledge stops it: nothing more, the version is bumped and old tokens are stale', () => {
    const { page } = openPage({ id: 'pg1' }, T0);
    const e = engine(page);
    const first = e.poll(T0).due[0];
    const acked = ok(acknowledge(page, 'm-alee', T0 + 2 * MIN)).page;
    expect(acked.version).toBe(2);
    expect(e.poll(T0 + 5 * MIN, acked)).toEqual({ due: [], nextDueAt: null, done: 'acknowledged' });
    expect(e.poll(T0 + 5 * HOUR, acked).due).toEqual([]);
    expect(isCurrent(page, first!.fence)).toBe(true);
    expect(isCurrent(acked, first!.fence)).toBe(false);
    expect(isCurrent(acked, fenceOf(acked))).toBe(false); // not triggered any more, whatever the version
  });

  test('resolve stops it too', () => {
    const { page } = openPage({ id: 'pg1' }, T0);
    const e = engine(page);
    e.poll(T0);
    e.poll(T0 + 5 * MIN);
    const resolved = ok(resolve(page, 'm-bob', T0 + 6 * MIN, 'handled by phone')).page;
    expect(e.poll(T0 + 8 * MIN, resolved)).toEqual({ due: [], nextDueAt: null, done: 'resolved' });
    expect(e.fired).toEqual(new Set(['0:0', '0:1']));
  });

  test('a fence names one page and one version', () => {
    const { page } = openPage({ id: 'pg1' }, T0);
    expect(isCurrent(page, { pageId: 'pg1', version: 1 })).toBe(true);
    expect(isCurrent(page, { pageId: 'pg2', version: 1 })).toBe(false);
    expect(isCurrent(page, { pageId: 'pg1', version: 0 })).toBe(false);
    expect(isCurrent(page, { pageId: 'pg1', version: 2 })).toBe(false);
  });

  test('a second trigger with the same dedup key merges into the open page and does not restart or repeat the escalation', () => {
    const opened = openPage({ id: 'pg1', dedupKey: ' case-42 ' }, T0);
    expect(opened.page.dedupKey).toBe('case-42');
    expect(opened.events).toEqual([{ type: 'triggered', pageId: 'pg1', at: T0, version: 1 }]);
    const e = engine(opened.page);
    e.poll(T0);
    const other = { ...openPage({ id: 'pg0', dedupKey: 'case-42' }, T0 - HOUR).page, status: 'resolved' as const };
    const target = findOpenByDedupKey([other, opened.page], 'case-42');
    expect(target?.id).toBe('pg1');
    const merged = ok(reTrigger(opened.page, T0 + 2 * MIN));
    expect(merged.page).toMatchObject({ status: 'triggered', version: 1, triggerCount: 2, lastTriggeredAt: T0 + 2 * MIN, escalationStartedAt: T0 });
    expect(merged.events).toEqual([{ type: 'retriggered', pageId: 'pg1', at: T0 + 2 * MIN, count: 2, status: 'triggered' }]);
    expect(e.poll(T0 + 2 * MIN, merged.page).due).toEqual([]);
    expect(e.poll(T0 + 5 * MIN, merged.page).due.map((d) => d.key)).toEqual(['0:1']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('page transitions', () => {
  const fresh = () => openPage({ id: 'pg1', dedupKey: 'k' }, T0).page;

  test('acknowledge', () => {
    const page = fresh();
    const r = ok(acknowledge(page, 'm-alee', T0 + MIN));
    expect(r.page).toMatchObject({ status: 'acknowledged', version: 2, acknowledgedBy: 'm-alee', acknowledgedAt: T0 + MIN });
    expect(r.events).toEqual([{ type: 'acknowledged', pageId: 'pg1', at: T0 + MIN, by: 'm-alee', version: 2 }]);
    expect(page.status).toBe('triggered'); // pure: the input is untouched
  });

  test('a second acknowledgement (a double click, or someone else) is a clear failure, state unchanged', () => {
    const acked = ok(acknowledge(fresh(), 'm-alee', T0 + MIN)).page;
    const same = err(acknowledge(acked, 'm-alee', T0 + MIN + 300));
    expect(same.error).toEqual({ code: 'ALREADY_ACKNOWLEDGED', message: 'You already acknowledged page pg1; escalation has stopped.', by: 'm-alee', at: T0 + MIN });
    const other = err(acknowledge(acked, 'm-bob', T0 + 2 * MIN));
    expect(other.error).toMatchObject({ code: 'ALREADY_ACKNOWLEDGED', message: 'Page pg1 is already acknowledged by someone else; escalation has stopped.', by: 'm-alee' });
    expect(acked.version).toBe(2);
  });

  test('resolve from triggered or acknowledged; the note is trimmed; empty means none', () => {
    const fromTriggered = ok(resolve(fresh(), 'm-bob', T0 + MIN, '  '));
    expect(fromTriggered.page).toMatchObject({ status: 'resolved', version: 2, resolvedBy: 'm-bob', resolvedAt: T0 + MIN, resolutionNote: null });
    const acked = ok(acknowledge(fresh(), 'm-alee', T0 + MIN)).page;
    const r = ok(resolve(acked, 'm-alee', T0 + 10 * MIN, ' all good '));
    expect(r.page).toMatchObject({ status: 'resolved', version: 3, resolutionNote: 'all good', acknowledgedBy: 'm-alee' });
    expect(r.events).toEqual([{ type: 'resolved', pageId: 'pg1', at: T0 + 10 * MIN, by: 'm-alee', note: 'all good', version: 3 }]);
  });

  test('resolve after resolve, acknowledge after resolve, trigger after resolve: clear failures', () => {
    const resolved = ok(resolve(fresh(), 'm-bob', T0 + MIN)).page;
    expect(err(resolve(resolved, 'm-alee', T0 + 2 * MIN)).error).toEqual({
      code: 'ALREADY_RESOLVED',
      message: 'Page pg1 is already resolved; there is nothing to resolve.',
      by: 'm-bob',
      at: T0 + MIN,
    });
    expect(err(acknowledge(resolved, 'm-alee', T0 + 2 * MIN)).error).toMatchObject({ code: 'ALREADY_RESOLVED', message: 'Page pg1 is already resolved; there is nothing to acknowledge.' });
    expect(err(reTrigger(resolved, T0 + 2 * MIN)).error).toMatchObject({ code: 'NOT_OPEN', message: 'Page pg1 is resolved; a new trigger opens a new page.' });
    expect(findOpenByDedupKey([resolved], 'k')).toBeNull();
  });

  test('a resolution note has a maximum length', () => {
    expect(err(resolve(fresh(), 'm-bob', T0, 'x'.repeat(501))).error).toEqual({ code: 'NOTE_TOO_LONG', message: 'A resolution note is at most 500 characters; this one has 501.' });
    expect(ok(resolve(fresh(), 'm-bob', T0, 'x'.repeat(500))).page.resolutionNote).toHaveLength(500);
  });

  test('an acknowledged page stays acknowledged when triggered again, and counts the trigger', () => {
    const acked = ok(acknowledge(fresh(), 'm-alee', T0 + MIN)).page;
    const r = ok(reTrigger(acked, T0 + 3 * MIN));
    expect(r.page).toMatchObject({ status: 'acknowledged', version: 2, triggerCount: 2, lastTriggeredAt: T0 + 3 * MIN });
    expect(r.events).toEqual([{ type: 'retriggered', pageId: 'pg1', at: T0 + 3 * MIN, count: 2, status: 'acknowledged' }]);
    expect(ok(reTrigger(r.page, T0 + 4 * MIN)).page.triggerCount).toBe(3);
  });

  test('the caller’s own page fields travel through the transitions', () => {
    const page = { ...fresh(), title: 'Detained citizen', severity: 'critical' as const };
    const acked = ok(acknowledge(page, 'm-alee', T0)).page;
    expect(acked.title).toBe('Detained citizen');
    expect(acked.severity).toBe('critical');
  });

  test('dedup lookup: open pages only, the oldest of several, nothing without a key', () => {
    const a = { ...openPage({ id: 'a', dedupKey: 'k' }, T0 + MIN).page };
    const b = ok(acknowledge(openPage({ id: 'b', dedupKey: 'k' }, T0).page, 'm', T0)).page;
    expect(findOpenByDedupKey([a, b], ' k ')?.id).toBe('b');
    expect(findOpenByDedupKey([a, b], 'other')).toBeNull();
    expect(findOpenByDedupKey([a, b], '')).toBeNull();
    expect(findOpenByDedupKey([a, b], null)).toBeNull();
    expect(findOpenByDedupKey([openPage({ id: 'c' }, T0).page], undefined)).toBeNull();
  });

  test('property: versions never go down, a resolved page never changes, failures leave the page as it was', () => {
    type Op = { kind: 'ack' | 'resolve' | 'trigger'; by: string; dt: number };
    const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('ack' as const, 'resolve' as const, 'trigger' as const), by: fc.constantFrom('m1', 'm2'), dt: fc.integer({ min: 0, max: HOUR }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        let page = openPage({ id: 'pg', dedupKey: 'k' }, T0).page;
        let now = T0;
        let acks = 0;
        let resolves = 0;
        for (const o of ops) {
          now += o.dt;
          const before = page;
          const r = o.kind === 'ack' ? acknowledge(page, o.by, now) : o.kind === 'resolve' ? resolve(page, o.by, now) : reTrigger(page, now);
          if (!r.ok) {
            expect(page).toBe(before);
            expect(r.error.message.length).toBeGreaterThan(10);
            if (before.status === 'resolved') expect(['ALREADY_RESOLVED', 'NOT_OPEN']).toContain(r.error.code);
            continue;
          }
          expect(before.status).not.toBe('resolved');
          expect(r.page.version).toBeGreaterThanOrEqual(before.version);
          expect(r.page.version - before.version).toBe(o.kind === 'trigger' ? 0 : 1);
          if (o.kind === 'ack') acks++;
          if (o.kind === 'resolve') resolves++;
          page = r.page;
        }
        expect(acks).toBeLessThanOrEqual(1);
        expect(resolves).toBeLessThanOrEqual(1);
        expect(page.version).toBe(1 + acks + resolves);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('escalation properties', () => {
  const target: fc.Arbitrary<EscalationTarget> = fc.oneof(
    fc.record({ kind: fc.constant('roster' as const), rosterId: fc.constantFrom('r1', 'r2'), layer: fc.constantFrom('primary' as const, 'backup' as const, 'both' as const) }),
    fc.record({ kind: fc.constant('member' as const), memberId: fc.constantFrom('m1', 'm2', 'm3') }),
    fc.record({ kind: fc.constant('role' as const), role: fc.constantFrom(...ROLES) }),
  );
  const policy: fc.Arbitrary<EscalationPolicy> = fc.record({
    id: fc.constant('p'),
    name: fc.constant('Random'),
    steps: fc.array(fc.record({ targets: fc.array(target, { minLength: 1, maxLength: 3 }), delayMs: fc.integer({ min: 1, max: 24 * 3600 }).map((s) => s * SEC) }), { minLength: 1, maxLength: 6 }),
    repeat: fc.integer({ min: 0, max: 9 }),
  });

  /**
   * A polling engine: wakes at every next due time, at random extra instants, and at the
   * acknowledgement (or resolution), which is applied before the steps due at the same instant.
   * Jobs are claimed at the poll and delivered a little later, only if their fence is current.
   */
  function run(p: EscalationPolicy, ackOffset: number, stop: 'ack' | 'resolve', extraOffsets: number[], lags: number[]) {
    const startedAt = T0;
    const ackAt = startedAt + ackOffset;
    let page = openPage({ id: 'pg' }, startedAt).page;
    const fired = new Set<string>();
    const claims = new Map<string, number>();
    const delivered = new Map<string, number>();
    const pendingJobs: { key: string; runAt: number; fence: ReturnType<typeof fenceOf> }[] = [];
    const extras = extraOffsets.map((o) => startedAt + o).sort((a, b) => a - b);
    let now = startedAt;
    let stopped = false;
    let lagIndex = 0;
    for (let guard = 0; guard < 10_000; guard++) {
      if (!stopped && now >= ackAt) {
        const r = stop === 'ack' ? acknowledge(page, 'm1', ackAt) : resolve(page, 'm1', ackAt);
        page = ok(r).page;
        stopped = true;
      }
      // Jobs whose time has come run now, behind the fence.
      for (const j of pendingJobs.filter((x) => x.runAt <= now)) {
        pendingJobs.splice(pendingJobs.indexOf(j), 1);
        if (isCurrent(page, j.fence)) delivered.set(j.key, (delivered.get(j.key) ?? 0) + 1);
      }
      const r = nextStep(p, escalationStateOf(page, fired), now);
      if (stopped) expect(r.due).toEqual([]);
      for (const d of r.due) {
        expect(d.dueAt).toBeLessThanOrEqual(now);
        claims.set(d.key, (claims.get(d.key) ?? 0) + 1);
        fired.add(d.key);
        const lag = lags.length ? (lags[lagIndex++ % lags.length] as number) : 0;
        if (lag > 0) pendingJobs.push({ key: d.key, runAt: now + lag, fence: d.fence });
        else if (isCurrent(page, d.fence)) delivered.set(d.key, (delivered.get(d.key) ?? 0) + 1);
      }
      const candidates = [r.nextDueAt, extras.find((x) => x > now) ?? null, stopped ? null : ackAt, ...pendingJobs.map((j) => j.runAt)].filter((x): x is number => x !== null && x > now);
      if (candidates.length === 0) break;
      now = Math.min(...candidates);
    }
    return { claims, delivered, ackAt };
  }

  test('property: due times never decrease, and follow the delays', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 0, max: 2 ** 40 }), (p, startedAt) => {
        const plan = planEscalation(p, startedAt);
        expect(plan).toHaveLength(p.steps.length * (p.repeat + 1));
        expect(plan[0]?.dueAt).toBe(startedAt);
        expect(new Set(plan.map((s) => s.key)).size).toBe(plan.length);
        for (let i = 1; i < plan.length; i++) {
          const prev = plan[i - 1]!;
          const cur = plan[i]!;
          expect(cur.dueAt).toBeGreaterThanOrEqual(prev.dueAt);
          expect(cur.dueAt - prev.dueAt).toBe(p.steps[prev.stepIndex]!.delayMs);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('property: with a random acknowledgement or resolution time, every step due before it fires exactly once and none fires after it', () => {
    fc.assert(
      fc.property(
        policy,
        fc.double({ min: 0, max: 1.2, noNaN: true }),
        fc.constantFrom('ack' as const, 'resolve' as const),
        fc.array(fc.integer({ min: 0, max: 3 * 24 * 3600 * SEC }), { maxLength: 10 }),
        (p, ackFraction, stop, extra) => {
          const total = escalationEndsAt(p, 0);
          const { claims, delivered, ackAt } = run(p, Math.floor(total * ackFraction), stop, extra, []);
          for (const s of planEscalation(p, T0)) {
            const expected = s.dueAt < ackAt ? 1 : 0;
            expect([s.key, claims.get(s.key) ?? 0]).toEqual([s.key, expected]);
            expect([s.key, delivered.get(s.key) ?? 0]).toEqual([s.key, expected]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: a job claimed before the acknowledgement but run after it delivers nothing (the fence)', () => {
    fc.assert(
      fc.property(policy, fc.double({ min: 0, max: 1.2, noNaN: true }), fc.array(fc.integer({ min: 0, max: 10 * MIN }), { minLength: 1, maxLength: 5 }), (p, ackFraction, lags) => {
        const total = escalationEndsAt(p, 0);
        const { claims, delivered, ackAt } = run(p, Math.floor(total * ackFraction), 'ack', [], lags);
        let lagIndex = 0;
        for (const s of planEscalation(p, T0)) {
          const claimed = claims.get(s.key) ?? 0;
          expect(claimed).toBe(s.dueAt < ackAt ? 1 : 0);
          if (claimed === 0) {
            expect(delivered.has(s.key)).toBe(false);
            continue;
          }
          // Claimed on time (the engine wakes at each due time), run after its lag.
          const lag = lags[lagIndex++ % lags.length] as number;
          expect(delivered.get(s.key) ?? 0).toBe(s.dueAt + lag < ackAt ? 1 : 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('contact methods', () => {
  const chat: ContactMethod = { id: 'c-chat', kind: 'chat', address: null, verified: true, delayMs: 0 };
  const sms: ContactMethod = { id: 'c-sms', kind: 'sms', address: '+442079460000', verified: true, delayMs: 2 * MIN };
  const email: ContactMethod = { id: 'c-mail', kind: 'email', address: 'alee@example.org', verified: true, delayMs: 5 * MIN };

  test('"chat now, SMS after 2 minutes, email after 5"', () => {
    const plan = contactPlan([chat, sms, email], T0);
    expect(plan).toEqual({
      reachable: true,
      skipped: [],
      steps: [
        { method: chat, dueAt: T0, key: 'contact:c-chat' },
        { method: sms, dueAt: T0 + 2 * MIN, key: 'contact:c-sms' },
        { method: email, dueAt: T0 + 5 * MIN, key: 'contact:c-mail' },
      ],
    });
  });

  test('by due time, ties in the member’s own order', () => {
    const a = { ...email, delayMs: 0 };
    const plan = contactPlan([sms, a, chat], T0);
    expect(plan.steps.map((s) => s.key)).toEqual(['contact:c-mail', 'contact:c-chat', 'contact:c-sms']);
  });

  test('unverified methods and bad addresses are skipped and listed', () => {
    const plan = contactPlan([{ ...sms, verified: false }, chat, { ...email, address: 'not-an-email' }], T0);
    expect(plan.reachable).toBe(true);
    expect(plan.steps.map((s) => s.key)).toEqual(['contact:c-chat']);
    expect(plan.skipped.map((s) => [s.method.id, s.reason])).toEqual([
      ['c-sms', 'unverified'],
      ['c-mail', 'invalid-address'],
    ]);
  });

  test('no methods, or none usable: unreachable, as a value', () => {
    expect(contactPlan([], T0)).toEqual({ reachable: false, reason: 'no-methods', message: 'has no contact methods', steps: [], skipped: [] });
    const none = contactPlan([{ ...sms, verified: false }, { ...email, verified: false }], T0);
    expect(none).toMatchObject({ reachable: false, reason: 'none-usable', message: 'has no verified contact method', steps: [] });
    expect(none.skipped).toHaveLength(2);
  });

  test.each([
    [['chat', undefined, undefined], { kind: 'chat', address: null, delayMs: 0 }],
    [['DM', '', 'now'], { kind: 'chat', address: null, delayMs: 0 }],
    [['sms', '+44 20 7946 0000', '2m'], { kind: 'sms', address: '+442079460000', delayMs: 2 * MIN }],
    [['phone', '+1 (202) 555-0143', '90s'], { kind: 'sms', address: '+12025550143', delayMs: 90 * SEC }],
    [['email', ' ALee@Example.org ', '5 min'], { kind: 'email', address: 'alee@example.org', delayMs: 5 * MIN }],
  ] as const)('contact input %j', (args, method) => {
    expect(ok(parseContactInput(args[0], args[1], args[2])).method).toEqual(method);
  });

  test.each([
    [['pager', null, null], 'kind', '"pager" is not a contact method; use chat, sms or email'],
    [['chat', 'U123', null], 'address', 'chat needs no address: it is your Slack or Teams direct message'],
    [['sms', '', null], 'address', 'sms needs a phone number, e.g. +44 20 7946 0000'],
    [['email', null, null], 'address', 'email needs an address, e.g. name@example.org'],
    [['sms', '020 7946 0000', null], 'address', '"020 7946 0000": a phone number in international form, e.g. +44 20 7946 0000'],
    [['sms', '+12', null], 'address', '"+12": a phone number in international form, e.g. +44 20 7946 0000'],
    [['email', 'alee@', null], 'address', '"alee@": not an email address'],
    [['sms', '+442079460000', 'soon'], 'after', 'after: "soon" is not a duration; write e.g. 30s, 5m or 1h30m'],
    [['sms', '+442079460000', '25h'], 'after', 'after: "25h" is too long; a delay is at most 24h'],
    [['sms', '+442079460000', '-2m'], 'after', 'after: "-2m": a delay cannot be negative'],
  ] as const)('contact input %j is refused', (args, field, message) => {
    const e = err(parseContactInput(args[0], args[1], args[2]));
    expect(e.field).toBe(field);
    expect(e.error).toBe(message);
  });

  test('the same method twice is found', () => {
    expect(findDuplicateContact([chat, sms, email], { kind: 'email', address: 'ALEE@example.org' })).toBe(email);
    expect(findDuplicateContact([chat, sms, email], { kind: 'chat', address: null })).toBe(chat);
    expect(findDuplicateContact([chat, sms], { kind: 'email', address: 'alee@example.org' })).toBeNull();
  });

  test('property: only verified methods, never before the notification, in due order, one key each', () => {
    const method: fc.Arbitrary<ContactMethod> = fc.record({
      id: fc.stringMatching(/^[a-z0-9]{1,6}$/),
      kind: fc.constantFrom('chat' as const, 'sms' as const, 'email' as const),
      address: fc.constantFrom(null, '+442079460000', 'a@example.org', 'junk'),
      verified: fc.boolean(),
      delayMs: fc.integer({ min: 0, max: 3600 }).map((s) => s * SEC),
    });
    fc.assert(
      fc.property(fc.uniqueArray(method, { selector: (m) => m.id, maxLength: 8 }), fc.integer({ min: 0, max: 2 ** 40 }), (methods, at) => {
        const plan = contactPlan(methods, at);
        expect(plan.steps.length + plan.skipped.length).toBe(methods.length);
        expect(plan.reachable).toBe(plan.steps.length > 0);
        expect(new Set(plan.steps.map((s) => s.key)).size).toBe(plan.steps.length);
        plan.steps.forEach((s, i) => {
          expect(s.method.verified).toBe(true);
          expect(s.dueAt).toBe(at + s.method.delayMs);
          if (i > 0) expect(s.dueAt).toBeGreaterThanOrEqual(plan.steps[i - 1]!.dueAt);
        });
      }),
    );
  });
});
