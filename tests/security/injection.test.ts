// Injection (issue 8): text that looks like Slack mrkdwn, Adaptive Card templates or markdown,
// spreadsheet formulas, or XML declarations is neutralised wherever it lands. Hostile values go in
// through real commands over a real store (and the Slack loopback fake for channel posts), come out
// through the real renderers and codecs, and each output is read back the way its consumer reads
// it: mrkdwn scanned for live tokens, cards walked string by string, CSV parsed with papaparse,
// PFIF parsed with our importer.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import Papa from 'papaparse';
import pino from 'pino';
import { mrkdwn, renderMessage, renderModal } from '../../src/bot/slack/render';
import { plainTrusted, slackChannelLink, slackMention } from '../../src/bot/slack/trusted';
import { renderText, terminalSafe } from '../../src/bot/console/render';
import { escapeCardText, readCardString, readCardValues, renderFormCard, renderMessageCard, type AdaptiveCard } from '../../src/bot/teams/render';
import { message, type FormSpec, type MessageReply, type Reply } from '../../src/domain/reply';
import { MAX_PFIF_ELEMENTS, PfifError, parsePfif, writePfif } from '../../src/handlers/crisis/pfif';
import { emptyPersonRecord } from '../../src/handlers/crisis/person-record';
import { neutraliseCsvText, restoreCsvText, toCsv } from '../../src/handlers/report/csv';
import { startServer, type RunningServer } from '../../src/server';
import { as, manualClock, msg, testConfig } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';

// ---------------------------------------------------------------------------------------------
// Hostile values

/** What Slack would turn into a ping, a broadcast, a channel link or a disguised link. */
const SLACK_HOSTILE = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!subteam^S123|@oncall>',
  '<@U123>',
  '<@W123|boss>',
  '<#C123>',
  '<#C123|general>',
  '<https://evil.example|click>',
  '<mailto:x@evil.example|mail>',
  '<!date^1392734382^{date}|x>',
  // The canonical mention the adapter makes of a real Slack mention, typed by hand.
  '<@slack:T1:U2>',
  // Already escaped: must stay text, not become "<!here>".
  '&lt;!here&gt;',
  // A forged sealed token (the key is drawn per process and never shown).
  '\uFDD0forgedkey\uFDD1<!channel>\uFDD1#x\uFDD2',
];

/** What an Adaptive Card would expand, format, link, show as an image or turn into a mention. */
const CARD_HOSTILE = [
  '${secret}',
  '${$root.x}',
  '{{DATE(2017-02-14T06:08:39Z, SHORT)}}',
  '[x](javascript:alert(1))',
  '![i](https://evil.example/x.png)',
  '<at>Boss</at>',
  '<https://evil.example>',
  '[t][r]',
  '[r]: https://evil.example',
];

/** What a spreadsheet would run (OWASP CSV injection), including after white space. */
const FORMULAS = [
  '=HYPERLINK("https://evil.example","x")',
  "+cmd|' /C calc'!A0",
  '-2+3+cmd|x',
  '@SUM(1+1)',
  ' =1+1',
  '\u00a0=1+1',
  '\t=1',
  '\r=1',
  '\n=1',
  "'=1",
];

const FORMULA_START = /^[\s\u200b\ufeff]*[=+\-@]|^[\t\r]/;

const NAME = '<!channel> <@U123> <@slack:T1:U2> ${secret} [x](javascript:alert(1)) {{DATE(2017-02-14T06:08:39Z, SHORT)}}';
const SUMMARY = [...SLACK_HOSTILE, ...CARD_HOSTILE].join(' ');

// ---------------------------------------------------------------------------------------------
// Reading outputs back as their consumers do

type Json = Record<string, unknown>;

/** Every mrkdwn text in a Block Kit payload (and the message's `text`, which Slack reads as mrkdwn too). */
function mrkdwnTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) mrkdwnTexts(n, out);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Json;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) if (typeof v === 'object') mrkdwnTexts(v, out);
  }
  return out;
}

