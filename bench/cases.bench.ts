// Cases: a signed "Log a case" modal submission to the running server (time to Slack's HTTP ack,
// which comes after the case is saved), `/case list` over 100,000 cases, and a one-year report
// over them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { URLSearchParams } from 'node:url';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { startCore } from '../src/core';
import { CASE_CATEGORIES, CASE_PRIORITIES, formatCaseRef, initialsOf } from '../src/domain/case';
import type { Reply } from '../src/domain/reply';
import { valuesList } from '../src/store/sql';
import { freePort, openLoop, percentile, post, root, signSlack, startProcess, startSlackSink, stopProcess, type BenchResult, type Metric } from './lib';

const SECRET = 'bench-signing-secret';
const CASES = Number(process.env.BENCH_CASES ?? 100_000);
const RATE = Number(process.env.BENCH_CASE_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_CASE_SECONDS ?? 15);
const DAY = 86_400_000;

/** A view_submission of the /case new modal as Slack sends it. */
function submission(i: number): string {
  const v = (type: string, value: Record<string, unknown>) => ({ type, ...value });
  const payload = {
    type: 'view_submission',
    team: { id: 'T1', domain: 'bench' },
    user: { id: 'U1', username: 'bench', name: 'bench', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'x',
    trigger_id: `${Date.now()}.1.abc`,
    view: {
      id: `V${i}`,
      team_id: 'T1',
      type: 'modal',
      callback_id: 'duty_form',
      private_metadata: JSON.stringify({ command: 'case new', channelId: 'C1' }),
      state: {
        values: {
          category: { category: v('static_select', { selected_option: { value: CASE_CATEGORIES[i % CASE_CATEGORIES.length] } }) },
          priority: { priority: v('static_select', { selected_option: { value: CASE_PRIORITIES[i % 4] } }) },
          name: { name: v('plain_text_input', { value: `Bench Person ${i}` }) },
          summary: { summary: v('plain_text_input', { value: 'Arrested at the airport on arrival; held at the central police station.' }) },
          reporter: { reporter: v('static_select', { selected_option: { value: 'police' } }) },
          dob: { dob: v('datepicker', { selected_date: '1985-04-23' }) },
          passport: { passport: v('plain_text_input', { value: `X${String(i).padStart(8, '0')}` }) },
          city: { city: v('plain_text_input', { value: 'Lagos' }) },
          country: { country: v('plain_text_input', { value: 'Nigeria' }) },
        },
        hash: 'h',
      },
      hash: 'h',
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function logCaseLatency(): Promise<{ metrics: Metric[]; notes: string[] }> {
  const sink = await startSlackSink();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const port = await freePort();
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: `${sink.url}api/`,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    DATABASE_URL: `file:${path.join(dir, 'bench.db')}`,
    BOOTSTRAP_ADMINS: 'slack:T1:U1',
    PORT: String(port),
  };
  const app = await startProcess(path.join(root(), 'dist', 'src', 'main.js'), env, `http://127.0.0.1:${port}/healthz`);
  let i = 0;
  const send = (agent: http.Agent): Promise<number> => {
    const body = submission(i++);
    return post(agent, `http://127.0.0.1:${port}/slack/events`, body, { 'content-type': 'application/x-www-form-urlencoded', ...signSlack(SECRET, body) });
  };
  try {
    await openLoop(RATE, 2, send);
    const o = await openLoop(RATE, SECONDS, send);
    const p99 = percentile(o.latencies, 99);
    return {
      metrics: [
        { label: 'log a case: form submission → HTTP ack, p50', value: percentile(o.latencies, 50), unit: 'ms' },
        { label: 'log a case: form submission → HTTP ack, p99', value: p99, unit: 'ms', target: '< 100 ms', pass: p99 < 100 && o.errors === 0 },
      ],
      notes: [`${o.sent} signed view_submission payloads at ${RATE}/s open loop against the server on SQLite; ${o.errors} errors. Each creates a case (reference, history, audit, card and service-level jobs) before the ack.`],
    };
  } finally {
    await stopProcess(app);
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function bigStore(): Promise<{ metrics: Metric[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const now = Date.parse('2026-11-22T12:00:00Z');
  const cfg = parseConfig({ DATABASE_URL: `file:${path.join(dir, 'cases.db')}`, LOG_LEVEL: 'silent', BOOTSTRAP_ADMINS: 'console:root', MISSION_TIMEZONE: 'Africa/Lagos' });
  if (!cfg.ok) throw new Error(cfg.error);
  const core = await startCore(cfg.config, pino({ level: 'silent' }), { clock: () => new Date(now) });
  try {
    const run = (text: string): Promise<Reply> => core.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() });
    await run('/duty role grant @root officer');
    const root = await core.store.members.resolve({ kind: 'handle', handle: 'root' });
    // 100,000 cases within the last year (the report covers them all), most closed, a few hundred open: inserted in bulk.
    const t0 = performance.now();
    const years = new Map<number, number>();
    const rows: unknown[][] = [];
    for (let i = 0; i < CASES; i++) {
      const opened = now - Math.floor(((i * 7919) % CASES) / CASES * 364 * DAY);
      const year = new Date(opened).getUTCFullYear();
      const n = (years.get(year) ?? 0) + 1;
      years.set(year, n);
      const open = i % 250 === 0;
      const status = open ? (['new', 'acknowledged', 'in-progress', 'waiting'] as const)[i % 4] : i % 3 ? 'closed' : 'resolved';
      const ack = status === 'new' ? null : opened + ((i * 37) % 180) * 60_000;
      const resolved = status === 'resolved' || status === 'closed' ? opened + ((i * 13) % 96) * 3_600_000 : null;
      const p = CASE_PRIORITIES[i % 4] as string;
      const name = `Person ${i} Example`;
      rows.push([
        crypto.randomUUID(), formatCaseRef(year, n), year, n, CASE_CATEGORIES[i % CASE_CATEGORIES.length], p, status, 1,
        name, initialsOf(name), 'Lagos', 'Nigeria', 'police', 'Bench case summary', 'unknown', i % 10 === 0 ? root?.id ?? null : null,
        new Date(opened), ack === null ? null : new Date(ack), resolved === null ? null : new Date(resolved), status === 'closed' ? new Date(resolved ?? opened) : null,
        new Date(opened + (p === 'P1' ? 15 : p === 'P2' ? 60 : 240) * 60_000), new Date(opened), new Date(opened),
      ]);
    }
    const cols = ['id', 'ref', 'year', 'number', 'category', 'priority', 'status', 'version', 'subjectName', 'subjectInitials', 'city', 'country', 'reporter', 'summary', 'consent', 'assigneeId', 'openedAt', 'acknowledgedAt', 'resolvedAt', 'closedAt', 'ackDueAt', 'lastUpdateAt', 'updatedAt'];
    await core.store.transaction(async (tx) => {
      const w = core.store.sqlIn(tx);
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await w.run(`INSERT INTO "Case" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${valuesList(chunk.length, cols.length)}`, chunk.flat() as never[]);
      }
    });
    const loadMs = performance.now() - t0;

    const time = async (text: string, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = await run(text);
        out.push(performance.now() - t);
        if (r.kind !== 'message' || !r.ok) throw new Error(`${text} failed: ${JSON.stringify(r).slice(0, 300)}`);
      }
      return out.sort((a, b) => a - b);
    };
    const lists = ['/case list', '/case list mine', '/case list P1', '/case list category=arrest', '/case list all', '/case list status=closed'];
    for (const l of lists) await time(l, 5);
    const all: number[] = [];
    const per: Metric[] = [];
    for (const l of lists) {
      const t = await time(l, 100);
      all.push(...t);
      per.push({ label: `  ${l.slice(6)} p99`, value: percentile(t, 99), unit: 'ms' });
    }
    all.sort((a, b) => a - b);
    const listP99 = percentile(all, 99);
    await time('/case report 2025-11-23 2026-11-22', 1);
    const report = await time('/case report 2025-11-23 2026-11-22', 5);
    const reportMax = report[report.length - 1] ?? NaN;
    const exported = await time('/case export 2025-11-23 2026-11-22', 3);
    return {
      metrics: [
        { label: `/case list over ${CASES.toLocaleString('en')} cases, p99 (6 filters × 100)`, value: listP99, unit: 'ms', target: '< 50 ms', pass: listP99 < 50 },
        ...per,
        { label: 'one-year /case report over all of them, slowest of 5', value: reportMax, unit: 'ms', target: '< 1000 ms', pass: reportMax < 1000 },
        { label: '  /case export of the same year (100,000 CSV rows), slowest of 3', value: exported[exported.length - 1] ?? NaN, unit: 'ms' },
      ],
      notes: [`${CASES.toLocaleString('en')} cases within one year loaded in ${Math.round(loadMs)} ms; the report builds counts, median and p90 times, breaches, a PNG chart and the figures as CSV; /case export writes every case of the year as CSV.`],
    };
  } finally {
    await core.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult> {
  const a = await logCaseLatency();
  const b = await bigStore();
  return {
    name: 'cases',
    description: 'logging a case over Slack HTTP, listing and reporting over 100,000 cases (SQLite)',
    metrics: [...a.metrics, ...b.metrics],
    notes: [...a.notes, ...b.notes],
  };
}
