// The Slack adapter: Bolt in Socket Mode (SLACK_APP_TOKEN set) or over HTTP on the shared
// express application at POST /slack/events. Listeners live in ./listeners, one per file.
import { App, ExpressReceiver, SocketModeReceiver, webApi, type Authorize } from '@slack/bolt';
import type express from 'express';
import { boltLogger } from './bolt-logger';
import type { SlackDeps } from './deps';
import { MAX_SLACK_BODY_BYTES, sharedCheckOf, slackGate, workspaceAllowed, workspacesFrom, type SlackWorkspaces } from './gate';
import { SlackInteractionError, shortRef } from './interaction';
import { registerListeners } from './listeners';

export type { SlackDeps } from './deps';

export const SLACK_EVENTS_PATH = '/slack/events';
const STOP_TIMEOUT_MS = 5000;

export interface SlackRuntime {
  app: App;
  /** A Web API client with the bot token, for proactive messages. */
  client: webApi.WebClient;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function errorDetails(error: Error): { err: unknown; requestId?: string } {
  const original = 'original' in error ? (error as { original: unknown }).original : error;
  if (original instanceof SlackInteractionError) return { err: original.cause, requestId: original.requestId };
  return { err: original };
}

/** auth.test's errors that mean the token itself is wrong (not Slack being away). */
const BAD_TOKEN = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type', 'team_access_not_granted', 'enterprise_is_restricted']);

function isBadToken(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; data?: { error?: unknown } };
  return e.code === webApi.ErrorCode.PlatformError && typeof e.data?.error === 'string' && BAD_TOKEN.has(e.data.error);
}