/** The live Slack markup in a payload: every `<…>` Slack would parse. Escaped text has none. */
function liveSlackMarkup(payload: { text?: unknown; blocks?: unknown } | object): string[] {
  const texts = mrkdwnTexts(payload);
  const top = (payload as { text?: unknown }).text;
  if (typeof top === 'string') texts.push(top);
  expect(texts.length).toBeGreaterThan(0);
  const live: string[] = [];
  for (const t of texts) {
    live.push(...(t.match(/<[^>]*>?/g) ?? []));
    // Every & starts one of the three escapes: a raw "&lt;" would otherwise be read as "<".
    expect(t.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
    expect(t).not.toMatch(/[\uFDD0-\uFDD2]/);
  }
  return live;
}

/** Every string in a card, with the property it sits in. */
function cardStrings(node: unknown, key = '', out: { key: string; value: string }[] = []): { key: string; value: string }[] {
  if (typeof node === 'string') out.push({ key, value: node });
  else if (Array.isArray(node)) for (const n of node) cardStrings(n, key, out);
  else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) cardStrings(v, k, out);
  return out;
}

/** Properties Teams reads as markdown: TextBlock text and FactSet titles and values. */
function markdownStrings(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) markdownStrings(n, out);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Json;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
    if (o.type === 'FactSet' && Array.isArray(o.facts)) for (const f of o.facts as { title: string; value: string }[]) out.push(f.title, f.value);
    for (const v of Object.values(o)) if (typeof v === 'object') markdownStrings(v, out);
  }
  return out;
}

function expectInertCard(card: AdaptiveCard): void {
  for (const { key, value } of cardStrings(card)) {
    // Nothing anywhere a template engine would bind or a TextBlock would format as a date.
    if (key === 'url') continue; // data: URIs of images (base64)
    expect(value).not.toMatch(/\$\{|\{\{/);
  }
  // Sealed Slack markup is shown as its text; a forged token's markers are dropped.
  expect(card.fallbackText ?? '').not.toMatch(/[\uFDD0-\uFDD2]/);
  for (const t of markdownStrings(card)) {
    expect(t).not.toMatch(/[\uFDD0-\uFDD2]/);
    // No link, image, reference, autolink or mention can be made.
    expect(t).not.toMatch(/\]\(|\]\[|\]:|<(?!\u200B)/);
  }
}

/** The inputs of a form card, wherever they sit (a date and time pair sits in columns). */
function inputsOf(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const n of node) inputsOf(n, out);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Json;
    if (typeof o.id === 'string' && o.id.startsWith('field.')) out.push(o);
    for (const v of Object.values(o)) if (typeof v === 'object') inputsOf(v, out);
  }
  return out;
}

function reply(r: Reply): MessageReply {
  return msg(r);
}

