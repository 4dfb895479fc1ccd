// Wires the store, the commands and the dispatcher: everything but transport.
import type { Config } from './config';
import { commands } from './handlers';
import { ensureBootstrapAdmins } from './handlers/bootstrap';
import { createDispatcher } from './handlers/dispatcher';
import { createOutbox, type Enqueue } from './handlers/outbox';
import { newId } from './store/ids';
import type { ConversationStore, Dispatcher, Outbox } from './handlers/ports';
import type { Logger } from './logger';
import { migrate } from './store/migrate';
import { Store } from './store/store';

export interface Core {
  store: Store;
  dispatcher: Dispatcher;
  conversations: ConversationStore;
  outbox: Outbox;
  close(): Promise<void>;
}

export async function startCore(config: Config, logger: Logger, opts: { clock?: () => Date } = {}): Promise<Core> {
  const { applied } = await migrate(config.DATABASE_URL);
  if (applied.length) logger.info({ applied }, 'database migrations applied');
  const store = Store.open(config.DATABASE_URL);
  await ensureBootstrapAdmins(store, config.BOOTSTRAP_ADMINS, logger);
  const clock = opts.clock ?? (() => new Date());
  // Until the scheduler is wired in: an idempotent insert into the job table.
  const enqueue: Enqueue = async (spec, tx) => {
    if (await tx.job.findUnique({ where: { idempotencyKey: spec.key } })) return false;
    await tx.job.create({ data: { id: newId(), kind: spec.kind, idempotencyKey: spec.key, payload: JSON.stringify(spec.payload), dueAt: spec.dueAt } });
    return true;
  };
  const outbox = createOutbox(enqueue, clock);
  const dispatcher = createDispatcher({
    outbox,
    store,
    commands,
    settings: { missionTimeZone: config.MISSION_TIMEZONE, ...(config.PUBLIC_BASE_URL ? { publicBaseUrl: config.PUBLIC_BASE_URL } : {}) },
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    store,
    dispatcher,
    conversations: store.conversations,
    outbox,
    close: () => store.close(),
  };
}
