// Slack delivery: chat.postMessage to a member's user id (their DM with the app) or a channel.
import { webApi } from '@slack/bolt';
import { boltLogger } from '../bot/slack/bolt-logger';
import { renderMessage } from '../bot/slack/render';
import type { Member } from '../domain/member';
import type { MessageReply } from '../domain/reply';
import type { Logger } from '../logger';
import { lookupMember, notDelivered, parseChannel, type DeliveryResult, type Destination, type MemberDirectory } from './types';

export interface SlackDeliveryClientOptions {
  token: string;
  /** SLACK_API_URL (tests point it at the loopback fake). */
  apiUrl?: string;
  logger: Logger;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A Web API client for deliveries. Unlike the interactive client it neither sleeps on a 429 nor
 * retries: the scheduler owns retries, so a rate limit becomes a retry at Retry-After instead
 * of a worker held for minutes.
 */
export function createSlackDeliveryClient(opts: SlackDeliveryClientOptions): webApi.WebClient {
  return new webApi.WebClient(opts.token, {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    logger: boltLogger(opts.logger),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: opts.timeoutMs ?? 10_000,
  });
}

/** Slack platform errors worth another try later; every other error code is final. */
const RETRYABLE_PLATFORM_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : headers[key];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined | null, now = new Date()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now.getTime()) : undefined;
}

/** A Web API error as a delivery result; anything that is not a Web API error is thrown on. */
export function classifySlackError(err: unknown): DeliveryResult {
  const code = isRecord(err) ? err.code : undefined;
  switch (code) {
    case webApi.ErrorCode.RateLimitedError: {
      const retryAfter = isRecord(err) && typeof err.retryAfter === 'number' ? err.retryAfter : undefined;
      return notDelivered('Slack rate limit (429)', true, retryAfter === undefined ? undefined : Math.round(retryAfter * 1000));
    }
    case webApi.ErrorCode.RequestError: {
      const original = isRecord(err) && err.original instanceof Error ? err.original.message : String(err);
      return notDelivered(`could not reach Slack: ${original}`, true);
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

export class SlackNotifier {
  readonly platform = 'slack' as const;
  private readonly client: webApi.WebClient;
  private readonly members: MemberDirectory;

  constructor(opts: { client: webApi.WebClient; members: MemberDirectory }) {
    this.client = opts.client;
    this.members = opts.members;
  }

  async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
    if (to.kind === 'channel') {
      const c = parseChannel(to.channel);
      if (!c || c.platform !== 'slack') return notDelivered(`not a Slack channel: "${to.channel}"`);
      return this.sendToChannel(c.id, reply);
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

  sendToChannel(channel: string, reply: MessageReply): Promise<DeliveryResult> {
    return this.post(channel, reply);
  }

  private async post(channel: string, reply: MessageReply): Promise<DeliveryResult> {
    const { text, blocks } = renderMessage(reply);
    try {
      const r = await this.client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
      return { ok: true, ...(r.ts ? { providerId: `${r.channel ?? channel}:${r.ts}` } : {}) };
    } catch (err) {
      return classifySlackError(err);
    }
  }
}
