// A file uploaded to the bot's DM with a command as its message ("crisis import NPL-EQ"), end to
// end over HTTP: the signed `message` event (subtype file_share) Slack sends, the download from
// url_private_download with the bot token on a loopback fake of Slack, and the import it starts.
// Also the downloader on its own: size caps, redirects, time limit, and the sign-in page Slack
// answers when the token lacks files:read.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { downloadSlackFile, downloadSlackFiles, SlackFileError } from '../../../src/bot/slack/files';
import { MAX_INVOCATION_FILE_BYTES } from '../../../src/domain/invocation';
import { startServer, type RunningServer } from '../../../src/server';
import { as, msg, testConfig } from '../../helpers/core';
import { tempDir } from '../../helpers/db';
import { startSlackFake, type RecordedCall, type SlackFake } from '../../helpers/slack-fake';

const SECRET = 'test-signing-secret';
const TOKEN = 'xoxb-test';
/** Dana (U8) has the crisis role; her DM with the bot is DIM8. */
const DM = 'DIM8';
let slack: SlackFake;
let server: RunningServer;
let dir: string;

beforeAll(async () => {
  slack = await startSlackFake();
  dir = tempDir();
  const config = testConfig({
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    PORT: '0',
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    BOOTSTRAP_ADMINS: 'slack:T1:U1,console:root',
  });
  server = await startServer(config);
  const root = as(server.core, 'root');
  expect(msg(await root.run('/crisis open name="Nepal" code=NPL-EQ region=Nepal')).ok).toBe(true);
  expect(msg(await root.run('/duty member add handle=dana name="Dana Desk" slack=T1:U8 roles=crisis')).ok).toBe(true);
});

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => slack.reset());

