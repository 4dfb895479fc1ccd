// SMS delivery through a Twilio-compatible provider (form POST of To, From, Body to
// SMS_WEBHOOK_URL, basic auth from the URL's user:password), and the pure helpers of the inbound
// webhook: Twilio's request signature and a TwiML reply.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { XMLBuilder } from 'fast-xml-parser';
import type { MessageReply } from '../domain/reply';
import { header, jsonObject, keepAliveAgent, parseRetryAfter, postOnce, type HttpAnswer } from './http';
import { notDelivered, outcomeUnknown, type DeliveryResult } from './types';

export interface SmsNotifierOptions {
  /** SMS_WEBHOOK_URL, e.g. https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json. */
  url: string;
  /** SMS_FROM: the number or sender id. */
  from: string;
  /** Per send, from the start to the end of the answer. Default 10 s. */
  timeoutMs?: number;
  maxSockets?: number;
}

/** Two concatenated SMS segments' worth; providers split longer texts into more (paid) parts. */
const SMS_MAX = 320;

/** A reply as one SMS: the fallback, else title and text, on one line, at most 320 characters. Pure. */
export function renderSms(reply: MessageReply): string {
  const joined = reply.fallback ?? ([reply.title, reply.text ?? reply.error?.message].filter((s) => s !== undefined && s.trim() !== '').join(': ') || 'Duty Desk');
  const text = joined.replace(/\s+/g, ' ').trim();
  // By code point, so that an emoji is not cut in half.
  const chars = Array.from(text);
  return chars.length <= SMS_MAX ? text : `${chars.slice(0, SMS_MAX - 1).join('').trimEnd()}…`;
}

/** What the provider's answer means. A 5xx other than 503 may come after the message was queued. */
export function classifySmsAnswer(answer: HttpAnswer): DeliveryResult {
  if (answer.kind === 'not-sent') return notDelivered(`could not reach the SMS provider: ${answer.error}`, true);
  if (answer.kind === 'unknown') return outcomeUnknown(`SMS provider: ${answer.error}`);
  const { status } = answer;
  const json = jsonObject(answer.body);
  if (status >= 200 && status < 300) {
    const id = json?.sid ?? json?.id;
    return { ok: true, ...(typeof id === 'string' || typeof id === 'number' ? { providerId: String(id) } : {}) };
  }
  if (status === 429 || status === 503) {
    return notDelivered(`SMS provider answered HTTP ${status}${status === 429 ? ' (rate limit)' : ''}`, true, parseRetryAfter(header(answer.headers, 'retry-after')));
  }
  if (status >= 400 && status < 500) {
    const said = typeof json?.message === 'string' ? json.message : answer.body.trim().slice(0, 200);
    return notDelivered(`SMS provider answered HTTP ${status}${said ? `: ${said}` : ''}`);
  }
  return outcomeUnknown(`SMS provider answered HTTP ${status}`);
}

export class SmsNotifier {
  readonly from: string;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: http.OutgoingHttpHeaders;
  private readonly timeoutMs: number;

  constructor(opts: SmsNotifierOptions) {
    const url = new URL(opts.url);
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    // The credentials go in the Authorization header, not in the request line.
    url.username = '';
    url.password = '';
    this.url = url;
    this.from = opts.from;
    this.agent = keepAliveAgent(url, opts.maxSockets !== undefined ? { maxSockets: opts.maxSockets } : {});
    this.headers = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(user || password ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {}),
    };
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async send(phone: string, reply: MessageReply): Promise<DeliveryResult> {
    const body = new URLSearchParams({ To: phone, From: this.from, Body: renderSms(reply) }).toString();
    return classifySmsAnswer(await postOnce({ url: this.url, agent: this.agent, headers: this.headers, body, timeoutMs: this.timeoutMs }));
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** Form parameters as received; a repeated name has several values, signed in the order received. */
export type WebhookParams = Record<string, string | string[]>;

/**
 * Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the full URL
 * followed by each parameter's name and value, sorted by name.
 */
export function twilioSignature(authToken: string, url: string, params: WebhookParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    for (const v of Array.isArray(value) ? value : [value]) data += name + (v ?? '');
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The URL as given and with or without its default port: proxies differ on which one Twilio signed. */
function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#:@[\]]+)(?::(\d+))?(.*)$/i.exec(url);
  if (!m) return [url];
  const scheme = m[1] as string;
  const host = m[2] as string;
  const port = m[3];
  const rest = m[4] ?? '';
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  if (port === undefined) return [url, `${scheme}://${host}:${defaultPort}${rest}`];
  return port === defaultPort ? [url, `${scheme}://${host}${rest}`] : [url];
}

/** Whether `signatureHeader` is Twilio's signature of this request. Compared in constant time. */
export function verifyTwilioSignature(authToken: string, url: string, params: WebhookParams, signatureHeader: string | undefined | null): boolean {
  if (!authToken || !signatureHeader) return false;
  const given = Buffer.from(signatureHeader, 'utf8');
  let ok = false;
  for (const candidate of urlVariants(url)) {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    // Lengths are public (a base64 SHA-1 is always 28 characters); the contents are not.
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

const twiml = new XMLBuilder({ processEntities: true, suppressEmptyNode: false });

/** A TwiML answer that replies with `text` (escaped), or replies nothing without it. */
export function twimlMessage(text?: string): string {
  const body = twiml.build({ Response: text === undefined ? '' : { Message: text } }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>${body}`;
}
