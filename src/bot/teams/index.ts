// The Microsoft Teams adapter: Bot Framework activities in, neutral invocations to the dispatcher,
// Adaptive Cards out. Transport only; the core decides everything.
import { randomUUID } from 'node:crypto';
import type express from 'express';
import { Application, TeamsAdapter, type TurnState } from '@microsoft/teams-ai';
import {
  ActivityTypes,
  CallerIdConstants,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Activity,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type ConversationReference,
} from 'botbuilder';
import type { Config } from '../../config';
import { MAX_INVOCATION_FILE_BYTES, type Caller, type Invocation, type Origin } from '../../domain/invocation';
import { failure, type MessageReply, type Reply } from '../../domain/reply';
import type { ConversationStore, Dispatcher } from '../../handlers/ports';
import type { Logger } from '../../logger';
export * from './activity';
import { activityFor, cardFor, formTask, isConversationReference, isRecord, LOG_AS_CASE_COMMAND, LOG_AS_CASE_COMMAND_ID, LOG_AS_CASE_TITLE, messageTask, summaryFromMessagePayload, tenantOf } from './activity';
import { CARD_CONTENT_TYPE, readCardString, readCardValues, renderMessageCard, VERB_COMMAND, VERB_FORM, type AdaptiveCard } from './render';
import { downloadFiles, fileOffers, hasFiles, DOWNLOAD_TIMEOUT_MS } from './files';
import { messageText, normalizeUserId, toCommandText } from './text';

export interface TeamsDeps {
  config: Config;
  dispatcher: Dispatcher;
  logger: Logger;
  conversations: ConversationStore;
  /** Teams wants invokes answered within 5 s; slower commands answer later in the chat. Default 4000. */
  invokeDeadlineMs?: number;
  /** Messages must be answered within 15 s. Default 10000. */
  messageDeadlineMs?: number;
  /** Each file sent in a 1:1 chat must be downloaded within this. Default 30000. */
  fileDownloadTimeoutMs?: number;
  /**
   * Where the signing keys of Bot Framework tokens are published; default Microsoft's. Tests serve
   * their own keys on loopback. Not a setting: whoever chooses it chooses who may call the bot.
   */
  openIdMetadataUrl?: string;
}

export interface TeamsRuntime {
  /** `POST /api/messages`. Works on the raw request; a body already parsed by express.json() is used as is. */
  handle(req: express.Request, res: express.Response): Promise<void>;
  adapter: TeamsAdapter;
  /** Sends a reply proactively to a stored conversation reference (pages, handoffs). Returns the activity id. */
  deliver(reference: unknown, reply: Reply): Promise<string | undefined>;
  /** The bot's app id ('' when anonymous), for proactive messages. */
  botAppId: string;
}

/** Activities are a few KB (a card submission with every field filled in, tens of KB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** botbuilder's AuthenticationConstants for the public cloud, needed in full once one of them is overridden. */
const PUBLIC_CLOUD = {
  ValidateAuthority: true,
  ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
  ToChannelFromBotOAuthScope: 'https://api.botframework.com',
  ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
  OAuthUrl: 'https://api.botframework.com',
  CallerId: CallerIdConstants.PublicAzureChannel,
};
const REQUEST_ID = Symbol('dutyDesk.requestId');
const TURN_LOG = Symbol('dutyDesk.log');

/** The peer's address; the socket is gone once the client has hung up. */
function remoteAddress(req: express.Request): string | undefined {
  return (req.socket as express.Request['socket'] | null)?.remoteAddress;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

function callerOf(a: Activity): Caller {
  const from = a.from ?? { id: 'unknown', name: '' };
  return {
    platform: 'teams',
    externalId: normalizeUserId(from.aadObjectId ?? from.id),
    ...(from.name ? { displayName: from.name } : {}),
  };
}

function originOf(a: Activity): Origin {
  const tenant = tenantOf(a);
  return { ...(a.conversation?.id ? { channelId: a.conversation.id } : {}), ...(tenant ? { workspaceId: tenant } : {}) };
}

function isMessageExtensionInvoke(a: Activity): boolean {
  return a.type === ActivityTypes.Invoke && typeof a.name === 'string' && a.name.startsWith('composeExtension/');
}

/** The promise's value, or undefined when it takes longer than `ms` (it still runs). */
async function within<T>(pending: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}

function isPersonal(a: Activity): boolean {
  return a.conversation?.conversationType === 'personal';
}

/**
 * The JSON body, up to MAX_BODY_BYTES. Past it nothing more is kept, but the rest is still read
 * (and dropped) so that the 413 reaches the client; Node's request timeout bounds an endless body.
 */
function readJsonBody(req: express.Request): Promise<{ ok: true; value: unknown } | { ok: false; status: number; error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer | string) => {
      if (over) return;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buf.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        resolve({ ok: false, status: 413, error: 'body_too_large' });
        return;
      }
      chunks.push(buf);
    });
    req.on('end', () => {
      if (over) return;
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        resolve({ ok: false, status: 400, error: 'invalid_json' });
      }
    });
    req.on('error', () => resolve({ ok: false, status: 400, error: 'unreadable_body' }));
  });
}

