// 200 concurrent officers issuing a realistic mix of signed Slack slash commands for 60 s:
// against one process on SQLite, then three processes on one PostgreSQL database. Each officer
// sends a command, waits for Slack's ack and then for the answer, thinks for 1–3 s, and goes
// again (a closed loop, like people). Measured: time to the HTTP ack; every command's reply through its response_url; and
// that every case, note and status report written is in the database afterwards.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { startCore } from '../src/core';
import { freePort, percentile, post, root, signSlack, startProcess, stopProcess, type BenchResult, type Metric } from './lib';
import { freshPostgres, PG_ADMIN } from './lib';

const OFFICERS = Number(process.env.BENCH_OFFICERS ?? 200);
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 60);
const THINK_MS: [number, number] = [1000, 3000];
const SECRET = 'bench-signing-secret';
const PEOPLE = 500;
const CASES = 200;

/** Slack's Web API and response_url: answers ok, and keeps each response_url reply. */
type Sink = { url: string; replies: Map<string, string>; arrived: Map<string, number>; answered: (id: string, timeoutMs: number) => Promise<boolean>; close: () => Promise<void> };

async function startSink(): Promise<Sink> {
  const replies = new Map<string, string>();
  const arrived = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/respond\/([\w-]+)/.exec(req.url ?? '');
      // Several replies to one command (a form error, then…) keep the first.
      if (m && !replies.has(m[1] as string)) {
        replies.set(m[1] as string, Buffer.concat(chunks).toString('utf8'));
        arrived.set(m[1] as string, performance.now());
        waiting.get(m[1] as string)?.();
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', channel: { id: 'C1', is_member: true }, ts: '1.1' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    replies,
    arrived,
    answered: (id, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (replies.has(id)) return resolve(true);
        const timer = setTimeout(() => (waiting.delete(id), resolve(false)), timeoutMs);
        waiting.set(id, () => (clearTimeout(timer), waiting.delete(id), resolve(true)));
      }),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Members, a crisis with people and open cases, through the same commands people use. */
async function seed(url: string): Promise<void> {
  const parsed = parseConfig({ DATABASE_URL: url, BOOTSTRAP_ADMINS: 'console:root', LOG_LEVEL: 'silent', MISSION_TIMEZONE: 'Europe/Paris' });
  if (!parsed.ok) throw new Error(parsed.error);
  const core = await startCore(parsed.config, pino({ level: 'silent' }));
  const run = async (text: string): Promise<void> => {
    const r = await core.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() });
    if (r.kind !== 'message' || !r.ok) throw new Error(`seed: ${text}: ${JSON.stringify(r).slice(0, 300)}`);
  };
  try {
    for (let i = 1; i <= OFFICERS; i++) await run(`/duty member add handle=officer${i} name="Officer ${i}" slack=T1:U${i} roles=officer,crisis`);
    await run('/duty roster new name=Consular members="@officer1 @officer2 @officer3" shift=1w handoff=08:00');
    await run('/crisis open name="Load test" code=LOAD region=Somewhere');
    for (let i = 1; i <= PEOPLE; i++) await run(`/person add name="Citizen ${i} Example" crisis=LOAD`);
    for (let i = 1; i <= CASES; i++) await run(`/case new category=lost-document priority=P3 name="Traveller ${i}" reporter=self summary="Passport lost" city=Lyon`);
  } finally {
    await core.close();
  }
}

interface Totals {
  acks: number[];
  /** when each acknowledged command was sent, to time its reply */
  startedAt: Map<string, number>;
  sent: number;
  errors: number;
  created: number;
  notes: number;
  statuses: number;
  ids: string[];
  texts: Map<string, string>;
}

