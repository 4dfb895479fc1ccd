// A loopback stand-in for Slack: the Web API (POST /api/<method>, form- or JSON-encoded),
// response_url hooks, file upload URLs, file downloads (GET /files/<id>, like url_private) and a
// Socket Mode WebSocket endpoint. Every call is recorded with its parsed arguments so tests can
// assert on what the bot sent.
//
//   const slack = await startSlackFake();
//   env.SLACK_API_URL = slack.apiUrl;            // http://127.0.0.1:<port>/api/
//   payload.response_url = slack.responseUrl();   // recorded in slack.responses
//   await slack.waitForCall('chat.postMessage');
//   const url = slack.serveFile('F1', { content: 'a,b\n' });  // for url_private_download
//   await slack.close();
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  /** Arguments with JSON-valued form fields (blocks, view, …) already parsed. */
  args: Record<string, unknown>;
  /** The bearer token sent, if any. */
  token?: string;
  contentType?: string;
  /** What the fake answered (without `ok`). */
  answer?: Answer;
}

export interface ResponseUrlPost {
  /** The id in the response URL (`/response/<id>`). */
  id: string;
  body: Record<string, unknown>;
}

export type Answer = Record<string, unknown>;

export interface Upload {
  fileId: string;
  bytes: number;
  content: Buffer;
}

/** A file the fake serves at GET /files/<id>, as Slack serves url_private(_download). */
export interface ServedFile {
  content?: Buffer | string;
  /** Default application/octet-stream. */
  contentType?: string;
  /** Answer 200 text/html with a sign-in page, as Slack does when the token lacks files:read. */
  loginPage?: boolean;
  /** Answer this status (no content) instead of the file. */
  status?: number;
  /** Answer 302 to this URL (absolute, or a path on the fake). */
  redirectTo?: string;
  /** Send the headers, then wait this long before the content (a stalled download). */
  stallMs?: number;
  /** Leave Content-Length out (a chunked answer), so only the bytes read tell the size. */
  chunked?: boolean;
}

export interface FileDownload {
  id: string;
  /** The bearer token sent, if any. */
  token?: string;
}

export type MethodHandler = (args: Record<string, unknown>, call: RecordedCall) => Answer | Promise<Answer>;

