// Worker processes for the restart tests (tests/helpers/job-child.ts) and the fixture they share:
// a migrated database, the Slack fake, and deliveries to enqueue.
import { spawn, type ChildProcess } from 'node:child_process';
import { Scheduler } from '../../src/jobs/scheduler';
import { enqueueDelivery } from '../../src/notify/deliver';
import { projectRoot } from '../../src/store/paths';
import type { Store } from '../../src/store/store';
import type { TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { migratedStore, quiet } from './rig';
import { TEST_DATA_KEY } from '../helpers/core';

export interface Worker {
  child: ChildProcess;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/job-child.ts'], {
    cwd: projectRoot(),
    env: { ...process.env, LOG_LEVEL: 'warn', DATA_ENCRYPTION_KEY: TEST_DATA_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('ready')) resolve({ child, stderr, exited });
    });
    void exited.then(({ code, signal }) => reject(new Error(`worker exited before it was ready (${code ?? signal}): ${stderr.join('')}`)));
  });
}

export function textOf(args: Record<string, unknown>): string {
  return String(args.text);
}

export interface WorkerRig {
  db: TestDb;
  store: Store;
  slack: SlackFake;
  workers: Worker[];
  /** A worker's environment; the lease is short so that a dead worker's jobs are seen as lost soon. */
  env(id: string, overrides?: Record<string, string>): Record<string, string>;
  /** `count` messages to slack:C1, keyed and worded `${prefix}-${i}`. */
  enqueue(prefix: string, count: number): Promise<string[]>;
  /** Kills what is left of this test's workers. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

export async function workerRig(fresh: () => Promise<TestDb>): Promise<WorkerRig> {
  const { db, store } = await migratedStore(fresh);
  const slack = await startSlackFake();
  const workers: Worker[] = [];
  return {
    db,
    store,
    slack,
    workers,
    env: (id, overrides = {}) => ({ DATABASE_URL: db.url, SLACK_API_URL: slack.apiUrl, WORKER_ID: id, LEASE_MS: '1200', BATCH: '3', POLL_MS: '25', ...overrides }),
    async enqueue(prefix, count) {
      const s = new Scheduler({ store, logger: quiet });
      const keys: string[] = [];
      for (let i = 0; i < count; i++) {
        const key = `${prefix}-${i}`;
        keys.push(key);
        await enqueueDelivery(s, { key, to: { kind: 'channel', channel: 'slack:C1' }, reply: { kind: 'message', ok: true, visibility: 'channel', text: key, fallback: key } });
      }
      return keys;
    },
    async cleanup() {
      for (const w of workers.splice(0)) {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
        await w.exited;
      }
      slack.off('chat.postMessage');
      slack.reset();
    },
    async close() {
      await slack.close();
      await store.close();
      await db.drop();
    },
  };
}
