// The audit chain's cost. Every audited change takes the chain's head row's lock just before it
// commits, so audited writes are serialised: on PostgreSQL, three replica processes writing
// audited changes at once, chained and (for comparison) written the way entries were before
// the chain. And `audit:verify` over a million entries (SQLite): its time and memory.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite from 'better-sqlite3';
import { entryHash, GENESIS_HASH, verifyAuditChain } from '../src/store/audit-chain';
import { migrate } from '../src/store/migrate';
import { sqliteDate, type SqlRunner } from '../src/store/sql';
import { Store } from '../src/store/store';
import { root, type BenchResult, type Metric } from './lib';
import { freshPostgres, PG_ADMIN } from './lib';

const REPLICAS = 3;
const PER_REPLICA = Number(process.env.BENCH_AUDIT_WRITES ?? 1500);
const CONCURRENCY = 8;
const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);

function startWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; result: Promise<{ ms: number; done: number }> } {
  const child = spawn(process.execPath, [path.join(root(), 'dist', 'bench', 'audit-worker.js')], { cwd: root(), env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<{ ms: number; done: number }>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) onReady();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { ms: number; done: number });
    });
    child.once('exit', (code) => (code ? reject(new Error(`audit worker exited (${code})`)) : undefined));
  });
  return { child, ready, result };
}

/** Audited changes per second with REPLICAS processes writing at once: from "go" to the last one done. */
async function throughput(url: string, mode: 'chain' | 'plain'): Promise<number> {
  const workers = Array.from({ length: REPLICAS }, (_, i) => startWorker({ DATABASE_URL: url, MODE: mode, COUNT: String(PER_REPLICA), CONCURRENCY: String(CONCURRENCY), WORKER_ID: `${mode}${i}` }));
  try {
    await Promise.all(workers.map((w) => w.ready));
    const t0 = performance.now();
    for (const w of workers) w.child.stdin?.write('go\n');
    const results = await Promise.all(workers.map((w) => w.result));
    const ms = performance.now() - t0;
    return (results.reduce((s, r) => s + r.done, 0) / ms) * 1000;
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
  }
}

/** Writes `n` chained entries straight into a fresh SQLite database, in transactions of 10,000. */
function fillSqlite(file: string, n: number): void {
  const db = new BetterSqlite(file);
  const insert = db.prepare('INSERT INTO "AuditEntry" ("at", "actorId", "actorName", "platform", "requestId", "entity", "entityId", "action", "before", "after", "seq", "prevHash", "hash") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let prev = GENESIS_HASH;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let from = 1; from <= n; from += 10_000) {
    db.transaction(() => {
      for (let seq = from; seq < Math.min(n + 1, from + 10_000); seq++) {
        const e = { seq, prevHash: prev, at: new Date(t0 + seq * 1000), actorId: 'm1', actorName: '@alee', platform: 'slack', requestId: crypto.randomUUID(), entity: 'person', entityId: `p${seq % 5000}`, action: 'status', before: '{"status":"unaccounted"}', after: `{"applied":true,"status":"safe","number":${seq % 5000}}` };
        const hash = entryHash(e);
        insert.run(sqliteDate(e.at), e.actorId, e.actorName, e.platform, e.requestId, e.entity, e.entityId, e.action, e.before, e.after, seq, prev, hash);
        prev = hash;
      }
    })();
  }
  db.prepare('INSERT INTO "AuditHead" ("id", "seq", "hash") VALUES (1, ?, ?)').run(n, prev);
  db.close();
}

async function verifyMillion(): Promise<Metric[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const url = `file:${path.join(dir, 'audit.db')}`;
  try {
    await migrate(url);
    fillSqlite(path.join(dir, 'audit.db'), ENTRIES);
    const store = Store.open(url);
    try {
      await store.ping();
      global.gc?.();
      const base = process.memoryUsage();
      let peakHeap = base.heapUsed;
      let peakRss = base.rss;
      // Sampled after every batch read (SQLite reads synchronously: a timer would never fire).
      const inner = store.sqlRead();
      const sampling: SqlRunner = {
        ...inner,
        values: async (sql, params) => {
          const rows = await inner.values(sql, params);
          const m = process.memoryUsage();
          peakHeap = Math.max(peakHeap, m.heapUsed);
          peakRss = Math.max(peakRss, m.rss);
          return rows;
        },
      };
      const t0 = performance.now();
      const r = await verifyAuditChain(sampling);
      const ms = performance.now() - t0;
      if (!r.ok || r.entries !== ENTRIES) throw new Error(`verification failed: ${JSON.stringify(r)}`);
      return [
        { label: `audit:verify over ${ENTRIES.toLocaleString('en')} entries (SQLite)`, value: ms / 1000, unit: 's' },
        { label: 'audit:verify throughput', value: Math.round(ENTRIES / (ms / 1000)), unit: 'entries/s' },
        { label: 'audit:verify peak heap above the start (batches of 2,000)', value: (peakHeap - base.heapUsed) / 1e6, unit: 'MB', target: 'bounded: < 64 MB', pass: peakHeap - base.heapUsed < 64e6 },
        { label: 'audit:verify peak RSS above the start', value: (peakRss - base.rss) / 1e6, unit: 'MB' },
      ];
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult> {
  const metrics: Metric[] = [];
  const notes: string[] = [];
  const pg = process.env.BENCH_SKIP_PG ? null : await freshPostgres();
  if (pg) {
    try {
      await migrate(pg.url);
      const plain = await throughput(pg.url, 'plain');
      const chained = await throughput(pg.url, 'chain');
      const store = Store.open(pg.url);
      let verified: Awaited<ReturnType<typeof verifyAuditChain>>;
      try {
        verified = await verifyAuditChain(store.sqlRead());
      } finally {
        await store.close();
      }
      metrics.push(
        { label: `audited changes/s, PostgreSQL, ${REPLICAS} replicas × ${CONCURRENCY} in flight, unchained (as before)`, value: plain, unit: '/s' },
        { label: `audited changes/s, PostgreSQL, ${REPLICAS} replicas × ${CONCURRENCY} in flight, hash-chained`, value: chained, unit: '/s' },
        { label: 'chained / unchained throughput', value: chained / plain, unit: '×' },
        { label: `chain after ${REPLICAS * (PER_REPLICA + 1)} concurrent chained changes`, value: verified.ok ? verified.entries : 0, unit: verified.ok ? 'entries, intact' : 'BROKEN', target: 'intact', pass: verified.ok && verified.entries === REPLICAS * (PER_REPLICA + 1) },
      );
    } finally {
      await pg.drop();
    }
  } else if (!process.env.BENCH_SKIP_PG) {
    notes.push(`PostgreSQL at ${PG_ADMIN} is not reachable: the replica throughput was not measured.`);
  }
  metrics.push(...(await verifyMillion()));
  return {
    name: 'audit',
    description: `Audit chain on ${os.cpus().length} cores: throughput of audited changes on PostgreSQL with ${REPLICAS} replica processes, chained vs unchained; audit:verify over ${ENTRIES.toLocaleString('en')} entries.`,
    metrics,
    ...(notes.length ? { notes } : {}),
  };
}
