import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { PdfBlock, PdfDocumentSpec } from '../../../src/handlers/report/pdf';
import { renderPdf } from '../../../src/handlers/report/pdf';

// Text comes out of the PDF through pdf.js (pdfjs-dist's legacy build for Node). pdf.js is an ES
// module that loads its worker by dynamic import, which Jest's CommonJS runtime cannot do, so it runs
// in a child Node process: the PDF goes in on stdin, the text per page and the metadata come back as JSON.
const PDFJS_URL = pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href;

const EXTRACT = `
const pdfjs = await import(process.env.PDFJS_URL);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const doc = await pdfjs.getDocument({ data: new Uint8Array(Buffer.concat(chunks)), verbosity: 0, isEvalSupported: false, disableFontFace: true }).promise;
const { info } = await doc.getMetadata();
const pages = [];
for (let n = 1; n <= doc.numPages; n++) {
  const page = await doc.getPage(n);
  const items = (await page.getTextContent()).items.filter((i) => typeof i.str === 'string' && i.str !== '');
  // Items on one baseline make a line, left to right; a gap between items becomes a space.
  const rows = new Map();
  for (const i of items) {
    const y = Math.round(i.transform[5] * 2) / 2;
    if (!rows.has(y)) rows.set(y, []);
    rows.get(y).push(i);
  }
  const lines = [...rows.entries()].sort((a, b) => b[0] - a[0]).map(([, row]) => {
    row.sort((a, b) => a.transform[4] - b.transform[4]);
    let text = '';
    let end = null;
    for (const i of row) {
      if (end !== null && i.transform[4] - end > 1) text += ' ';
      text += i.str;
      end = i.transform[4] + i.width;
    }
    return text.replace(/\\s+/g, ' ').trim();
  });
  const ops = await page.getOperatorList();
  const images = ops.fnArray.filter((f) => f === pdfjs.OPS.paintImageXObject).length;
  pages.push({ lines, images });
}
process.stdout.write(JSON.stringify({ numPages: doc.numPages, info, pages }));
`;

interface Extracted {
  numPages: number;
  info: Record<string, unknown>;
  pages: { lines: string[]; images: number }[];
}

function extract(pdf: Buffer): Extracted {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', EXTRACT], {
    input: pdf,
    env: { ...process.env, PDFJS_URL },
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return JSON.parse(out.toString('utf8')) as Extracted;
}

const allText = (e: Extracted): string => e.pages.map((p) => p.lines.join('\n')).join('\n');

const CREATED = new Date('2026-03-01T10:00:00Z');

function spec(blocks: PdfBlock[], more: Partial<PdfDocumentSpec> = {}): PdfDocumentSpec {
  return { title: 'SITREP 4 — NPL-EQ', createdAt: CREATED, footer: 'Duty Desk — SITREP 4 NPL-EQ', blocks, ...more };
}

function gradientPng(width: number, height: number, alpha = false): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = (x * 255) / width;
      png.data[i + 1] = (y * 255) / height;
      png.data[i + 2] = 120;
      png.data[i + 3] = alpha ? (x * 255) / width : 255;
    }
  }
  return PNG.sync.write(png);
}

function sitrepBlocks(rows: number): PdfBlock[] {
  return [
    { kind: 'banner', text: 'AUTOMATIC DRAFT — not reviewed' },
    { kind: 'heading', text: 'Situation', level: 1 },
    { kind: 'paragraph', text: 'Overnight low −5 °C in Kathmandu. Duty officers: Zoë Müller (Łódź), Ελένη Παπαδοπούλου and Дмитрий Иванов.' },
    { kind: 'paragraph', text: 'Consular hotline open around the clock.', bold: true },
    {
      kind: 'keyValues',
      pairs: [
        { key: 'Mission', value: 'Embassy Kathmandu' },
        { key: 'Next SITREP', value: '2026-03-01 18:00 UTC' },
      ],
    },
    { kind: 'heading', text: 'Citizens by region', level: 2 },
    {
      kind: 'table',
      table: {
        headers: ['Region', 'Registered', 'Missing'],
        alignRight: [1, 2],
        rows: Array.from({ length: rows }, (_, i) => [`Region ${i + 1}`, String((i + 1) * 13), String(i % 4)]),
      },
    },
    { kind: 'heading', text: 'Open actions', level: 3 },
    { kind: 'bullets', items: ['Call the hotel in Pokhara', 'Confirm the charter flight with Ελένη'] },
    { kind: 'bullets', items: [], empty: 'No evacuations requested.' },
  ];
}

