// The Slack adapter: Bolt in Socket Mode (SLACK_APP_TOKEN set) or over HTTP on the shared
// express application at POST /slack/events. Listeners live in ./listeners, one per file.
import { App, ExpressReceiver, SocketModeReceiver, webApi, type Authorize } from '@slack/bolt';
import type express from 'express';
import { boltLogger } from './bolt-logger';
import type { SlackDeps } from './deps';
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
  let identity: Promise<{ botUserId?: string; botId?: string }> | undefined;
  const whoAmI = (): Promise<{ botUserId?: string; botId?: string }> =>
    (identity ??= probe.auth
      .test()
      .then((r) => ({ ...(r.user_id ? { botUserId: r.user_id } : {}), ...(r.bot_id ? { botId: r.bot_id } : {}) }))
      .catch((err: unknown) => {
        identity = undefined;
        throw err;
      }));
  const authorize: Authorize<boolean> = async () => ({ botToken: token, ...(await whoAmI()) });

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
    const receiver = new ExpressReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET,
      app: http.app,
      endpoints: SLACK_EVENTS_PATH,
      logger,
      // Ack goes out as soon as a listener calls ack(); the work continues after.
      processBeforeResponse: false,
    });
    app = new App({ ...common, receiver });
  }

  app.error(async (error) => {
    const { err, requestId } = errorDetails(error);
    deps.logger.error({ err, ...(requestId ? { requestId, ref: shortRef(requestId) } : {}), platform: 'slack' }, 'slack interaction failed');
  });
  registerListeners(app, deps);

  let started = false;
  return {
    app,
    client,
    async start() {
      await whoAmI();
      if (socket) await app.start();
      started = true;
    },
    async stop() {
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
