// One HTTP POST over node:http(s) with a keep-alive agent, telling apart "certainly not sent"
// from "sent, but no complete answer": the difference between a retry and a page sent twice.
import http from 'node:http';
import https from 'node:https';

/** What became of a POST. */
export type HttpAnswer =
  /** The provider answered; `complete` is false when the body was cut off (or over the size cap). */
  | { kind: 'answered'; status: number; headers: http.IncomingHttpHeaders; body: string; complete: boolean }
  /** The request was not fully written: the provider cannot have acted on it. */
  | { kind: 'not-sent'; error: string }
  /** Written, then no answer (timeout, connection lost): it may have been acted on. */
  | { kind: 'unknown'; error: string };

export interface PostOptions {
  url: URL;
  agent: http.Agent;
  headers: http.OutgoingHttpHeaders;
  body: string;
  /** From the start of the call to the end of the answer. */
  timeoutMs: number;
  /** Answers beyond this are cut off (complete: false). Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * A keep-alive agent for the URL's protocol. A request on an idle socket the server is closing
 * fails after it was written (outcome unknown), so idle sockets are closed early (4 s, under
 * common server idle timeouts) and LIFO reuse keeps the warm ones busy.
 */
export function keepAliveAgent(url: URL, opts: { maxSockets?: number } = {}): http.Agent {
  // `timeout` only ends sockets in the free list; a request in flight keeps its own deadline.
  const options: http.AgentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 256, maxFreeSockets: 64, scheduling: 'lifo', timeout: 4_000 };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

export function postOnce(opts: PostOptions): Promise<HttpAnswer> {
  const { url, timeoutMs } = opts;
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  return new Promise<HttpAnswer>((resolve) => {
    let settled = false;
    // Set once every byte of the request was handed to the kernel. Until then the provider has
    // at most a partial request, which it cannot act on.
    let written = false;
    let response: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let size = 0;

    const settle = (answer: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const answered = (res: http.IncomingMessage, complete: boolean): void =>
      settle({ kind: 'answered', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), complete });

    const request = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: opts.agent,
      headers: { ...opts.headers, 'content-length': Buffer.byteLength(opts.body) },
    });
    const timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);

    request.on('finish', () => {
      written = true;
    });
    request.on('response', (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => answered(res, true));
      // An error on the answer ends in 'close' too; the status alone may still tell enough.
      res.on('error', () => undefined);
      res.on('close', () => answered(res, false));
    });
    request.on('error', (err) => {
      if (response) return answered(response, false);
      settle(written ? { kind: 'unknown', error: err.message } : { kind: 'not-sent', error: err.message });
    });
    request.end(opts.body);
  });
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined | null, now = new Date()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now.getTime()) : undefined;
}

/** The first value of a header. */
export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The JSON object of a body, or undefined when it is not one. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
