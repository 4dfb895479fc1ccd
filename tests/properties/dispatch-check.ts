// Generated invocations through the real dispatcher, a real core and a real SQLite database, as
// a member with every role (so that authorisation hides no parser): the dispatcher never throws,
// always answers with a message or a form, never says "something went wrong", gives a sentence
// for every refusal, and a refusal (or a form sent back with errors) writes no row at all.
import crypto from 'node:crypto';
import fc from 'fast-check';
import type { Core } from '../../src/core';
import type { Invocation } from '../../src/domain/invocation';
import type { Reply } from '../../src/domain/reply';
import type { AnyCommand } from '../../src/handlers/command';
import { commands } from '../../src/handlers';
import { coreOn, manualClock } from '../helpers/core';
import { freshSqlite, type TestDb } from '../helpers/db';
import { DISPATCH_RUNS, invocationArb, isHumanMessage, type GeneratedInvocation } from './generators';
import { watchWrites, type WriteWatch, type Writes } from './writes';

const ACTOR = 'prop';
const ACTOR_SLACK = 'T1:UPROP';

/** A little of everything, so that generated references find real records. */
const SEED = [
  `/duty member add handle=${ACTOR} name="Prop Tester" roles=officer,crisis,leader,admin slack=${ACTOR_SLACK}`,
  '/duty member add handle=alee name="Ana Lee" roles=officer tz=Europe/Paris',
  '/duty member add handle=bray name="Bo Ray" roles=crisis',
  '/duty member add handle=cy name="Cy Young" roles=leader',
  '/duty roster new name=Consular members="@alee @bray" shift=1w handoff=08:00',
  '/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal',
  '/person add name="Ana Lima" crisis=NPL-EQ needs=evacuation',
  '/person add name="Ana Lyma" crisis=NPL-EQ',
  '/crisis movement new NPL-EQ kind=bus name="Bus 1" capacity=10 departs="2026-03-12 08:00" muster="Hotel Yak"',
  '/case new category=arrest priority=P1 name="Bo Ray" reporter=police summary="Arrested at the airport"',
  '/page @alee "Call the desk"',
  '/sitrep NPL-EQ',
];

/**
 * Writes a refusal is known to make, each reported and left to the owners of that code to keep
 * or change; any other write on refusal fails the run.
 */
const KNOWN_WRITES_ON_REFUSAL: Readonly<Record<string, readonly string[]>> = {
  // The SITREP commands refresh (or create) the draft's live figures first, then may refuse:
  // publish with no leadership channel or a stood-down crisis, edit with a bad value. An edit
  // with publish=yes is saved (and audited) before the publish is refused, in one ok:false reply
  // that shows the saved draft.
  'sitrep publish': ['Sitrep.UPDATE', 'Sitrep.INSERT'],
  'sitrep edit': ['Sitrep.UPDATE', 'Sitrep.INSERT', 'AuditEntry.INSERT', 'AuditHead.UPDATE', 'AuditHead.INSERT'],
  // An import that imports nothing (every row refused, or not PFIF at all) is still recorded:
  // its run, its file (kept while it runs) and an audit entry say who tried what and when. Its
  // job stood by to take over should the importing process die, and is cancelled at the end.
  'crisis import': ['ImportRun.INSERT', 'ImportRun.UPDATE', 'ImportFile.INSERT', 'ImportFile.DELETE', 'Job.INSERT', 'Job.UPDATE', 'AuditEntry.INSERT', 'AuditHead.UPDATE', 'AuditHead.INSERT'],
};

function unexpectedWrites(c: AnyCommand, writes: Writes): string[] {
  const known = KNOWN_WRITES_ON_REFUSAL[c.key] ?? [];
  return Object.keys(writes).filter((k) => !known.includes(k));
}

export interface DispatchStats {
  runs: number;
  ok: number;
  refused: number;
  forms: number;
  wrote: number;
}

export interface DispatchRig {
  core: Core;
  writes: WriteWatch;
  close(): Promise<void>;
}

export async function startRig(fresh: () => Promise<TestDb> = freshSqlite): Promise<DispatchRig & { db: TestDb }> {
  const db = await fresh();
  const clock = manualClock('2026-03-10T12:00:00Z');
  const core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Paris' }, clock.now);
  for (const text of SEED) {
    const r = await core.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: text.startsWith('/duty member add') ? 'root' : ACTOR }, origin: {}, requestId: crypto.randomUUID() });
    if (r.kind !== 'message' || !r.ok) throw new Error(`seed "${text}" failed: ${JSON.stringify(r)}`);
  }
  const writes = await watchWrites(db);
  return {
    db,
    core,
    writes,
    async close() {
      await writes.close();
      await core.close();
      await db.drop();
    },
  };
}

/**
 * Generated commands that succeed change the seeded world (a crisis stood down, a member
 * removed); put back what later commands' plausible inputs refer to, so they reach as deep.
 */
export async function heal(rig: DispatchRig): Promise<void> {
  const { store, dispatcher } = rig.core;
  const fixes: string[] = [];
  if ((await store.crises.byCode('NPL-EQ'))?.status !== 'active') fixes.push('/crisis reopen NPL-EQ');
  for (const handle of ['alee', 'bray', 'cy']) if ((await store.members.byHandle(handle))?.removedAt) fixes.push(`/duty member restore @${handle}`);
  for (const text of fixes) await dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: ACTOR }, origin: {}, requestId: crypto.randomUUID() });
}

