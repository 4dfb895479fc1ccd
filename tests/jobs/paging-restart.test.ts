// A page's escalation survives its server being killed: a real server process (real clock, real
// HTTP to the Slack fake) runs the escalation, is killed with SIGKILL, and a new one takes over
// from the Job table. Steps still fire on time, nobody is paged twice, and a send that was in
// flight when the process died is recorded as "outcome unknown", not sent again.
import type { Core } from '../../src/core';
import { OUTCOME_UNKNOWN } from '../../src/jobs/scheduler';
import type { PageRecord } from '../../src/store/page.repository';
import { as, coreOn, msg } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { killAll, openJobs, ranBy, recordSlack, standbyServerChild, startServerChild, waitFor, type ServerChild, type SlackRecorder, type Standby } from './paging-rig';

const STEP_S = 8;
/** How late a step's message may arrive: the scheduler polls every 500 ms, then the send. */
const ON_TIME_MS = 1500;
/** The children's lease (60 s by default): a dead worker's claim is only given up when it runs out. */
const LEASE_MS = 6_000;
const USERS = { alee: 'UALEE', bob: 'UBOB', carl: 'UCARL' } as const;
const ORDER = ['alee', 'bob', 'carl'] as const;

describeEachDb('paging across a killed server', (fresh) => {
  let db: TestDb;
  let slack: SlackFake;
  let rec: SlackRecorder;
  let core: Core;
  const children: Pick<ServerChild, 'child' | 'exited'>[] = [];
  /** member id → handle */
  const handles = new Map<string, string>();

  const childEnv = (): Record<string, string> => ({
    DATABASE_URL: db.url,
    SLACK_BOT_TOKEN: 'xoxb-restart',
    SLACK_SIGNING_SECRET: 'secret',
    SLACK_API_URL: slack.apiUrl,
    LEASE_MS: String(LEASE_MS),
  });

  async function child(name: string): Promise<ServerChild> {
    const c = await startServerChild(name, childEnv());
    children.push(c);
    return c;
  }

  /**
   * The replacement, its code loaded ahead: loading takes seconds on a busy machine (more than a
   * step's delay when other tests run alongside), starting the server well under one.
   */
  async function spare(name: string): Promise<Standby> {
    const s = await standbyServerChild(name, childEnv());
    children.push(s);
    return s;
  }

  async function raise(text: string): Promise<PageRecord> {
    const r = msg(await as(core, 'root').run(`/page Restart test ${text}`));
    expect(r.ok).toBe(true);
    const n = Number(/#(\d+)/.exec(r.title ?? '')?.[1]);
    const page = await core.store.pages.pageByNumber(n);
    if (!page) throw new Error(`no page #${n}`);
    return page;
  }

  /** The step jobs of a page in order, checked against the plan: triggeredAt + cumulative delays. */
  async function stepDueTimes(page: PageRecord): Promise<number[]> {
    const jobs = await core.store.db.job.findMany({ where: { kind: 'page-step', idempotencyKey: { startsWith: `page:${page.id}:` } }, orderBy: { dueAt: 'asc' } });
    const due = jobs.map((j) => j.dueAt.getTime());
    expect(due).toEqual([0, 1, 2].map((i) => page.triggeredAt + i * STEP_S * 1000));
    return due;
  }

  function expectOnTime(page: PageRecord, due: number[]): void {
    ORDER.forEach((who, i) => {
      const [dm] = rec.to(USERS[who], page.number);
      if (!dm) throw new Error(`${who} got nothing for page #${page.number}`);
      const late = dm.at - (due[i] as number);
      console.log(`page #${page.number} step ${i + 1} (${who}): arrived ${late} ms after it was due`);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThanOrEqual(ON_TIME_MS);
    });
  }

  beforeAll(async () => {
    db = await fresh();
    slack = await startSlackFake();
    rec = recordSlack(slack);
    // The test process's core only writes (members, the policy, pages); it runs no jobs.
    core = await coreOn(db);
    const root = as(core, 'root');
    for (const who of ORDER) {
      const r = msg(await root.run(`/duty member add handle=${who} name="${who} test" slack=T1:${USERS[who]} roles=officer`));
      expect(r.ok).toBe(true);
      handles.set((await core.store.members.byHandle(who))?.id ?? '', who);
    }
    const policy = msg(await root.run(`/page policy new name="Restart test" steps="@alee ${STEP_S}s; @bob ${STEP_S}s; @carl ${STEP_S}s" repeat=0`));
    expect(policy.ok).toBe(true);
  }, 60_000);

  afterEach(async () => {
    rec.release();
    await killAll(children);
  });

  afterAll(async () => {
    await core.close();
    await slack.close();
    await db.drop();
  });

  test('killed between two steps: the next server fires steps 2 and 3 on time, nobody paged twice', async () => {
    const first = await child('first');
    const next = await spare('second');
    const page = await raise('Fire at the chancery');
    const due = await stepDueTimes(page);

    // Step 1 delivered and recorded, nothing running: the kill interrupts no send.
    await waitFor(() => rec.to(USERS.alee, page.number).length === 1, 5000, 'step 1 at the Slack fake');
    await waitFor(
      async () => (await core.store.db.pageNotification.count({ where: { pageId: page.id, status: 'sent' } })) === 1 && (await core.store.db.job.count({ where: { status: 'running' } })) === 0,
      5000,
      'step 1 recorded as sent',
    );
    expect(Date.now()).toBeLessThan(due[1] as number);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(rec.to(USERS.bob, page.number)).toHaveLength(0);

    const second = await next.start();
    // Otherwise the timing below would measure the start-up, not the scheduler.
    expect(second.readyAt).toBeLessThan(due[1] as number);
    await waitFor(() => rec.to(USERS.carl, page.number).length > 0, due[2] as number + 10_000 - Date.now(), 'step 3 at the Slack fake');
    await waitFor(async () => (await openJobs(core.store, page.id)) === 0, 10_000, 'no job of the page left to run');

    expectOnTime(page, due);
    for (const who of ORDER) expect(rec.to(USERS[who], page.number)).toHaveLength(1);
    const notes = await core.store.pages.notifications(page.id);
    expect(notes.map((n) => [n.step, handles.get(n.memberId), n.method, n.status])).toEqual([
      ['0:0', 'alee', 'chat', 'sent'],
      ['0:1', 'bob', 'chat', 'sent'],
      ['0:2', 'carl', 'chat', 'sent'],
    ]);
    // Step 1 was the first server's work; steps 2 and 3 and their sends the second's.
    const jobs = await core.store.db.job.findMany({ where: { idempotencyKey: { startsWith: `page:${page.id}:` } } });
    const by = (lockedBy: string | null): string | null => (ranBy(first, lockedBy) ? 'first' : ranBy(second, lockedBy) ? 'second' : lockedBy);
    // A send is due when its step fired (delay 0 for a chat DM), so it sorts after its step.
    const rows = jobs
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || b.kind.localeCompare(a.kind))
      .map((j) => [j.kind, Math.floor((j.dueAt.getTime() - page.triggeredAt) / (STEP_S * 1000)), j.status, by(j.lockedBy)]);
    expect(rows).toEqual([
      ['page-step', 0, 'done', 'first'],
      ['page-send', 0, 'done', 'first'],
      ['page-step', 1, 'done', 'second'],
      ['page-send', 1, 'done', 'second'],
      ['page-step', 2, 'done', 'second'],
      ['page-send', 2, 'done', 'second'],
    ]);
    const events = await core.store.pages.events(page.id);
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(3);

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  test('killed mid-send: that send is recorded as outcome unknown and not resent; the next step still fires once, on time', async () => {
    const first = await child('first');
    const next = await spare('second');
    // Bob's Slack answers never come while the first server lives: his send is in flight when it dies.
    rec.hold(USERS.bob);
    const page = await raise('Demonstration outside the consulate');
    const due = await stepDueTimes(page);

    await waitFor(() => rec.to(USERS.bob, page.number).length === 1, due[1] as number + 5000 - Date.now(), 'step 2 in flight at the Slack fake');
    const bobSend = await core.store.db.job.findFirst({ where: { kind: 'page-send', idempotencyKey: { startsWith: `page:${page.id}:v1:step:0:1:` } } });
    expect(bobSend).toMatchObject({ status: 'running' });
    expect(ranBy(first, bobSend?.lockedBy ?? null)).toBe(true);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    rec.release();

    const second = await next.start();
    expect(second.readyAt).toBeLessThan(due[2] as number);
    await waitFor(() => rec.to(USERS.carl, page.number).length > 0, due[2] as number + 10_000 - Date.now(), 'step 3 at the Slack fake');

    // Nobody may take the dead worker's claim before its lease runs out; then it is "unknown".
    const leaseEnds = bobSend?.lockedUntil?.getTime() ?? Date.now() + LEASE_MS;
    const bob = await waitFor(
      async () => {
        const n = (await core.store.pages.notifications(page.id)).find((x) => x.step === '0:1');
        return n && n.status !== 'pending' ? n : undefined;
      },
      leaseEnds + 10_000 - Date.now(),
      "bob's send to be given up",
    );
    expect(Date.now()).toBeGreaterThanOrEqual(leaseEnds);
    expect(bob).toMatchObject({ status: 'unknown', error: 'the worker stopped mid-send; not resent' });
    await waitFor(async () => (await openJobs(core.store, page.id)) === 0, 10_000, 'no job of the page left to run');

    expect(await core.store.db.job.findUnique({ where: { id: bobSend?.id ?? '' } })).toMatchObject({ status: 'failed', lastError: OUTCOME_UNKNOWN, attempts: 1 });
    const events = await core.store.pages.events(page.id);
    const unknown = events.filter((e) => e.type === 'unknown');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]?.text).toMatch(/outcome unknown .*not resent/);
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(2);
    // Once each: bob's one post is the one that was in flight.
    for (const who of ORDER) expect(rec.to(USERS[who], page.number)).toHaveLength(1);
    expectOnTime(page, due);
    expect(second.stderr.join('')).toContain('outcome unknown');

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, LEASE_MS + 60_000);
});
