// The one HTTP server: Slack (HTTP mode), Teams, health. Transport only; the core does the work.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSlack, type SlackRuntime } from './bot/slack';
import type * as TeamsModule from './bot/teams';
import type { TeamsRuntime } from './bot/teams';
import { slackEnabled, teamsEnabled, type Config } from './config';
import { startCore, type Core } from './core';
import { seenInPostgres, type SeenCheck } from './store/seen.repository';
import type { Dispatcher } from './handlers/ports';
import { calendarRoute } from './http/calendar.route';
import { smsInboundRoute } from './http/sms.route';
import { EmailNotifier } from './notify/email';
import { SmsNotifier } from './notify/sms';
import { createSlackDeliveryClient, registerDelivery, RoutingNotifier, SlackNotifier, TeamsNotifier } from './notify';
import { createLogger, type Logger } from './logger';
import { registerPagingJobs } from './handlers/page/page.jobs';
import { registerCaseJobs } from './handlers/case/case.jobs';
import { registerBoardJob } from './handlers/crisis/crisis-board';
import { registerImportJobs } from './handlers/crisis/import.service';
import { registerCrisisChannelJob } from './handlers/crisis/crisis-channel.job';
import { registerSitrepJobs } from './handlers/sitrep/sitrep.jobs';
import { registerRoundupJob } from './handlers/duty/roundup.job';
import { registerRetentionJob } from './handlers/duty/retention.job';

export interface RunningServer {
  url: string;
  port: number;
  dispatcher: Dispatcher;
  core: Core;
  close(): Promise<void>;
}

export interface ServerOptions {
  logger?: Logger;
  clock?: () => Date;
  /** Scheduler tuning (tests and benchmarks): poll interval and lease. */
  scheduler?: { pollMs?: number; leaseMs?: number };
  /** Tests: where Teams tokens' signing keys are published (a loopback OpenID endpoint). */
  teamsOpenIdMetadataUrl?: string;
}

/** How long a stop waits for the commands under way (a deploy's SIGTERM gives 30 s, usually). */
const DRAIN_MS = 25_000;
/** After the last command: time for its reply to reach the person. */
const REPLY_GRACE_MS = 500;

