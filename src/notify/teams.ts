// Teams delivery: a proactive message through the adapter's continueConversation, to the
// conversation reference stored when the member (or channel) last spoke to the bot.
import type { ConversationReference, TurnContext } from 'botbuilder';
import { activityFor, isConversationReference } from '../bot/teams/activity';
import { normalizeUserId } from '../bot/teams/text';
import type { Member } from '../domain/member';
import type { MessageReply } from '../domain/reply';
import { parseRetryAfter } from './http';
import {
  lookupMember,
  notDelivered,
  outcomeUnknown,
  parseChannel,
  type ChannelOptions,
  type ChannelProbe,
  type ChatCopy,
  type ConversationDirectory,
  type DeliveryResult,
  type Destination,
  type MemberDirectory,
} from './types';

/** What we need of the Teams adapter (TeamsRuntime.adapter). */
export interface ProactiveAdapter {
  continueConversationAsync(botAppId: string, reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void>;
}

/**
 * Statuses Microsoft asks bots to retry (throttled, precondition failed, bad gateway, gateway
 * timeout) and 503. Everything else — 400, 401, 403 (blocked, uninstalled), 404 — is final.
 * The connector client has already retried these a few times (exponential, with jitter,
 * honouring Retry-After) before we see them; the scheduler's own backoff comes on top.
 */
const RETRYABLE_STATUS = new Set([412, 429, 502, 503, 504]);
/** Network errors raised before the request could be sent. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Network errors that may come after the request was sent: its outcome is unknown. */
const LOST_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'REQUEST_SEND_ERROR']);

/** The separator Teams uses for a channel thread: "<conversation id>;messageid=<root activity id>". */
const THREAD = ';messageid=';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function retryAfterOf(err: Record<string, unknown>): number | undefined {
  // RestError keeps the response as a non-enumerable property.
  const response = err.response;
  if (!isRecord(response) || !isRecord(response.headers) || typeof response.headers.get !== 'function') return undefined;
  const value: unknown = (response.headers.get as (name: string) => unknown).call(response.headers, 'retry-after');
  return parseRetryAfter(typeof value === 'string' ? value : undefined);
}

/**
 * The connector client's HTTP pipeline retries a POST on 5xx and network errors by itself (the
 * Azure SDK's default retry policy; the compat layer ignores `noRetryPolicy`): a page could go
 * out twice before we see a result. Our scheduler owns retries, and knows which are safe.
 */
function withoutHiddenRetries(context: TurnContext): void {
  const key = (context.adapter as { ConnectorClientKey?: symbol }).ConnectorClientKey;
  const connector: unknown = key ? context.turnState.get(key) : undefined;
  const pipeline = isRecord(connector) && isRecord(connector.client) ? connector.client.pipeline : undefined;
  if (isRecord(pipeline) && typeof pipeline.removePolicy === 'function') {
    for (const name of ['defaultRetryPolicy', 'exponentialRetryPolicy', 'systemErrorRetryPolicy', 'throttlingRetryPolicy']) {
      (pipeline.removePolicy as (o: { name: string }) => unknown).call(pipeline, { name });
    }
  }
}

/**
 * A connector error as a delivery result; anything unrecognised is thrown on. A connection lost
 * after sending makes a send's outcome unknown; an `idempotent` call (an update) may be repeated.
 */
export function classifyTeamsError(err: unknown, opts: { idempotent?: boolean } = {}): DeliveryResult {
  if (!isRecord(err)) throw err;
  const message = typeof err.message === 'string' ? err.message : String(err);
  if (typeof err.statusCode === 'number') {
    const status = err.statusCode;
    return notDelivered(`Teams answered HTTP ${status}: ${message}`, RETRYABLE_STATUS.has(status), RETRYABLE_STATUS.has(status) ? retryAfterOf(err) : undefined);
  }
  if (typeof err.code === 'string' && CONNECT_CODES.has(err.code)) return notDelivered(`could not reach the Bot Connector: ${message}`, true);
  if (typeof err.code === 'string' && LOST_CODES.has(err.code)) {
    return opts.idempotent ? notDelivered(`lost the Bot Connector: ${message}`, true) : outcomeUnknown(`lost the Bot Connector after sending: ${message}`);
  }
  throw err;
}

type Turn<T> = { status: 'done'; value: T | undefined } | { status: 'failed'; err: unknown } | { status: 'not-opened'; result: DeliveryResult };

export interface TeamsNotifierOptions {
  adapter: ProactiveAdapter;
  /** TEAMS_APP_ID when the bot has credentials, '' when it runs anonymously. */
  botAppId: string;
  members: MemberDirectory;
  conversations: ConversationDirectory;
}

export class TeamsNotifier implements ChannelProbe {
  readonly platform = 'teams' as const;

  constructor(private readonly opts: TeamsNotifierOptions) {}

