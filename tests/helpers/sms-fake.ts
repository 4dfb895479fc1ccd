// A loopback stand-in for a Twilio-compatible SMS provider: checks basic auth, records each
// message it accepts and answers 201 { sid }, or answers as a test scripts it (429 with
// Retry-After, 400 with a message, a request left hanging). Also posts signed inbound SMS to
// the bot, as the provider would.
//
//   const sms = await startSmsFake();
//   const notifier = new SmsNotifier({ url: sms.url, from: '+15550001' });   // user:pass in the URL
//   await sms.waitFor(1);
//   await sms.close();
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmsRecord {
  to: string;
  from: string;
  body: string;
  sid: string;
}

/** One request as received, accepted or not. */
export interface SmsRequest {
  path: string;
  /** Decoded basic-auth credentials, if any. */
  user?: string;
  password?: string;
  contentType?: string;
  accept?: string;
  form: Record<string, string>;
}

/** A scripted answer: a status (with headers and a JSON body), or 'hang' (never answers). */
export type SmsAnswer = { status: number; headers?: Record<string, string>; body?: unknown } | 'hang';

export interface SmsFake {
  /** The provider URL with user:password, for SMS_WEBHOOK_URL. */
  url: string;
  /** The same URL without credentials. */
  baseUrl: string;
  user: string;
  password: string;
  /** Messages accepted. */
  messages: SmsRecord[];
  /** Every request, accepted or not. */
  requests: SmsRequest[];
  /** The next answers, in order; when empty, a request with the right credentials is accepted. */
  script(...answers: SmsAnswer[]): void;
  waitFor(n: number, timeoutMs?: number): Promise<SmsRecord[]>;
  reset(): void;
  close(): Promise<void>;
}

export interface SmsFakeOptions {
  user?: string;
  password?: string;
  account?: string;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSmsFake(options: SmsFakeOptions = {}): Promise<SmsFake> {
  const user = options.user ?? 'AC0fake';
  const password = options.password ?? 'secret-token';
  const account = options.account ?? user;
  const messages: SmsRecord[] = [];
  const requests: SmsRequest[] = [];
  const script: SmsAnswer[] = [];
  let waiters: Array<() => void> = [];
  let n = 0;

  const server = http.createServer((req, res) => {
    void readBody(req).then((raw) => {
      const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const decoded = auth ? Buffer.from(auth[1] as string, 'base64').toString('utf8') : undefined;
      const colon = decoded?.indexOf(':') ?? -1;
      const request: SmsRequest = {
        path: req.url ?? '/',
        ...(decoded !== undefined ? { user: colon < 0 ? decoded : decoded.slice(0, colon), password: colon < 0 ? '' : decoded.slice(colon + 1) } : {}),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(req.headers.accept ? { accept: req.headers.accept } : {}),
        form: Object.fromEntries(new URLSearchParams(raw)),
      };
      requests.push(request);
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const next = script.shift();
      if (next === 'hang') return;
      if (next) return json(next.status, next.body ?? {}, next.headers);
      if (request.user !== user || request.password !== password) return json(401, { code: 20003, message: 'Authenticate', status: 401 });
      const { To: to, From: from, Body: body } = request.form;
      if (!to || !from || body === undefined) return json(400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
      const sid = `SM${String(++n).padStart(32, '0')}`;
      messages.push({ to, from, body, sid });
      for (const w of waiters) w();
      json(201, { sid, account_sid: account, to, from, body, status: 'queued' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const path = `/2010-04-01/Accounts/${account}/Messages.json`;

  return {
    url: `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}${path}`,
    baseUrl: `http://127.0.0.1:${port}${path}`,
    user,
    password,
    messages,
    requests,
    script(...answers) {
      script.push(...answers);
    },
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sms fake: waited ${timeoutMs} ms for ${count} message(s); got ${messages.length}`)), timeoutMs);
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve(messages.slice());
        };
        waiters.push(check);
        check();
      });
    },
    reset() {
      messages.length = 0;
      requests.length = 0;
      script.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Twilio's signature, computed here independently of the code under test. */
function sign(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * POSTs an inbound SMS to `url` the way the provider does: form-encoded, with X-Twilio-Signature
 * over `signedUrl` (default `url`: what the provider was configured with, when a proxy differs).
 * `signature` overrides the computed one, to test refusals.
 */
export async function postInboundSms(
  url: string,
  authToken: string,
  params: Record<string, string>,
  opts: { signedUrl?: string; signature?: string | null } = {},
): Promise<{ status: number; contentType: string | undefined; body: string }> {
  const signature = opts.signature === undefined ? sign(authToken, opts.signedUrl ?? url, params) : opts.signature;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: await res.text() };
}
