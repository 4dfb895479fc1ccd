// A paging engine replica for the burst benchmark: the scheduler and the paging jobs over one
// database, sending Slack DMs to SLACK_API_URL. Prints "ready" once polling; SIGTERM stops it.
import pino from 'pino';
import { registerPagingJobs } from '../src/handlers/page/page.jobs';
import { createOutbox } from '../src/handlers/outbox';
import { Scheduler } from '../src/jobs/scheduler';
import { createSlackDeliveryClient, RoutingNotifier, SlackNotifier } from '../src/notify';
import { Store } from '../src/store/store';

const url = process.env.DATABASE_URL ?? '';
const api = process.env.SLACK_API_URL ?? '';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const store = Store.open(url);
const scheduler = new Scheduler({ store, logger, batch: Number(process.env.BATCH ?? 50), pollMs: Number(process.env.POLL_MS ?? 500) });
const outbox = createOutbox((spec, tx) => scheduler.enqueue(spec, tx), () => scheduler.now(), () => scheduler.wake());
const slack = new SlackNotifier({ client: createSlackDeliveryClient({ token: 'xoxb-bench', apiUrl: api, logger }), members: store.members });
const chat = new RoutingNotifier({ members: { byId: (id: string) => store.members.byIdCached(id) }, slack, logger });
registerPagingJobs(scheduler, { store, outbox, logger, settings: { missionTimeZone: 'UTC' }, channels: { chat } });
scheduler.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void scheduler
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
