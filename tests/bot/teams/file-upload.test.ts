// A file sent to the bot in a Teams 1:1 chat with "crisis import CODE" as its message: downloaded
// from the link Teams gives (served here by the Bot Connector fake) and imported as a durable job.
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import pino from 'pino';
import { createTeams } from '../../../src/bot/teams';
import { downloadFiles, fileOffers, FILE_DOWNLOAD_INFO } from '../../../src/bot/teams/files';
import { parseConfig } from '../../../src/config';
import { MAX_INVOCATION_FILE_BYTES, type Invocation } from '../../../src/domain/invocation';
import { message, type Reply } from '../../../src/domain/reply';
import type { ConversationStore, Dispatcher, Preview } from '../../../src/handlers/ports';
import { startServer, type RunningServer } from '../../../src/server';
import { startBotConnectorFake, type BotConnectorFake, type ConnectorCall } from '../../helpers/bot-connector-fake';
import { as, msg } from '../../helpers/core';
import { botMention, cardOf, messageActivity, post, texts, type Json, type Person, type Where } from './activities';

const CARA: Person = { aad: '00000000-0000-0000-0000-0000000000ca', name: 'Cara Cell' };
const CSV = 'Full name,Passport,City\r\nSita Sharma,NP1234567,Kathmandu\r\nRam Thapa,NP7654321,Pokhara\r\n';

interface Harness {
  server: RunningServer;
  fake: BotConnectorFake;
  api: string;
  dir: string;
}

function fileAttachment(name: string, downloadUrl: string, fileType = 'csv'): Json {
  return { contentType: FILE_DOWNLOAD_INFO, name, content: { downloadUrl, uniqueId: `unique-${name}`, fileType } };
}

function withFiles(h: Harness, text: string, attachments: Json[], where: Where = {}, entities: Json[] = []): Json {
  return { ...messageActivity(h.fake.url, CARA, text, where, entities), attachments };
}

function said(c: ConnectorCall): string {
  return texts(cardOf(c.body as Json)).join('\n');
}

/** The first message the bot sent whose card says `needle`. */
async function reply(h: Harness, needle: string | RegExp): Promise<ConnectorCall> {
  const match = (c: ConnectorCall): boolean => c.body.type === 'message' && (typeof needle === 'string' ? said(c).includes(needle) : needle.test(said(c)));
  const [call] = await h.fake.waitFor(match, 1, 8000);
  return call as ConnectorCall;
}

