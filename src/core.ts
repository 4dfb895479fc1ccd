// Wires the store, the commands and the dispatcher: everything but transport.
import type { Config } from './config';
import { commands } from './handlers';
import { ensureBootstrapAdmins } from './handlers/bootstrap';
import { ensureDefaultPolicies } from './handlers/page/default-policies';
import { createDispatcher } from './handlers/dispatcher';
import { createOutbox } from './handlers/outbox';
import { registerRosterJobs } from './handlers/roster/jobs';
import { Scheduler } from './jobs';
import type { CoreSettings } from './handlers/command';
import type { ConversationStore, Dispatcher, LatePorts, Outbox } from './handlers/ports';
import type { Logger } from './logger';
import { migrate } from './store/migrate';
import { cipherFromSettings } from './store/field-crypto';
import { Store } from './store/store';

export interface Core {
  store: Store;
  dispatcher: Dispatcher;
  conversations: ConversationStore;
  outbox: Outbox;
  /** Runs due jobs once start()ed; the console only enqueues. */
  scheduler: Scheduler;
  settings: CoreSettings;
  /** Set by the server once Slack and Teams are connected. */
  ports: LatePorts;
  close(): Promise<void>;
}

export interface CoreOptions {
  clock?: () => Date;
  /** Scheduler tuning (tests and benchmarks): poll interval and lease. */
  scheduler?: { pollMs?: number; leaseMs?: number };
}

export async function startCore(config: Config, logger: Logger, opts: CoreOptions = {}): Promise<Core> {
  const { applied } = await migrate(config.DATABASE_URL);
  if (applied.length) logger.info({ applied }, 'database migrations applied');
  const store = Store.open(config.DATABASE_URL, { cipher: cipherFromSettings(config, (msg) => logger.warn(msg)), ...(config.AUDIT_CHAIN_KEY ? { auditChainKey: config.AUDIT_CHAIN_KEY } : {}) });
  await ensureBootstrapAdmins(store, config.BOOTSTRAP_ADMINS, logger);
  await ensureDefaultPolicies(store, logger);
  const clock = opts.clock ?? (() => new Date());
  const scheduler = new Scheduler({ store, logger, clock, ...opts.scheduler });
  const outbox = createOutbox((spec, tx) => scheduler.enqueue(spec, tx), clock, () => scheduler.wake());
  const rosterJobs = registerRosterJobs(scheduler, { store, outbox });
  // A handoff job lost to a failure must not end a roster's handoffs: re-plan at every start.
  await rosterJobs.ensurePlanned(clock().getTime());
  const settings: CoreSettings = {
    missionTimeZone: config.MISSION_TIMEZONE,
    ...(config.PUBLIC_BASE_URL ? { publicBaseUrl: config.PUBLIC_BASE_URL } : {}),
    channels: { sms: Boolean(config.SMS_WEBHOOK_URL), email: Boolean(config.SMTP_URL) },
  };
  const ports: LatePorts = {};
  const dispatcher = createDispatcher({
    outbox,
    ports,
    store,
    commands,
    settings,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    store,
    dispatcher,
    conversations: store.conversations,
    outbox,
    scheduler,
    settings,
    ports,
    async close() {
      await scheduler.stop();
      await store.close();
    },
  };
}
