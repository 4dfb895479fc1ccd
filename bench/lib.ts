// Shared pieces of the benchmarks: results, percentiles, open-loop load, child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';

export interface Metric {
  label: string;
  value: number;
  unit: string;
  /** e.g. "< 100 ms"; absent for context figures */
  target?: string;
  pass?: boolean;
}

export interface BenchResult {
  name: string;
  description: string;
  metrics: Metric[];
  notes?: string[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export function signSlack(secret: string, body: string, ts = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = 'v0=' + crypto.createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig, 'content-type': 'application/x-www-form-urlencoded' };
}

/** A loopback stand-in for Slack's Web API and response_url: answers ok to everything. */
export async function startSlackSink(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', channel: 'C1', ts: '1.1' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts a node script and waits until GET <url> answers 2xx. */
export async function startProcess(script: string, env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  // BENCH_CHILD_LOGS=<dir>: each child's log (stdout) to a file there, to see why something failed.
  const logDir = process.env.BENCH_CHILD_LOGS;
  const out = logDir ? fs.openSync(path.join(logDir, `child-${env.PORT ?? 'x'}-${Date.now()}.log`), 'w') : 'ignore';
  // BENCH_CHILD_NODE_ARGS: node options for the children (--cpu-prof …), which NODE_OPTIONS refuses.
  const nodeArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script], { cwd: root(), env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      http.get(readyUrl, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 300);
      }).on('error', () => resolve(false));
    });
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

export interface OpenLoopResult {
  latencies: number[];
  errors: number;
  sent: number;
}

/**
 * Sends `rate` requests per second for `seconds`, each at its scheduled time whatever happened
 * to earlier ones (open loop). Latency runs from the scheduled send time to the response, so
 * a stall in the server or in this process shows up instead of being hidden.
 */
export async function openLoop(rate: number, seconds: number, send: (agent: http.Agent) => Promise<number>): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = rate * seconds;
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      send(agent).then(
        (status) => {
          if (status >= 200 && status < 300) latencies.push(performance.now() - scheduled);
          else errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), errors, sent: total };
}

export function post(agent: http.Agent, url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The PostgreSQL server benchmarks create their databases on. */
export const PG_ADMIN = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A new, empty database on PG_ADMIN's server, or null when the server does not answer. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const name = `dd_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