function sign(body: string, timestamp: number): string {
  return `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

let seq = 0;

/** Posts a signed `event_callback` carrying a message event in Dana's DM; resolves with the status. */
async function postMessageEvent(event: Record<string, unknown>): Promise<number> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const payload = {
    token: 'legacy',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: `Ev${crypto.randomUUID()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { type: 'message', channel: DM, channel_type: 'im', user: 'U8', ts, event_ts: ts, ...event },
    authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
  };
  const body = JSON.stringify(payload);
  const now = Math.floor(Date.now() / 1000);
  const res = await fetch(`${server.url}/slack/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Slack-Request-Timestamp': String(now), 'X-Slack-Signature': sign(body, now) },
    body,
  });
  await res.text();
  return res.status;
}

/** A Slack file object as a message event carries it. */
function slackFile(id: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    created: 1767262200,
    name,
    title: name,
    mimetype: 'text/csv',
    filetype: 'csv',
    size: 64,
    mode: 'hosted',
    is_external: false,
    url_private: `${slack.url}/files/${id}`,
    url_private_download: `${slack.url}/files/${id}`,
    ...extra,
  };
}

function fileShare(text: string, files: Record<string, unknown>[]): Record<string, unknown> {
  return { subtype: 'file_share', text, files, upload: true, display_as_bot: false };
}

const said = (c: RecordedCall): string => `${String(c.args.text)} ${JSON.stringify(c.args.blocks ?? '')}`;
const dmPost = (pattern: string): Promise<RecordedCall> => slack.waitForCall('chat.postMessage', (c) => c.args.channel === DM && said(c).includes(pattern), 10_000);

async function runFor(fileName: string) {
  return server.core.store.db.importRun.findFirst({ where: { fileName } });
}

describe('a file uploaded in the bot DM', () => {
  it('is downloaded with the bot token and imported by "crisis import NPL-EQ"', async () => {
    const csv = 'Full name,Passport\r\nSita Sharma,NP1234567\r\nRam Thapa,NP7654321\r\n';
    slack.serveFile('FNEPAL1', { content: csv, contentType: 'text/csv' });
    expect(await postMessageEvent(fileShare('crisis import NPL-EQ', [slackFile('FNEPAL1', 'nepal-list.csv', { size: Buffer.byteLength(csv) })]))).toBe(200);

    await dmPost('Importing nepal-list.csv into NPL-EQ');
    expect(slack.downloads).toEqual([{ id: 'FNEPAL1', token: TOKEN }]);
    const run = await runFor('nepal-list.csv');
    expect(run).not.toBeNull();
    expect(run?.reportTo).toMatch(/^member:/);
    const stored = await server.core.store.db.importFile.findUnique({ where: { runId: run?.id as string } });
    if (stored) {
      expect(server.core.store.cipher.openBytes(stored.content, { table: 'ImportFile', column: 'content', id: run?.id as string }).toString('utf8')).toBe(csv);
    } else {
      // The import job already ran (and dropped the file): the people are in.
      expect(run?.status).toBe('done');
      const crisis = await server.core.store.crises.byCode('NPL-EQ');
      const people = await server.core.store.crises.people(crisis?.id as string);
      expect(people.map((p) => p.fullName)).toEqual(expect.arrayContaining(['Sita Sharma', 'Ram Thapa']));
    }
  });

  it('falls back to url_private and follows a redirect', async () => {
    slack.serveFile('FMOVED', { redirectTo: '/files/FREAL' });
    slack.serveFile('FREAL', { content: 'Full name\r\nMaya Gurung\r\n', contentType: 'text/csv' });
    const file = slackFile('FMOVED', 'moved.csv');
    delete file.url_private_download;
    await postMessageEvent(fileShare('/crisis import NPL-EQ', [file]));
    await dmPost('Importing moved.csv into NPL-EQ');
    expect(slack.downloads).toEqual([
      { id: 'FMOVED', token: TOKEN },
      { id: 'FREAL', token: TOKEN },
    ]);
    expect(await runFor('moved.csv')).not.toBeNull();
  });

  it('refuses a file over the size limit without downloading it', async () => {
    slack.serveFile('FHUGE', { content: 'Full name\r\n' });
    await postMessageEvent(fileShare('crisis import NPL-EQ', [slackFile('FHUGE', 'huge.csv', { size: MAX_INVOCATION_FILE_BYTES + 1 })]));
    const reply = await dmPost('huge.csv is too large');
    expect(said(reply)).toContain('50 MB limit');
    expect(slack.downloads).toHaveLength(0);
    expect(await runFor('huge.csv')).toBeNull();
  });

  it('says the files:read scope is missing when Slack answers with its sign-in page', async () => {
    slack.serveFile('FNOSCOPE', { content: 'Full name\r\n', loginPage: true });
    await postMessageEvent(fileShare('crisis import NPL-EQ', [slackFile('FNOSCOPE', 'noscope.csv')]));
    const reply = await dmPost('the bot cannot read files: add the files:read scope');
    expect(said(reply)).toContain('noscope.csv');
    expect(slack.downloads).toEqual([{ id: 'FNOSCOPE', token: TOKEN }]);
    expect(await runFor('noscope.csv')).toBeNull();
    expect(slack.callsTo('chat.postMessage').filter((c) => said(c).includes('noscope.csv into'))).toHaveLength(0);
  });

  it('tells the member when Slack will not hand the file over, and runs nothing', async () => {
    slack.serveFile('FGONE', { status: 404 });
    await postMessageEvent(fileShare('crisis import NPL-EQ', [slackFile('FGONE', 'gone.csv')]));
    const reply = await dmPost('Could not download gone.csv');
    expect(said(reply)).toContain('404');
    expect(await runFor('gone.csv')).toBeNull();
  });

  it('asks for the files it was not given details of (files.info) before downloading', async () => {
    slack.serveFile('FINFO', { content: 'Full name\r\nHari Rai\r\n', contentType: 'text/csv' });
    slack.on('files.info', (a) => ({ file: slackFile(String(a.file), 'described.csv') }));
    try {
      await postMessageEvent(fileShare('crisis import NPL-EQ', [{ id: 'FINFO', file_access: 'check_file_info' }]));
      await dmPost('Importing described.csv into NPL-EQ');
      expect((await slack.waitForCall('files.info')).token).toBe(TOKEN);
      expect(await runFor('described.csv')).not.toBeNull();
    } finally {
      slack.off('files.info');
    }
  });

  it('answers a file sent without a command with a hint, downloading nothing', async () => {
    slack.serveFile('FBARE', { content: 'Full name\r\n' });
    await postMessageEvent(fileShare('', [slackFile('FBARE', 'bare.csv')]));
    await dmPost('send the file with a command, e.g. crisis import NPL-EQ');
    expect(slack.downloads).toHaveLength(0);
    // Text that is no command gets the same hint.
    slack.reset();
    await postMessageEvent(fileShare('here is the list', [slackFile('FBARE', 'bare.csv')]));
    await dmPost('send the file with a command, e.g. crisis import NPL-EQ');
    expect(slack.downloads).toHaveLength(0);
    expect(await runFor('bare.csv')).toBeNull();
  });

  it('still answers plain DMs, and ignores edits and bot messages', async () => {
    await postMessageEvent({ subtype: 'message_changed', hidden: true, message: { type: 'message', user: 'U8', text: 'crisis import NPL-EQ', ts: '1.1' }, previous_message: { type: 'message', user: 'U8', text: 'x', ts: '1.1' } });
    await postMessageEvent({ subtype: 'bot_message', bot_id: 'BOTHER', text: 'crisis import NPL-EQ', username: 'other' });
    await postMessageEvent({ text: 'hello there' });
    const hint = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === DM);
    expect(said(hint)).toContain('/duty help');
    await new Promise((r) => setTimeout(r, 200));
    // (Import reports from the tests above go to Dana's DM by her user id, not to this channel.)
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === DM)).toHaveLength(1);
  });
});

describe('downloadSlackFile', () => {
  const ref = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `${id}.csv`, url_private_download: `${slack.url}/files/${id}`, ...extra });
  const problem = async (p: Promise<unknown>): Promise<SlackFileError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SlackFileError);
    return err as SlackFileError;
  };

  it('returns the bytes with the name and MIME type', async () => {
    slack.serveFile('DOK', { content: Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0x0a]) });
    const f = await downloadSlackFile(ref('DOK', { mimetype: 'text/csv' }), { token: TOKEN });
    expect(f).toEqual({ name: 'DOK.csv', content: Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0x0a]), mimeType: 'text/csv' });
  });

  it('stops reading once a file outgrows the limit, whatever size it claimed', async () => {
    slack.serveFile('DBIG', { content: Buffer.alloc(64 * 1024, 0x61), chunked: true });
    const err = await problem(downloadSlackFile(ref('DBIG', { size: 10 }), { token: TOKEN, maxBytes: 1000 }));
    expect(err.problem).toBe('too_large');
    slack.serveFile('DBIG2', { content: Buffer.alloc(4000, 0x61) });
    expect((await problem(downloadSlackFile(ref('DBIG2'), { token: TOKEN, maxBytes: 1000 }))).problem).toBe('too_large');
  });

  it('keeps several files together within the limit', async () => {
    slack.serveFile('DA', { content: Buffer.alloc(600, 0x61) });
    slack.serveFile('DB', { content: Buffer.alloc(600, 0x62) });
    const err = await problem(downloadSlackFiles([ref('DA'), ref('DB')], { token: TOKEN, maxBytes: 1000 }));
    expect(err.message).toMatch(/Together the files/);
  });

  it('gives up after the time limit', async () => {
    slack.serveFile('DSLOW', { content: 'late', stallMs: 5000 });
    const started = Date.now();
    const err = await problem(downloadSlackFile(ref('DSLOW'), { token: TOKEN, timeoutMs: 200 }));
    expect(err.problem).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('follows redirects only to http(s), and not forever', async () => {
    slack.serveFile('DFTP', { redirectTo: 'ftp://127.0.0.1/file.csv' });
    expect((await problem(downloadSlackFile(ref('DFTP'), { token: TOKEN }))).problem).toBe('redirect');
    slack.serveFile('DLOOP', { redirectTo: '/files/DLOOP' });
    const loop = await problem(downloadSlackFile(ref('DLOOP'), { token: TOKEN }));
    expect(loop.message).toMatch(/too many redirects/);
  });

  it('never sends the token for a file stored outside Slack', async () => {
    const err = await problem(downloadSlackFile(ref('DEXT', { is_external: true, mode: 'external' }), { token: TOKEN }));
    expect(err.problem).toBe('not_downloadable');
    expect(slack.downloads).toHaveLength(0);
  });
});