export function createSlack(deps: SlackDeps, http?: { app: express.Application }): SlackRuntime {
  const { config } = deps;
  const token = config.SLACK_BOT_TOKEN;
  if (!token) throw new Error('SLACK_BOT_TOKEN is required for the Slack adapter');
  const logger = boltLogger(deps.logger);
  const clientOptions: webApi.WebClientOptions = config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {};
  const client = new webApi.WebClient(token, { ...clientOptions, logger });

  // auth.test once, on start, instead of Bolt's constructor-time call whose failure would be an
  // unhandled rejection; a failure is retried on the next use. Few retries: a wrong token or
  // URL should stop the start-up in seconds, not after the default half hour of retries.
  const probe = new webApi.WebClient(token, { ...clientOptions, logger, retryConfig: { retries: 2, factor: 2 } });
  interface Identity {
    bot: { botUserId?: string; botId?: string };
    /** The token's own workspace, or its organisation for an org-wide install. */
    home: SlackWorkspaces;
  }
  let identity: Promise<Identity> | undefined;
  const whoAmI = (): Promise<Identity> =>
    (identity ??= probe.auth
      .test()
      .then((r) => ({
        bot: { ...(r.user_id ? { botUserId: r.user_id } : {}), ...(r.bot_id ? { botId: r.bot_id } : {}) },
        home: workspacesFrom([...(r.team_id ? [r.team_id] : []), ...(r.is_enterprise_install && r.enterprise_id ? [r.enterprise_id] : [])]),
      }))
      .catch((err: unknown) => {
        identity = undefined;
        throw err;
      }));
  const authorize: Authorize<boolean> = async () => ({ botToken: token, ...(await whoAmI()).bot });
  // SLACK_TEAM_IDS, else the token's own workspace: never "any workspace".
  const configured = config.SLACK_TEAM_IDS.length > 0 ? workspacesFrom(config.SLACK_TEAM_IDS) : undefined;
  const workspaces = async (): Promise<SlackWorkspaces> => configured ?? (await whoAmI()).home;

  const common = { authorize, logger, clientOptions: { ...clientOptions }, convoStore: false as const };
  let app: App;
  let socket: SocketModeReceiver | undefined;
  if (config.SLACK_APP_TOKEN) {
    // Built here rather than by Bolt so that stop() can wait for the socket to close. Its
    // clientOptions carry SLACK_API_URL to apps.connections.open (a copy: the client mutates it).
    socket = new SocketModeReceiver({ appToken: config.SLACK_APP_TOKEN, logger, installerOptions: { clientOptions: { ...clientOptions } } });
    app = new App({ ...common, socketMode: true, receiver: socket });
  } else {
    if (!http) throw new Error('Slack over HTTP needs the express application to mount /slack/events on');
    if (!config.SLACK_SIGNING_SECRET) throw new Error('SLACK_SIGNING_SECRET is required for Slack over HTTP');
    // Before the receiver's route: nothing unsigned, stale, replayed, oversized or from another
    // workspace reaches Bolt. Bolt checks the signature again (defence in depth, one HMAC).
    http.app.post(SLACK_EVENTS_PATH, slackGate({ signingSecret: config.SLACK_SIGNING_SECRET, workspaces, logger: deps.logger, ...(deps.seen ? { seen: deps.seen } : {}) }));
    const receiver = new ExpressReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET,
      app: http.app,
      endpoints: SLACK_EVENTS_PATH,
      logger,
      bodyLimit: MAX_SLACK_BODY_BYTES,
      // Ack goes out as soon as a listener calls ack(); the work continues after.
      processBeforeResponse: false,
      customPropertiesExtractor: sharedCheckOf,
    });
    app = new App({ ...common, receiver });
  }

  app.error(async (error) => {
    const { err, requestId } = errorDetails(error);
    deps.logger.error({ err, ...(requestId ? { requestId, ref: shortRef(requestId) } : {}), platform: 'slack' }, 'slack interaction failed');
  });
  // Socket Mode has no HTTP door: the workspace is checked here, before any listener.
  app.use(async (args) => {
    const { context, next } = args;
    if (workspaceAllowed(await workspaces(), { teamId: context.teamId, enterpriseId: context.enterpriseId })) return next();
    deps.logger.warn(
      { component: 'slack', reason: 'the workspace is not one of SLACK_TEAM_IDS (or the token\'s)', teamId: context.teamId ?? null, enterpriseId: context.enterpriseId ?? null },
      'rejected a Slack request',
    );
    // Acknowledged so that Slack does not retry it; nothing runs.
    if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
  });
  registerListeners(app, deps);

  let started = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const log = deps.logger.child({ component: 'slack' });
  /** Socket Mode's connection, tried again and again while Slack is away (never past stop()). */
  const connect = async (attempt: number): Promise<void> => {
    try {
      await app.start();
      started = true;
      if (attempt > 0) log.info({ attempt }, 'slack: connected (Socket Mode)');
    } catch (err) {
      if (isBadToken(err) || stopped) throw err;
      const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 6));
      log.error({ err, waitMs }, 'slack: Socket Mode could not connect; trying again');
      retry = setTimeout(() => void connect(attempt + 1).catch((e: unknown) => log.error({ err: e }, 'slack: Socket Mode gave up: the token was refused')), waitMs);
      retry.unref();
    }
  };
  return {
    app,
    client,
    async start() {
      let reachable = true;
      try {
        await whoAmI();
      } catch (err) {
        reachable = false;
        // A refused token is a configuration error: stop the start-up. Slack being away is not:
        // Teams, SMS, email and the escalations must run without it (Slack requests get 503 and
        // auth.test is asked again at the next one; messages to Slack queue until it answers).
        if (isBadToken(err)) throw err;
        log.error({ err }, 'slack: auth.test got no answer; starting without Slack for now');
      }
      // Connected before start() returns when Slack answers; in the background while it does not.
      if (socket && reachable) await connect(0);
      else if (socket) void connect(0).catch((err: unknown) => log.error({ err }, 'slack: Socket Mode gave up: the token was refused'));
      else started = true;
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      if (!socket || !started) return;
      started = false;
      // Bolt's receiver.stop() does not wait for the close handshake; the client's disconnect()
      // does. A peer that never answers is not worth more than a few seconds of shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        socket.client.disconnect(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
