// Hostile activities at /api/messages, end to end: the real server with Teams credentials, whose
// token signing keys come from a loopback OpenID endpoint with keys generated here. Each hostile
// activity is refused with its status code before any turn runs (nothing written, nothing sent),
// and logged once at warn with its reason, never with the body or the token.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { startServer, type RunningServer } from '../../../src/server';
import { startBotConnectorFake, type BotConnectorFake } from '../../helpers/bot-connector-fake';
import { actionActivity, admin, messageActivity, post, texts, ADMIN_AAD, TENANT, type CardNode, type Json } from './activities';
import { mintToken, newSigningKey, startOpenIdFake, type OpenIdFake, type TokenClaims } from './openid-fake';

const APP_ID = '22222222-3333-4444-5555-666666666666';
const MARKER = 'Zed Markerson-4417';

let openid: OpenIdFake;
let connector: BotConnectorFake;
let server: RunningServer;
let dir: string;
let api: string;
const logLines: Record<string, unknown>[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  openid = await startOpenIdFake();
  connector = await startBotConnectorFake();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-teams-hostile-'));
  const parsed = parseConfig({
    PORT: '0',
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    BOOTSTRAP_ADMINS: `teams:${ADMIN_AAD}`,
    TEAMS_APP_ID: APP_ID,
    TEAMS_APP_PASSWORD: 'not-a-real-secret',
    TEAMS_TENANT_ID: TENANT,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  server = await startServer(parsed.config, { logger: createLogger('warn', logSink), teamsOpenIdMetadataUrl: openid.metadataUrl });
  api = `${server.url}/api/messages`;
});

afterAll(async () => {
  await server?.close();
  await connector?.close();
  await openid?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  connector.reset();
  logLines.length = 0;
});

/** botbuilder prints some refusals (a bad signature, an expired token) on the console itself. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

function claims(extra: Partial<TokenClaims> = {}): TokenClaims {
  return { aud: APP_ID, serviceurl: connector.url, ...extra };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** An admin asking to make Mallory an admin: harmful if it ran, and it carries personal data. */
function hostileMessage(where: { tenant?: string } = {}): Json {
  return messageActivity(connector.url, admin, `duty member add handle=mallory name="${MARKER}" roles=admin`, where);
}

/** What a turn would change: every accepted activity stores its conversation reference first. */
async function footprint(): Promise<{ audit: number; members: number; conversations: number }> {
  const db = server.core.store.db;
  return { audit: await db.auditEntry.count(), members: await db.member.count(), conversations: await db.conversationRef.count() };
}

function rejections(): Record<string, unknown>[] {
  return logLines.filter((l) => l.msg === 'rejected a Teams activity');
}

function expectLoggedOnceEach(count: number, secrets: string[] = []): void {
  const lines = rejections();
  expect(lines).toHaveLength(count);
  for (const l of lines) expect(l.level).toBe(40); // warn
  const all = JSON.stringify(logLines);
  expect(all).not.toContain(MARKER);
  for (const s of secrets) expect(all).not.toContain(s);
}

describe('Teams /api/messages: hostile activities are refused before any turn runs', () => {
  test('no Authorization header, or one that is not a Bot Framework JWT: 401', async () => {
    const before = await footprint();
    const [head, body] = mintToken(openid.key, claims()).split('.');
    await quietly(async () => {
      expect((await post(api, hostileMessage())).status).toBe(401);
      expect((await post(api, hostileMessage(), { authorization: 'Bearer not-a-jwt' })).status).toBe(401);
      expect((await post(api, hostileMessage(), { authorization: 'Basic YWRtaW46YWRtaW4=' })).status).toBe(401);
      // A well-formed JWT that was never signed.
      expect((await post(api, hostileMessage(), bearer(`${head}.${body}.`))).status).toBe(401);
    });
    expectLoggedOnceEach(4, ['YWRtaW46YWRtaW4=']);
    expect(rejections().map((l) => l.reason)).toEqual([
      'no Authorization header',
      expect.stringMatching(/^the token was refused/),
      expect.stringMatching(/^the token was refused/),
      expect.stringMatching(/^the token was refused/),
    ]);
    expect(connector.calls).toHaveLength(0);
    expect(await footprint()).toEqual(before);
  });

  test('a JWT signed by a key the Bot Framework does not publish: 401, whether its key id is unknown or borrowed', async () => {
    const before = await footprint();
    const stranger = newSigningKey();
    const unknownKid = mintToken(stranger, claims());
    // The published key's id on a token signed with another private key: botbuilder alone answers 500.
    const borrowedKid = mintToken({ ...stranger, kid: openid.key.kid }, claims());
    await quietly(async () => {
      expect((await post(api, hostileMessage(), bearer(unknownKid))).status).toBe(401);
      expect((await post(api, hostileMessage(), bearer(borrowedKid))).status).toBe(401);
    });
    expectLoggedOnceEach(2, [unknownKid, borrowedKid]);
    expect(rejections().map((l) => l.reason)).toEqual([expect.stringMatching(/Signing Key could not be retrieved/), expect.stringMatching(/invalid signature/)]);
    expect(connector.calls).toHaveLength(0);
    expect(await footprint()).toEqual(before);
  });

  test('a genuinely signed JWT that is expired, for another bot, from another issuer or for another service URL: 401', async () => {
    const before = await footprint();
    const tokens = [
      mintToken(openid.key, claims({ expiresIn: -3600 })),
      mintToken(openid.key, claims({ aud: '99999999-0000-0000-0000-000000000000' })),
      mintToken(openid.key, claims({ iss: 'https://attacker.example' })),
      // Replies would go where the token does not vouch for.
      mintToken(openid.key, claims({ serviceurl: 'https://smba.trafficmanager.net/emea/' })),
    ];
    await quietly(async () => {
      for (const t of tokens) expect((await post(api, hostileMessage(), bearer(t))).status).toBe(401);
    });
    expectLoggedOnceEach(4, tokens);
    expect(connector.calls).toHaveLength(0);
    expect(await footprint()).toEqual(before);
  });

  test('a valid token on an activity from another tenant, or from none: 403', async () => {
    const before = await footprint();
    const token = mintToken(openid.key, claims());
    expect((await post(api, hostileMessage({ tenant: '99999999-9999-9999-9999-999999999999' }), bearer(token))).status).toBe(403);
    const noTenant = hostileMessage();
    delete (noTenant.conversation as Json).tenantId;
    delete noTenant.channelData;
    expect((await post(api, noTenant, bearer(token))).status).toBe(403);
    expectLoggedOnceEach(2, [token]);
    expect(rejections().map((l) => l.tenant)).toEqual(['99999999-9999-9999-9999-999999999999', null]);
    expect(connector.calls).toHaveLength(0);
    expect(await footprint()).toEqual(before);
  });

  test('a body over 1 MB: 413 before it is parsed or its token looked at', async () => {
    const before = await footprint();
    const huge = { ...hostileMessage(), text: 'a'.repeat(1024 * 1024) };
    expect((await post(api, huge)).status).toBe(413);
    // Chunked, no length declared: refused once the limit is passed.
    const bytes = Buffer.from(JSON.stringify(huge));
    const chunks = [bytes.subarray(0, 600 * 1024), bytes.subarray(600 * 1024)];
    const res = await fetch(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(res.status).toBe(413);
    await res.text();
    expectLoggedOnceEach(2);
    expect(rejections().map((l) => l.status)).toEqual([413, 413]);
    expect(await footprint()).toEqual(before);
  });

  // Last: it is the one that changes something, which shows the footprint above would have seen a turn.
  test('the same activity with a valid token from the configured tenant is accepted (the keys above are the real test)', async () => {
    const before = await footprint();
    const token = mintToken(openid.key, claims());
    // An invoke answers in the HTTP response, so nothing needs a token of our own for the Bot Connector.
    const r = await post(api, actionActivity(connector.url, admin, 'duty.command', { command: '/duty help' }), bearer(token));
    expect(r.status).toBe(200);
    const card = (r.body as { value: CardNode }).value;
    expect(texts(card).join('\n')).toContain('/duty');
    expect(rejections()).toHaveLength(0);
    expect((await footprint()).conversations).toBe(before.conversations + 1);
  });
});

describe('Teams without credentials (TEAMS_ANONYMOUS)', () => {
  test('listens on loopback only, so no other host reaches it', async () => {
    const anonDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-teams-anon-'));
    const parsed = parseConfig({ PORT: '0', DATABASE_URL: `file:${path.join(anonDir, 'x.db')}`, TEAMS_ANONYMOUS: '1', LOG_LEVEL: 'silent' });
    if (!parsed.ok) throw new Error(parsed.error);
    const anon = await startServer(parsed.config);
    try {
      const reach = (host: string): Promise<'connected' | string> =>
        new Promise((resolve) => {
          const socket = net.connect({ host, port: anon.port }, () => {
            socket.destroy();
            resolve('connected');
          });
          socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        });
      expect(await reach('127.0.0.1')).toBe('connected');
      // Every address of this machine other than loopback is closed to it.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((i): i is os.NetworkInterfaceInfo => i !== undefined && !i.internal && i.family === 'IPv4')
        .map((i) => i.address);
      for (const address of external) expect(await reach(address)).toBe('ECONNREFUSED');
    } finally {
      await anon.close();
      fs.rmSync(anonDir, { recursive: true, force: true });
    }
  });
});
