// A server process for the crash test: it runs the real server (its scheduler and notifiers) and,
// with MODE=work, drives a workload of its own through the dispatcher until it is killed: P1
// cases (each posts a card), pages to a member (escalation steps and DMs), and CSV imports of
// several batches. After each command returns, it prints "committed <kind> <id>": the test holds
// it to that. MODE=drain runs the scheduler until no job is due, prints "drained" and waits.
// Bundled by the test (esbuild) and started with node, so that a SIGKILL reaches the process doing the work.
//
//   env: the server's configuration, MODE, WORK_DIR (for import files), CRISIS, RUN (this run's
//        number, for unique names); STANDBY=1: load, print "loaded", start on a "go" line.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { startServer } from '../../src/server';

const IMPORT_ROWS = Number(process.env.IMPORT_ROWS ?? 6000);

let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => (go = resolve));
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  if (/^go$/m.test(input)) go();
});
// The test process is gone: do not outlive it.
process.stdin.once('end', () => process.exit(0));

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  if (process.env.STANDBY === '1') {
    say('loaded');
    await started;
  }
  const parsed = parseConfig({ ...process.env, PORT: '0' });
  if (!parsed.ok) throw new Error(`configuration: ${parsed.error}`);
  const logger = pino({ level: parsed.config.LOG_LEVEL }, pino.destination(2));
  const server = await startServer(parsed.config, { logger, scheduler: { leaseMs: Number(process.env.LEASE_MS ?? 2000), pollMs: 100 } });
  const run = (text: string) =>
    server.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() });
  say('ready');

  if (process.env.MODE === 'drain') {
    // The consoles that ran imports are dead: as if their standby time had passed, so that the
    // import jobs take them up (and resume them) now.
    await server.core.store.transaction((tx) => tx.job.updateMany({ where: { kind: 'crisis-import', status: 'pending' }, data: { dueAt: new Date() } }));
    server.core.scheduler.wake();
    for (;;) {
      const due = await server.core.store.db.job.count({ where: { status: { in: ['pending', 'running'] }, dueAt: { lte: new Date() } } });
      if (due === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    say('drained');
    return;
  }

  const runNo = process.env.RUN ?? '0';
  const crisis = process.env.CRISIS ?? 'CRASH';
  // Each run starts at a different operation, so that short runs still exercise all three.
  for (let i = Number(runNo) % 3; ; i++) {
    const op = i % 3;
    if (op === 0) {
      const r = await run(`/case new category=detention priority=P1 name="Crash R${runNo} N${i}" reporter=police summary="Held at the border"`);
      if (r.kind === 'message' && r.ok) say(`committed case ${/C-\d{4}-\d{5}/.exec(r.title ?? '')?.[0] ?? '?'}`);
      else say(`refused case ${JSON.stringify(r).slice(0, 200)}`);
    } else if (op === 1) {
      const r = await run(`/page @bob Crash test R${runNo} N${i}`);
      if (r.kind === 'message' && r.ok) say(`committed page ${/#(\d+)/.exec(r.title ?? '')?.[1] ?? '?'}`);
      else say(`refused page ${JSON.stringify(r).slice(0, 200)}`);
    } else if (i % 9 === 8 && Number(runNo) % 3 === 0) {
      const file = path.join(process.env.WORK_DIR ?? '.', `import-${runNo}-${i}.csv`);
      const rows = ['full_name,status'];
      // One word each, unique: no two rows (of any file) share a name token, so duplicate detection finds nothing to pair.
      for (let k = 0; k < IMPORT_ROWS; k++) rows.push(`Imp${runNo}x${i}n${k},unaccounted`);
      fs.writeFileSync(file, rows.join('\n'));
      const r = await run(`/crisis import ${crisis} file=${file}`);
      if (r.kind === 'message' && r.ok) say(`committed import Import${runNo}x${i}`);
      else say(`refused import ${JSON.stringify(r).slice(0, 200)}`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