function csvOf(r: MessageReply): string[][] {
  const a = r.attachments?.find((x) => x.mimeType === 'text/csv');
  if (!a) throw new Error(`no CSV in ${JSON.stringify({ ...r, attachments: r.attachments?.map((x) => x.filename) })}`);
  const parsed = Papa.parse<string[]>(a.content.toString('utf8').replace(/^\uFEFF/, ''), { skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

function expectNoFormula(rows: string[][]): void {
  for (const row of rows) for (const cell of row) expect(FORMULA_START.test(cell) ? cell : null).toBeNull();
}

// ---------------------------------------------------------------------------------------------
// Real commands, real store, the Slack fake for what is posted to channels

describe('hostile text through real commands [server, sqlite]', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const cara = () => as(server.core, 'T1:U5', 'slack');
  const root = () => as(server.core, 'root');

  async function runJobs(): Promise<void> {
    for (let i = 0; i < 4; i++) await server.core.scheduler.runDue();
  }

  let caseRef = '';

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    server = await startServer(
      testConfig({
        DATABASE_URL: `file:${path.join(dir, 'i.db')}`,
        PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_API_URL: slack.apiUrl,
        BOOTSTRAP_ADMINS: 'console:root',
        MISSION_TIMEZONE: 'Asia/Kathmandu',
      }),
      { logger: pino({ level: 'silent' }), clock: clock.now },
    );
    expect(reply(await root().run('/duty member add handle=cara name="Cara Cell" slack=T1:U5 roles=crisis,officer')).ok).toBe(true);
    expect(reply(await root().run('/case channel slack:C100')).ok).toBe(true);
    expect(reply(await cara().run('/crisis open name="Quake" code=QK region=Somewhere leadership=slack:C500')).ok).toBe(true);
    const c = reply(
      await cara().submit('case new', {
        category: 'arrest',
        priority: 'P1',
        name: NAME,
        reporter: 'police',
        summary: SUMMARY,
        city: '<!channel> =HYPERLINK("https://evil.example","x")',
        country: '@SUM(1+1) <@U123>',
        location: '<#C123|general> ${secret}',
      }),
    );
    expect(c.ok).toBe(true);
    caseRef = /C-\d{4}-\d{5}/.exec(c.title ?? '')?.[0] ?? '';
    expect(caseRef).not.toBe('');
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Slack: the case card posted to the duty channel, over the wire, has no live mention, broadcast or link', async () => {
    await runJobs();
    const post = await slack.waitForCall('chat.postMessage', (x) => x.args.channel === 'C100', 5000);
    expect(liveSlackMarkup(post.args)).toEqual([]);
    // The city is shown, as typed, as text.
    expect(JSON.stringify(post.args.blocks)).toContain('&lt;!channel&gt;');
  });

  test('Slack: /case show (every personal field, by DM) and the form pre-filled with the same values', async () => {
    const shown = reply(await cara().run(`/case show ${caseRef}`));
    expect(shown.ok).toBe(true);
    const rendered = renderMessage(shown);
    expect(liveSlackMarkup(rendered)).toEqual([]);
    const all = mrkdwnTexts(rendered).join('\n');
    // What people read is what was typed, escaped: the canonical mention typed by hand is text too.
    expect(all).toContain('&lt;!channel&gt; &lt;@U123&gt; @U2');
    expect(all).toContain('&amp;lt;!here&amp;gt;');
    // The form: plain_text_input initial values are not parsed by Slack, so they carry the text exactly.
    const form = await cara().run('/case new category=arrest');
    expect(form.kind).toBe('form');
    if (form.kind !== 'form') return;
    const spec: FormSpec = { ...form.form, values: { ...form.form.values, name: NAME, summary: SUMMARY } };
    const modal = renderModal(spec, '{}');
    const inputs = (modal.blocks as unknown as Json[]).map((b) => b.element as Json | undefined);
    const initial = (id: string) => inputs.find((e) => e?.action_id === id)?.initial_value;
    expect(initial('name')).toBe(NAME);
    expect(initial('summary')).toBe(SUMMARY.slice(0, 3000));
    expect(mrkdwnTexts(modal).flatMap((t) => t.match(/<[^>]*>/g) ?? [])).toEqual([]);
  });

  test('Slack: /person add and /person show with hostile name, location, household and description', async () => {
    const added = reply(
      await cara().submit('person add', {
        crisis: 'QK',
        name: '<!everyone> =1+1 ${secret}',
        location: '<!subteam^S123|@oncall> [x](javascript:alert(1))',
        household: '<https://evil.example|click>',
        description: SUMMARY.slice(0, 2000),
        needs: ['medical'],
      }),
    );
    expect(added.ok).toBe(true);
    expect(liveSlackMarkup(renderMessage(added))).toEqual([]);
    const shown = reply(await cara().run('/person show 1'));
    expect(shown.ok).toBe(true);
    expect(liveSlackMarkup(renderMessage(shown))).toEqual([]);
    // The name is the title: a header, plain_text, which Slack does not parse, so it is shown as typed.
    const header = (renderMessage(shown).blocks[0] as unknown as Json).text as Json;
    expect(header).toMatchObject({ type: 'plain_text' });
    expect(header.text).toContain('<!everyone> =1+1 ${secret}');
  });

  test('Slack: a SITREP needs line published to the leadership channel, over the wire', async () => {
    const form = await cara().run('/sitrep edit QK');
    expect(form.kind).toBe('form');
    if (form.kind !== 'form') return;
    const saved = reply(await cara().submit('sitrep edit', { needs: `Blood <!here>\n- <@U123> <#C123> <https://evil.example|click> &lt;!channel&gt;`, publish: true }, form.form.context));
    expect(saved.ok).toBe(true);
    await runJobs();
    const post = await slack.waitForCall('chat.postMessage', (x) => x.args.channel === 'C500', 5000);
    expect(liveSlackMarkup(post.args)).toEqual([]);
    expect(JSON.stringify(post.args)).toContain('Blood &lt;!here&gt;');
  });

  test('Teams: the same replies and forms as cards: no template, date function, link, image or mention', async () => {
    expectInertCard(renderMessageCard(reply(await cara().run(`/case show ${caseRef}`))));
    expectInertCard(renderMessageCard(reply(await cara().run('/person show 1'))));
    const form = await cara().run('/case new category=arrest');
    if (form.kind !== 'form') throw new Error('expected the form');
    const values = { ...form.form.values, name: NAME, summary: SUMMARY, city: CARD_HOSTILE.join(' ') };
    const card = renderFormCard({ ...form.form, values, context: '${ctx} {{x}}' });
    expectInertCard(card);
    // What comes back on submission is what was there: every input value, and the action data.
    const submitted: Json = { ...(card.actions?.[0]?.data as Json) };
    for (const input of inputsOf(card)) if (typeof input.value === 'string') submitted[input.id as string] = input.value;
    const read = readCardValues(submitted);
    expect(read.name).toBe(NAME);
    expect(read.summary).toBe(SUMMARY);
    expect(read.city).toBe(CARD_HOSTILE.join(' '));
    expect(readCardString(submitted.context)).toBe('${ctx} {{x}}');
    expect(readCardString(submitted.command)).toBe('case new');
  });

  test('console: escape sequences in stored text are shown, never obeyed by the terminal', async () => {
    const added = reply(await cara().submit('person add', { crisis: 'QK', name: 'Eve \u001b]52;c;ZXZpbA==\u0007\u001b[2J\u009b31m\rOverwrite' }));
    expect(added.ok).toBe(true);
    const n = /#(\d+)/.exec(added.title ?? added.text ?? '')?.[1] ?? '2';
    const text = renderText(await cara().run(`/person show ${n}`));
    expect(text).toContain('Eve');
    // eslint-disable-next-line no-control-regex -- control characters are what must not get out
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  test('CSV: /case export neutralises the hostile city and country; the figures of /case report stay numbers', async () => {
    const rows = csvOf(reply(await cara().run('/case export')));
    expectNoFormula(rows);
    const header = rows[0] as string[];
    const row = rows[1] as string[];
    // Not a formula start (a spreadsheet does not evaluate it), so written as it is.
    expect(row[header.indexOf('City')]).toBe('<!channel> =HYPERLINK("https://evil.example","x")');
    expect(row[header.indexOf('Country')]).toBe("'@SUM(1+1) <@U123>");
    const report = csvOf(reply(await cara().run('/case report')));
    expectNoFormula(report);
    const total = report.find((r) => r[0] === 'Cases opened' && r[1] === 'Total');
    expect(total?.[2]).toBe('1');
  });

  test('CSV: a crisis export and a movement manifest with formula-like people; the export imports back exactly', async () => {
    for (const [i, name] of FORMULAS.entries()) {
      // A name needs letters; the formula comes first all the same.
      const r = reply(await cara().submit('person add', { crisis: 'QK', name: `${name} Ann ${i}`, location: FORMULAS[(i + 1) % FORMULAS.length], household: '-H1', needs: ['evacuation'] }));
      expect(r.ok).toBe(true);
    }
    const exported = reply(await cara().run('/crisis export QK csv'));
    const rows = csvOf(exported);
    expectNoFormula(rows);

    // Our import reads our export back: every name exactly as it was stored.
    expect(reply(await root().run('/crisis open name="Copy" code=QC region=Elsewhere')).ok).toBe(true);
    const csvText = exported.attachments?.find((a) => a.mimeType === 'text/csv')?.content.toString('utf8') ?? '';
    const imported = reply(await root().submit('crisis import', { crisis: 'QC', data: csvText.replace(/^\uFEFF/, '') }));
    expect(imported.ok).toBe(true);
    const names = async (code: string) =>
      (await server.core.store.db.person.findMany({ where: { crisis: { code } }, select: { fullName: true }, orderBy: { number: 'asc' } })).map((p) => p.fullName);
    expect(await names('QC')).toEqual(await names('QK'));

    expect(reply(await cara().run('/crisis movement new QK kind=bus name="=evil()" capacity=40 departs="2026-11-23 14:00" muster="@muster"')).ok).toBe(true);
    expect(reply(await cara().run('/crisis assign QK household="-H1" 1')).ok).toBe(true);
    const manifest = csvOf(reply(await cara().run('/crisis manifest QK 1')));
    expectNoFormula(manifest);
    expect(manifest.length).toBeGreaterThan(FORMULAS.length);
    // Seat numbers are numbers, written as numbers.
    for (const row of manifest.slice(1)) expect(row[0]).toMatch(/^\d+$/);
  });

  test('PFIF: a billion-laughs file pasted into /crisis import is refused whole, nothing imported', async () => {
    const before = await server.core.store.db.person.count();
    const r = reply(await root().submit('crisis import', { crisis: 'QC', data: BILLION_LAUGHS, format: 'pfif' }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).toMatch(/DOCTYPE or ENTITY declaration/);
    expect(await server.core.store.db.person.count()).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Slack renderer: every place user text lands, and the markup the code may make live

describe('Slack renderer', () => {
  test('every hostile token, in every mrkdwn place, stays text; plain-text places carry it as typed', () => {
    for (const h of SLACK_HOSTILE) {
      const r = message({
        title: h,
        text: h,
        fields: [{ label: h, value: h }],
        rows: [{ text: h, fields: [{ label: h, value: h }], buttons: [{ label: h, command: `/case note C-2026-00001 ${h}` }] }],
        buttons: [{ label: h, command: `/duty help ${h}`, confirm: { title: h, text: h, confirm: h, deny: h } }],
        attachments: [{ filename: `${h}.csv`, mimeType: 'text/csv', content: Buffer.from('x'), title: h, altText: h }],
      });
      const rendered = renderMessage(r);
      expect(liveSlackMarkup(rendered)).toEqual([]);
      // Button values are returned to us, never shown or parsed: the command exactly.
      const values = JSON.stringify(rendered.blocks).match(/"value":"[^"]*"/g) ?? [];
      expect(values.length).toBe(2);
      expect((rendered.blocks as unknown as Json[]).flatMap((b) => ((b.elements as Json[] | undefined) ?? []).map((e) => e.value)).filter(Boolean)).toEqual([
        `/case note C-2026-00001 ${h}`,
        `/duty help ${h}`,
      ]);
    }
  });

  test('sealed mentions and channel links are live; forged, foreign or malformed ones are text', () => {
    const real = `${slackMention('U42', 'Ana Lee')} is on duty; see ${slackChannelLink('C9ABC', 'duty-desk')}`;
    const { blocks, text } = renderMessage(message({ text: `${real}. Typed: <@U42> <#C9ABC>` }));
    const section = ((blocks[0] as unknown as Json).text as Json).text as string;
    expect(section).toBe('<@U42> is on duty; see <#C9ABC|duty-desk>. Typed: &lt;@U42&gt; &lt;#C9ABC&gt;');
    expect(text).toContain('<@U42>');
    // Elsewhere (Teams, the console, plain_text) a sealed token is its readable text, and its key never shows.
    expect(plainTrusted(real)).toBe('@Ana Lee is on duty; see #duty-desk');
    expect(terminalSafe(real)).toBe('@Ana Lee is on duty; see #duty-desk');
    expect(JSON.stringify(renderMessageCard(message({ text: real })))).toContain('@Ana Lee is on duty; see #duty-desk');
    // Forged: right shape, wrong key; or a broadcast inside; or ids that are not ids.
    const forged = '\uFDD0AAAAAAAAAAAAAAAA\uFDD1<@U42>\uFDD1@someone\uFDD2';
    expect(mrkdwn(forged)).toBe('@someone');
    const key = /\uFDD0([^\uFDD1]*)\uFDD1/.exec(real)?.[1] as string;
    expect(mrkdwn(`\uFDD0${key}\uFDD1<!channel>\uFDD1@channel\uFDD2`)).toBe('@channel');
    expect(mrkdwn(`\uFDD0${key}\uFDD1<https://evil.example|x>\uFDD1x\uFDD2`)).toBe('x');
    expect(mrkdwn(slackMention('<!channel>'))).toBe('@&lt;!channel&gt;');
    expect(mrkdwn(slackChannelLink('C1', 'x> <!here'))).toBe('<#C1>');
    // The header (plain_text) shows the readable form, never the token.
    const header = (renderMessage(message({ title: real })).blocks[0] as unknown as Json).text as Json;
    expect(header.text).toBe('@Ana Lee is on duty; see #duty-desk');
  });

  test('property: any text is escaped so that Slack sees no markup at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '&', '!', '@', '#', '|', 'U', '1', ':', 'slack', 'lt;', ' ', '\uFDD0', '\uFDD1', '\uFDD2') }), (s) => {
        const out = mrkdwn(s);
        expect(out).not.toMatch(/[<>\uFDD0-\uFDD2]/);
        expect(out.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Teams renderer

describe('Teams renderer', () => {
  test('every hostile construct in text, facts, rows, buttons, choices, inputs and action data is inert', () => {
    for (const h of CARD_HOSTILE) {
      const card = renderMessageCard(
        message({
          title: h,
          text: `${h}\n${h}`,
          fields: [{ label: h, value: h }],
          rows: [{ text: h, fields: [{ label: h, value: h }], buttons: [{ label: h, command: `/case note C-2026-00001 ${h}` }] }],
          buttons: [{ label: h, command: `/duty help ${h}`, confirm: { title: h, text: h, confirm: h, deny: h } }],
          attachments: [{ filename: 'x.csv', mimeType: 'text/csv', content: Buffer.from('x'), title: h, altText: h }],
          fallback: h,
        }),
      );
      expectInertCard(card);
      const commands = cardStrings(card).filter((x) => x.key === 'command').map((x) => readCardString(x.value));
      expect(commands).toEqual(expect.arrayContaining([`/case note C-2026-00001 ${h}`, `/duty help ${h}`]));
      const form = renderFormCard({
        command: 'case new',
        title: h,
        submitLabel: h,
        context: h,
        fields: [
          { name: 'a', label: h, type: 'text', required: true, placeholder: h, help: h },
          { name: 'b', label: h, type: 'select', required: false, options: [{ value: h, label: h }] },
          { name: 'c', label: h, type: 'multiSelect', required: false, options: [{ value: h, label: h }, { value: 'y', label: 'y' }] },
          { name: 'd', label: h, type: 'user', required: false, placeholder: h },
        ],
        values: { a: h, b: h, c: [h, 'y'], d: h },
        errors: { a: h, general: h },
      });
      expectInertCard(form);
    }
  });

  test('property: escaped text reads back exactly, and shows exactly, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('$', '{', '}', '\u200B', '[', ']', '(', ')', ':', '<', 'a', ' ') }), (s) => {
        const card = renderFormCard({ command: 'x', title: 't', submitLabel: 'Go', context: s, fields: [{ name: 'a', label: 'A', type: 'text', required: false }], values: { a: s } });
        const input = card.body.find((e) => e.id === 'field.a');
        const data = card.actions?.[0]?.data as Json;
        expect(readCardValues({ ...data, 'field.a': input?.value }).a).toBe(s.trim() === '' ? undefined : s);
        expect(readCardString(data.context)).toBe(s);
        const shown = escapeCardText(s);
        expect(shown.replace(/\u200B/g, '')).toBe(s.replace(/\u200B/g, ''));
        expect(shown).not.toMatch(/\$\{|\{\{|\]\(|\]\[|\]:|<(?!\u200B)/);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CSV

describe('CSV writer', () => {
  test('every formula start is neutralised, also after white space; parsing gives back exactly what was written', () => {
    const cells = [...FORMULAS, '  -x', '\u200b=x', '\ufeff@x', "''=x", 'plain', '', 'a=b', "O'Brien", '-', '+'];
    const buf = toCsv(['=header', ...cells.map((_, i) => `c${i}`)], [['@h', ...cells], [-12.5, ...cells.map(() => 0)]]);
    const parsed = Papa.parse<string[]>(buf.toString('utf8').replace(/^\uFEFF/, ''), { skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    const [header, hostile, numbers] = parsed.data as [string[], string[], string[]];
    expectNoFormula([header, hostile]);
    expect(header[0]).toBe("'=header");
    expect(hostile.slice(1).map(restoreCsvText)).toEqual(cells);
    // What the code writes as a number stays a number, a negative one too.
    expect(numbers[0]).toBe('-12.5');
  });

  test('property: neutralised text is never a formula and restores exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', ' ', '\u00a0', "'", 'a', '1') }), (s) => {
        const n = neutraliseCsvText(s);
        expect(FORMULA_START.test(n)).toBe(false);
        expect(restoreCsvText(n)).toBe(s);
      }),
      { numRuns: 200 },
    );
    // Deep apostrophes do not recurse.
    const deep = `${"'".repeat(200_000)}=x`;
    expect(restoreCsvText(neutraliseCsvText(deep))).toBe(deep);
  });
});

// ---------------------------------------------------------------------------------------------
// PFIF import: no external entities, no expansion, bounded cost

const NS = 'xmlns:pfif="http://zesty.ca/pfif/1.4"';
const person = (name: string, attrs = '') =>
  `<pfif:pfif ${NS}${attrs}><pfif:person><pfif:person_record_id>example.org/1</pfif:person_record_id><pfif:source_date>2026-01-01T00:00:00Z</pfif:source_date><pfif:full_name>${name}</pfif:full_name></pfif:person></pfif:pfif>`;

const BILLION_LAUGHS = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE lolz [',
  ' <!ENTITY lol "lol">',
  ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
  ']>',
  person('&lol9;'),
].join('\n');

describe('PFIF parser', () => {
  let secretFile: string;
  let hits = 0;
  let web: http.Server;
  let webUrl: string;

  beforeAll(async () => {
    secretFile = path.join(tempDir(), 'secret.txt');
    fs.writeFileSync(secretFile, 'TOP-SECRET-MARKER');
    web = http.createServer((_req, res) => {
      hits += 1;
      res.end('FETCHED-MARKER');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/x`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => web.close(() => resolve()));
    fs.rmSync(path.dirname(secretFile), { recursive: true, force: true });
  });

  function refused(xml: string, why: RegExp): void {
    let error: unknown;
    try {
      parsePfif(xml);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PfifError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message.length).toBeLessThan(400);
    expect((error as Error).message).not.toMatch(/MARKER/);
  }

  test('DTDs of every kind are refused before parsing: nothing is read or fetched, nothing expanded', () => {
    const dtd = /DOCTYPE or ENTITY declaration/;
    refused(BILLION_LAUGHS, dtd);
    refused(`<!DOCTYPE p [<!ENTITY x SYSTEM "file://${secretFile}">]>${person('&x;')}`, dtd);
    refused(`<!DOCTYPE p [<!ENTITY x SYSTEM "${webUrl}">]>${person('&x;')}`, dtd);
    refused(`<!DOCTYPE p [<!ENTITY % p SYSTEM "${webUrl}"> %p;]>${person('x')}`, dtd);
    refused(`<!DOCTYPE p SYSTEM "${webUrl}">${person('x')}`, dtd);
    refused(`<!DOCTYPE p [<!ENTITY name "Ana">]>${person('&name;')}`, dtd);
    refused(`<!doctype p>${person('x')}`, dtd);
    refused(`<?xml version="1.0"?>\n  <!DOCTYPE\tp>${person('x')}`, dtd);
    // Declarations outside a DTD, or hidden where a lenient parser might still look.
    refused(person('<!ENTITY x "y">'), dtd);
    refused(person('<!ATTLIST a b CDATA "c">'), dtd);
    refused(person('<![CDATA[<!DOCTYPE x>]]>'), dtd);
    refused(`<!-- <!DOCTYPE x> -->${person('x')}`, dtd);
    expect(hits).toBe(0);
  });

  test('entities without a DTD are left as text; character references are decoded once', () => {
    const r = parsePfif(person('A &x; B &amp;lt;!here&amp;gt; &#65;&#x42; &lol9;'));
    expect(r.persons[0]?.fullName).toBe('A &x; B &lt;!here&gt; AB &lol9;');
  });

  test('XInclude and processing instructions are not acted on: kept as unknown data, nothing read', () => {
    const xml = `<?xml-stylesheet href="${webUrl}"?>${person(`Ana<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://${secretFile}" parse="text"/>`)}`;
    const r = parsePfif(xml);
    expect(r.persons).toHaveLength(1);
    expect(JSON.stringify(r)).not.toMatch(/MARKER/);
    expect(hits).toBe(0);
  });

  test('nesting bombs, element floods and namespace floods are refused with a clear error', () => {
    refused(`<pfif:pfif ${NS}>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</pfif:pfif>`, /nested more than 64 deep/);
    refused(`<pfif:pfif ${NS}>${'<a>'.repeat(70)}${'</a>'.repeat(70)}</pfif:pfif>`, /nested more than 64 deep/);
    refused(`<pfif:pfif ${NS}>${'<a/>'.repeat(MAX_PFIF_ELEMENTS + 1)}</pfif:pfif>`, /more than 4,000,000 elements/);
    const declarations = Array.from({ length: 6000 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
    refused(`<pfif:pfif ${NS}${declarations}>${'<a xmlns="urn:x"/>'.repeat(6000)}</pfif:pfif>`, /more than 10000 namespaces/);
    refused(`<pfif:pfif ${NS}>${'<a>'.repeat(50)}`, /ends before all its elements are closed/);
  });

  test('names that would pollute prototypes are refused; Object.prototype is untouched', () => {
    refused(person('x').replace('<pfif:person>', '<pfif:person><__proto__><polluted>yes</polluted></__proto__>'), /named "__proto__"/);
    refused(person('x').replace('<pfif:person>', '<pfif:person constructor="1">'), /named "constructor"/);
    expect(({} as Json).polluted).toBeUndefined();
  });

  test('a 1,000,000-character attribute and a large flat document are read (the attribute ignored)', () => {
    const r = parsePfif(person('Ana', ` data="${'x'.repeat(1_000_000)}"`));
    expect(r.persons[0]?.fullName).toBe('Ana');
    const many = `<pfif:pfif ${NS}>${Array.from({ length: 500 }, (_, i) => `<pfif:person><pfif:person_record_id>example.org/${i}</pfif:person_record_id><pfif:source_date>2026-01-01T00:00:00Z</pfif:source_date><pfif:full_name>P ${i}</pfif:full_name></pfif:person>`).join('')}</pfif:pfif>`;
    expect(parsePfif(many).persons).toHaveLength(500);
  });

  test('our PFIF export of hostile values parses back to the same values (no markup gets out of its element)', () => {
    const p = emptyPersonRecord('</pfif:full_name><!DOCTYPE x [<!ENTITY y "z">]>&y; ]]> <![CDATA[x]]>');
    p.sourceId = 'p1';
    p.sourceDate = '2026-01-01T00:00:00Z';
    p.description = '&amp; &lt; <!-- --> <?pi?> ${x} =1+1';
    const xml = writePfif([p], { domain: 'duty.example' });
    const back = parsePfif(xml).persons[0];
    expect(back?.fullName).toBe(p.fullName);
    expect(back?.description).toBe(p.description);
  });
});