function invocation(g: GeneratedInvocation, c: AnyCommand, slack: boolean): Invocation {
  const base = slack
    ? { caller: { platform: 'slack' as const, externalId: ACTOR_SLACK }, origin: { workspaceId: 'T1', channelId: 'C0PROPS' } }
    : { caller: { platform: 'console' as const, externalId: ACTOR }, origin: {} };
  const requestId = crypto.randomUUID();
  if (g.kind === 'command') return { ...base, requestId, kind: 'command', text: g.text, ...(g.prefill ? { prefill: g.prefill } : {}) };
  return { ...base, requestId, kind: 'form', command: c.key, values: g.values, ...(g.context !== undefined ? { context: g.context } : {}) };
}

function describeReply(r: Reply): string {
  return JSON.stringify(r, (k, v: unknown) => (k === 'content' ? '<bytes>' : v)).slice(0, 600);
}

/** One generated invocation; throws (with the input) when a property does not hold. */
export async function checkDispatch(rig: DispatchRig, c: AnyCommand, g: GeneratedInvocation, slack: boolean, stats: DispatchStats): Promise<void> {
  stats.runs++;
  const inv = invocation(g, c, slack);
  const shown = (): string => JSON.stringify(g).slice(0, 500);
  const before = await rig.writes.snapshot();
  let reply: Reply;
  try {
    reply = await rig.core.dispatcher.dispatch(inv);
  } catch (e) {
    throw new Error(`/${c.key}: dispatch threw ${String(e)}\ninput: ${shown()}`, { cause: e });
  }
  const writes = await rig.writes.since(before);
  if (Object.keys(writes).length) stats.wrote++;
  if (reply.kind === 'form') {
    stats.forms++;
    // A rejected submission comes back as the form with its errors: nothing may have been saved.
    if (reply.form.errors && unexpectedWrites(c, writes).length) {
      throw new Error(`/${c.key}: a rejected form after writes ${JSON.stringify(writes)}\ninput: ${shown()}\nreply: ${describeReply(reply)}`);
    }
    return;
  }
  if (reply.kind !== 'message' || typeof reply.ok !== 'boolean') throw new Error(`/${c.key}: not a reply: ${describeReply(reply)}\ninput: ${shown()}`);
  if (reply.error?.code === 'INTERNAL' || /something went wrong/i.test(reply.text ?? '')) {
    throw new Error(`/${c.key}: an unexpected exception reached the user\ninput: ${shown()}\nreply: ${describeReply(reply)}`);
  }
  if (!reply.ok || reply.error) {
    stats.refused++;
    if (!isHumanMessage(reply.error?.message ?? reply.text, () => JSON.stringify(g))) {
      throw new Error(`/${c.key}: a refusal without a human message\ninput: ${shown()}\nreply: ${describeReply(reply)}`);
    }
    if (unexpectedWrites(c, writes).length) {
      throw new Error(`/${c.key}: refused (${reply.error?.code ?? 'ok:false'}) after writes ${JSON.stringify(writes)}\ninput: ${shown()}\nreply: ${describeReply(reply)}`);
    }
    return;
  }
  stats.ok++;
}

/** DISPATCH_RUNS generated invocations for each of `which`, over one seeded database per file. */
export function defineDispatchProperties(which: (all: readonly AnyCommand[]) => readonly AnyCommand[], fresh: () => Promise<TestDb> = freshSqlite): void {
  let rig: DispatchRig;
  const total: DispatchStats = { runs: 0, ok: 0, refused: 0, forms: 0, wrote: 0 };
  beforeAll(async () => {
    rig = await startRig(fresh);
  });
  afterAll(async () => {
    await rig?.close();
  });

  test.each(which(commands).map((c) => [c.key, c] as const))('/%s through the dispatcher: a reply, never an exception; no write on refusal', async (_key, c) => {
    await heal(rig);
    const actor = await rig.core.store.members.byHandle(ACTOR);
    // A generated command must not have taken the tester's own roles away (it never names them).
    expect(actor?.removedAt ?? null).toBeNull();
    expect([...(actor?.roles ?? [])].sort()).toEqual(['admin', 'crisis', 'leader', 'officer']);
    const stats: DispatchStats = { runs: 0, ok: 0, refused: 0, forms: 0, wrote: 0 };
    await fc.assert(
      fc.asyncProperty(invocationArb(c), fc.boolean(), (g, slack) => checkDispatch(rig, c, g, slack, stats)),
      { numRuns: DISPATCH_RUNS },
    );
    expect(stats.runs).toBe(DISPATCH_RUNS);
    for (const k of Object.keys(total) as (keyof DispatchStats)[]) total[k] += stats[k];
    // Charts and PDFs take a while; a nightly-sized run longer still. No assertion on time.
  }, Math.max(30_000, DISPATCH_RUNS * 500));

  test('not vacuous: generated commands also succeeded, and the write watch saw their writes', () => {
    expect(total.ok).toBeGreaterThan(0);
    expect(total.wrote).toBeGreaterThan(0);
    expect(total.refused).toBeGreaterThan(0);
  });
}
