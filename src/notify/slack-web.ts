// A small Slack Web API client for deliveries: JSON POSTs over a keep-alive agent. The
// @slack/web-api WebClient costs about 1 ms of CPU a call (axios, its queue, its logging);
// this one a small fraction of that. It never sleeps or retries: the scheduler owns retries.
import type http from 'node:http';
import type { Logger } from '../logger';
import { header, jsonObject, keepAliveAgent, parseRetryAfter, postOnce, type HttpAnswer } from './http';
import { notDelivered, outcomeUnknown, type DeliveryResult } from './types';

export interface SlackWebClientOptions {
  token: string;
  /** SLACK_API_URL (tests point it at the loopback fake). Default https://slack.com/api/. */
  apiUrl?: string;
  logger?: Logger;
  /** Per call, from the start to the end of the answer. Default 10 s. */
  timeoutMs?: number;
  /** Connections open at once. Default 256. */
  maxSockets?: number;
}

/**
 * A call's data (`ok: true` answers, without `ok`), or what its failure means for the message;
 * `code` is Slack's error code when Slack itself refused the call.
 */
export type SlackCall = { ok: true; data: Record<string, unknown> } | { ok: false; result: DeliveryResult; code?: string };

export interface PostMessageArgs {
  channel: string;
  text: string;
  blocks?: unknown[];
  /** Reply in the thread of this root message. */
  thread_ts?: string;
}

export interface UpdateArgs {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
}

/** Slack platform errors worth another try later; every other error code is final. */
export const RETRYABLE_PLATFORM_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * What an HTTP answer to a Web API call means. `idempotent` calls (chat.update) may be repeated
 * when their outcome is unknown; a post may not.
 */
export function classifySlackAnswer(method: string, answer: HttpAnswer, idempotent = false): SlackCall {
  const fail = (result: DeliveryResult): SlackCall => ({ ok: false, result });
  const unknown = (why: string): SlackCall => fail(idempotent ? notDelivered(`Slack ${method}: ${why}`, true) : outcomeUnknown(`Slack ${method}: ${why}`));
  if (answer.kind === 'not-sent') return fail(notDelivered(`could not reach Slack: ${answer.error}`, true));
  if (answer.kind === 'unknown') return unknown(answer.error);
  const { status } = answer;
  if (status === 429) return fail(notDelivered('Slack rate limit (429)', true, parseRetryAfter(header(answer.headers, 'retry-after'))));
  if (status === 408 || status >= 500) return fail(notDelivered(`Slack answered HTTP ${status}`, true, parseRetryAfter(header(answer.headers, 'retry-after'))));
  if (status !== 200) return fail(notDelivered(`Slack answered HTTP ${status}`));
  if (!answer.complete) return unknown('the answer was cut off');
  const data = jsonObject(answer.body);
  if (!data) return unknown('the answer was not JSON');
  if (data.ok !== true) {
    const error = typeof data.error === 'string' ? data.error : 'unknown_error';
    return { ok: false, result: notDelivered(`Slack error: ${error}`, RETRYABLE_PLATFORM_ERRORS.has(error)), code: error };
  }
  return { ok: true, data };
}

/** Form encoding for methods that take no JSON: strings as they are, everything else as JSON. */
function formBody(args: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) {
    if (v !== undefined) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return form.toString();
}

export class SlackWebClient {
  readonly apiUrl: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly headers: http.OutgoingHttpHeaders;
  private readonly formHeaders: http.OutgoingHttpHeaders;
  private readonly timeoutMs: number;
  readonly logger: Logger | undefined;
  private readonly urls = new Map<string, URL>();

  constructor(opts: SlackWebClientOptions) {
    this.apiUrl = opts.apiUrl ?? 'https://slack.com/api/';
    this.base = new URL(this.apiUrl.endsWith('/') ? this.apiUrl : `${this.apiUrl}/`);
    this.agent = keepAliveAgent(this.base, opts.maxSockets !== undefined ? { maxSockets: opts.maxSockets } : {});
    this.headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json; charset=utf-8', accept: 'application/json' };
    this.formHeaders = { ...this.headers, 'content-type': 'application/x-www-form-urlencoded' };
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.logger = opts.logger;
  }

  /**
   * POSTs `args` as JSON to <apiUrl><method>, or form-encoded with `form` (objects as JSON): read
   * methods such as conversations.info, and files.getUploadURLExternal, do not read JSON bodies.
   */
  async call(method: string, args: Record<string, unknown>, opts: { idempotent?: boolean; form?: boolean } = {}): Promise<SlackCall> {
    let url = this.urls.get(method);
    if (!url) this.urls.set(method, (url = new URL(method, this.base)));
    const body = opts.form ? formBody(args) : JSON.stringify(args);
    const answer = await postOnce({ url, agent: this.agent, headers: opts.form ? this.formHeaders : this.headers, body, timeoutMs: this.timeoutMs });
    const r = classifySlackAnswer(method, answer, opts.idempotent ?? false);
    if (!r.ok && answer.kind === 'unknown') this.logger?.warn({ method, error: answer.error }, 'slack: no answer to a call that was sent');
    return r;
  }

  postMessage(args: PostMessageArgs): Promise<SlackCall> {
    return this.call('chat.postMessage', { ...args, unfurl_links: false, unfurl_media: false });
  }

  /** chat.update replaces the message: repeating it is harmless, so an unknown outcome is retryable. */
  update(args: UpdateArgs): Promise<SlackCall> {
    return this.call('chat.update', { ...args }, { idempotent: true });
  }

  /**
   * POSTs raw bytes to an upload URL that files.getUploadURLExternal handed out. The URL is
   * Slack's, on another host than the API and already authorised, so no token goes with it.
   */
  async upload(uploadUrl: string, content: Buffer): Promise<{ ok: true } | { ok: false; error: string }> {
    let url: URL;
    try {
      url = new URL(uploadUrl);
    } catch {
      return { ok: false, error: `Slack gave an upload URL that is not one: ${uploadUrl}` };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, error: `Slack gave an upload URL that is not HTTP: ${url.protocol}` };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(content.buffer, content.byteOffset, content.byteLength),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const answer = (await res.text()).slice(0, 200);
      return res.ok ? { ok: true } : { ok: false, error: `the upload answered HTTP ${res.status}${answer ? `: ${answer}` : ''}` };
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { ok: false, error: `the upload failed: ${err instanceof Error ? err.message : String(err)}${cause}` };
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
