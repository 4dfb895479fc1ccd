// Slack delivery: chat.postMessage to a member's user id (their DM with the app) or a channel,
// with its attachments uploaded under it; chat.update for a message already sent; whether the
// bot may post to a channel (conversations.info); over the lightweight client in slack-web.ts.
import { webApi } from '@slack/bolt';
import { renderMessage } from '../bot/slack/render';
import { slackChannelLink } from '../bot/slack/trusted';
import type { Member } from '../domain/member';
import type { MessageReply, ReplyAttachment } from '../domain/reply';
import type { Logger } from '../logger';
import { parseRetryAfter } from './http';
import { RETRYABLE_PLATFORM_ERRORS, SlackWebClient } from './slack-web';
import {
  lookupMember,
  notDelivered,
  outcomeUnknown,
  parseChannel,
  type ChannelOptions,
  type ChannelProbe,
  type ChatCopy,
  type DeliveryResult,
  type Destination,
  type MemberDirectory,
} from './types';

export { parseRetryAfter };

export interface SlackDeliveryClientOptions {
  token: string;
  /** SLACK_API_URL (tests point it at the loopback fake). */
  apiUrl?: string;
  logger: Logger;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

/**
 * The Web API client for deliveries. Unlike the interactive client it neither sleeps on a 429 nor
 * retries: the scheduler owns retries, so a rate limit becomes a retry at Retry-After instead
 * of a worker held for minutes.
 */
export function createSlackDeliveryClient(opts: SlackDeliveryClientOptions): SlackWebClient {
  return new SlackWebClient({ token: opts.token, logger: opts.logger, timeoutMs: opts.timeoutMs ?? 10_000, ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}) });
}

/** Errors raised before a request could be sent. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : headers[key];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
}

/**
 * A @slack/web-api WebClient error as a delivery result (for callers still on WebClient);
 * anything that is not a Web API error is thrown on.
 */
export function classifySlackError(err: unknown): DeliveryResult {
  const code = isRecord(err) ? err.code : undefined;
  switch (code) {
    case webApi.ErrorCode.RateLimitedError: {
      const retryAfter = isRecord(err) && typeof err.retryAfter === 'number' ? err.retryAfter : undefined;
      return notDelivered('Slack rate limit (429)', true, retryAfter === undefined ? undefined : Math.round(retryAfter * 1000));
    }
    case webApi.ErrorCode.RequestError: {
      const original = isRecord(err) && err.original instanceof Error ? err.original : undefined;
      const message = original?.message ?? String(err);
      // Only a failure to connect proves that nothing was sent; a timeout or reset may come after.
      const originalCode = isRecord(original) && typeof original.code === 'string' ? original.code : '';
      if (CONNECT_ERRORS.has(originalCode)) return notDelivered(`could not reach Slack: ${message}`, true);
      return outcomeUnknown(`Slack: ${message}`);
    }
    case webApi.ErrorCode.HTTPError: {
      const status = isRecord(err) && typeof err.statusCode === 'number' ? err.statusCode : 0;
      const retryAfterMs = parseRetryAfter(headerValue(isRecord(err) ? err.headers : undefined, 'retry-after'));
      return notDelivered(`Slack answered HTTP ${status}`, status === 429 || status === 408 || status >= 500, retryAfterMs);
    }
    case webApi.ErrorCode.PlatformError: {
      const data = isRecord(err) && isRecord(err.data) ? err.data : {};
      const error = typeof data.error === 'string' ? data.error : 'unknown_error';
      return notDelivered(`Slack error: ${error}`, RETRYABLE_PLATFORM_ERRORS.has(error));
    }
    default:
      throw err;
  }
}

/** "T1:U1" → "U1" (a Slack identity is stored as TEAM:USER). */
export function slackUserId(externalId: string): string | undefined {
  const user = externalId.split(':')[1];
  return user && /^[UW][A-Z0-9]+$/.test(user) ? user : undefined;
}

/** Slack's limit on a file's alt text. */
const MAX_ALT_TEXT = 1000;

export class SlackNotifier implements ChannelProbe {
  readonly platform = 'slack' as const;
  private readonly client: SlackWebClient;
  private readonly members: MemberDirectory;
  private readonly logger: Logger | undefined;

  /** `logger` defaults to the client's. */
  constructor(opts: { client: SlackWebClient; members: MemberDirectory; logger?: Logger }) {
    this.client = opts.client;
    this.members = opts.members;
    this.logger = opts.logger ?? opts.client.logger;
  }

