// Signed `/duty help` slash commands at a fixed 100 per second (open loop) against the running
// Duty Desk server and against a bare Bolt app that only acks, in alternating rounds.
import type http from 'node:http';
import { URLSearchParams } from 'node:url';
import { freePort, openLoop, percentile, post, root, signSlack, startProcess, startSlackSink, stopProcess, type BenchResult } from './lib';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';

const RATE = 100;
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECRET = 'bench-signing-secret';

export async function run(): Promise<BenchResult> {
  const sink = await startSlackSink();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const [appPort, barePort] = [await freePort(), await freePort()];
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: `${sink.url}api/`,
    // The default level, so the cost of logging each interaction is measured too.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    DATABASE_URL: `file:${path.join(dir, 'bench.db')}`,
    BOOTSTRAP_ADMINS: 'slack:T1:U1',
  };
  const app = await startProcess(path.join(root(), 'dist', 'src', 'main.js'), { ...env, PORT: String(appPort) }, `http://127.0.0.1:${appPort}/healthz`);
  const bare = await startProcess(path.join(root(), 'dist', 'bench', 'bare-bolt.js'), { ...env, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/healthz`);

  const send = (port: number) => (agent: http.Agent) => {
    const body = new URLSearchParams({
      token: 'x',
      team_id: 'T1',
      team_domain: 'bench',
      channel_id: 'C1',
      channel_name: 'duty',
      user_id: 'U1',
      user_name: 'bench',
      command: '/duty',
      text: 'help',
      api_app_id: 'A1',
      response_url: `${sink.url}respond`,
      trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`, // unique, as Slack's: a repeated signed request is refused as a replay
    }).toString();
    return post(agent, `http://127.0.0.1:${port}/slack/events`, body, signSlack(SECRET, body));
  };

  const results = { app: [] as number[], bare: [] as number[] };
  let errors = 0;
  try {
    // Warm both (JIT, auth.test, first database reads) before measuring.
    await openLoop(50, 2, send(appPort));
    await openLoop(50, 2, send(barePort));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, port] of [['app', appPort], ['bare', barePort]] as const) {
        const o = await openLoop(RATE, ROUND_SECONDS, send(port));
        results[name].push(...o.latencies);
        errors += o.errors;
      }
    }
  } finally {
    await stopProcess(app);
    await stopProcess(bare);
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const a = results.app.sort((x, y) => x - y);
  const b = results.bare.sort((x, y) => x - y);
  const p99 = percentile(a, 99);
  const bareP99 = percentile(b, 99);
  return {
    name: 'slack-ack',
    description: `signed /duty help at ${RATE}/s open loop, ${ROUNDS} alternating rounds of ${ROUND_SECONDS}s, time to HTTP ack`,
    metrics: [
      { label: 'Duty Desk p50', value: percentile(a, 50), unit: 'ms' },
      { label: 'Duty Desk p99', value: p99, unit: 'ms', target: '< 100 ms', pass: p99 < 100 },
      { label: 'bare Bolt p50', value: percentile(b, 50), unit: 'ms' },
      { label: 'bare Bolt p99', value: bareP99, unit: 'ms' },
      { label: 'p99 ratio (Duty Desk / bare)', value: p99 / bareP99, unit: 'x', target: '<= 1.5', pass: p99 / bareP99 <= 1.5 },
      { label: 'requests measured', value: a.length + b.length, unit: '' },
      { label: 'errors (non-2xx or failed)', value: errors, unit: '', target: '0', pass: errors === 0 },
    ],
  };
}