/** One officer's next command, drawn from the mix. */
function command(i: number, t: Totals): { text: string; kind?: 'create' | 'note' | 'status' } {
  const r = Math.random();
  const ref = `C-${new Date().getFullYear()}-${String(1 + Math.floor(Math.random() * CASES)).padStart(5, '0')}`;
  if (r < 0.2) return { text: 'now' };
  if (r < 0.3) return { text: Math.random() < 0.5 ? '/case list mine' : '/case list open' };
  if (r < 0.38) return { text: `/case new category=welfare priority=P3 name="Load ${i} ${t.sent}" reporter=relative summary="Welfare check requested" city=Paris`, kind: 'create' };
  if (r < 0.5) return { text: `/case note ${ref} Called the hotel, no answer (${i}/${t.sent})`, kind: 'note' };
  if (r < 0.62) return { text: `/person find Citizen ${1 + Math.floor(Math.random() * PEOPLE)}` };
  if (r < 0.74) return { text: `/person status ${1 + Math.floor(Math.random() * PEOPLE)} safe`, kind: 'status' };
  if (r < 0.82) return { text: '/crisis board LOAD' };
  if (r < 0.88) return { text: '/page list' };
  // (/case show answers by direct message, not through response_url: left out so every reply can be counted.)
  if (r < 0.94) return { text: '/crisis list' };
  return { text: 'help' };
}

async function officer(i: number, ports: number[], sink: Sink, until: number, t: Totals, agent: http.Agent): Promise<void> {
  const sinkUrl = sink.url;
  const port = ports[i % ports.length] as number;
  // Start spread over the first think time, as people do.
  await new Promise((r) => setTimeout(r, Math.random() * THINK_MS[1]));
  while (performance.now() < until) {
    const c = command(i, t);
    // Commands other than /case, /person, /crisis and /page go through /duty.
    const m = /^\/(case|person|crisis|page) (.*)$/.exec(c.text);
    const slash = m ? `/${m[1]}` : '/duty';
    const text = m ? (m[2] as string) : c.text;
    const id = crypto.randomUUID();
    const body = new URLSearchParams({
      token: 'x',
      team_id: 'T1',
      team_domain: 'bench',
      channel_id: 'D1',
      channel_name: 'directmessage',
      user_id: `U${i}`,
      user_name: `officer${i}`,
      command: slash,
      text,
      api_app_id: 'A1',
      response_url: `${sinkUrl}respond/${id}`,
      trigger_id: `${Date.now()}.1.${id}`,
    }).toString();
    const start = performance.now();
    t.sent++;
    try {
      const status = await post(agent, `http://127.0.0.1:${port}/slack/events`, body, signSlack(SECRET, body));
      if (status >= 200 && status < 300) {
        t.acks.push(performance.now() - start);
        t.ids.push(id);
        t.startedAt.set(id, start);
        t.texts.set(id, c.text);
        if (c.kind === 'create') t.created++;
        else if (c.kind === 'note') t.notes++;
        else if (c.kind === 'status') t.statuses++;
      } else t.errors++;
    } catch {
      t.errors++;
    }
    // People read the answer before they type the next command (given up after Slack's 30 min… here 30 s).
    if (t.ids[t.ids.length - 1] === id) await sink.answered(id, 30_000);
    await new Promise((r) => setTimeout(r, THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0])));
  }
}

async function counts(url: string): Promise<{ cases: number; notes: number; personNotes: number }> {
  if (url.startsWith('file:')) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(url.slice('file:'.length), { readonly: true });
    try {
      const one = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
      return { cases: one('SELECT COUNT(*) AS n FROM "Case"'), notes: one('SELECT COUNT(*) AS n FROM "CaseNote"'), personNotes: one('SELECT COUNT(*) AS n FROM "PersonNote"') };
    } finally {
      db.close();
    }
  }
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const one = async (sql: string) => Number(((await c.query(sql)).rows[0] as { n: string }).n);
    return { cases: await one('SELECT COUNT(*) AS n FROM "Case"'), notes: await one('SELECT COUNT(*) AS n FROM "CaseNote"'), personNotes: await one('SELECT COUNT(*) AS n FROM "PersonNote"') };
  } finally {
    await c.end();
  }
}