export async function startServer(config: Config, opts: ServerOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const core = await startCore(config, logger, { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.scheduler ? { scheduler: opts.scheduler } : {}) });
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', async (_req, res) => {
    try {
      await core.store.ping();
    } catch (e) {
      logger.warn({ err: e }, 'health check: database unreachable');
      res.status(503).json({ status: 'unavailable', db: 'error', reason: 'the database does not answer' });
      return;
    }
    // The watchdog: jobs (handoffs, messages, later escalations) running late.
    const late = await core.scheduler.late().catch(() => ({ count: 0, oldestMs: 0 }));
    if (late.count > 0) {
      logger.warn({ late: late.count, oldestMs: late.oldestMs }, 'scheduled jobs are running late');
      res.json({ status: 'degraded', db: 'ok', jobs: { late: late.count, oldestLateMs: late.oldestMs } });
      return;
    }
    res.json({ status: 'ok', db: 'ok' });
  });

  app.get('/calendar/:file', calendarRoute(core.store, logger, opts.clock ?? (() => new Date())));
  app.post(
    '/sms/inbound',
    ...smsInboundRoute({ store: core.store, outbox: core.outbox, logger }, logger, {
      clock: opts.clock ?? (() => new Date()),
      ...(config.SMS_AUTH_TOKEN ? { authToken: config.SMS_AUTH_TOKEN } : {}),
      ...(config.PUBLIC_BASE_URL ? { publicBaseUrl: config.PUBLIC_BASE_URL } : {}),
    }),
  );

  // Commands under way, so that a stop (a deploy's SIGTERM) lets them finish: Slack has had its
  // ack, and the officer's case must not be dropped with the process.
  const inFlight = new Set<Promise<unknown>>();
  const dispatcher: Dispatcher = {
    preview: (text) => core.dispatcher.preview(text),
    dispatch: (invocation) => {
      const running = core.dispatcher.dispatch(invocation);
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
      return running;
    },
  };
  const deps = { config, dispatcher, logger, conversations: core.conversations };
  let slack: SlackRuntime | undefined;
  let seen: SeenCheck | undefined;
  if (slackEnabled(config)) {
    // One process on SQLite remembers alone; replicas on PostgreSQL share what they accepted.
    seen = core.store.provider === 'postgresql' ? seenInPostgres(config.DATABASE_URL) : undefined;
    slack = createSlack({ ...deps, members: core.store.members, ...(seen ? { seen } : {}) }, { app });
  }
  // The Teams stack takes seconds to load: only when Teams is set up (a restart comes back sooner).
  let teams: TeamsRuntime | undefined;
  if (teamsEnabled(config)) {
    // require, not import(): compiled to CommonJS, and jest and tsx resolve it to the .ts file alike.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deferred load, typed by the cast
    const { createTeams } = require('./bot/teams') as typeof TeamsModule;
    teams = createTeams({ ...deps, ...(opts.teamsOpenIdMetadataUrl ? { openIdMetadataUrl: opts.teamsOpenIdMetadataUrl } : {}) });
  }
  app.post('/api/messages', (req, res) => {
    if (!teams) {
      logger.warn({ status: 401 }, 'rejected a Teams activity: Teams is not configured');
      res.status(401).json({ error: 'teams_not_configured', message: 'Teams is not configured: set TEAMS_APP_ID and TEAMS_APP_PASSWORD' });
      return;
    }
    teams.handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'teams: unhandled error');
      if (!res.headersSent) res.status(500).end();
    });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  // Outbound messages: each a `deliver` job, sent on the member's platform.
  const chat = new RoutingNotifier({
      // Cached: a burst of pages to a few people should not cost a lookup each.
      members: { byId: (id: string) => core.store.members.byIdCached(id) },
      logger,
      ...(config.SLACK_BOT_TOKEN
        ? {
            slack: new SlackNotifier({
              client: createSlackDeliveryClient({ token: config.SLACK_BOT_TOKEN, ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}), logger }),
              members: core.store.members,
            }),
          }
        : {}),
      ...(teams ? { teams: new TeamsNotifier({ adapter: teams.adapter, botAppId: teams.botAppId, members: core.store.members, conversations: core.store.conversations }) } : {}),
  });
  registerDelivery(core.scheduler, chat);
  // Commands may now check a channel before committing to post there (SITREPs).
  core.ports.channels = chat;
  const sms = config.SMS_WEBHOOK_URL && config.SMS_FROM ? new SmsNotifier({ url: config.SMS_WEBHOOK_URL, from: config.SMS_FROM }) : undefined;
  const email = config.SMTP_URL ? new EmailNotifier({ url: config.SMTP_URL, ...(config.EMAIL_FROM ? { from: config.EMAIL_FROM } : {}) }) : undefined;
  registerPagingJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger, settings: core.settings, channels: { chat, ...(sms ? { sms } : {}), ...(email ? { email } : {}) } });
  registerCaseJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger, settings: core.settings, chat });
  registerBoardJob(core.scheduler, { store: core.store, missionTimeZone: core.settings.missionTimeZone, chat });
  registerImportJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger, missionTimeZone: core.settings.missionTimeZone, chat });
  registerCrisisChannelJob(core.scheduler, { store: core.store, outbox: core.outbox, chat });
  registerSitrepJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger, missionTimeZone: core.settings.missionTimeZone, chat });
  const roundup = registerRoundupJob(core.scheduler, { store: core.store, outbox: core.outbox, logger, missionTimeZone: core.settings.missionTimeZone, chat });
  // A day's roundup job lost to a failure must not end the series: re-plan at every start.
  await roundup.ensurePlanned(core.scheduler.now().getTime());
  await registerRetentionJob(core.scheduler, { store: core.store, outbox: core.outbox, logger, missionTimeZone: core.settings.missionTimeZone }).ensurePlanned(core.scheduler.now().getTime());
  const anonymousTeams = config.TEAMS_ANONYMOUS && !config.TEAMS_APP_ID;
  let server: http.Server;
  try {
    server = await new Promise((resolve, reject) => {
      // Unauthenticated Teams (the Emulator) must not be reachable from other hosts.
      const s = app.listen(config.PORT, anonymousTeams ? '127.0.0.1' : '0.0.0.0', () => resolve(s));
      // Idle keep-alive connections are kept longer than a load balancer's (60 s on most): with
      // Node's 5 s, a request sent on a connection just as we close it fails (a 502 at the proxy).
      s.keepAliveTimeout = 65_000;
      s.headersTimeout = 66_000;
      s.on('error', reject);
    });
  } catch (err) {
    // Nothing may keep running for a server that did not start (the port was taken…).
    sms?.close();
    email?.close();
    await core.close();
    throw err;
  }
  const close = async (): Promise<void> => {
    if (slack) await slack.stop();
    // No new requests; those under way finish (up to DRAIN_MS), and their replies get a moment.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight.size) {
      logger.info({ commands: inFlight.size }, 'stopping: letting the commands under way finish');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
      await Promise.race([Promise.allSettled([...inFlight]).then(() => new Promise((r) => setTimeout(r, REPLY_GRACE_MS))), late]);
      clearTimeout(timer);
      if (inFlight.size) logger.error({ commands: inFlight.size }, 'stopping with commands still under way after the drain time');
    }
    server.closeAllConnections();
    await closed;
    await seen?.close();
    await core.close();
    sms?.close();
    email?.close();
  };
  // Bolt's HTTP receiver has no server of its own here; Socket Mode connects out. A token Slack
  // refuses stops the start-up (Slack merely away does not: see createSlack).
  try {
    if (slack) await slack.start();
  } catch (err) {
    await close();
    throw err;
  }
  // Only once all is up: a failed start leaves no scheduler claiming jobs.
  core.scheduler.start();
  const port = (server.address() as AddressInfo).port;
  logger.info(
    {
      port,
      slack: slackEnabled(config) ? (config.SLACK_APP_TOKEN ? 'socket-mode' : 'http') : 'off',
      teams: teamsEnabled(config) ? (config.TEAMS_APP_ID ? 'on' : 'anonymous (local testing only)') : 'off',
      database: config.DATABASE_URL.startsWith('file:') ? 'sqlite' : 'postgresql',
    },
    'Duty Desk listening',
  );

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dispatcher,
    core,
    close,
  };
}
