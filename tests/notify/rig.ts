// The notifiers over the real wire: a migrated store with a few members, the Slack fake, the Bot
// Connector fake behind a real Teams adapter, and small loopback servers that answer with the
// HTTP errors the fakes cannot produce (429 with Retry-After, 5xx).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTeams, type TeamsRuntime } from '../../src/bot/teams';
import { parseConfig } from '../../src/config';
import type { Member } from '../../src/domain/member';
import { message, type MessageReply } from '../../src/domain/reply';
import { createSlackDeliveryClient, SlackNotifier } from '../../src/notify/slack';
import { TeamsNotifier } from '../../src/notify/teams';
import type { Store } from '../../src/store/store';
import { systemMeta } from '../../src/store/store';
import { startBotConnectorFake, type BotConnectorFake } from '../helpers/bot-connector-fake';
import { freshSqlite, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { migratedStore, quiet } from '../jobs/rig';

export const ALEE_AAD = '0000aaaa-1111-2222-3333-444444444444';
export const BO_AAD = '0000bbbb-1111-2222-3333-444444444444';
export const DAN_AAD = '0000dddd-1111-2222-3333-444444444444';
export const CHANNEL_CONVERSATION = '19:duty-ops@thread.tacv2';

export const REPLY: MessageReply = message({
  title: 'Handoff',
  text: 'You are on duty from 18:00.',
  fields: [{ label: 'Roster', value: 'Consular' }],
  buttons: [{ label: 'Acknowledge', command: '/duty ack 42', style: 'primary' }],
  visibility: 'direct',
});

/**
 * A scripted answer: a status with headers and a body (JSON, or `raw` text as it is), or
 * `hang` (no answer at all), or `cut` (a 200 whose body stops half-way: the connection drops).
 */
export type ScriptedAnswer = { status: number; headers?: Record<string, string>; body?: unknown; raw?: string } | { hang: true } | { cut: true };

/** A stand-in service answering scripted statuses, then (if it has one) passing on to `target`. */
export interface ScriptedServer {
  url: string;
  /** Requests received: path, raw body and headers. */
  requests: { path: string; body: string; method?: string; headers?: http.IncomingHttpHeaders }[];
  /** The next answers, in order; when empty, requests go to the target (or get 200 {}). */
  script: ScriptedAnswer[];
  close(): Promise<void>;
}

export async function scriptedServer(target?: string): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  const script: ScriptedServer['script'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ path: req.url ?? '/', body: body.toString('utf8'), ...(req.method ? { method: req.method } : {}), headers: req.headers });
      const next = script.shift();
      if (next && 'hang' in next) return;
      if (next && 'cut' in next) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"ok":true,"chan');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (next || !target) {
        res.writeHead(next?.status ?? 200, { 'content-type': 'application/json', ...(next?.headers ?? {}) });
        res.end(next?.raw ?? JSON.stringify(next?.body ?? {}));
        return;
      }
      const upstream = new URL(req.url ?? '/', target);
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      const forward = http.request(upstream, { method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function teamsReference(serviceUrl: string, conversationId: string, aad?: string): Record<string, unknown> {
  return {
    activityId: 'act-0',
    user: { id: '29:user', name: 'User', ...(aad ? { aadObjectId: aad } : {}) },
    bot: { id: '28:duty-desk-bot', name: 'Duty Desk' },
    conversation: { id: conversationId, conversationType: aad ? 'personal' : 'channel', tenantId: 'tenant-1', isGroup: !aad, name: '' },
    channelId: 'msteams',
    locale: 'en-GB',
    serviceUrl,
  };
}

export interface NotifyRig {
  db: TestDb;
  store: Store;
  slack: SlackFake;
  connector: BotConnectorFake;
  teams: TeamsRuntime;
  /** Members by handle: alee (Slack and Teams), bo (Teams), cy (no chat account), dan (Teams, never spoke to the bot), sam (Slack). */
  members: Record<'alee' | 'bo' | 'cy' | 'dan' | 'sam', Member>;
  /** A SlackNotifier (with its own client) against `apiUrl`, default the fake. */
  slackNotifier(apiUrl?: string, timeoutMs?: number): SlackNotifier;
  teamsNotifier(): TeamsNotifier;
  close(): Promise<void>;
}

export async function notifyRig(): Promise<NotifyRig> {
  const { db, store } = await migratedStore(freshSqlite);
  const slack = await startSlackFake();
  const connector = await startBotConnectorFake();
  const parsed = parseConfig({ TEAMS_ANONYMOUS: '1', LOG_LEVEL: 'silent' });
  if (!parsed.ok) throw new Error(parsed.error);
  const teams = createTeams({
    config: parsed.config,
    logger: quiet,
    conversations: store.conversations,
    dispatcher: { dispatch: async () => message({ text: 'unused' }), preview: () => ({ mayOpenForm: false }) },
  });

  const members = await store.change(systemMeta('notify-test'), async (w) => ({
    alee: await store.members.create(w, { handle: 'alee', displayName: 'Ana Lee', identities: [{ platform: 'slack', externalId: 'T1:U0ALEE' }, { platform: 'teams', externalId: ALEE_AAD }] }, null),
    bo: await store.members.create(w, { handle: 'bo', displayName: 'Bo', identities: [{ platform: 'teams', externalId: BO_AAD }] }, null),
    cy: await store.members.create(w, { handle: 'cy', displayName: 'Cy', identities: [{ platform: 'console', externalId: 'cy' }] }, null),
    dan: await store.members.create(w, { handle: 'dan', displayName: 'Dan', identities: [{ platform: 'teams', externalId: DAN_AAD }] }, null),
    sam: await store.members.create(w, { handle: 'sam', displayName: 'Sam', identities: [{ platform: 'slack', externalId: 'T1:U0SAM' }] }, null),
  }));
  // What the Teams adapter would have stored when alee and bo opened their 1:1 chats, and when
  // the bot was used in the duty channel.
  await store.conversations.remember('teams', `member:${ALEE_AAD}`, teamsReference(connector.url, 'a:1on1-alee', ALEE_AAD));
  await store.conversations.remember('teams', `member:${BO_AAD}`, teamsReference(connector.url, 'a:1on1-bo', BO_AAD));
  await store.conversations.remember('teams', `conversation:${CHANNEL_CONVERSATION}`, teamsReference(connector.url, CHANNEL_CONVERSATION));

  return {
    db,
    store,
    slack,
    connector,
    teams,
    members,
    slackNotifier: (apiUrl = slack.apiUrl, timeoutMs?: number) =>
      new SlackNotifier({
        client: createSlackDeliveryClient({ token: 'xoxb-notify', apiUrl, logger: quiet, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }),
        members: store.members,
      }),
    teamsNotifier: () => new TeamsNotifier({ adapter: teams.adapter, botAppId: '', members: store.members, conversations: store.conversations }),
    async close() {
      await slack.close();
      await connector.close();
      await store.close();
      await db.drop();
    },
  };
}
