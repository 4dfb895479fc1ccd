// PostgreSQL goes away under a running server, and comes back. The machine's PostgreSQL is shared
// with other tests, so a TCP proxy between the server and it is what goes away: connections
// reset, new ones refused (or, second test, accepted and never answered).
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { DB_UNAVAILABLE, DB_UNAVAILABLE_MESSAGE } from '../../src/handlers/dispatcher';
import { createLogger } from '../../src/logger';
import { message, type Reply } from '../../src/domain/reply';
import { enqueueDelivery } from '../../src/notify/deliver';
import { startServer, type RunningServer } from '../../src/server';
import { isDatabaseUnavailable, pgConnectTimeoutMs } from '../../src/store/availability';
import { admin, cardOf, messageActivity, post, texts, ADMIN_AAD } from '../bot/teams/activities';
import { startBotConnectorFake, type BotConnectorFake } from '../helpers/bot-connector-fake';
import { testConfig } from '../helpers/core';
import { freshPostgres, pgAdminUrl, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const SECRET = 'test-signing-secret';

test('what counts as "the database is unavailable"', () => {
  const prisma = (code: string, kind?: string): Error =>
    Object.assign(new Error('Invalid `prisma.member.findFirst()` invocation'), { code, meta: kind ? { driverAdapterError: { name: 'DriverAdapterError', cause: { kind } } } : {} });
  expect(isDatabaseUnavailable(prisma('P1001', 'DatabaseNotReachable'))).toBe(true);
  expect(isDatabaseUnavailable(prisma('P1017', 'ConnectionClosed'))).toBe(true);
  // A raw query on a connection the server closed: P2010, told apart by the adapter's kind.
  expect(isDatabaseUnavailable(prisma('P2010', 'ConnectionClosed'))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isDatabaseUnavailable(new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }))).toBe(true);
  expect(isDatabaseUnavailable(new Error('timeout expired'))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
  // Faults of the request, not of the database: still "something went wrong" (or their own reply).
  expect(isDatabaseUnavailable(prisma('P2002'))).toBe(false);
  expect(isDatabaseUnavailable(prisma('P2010'))).toBe(false);
  expect(isDatabaseUnavailable(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }))).toBe(false);
  expect(isDatabaseUnavailable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe(false);
  expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
  expect(isDatabaseUnavailable(undefined)).toBe(false);
  // A cause that points back at itself does not loop.
  const loop: Error & { cause?: unknown } = new Error('x');
  loop.cause = loop;
  expect(isDatabaseUnavailable(loop)).toBe(false);
});

test('the wait for a PostgreSQL connection: connect_timeout from the URL (seconds), else 30 s', () => {
  expect(pgConnectTimeoutMs('postgresql://u@h/db')).toBe(30_000);
  expect(pgConnectTimeoutMs('postgresql://u@h/db?connect_timeout=2')).toBe(2_000);
  expect(pgConnectTimeoutMs('postgresql://u@h/db?connect_timeout=0')).toBe(0);
  expect(pgConnectTimeoutMs('postgresql://u@h/db?connect_timeout=soon')).toBe(30_000);
});

