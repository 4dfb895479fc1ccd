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
  reset(): void;
  close(): Promise<void>;
}

const ROUTE = /^\/v3\/conversations(?:\/([^/]+)(?:\/activities(?:\/([^/]+))?)?)?\/?$/;

export async function startBotConnectorFake(): Promise<BotConnectorFake> {
  const calls: ConnectorCall[] = [];
  const waiters: Array<() => void> = [];
  let n = 0;

  const server = http.createServer((req, res) => {
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
    reset() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
