// Crash safety: a real server process creating P1 cases, paging a member and importing CSV files
// is killed with SIGKILL at a random moment, again and again (CRASH_RUNS, 50 by default), each
// time replaced by a new process on the same database. Then one last process drains what is due.
// Afterwards: everything the dying processes reported committed is there, nothing is
// half-written (every case has its creation event and audit entry; every import's people match
// its own count, in whole batches), and no Slack message was posted twice.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { buildSync } from 'esbuild';
import { as, coreOn, msg, TEST_DATA_KEY } from '../helpers/core';
import { freshSqlite, tempDir, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';

// 50 runs in CI (CRASH_RUNS to change; CRASH_SEED replays a sequence of kill times). About a
// minute and a half on two cores: each run is a process start.
const RUNS = Number(process.env.CRASH_RUNS ?? 50);
// Two batches (5,000 and 500): an import killed between them must hold exactly the first.
const IMPORT_ROWS = 5500;
const root = path.resolve(__dirname, '..', '..');

/** A small seeded generator, so a failing sequence of kill times can be replayed (CRASH_SEED). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(line: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<void>;
}

/**
 * The child as one file of our code (node_modules stay outside): a process loads in half the time
 * it takes through tsx, and this test starts 50 of them. Written under node_modules/.cache so that
 * its packages resolve as from the source.
 */
function bundleChild(): string {
  const out = path.join(root, 'node_modules', '.cache', 'duty-desk', `crash-child-${process.pid}.js`);
  buildSync({ entryPoints: [path.join(root, 'tests/helpers/crash-child.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', outfile: out, logLevel: 'error' });
  return out;
}

let childScript = '';

function spawnChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [childScript], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG ?? 'error', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((x) => x.re.test(l))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    lines,
    exited,
    waitFor: (re, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (lines.some((l) => re.test(l))) return resolve();
        const timer = setTimeout(() => reject(new Error(`crash child: no ${re} within ${timeoutMs} ms (last: ${lines.slice(-3).join(' | ')})`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then(() => reject(new Error(`crash child exited before ${re} (last: ${lines.slice(-3).join(' | ')})`)));
      }),
  };
}

(RUNS > 0 ? describe : describe.skip)(`crash safety: SIGKILL at random moments, ${RUNS} times [sqlite]`, () => {
  let db: TestDb;
  let slack: SlackFake;
  let dir: string;
  const children: Child[] = [];

  beforeAll(async () => {
    childScript = bundleChild();
    db = await freshSqlite();
    slack = await startSlackFake();
    dir = tempDir();
    const core = await coreOn(db);
    const r = as(core, 'root');
    for (const line of ['/duty member add handle=bob name="Bob Duty" slack=T1:UBOB roles=officer', '/case channel slack:C100', '/crisis open name="Crash test" code=CRASH region=Nowhere']) {
      expect(msg(await r.run(line)).ok).toBe(true);
    }
    await core.close();
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await slack.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(childScript, { force: true });
  });

  test('nothing committed is lost, nothing is half-written, no message is posted twice', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100000);
    const random = prng(seed);
    const env = (run: number, mode: 'work' | 'drain'): Record<string, string> => ({
      DATABASE_URL: db.url,
      SLACK_BOT_TOKEN: 'xoxb-crash',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: slack.apiUrl,
      BOOTSTRAP_ADMINS: 'console:root',
      DATA_ENCRYPTION_KEY: TEST_DATA_KEY,
      MODE: mode,
      RUN: String(run),
      WORK_DIR: dir,
      IMPORT_ROWS: String(IMPORT_ROWS),
      STANDBY: '1',
    });
    // Processes are loaded two runs ahead, while the ones before them work (loading a process
    // takes longer than a run).
    const t0 = Date.now();
    const spares: Child[] = [];
    const spawnFor = (run: number): void => {
      if (run > RUNS) return;
      const c = spawnChild(env(run, run < RUNS ? 'work' : 'drain'));
      children.push(c);
      spares.push(c);
    };
    spawnFor(0);
    spawnFor(1);
    const committed: string[] = [];
    const kills: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const child = spares.shift() as Child;
      await child.waitFor(/^loaded$/, 60_000);
      child.proc.stdin?.write('go\n');
      spawnFor(run + 2);
      await child.waitFor(/^ready$/, 60_000);
      // Killed while it works: creating a case, paging, importing, or running their jobs.
      const after = Math.round(50 + random() * 1450);
      kills.push(after);
      await new Promise((r) => setTimeout(r, after));
      child.proc.kill('SIGKILL');
      await child.exited;
      committed.push(...child.lines.filter((l) => l.startsWith('committed ')));
      if (process.env.CRASH_TRACE) console.log(`run ${run}: ${Date.now() - t0} ms, ${child.lines.length} lines`);
    }
    // The last spare drains: every job due runs (those of dead processes once their lease lapses).
    const spare = spares.shift() as Child;
    await spare.waitFor(/^loaded$/, 60_000);
    spare.proc.stdin?.write('go\n');
    await spare.waitFor(/^drained$/, 120_000);
    spare.proc.kill('SIGTERM');
    await spare.exited;
    if (process.env.CRASH_TRACE) console.log(`drained: ${Date.now() - t0} ms`);

    const core = await coreOn(db);
    try {
      const context = `seed ${seed}, kill times ${kills.join(',')}`;
      const cases = committed.filter((l) => l.startsWith('committed case ')).map((l) => l.slice('committed case '.length));
      const pages = committed.filter((l) => l.startsWith('committed page ')).map((l) => Number(l.slice('committed page '.length)));
      expect({ context, committed: committed.length > 0 }).toEqual({ context, committed: true });

      // Committed means there.
      const stored = new Set((await core.store.db.case.findMany({ select: { ref: true } })).map((c) => c.ref));
      expect({ context, missing: cases.filter((ref) => !stored.has(ref)) }).toEqual({ context, missing: [] });
      const storedPages = new Set((await core.store.db.page.findMany({ select: { number: true } })).map((p) => p.number));
      expect({ context, missing: pages.filter((n) => !storedPages.has(n)) }).toEqual({ context, missing: [] });

      // Whole: every case has its creation event and its audit entry, and numbers have no repeats.
      const all = await core.store.db.case.findMany({ select: { id: true, ref: true } });
      const created = new Set((await core.store.db.caseEvent.findMany({ where: { type: 'created' }, select: { caseId: true } })).map((e) => e.caseId));
      const audited = new Set((await core.store.db.auditEntry.findMany({ where: { entity: 'case', action: 'open' }, select: { entityId: true } })).map((e) => e.entityId));
      expect({ context, withoutEvent: all.filter((c) => !created.has(c.id)).map((c) => c.ref), withoutAudit: all.filter((c) => !audited.has(c.id)).map((c) => c.ref) }).toEqual({ context, withoutEvent: [], withoutAudit: [] });
      expect(new Set(all.map((c) => c.ref)).size).toBe(all.length);

      // Imports: each run's people match its own count, in whole batches; a finished one has them all.
      const runs = await core.store.db.importRun.findMany();
      const tally = `${cases.length} cases and ${pages.length} pages committed; imports: ${runs.map((r) => `${r.status} ${r.imported}`).join(', ')}; ${slack.callsTo('chat.postMessage').length} Slack posts`;
      if (process.env.CRASH_TRACE) console.log(tally);
      // Not vacuous: the three kinds of work were under way when processes died.
      expect({ context, tally, cases: cases.length > 0, pages: pages.length > 0, imports: runs.length > 0 }).toEqual({ context, tally, cases: true, pages: true, imports: true });
      for (const r of runs) {
        const prefix = /^import-(\d+)-(\d+)\.csv$/.exec(r.fileName);
        if (!prefix) continue;
        const people = await core.store.db.person.count({ where: { source: `csv:${r.fileName}` } });
        expect({ context, file: r.fileName, status: r.status, people }).toEqual({ context, file: r.fileName, status: r.status, people: r.imported });
        if (r.status === 'done') expect(r.imported).toBe(IMPORT_ROWS);
        // One still running (its job waiting for a retry) must still have that job: not lost.
        if (r.status === 'running') {
          const waiting = await core.store.db.job.count({ where: { kind: 'crisis-import', status: { in: ['pending', 'running'] }, payload: { contains: r.id } } });
          expect({ context, file: r.fileName, waiting: waiting > 0 }).toEqual({ context, file: r.fileName, waiting: true });
        }
      }

      // Never twice: a channel or DM post is one (channel, text) pair.
      const seen = new Map<string, number>();
      for (const c of slack.callsTo('chat.postMessage')) {
        const key = `${String(c.args.channel)} ${String(c.args.text)}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      expect({ context, twice: [...seen].filter(([, n]) => n > 1).map(([k]) => k.slice(0, 120)) }).toEqual({ context, twice: [] });
      // And the work got done: cards and pages reached Slack.
      expect(slack.callsTo('chat.postMessage').length).toBeGreaterThan(0);
    } finally {
      await core.close();
    }
  }, 30 * 60_000);
});