  async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
    if (to.kind === 'channel') {
      const c = parseChannel(to.channel);
      if (!c || c.platform !== 'slack') return notDelivered(`not a Slack channel: "${to.channel}"`);
      return this.sendToChannel(c.id, reply, to.thread !== undefined ? { thread: to.thread } : {});
    }
    const found = await lookupMember(this.members, to.memberId);
    return found.ok ? this.sendToMember(found.member, reply) : found.result;
  }

  async sendToMember(member: Member, reply: MessageReply): Promise<DeliveryResult> {
    const identity = member.identities.find((i) => i.platform === 'slack');
    if (!identity) return notDelivered(`@${member.handle} has no Slack account`);
    const user = slackUserId(identity.externalId);
    if (!user) return notDelivered(`@${member.handle}'s Slack account "${identity.externalId}" is not TEAM:USER`);
    // Posting to a user id lands in their direct messages with the app.
    return this.post(user, reply);
  }

  sendToChannel(channel: string, reply: MessageReply, opts: ChannelOptions = {}): Promise<DeliveryResult> {
    return this.post(channel, reply, opts.thread);
  }

  /** Replaces a message sent earlier (chat.update); safe to retry. */
  async update(copy: ChatCopy, reply: MessageReply): Promise<DeliveryResult> {
    if (copy.platform !== 'slack') return notDelivered(`not a Slack message: ${copy.platform}`);
    const { text, blocks } = renderMessage(reply);
    const r = await this.client.update({ channel: copy.conversation, ts: copy.messageId, text, blocks });
    if (!r.ok) return r.result;
    return this.delivered(r.data, copy.conversation, copy.messageId);
  }

  /**
   * conversations.create, with -2, -3… when the name is taken; then the members are invited
   * (a failed invitation does not undo the channel). Returns "slack:<id>".
   */
  async createChannel(name: string, inviteMemberIds: readonly string[]): Promise<{ ok: true; channel: string } | { ok: false; retryable: boolean; error: string }> {
    const base = name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 70) || 'crisis';
    let id: string | undefined;
    for (let n = 1; n <= 5 && !id; n++) {
      const r = await this.client.call('conversations.create', { name: n === 1 ? base : `${base}-${n}`, is_private: false });
      if (r.ok) {
        const ch = r.data.channel as { id?: unknown } | undefined;
        if (typeof ch?.id === 'string') id = ch.id;
        else return { ok: false, retryable: false, error: 'Slack created a channel but did not say which' };
      } else if (r.result.ok || !/name_taken/.test(r.result.error)) {
        return r.result.ok ? { ok: false, retryable: false, error: 'unexpected answer' } : { ok: false, retryable: r.result.retryable, error: r.result.error };
      }
    }
    if (!id) return { ok: false, retryable: false, error: `the names ${base} to ${base}-5 are all taken` };
    const users: string[] = [];
    for (const memberId of inviteMemberIds) {
      const m = await this.members.byId(memberId).catch(() => null);
      const identity = m?.identities.find((i) => i.platform === 'slack');
      const user = identity ? slackUserId(identity.externalId) : null;
      if (user) users.push(user);
    }
    if (users.length) await this.client.call('conversations.invite', { channel: id, users: users.join(',') }, { idempotent: true });
    return { ok: true, channel: `slack:${id}` };
  }

  /** pins.add is idempotent in effect ("already_pinned" is success). */
  async pin(copy: ChatCopy): Promise<DeliveryResult> {
    if (copy.platform !== 'slack') return notDelivered(`not a Slack message: ${copy.platform}`);
    const r = await this.client.call('pins.add', { channel: copy.conversation, timestamp: copy.messageId }, { idempotent: true });
    if (!r.ok) return /already_pinned/.test(r.result.ok ? '' : r.result.error) ? { ok: true } : r.result;
    return { ok: true };
  }

  /**
   * Whether the bot can post to "slack:<channel id>" (conversations.info): it must see the
   * channel, be in it, and the channel must not be archived. A DM with the bot always can.
   */
  async canPost(channel: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const c = parseChannel(channel);
    if (!c || c.platform !== 'slack') return { ok: false, error: `not a Slack channel: "${channel}"` };
    const id = c.id;
    const r = await this.client.call('conversations.info', { channel: id }, { idempotent: true, form: true });
    if (!r.ok) {
      const error = r.result.ok ? 'unexpected answer' : r.result.error;
      if (r.code === 'channel_not_found') return { ok: false, error: `Slack has no channel ${id} that Duty Desk can see` };
      if (r.code !== undefined) return { ok: false, error: `Slack would not say whether Duty Desk can post to channel ${id}: ${error}` };
      return { ok: false, error: `could not reach Slack to check channel ${id}: ${error.replace(/^could not reach Slack: /, '')}` };
    }
    const info = r.data.channel;
    if (typeof info !== 'object' || info === null) return { ok: false, error: `Slack did not describe channel ${id}` };
    const ch = info as Record<string, unknown>;
    const link = slackChannelLink(id, typeof ch.name === 'string' ? ch.name : undefined);
    if (ch.is_archived === true) return { ok: false, error: `${link} is archived: unarchive it or choose another channel` };
    // A bot only sees the DMs and group DMs it is part of; they carry no is_member.
    if (ch.is_im === true || ch.is_mpim === true || ch.is_member === true) return { ok: true };
    return { ok: false, error: `Duty Desk is not in ${link}: invite it with /invite @Duty Desk` };
  }

  private async post(channel: string, reply: MessageReply, thread?: string): Promise<DeliveryResult> {
    const { text, blocks } = renderMessage(reply);
    const r = await this.client.postMessage({ channel, text, blocks, ...(thread !== undefined ? { thread_ts: thread } : {}) });
    if (!r.ok) return r.result;
    const result = this.delivered(r.data, channel);
    if (!reply.attachments?.length || !result.ok) return result;
    // The message is out: whatever becomes of the files, sending again would post it twice.
    const warning = await this.attach(result.copy, reply.attachments, thread);
    return warning === undefined ? result : { ...result, warning };
  }

  /**
   * Uploads the files (files.getUploadURLExternal, the bytes, files.completeUploadExternal) and
   * shares them in the thread of the message just posted, or of its root when it was a reply
   * (Slack threads are one level deep). Returns what failed, logged as a warning; never throws.
   */
  private async attach(copy: ChatCopy | undefined, attachments: readonly ReplyAttachment[], thread?: string): Promise<string | undefined> {
    const names = attachments.map((a) => a.filename);
    if (!copy) {
      const warning = `the message was posted but Slack did not say where, so ${names.join(', ')} could not be attached`;
      this.logger?.warn({ files: names }, `slack: ${warning}`);
      return warning;
    }
    const failed: string[] = [];
    const files: { id: string; title: string }[] = [];
    for (const a of attachments) {
      const r = await this.uploadOne(a);
      if (r.ok) files.push({ id: r.id, title: a.title ?? a.filename });
      else failed.push(`${a.filename}: ${r.error}`);
    }
    const where = { channel: copy.conversation, ts: copy.messageId };
    if (files.length) {
      const done = await this.client.call('files.completeUploadExternal', { files, channel_id: copy.conversation, thread_ts: thread ?? copy.messageId });
      if (done.ok) this.logger?.info({ ...where, files: files.map((f) => f.id) }, 'slack: attachments shared under the message');
      else failed.push(`${files.map((f) => f.title).join(', ')}: ${done.result.ok ? 'unexpected answer' : done.result.error}`);
    }
    if (!failed.length) return undefined;
    const warning = `the message was posted, but ${failed.length === 1 ? 'an attachment' : 'attachments'} could not be uploaded (${failed.join('; ')})`;
    this.logger?.warn({ ...where, failed }, `slack: ${warning}`);
    return warning;
  }

  private async uploadOne(a: ReplyAttachment): Promise<{ ok: true; id: string } | { ok: false; error: string }> {
    const alt = a.altText ? { alt_txt: Array.from(a.altText).slice(0, MAX_ALT_TEXT).join('') } : {};
    const r = await this.client.call('files.getUploadURLExternal', { filename: a.filename, length: a.content.length, ...alt }, { form: true });
    if (!r.ok) return { ok: false, error: r.result.ok ? 'unexpected answer' : r.result.error };
    const { upload_url: url, file_id: id } = r.data;
    if (typeof url !== 'string' || typeof id !== 'string') return { ok: false, error: 'Slack gave no upload URL' };
    const up = await this.client.upload(url, a.content);
    return up.ok ? { ok: true, id } : up;
  }

  /** The channel Slack answered (a D… id for a DM to a user id) and the ts make the copy. */
  private delivered(data: Record<string, unknown>, channel: string, ts?: string): DeliveryResult {
    const answeredChannel = typeof data.channel === 'string' && data.channel ? data.channel : channel;
    const answeredTs = typeof data.ts === 'string' && data.ts ? data.ts : ts;
    if (answeredTs === undefined) return { ok: true };
    return { ok: true, providerId: `${answeredChannel}:${answeredTs}`, copy: { platform: 'slack', conversation: answeredChannel, messageId: answeredTs } };
  }
}