describe('files sent to the bot in Teams', () => {
  let h: Harness;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-teams-files-'));
    const parsed = parseConfig({ PORT: '0', DATABASE_URL: `file:${path.join(dir, 'x.db')}`, BOOTSTRAP_ADMINS: 'console:root', TEAMS_ANONYMOUS: '1', LOG_LEVEL: 'silent' });
    if (!parsed.ok) throw new Error(parsed.error);
    const server = await startServer(parsed.config, { logger: pino({ level: 'silent' }) });
    const fake = await startBotConnectorFake();
    h = { server, fake, dir, api: `${server.url}/api/messages` };
    const root = as(server.core, 'root');
    expect(msg(await root.run('/crisis open name="Nepal" code=NPL-EQ region=Nepal')).ok).toBe(true);
    expect(msg(await root.run(`/duty member add handle=cara name="Cara Cell" teams=${CARA.aad} roles=crisis`)).ok).toBe(true);
  });
  afterAll(async () => {
    if (!h) return;
    await h.fake.close();
    await h.server.close();
    fs.rmSync(h.dir, { recursive: true, force: true });
  });
  beforeEach(() => h.fake.reset());

  test('"crisis import NPL-EQ" with a CSV in the 1:1 chat: downloaded, imported as a job, acknowledged', async () => {
    const url = h.fake.serveFile('list.csv', CSV, { contentType: 'application/octet-stream' });
    const res = await post(h.api, withFiles(h, 'crisis import NPL-EQ', [fileAttachment('list.csv', url)]));
    expect(res.status).toBe(200);
    const ack = await reply(h, 'Importing list.csv into NPL-EQ');
    expect(ack.conversationId).toBe(`a:personal-${CARA.aad}`);
    expect(h.fake.downloads).toHaveLength(1);

    const run = await h.server.core.store.db.importRun.findFirst({ where: { fileName: 'list.csv' } });
    expect(run).toMatchObject({ format: 'csv' });
    // The durable job runs on the server's scheduler: the whole file arrived.
    const deadline = Date.now() + 8000;
    let done = run;
    while (done?.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      done = await h.server.core.store.db.importRun.findUnique({ where: { id: run?.id as string } });
    }
    expect(done).toMatchObject({ status: 'done', imported: 2 });
  });

  test('other attachments (a card, an inline image) are not files: the message is a plain command', async () => {
    const res = await post(
      h.api,
      withFiles(h, 'duty help', [
        { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } },
        { contentType: 'image/png', contentUrl: `${h.fake.url}v3/attachments/x/views/original`, name: 'photo.png' },
      ]),
    );
    expect(res.status).toBe(200);
    await reply(h, 'Duty Desk help');
    expect(h.fake.downloads).toHaveLength(0);
  });

  test('a file over the size limit, sent without Content-Length, is cut off while reading and refused', async () => {
    // Twice the limit, streamed: the bot must stop reading at the limit, not trust a header.
    const url = h.fake.serveFile('huge.csv', { bytes: MAX_INVOCATION_FILE_BYTES * 2 }, { declareLength: false });
    const before = await h.server.core.store.db.importRun.count();
    await post(h.api, withFiles(h, 'crisis import NPL-EQ', [fileAttachment('huge.csv', url)]));
    const refusal = await reply(h, 'huge.csv is larger than 50 MB');
    expect(refusal.conversationId).toBe(`a:personal-${CARA.aad}`);
    expect(h.fake.bytesServed()).toBeLessThan(MAX_INVOCATION_FILE_BYTES * 1.5);
    expect(await h.server.core.store.db.importRun.count()).toBe(before);
  }, 30_000);

  test('a download that fails is answered, and nothing is imported', async () => {
    const url = h.fake.serveFile('gone.csv', CSV, { status: 404 });
    const before = await h.server.core.store.db.importRun.count();
    await post(h.api, withFiles(h, 'crisis import NPL-EQ', [fileAttachment('gone.csv', url)]));
    expect(said(await reply(h, 'Could not download gone.csv'))).toContain('HTTP 404');
    expect(await h.server.core.store.db.importRun.count()).toBe(before);
  });

  test('a file in a channel: told to use the 1:1 chat, nothing downloaded', async () => {
    const url = h.fake.serveFile('list.csv', CSV);
    const channel: Where = { conversationId: '19:crisis@thread.tacv2', conversationType: 'channel' };
    const before = await h.server.core.store.db.importRun.count();
    await post(h.api, withFiles(h, '<at>Duty Desk</at> crisis import NPL-EQ', [fileAttachment('list.csv', url)], channel, [botMention()]));
    const answer = await reply(h, '1:1 chat');
    expect(answer.channel).toBe('19:crisis@thread.tacv2');
    expect(h.fake.downloads).toHaveLength(0);
    expect(await h.server.core.store.db.importRun.count()).toBe(before);
  });

  test('a file with no command: a hint, nothing downloaded', async () => {
    const url = h.fake.serveFile('list.csv', CSV);
    await post(h.api, withFiles(h, '', [fileAttachment('list.csv', url)]));
    expect(said(await reply(h, 'no command'))).toContain('crisis import NPL-EQ');
    expect(h.fake.downloads).toHaveLength(0);
  });
});

