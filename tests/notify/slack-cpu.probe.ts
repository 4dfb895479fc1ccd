// Probe, not a test: CPU per chat.postMessage of the @slack/web-api WebClient (as the delivery
// client was configured before) against SlackWebClient, and a bare node:http POST as the floor,
// all against the Slack fake running in a child process so that only the client's CPU counts.
//
//   npx tsx tests/notify/slack-cpu.probe.ts [calls=5000] [inFlight=1,32]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { webApi } from '@slack/bolt';
import { boltLogger } from '../../src/bot/slack/bolt-logger';
import { createLogger } from '../../src/logger';
import { SlackWebClient } from '../../src/notify/slack-web';
import { startSlackFake } from '../helpers/slack-fake';

type Post = () => Promise<unknown>;

async function measure(post: Post, calls: number, inFlight: number): Promise<{ cpuUs: number; wallUs: number }> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      await post();
    }
  };
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wall = Number(process.hrtime.bigint() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / calls, wallUs: wall / calls };
}

async function fakeInChild(): Promise<{ apiUrl: string; stop: () => void }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'fake'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (line: string) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`fake exited with ${code}`)));
  });
  return { apiUrl, stop: () => child.kill() };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'fake') {
    const fake = await startSlackFake();
    // Keep memory flat over many calls: the probe needs answers, not records.
    setInterval(() => fake.reset(), 1000).unref();
    process.stdout.write(`${fake.apiUrl}\n`);
    return;
  }
  const calls = Number(process.argv[2] ?? 5000);
  const inFlights = (process.argv[3] ?? '1,32').split(',').map(Number);
  const { apiUrl, stop } = await fakeInChild();
  const logger = createLogger('silent');
  const args = { channel: 'C0DUTY', text: 'Handoff: you are on duty from 18:00', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Handoff*\nYou are on duty from 18:00.' } }] };

  const web = new webApi.WebClient('xoxb-probe', { slackApiUrl: apiUrl, logger: boltLogger(logger), rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, timeout: 10_000 });
  const light = new SlackWebClient({ token: 'xoxb-probe', apiUrl, timeoutMs: 10_000 });
  const floorAgent = new http.Agent({ keepAlive: true });
  const target = new URL('chat.postMessage', apiUrl);
  const bare: Post = () =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify(args);
      const req = http.request(
        { hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: floorAgent, headers: { authorization: 'Bearer xoxb-probe', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(void JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const clients: [string, Post][] = [
    ['node:http floor', bare],
    ['WebClient', () => web.chat.postMessage({ ...args, unfurl_links: false, unfurl_media: false })],
    ['SlackWebClient', async () => {
      const r = await light.postMessage(args);
      if (!r.ok) throw new Error(JSON.stringify(r.result));
    }],
  ];
  try {
    for (const inFlight of inFlights) {
      for (const [name, post] of clients) {
        await measure(post, Math.min(1000, calls), inFlight); // warm-up: JIT, sockets
        const r = await measure(post, calls, inFlight);
        console.log(`${name.padEnd(15)} in flight ${String(inFlight).padStart(3)}: ${r.cpuUs.toFixed(0).padStart(5)} µs CPU/call, ${r.wallUs.toFixed(0).padStart(5)} µs wall/call (${Math.round(1e6 / r.wallUs)} calls/s)`);
      }
    }
  } finally {
    light.close();
    floorAgent.destroy();
    stop();
  }
}

void main();
