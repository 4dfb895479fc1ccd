// Who may run what, as a table a reviewer can read. The table is checked against every
// command's `allowed`, so changing who may run a command fails here until the table is
// changed too, on purpose. Then every command is tried by a stranger, a member without roles
// and each role alone (typed, submitted as a form, and with generated arguments): the
// dispatcher refuses exactly whom the table says (NOT_REGISTERED, FORBIDDEN) and a refusal
// writes nothing. Last, the rules that live in the handlers (the crisis cell, holidays,
// roster feeds, cover) refuse the people they should.
import crypto from 'node:crypto';
import fc from 'fast-check';
import type { Core } from '../../src/core';
import type { Reply } from '../../src/domain/reply';
import { ROLES, type Role } from '../../src/domain/roles';
import { commands } from '../../src/handlers';
import type { AnyCommand } from '../../src/handlers/command';
import { resolveText } from '../../src/handlers/dispatcher';
import { coreOn, manualClock, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';
import { invocationArb } from '../properties/generators';
import { watchWrites, type WriteWatch } from '../properties/writes';

/** Anyone, even someone an admin has not registered yet. */
const EVERYONE = 'everyone';
/** Any registered member, whatever their roles. */
const MEMBERS = 'members';
type Who = typeof EVERYONE | typeof MEMBERS | readonly Role[];

const CASE_ROLES = ['officer', 'crisis', 'leader', 'admin'] as const;
const CRISIS_LEADS = ['crisis', 'leader', 'admin'] as const;

/** Who may run each command. Change a command's `allowed` and this table, together. */
const WHO_MAY_RUN: readonly (readonly [command: string, who: Who])[] = [
  ['duty help', EVERYONE],
  ['duty me', EVERYONE],
  ['duty home', EVERYONE],
  ['duty member add', ['admin']],
  ['duty member edit', ['admin']],
  ['duty member list', ['admin']],
  ['duty member remove', ['admin']],
  ['duty member restore', ['admin']],
  ['duty role grant', ['admin']],
  ['duty role revoke', ['admin']],
  ['duty role list', ['admin']],
  ['duty audit', ['admin']],
  ['duty roundup', ['admin']],
  ['duty roundup set', ['admin']],
  ['duty roundup off', ['admin']],
  ['duty roundup now', ['admin']],
  ['duty roundup preview', ['leader', 'admin']],
  ['duty retention', ['admin']],
  ['duty retention set', ['admin']],
  ['duty retention run', ['admin']],
  ['duty export-person', ['admin']],
  ['duty now', MEMBERS],
  ['duty at', MEMBERS],
  ['duty next', MEMBERS],
  ['duty schedule', MEMBERS],
  ['duty roster new', ['admin']],
  ['duty roster edit', ['admin']],
  ['duty roster list', MEMBERS],
  ['duty roster add', ['admin']],
  ['duty roster remove', ['admin']],
  ['duty cover', ['officer', 'crisis', 'admin']],
  ['duty cover list', MEMBERS],
  ['duty cover remove', ['officer', 'crisis', 'admin']],
  ['duty swap', CASE_ROLES],
  ['duty swap accept', CASE_ROLES],
  ['duty swap decline', CASE_ROLES],
  ['duty away', MEMBERS],
  ['duty holidays', MEMBERS],
  ['duty calendar', MEMBERS],
  ['duty calendar reset', MEMBERS],
  ['duty log', ['officer', 'crisis', 'admin']],
  ['duty contact add', MEMBERS],
  ['duty contact verify', MEMBERS],
  ['duty contact edit', MEMBERS],
  ['duty contact remove', MEMBERS],
  ['duty contact list', MEMBERS],
  ['page policy new', ['admin']],
  ['page policy edit', ['admin']],
  ['page policy list', MEMBERS],
  ['page policy show', MEMBERS],
  ['page policy remove', ['admin']],
  ['page', MEMBERS],
  ['page ack', MEMBERS],
  ['page resolve', MEMBERS],
  ['page list', MEMBERS],
  ['page show', MEMBERS],
  ['ack', MEMBERS],
  ['resolve', MEMBERS],
  ['case new', CASE_ROLES],
  ['case list', CASE_ROLES],
  ['case show', CASE_ROLES],
  ['case assign', CASE_ROLES],
  ['case note', CASE_ROLES],
  ['case ack', CASE_ROLES],
  ['case status', CASE_ROLES],
  ['case resolve', CASE_ROLES],
  ['case close', CASE_ROLES],
  ['case reopen', CASE_ROLES],
  ['case report', CASE_ROLES],
  ['case export', CASE_ROLES],
  ['case sla', CASE_ROLES],
  ['case sla set', ['admin']],
  ['case sla reset', ['admin']],
  ['case channel', ['admin']],
  ['crisis open', CRISIS_LEADS],
  ['crisis edit', CRISIS_LEADS],
  ['crisis list', MEMBERS],
  ['crisis show', MEMBERS],
  ['crisis stand-down', CRISIS_LEADS],
  ['crisis reopen', CRISIS_LEADS],
  ['crisis add', CRISIS_LEADS],
  ['person add', MEMBERS],
  ['person find', MEMBERS],
  ['person show', MEMBERS],
  ['person status', MEMBERS],
  ['person contact', MEMBERS],
  ['crisis calllist', MEMBERS],
  ['crisis board', MEMBERS],
  ['crisis import', MEMBERS],
  ['crisis export', MEMBERS],
  ['crisis movement new', MEMBERS],
  ['crisis movement list', MEMBERS],
  ['crisis movement show', MEMBERS],
  ['crisis assign', MEMBERS],
  ['crisis allocate', MEMBERS],
  ['crisis checkin', MEMBERS],
  ['crisis boarded', MEMBERS],
  ['crisis noshow', MEMBERS],
  ['crisis manifest', MEMBERS],
  ['crisis duplicates', MEMBERS],
  ['crisis same', MEMBERS],
  ['crisis different', MEMBERS],
  ['crisis unmerge', MEMBERS],
  ['sitrep', CRISIS_LEADS],
  ['sitrep edit', CRISIS_LEADS],
  ['sitrep publish', CRISIS_LEADS],
  ['sitrep discard', CRISIS_LEADS],
  ['sitrep history', MEMBERS],
  ['sitrep show', MEMBERS],
  ['sitrep export', MEMBERS],
  ['sitrep schedule', CRISIS_LEADS],
  ['sitrep subscribe', ['leader']],
  ['sitrep unsubscribe', MEMBERS],
];

/**
 * Rules the handlers enforce beyond the table, as typed by a member who must be refused and by
 * one who may (after the refusal, so that what the allowed run changes cannot hide it). The
 * crisis cell: the crisis role, leaders, admins and members added to the crisis.
 */
const HANDLER_RULES: readonly (readonly [line: string, refused: Caller, allowed: Caller])[] = [
  ['/crisis show NPL-EQ', 'officer', 'cell'],
  ['/crisis board NPL-EQ', 'officer', 'cell'],
  ['/crisis calllist NPL-EQ', 'officer', 'cell'],
  ['/crisis export NPL-EQ csv', 'officer', 'cell'],
  ['/crisis import NPL-EQ data="full_name,status"', 'officer', 'cell'],
  ['/crisis duplicates NPL-EQ', 'officer', 'cell'],
  ['/crisis movement list NPL-EQ', 'officer', 'cell'],
  ['/crisis movement show NPL-EQ 1', 'officer', 'cell'],
  ['/crisis movement new NPL-EQ kind=bus name="Bus 2" capacity=5 departs="2026-03-12 09:00" muster="Hotel Yak"', 'officer', 'cell'],
  ['/crisis assign NPL-EQ 1 1', 'officer', 'cell'],
  ['/crisis allocate NPL-EQ', 'officer', 'cell'],
  ['/crisis checkin NPL-EQ 1 1', 'officer', 'cell'],
  ['/crisis boarded NPL-EQ 1 1', 'officer', 'cell'],
  ['/crisis manifest NPL-EQ 1', 'officer', 'cell'],
  ['/person add name="Zoe Zee" crisis=NPL-EQ', 'officer', 'cell'],
  ['/person find Ana crisis=NPL-EQ', 'officer', 'cell'],
  ['/person show 1', 'officer', 'cell'],
  ['/person status 1 safe', 'officer', 'cell'],
  ['/person contact 1 reached', 'officer', 'cell'],
  ['/sitrep history NPL-EQ', 'officer', 'cell'],
  ['/duty holidays Consular add 2026-12-25 Christmas', 'officer', 'admin'],
  ['/duty holidays Consular remove 2026-12-25', 'officer', 'admin'],
  ['/duty calendar reset Consular', 'officer', 'admin'],
  ['/duty cover @cell from="2026-03-11 08:00" to="2026-03-11 20:00"', 'officer', 'admin'],
];

type Caller = 'stranger' | 'none' | Role | 'cell' | 'root';
/** The stranger is not registered; "none" is a member without roles; each role is held alone. (The
 * bootstrap admin "root" only seeds; "cell" is an officer added to the crisis.) */
const CALLERS: readonly Caller[] = ['stranger', 'none', ...ROLES];
const HANDLES: Record<Exclude<Caller, 'stranger'>, string> = { none: 'nobody1', officer: 'off1', crisis: 'cri1', leader: 'lea1', admin: 'adm1', cell: 'cell', root: 'root' };
/** Generated invocations per command for the callers it refuses (a nightly sets more). */
const AUTH_RUNS = Number(process.env.PROPERTY_AUTH_RUNS) || 10;

function allowedFor(who: Who, caller: Caller): boolean {
  if (who === EVERYONE) return true;
  if (caller === 'stranger') return false;
  if (who === MEMBERS) return true;
  return caller !== 'none' && caller !== 'cell' && caller !== 'root' && who.includes(caller);
}

function whoOf(c: AnyCommand): Who {
  if (c.allowUnregistered) return EVERYONE;
  return c.allowed === 'any-member' ? MEMBERS : c.allowed;
}

function describeWho(who: Who): string {
  return typeof who === 'string' ? who : who.join(', ');
}

test('the table names every command once, with exactly the roles its code allows', () => {
  const table = new Map<string, Who>();
  for (const [key, who] of WHO_MAY_RUN) {
    expect(table.has(key) ? `${key} twice` : key).toBe(key);
    table.set(key, who);
  }
  const differences: string[] = [];
  for (const c of commands) {
    const want = table.get(c.key);
    const have = whoOf(c);
    if (want === undefined) differences.push(`/${c.key} is not in the table (its code allows ${describeWho(have)})`);
    else if (typeof want === 'string' || typeof have === 'string' ? want !== have : [...want].sort().join() !== [...have].sort().join()) {
      differences.push(`/${c.key}: the table says ${describeWho(want)}, the code allows ${describeWho(have)}`);
    }
    table.delete(c.key);
  }
  for (const key of table.keys()) differences.push(`/${key} is in the table but is no command`);
  expect(differences).toEqual([]);
});

function isDispatcherRefusal(r: Reply, key: string): false | 'NOT_REGISTERED' | 'FORBIDDEN' {
  if (r.kind !== 'message' || !r.error) return false;
  if (r.error.code === 'NOT_REGISTERED' && /Ask an admin to add you/.test(r.error.message)) return 'NOT_REGISTERED';
  if (r.error.code === 'FORBIDDEN' && r.error.message.startsWith(`/${key} is for `)) return 'FORBIDDEN';
  return false;
}

describeEachDb('authorisation', (fresh) => {
  let db: TestDb;
  let core: Core;
  let writes: WriteWatch;

  function externalId(caller: Caller): string {
    return caller === 'stranger' ? 'stranger' : HANDLES[caller];
  }
  function run(caller: Caller, text: string): Promise<Reply> {
    return core.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: externalId(caller) }, origin: {}, requestId: crypto.randomUUID() });
  }
  function submit(caller: Caller, command: string, values: Record<string, string | string[] | boolean | undefined>, context?: string): Promise<Reply> {
    return core.dispatcher.dispatch({
      kind: 'form',
      command,
      values,
      ...(context !== undefined ? { context } : {}),
      caller: { platform: 'console', externalId: externalId(caller) },
      origin: {},
      requestId: crypto.randomUUID(),
    });
  }
  async function seed(caller: Caller, text: string): Promise<Reply> {
    const r = await run(caller, text);
    if (r.kind !== 'message' || !r.ok) throw new Error(`seed "${text}" failed: ${textOf(r)}`);
    return r;
  }
  /** Runs `attempt`, which must be refused with `code`, and checks that nothing was written. */
  async function expectRefused(what: string, code: 'NOT_REGISTERED' | 'FORBIDDEN', attempt: () => Promise<Reply>, key: string): Promise<void> {
    const before = await writes.snapshot();
    const r = await attempt();
    expect({ what, refusal: isDispatcherRefusal(r, key), written: await writes.since(before) }).toEqual({ what, refusal: code, written: {} });
  }

  beforeAll(async () => {
    db = await fresh();
    const clock = manualClock('2026-03-10T12:00:00Z');
    core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Paris' }, clock.now);
    for (const caller of [...CALLERS, 'cell' as const]) {
      if (caller === 'stranger') continue;
      const roles = caller === 'none' ? '' : caller === 'cell' ? ' roles=officer' : ` roles=${caller}`;
      await seed('root', `/duty member add handle=${HANDLES[caller]} name="${caller} tester"${roles}`);
    }
    await seed('admin', `/duty roster new name=Consular members="@${HANDLES.officer} @${HANDLES.cell}" shift=1w handoff=08:00`);
    await seed('admin', '/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal');
    await seed('admin', `/crisis add NPL-EQ @${HANDLES.cell}`);
    await seed('admin', '/person add name="Ana Lima" crisis=NPL-EQ needs=evacuation');
    await seed('admin', '/person add name="Ana Lyma" crisis=NPL-EQ');
    await seed('admin', '/crisis movement new NPL-EQ kind=bus name="Bus 1" capacity=10 departs="2026-03-12 08:00" muster="Hotel Yak"');
    await seed('admin', '/sitrep NPL-EQ');
    writes = await watchWrites(db);
  });
  afterAll(async () => {
    await writes?.close();
    await core?.close();
    await db?.drop();
  });

  test.each(WHO_MAY_RUN.map(([key, who]) => [key, describeWho(who), who] as const))('/%s (%s): refused exactly for the others, typed or as a form, and nothing is written', async (key, _label, who) => {
    for (const caller of CALLERS) {
      if (allowedFor(who, caller)) {
        const typed = await run(caller, `/${key}`);
        const form = await submit(caller, key, {});
        expect({ caller, typed: isDispatcherRefusal(typed, key), form: isDispatcherRefusal(form, key) }).toEqual({ caller, typed: false, form: false });
      } else {
        const code = caller === 'stranger' ? 'NOT_REGISTERED' : 'FORBIDDEN';
        await expectRefused(`${caller} types /${key}`, code, () => run(caller, `/${key}`), key);
        await expectRefused(`${caller} submits the /${key} form`, code, () => submit(caller, key, { name: 'x', crisis: 'NPL-EQ' }), key);
      }
    }
  });

  test.each(WHO_MAY_RUN.filter(([, who]) => CALLERS.some((c) => !allowedFor(who, c))).map(([key, who]) => [key, who] as const))(
    '/%s: refused whatever the arguments, for everyone the table leaves out',
    async (key, who) => {
      const c = commands.find((x) => x.key === key);
      if (!c) throw new Error(`no command ${key}`);
      const refused = CALLERS.filter((x) => !allowedFor(who, x));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...refused), invocationArb(c), async (caller, g) => {
          // Only what reaches this command: other lines are another command's business.
          if (g.kind === 'command') {
            const r = resolveText(commands, g.text);
            if (!r.ok || r.command !== c) return;
          }
          const code = caller === 'stranger' ? 'NOT_REGISTERED' : 'FORBIDDEN';
          const attempt = (): Promise<Reply> => (g.kind === 'command' ? run(caller, g.text) : submit(caller, key, g.values, g.context));
          await expectRefused(`${caller}: ${JSON.stringify(g).slice(0, 200)}`, code, attempt, key);
        }),
        { numRuns: AUTH_RUNS },
      );
    },
  );

  test.each(HANDLER_RULES)('%s: the handler refuses the %s and lets the %s', async (line, refused, allowed) => {
    const before = await writes.snapshot();
    const no = await run(refused, line);
    expect({ code: no.kind === 'message' ? no.error?.code : 'FORM', written: await writes.since(before) }).toEqual({ code: 'FORBIDDEN', written: {} });
    const yes = await run(allowed, line);
    expect(yes.kind === 'message' ? yes.error?.code : 'FORM').not.toBe('FORBIDDEN');
  });

  test('not vacuous: the write watch sees an allowed change', async () => {
    const before = await writes.snapshot();
    await seed('admin', '/duty holidays Consular add 2026-12-26 "Boxing Day"');
    expect(Object.keys(await writes.since(before))).toEqual(expect.arrayContaining(['Holiday.INSERT']));
  });
});
