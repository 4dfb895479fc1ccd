// Shared by the paging restart and replica tests: real server processes
// (tests/helpers/server-child.ts), the Slack fake recording when each message arrived, and
// page numbers read back from what the fakes received.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../src/store/paths';
import type { Store } from '../../src/store/store';
import { dmChannel, type SlackFake } from '../helpers/slack-fake';
import { TEST_DATA_KEY } from '../helpers/core';

export interface ServerChild {
  name: string;
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** When it printed "ready" (Date.now() in the test process). */
  readyAt: number;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Config variables of the test process's own environment that must not leak into a child. */
const CONFIG_VARS = [
  'DATABASE_URL', 'PORT', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'TEAMS_APP_ID', 'TEAMS_APP_PASSWORD', 'TEAMS_TENANT_ID',
  'TEAMS_ANONYMOUS', 'MISSION_TIMEZONE', 'BOOTSTRAP_ADMINS', 'SMTP_URL', 'EMAIL_FROM', 'SMS_WEBHOOK_URL', 'SMS_FROM', 'SMS_AUTH_TOKEN', 'PUBLIC_BASE_URL',
];

/** A spawned child, before it is ready. */
interface Spawned {
  child: ChildProcess;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout has matched `pattern` (from its start), rejects if the child exits first or after `timeoutMs`. */
  stdout(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
}

function spawnServerChild(name: string, env: Record<string, string>): Spawned {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CONFIG_VARS) delete base[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/server-child.ts'], {
    cwd: projectRoot(),
    // The key the test's own core writes under (testConfig): replicas must read what it wrote.
    env: { ...base, LOG_LEVEL: 'warn', CHILD_NAME: name, DATA_ENCRYPTION_KEY: TEST_DATA_KEY, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    stderr,
    exited,
    async stdout(pattern, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (gone) throw new Error(`server child ${name} exited before ${what}: ${stderr.join('')}`);
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`server child ${name}: no ${what} after ${timeoutMs} ms: ${stderr.join('')}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

export async function startServerChild(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<ServerChild> {
  const s = spawnServerChild(name, env);
  const m = await s.stdout(/ready (\S+)\n/, timeoutMs, 'ready');
  return { name, child: s.child, url: m[1] as string, readyAt: Date.now(), stderr: s.stderr, exited: s.exited };
}

/** A child with its code loaded, whose server starts on start(). */
export interface Standby {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  start(timeoutMs?: number): Promise<ServerChild>;
}

export async function standbyServerChild(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Standby> {
  const s = spawnServerChild(name, { ...env, STANDBY: '1' });
  await s.stdout(/^loaded\n/, timeoutMs, 'its code loaded');
  return {
    child: s.child,
    exited: s.exited,
    async start(startTimeoutMs = 30_000) {
      s.child.stdin?.write('go\n');
      const m = await s.stdout(/ready (\S+)\n/, startTimeoutMs, 'ready');
      return { name, child: s.child, url: m[1] as string, readyAt: Date.now(), stderr: s.stderr, exited: s.exited };
    },
  };
}

export function alive(c: Pick<ServerChild, 'child'>): boolean {
  return c.child.exitCode === null && c.child.signalCode === null;
}

/** SIGKILL whatever is still running (cleanup after a failed test). */
export async function killAll(children: Pick<ServerChild, 'child' | 'exited'>[]): Promise<void> {
  for (const c of children.splice(0)) {
    if (alive(c)) c.child.kill('SIGKILL');
    await c.exited;
  }
}

/** A child's scheduler writes "<hostname>:<pid>:<random>" to Job.lockedBy. */
export function ranBy(c: ServerChild, lockedBy: string | null): boolean {
  return lockedBy !== null && lockedBy.split(':')[1] === String(c.child.pid);
}

const PAGE_NUMBER = /page #(\d+):/;

/** The page a received message is about ("… page #12: …"), or undefined. */
export function pageNumberIn(text: string): number | undefined {
  const m = PAGE_NUMBER.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface SlackDm {
  /** The user id posted to (a member's DM). */
  user: string;
  page: number | undefined;
  /** Date.now() when the request reached the fake. */
  at: number;
}

export interface SlackRecorder {
  dms: SlackDm[];
  /** Holds the answer to posts to this user until release() (a send left in flight). */
  hold(user: string): void;
  release(): void;
  to(user: string, page: number): SlackDm[];
}

/**
 * Answers chat.postMessage as the fake does by default, noting when each post arrived (the
 * fake's own record has no time), and can leave a user's posts unanswered.
 */
export function recordSlack(slack: SlackFake): SlackRecorder {
  const dms: SlackDm[] = [];
  const held = new Set<string>();
  let releaseAll: () => void = () => undefined;
  let released = new Promise<void>((r) => (releaseAll = r));
  let seq = 0;
  slack.on('chat.postMessage', async (args) => {
    const user = String(args.channel);
    dms.push({ user, page: pageNumberIn(JSON.stringify(args)), at: Date.now() });
    if (held.has(user)) await released;
    seq += 1;
    return { channel: dmChannel(args.channel), ts: `${Math.floor(Date.now() / 1000)}.${String(seq).padStart(6, '0')}`, message: { text: args.text } };
  });
  return {
    dms,
    hold: (user) => void held.add(user),
    release() {
      held.clear();
      releaseAll();
      released = new Promise<void>((r) => (releaseAll = r));
    },
    to: (user, page) => dms.filter((d) => d.user === user && d.page === page),
  };
}

/** Polls `check` every 20 ms until it returns a value other than undefined/false, or throws at the deadline. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Jobs of a page (steps, sends, …) still to run or running: none left means nothing more will be sent for it. */
export function openJobs(store: Store, pageId: string): Promise<number> {
  return store.db.job.count({ where: { idempotencyKey: { startsWith: `page:${pageId}:` }, status: { in: ['pending', 'running'] } } });
}