describe('renderPdf', () => {
  test('a SITREP over two pages: title, banner, headings, Unicode names, key values, table, bullets, footers', async () => {
    const pdf = await renderPdf(spec(sitrepBlocks(40), { author: 'Duty Desk', subject: 'Situation report' }));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const e = extract(pdf);
    expect(e.numPages).toBe(2);
    const text = allText(e);
    const [page1, page2] = e.pages.map((p) => p.lines);

    expect(page1?.[0]).toBe('SITREP 4 — NPL-EQ');
    expect(page1).toContain('AUTOMATIC DRAFT — not reviewed');
    expect(page1).toContain('Situation');
    expect(text.replace(/\s+/g, ' ')).toContain('Overnight low −5 °C in Kathmandu. Duty officers: Zoë Müller (Łódź), Ελένη Παπαδοπούλου and Дмитрий Иванов.');
    expect(page1).toContain('Consular hotline open around the clock.');
    expect(page1).toContain('Mission Embassy Kathmandu');
    expect(page1).toContain('Next SITREP 2026-03-01 18:00 UTC');
    expect(page1).toContain('Citizens by region');
    expect(page1).toContain('Region Registered Missing');
    expect(page1).toContain('Region 1 13 0');
    // The table goes on to page 2, under its header row again.
    expect(page2?.[0]).toBe('Region Registered Missing');
    expect(text).toContain('Region 40 520 3');
    for (let i = 1; i <= 40; i++) expect(text).toContain(`Region ${i} ${i * 13} ${(i - 1) % 4}`);
    expect(page2).toContain('Open actions');
    expect(page2).toContain('• Call the hotel in Pokhara');
    expect(page2).toContain('• Confirm the charter flight with Ελένη');
    expect(page2).toContain('No evacuations requested.');
    expect(page1?.[page1.length - 1]).toBe('Duty Desk — SITREP 4 NPL-EQ — page 1 of 2');
    expect(page2?.[page2.length - 1]).toBe('Duty Desk — SITREP 4 NPL-EQ — page 2 of 2');

    expect(e.info).toMatchObject({ Title: 'SITREP 4 — NPL-EQ', Author: 'Duty Desk', Subject: 'Situation report', Creator: 'Duty Desk' });
    expect(String(e.info.CreationDate)).toMatch(/^D:20260301100000/);
    // Noto Sans is embedded (as subsets), and no standard PDF font is used.
    const raw = pdf.toString('latin1');
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSans-Regular/);
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSans-Bold/);
    expect(raw).not.toContain('Helvetica');
  });

  test('the same spec gives the same bytes; another creation date gives other bytes', async () => {
    const blocks = [...sitrepBlocks(12), { kind: 'image', png: gradientPng(120, 60, true), alt: 'Registrations per day' } as const];
    const a = await renderPdf(spec(blocks));
    const b = await renderPdf(spec(blocks));
    expect(a.equals(b)).toBe(true);
    const c = await renderPdf(spec(blocks, { createdAt: new Date('2026-03-02T10:00:00Z') }));
    expect(c.equals(a)).toBe(false);
  });

  test('a long document breaks into pages with every bullet kept and "page N of M" on each', async () => {
    const items = Array.from({ length: 150 }, (_, i) => `Item ${i + 1}: call back the family of case ${1000 + i} about the flight`);
    const e = extract(await renderPdf(spec([{ kind: 'bullets', items }], { footer: undefined })));
    expect(e.numPages).toBeGreaterThanOrEqual(3);
    e.pages.forEach((p, i) => expect(p.lines[p.lines.length - 1]).toBe(`page ${i + 1} of ${e.numPages}`));
    const text = allText(e);
    for (const item of items) expect(text).toContain(`• ${item}`);
  });

  test('no blocks: a valid one-page PDF with the title and footer', async () => {
    const e = extract(await renderPdf(spec([])));
    expect(e.numPages).toBe(1);
    expect(e.pages[0]?.lines).toEqual(['SITREP 4 — NPL-EQ', 'Duty Desk — SITREP 4 NPL-EQ — page 1 of 1']);
  });

  test('an image block embeds an image XObject, with its alt text underneath', async () => {
    const without = await renderPdf(spec([{ kind: 'paragraph', text: 'Chart below.' }]));
    const withImage = await renderPdf(
      spec([
        { kind: 'paragraph', text: 'Chart below.' },
        { kind: 'image', png: gradientPng(400, 200), alt: 'Registrations per day', width: 300 },
        { kind: 'image', png: gradientPng(64, 64, true), alt: 'Map with transparency' },
      ]),
    );
    expect(withImage.length).toBeGreaterThan(without.length);
    expect(withImage.toString('latin1')).toContain('/Subtype /Image');
    const e = extract(withImage);
    expect(e.pages[0]?.images).toBe(2);
    expect(e.pages[0]?.lines).toContain('Registrations per day');
    expect(e.pages[0]?.lines).toContain('Map with transparency');
    expect(extract(without).pages[0]?.images).toBe(0);
  });

  test('an unreadable PNG does not throw: its alt text is shown instead', async () => {
    const good = gradientPng(40, 40, true);
    const corrupt = Buffer.from(good);
    const idat = corrupt.indexOf('IDAT');
    corrupt.fill(0x55, idat + 6, idat + 30); // damages the zlib stream PDFKit would inflate later
    const pdf = await renderPdf(
      spec([
        { kind: 'image', png: Buffer.from('not a png at all'), alt: 'Chart A' },
        { kind: 'image', png: good.subarray(0, 60), alt: 'Chart B' },
        { kind: 'image', png: corrupt, alt: 'Chart C' },
        { kind: 'image', png: Buffer.alloc(0), alt: '' },
        { kind: 'paragraph', text: 'After the images.' },
      ]),
    );
    const e = extract(pdf);
    expect(e.pages[0]?.images).toBe(0);
    expect(e.pages[0]?.lines).toEqual(
      expect.arrayContaining([
        '[Image not available: Chart A]',
        '[Image not available: Chart B]',
        '[Image not available: Chart C]',
        '[Image not available]',
        'After the images.',
      ]),
    );
  });

  test('very long words are broken, in paragraphs and table cells, and nothing is lost', async () => {
    const word = 'w'.repeat(400);
    const url = `https://example.org/${'segment/'.repeat(40)}end`;
    const e = extract(
      await renderPdf(
        spec([
          { kind: 'paragraph', text: `Before ${word} after` },
          { kind: 'table', table: { headers: ['Link', 'Note'], rows: [[url, 'ok']] } },
        ]),
      ),
    );
    expect(e.numPages).toBe(1);
    const text = allText(e);
    expect(text.split('w').length - 1).toBe(400);
    expect(text).toContain('Before');
    expect(text).toContain('after');
    // The URL fills its cell line after line; "ok" stands on its first line, in the next column.
    const lines = e.pages[0]?.lines ?? [];
    const cell = lines.slice(lines.indexOf('Link Note') + 1, -1);
    expect(cell.length).toBeGreaterThan(1);
    expect(cell[0]).toMatch(/ ok$/);
    expect(cell.join('').replace(/ ok/, '')).toBe(url);
  });

  test('a table row taller than a page is split, and the header repeats', async () => {
    const tall = Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join('\n');
    const e = extract(await renderPdf(spec([{ kind: 'table', table: { headers: ['Case', 'Log'], rows: [['C-1', tall], ['C-2', 'short']] } }])));
    expect(e.numPages).toBe(2);
    expect(e.pages[1]?.lines[0]).toBe('Case Log');
    const text = allText(e);
    for (let i = 1; i <= 80; i++) expect(text).toMatch(new RegExp(`line ${i}\\b`));
    expect(text).toContain('C-2 short');
  });

  test('characters without a glyph, control characters and odd input do not throw', async () => {
    const blocks = [
      { kind: 'paragraph', text: 'Names: 北京 😀 שלום ☃ \u0007bell\u0000 \ud800 lone surrogate, Zoë' },
      { kind: 'heading', text: 'Level four?', level: 4 },
      { kind: 'table', table: { headers: [], rows: [['a', 'b', 'c'], ['d']], alignRight: [7, -1] } },
      { kind: 'table', table: { headers: ['Only header'], rows: [] } },
      { kind: 'keyValues', pairs: [] },
      { kind: 'bullets', items: [] },
      { kind: 'mystery', text: 'unknown kinds are skipped' },
    ] as unknown as PdfBlock[];
    const e = extract(await renderPdf(spec(blocks)));
    const text = allText(e);
    expect(text).toContain('Zoë');
    expect(text).toContain('bell');
    expect(text).toContain('Level four?');
    expect(text).toContain('a b c');
    expect(text).toContain('Only header');
    expect(text).not.toContain('unknown kinds');
  });

  test('an invalid creation date is refused clearly', async () => {
    await expect(renderPdf(spec([], { createdAt: new Date('nope') }))).rejects.toThrow('createdAt must be a valid Date');
  });
});
