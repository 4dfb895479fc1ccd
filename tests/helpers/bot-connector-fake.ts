// A stand-in for the Bot Connector service on loopback: records every REST call the bot makes
// (replies, new activities, updates, new conversations, thread replies) and answers like the
// real service.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  method: string;
  /** Decoded path, e.g. "/v3/conversations/a:1/activities/act-1". */
  path: string;
  /** Decoded conversation id, when the path names one. */
  conversationId?: string;
  /** The activity replied to or updated, when the path names one. */
  activityId?: string;
  /** The conversation without a thread suffix ("19:x@thread.tacv2" of "19:x@thread.tacv2;messageid=1"). */
  channel?: string;
  /** The root activity of the thread posted in, from a ";messageid=<root>" conversation id. */
  thread?: string;
  authorization?: string;
  // Activities are free-form JSON; tests read what they need.
  body: Record<string, unknown>;
}

export interface BotConnectorFake {
  /** Base URL to use as an activity's `serviceUrl`. */
  url: string;
  calls: ConnectorCall[];
  /** Calls that sent a message (not typing indicators). */
  messages(): ConnectorCall[];
  /** Activity updates: PUT /v3/conversations/:id/activities/:activityId. */
  updates(): ConnectorCall[];
  /** Resolves once `count` calls matching `filter` were recorded, or rejects after `timeoutMs`. */
  waitFor(filter: (c: ConnectorCall) => boolean, count?: number, timeoutMs?: number): Promise<ConnectorCall[]>;
  /**
   * Serves a file for download (what Teams' pre-authenticated `downloadUrl` points at) and returns
   * its URL. `{ bytes }` streams that many bytes without holding them; `declareLength: false` leaves
   * out Content-Length (chunked), `status` answers with an error instead, `delayMs` answers late.
   */
  serveFile(name: string, content: Buffer | string | { bytes: number }, options?: ServeFileOptions): string;
  /** Paths of the file downloads served (kept apart from `calls`). */
  downloads: string[];
  /** Bytes written for file downloads, all downloads together (a download cut short stops counting). */
  bytesServed(): number;
  reset(): void;
  close(): Promise<void>;
}

export interface ServeFileOptions {
  status?: number;
  contentType?: string;
  declareLength?: boolean;
  /** Waits this long before answering (a slow download). */
  delayMs?: number;
}

interface ServedFile {
  content: Buffer | { bytes: number };
  options: ServeFileOptions;
}

const FILE_ROUTE = /^\/files\/([^/]+)\/[^/]+$/;
const FILE_CHUNK = 64 * 1024;

const ROUTE = /^\/v3\/conversations(?:\/([^/]+)(?:\/activities(?:\/([^/]+))?)?)?\/?$/;

export async function startBotConnectorFake(): Promise<BotConnectorFake> {
  const calls: ConnectorCall[] = [];
  const waiters: Array<() => void> = [];
  let n = 0;
  const files = new Map<string, ServedFile>();
  const downloads: string[] = [];
  let served = 0;

  function sendFile(file: ServedFile, res: http.ServerResponse): void {
    const { content, options } = file;
    if (res.destroyed) return;
    res.statusCode = options.status ?? 200;
    if (res.statusCode >= 400) {
      res.end('no such file');
      return;
    }
    res.setHeader('content-type', options.contentType ?? 'application/octet-stream');
    const length = Buffer.isBuffer(content) ? content.length : content.bytes;
    if (options.declareLength !== false) res.setHeader('content-length', String(length));
    if (Buffer.isBuffer(content)) {
      served += content.length;
      res.end(content);
      return;
    }
    // Generated as the client reads, so a big file costs no memory and a client that gives up stops it.
    let left = length;
    let gone = false;
    res.on('close', () => (gone = true));
    const chunk = Buffer.alloc(FILE_CHUNK, 0x61);
    const pump = (): void => {
      while (left > 0 && !gone) {
        const size = Math.min(left, FILE_CHUNK);
        left -= size;
        served += size;
        if (!res.write(size === FILE_CHUNK ? chunk : chunk.subarray(0, size))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!gone) res.end();
    };
    pump();
  }

  const server = http.createServer((req, res) => {
    const fileMatch = req.method === 'GET' ? FILE_ROUTE.exec(new URL(req.url ?? '/', 'http://fake').pathname) : null;
    const file = fileMatch ? files.get(fileMatch[1] as string) : undefined;
    if (file) {
      downloads.push(decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname));
      req.resume();
      if (file.options.delayMs) setTimeout(() => sendFile(file, res), file.options.delayMs);
      else sendFile(file, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        const parsed: unknown = raw ? JSON.parse(raw) : {};
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        body = { unparsed: raw };
      }
      const m = ROUTE.exec(url.pathname);
      const conversationId = m?.[1] ? decodeURIComponent(m[1]) : undefined;
      const thread = conversationId ? /^(.*);messageid=(.+)$/.exec(conversationId) : null;
      const call: ConnectorCall = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        ...(conversationId ? { conversationId, channel: thread ? (thread[1] as string) : conversationId } : {}),
        ...(thread ? { thread: thread[2] as string } : {}),
        ...(m?.[2] ? { activityId: decodeURIComponent(m[2]) } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      };
      calls.push(call);
      for (const w of waiters.splice(0)) w();
      res.setHeader('content-type', 'application/json');
      if (!m) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'NotFound', message: `no route ${url.pathname}` } }));
        return;
      }
      n += 1;
      // An update keeps its activity id; POST /v3/conversations creates a conversation;
      // everything else is a new activity.
      if (req.method === 'PUT' && call.activityId) res.end(JSON.stringify({ id: call.activityId }));
      else res.end(JSON.stringify(m[1] ? { id: `fake-activity-${n}` } : { id: `fake-conversation-${n}`, activityId: `fake-activity-${n}` }));
    });
  });
  // Idle connections kept for minutes, like the real service, not Node's 5 s: botbuilder's agent
  // never drops an idle connection itself, and with 5 s a burst paced 1 s apart keeps reusing
  // sockets just as the server closes them (ECONNRESET after writing: "may not have arrived", not
  // resent). In production that race needs a connection idle for minutes, and ends the same way.
  server.keepAliveTimeout = 240_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    calls,
    messages: () => calls.filter((c) => c.body.type === 'message'),
    updates: () => calls.filter((c) => c.method === 'PUT' && c.activityId !== undefined),
    waitFor(filter, count = 1, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => {
          reject(new Error(`waited ${timeoutMs} ms for ${count} connector call(s); saw ${calls.filter(filter).length} of ${calls.length}`));
        }, timeoutMs);
        const check = (): void => {
          const found = calls.filter(filter);
          if (found.length >= count) {
            clearTimeout(deadline);
            resolve(found);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    serveFile(name, content, options = {}) {
      const id = `f${files.size + 1}-${Math.random().toString(36).slice(2, 10)}`;
      files.set(id, { content: typeof content === 'string' ? Buffer.from(content, 'utf8') : content, options });
      return `http://127.0.0.1:${port}/files/${id}/${encodeURIComponent(name)}?tempauth=fake`;
    },
    downloads,
    bytesServed: () => served,
    reset() {
      calls.length = 0;
      downloads.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