async function scenario(label: string, url: string, processes: number, notes: string[]): Promise<Metric[]> {
  await seed(url);
  const before = await counts(url);
  const sink = await startSink();
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const t: Totals = { acks: [], startedAt: new Map(), sent: 0, errors: 0, created: 0, notes: 0, statuses: 0, ids: [], texts: new Map() };
  try {
    for (let p = 0; p < processes; p++) {
      const port = await freePort();
      ports.push(port);
      children.push(
        await startProcess(
          path.join(root(), 'dist', 'src', 'main.js'),
          { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `${sink.url}api/`, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', DATABASE_URL: url, PORT: String(port), MISSION_TIMEZONE: 'Europe/Paris' },
          `http://127.0.0.1:${port}/healthz`,
        ),
      );
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: OFFICERS });
    const until = performance.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: OFFICERS }, (_, i) => officer(i + 1, ports, sink, until, t, agent)));
    agent.destroy();
    // Replies come after the ack: give the last ones time to arrive.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && t.ids.some((id) => !sink.replies.has(id))) await new Promise((r) => setTimeout(r, 200));
  } finally {
    for (const c of children) await stopProcess(c);
    await sink.close();
  }
  const after = await counts(url);
  const unanswered = t.ids.filter((id) => !sink.replies.has(id)).length;
  const failedReplies = t.ids.filter((id) => /something went wrong|temporarily unavailable/i.test(sink.replies.get(id) ?? '')).length;
  for (const id of t.ids.filter((x) => !sink.replies.has(x) || /something went wrong|temporarily unavailable/i.test(sink.replies.get(x) ?? '')).slice(0, 5)) {
    notes.push(`${label}: ${t.texts.get(id)} → ${(sink.replies.get(id) ?? 'no reply').slice(0, 300)}`);
  }
  const acks = t.acks.sort((a, b) => a - b);
  const p99 = percentile(acks, 99);
  // What the officer waits for: the command's answer (through response_url), from sending it.
  const answered = t.ids.filter((id) => sink.arrived.has(id)).map((id) => (sink.arrived.get(id) as number) - (t.startedAt.get(id) as number)).sort((a, b) => a - b);
  const lost = t.created - (after.cases - before.cases) + (t.notes - (after.notes - before.notes)) + (t.statuses - (after.personNotes - before.personNotes));
  return [
    { label: `${label}: commands sent (${OFFICERS} officers, ${SECONDS} s)`, value: t.sent, unit: '' },
    { label: `${label}: ack p50`, value: percentile(acks, 50), unit: 'ms' },
    { label: `${label}: ack p99`, value: p99, unit: 'ms', target: '< 200 ms', pass: p99 < 200 },
    { label: `${label}: answer p50 (sent → reply through response_url)`, value: Math.round(percentile(answered, 50)), unit: 'ms' },
    { label: `${label}: answer p99`, value: Math.round(percentile(answered, 99)), unit: 'ms' },
    { label: `${label}: answer, slowest`, value: Math.round(answered[answered.length - 1] ?? 0), unit: 'ms' },
    { label: `${label}: errors (HTTP, unexpected or unanswered)`, value: t.errors + failedReplies + unanswered, unit: '', target: '0', pass: t.errors + failedReplies + unanswered === 0 },
    { label: `${label}: writes lost (cases ${t.created}, notes ${t.notes}, status reports ${t.statuses})`, value: lost, unit: '', target: '0', pass: lost === 0 },
  ];
}

export async function run(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-load-'));
  const metrics: Metric[] = [];
  const notes: string[] = [];
  try {
    if (!process.env.BENCH_SKIP_SQLITE) metrics.push(...(await scenario('SQLite, 1 process', `file:${path.join(dir, 'load.db')}`, 1, notes)));
    if (!process.env.BENCH_SKIP_PG) {
      const pg = await freshPostgres();
      if (!pg) notes.push(`PostgreSQL at ${PG_ADMIN} is not reachable: the 3-process run was skipped.`);
      else {
        try {
          metrics.push(...(await scenario('PostgreSQL, 3 processes', pg.url, 3, notes)));
        } finally {
          await pg.drop();
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: 'load',
    description: `${OFFICERS} officers, closed loop with ${THINK_MS[0] / 1000}–${THINK_MS[1] / 1000} s think time, ${SECONDS} s: who is on duty, case list/new/note, person find/status, crisis board and list, page list, help, as signed Slack slash commands`,
    metrics,
    notes,
  };
}