  async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
    if (to.kind === 'channel') {
      const c = parseChannel(to.channel);
      if (!c || c.platform !== 'teams') return notDelivered(`not a Teams conversation: "${to.channel}"`);
      return this.sendToChannel(c.id, reply, to.thread !== undefined ? { thread: to.thread } : {});
    }
    const found = await lookupMember(this.opts.members, to.memberId);
    return found.ok ? this.sendToMember(found.member, reply) : found.result;
  }

  async sendToMember(member: Member, reply: MessageReply): Promise<DeliveryResult> {
    const identity = member.identities.find((i) => i.platform === 'teams');
    if (!identity) return notDelivered(`@${member.handle} has no Teams account`);
    // The key the Teams adapter remembers a member's 1:1 chat under.
    return this.deliver(`member:${normalizeUserId(identity.externalId)}`, reply, `@${member.handle} has not opened a chat with Duty Desk in Teams yet`);
  }

  /** A post in the conversation, or with `thread` a reply to that root activity. */
  sendToChannel(conversationId: string, reply: MessageReply, opts: ChannelOptions = {}): Promise<DeliveryResult> {
    return this.deliver(`conversation:${conversationId}`, reply, `Duty Desk has not been used in Teams conversation ${conversationId} yet`, opts.thread);
  }

  /**
   * Whether the bot can post to "teams:<conversation id>": only where Teams gave it a conversation
   * reference (the app was added there, or mentioned there), the one sendToChannel posts with.
   */
  async canPost(channel: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const c = parseChannel(channel);
    if (!c || c.platform !== 'teams') return { ok: false, error: `not a Teams conversation: "${channel}"` };
    const found = await this.reference(`conversation:${c.id}`, '');
    if (found.ok) return { ok: true };
    if (found.missing) return { ok: false, error: `Duty Desk has not been added to Teams conversation ${c.id} yet: add the app to that channel (or mention it there once)` };
    return { ok: false, error: found.result.ok ? 'unexpected answer' : found.result.error };
  }

  /** Replaces an activity sent earlier (updateActivity); safe to retry. */
  async update(copy: ChatCopy, reply: MessageReply): Promise<DeliveryResult> {
    if (copy.platform !== 'teams') return notDelivered(`not a Teams message: ${copy.platform}`);
    const at = copy.conversation.indexOf(THREAD);
    const key = at < 0 ? copy.conversation : copy.conversation.slice(0, at);
    const thread = at < 0 ? undefined : copy.conversation.slice(at + THREAD.length);
    const found = await this.reference(key, `no Teams conversation ${key}`, thread);
    if (!found.ok) return found.result;
    const r = await this.turn(found.reference, (context) => context.updateActivity({ ...activityFor(reply), id: copy.messageId }));
    if (r.status === 'not-opened') return r.result;
    if (r.status === 'failed') return classifyTeamsError(r.err, { idempotent: true });
    return { ok: true, providerId: copy.messageId, copy };
  }

  private async deliver(key: string, reply: MessageReply, noReference: string, thread?: string): Promise<DeliveryResult> {
    const found = await this.reference(key, noReference, thread);
    if (!found.ok) return found.result;
    const r = await this.turn(found.reference, async (context) => (await context.sendActivity(activityFor(reply)))?.id);
    if (r.status === 'not-opened') return r.result;
    if (r.status === 'failed') return classifyTeamsError(r.err);
    if (!r.value) return { ok: true };
    const conversation = thread !== undefined ? `${key}${THREAD}${thread}` : key;
    return { ok: true, providerId: r.value, copy: { platform: 'teams', conversation, messageId: r.value } };
  }

  /** The stored reference for `key`, pointed at the thread when there is one. */
  private async reference(key: string, noReference: string, thread?: string): Promise<{ ok: true; reference: Partial<ConversationReference> } | { ok: false; result: DeliveryResult; missing?: true }> {
    let reference: unknown;
    try {
      reference = await this.opts.conversations.recall('teams', key);
    } catch (err) {
      return { ok: false, result: notDelivered(`could not read the conversation reference: ${err instanceof Error ? err.message : String(err)}`, true) };
    }
    if (!isConversationReference(reference)) return { ok: false, result: notDelivered(`${noReference} (no stored conversation reference)`), missing: true };
    if (thread === undefined) return { ok: true, reference };
    const conversation = reference.conversation as NonNullable<ConversationReference['conversation']>;
    const base = conversation.id.split(THREAD)[0] as string;
    return { ok: true, reference: { ...reference, conversation: { ...conversation, id: `${base}${THREAD}${thread}` } } };
  }

  /**
   * Runs `logic` in a proactive turn. A failure inside it comes back to be classified; one before
   * it ran (credentials, connector client) sent nothing.
   */
  private async turn<T>(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<T>): Promise<Turn<T>> {
    let ran = false;
    let value: T | undefined;
    let failure: { err: unknown } | undefined;
    try {
      await this.opts.adapter.continueConversationAsync(this.opts.botAppId, reference, async (context) => {
        ran = true;
        withoutHiddenRetries(context);
        // Caught here, not by the adapter: its turn-error handler would log the failure as a
        // failed turn and post an apology into the conversation.
        try {
          value = await logic(context);
        } catch (err) {
          failure = { err };
        }
      });
    } catch (err) {
      if (!ran) return { status: 'not-opened', result: notDelivered(`could not open the Teams conversation: ${err instanceof Error ? err.message : String(err)}`, true) };
      throw err;
    }
    return failure ? { status: 'failed', err: failure.err } : { status: 'done', value };
  }
}
