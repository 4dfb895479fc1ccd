// SITREPs over the real server, the Slack loopback fake and a controlled clock: drafting from
// live figures, publishing once to the leadership channel and subscribed leaders (chart uploaded,
// no personal data), history/show/export, the cadence with its review and late policy, restarts,
// and bad input that publishes nothing.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { MessageReply, ReplyButton } from '../../src/domain/reply';
import { startServer, type RunningServer } from '../../src/server';
import { as, manualClock, msg, testConfig, textOf } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type RecordedCall, type SlackFake } from '../helpers/slack-fake';

const SECRET_NAME = 'Zebulon Quartermaine';
const CASE_NAME = 'Xanthe Moonbeam';

describe('SITREPs [server, sqlite]', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const cara = () => as(server.core, 'T1:U5', 'slack');
  const lena = () => as(server.core, 'T1:U6', 'slack');
  const olly = () => as(server.core, 'T1:U7', 'slack');
  const root = () => as(server.core, 'root');

  async function start(): Promise<void> {
    server = await startServer(
      testConfig({ DATABASE_URL: `file:${path.join(dir, 's.db')}`, PORT: '0', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: slack.apiUrl, BOOTSTRAP_ADMINS: 'console:root', MISSION_TIMEZONE: 'Asia/Kathmandu' }),
      { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now },
    );
  }

  /** Moves the clock and runs what is due, including the jobs those jobs enqueue. */
  async function at(iso: string): Promise<void> {
    clock.set(iso);
    for (let i = 0; i < 6; i++) await server.core.scheduler.runDue();
  }

  function button(r: MessageReply, label: string): ReplyButton {
    const b = r.buttons?.find((x) => x.label === label);
    if (!b) throw new Error(`no ${label} button in ${JSON.stringify(r.buttons)}`);
    return b;
  }

  const posts = (channel: string): RecordedCall[] => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    await start();
    const r = root();
    for (const line of [
      '/duty member add handle=cara name="Cara Cell" slack=T1:U5 roles=crisis',
      '/duty member add handle=lena name="Lena Lead" slack=T1:U6 roles=leader',
      '/duty member add handle=olly name="Olly Officer" slack=T1:U7 roles=officer',
      '/duty member add handle=lars name="Lars Leader" slack=T1:U8 roles=leader',
    ]) {
      expect(msg(await r.run(line)).ok).toBe(true);
    }
    expect(msg(await cara().run('/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal leadership=slack:C500')).ok).toBe(true);
    expect(msg(await cara().run(`/person add name="${SECRET_NAME}" crisis=NPL-EQ status=injured needs=medical`)).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect(msg(await cara().run(`/person add name="Person Number${i}" crisis=NPL-EQ${i === 0 ? ' status=safe' : ''}`)).ok).toBe(true);
    const c = msg(await root().run(`/case new category=hospitalisation priority=P1 name="${CASE_NAME}" reporter=hospital summary="Crushed leg" crisis=NPL-EQ`));
    expect(c.ok).toBe(true);
    expect(msg(await lena().run('/sitrep subscribe NPL-EQ')).text).toContain('You will receive SITREPs of NPL-EQ');
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('/sitrep drafts from live figures: counts by status, P1 case by reference, needs; no names; a chart with its table', async () => {
    const r = msg(await cara().run('/sitrep NPL-EQ'));
    expect(r.ok).toBe(true);
    expect(r.title).toBe('Draft SITREP 1 — NPL-EQ Nepal earthquake');
    const text = textOf(r);
    expect(text).toMatch(/Unaccounted\s+2\s+new/);
    expect(text).toMatch(/Injured\s+1\s+new/);
    expect(text).toMatch(/Total\s+4\s+new/);
    expect(text).toContain('C-2026-00001: Hospitalisation (P1, new)');
    expect(text).toContain('Medical care: 1 person');
    expect(text).toContain('1 person newly reported injured since the crisis opened');
    expect(text).toContain('(06:00 UTC)');
    expect(text).not.toContain(SECRET_NAME);
    expect(text).not.toContain(CASE_NAME);
    const chart = r.attachments?.[0];
    expect(chart?.mimeType).toBe('image/png');
    expect(chart?.content.subarray(1, 4).toString()).toBe('PNG');
    expect(chart?.altText).toContain('conditions table has the figures');
    expect(button(r, 'Publish').command).toMatch(/^\/sitrep publish NPL-EQ draft=\S+ version=1$/);
    // A second /sitrep opens the same draft.
    const again = msg(await cara().run('/sitrep NPL-EQ'));
    expect(button(again, 'Publish').command).toBe(button(r, 'Publish').command);
  });

  test('officers cannot draft or publish; unknown crisis and SITREP numbers are clear errors', async () => {
    expect(msg(await olly().run('/sitrep NPL-EQ')).error?.code).toBe('FORBIDDEN');
    expect(msg(await olly().run('/sitrep publish NPL-EQ')).error?.code).toBe('FORBIDDEN');
    const unknown = msg(await cara().run('/sitrep NOPE'));
    expect(unknown.error?.code).toBe('UNKNOWN_CRISIS');
    expect(unknown.text).toContain('Active: NPL-EQ');
    expect(msg(await cara().run('/sitrep show NPL-EQ 9')).error?.code).toBe('UNKNOWN_SITREP');
    expect(msg(await cara().run('/sitrep show NPL-EQ x')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await cara().run('/sitrep export NPL-EQ 1 docx')).error?.code).toBe('INVALID_INPUT');
  });

  test('a leadership channel the bot cannot post to: a clear message, nothing published', async () => {
    slack.reset();
    slack.on('conversations.info', () => ({ ok: true, channel: { id: 'C500', name: 'leadership', is_member: false } }));
    const draft = msg(await cara().run('/sitrep NPL-EQ'));
    const r = msg(await cara().run(button(draft, 'Publish').command));
    slack.off('conversations.info');
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('CHANNEL_UNAVAILABLE');
    expect(r.text).toContain('invite it with /invite');
    expect(r.text).toContain('Nothing was published');
    await at('2026-11-22T06:00:00Z');
    expect(posts('C500')).toHaveLength(0);
    expect(textOf(msg(await cara().run('/sitrep history NPL-EQ')))).toContain('None published yet');
  });

  test('publishing twice (a double click) publishes once: one channel post with the chart, one DM to the subscribed leader', async () => {
    slack.reset();
    const draft = msg(await cara().run('/sitrep NPL-EQ'));
    const publish = button(draft, 'Publish').command;
    const [a, b] = await Promise.all([cara().run(publish), cara().run(publish)]);
    const texts = [msg(a).text ?? '', msg(b).text ?? ''];
    expect(texts.filter((t) => t.startsWith('Published SITREP 1'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('SITREP 1 was already published'))).toHaveLength(1);
    // A retried request later changes nothing either.
    expect(msg(await cara().run(publish)).text).toContain('already published');
    await at('2026-11-22T06:00:00Z');
    await slack.waitForCall('files.completeUploadExternal', (c) => c.args.channel_id === 'C500', 5000);
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U6', 5000);
    await at('2026-11-22T06:00:05Z');
    expect(posts('C500')).toHaveLength(1);
    expect(posts('U6')).toHaveLength(1);
    // lars is a leader but did not subscribe.
    expect(posts('U8')).toHaveLength(0);
    const payload = JSON.stringify(posts('C500')[0]?.args);
    expect(payload).toContain('SITREP 1 — NPL-EQ Nepal earthquake');
    expect(payload).toContain('C-2026-00001');
    expect(payload).not.toContain(SECRET_NAME);
    expect(payload).not.toContain(CASE_NAME);
    // The DM's chart is uploaded after its message: wait for that upload to finish as well.
    await slack.waitForCall('files.completeUploadExternal', () => slack.callsTo('files.completeUploadExternal').length >= 2, 5000);
    expect(slack.uploads.length).toBeGreaterThanOrEqual(2);
    expect(slack.uploads[0]?.content.subarray(1, 4).toString()).toBe('PNG');
    const history = textOf(msg(await cara().run('/sitrep history NPL-EQ')));
    expect(history).toContain('SITREP 1');
    expect(history).toContain('@cara');
  });

  test('the next SITREP shows the change since the previous one; a named case is broadcast only when the lead names it', async () => {
    slack.reset();
    expect(msg(await cara().run('/person status 3 safe')).ok).toBe(true);
    const d = msg(await cara().run('/sitrep NPL-EQ'));
    expect(d.title).toContain('Draft SITREP 2');
    expect(textOf(d)).toMatch(/Safe\s+2\s+\+1/);
    expect(textOf(d)).toMatch(/Unaccounted\s+1\s+\u22121/);
    // The form shows the draft as it is.
    const form = await cara().run('/sitrep edit NPL-EQ');
    expect(form.kind).toBe('form');
    if (form.kind !== 'form') return;
    expect(String(form.form.values?.incidents)).toContain('C-2026-00001');
    // Bad input in the form: said beside the field, nothing saved.
    const bad = await cara().submit('sitrep edit', { named: 'C-2026-99999', needs: 'Blood' }, form.form.context);
    expect(bad.kind).toBe('form');
    if (bad.kind === 'form') expect(bad.form.errors?.named).toContain('no case C-2026-99999');
    const saved = msg(await cara().submit('sitrep edit', { named: 'C-2026-00001', needs: 'Two more doctors\n- Blood supplies', publish: true }, form.form.context));
    expect(saved.ok).toBe(true);
    expect(saved.text).toContain('Published SITREP 2');
    expect(saved.visibility).toBe('direct');
    await at('2026-11-22T06:01:00Z');
    const post = JSON.stringify((await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C500', 5000)).args);
    expect(post).toContain(`C-2026-00001 ${CASE_NAME}`);
    expect(post).toContain('Two more doctors');
    expect(post).toContain('Blood supplies');
    expect(post).not.toContain(SECRET_NAME);
    // A stale form (its version is gone) saves nothing.
    const stale = msg(await cara().submit('sitrep edit', { needs: 'x' }, form.form.context));
    expect(stale.ok).toBe(false);
  });

  test('show and export: Markdown and PDF documents of a published SITREP', async () => {
    const show = msg(await lena().run('/sitrep show NPL-EQ 1'));
    expect(show.title).toBe('SITREP 1 — NPL-EQ Nepal earthquake');
    const md = msg(await lena().run('/sitrep export NPL-EQ 1 md')).attachments?.[0];
    expect(md?.filename).toBe('sitrep-npl-eq-1.md');
    const text = md?.content.toString('utf8') ?? '';
    expect(text).toContain('# SITREP 1 — NPL-EQ (Nepal earthquake)');
    expect(text).toMatch(/\| Injured \| 1 \| new \|/);
    expect(text).not.toContain(SECRET_NAME);
    const pdfReply = msg(await lena().run('/sitrep export NPL-EQ 2 pdf'));
    if (!pdfReply.ok) throw new Error(textOf(pdfReply));
    const pdf = pdfReply.attachments?.[0];
    expect(pdf?.mimeType).toBe('application/pdf');
    expect(pdf?.content.subarray(0, 5).toString()).toBe('%PDF-');
    // The same SITREP gives the same document.
    const again = msg(await lena().run('/sitrep export NPL-EQ 2 pdf')).attachments?.[0];
    expect(again?.content.equals(pdf?.content ?? Buffer.alloc(0))).toBe(true);
  });

  test('cadence: the lead gets the draft 30 minutes before, then reminders until it is published; survives a restart', async () => {
    slack.reset();
    const bad = msg(await cara().run('/sitrep schedule NPL-EQ cadence="every 10 minutes"'));
    expect(bad.error?.code).toBe('INVALID_INPUT');
    expect(bad.error?.fields?.cadence).toContain('at most hourly');
    expect(msg(await cara().run('/sitrep schedule NPL-EQ late=sometimes')).error?.fields?.late).toContain('not a late policy');
    expect(msg(await cara().run('/sitrep schedule NPL-EQ lead=@olly')).error?.fields?.lead).toContain('cannot publish SITREPs');
    // Kathmandu is UTC+5:45: 14:00 local is 08:15 UTC.
    clock.set('2026-11-22T07:00:00Z');
    const s = msg(await cara().run('/sitrep schedule NPL-EQ cadence="daily 14:00" late=remind lead=@cara'));
    expect(s.ok).toBe(true);
    expect(textOf(s)).toContain('daily 14:00');

    // A restart between scheduling and the review: the jobs are in the database.
    await server.close();
    await start();

    await at('2026-11-22T07:44:00Z');
    expect(posts('U5')).toHaveLength(0);
    await at('2026-11-22T07:45:00Z');
    const review = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U5', 5000);
    expect(JSON.stringify(review.args)).toContain('please review and publish');
    await at('2026-11-22T08:15:00Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U5' && JSON.stringify(c.args).includes('reminder 1'), 5000);
    await at('2026-11-22T08:30:00Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U5' && JSON.stringify(c.args).includes('reminder 2'), 5000);
    expect(posts('C500')).toHaveLength(0);
    // Published: the reminders stop, and tomorrow's is planned.
    const p = msg(await cara().run('/sitrep publish NPL-EQ'));
    expect(p.text).toContain('Published SITREP 3');
    await at('2026-11-22T09:30:00Z');
    expect(posts('U5').filter((c) => JSON.stringify(c.args).includes('reminder 3'))).toHaveLength(0);
    expect(textOf(msg(await cara().run('/sitrep schedule NPL-EQ')))).toContain('Mon 23 Nov');
  });

  test('late policy publish-draft: at the deadline the draft is published marked automatic draft', async () => {
    slack.reset();
    clock.set('2026-11-22T10:00:00Z');
    expect(msg(await cara().run('/sitrep schedule NPL-EQ cadence="every 2h" late=publish-draft')).ok).toBe(true);
    await at('2026-11-22T11:30:00Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U5' && JSON.stringify(c.args).includes('please review'), 5000);
    await at('2026-11-22T12:00:00Z');
    const post = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C500' && JSON.stringify(c.args).includes('SITREP 4'), 5000);
    expect(JSON.stringify(post.args)).toContain('AUTOMATIC DRAFT');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U5' && JSON.stringify(c.args).includes('published automatically'), 5000);
    const history = textOf(msg(await cara().run('/sitrep history NPL-EQ')));
    expect(history).toContain('SITREP 4');
    expect(history).toContain('automatic draft');
    // The next one is due two hours after the automatic one.
    expect(textOf(msg(await cara().run('/sitrep schedule NPL-EQ')))).toMatch(/Next due.*19:45/);
  });

  test('subscriptions: only leaders subscribe; unsubscribing stops the direct messages', async () => {
    expect(msg(await cara().run('/sitrep subscribe')).error?.code).toBe('FORBIDDEN');
    expect(msg(await lena().run('/sitrep subscribe NPL-EQ')).text).toContain('already');
    expect(msg(await lena().run('/sitrep unsubscribe all')).text).toContain('no longer');
    slack.reset();
    clock.set('2026-11-22T13:00:00Z');
    expect(msg(await cara().run('/sitrep schedule NPL-EQ cadence=none')).ok).toBe(true);
    expect(msg(await cara().run('/sitrep publish NPL-EQ')).text).toContain('Published SITREP 5');
    await at('2026-11-22T13:00:01Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C500' && JSON.stringify(c.args).includes('SITREP 5'), 5000);
    // Jobs run in the background too: wait for every send of SITREP 5 to settle before counting.
    for (let i = 0; i < 100 && (await server.core.store.db.job.count({ where: { kind: 'sitrep-send', status: { in: ['pending', 'running'] } } })) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(posts('U6').filter((c) => JSON.stringify(c.args).includes('SITREP 5'))).toHaveLength(0);
  });

  test('the console drafts and exports too (the adapter writes the files)', async () => {
    const r = msg(await root().run('/sitrep NPL-EQ'));
    expect(r.ok).toBe(true);
    expect(r.attachments?.[0]?.filename).toBe('npl-eq-people-by-status.png');
    expect(msg(await root().run('/sitrep export NPL-EQ 5 md')).attachments?.[0]?.filename).toBe('sitrep-npl-eq-5.md');
  });
});
