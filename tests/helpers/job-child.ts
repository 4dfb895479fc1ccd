// A worker process for the restart tests: a scheduler whose `deliver` jobs post to Slack (the
// loopback fake). Started with `node --import tsx tests/helpers/job-child.ts` — node itself, not
// the tsx CLI, which would run the worker in a grandchild that a SIGKILL would not reach.
//
//   env: DATABASE_URL, SLACK_API_URL, WORKER_ID, LEASE_MS, BATCH, POLL_MS
//   stdout: "ready" once polling; SIGTERM: stop after the running jobs, exit 0.
import pino from 'pino';
import { Scheduler } from '../../src/jobs/scheduler';
import { registerDelivery } from '../../src/notify/deliver';
import { RoutingNotifier } from '../../src/notify/routing';
import { createSlackDeliveryClient, SlackNotifier } from '../../src/notify/slack';
import { cipherFromSettings } from '../../src/store/field-crypto';
import { Store } from '../../src/store/store';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`job-child: ${name} is required`);
  return v;
}

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
// Under the key the test's own core writes with (members' contact details are sealed).
const store = Store.open(env('DATABASE_URL'), { cipher: cipherFromSettings({ DATA_ENCRYPTION_KEY: process.env.DATA_ENCRYPTION_KEY }) });
const scheduler = new Scheduler({
  store,
  logger,
  workerId: env('WORKER_ID'),
  leaseMs: Number(process.env.LEASE_MS ?? 60_000),
  batch: Number(process.env.BATCH ?? 10),
  pollMs: Number(process.env.POLL_MS ?? 500),
});
const slack = new SlackNotifier({ client: createSlackDeliveryClient({ token: 'xoxb-job-child', apiUrl: env('SLACK_API_URL'), logger }), members: store.members });
registerDelivery(scheduler, new RoutingNotifier({ members: store.members, slack, logger }));
scheduler.start();
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void scheduler
    .stop()
    .then(() => store.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'job-child: shutdown failed');
        process.exit(1);
      },
    );
});
