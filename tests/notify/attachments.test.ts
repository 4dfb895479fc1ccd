// Outbound messages with files, over the wire. Slack: the message is posted, then each file goes
// through the external upload flow (getUploadURLExternal, the bytes, completeUploadExternal) into
// the thread of the message; a failed upload never fails (or repeats) the send. Teams: a PNG or
// JPEG is an Image in the card when the whole card still fits the size budget.
import pino from 'pino';
import { CARD_BUDGET_BYTES, renderMessageCard, type CardElement } from '../../src/bot/teams/render';
import { message, type MessageReply, type ReplyAttachment } from '../../src/domain/reply';
import { createSlackDeliveryClient, SlackNotifier } from '../../src/notify/slack';
import { CHANNEL_CONVERSATION, closedPort, notifyRig, scriptedServer, type NotifyRig, type ScriptedServer } from './rig';

let rig: NotifyRig;
let front: ScriptedServer;
let portClosed = 0;

beforeAll(async () => {
  rig = await notifyRig();
  portClosed = await closedPort();
  // Stands in for Slack's upload host when a test needs the upload itself to fail.
  front = await scriptedServer(rig.slack.url);
});
afterAll(async () => {
  await front.close();
  await rig.close();
});
afterEach(() => {
  for (const m of ['chat.postMessage', 'files.getUploadURLExternal', 'files.completeUploadExternal']) rig.slack.off(m);
  rig.slack.reset();
  rig.connector.reset();
  front.script.length = 0;
  front.requests.length = 0;
});

// A real 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PNG_SIGNATURE = PNG.subarray(0, 8);

/** A PNG-typed buffer of `size` bytes (the renderer and Slack look at the type, not the pixels). */
function pngOf(size: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, Buffer.alloc(size - PNG_SIGNATURE.length, 0x5a)]);
}

const CHART: ReplyAttachment = { filename: 'sitrep-4.png', mimeType: 'image/png', content: PNG, title: 'Cases by status', altText: 'Open 12, triaged 5, closed 30.' };
const TABLE = 'Status | Cases\nOpen | 12\nTriaged | 5\nClosed | 30';

function sitrep(attachments: ReplyAttachment[], text = TABLE): MessageReply {
  return message({ title: 'SITREP 4 — NPL-EQ', text, visibility: 'channel', attachments });
}

/** A notifier whose warnings and info lines are kept. */
function loggingNotifier(): { notifier: SlackNotifier; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const client = createSlackDeliveryClient({ token: 'xoxb-notify', apiUrl: rig.slack.apiUrl, logger });
  return { notifier: new SlackNotifier({ client, members: rig.store.members }), lines };
}

const methods = (): string[] => rig.slack.calls.map((c) => c.method);