export function createTeams(deps: TeamsDeps): TeamsRuntime {
  const { config, dispatcher, conversations } = deps;
  const logger = deps.logger.child({ component: 'teams' });
  const invokeDeadlineMs = deps.invokeDeadlineMs ?? 4000;
  const messageDeadlineMs = deps.messageDeadlineMs ?? 10000;
  const fileDownloadTimeoutMs = deps.fileDownloadTimeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const hasCredentials = Boolean(config.TEAMS_APP_ID && config.TEAMS_APP_PASSWORD);
  const anonymous = !hasCredentials && config.TEAMS_ANONYMOUS;
  const enabled = hasCredentials || anonymous;
  const botAppId = hasCredentials ? (config.TEAMS_APP_ID as string) : '';
  const allowedTenant = config.TEAMS_TENANT_ID?.toLowerCase();

  if (anonymous) {
    logger.warn('Teams runs WITHOUT authentication (TEAMS_ANONYMOUS): any caller can post activities — local testing only');
  } else if (hasCredentials && config.TEAMS_ANONYMOUS) {
    logger.warn('TEAMS_ANONYMOUS is ignored because TEAMS_APP_ID and TEAMS_APP_PASSWORD are set');
  }
  if (hasCredentials && !allowedTenant) logger.warn('TEAMS_TENANT_ID is not set: activities from any Microsoft 365 tenant are accepted');

  // No app id means botbuilder validates no token: only reachable through TEAMS_ANONYMOUS.
  const authConfig: ConfigurationBotFrameworkAuthenticationOptions = hasCredentials
    ? {
        MicrosoftAppId: config.TEAMS_APP_ID,
        MicrosoftAppPassword: config.TEAMS_APP_PASSWORD,
        // A bot registered in one tenant gets its tokens from that tenant.
        ...(config.TEAMS_TENANT_ID
          ? { MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: config.TEAMS_TENANT_ID }
          : { MicrosoftAppType: 'MultiTenant' }),
        ...(deps.openIdMetadataUrl
          ? { ...PUBLIC_CLOUD, ToBotFromChannelOpenIdMetadataUrl: deps.openIdMetadataUrl, ToBotFromEmulatorOpenIdMetadataUrl: deps.openIdMetadataUrl }
          : {}),
      }
    : {};
  const adapter = new TeamsAdapter(authConfig);
  // The same validation the adapter does, run first so that a refused token is answered 401 (a
  // forged signature would be a 500 inside the adapter) and logged by us, before any turn.
  const gatekeeper = hasCredentials ? new ConfigurationBotFrameworkAuthentication(authConfig) : undefined;
  const app = new Application<TurnState>({
    adapter,
    ...(botAppId ? { botAppId } : {}),
    // We strip mentions ourselves (other people's mentions must become <@teams:…>).
    removeRecipientMention: false,
    // The library's typing timer lives on the Application, shared by concurrent turns.
    startTypingTimer: false,
    longRunningMessages: false,
  });

  function turnLog(context: TurnContext): Logger {
    return (context.turnState.get(TURN_LOG) as Logger | undefined) ?? logger;
  }

  function requestIdOf(context: TurnContext): string {
    return (context.turnState.get(REQUEST_ID) as string | undefined) ?? randomUUID();
  }

  function invocationBase(context: TurnContext): { caller: Caller; origin: Origin; requestId: string } {
    const a = context.activity;
    return { caller: callerOf(a), origin: originOf(a), requestId: requestIdOf(context) };
  }

  async function safeDispatch(context: TurnContext, inv: Invocation): Promise<Reply> {
    try {
      return await dispatcher.dispatch(inv);
    } catch (err) {
      // The dispatcher promises not to throw; if it does, the user still gets a ref.
      turnLog(context).error({ err }, 'dispatcher threw');
      return failure('INTERNAL', `Something went wrong (ref ${inv.requestId.slice(0, 8)})`);
    }
  }

  async function sendTo(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string | undefined> {
    let id: string | undefined;
    let failure: { err: unknown } | undefined;
    await adapter.continueConversationAsync(botAppId, reference, async (ctx) => {
      // Caught here: thrown, it would reach app.error, which logs it and posts an apology.
      try {
        id = (await ctx.sendActivity(activity))?.id;
      } catch (err) {
        failure = { err };
      }
    });
    if (failure) throw failure.err;
    return id;
  }

  /**
   * Dispatches, but gives up waiting after `ms`: the turn then ends in time and the reply is posted
   * to the conversation when it comes. Returns undefined in that case.
   */
  async function dispatchWithin(context: TurnContext, inv: Invocation, ms: number): Promise<Reply | undefined> {
    return replyWithin(context, safeDispatch(context, inv), ms);
  }

  /** Like dispatchWithin, for a reply that takes more than a dispatch (a file to download first). `pending` must not reject. */
  async function replyWithin(context: TurnContext, pending: Promise<Reply>, ms: number): Promise<Reply | undefined> {
    const first = await within(pending, ms);
    if (first !== undefined) return first;
    const log = turnLog(context);
    const reference = TurnContext.getConversationReference(context.activity);
    log.warn({ ms }, 'reply is slow; it will be posted to the conversation when ready');
    void pending
      .then((reply) => sendTo(reference, activityFor(reply)))
      .catch((err: unknown) => log.error({ err }, 'could not post a late reply'));
    return undefined;
  }

  async function remember(context: TurnContext): Promise<void> {
    const a = context.activity;
    // A message action runs in the conversation of the message, which may be a chat the bot is
    // not part of (a 1:1 between two people looks "personal" too): nothing to keep from it.
    if (isMessageExtensionInvoke(a)) return;
    const aad = a.from?.aadObjectId;
    // A member's key must lead to their 1:1 chat: a channel reference stored there would make
    // later pages public. Other conversations are kept by conversation id.
    const key = isPersonal(a) ? (aad ? `member:${normalizeUserId(aad)}` : undefined) : a.conversation?.id ? `conversation:${a.conversation.id}` : undefined;
    if (!key) return;
    try {
      await conversations.remember('teams', key, TurnContext.getConversationReference(a));
    } catch (err) {
      turnLog(context).warn({ err, key }, 'could not store the conversation reference');
    }
  }

  /** Sends a reply where it belongs: 'direct' replies from a group chat or channel go to the 1:1 chat when we know it. */
  async function sendReply(context: TurnContext, reply: Reply): Promise<void> {
    const a = context.activity;
    if (reply.kind === 'message' && reply.visibility === 'direct' && !isPersonal(a) && a.from?.aadObjectId) {
      const reference = await conversations.recall('teams', `member:${normalizeUserId(a.from.aadObjectId)}`).catch(() => undefined);
      if (isConversationReference(reference)) {
        try {
          await sendTo(reference, activityFor(reply));
          await context.sendActivity(activityFor({ kind: 'message', ok: true, visibility: 'channel', text: 'I have sent you the answer in our 1:1 chat.' }));
          return;
        } catch (err) {
          turnLog(context).warn({ err }, 'could not send a direct reply; answering here');
        }
      }
      // No 1:1 chat known yet: a private answer must not land in the channel. Say where to ask.
      await context.sendActivity(
        activityFor({ kind: 'message', ok: false, visibility: 'channel', text: 'That answer is private: open a 1:1 chat with me (Duty Desk in the Apps list, or click my name) and ask there.' }),
      );
      return;
    }
    await context.sendActivity(activityFor(reply));
  }

  /** Sends a reply to the member's 1:1 chat with the bot; false when that chat is not known (or the send failed). */
  async function sendPrivately(aadObjectId: string | undefined, reply: Reply, log: Logger): Promise<boolean> {
    if (!aadObjectId) return false;
    const reference = await conversations.recall('teams', `member:${normalizeUserId(aadObjectId)}`).catch(() => undefined);
    if (!isConversationReference(reference)) return false;
    try {
      await sendTo(reference, activityFor(reply));
      return true;
    } catch (err) {
      log.warn({ err }, 'could not send the reply to the 1:1 chat');
      return false;
    }
  }

  async function invokeCard(context: TurnContext, inv: Invocation): Promise<AdaptiveCard> {
    const reply = await dispatchWithin(context, inv, invokeDeadlineMs);
    if (!reply) {
      return renderMessageCard({
        kind: 'message',
        ok: true,
        visibility: 'caller',
        text: 'Still working on it: the answer will be posted in this chat.',
      });
    }
    return cardFor(reply);
  }

  // Every activity: a fresh request id and logger, and the conversation reference kept for later.
  app.turn('beforeTurn', async (context) => {
    await remember(context);
    return true;
  });

  app.conversationUpdate('membersAdded', async (context) => {
    const a = context.activity;
    const botAdded = (a.membersAdded ?? []).some((m) => m.id === a.recipient?.id);
    if (!botAdded) return;
    await context.sendActivity(
      activityFor({
        kind: 'message',
        ok: true,
        visibility: 'channel',
        title: 'Duty Desk is here',
        text: 'Type "duty help" (or mention me with it in a channel) to see what you can do.',
      }),
    );
  });

  app.activity(ActivityTypes.Message, async (context) => {
    const a = context.activity;
    const base = invocationBase(context);
    // An Action.Submit fallback from an old client arrives as a message with a value and no text.
    if (!a.text && isRecord(a.value)) {
      const data = a.value;
      const command = readCardString(data.command);
      if (!command) return;
      const inv: Invocation =
        data.verb === VERB_FORM
          ? { kind: 'form', ...base, command, values: readCardValues(data), ...(readCardString(data.context) !== undefined ? { context: readCardString(data.context) } : {}) }
          : { kind: 'command', ...base, text: command };
      const reply = await dispatchWithin(context, inv, messageDeadlineMs);
      if (reply) await sendReply(context, reply);
      return;
    }
    const typed = messageText(a);
    // In a 1:1 chat, only uploads count (inline images and cards are not files to hand over).
    if (isPersonal(a) ? fileOffers(a).length > 0 : hasFiles(a)) {
      await onFiles(context, typed);
      return;
    }
    const text = toCommandText(typed, (t) => dispatcher.preview(t));
    const reply = await dispatchWithin(context, { kind: 'command', ...base, text }, messageDeadlineMs);
    if (reply) await sendReply(context, reply);
  });

  /**
   * A message with files: in a 1:1 chat, the files are downloaded and handed to the command typed
   * with them (e.g. "crisis import NPL-EQ"). Elsewhere Teams gives only links that need Graph.
   */
  async function onFiles(context: TurnContext, typed: string): Promise<void> {
    const a = context.activity;
    const offers = fileOffers(a);
    if (!isPersonal(a)) {
      await context.sendActivity(
        activityFor(failure('FILES_IN_PERSONAL_CHAT_ONLY', 'I can only read files sent to me in our 1:1 chat: open a chat with Duty Desk and send the file there, with the command as its message (e.g. "crisis import NPL-EQ").')),
      );
      return;
    }
    if (typed === '') {
      const names = offers.map((o) => o.name).join(', ');
      await context.sendActivity(
        activityFor(failure('FILE_WITHOUT_COMMAND', `I received ${names} but no command. Send the file with a command as its message, e.g. "crisis import NPL-EQ" (your crisis code after "crisis import").`)),
      );
      return;
    }
    const text = toCommandText(typed, (t) => dispatcher.preview(t));
    const base = invocationBase(context);
    // A command that does not exist gets its explanation without a pointless download.
    if (!dispatcher.preview(text).command) {
      const reply = await dispatchWithin(context, { kind: 'command', ...base, text }, messageDeadlineMs);
      if (reply) await sendReply(context, reply);
      return;
    }
    const log = turnLog(context);
    const pending = (async (): Promise<Reply> => {
      const downloaded = await downloadFiles(offers, { maxBytes: MAX_INVOCATION_FILE_BYTES, timeoutMs: fileDownloadTimeoutMs, allowHttp: anonymous });
      if (!downloaded.ok) {
        log.warn({ reason: downloaded.reason, files: offers.map((o) => o.name) }, 'could not download the files of a message');
        return failure('FILE_DOWNLOAD', downloaded.message);
      }
      log.info({ files: downloaded.files.map((f) => ({ name: f.name, bytes: f.content.length })) }, 'files received');
      return safeDispatch(context, { kind: 'command', ...base, text, files: downloaded.files });
    })().catch((err: unknown) => {
      log.error({ err }, 'handling the files of a message failed');
      return failure('INTERNAL', `Something went wrong (ref ${base.requestId.slice(0, 8)})`);
    });
    // Downloads may be slow: past the deadline the turn ends and the answer follows in the chat.
    const reply = await replyWithin(context, pending, messageDeadlineMs);
    if (reply) await sendReply(context, reply);
  }

  app.adaptiveCards.actionExecute<Record<string, unknown>>(VERB_COMMAND, async (context, _state, data) => {
    const command = readCardString(data.command);
    if (!command) return renderMessageCard(failure('BAD_ACTION', 'This button carries no command.'));
    return invokeCard(context, { kind: 'command', ...invocationBase(context), text: command });
  });

  app.adaptiveCards.actionExecute<Record<string, unknown>>(VERB_FORM, async (context, _state, data) => {
    const command = readCardString(data.command);
    if (!command) return renderMessageCard(failure('BAD_ACTION', 'This form names no command.'));
    const ctx = readCardString(data.context);
    return invokeCard(context, {
      kind: 'form',
      ...invocationBase(context),
      command,
      values: readCardValues(data),
      ...(ctx !== undefined ? { context: ctx } : {}),
    });
  });

  // "Log as case" on a message: the /case new form in a dialog, the summary taken from the message.
  app.messageExtensions.fetchTask(LOG_AS_CASE_COMMAND_ID, async (context) => {
    const value = isRecord(context.activity.value) ? context.activity.value : {};
    const summary = summaryFromMessagePayload(value.messagePayload, config.MISSION_TIMEZONE);
    const reply = await within(
      safeDispatch(context, { kind: 'command', ...invocationBase(context), text: LOG_AS_CASE_COMMAND, ...(summary ? { prefill: { summary } } : {}) }),
      invokeDeadlineMs,
    );
    // Too slow: a form posted later would land in the conversation of the message; ask to retry instead.
    if (!reply) return messageTask(failure('SLOW', 'Duty Desk is slow to answer right now. Please try again in a moment.'));
    return reply.kind === 'form' ? formTask(reply.form) : messageTask(reply);
  });

  // The dialog's form submitted: errors go back beside the fields in the dialog; the result goes
  // to the person's 1:1 chat (it may hold personal data: never to the conversation of the message).
  app.messageExtensions.submitAction<Record<string, unknown>>(LOG_AS_CASE_COMMAND_ID, async (context, _state, data) => {
    const command = readCardString(data.command);
    if (!command) return messageTask(failure('BAD_ACTION', 'This form names no command.'));
    const ctx = readCardString(data.context);
    const log = turnLog(context);
    const aad = context.activity.from?.aadObjectId;
    const pending = safeDispatch(context, {
      kind: 'form',
      ...invocationBase(context),
      command,
      values: readCardValues(data),
      ...(ctx !== undefined ? { context: ctx } : {}),
    });
    const reply = await within(pending, invokeDeadlineMs);
    if (!reply) {
      log.warn({ ms: invokeDeadlineMs }, 'submission is slow; the answer will go to the 1:1 chat');
      void pending
        .then(async (late) => {
          if (!(await sendPrivately(aad, late, log))) log.warn('no 1:1 chat known for the late answer to a message action');
        })
        .catch((err: unknown) => log.error({ err }, 'could not deliver a late answer'));
      return messageTask({ kind: 'message', ok: true, visibility: 'caller', text: 'Still working on it: the answer will follow in your chat with Duty Desk.' });
    }
    if (reply.kind === 'form') return formTask(reply.form);
    // A refusal shows where the person is looking.
    if (!reply.ok) return messageTask(reply);
    // Closing the dialog (undefined) once the answer is in the 1:1 chat; else the answer stays in the dialog.
    if (await sendPrivately(aad, reply, log)) return undefined;
    return messageTask(reply, reply.title ?? LOG_AS_CASE_TITLE);
  });

  // Verbs we no longer (or never) had: say so instead of Teams' generic "something went wrong".
  app.adaptiveCards.actionExecute(/.*/, async () =>
    renderMessageCard(failure('UNKNOWN_ACTION', 'This card is out of date; run the command again.')),
  );

  app.error(async (context, err) => {
    const requestId = requestIdOf(context);
    const ref = requestId.slice(0, 8);
    turnLog(context).error({ err }, 'teams turn failed');
    const reply: MessageReply = failure('INTERNAL', `Something went wrong (ref ${ref})`);
    try {
      if (isMessageExtensionInvoke(context.activity)) {
        // A message extension's dialog shows a message; a card body would mean nothing to it.
        await context.sendActivity({
          type: ActivityTypes.InvokeResponse,
          value: { status: 200, body: { task: { type: 'message', value: `Something went wrong (ref ${ref})` } } },
        });
      } else if (context.activity.type === ActivityTypes.Invoke) {
        await context.sendActivity({
          type: ActivityTypes.InvokeResponse,
          value: { status: 200, body: { statusCode: 200, type: CARD_CONTENT_TYPE, value: renderMessageCard(reply) } },
        });
      } else {
        await context.sendActivity({ type: ActivityTypes.Message, text: `Something went wrong (ref ${ref})` });
      }
    } catch (sendErr) {
      turnLog(context).warn({ err: sendErr }, 'could not tell the user about the error');
    }
  });

  async function logic(context: TurnContext): Promise<void> {
    const requestId = randomUUID();
    const a = context.activity;
    const log = logger.child({ requestId });
    context.turnState.set(REQUEST_ID, requestId);
    context.turnState.set(TURN_LOG, log);
    log.debug(
      { type: a.type, name: a.name, conversationType: a.conversation?.conversationType, verb: isRecord(a.value) && isRecord(a.value.action) ? a.value.action.verb : undefined },
      'teams activity',
    );
    await app.run(context);
  }

  /** Every refusal: logged once at warn with its reason, never with the body (it may hold personal data). */
  function refuse(req: express.Request, res: express.Response, status: number, error: string, reason: string, extra: Record<string, unknown> = {}): void {
    logger.warn({ reason, status, ip: remoteAddress(req), ...extra }, 'rejected a Teams activity');
    // The reason is for our logs; the caller learns only the kind of refusal (and how to set Teams up).
    res.status(status).json({ error, ...(error === 'teams_not_configured' ? { message: reason } : {}) });
  }

  async function handle(req: express.Request, res: express.Response): Promise<void> {
    if (!enabled) return refuse(req, res, 401, 'teams_not_configured', 'Teams is not configured: set TEAMS_APP_ID and TEAMS_APP_PASSWORD');
    // The server listens on loopback only then; this holds even behind a proxy on another host.
    if (anonymous && !isLoopback(remoteAddress(req))) return refuse(req, res, 403, 'loopback_only', 'unauthenticated Teams (TEAMS_ANONYMOUS) is for this machine only');
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      return refuse(req, res, 413, 'body_too_large', `body of ${declared} bytes is over the ${MAX_BODY_BYTES}-byte limit`);
    }
    if (!isRecord(req.body)) {
      const body = await readJsonBody(req);
      if (!body.ok) return refuse(req, res, body.status, body.error, body.status === 413 ? `body over the ${MAX_BODY_BYTES}-byte limit` : 'the body is not JSON (or could not be read)');
      req.body = body.value;
    }
    // The Bot Framework schema's minimum; anything less is a malformed request, not a turn.
    const a = req.body as { type?: unknown; serviceUrl?: unknown; conversation?: { id?: unknown } };
    if (typeof a.type !== 'string' || typeof a.serviceUrl !== 'string' || !URL.canParse(a.serviceUrl) || typeof a.conversation?.id !== 'string') {
      return refuse(req, res, 400, 'invalid_activity', 'not an activity (type, serviceUrl and conversation.id are required)');
    }
    if (gatekeeper) {
      const authorization = req.headers.authorization;
      if (!authorization) return refuse(req, res, 401, 'unauthorized', 'no Authorization header', { type: a.type });
      try {
        await gatekeeper.authenticateRequest(req.body as Activity, authorization);
      } catch (err) {
        // botbuilder's messages name the failed check (issuer, audience, key, serviceUrl claim…).
        return refuse(req, res, 401, 'unauthorized', `the token was refused: ${err instanceof Error ? err.message : String(err)}`, { type: a.type });
      }
    }
    if (allowedTenant) {
      const tenant = tenantOf(req.body)?.toLowerCase();
      if (tenant !== allowedTenant) return refuse(req, res, 403, 'tenant_not_allowed', 'the activity is from another tenant than TEAMS_TENANT_ID', { tenant: tenant ?? null, type: a.type });
    }
    await adapter.process(req, res, logic);
  }

  async function deliver(reference: unknown, reply: Reply): Promise<string | undefined> {
    if (!isConversationReference(reference)) throw new Error('not a Teams conversation reference');
    return sendTo(reference, activityFor(reply));
  }

  return { handle, adapter, deliver, botAppId };
}
