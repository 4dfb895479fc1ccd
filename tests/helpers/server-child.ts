// A child process running the real server (startServer, its scheduler and notifiers), for tests
// that kill a replica or run several. Started with `node --import tsx tests/helpers/server-child.ts`
// — node itself, not the tsx CLI, so that a SIGKILL reaches the process doing the work.
//
//   env: the server's own configuration (DATABASE_URL, SLACK_API_URL, …); PORT defaults to 0.
//        STANDBY=1: load the code, print "loaded", and start the server only on a "go" line on
//        stdin (a warm spare: loading takes seconds on a busy machine, starting far less).
//   stdout: "ready <url>" once listening and polling.
//   SIGTERM: close, exit 0. stdin closed (the test process is gone): the same, so that no
//   server outlives its test and keeps polling its database.
//
//        LEASE_MS, POLL_MS: the scheduler's lease and poll interval (defaults 60 s and 500 ms), so
//        that a test of a dead replica need not wait a minute for its claims to lapse.
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';

let server: RunningServer | undefined;
let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => (go = resolve));

function exitAfterClose(): void {
  const closing = server ? server.close() : Promise.resolve();
  closing.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`server-child: shutdown failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  if (/^go$/m.test(input)) go();
});
process.stdin.once('end', exitAfterClose);
process.once('SIGTERM', exitAfterClose);

async function main(): Promise<void> {
  if (process.env.STANDBY === '1') {
    process.stdout.write('loaded\n');
    await started;
  }
  const parsed = parseConfig({ ...process.env, PORT: process.env.PORT ?? '0' });
  if (!parsed.ok) throw new Error(`configuration: ${parsed.error}`);
  const logger = pino({ level: parsed.config.LOG_LEVEL, base: { child: process.env.CHILD_NAME ?? String(process.pid) } }, pino.destination(2));
  const scheduler = {
    ...(process.env.LEASE_MS ? { leaseMs: Number(process.env.LEASE_MS) } : {}),
    ...(process.env.POLL_MS ? { pollMs: Number(process.env.POLL_MS) } : {}),
  };
  server = await startServer(parsed.config, { logger, scheduler });
  process.stdout.write(`ready ${server.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`server-child: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