(pgAdminUrl ? describe : describe.skip)('the database goes away [postgresql]', () => {
  let db: TestDb;
  let proxy: TcpProxy;
  let slack: SlackFake;
  let connector: BotConnectorFake;
  let server: RunningServer;
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });

  beforeAll(async () => {
    db = await freshPostgres();
    const pg = new URL(pgAdminUrl as string);
    proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    const url = new URL(proxy.rewrite(db.url));
    // A second is plenty on loopback, and keeps the test that stalls short.
    url.searchParams.set('connect_timeout', '1');
    slack = await startSlackFake();
    connector = await startBotConnectorFake();
    const config = testConfig({
      DATABASE_URL: url.toString(),
      PORT: '0',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      TEAMS_ANONYMOUS: '1',
      BOOTSTRAP_ADMINS: `console:root,slack:T1:U1,teams:${ADMIN_AAD}`,
    });
    server = await startServer(config, { logger: createLogger('info', sink), scheduler: { pollMs: 20 } });
  });

  afterAll(async () => {
    await server?.close();
    await connector?.close();
    await slack?.close();
    await proxy?.close();
    await db?.drop();
  });

  const run = (text: string): Promise<Reply> =>
    server.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() });
  const health = async (): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${server.url}/healthz`);
    return { status: r.status, body: await r.json() };
  };
  const unavailable = { kind: 'message', ok: false, text: DB_UNAVAILABLE_MESSAGE, error: { code: DB_UNAVAILABLE, message: DB_UNAVAILABLE_MESSAGE } };

  async function until<T>(find: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function slashCommand(text: string, responseUrl: string): string {
    return new URLSearchParams({
      token: 'legacy', team_id: 'T1', team_domain: 'mission', channel_id: 'C1', channel_name: 'duty', user_id: 'U1', user_name: 'alee',
      command: '/duty', text, api_app_id: 'A1', is_enterprise_install: 'false', response_url: responseUrl, trigger_id: `trigger-${crypto.randomUUID()}`,
    }).toString();
  }

  async function slashOverHttp(text: string): Promise<string> {
    const id = crypto.randomUUID();
    const body = slashCommand(text, slack.responseUrl(id));
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const r = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': signature },
      body,
    });
    expect(r.status).toBe(200);
    return JSON.stringify((await slack.waitForResponse((p) => p.id === id, 15_000)).body);
  }

  async function teamsMessage(text: string): Promise<string> {
    connector.reset();
    const r = await post(`${server.url}/api/messages`, messageActivity(connector.url, admin, text));
    expect(r.status).toBe(200);
    const [call] = await connector.waitFor((c) => c.body.type === 'message');
    return texts(cardOf(call?.body as Record<string, unknown>)).join('\n');
  }

  test('refused: every surface says "temporarily unavailable", /healthz is 503, the scheduler backs off; all recover by themselves', async () => {
    expect(await run('/duty me')).toMatchObject({ ok: true });
    // Due a moment into the outage: it must go once the database is back, with no restart.
    const dueAt = new Date(Date.now() + 1_000);
    await enqueueDelivery(server.core.scheduler, { key: 'db-loss:due-during-outage', to: { kind: 'channel', channel: 'slack:C9' }, reply: message({ text: 'sent after the outage', visibility: 'channel' }), dueAt });
    const before = logs.length;

    await proxy.cut();
    expect(await run('/duty member add handle=bo name="Bo Ray"')).toEqual({ ...unavailable, visibility: 'caller' });
    expect(await slashOverHttp('me')).toContain(DB_UNAVAILABLE_MESSAGE);
    expect(await teamsMessage('duty me')).toContain(DB_UNAVAILABLE_MESSAGE);
    expect(await health()).toEqual({ status: 503, body: { status: 'unavailable', db: 'error', reason: 'the database does not answer' } });
    // Nobody was told "something went wrong".
    expect(logs.slice(before).filter((l) => l.msg === 'unexpected error while handling an interaction')).toEqual([]);

    // The scheduler keeps polling, less and less often, and says why.
    const failures = (): Record<string, unknown>[] => logs.slice(before).filter((l) => String(l.msg).startsWith('claiming due jobs failed'));
    await until(() => (failures().length >= 4 && Date.now() > dueAt.getTime() ? true : undefined), 'the scheduler to fail four claims');
    const seen = failures();
    expect(seen.every((l) => l.msg === 'claiming due jobs failed: the database is unavailable' && l.level === 40)).toBe(true);
    expect(seen.slice(0, 4).map((l) => l.retryInMs)).toEqual([20, 40, 80, 160]);

    expect(slack.callsTo('chat.postMessage')).toEqual([]);
    await proxy.restore();
    expect(await until(async () => ((await health()).status === 200 ? 200 : undefined), '/healthz to answer 200 again')).toBe(200);
    const sent = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C9', 15_000);
    expect(String(sent.args.text)).toContain('sent after the outage');
    expect(await run('/duty member add handle=bo name="Bo Ray"')).toMatchObject({ ok: true });
    expect(await server.core.store.db.member.count({ where: { handle: 'bo' } })).toBe(1);
    expect(await slashOverHttp('me')).not.toContain(DB_UNAVAILABLE_MESSAGE);
    expect(logs.some((l) => l.msg === 'claiming due jobs works again')).toBe(true);
  });

  test('a message sent while the database goes away is recorded once it is back: not taken for lost, not sent again', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    slack.on('chat.postMessage', async (args) => {
      if (args.channel === 'C8') await gate;
      return { channel: args.channel, ts: '1700000000.000100' };
    });
    try {
      await enqueueDelivery(server.core.scheduler, { key: 'db-loss:in-flight', to: { kind: 'channel', channel: 'slack:C8' }, reply: message({ text: 'in flight', visibility: 'channel' }) });
      await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C8', 15_000);
      await proxy.cut();
      release();
      await until(() => (logs.some((l) => String(l.msg).startsWith('cannot record job outcomes: the database is unavailable')) ? true : undefined), 'the outcome to be held');
      await proxy.restore();
      const row = await until(async () => {
        const r = await server.core.store.db.job.findUnique({ where: { idempotencyKey: 'db-loss:in-flight' } }).catch(() => null);
        return r?.status === 'done' ? r : undefined;
      }, 'the outcome to be written');
      expect(row).toMatchObject({ status: 'done', attempts: 1, lastError: null });
      expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C8')).toHaveLength(1);
    } finally {
      release();
      slack.off('chat.postMessage');
    }
  });

  test('stalled (accepts, never answers): the wait is bounded by connect_timeout, and it recovers', async () => {
    await proxy.cut({ mode: 'stall' });
    expect(await run('/duty me')).toEqual({ ...unavailable, visibility: 'caller' });
    expect((await health()).status).toBe(503);
    await proxy.restore();
    expect(await until(async () => ((await health()).status === 200 ? 200 : undefined), '/healthz to answer 200 again')).toBe(200);
    expect(await run('/duty me')).toMatchObject({ ok: true });
  });
});