describe('downloading Teams files', () => {
  let fake: BotConnectorFake;
  beforeAll(async () => {
    fake = await startBotConnectorFake();
  });
  afterAll(() => fake.close());

  test('only download.info attachments are offers; names lose directories', () => {
    const offers = fileOffers({
      attachments: [
        { contentType: FILE_DOWNLOAD_INFO, name: '../../etc/list.csv', content: { downloadUrl: 'https://x.example/d', fileType: 'csv' } },
        { contentType: 'text/html', content: '<p>hi</p>' },
        { contentType: 'image/jpeg', contentUrl: 'https://x.example/img' },
      ],
    });
    expect(offers).toEqual([{ name: 'list.csv', downloadUrl: 'https://x.example/d', fileType: 'csv' }]);
  });

  test('content, name and type come through; a CSV is text/csv', async () => {
    const url = fake.serveFile('list.csv', CSV);
    const r = await downloadFiles([{ name: 'list.csv', downloadUrl: url, fileType: 'csv' }], { allowHttp: true });
    expect(r).toEqual({ ok: true, files: [{ name: 'list.csv', content: Buffer.from(CSV), mimeType: 'text/csv' }] });
  });

  test('plain http only when allowed; other schemes never', async () => {
    const url = fake.serveFile('list.csv', CSV);
    expect(await downloadFiles([{ name: 'list.csv', downloadUrl: url }])).toMatchObject({ ok: false, reason: 'bad_url' });
    expect(await downloadFiles([{ name: 'x', downloadUrl: 'file:///etc/passwd' }], { allowHttp: true })).toMatchObject({ ok: false, reason: 'bad_url' });
    expect(await downloadFiles([{ name: 'x', downloadUrl: 'not a url' }], { allowHttp: true })).toMatchObject({ ok: false, reason: 'bad_url' });
  });

  test('a declared length over the limit is refused before reading; the limit covers the files together', async () => {
    const big = fake.serveFile('big.csv', { bytes: 2000 });
    expect(await downloadFiles([{ name: 'big.csv', downloadUrl: big }], { allowHttp: true, maxBytes: 1000 })).toMatchObject({ ok: false, reason: 'too_large' });
    const a = fake.serveFile('a.csv', { bytes: 600 });
    const b = fake.serveFile('b.csv', { bytes: 600 });
    const both = await downloadFiles(
      [
        { name: 'a.csv', downloadUrl: a },
        { name: 'b.csv', downloadUrl: b },
      ],
      { allowHttp: true, maxBytes: 1000 },
    );
    expect(both).toMatchObject({ ok: false, reason: 'too_large', message: expect.stringContaining('together') });
  });

  test('a download that takes too long times out', async () => {
    const slow: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const r = await downloadFiles([{ name: 'slow.csv', downloadUrl: 'https://files.example/slow.csv' }], { timeoutMs: 50, fetch: slow });
    expect(r).toMatchObject({ ok: false, reason: 'timeout', message: expect.stringContaining('slow.csv') });
  });
});

describe('files with a scripted core', () => {
  class Recorder implements Dispatcher {
    seen: Invocation[] = [];
    async dispatch(inv: Invocation): Promise<Reply> {
      this.seen.push(inv);
      const files = inv.files?.map((f) => `${f.name}:${f.content.length}`).join(',') ?? 'none';
      return message({ title: `got ${files}` });
    }
    preview(text: string): Preview {
      return { ...(/^\/crisis import\b/.test(text) ? { command: 'crisis import' } : {}), mayOpenForm: false };
    }
  }
  const conversations: ConversationStore = { remember: async () => undefined, recall: async () => undefined };
  let fake: BotConnectorFake;
  let server: http.Server;
  let api: string;
  const dispatcher = new Recorder();

  beforeAll(async () => {
    const parsed = parseConfig({ TEAMS_ANONYMOUS: '1', LOG_LEVEL: 'silent' });
    if (!parsed.ok) throw new Error(parsed.error);
    const teams = createTeams({ config: parsed.config, dispatcher, conversations, logger: pino({ level: 'silent' }), messageDeadlineMs: 200 });
    const app = express();
    app.post('/api/messages', (req, res) => {
      void teams.handle(req, res);
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`;
    fake = await startBotConnectorFake();
  });
  afterAll(async () => {
    await fake.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  test('the invocation carries the command and the file; a slow download answers later in the chat', async () => {
    const url = fake.serveFile('list.csv', CSV, { delayMs: 600 });
    const started = Date.now();
    const res = await post(api, { ...messageActivity(fake.url, CARA, 'crisis import NPL-EQ'), attachments: [fileAttachment('list.csv', url)] });
    expect(res.status).toBe(200);
    // The turn ended at the message deadline, before the download finished.
    expect(Date.now() - started).toBeLessThan(550);
    const [late] = await fake.waitFor((c) => c.body.type === 'message', 1, 5000);
    expect(late?.conversationId).toBe(`a:personal-${CARA.aad}`);
    expect(texts(cardOf(late?.body as Json))).toContain(`got list.csv:${Buffer.byteLength(CSV)}`);
    expect(dispatcher.seen.at(-1)).toMatchObject({
      kind: 'command',
      text: '/crisis import NPL-EQ',
      caller: { platform: 'teams', externalId: CARA.aad },
      files: [{ name: 'list.csv', mimeType: 'text/csv', content: Buffer.from(CSV) }],
    });
  });

  test('an unknown command with a file is explained without downloading anything', async () => {
    fake.reset();
    const url = fake.serveFile('list.csv', CSV);
    await post(api, { ...messageActivity(fake.url, CARA, 'frobnicate'), attachments: [fileAttachment('list.csv', url)] });
    const [answer] = await fake.waitFor((c) => c.body.type === 'message');
    expect(texts(cardOf(answer?.body as Json))).toContain('got none');
    expect(fake.downloads).toHaveLength(0);
  });
});