describe('Slack', () => {
  test('a channel post with a PNG: the message, then the upload flow, sharing the exact bytes under the message', async () => {
    const { notifier, lines } = loggingNotifier();
    const r = await notifier.send({ kind: 'channel', channel: 'slack:C0DUTY' }, sitrep([CHART]));
    expect(methods()).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [posted] = rig.slack.callsTo('chat.postMessage');
    const ts = String(posted?.answer?.ts);
    expect(r).toEqual({ ok: true, providerId: `C0DUTY:${ts}`, copy: { platform: 'slack', conversation: 'C0DUTY', messageId: ts } });

    const [reserve] = rig.slack.callsTo('files.getUploadURLExternal');
    // Form-encoded: Slack's reserve call does not read JSON bodies.
    expect(reserve?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(reserve?.args).toEqual({ filename: 'sitrep-4.png', length: String(PNG.length), alt_txt: 'Open 12, triaged 5, closed 30.' });
    const fileId = String(reserve?.answer?.file_id);
    expect(rig.slack.uploads).toEqual([{ fileId, bytes: PNG.length, content: PNG }]);

    const [complete] = rig.slack.callsTo('files.completeUploadExternal');
    expect(complete?.args).toEqual({ files: [{ id: fileId, title: 'Cases by status' }], channel_id: 'C0DUTY', thread_ts: ts });
    expect(lines.find((l) => l.msg === 'slack: attachments shared under the message')).toMatchObject({ channel: 'C0DUTY', ts, files: [fileId] });
  });

  test('a DM with a file: the file is shared in the D… channel Slack answered, not to the user id', async () => {
    const r = await rig.slackNotifier().send({ kind: 'member', memberId: rig.members.sam.id }, { ...sitrep([CHART]), visibility: 'direct' });
    expect(rig.slack.callsTo('chat.postMessage').map((c) => c.args.channel)).toEqual(['U0SAM']);
    const ts = r.ok ? r.copy?.messageId : undefined;
    expect(r).toMatchObject({ ok: true, copy: { conversation: 'DU0SAM' } });
    expect(rig.slack.callsTo('files.completeUploadExternal')[0]?.args).toMatchObject({ channel_id: 'DU0SAM', thread_ts: ts });
    expect(rig.slack.uploads.map((u) => u.content)).toEqual([PNG]);
  });

  test('several files are uploaded one by one and shared together; a reply in a thread shares them in that thread', async () => {
    const csv: ReplyAttachment = { filename: 'cases.csv', mimeType: 'text/csv', content: Buffer.from('status,cases\nopen,12\n') };
    const r = await rig.slackNotifier().send({ kind: 'channel', channel: 'slack:C0DUTY', thread: '1700000000.000100' }, sitrep([CHART, csv]));
    expect(r.ok).toBe(true);
    const reserves = rig.slack.callsTo('files.getUploadURLExternal');
    expect(reserves.map((c) => c.args)).toEqual([
      { filename: 'sitrep-4.png', length: String(PNG.length), alt_txt: CHART.altText },
      { filename: 'cases.csv', length: String(csv.content.length) },
    ]);
    const ids = reserves.map((c) => String(c.answer?.file_id));
    expect(rig.slack.uploads.map((u) => [u.fileId, u.content.toString('latin1')])).toEqual([
      [ids[0], PNG.toString('latin1')],
      [ids[1], csv.content.toString('latin1')],
    ]);
    const completes = rig.slack.callsTo('files.completeUploadExternal');
    expect(completes).toHaveLength(1);
    // Slack threads are one level deep: under the root, not under the reply.
    expect(completes[0]?.args).toEqual({
      files: [
        { id: ids[0], title: 'Cases by status' },
        { id: ids[1], title: 'cases.csv' },
      ],
      channel_id: 'C0DUTY',
      thread_ts: '1700000000.000100',
    });
  });

  test('an upload that fails: the send is still a success (with a warning), logged, and the message is not posted again', async () => {
    rig.slack.on('files.getUploadURLExternal', () => ({ upload_url: `${front.url}upload/F0BROKEN`, file_id: 'F0BROKEN' }));
    front.script.push({ status: 500, raw: 'upload service unavailable' });
    const { notifier, lines } = loggingNotifier();
    const r = await notifier.send({ kind: 'channel', channel: 'slack:C0DUTY' }, sitrep([CHART]));
    expect(r).toMatchObject({ ok: true, copy: { platform: 'slack', conversation: 'C0DUTY' } });
    expect(r.ok && r.warning).toMatch(/^the message was posted, but an attachment could not be uploaded \(sitrep-4\.png: the upload answered HTTP 500/);
    expect(front.requests.map((q) => [q.method, q.path])).toEqual([['POST', '/upload/F0BROKEN']]);
    expect(methods()).toEqual(['chat.postMessage', 'files.getUploadURLExternal']);
    expect(rig.slack.uploads).toHaveLength(0);
    expect(lines.filter((l) => l.level === 40)).toEqual([expect.objectContaining({ channel: 'C0DUTY', failed: [expect.stringMatching(/^sitrep-4\.png: /)] })]);
  });

  test('an upload host that cannot be reached, a refused reservation, a refused completion: all warnings, never failures', async () => {
    const n = rig.slackNotifier();
    const to = { kind: 'channel' as const, channel: 'slack:C0DUTY' };
    rig.slack.on('files.getUploadURLExternal', () => ({ upload_url: `http://127.0.0.1:${portClosed}/upload/F1`, file_id: 'F1' }));
    const unreachable = await n.send(to, sitrep([CHART]));
    expect(unreachable).toMatchObject({ ok: true, warning: expect.stringMatching(/sitrep-4\.png: the upload failed/) });

    rig.slack.on('files.getUploadURLExternal', () => ({ ok: false, error: 'missing_scope' }));
    expect(await n.send(to, sitrep([CHART]))).toMatchObject({ ok: true, warning: expect.stringMatching(/sitrep-4\.png: Slack error: missing_scope/) });

    rig.slack.off('files.getUploadURLExternal');
    rig.slack.on('files.completeUploadExternal', () => ({ ok: false, error: 'not_in_channel' }));
    expect(await n.send(to, sitrep([CHART]))).toMatchObject({ ok: true, warning: expect.stringMatching(/Cases by status: Slack error: not_in_channel/) });

    expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(3);
    expect(rig.slack.callsTo('files.completeUploadExternal')).toHaveLength(1);
  });

  test('a message that is not posted uploads nothing', async () => {
    rig.slack.on('chat.postMessage', () => ({ ok: false, error: 'channel_not_found' }));
    expect(await rig.slackNotifier().send({ kind: 'channel', channel: 'slack:C0GONE' }, sitrep([CHART]))).toEqual({ ok: false, retryable: false, error: 'Slack error: channel_not_found' });
    expect(methods()).toEqual(['chat.postMessage']);
    expect(rig.slack.uploads).toHaveLength(0);
  });
});

/** The Image elements of a card body. */
const images = (body: CardElement[]): CardElement[] => body.filter((e) => e.type === 'Image');
const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

describe('Teams', () => {
  test('a small PNG is an Image with a data: URI and its alt text, where the attachment line was; the card reaches the connector', async () => {
    const r = await rig.teamsNotifier().send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}` }, sitrep([CHART]));
    expect(r.ok).toBe(true);
    const [post] = rig.connector.calls.filter((c) => c.method === 'POST');
    const card = (post?.body.attachments as { content: { body: CardElement[] } }[])[0]?.content;
    const body = card?.body ?? [];
    expect(images(body)).toEqual([{ type: 'Image', url: `data:image/png;base64,${PNG.toString('base64')}`, altText: 'Open 12, triaged 5, closed 30.', msTeams: { allowExpand: true } }]);
    // The title, the text table (a block a line), then the chart.
    expect(body.map((e) => e.type)).toEqual(['TextBlock', 'TextBlock', 'TextBlock', 'TextBlock', 'TextBlock', 'Image']);
    expect(JSON.stringify(body)).not.toMatch(/📎/);
  });

  test('JPEG too; the alt text falls back to the title, then the file name', () => {
    const jpeg: ReplyAttachment = { filename: 'map.jpg', mimeType: 'image/jpeg', content: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) };
    const { altText: _alt, ...untold } = CHART;
    const card = renderMessageCard(sitrep([jpeg, { ...untold, mimeType: 'IMAGE/PNG' }]));
    expect(images(card.body).map((e) => [String(e.url).slice(0, 23), e.altText])).toEqual([
      ['data:image/jpeg;base64,', 'map.jpg'],
      ['data:image/png;base64,i', 'Cases by status'],
    ]);
  });

  test('an image too large for the card stays a line that says so; the text table is kept whole', () => {
    const big: ReplyAttachment = { ...CHART, content: pngOf(30 * 1024) };
    const card = renderMessageCard(sitrep([big]));
    expect(images(card.body)).toEqual([]);
    expect(card.body.map((e) => e.text)).toEqual(['SITREP 4 — NPL-EQ', ...TABLE.split('\n'), '📎 Cases by status — Open 12, triaged 5, closed 30. (image too large to show in Teams)']);
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
  });

  test('whether an image fits depends on the whole card: the text is never cut to make room for it', () => {
    const chart: ReplyAttachment = { ...CHART, content: pngOf(14 * 1024) };
    const short = renderMessageCard(sitrep([chart]));
    expect(images(short.body)).toHaveLength(1);
    expect(bytes(short)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);

    const longTable = Array.from({ length: 300 }, (_, i) => `Province ${i + 1} | ${i * 3}`).join('\n');
    const long = renderMessageCard(sitrep([chart], longTable));
    expect(images(long.body)).toEqual([]);
    expect(long.body.map((e) => e.text).join('\n')).toContain('Province 300 | 897');
    expect(long.body.at(-1)?.text).toMatch(/\(image too large to show in Teams\)$/);
    expect(bytes(long)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
  });

  test('rows keep their place too, and of two images only those that still fit are shown', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ text: `Case ${i + 1}: passport lost, Kathmandu` }));
    const chart: ReplyAttachment = { ...CHART, content: pngOf(9 * 1024) };
    const card = renderMessageCard({ ...sitrep([chart, { ...chart, filename: 'second.png', title: 'Second' }]), rows });
    expect(card.body.filter((e) => e.type === 'Container')).toHaveLength(40);
    expect(images(card.body)).toHaveLength(1);
    expect(card.body.map((e) => e.text)).toContain('📎 Second — Open 12, triaged 5, closed 30. (image too large to show in Teams)');
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
  });

  test('files that are not images stay text lines, as before', () => {
    const csv: ReplyAttachment = { filename: 'cases.csv', mimeType: 'text/csv', content: Buffer.from('a,b\n'), title: 'Cases (CSV)', altText: '2 cases.' };
    const gif: ReplyAttachment = { filename: 'anim.gif', mimeType: 'image/gif', content: Buffer.from('GIF89a') };
    const card = renderMessageCard(sitrep([csv, gif]));
    expect(images(card.body)).toEqual([]);
    expect(card.body.slice(-2).map((e) => e.text)).toEqual(['📎 Cases (CSV) — 2 cases.', '📎 anim.gif']);
  });
});
