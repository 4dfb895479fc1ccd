// A real SMTP server on loopback (smtp-server, in-process): records each message it accepts,
// and fails as a test scripts it (a RCPT refused with 451 or 550, a connection dropped or left
// unanswered after the message data).
//
//   const smtp = await startSmtpFake();
//   const email = new EmailNotifier({ url: smtp.url });   // smtp://127.0.0.1:<port>
//   await smtp.waitFor(1);
//   await smtp.close();
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface SmtpMessage {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** The message as received, headers and body. */
  raw: string;
  /** Headers, lower-case names, unfolded (the last of repeated ones). */
  headers: Record<string, string>;
  /** Decoded Subject. */
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/html part, decoded, if any. */
  html?: string;
}

/** What the fake does once a message's data has arrived. */
export type AfterData =
  /** Closes the connection without a reply: the client cannot know whether it was accepted. */
  | 'drop'
  /** Never replies: the client times out. */
  | 'hang'
  /** Replies with this code (4xx or 5xx) instead of accepting. */
  | { code: number; message?: string };

export interface SmtpFake {
  url: string;
  port: number;
  /** Messages accepted (250 after the data). */
  messages: SmtpMessage[];
  /** Every message whose data arrived, accepted or not. */
  received: SmtpMessage[];
  /** Resolves with the accepted messages once there are `n`. */
  waitFor(n: number, timeoutMs?: number): Promise<SmtpMessage[]>;
  /** Refuses RCPT TO for this address with the code (451: try later; 550: no such user) until reset. */
  rejectRecipient(address: string, code: number, message?: string): void;
  /** Scripts the next message(s) after their data arrived, in order; when empty, messages are accepted. */
  afterData(...actions: AfterData[]): void;
  reset(): void;
  close(): Promise<void>;
}

export interface SmtpFakeOptions {
  /** Advertised name in the greeting. Default "smtp-fake.test". */
  name?: string;
}

/** Decodes RFC 2047 encoded words ("=?UTF-8?Q?…?=", "=?UTF-8?B?…?="). */
function decodeWords(value: string): string {
  // Whitespace between two encoded words is not part of the text.
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_m, enc: string, data: string) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(data, 'base64').toString('utf8');
    return decodeQuotedPrintable(data.replace(/_/g, ' '));
  });
}

function decodeQuotedPrintable(s: string): string {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i] as string;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Splits a MIME entity into its headers and body. */
function splitEntity(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** The text/plain and text/html parts of a (possibly multipart) message. */
function parts(headers: Record<string, string>, body: string): { text?: string; html?: string } {
  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
    if (!boundary) return {};
    const out: { text?: string; html?: string } = {};
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const entity = splitEntity(chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, ''));
      const inner = parts(entity.headers, entity.body);
      out.text ??= inner.text;
      out.html ??= inner.html;
    }
    return out;
  }
  if (type.startsWith('text/html')) return { html: decodeBody(headers, body) };
  if (type.startsWith('text/')) return { text: decodeBody(headers, body) };
  return {};
}

export function parseMessage(raw: string, envelope: { from: string; to: string[] }): SmtpMessage {
  const { headers, body } = splitEntity(raw);
  const p = parts(headers, body);
  return { ...envelope, raw, headers, subject: decodeWords(headers.subject ?? ''), text: p.text ?? '', ...(p.html !== undefined ? { html: p.html } : {}) };
}

/** An smtp-server error with the reply code it should answer with. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpFake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const messages: SmtpMessage[] = [];
  const received: SmtpMessage[] = [];
  const rejections = new Map<string, { code: number; message: string }>();
  const script: AfterData[] = [];
  let waiters: Array<() => void> = [];

  const envelopeOf = (session: SMTPServerSession): { from: string; to: string[] } => ({
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
  });

  const server: SMTPServer = new SMTPServer({
    name: options.name ?? 'smtp-fake.test',
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const rule = rejections.get(address.address.toLowerCase());
      callback(rule ? smtpError(rule.code, rule.message) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const message = parseMessage(Buffer.concat(chunks).toString('utf8'), envelopeOf(session));
        received.push(message);
        const action = script.shift();
        if (action === 'drop') {
          // The data is here; the client never learns whether it was taken.
          for (const c of server.connections) if (c.id === session.id) c._socket.destroy();
          return;
        }
        if (action === 'hang') return;
        if (action) return callback(smtpError(action.code, action.message ?? (action.code < 500 ? 'try again later' : 'message refused')));
        messages.push(message);
        for (const w of waiters) w();
        callback(null, `queued as fake-${messages.length}`);
      });
    },
  });
  // Connections the client drops mid-session are expected here.
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    received,
    waitFor(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`smtp fake: waited ${timeoutMs} ms for ${n} message(s); got ${messages.length}`)), timeoutMs);
        const check = (): void => {
          if (messages.length < n) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve(messages.slice());
        };
        waiters.push(check);
        check();
      });
    },
    rejectRecipient(address, code, message) {
      rejections.set(address.toLowerCase(), { code, message: message ?? (code < 500 ? 'mailbox busy, try again later' : 'no such user') });
    },
    afterData(...actions) {
      script.push(...actions);
    },
    reset() {
      messages.length = 0;
      received.length = 0;
      rejections.clear();
      script.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.connections) c._socket.destroy();
        server.close(() => resolve());
      }),
  };
}
