// Teams delivery: a proactive message through the adapter's continueConversation, to the
// conversation reference stored when the member (or channel) last spoke to the bot.
import type { ConversationReference, TurnContext } from 'botbuilder';
import { activityFor, isConversationReference } from '../bot/teams';
import { normalizeUserId } from '../bot/teams/text';
import type { Member } from '../domain/member';
import type { MessageReply } from '../domain/reply';
import { parseRetryAfter } from './slack';
import { lookupMember, notDelivered, parseChannel, type ConversationDirectory, type DeliveryResult, type Destination, type MemberDirectory } from './types';

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
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'REQUEST_SEND_ERROR']);

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

/** A connector error as a delivery result; anything unrecognised is thrown on. */
export function classifyTeamsError(err: unknown): DeliveryResult {
  if (!isRecord(err)) throw err;
  const message = typeof err.message === 'string' ? err.message : String(err);
  if (typeof err.statusCode === 'number') {
    const status = err.statusCode;
    return notDelivered(`Teams answered HTTP ${status}: ${message}`, RETRYABLE_STATUS.has(status), RETRYABLE_STATUS.has(status) ? retryAfterOf(err) : undefined);
  }
  if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) return notDelivered(`could not reach the Bot Connector: ${message}`, true);
  throw err;
}

export interface TeamsNotifierOptions {
  adapter: ProactiveAdapter;
  /** TEAMS_APP_ID when the bot has credentials, '' when it runs anonymously. */
  botAppId: string;
  members: MemberDirectory;
  conversations: ConversationDirectory;
}

export class TeamsNotifier {
  readonly platform = 'teams' as const;

  constructor(private readonly opts: TeamsNotifierOptions) {}

  async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
    if (to.kind === 'channel') {
      const c = parseChannel(to.channel);
      if (!c || c.platform !== 'teams') return notDelivered(`not a Teams conversation: "${to.channel}"`);
      return this.sendToChannel(c.id, reply);
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

  sendToChannel(conversationId: string, reply: MessageReply): Promise<DeliveryResult> {
    return this.deliver(`conversation:${conversationId}`, reply, `Duty Desk has not been used in Teams conversation ${conversationId} yet`);
  }

  private async deliver(key: string, reply: MessageReply, noReference: string): Promise<DeliveryResult> {
    let reference: unknown;
    try {
      reference = await this.opts.conversations.recall('teams', key);
    } catch (err) {
      return notDelivered(`could not read the conversation reference: ${err instanceof Error ? err.message : String(err)}`, true);
    }
    if (!isConversationReference(reference)) return notDelivered(`${noReference} (no stored conversation reference)`);

    let sent = false;
    let id: string | undefined;
    let failure: { err: unknown } | undefined;
    try {
      await this.opts.adapter.continueConversationAsync(this.opts.botAppId, reference, async (context) => {
        sent = true;
        // Caught here, not by the adapter: its turn-error handler would log the failure as a
        // failed turn and post an apology into the conversation.
        try {
          id = (await context.sendActivity(activityFor(reply)))?.id;
        } catch (err) {
          failure = { err };
        }
      });
    } catch (err) {
      // Before our logic ran (credentials, connector client): nothing was sent.
      if (!sent) return notDelivered(`could not open the Teams conversation: ${err instanceof Error ? err.message : String(err)}`, true);
      throw err;
    }
    if (failure) return classifyTeamsError(failure.err);
    return { ok: true, ...(id ? { providerId: id } : {}) };
  }
}