export interface SocketModeEndpoint {
  /** Every connection opened to the fake, in order. */
  readonly connections: WebSocket[];
  /** Messages the app sent over any socket (acks are `{ envelope_id, payload }`). */
  readonly received: Record<string, unknown>[];
  /** Resolves with the next connection (or the first one not yet taken). */
  nextConnection(timeoutMs?: number): Promise<WebSocket>;
  /** Sends a JSON message to the most recent connection. */
  send(message: Record<string, unknown>): void;
  /** Sends `{type:'hello'}` so the client counts as connected. */
  hello(ws?: WebSocket): void;
  /** Sends an envelope and resolves with the app's ack for it. */
  sendEnvelope(type: string, payload: Record<string, unknown>, opts?: { acceptsResponsePayload?: boolean; timeoutMs?: number }): Promise<Record<string, unknown>>;
  waitForMessage(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface SlackFake {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The Web API base, for SLACK_API_URL. */
  apiUrl: string;
  port: number;
  calls: RecordedCall[];
  responses: ResponseUrlPost[];
  /** Files posted to the upload URLs that files.getUploadURLExternal handed out. */
  uploads: Upload[];
  /** GET requests for served files (the bot downloading an upload). */
  downloads: FileDownload[];
  socket: SocketModeEndpoint;
  /** A fresh response_url on this fake. */
  responseUrl(id?: string): string;
  callsTo(method: string): RecordedCall[];
  /** Replaces the answer for a method (the call is still recorded); `{ ok: false, error }` fails it. */
  on(method: string, handler: MethodHandler): void;
  /** Back to the default answer. */
  off(method: string): void;
  /**
   * Serves a file at GET /files/<id> and returns its URL. Without a bearer token the answer is
   * the sign-in page (200 text/html), as Slack's.
   */
  serveFile(id: string, file: ServedFile): string;
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  waitForResponse(predicate?: (post: ResponseUrlPost) => boolean, timeoutMs?: number): Promise<ResponseUrlPost>;
  /** Forgets recorded calls, responses and socket messages. */
  reset(): void;
  close(): Promise<void>;
}

export interface SlackFakeOptions {
  teamId?: string;
  botUserId?: string;
  botId?: string;
}

function maybeJson(value: string): unknown {
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return value;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return value;
  }
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) {
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = maybeJson(v);
  return out;
}

/** The file bytes of an upload: the first part of a multipart body, or the raw body. */
function uploadedContent(body: Buffer, contentType: string | undefined): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  if (!contentType?.startsWith('multipart/form-data') || !boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(delimiter, headersEnd);
  if (start < 0 || headersEnd < 0 || end < 0) return body;
  // The part ends with CRLF before the next delimiter.
  return body.subarray(headersEnd + 4, end - 2);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The DM channel of a user id ("U1" → "DU1", stable per user); other channels as they are. */
export function dmChannel(channel: unknown): unknown {
  return typeof channel === 'string' && /^[UW][A-Z0-9]+$/.test(channel) ? `D${channel}` : channel;
}

/** Polls `find` until it returns something; the fake is in-process, so polling is cheap. */
async function waitUntil<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`slack fake: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const teamId = options.teamId ?? 'T1';
  const botUserId = options.botUserId ?? 'UBOT';
  const botId = options.botId ?? 'BBOT';
  const calls: RecordedCall[] = [];
  const responses: ResponseUrlPost[] = [];
  const uploads: Upload[] = [];
  const downloads: FileDownload[] = [];
  const served = new Map<string, ServedFile>();
  const handlers = new Map<string, MethodHandler>();
  const connections: WebSocket[] = [];
  const received: Record<string, unknown>[] = [];
  let takenConnections = 0;
  let seq = 0;
  let base = '';
  // Message timestamps, in microseconds: unique and increasing, like Slack's "1712345678.000100".
  let lastTs = 0;
  const nextTs = (): string => {
    lastTs = Math.max(lastTs + 1, Date.now() * 1000);
    return `${Math.floor(lastTs / 1e6)}.${String(lastTs % 1e6).padStart(6, '0')}`;
  };

  const defaults: Record<string, MethodHandler> = {
    'auth.test': () => ({ url: `${base}/`, team: 'Test Mission', user: 'dutydesk', team_id: teamId, user_id: botUserId, bot_id: botId }),
    'apps.connections.open': () => ({ url: `${base.replace(/^http/, 'ws')}/link/?ticket=${randomUUID()}` }),
    'views.open': (a) => ({ view: { ...(a.view as object), id: `V${++seq}` } }),
    'views.push': (a) => ({ view: { ...(a.view as object), id: `V${++seq}` } }),
    'views.update': (a) => ({ view: { ...(a.view as object), id: a.view_id ?? `V${++seq}` } }),
    'views.publish': (a) => ({ view: { ...(a.view as object), id: `V${++seq}` } }),
    // Posting to a user id lands in their DM with the app: Slack answers with that D… channel.
    'chat.postMessage': (a) => ({
      channel: dmChannel(a.channel),
      ts: nextTs(),
      message: { text: a.text, ...(typeof a.thread_ts === 'string' ? { thread_ts: a.thread_ts } : {}) },
    }),
    'chat.postEphemeral': () => ({ message_ts: `${Date.now() / 1000}` }),
    'chat.update': (a) => ({ channel: a.channel, ts: a.ts, text: a.text }),
    // The same D… id chat.postMessage answers for a post to that user.
    'conversations.open': (a) => ({ channel: { id: `D${String(a.users ?? 'X').split(',')[0]}` } }),
    // The bot is in every channel unless a test says otherwise; a D… id is a DM.
    'conversations.info': (a) => {
      const id = String(a.channel ?? '');
      return id.startsWith('D')
        ? { channel: { id, is_im: true, user: id.slice(1) } }
        : { channel: { id, name: id.toLowerCase(), is_channel: true, is_private: false, is_archived: false, is_member: true } };
    },
    'files.getUploadURLExternal': () => {
      const fileId = `F${++seq}`;
      return { upload_url: `${base}/upload/${fileId}`, file_id: fileId };
    },
    'files.completeUploadExternal': (a) => ({ files: (Array.isArray(a.files) ? a.files : []) as unknown[] }),
  };

  const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to your workspace</body></html>';

  function serveDownload(id: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    downloads.push({ id, ...(token ? { token } : {}) });
    const file = served.get(id);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('file not found');
      return;
    }
    if (file.redirectTo !== undefined) {
      res.writeHead(302, { Location: file.redirectTo.startsWith('/') ? `${base}${file.redirectTo}` : file.redirectTo });
      res.end();
      return;
    }
    if (file.status !== undefined) {
      res.writeHead(file.status, { 'Content-Type': 'text/plain' });
      res.end(`status ${file.status}`);
      return;
    }
    if (file.loginPage || !token) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(LOGIN_PAGE);
      return;
    }
    const content = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : (file.content ?? Buffer.alloc(0));
    res.writeHead(200, { 'Content-Type': file.contentType ?? 'application/octet-stream', ...(file.chunked ? {} : { 'Content-Length': content.length }) });
    if (!file.stallMs) {
      res.end(req.method === 'HEAD' ? undefined : content);
      return;
    }
    res.flushHeaders();
    const timer = setTimeout(() => res.end(content), file.stallMs);
    res.on('close', () => clearTimeout(timer));
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const bytes = await readBody(req);
      const raw = bytes.toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const answer = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const download = /^\/files\/([\w.-]+)$/.exec(url.pathname);
      if (download && (req.method === 'GET' || req.method === 'HEAD')) return serveDownload(download[1] as string, req, res);
      if (req.method !== 'POST') return answer(405, { ok: false, error: 'method_not_allowed' });
      const api = /^\/api\/([\w.]+)$/.exec(url.pathname);
      if (api) {
        const method = api[1] as string;
        const contentType = req.headers['content-type'];
        const args = parseBody(raw, contentType);
        const auth = req.headers.authorization;
        const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
        const call: RecordedCall = { method, args, ...(token ? { token } : {}), ...(contentType ? { contentType } : {}) };
        calls.push(call);
        const handler = handlers.get(method) ?? defaults[method];
        const body = handler ? await handler(args, call) : {};
        call.answer = body;
        return answer(200, { ok: true, ...body });
      }
      const hook = /^\/response\/([\w-]+)$/.exec(url.pathname);
      if (hook) {
        responses.push({ id: hook[1] as string, body: parseBody(raw, req.headers['content-type'] ?? 'application/json') });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('ok');
      }
      const upload = /^\/upload\/(\w+)$/.exec(url.pathname);
      if (upload) {
        const content = uploadedContent(bytes, req.headers['content-type']);
        uploads.push({ fileId: upload[1] as string, bytes: content.length, content });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end(`OK - ${content.length}`);
      }
      return answer(404, { ok: false, error: 'unknown_path' });
    })().catch((err: unknown) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'fake_failure', detail: String(err) }));
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, sock, head) => {
    if (!(req.url ?? '').startsWith('/link')) {
      sock.destroy();
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      connections.push(ws);
      ws.on('message', (data: Buffer) => {
        try {
          received.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
        } catch {
          received.push({ unparsed: data.toString('utf8') });
        }
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  const latest = (): WebSocket => {
    const ws = connections[connections.length - 1];
    if (!ws) throw new Error('slack fake: no Socket Mode connection yet');
    return ws;
  };

  const socket: SocketModeEndpoint = {
    connections,
    received,
    async nextConnection(timeoutMs = 5000) {
      const ws = await waitUntil(() => connections[takenConnections], timeoutMs, 'a Socket Mode connection');
      takenConnections++;
      return ws;
    },
    send(message) {
      latest().send(JSON.stringify(message));
    },
    hello(ws) {
      (ws ?? latest()).send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'slack-fake' }, connection_info: { app_id: 'A1' } }));
    },
    async sendEnvelope(type, payload, opts = {}) {
      const envelopeId = randomUUID();
      socket.send({ envelope_id: envelopeId, type, payload, accepts_response_payload: opts.acceptsResponsePayload ?? type !== 'events_api' });
      return socket.waitForMessage((m) => m.envelope_id === envelopeId, opts.timeoutMs);
    },
    waitForMessage(predicate, timeoutMs = 5000) {
      return waitUntil(() => received.find(predicate), timeoutMs, 'a Socket Mode message');
    },
  };

  return {
    url: base,
    apiUrl: `${base}/api/`,
    port,
    calls,
    responses,
    uploads,
    downloads,
    socket,
    responseUrl(id = randomUUID()) {
      return `${base}/response/${id}`;
    },
    callsTo(method) {
      return calls.filter((c) => c.method === method);
    },
    on(method, handler) {
      handlers.set(method, handler);
    },
    off(method) {
      handlers.delete(method);
    },
    serveFile(id, file) {
      served.set(id, file);
      return `${base}/files/${id}`;
    },
    waitForCall(method, predicate = () => true, timeoutMs = 5000) {
      return waitUntil(() => calls.find((c) => c.method === method && predicate(c)), timeoutMs, `a ${method} call`);
    },
    waitForResponse(predicate = () => true, timeoutMs = 5000) {
      return waitUntil(() => responses.find(predicate), timeoutMs, 'a response_url post');
    },
    reset() {
      calls.length = 0;
      responses.length = 0;
      uploads.length = 0;
      downloads.length = 0;
      received.length = 0;
    },
    async close() {
      for (const ws of connections) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
