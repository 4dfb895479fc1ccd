// PDF export for SITREPs and subject-access exports: a small block renderer over PDFKit.
//
// PDFKit writes the file (text, fonts, images, metadata); this module only lays the blocks out.
// It does its own line breaking so that one line can mix fonts: Noto Sans comes from
// @fontsource/noto-sans as one WOFF file per script subset (Latin, Latin Extended, Greek, Cyrillic,
// Vietnamese, Devanagari), so every run of text is set in the subset that covers it, as a browser
// would from the same files (their unicode-range list, unicode.json). A character that no subset
// covers is drawn as the font's empty box (.notdef): it never throws.
//
// The output is deterministic: CreationDate, ModDate and the file ID (which PDFKit derives from the
// document info) all come from spec.createdAt, and nothing else in the file depends on the clock.
// The WOFF (not WOFF2) files are used, unwrapped once to plain OpenType: fontkit cannot subset the
// WOFF2 ones of this package, and reads WOFF tables by inflating them again on every access.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type PDFDocumentClass from 'pdfkit';
import type { PNG as PNGClass } from 'pngjs';

// Loaded at the first PDF, not at start: pdfkit alone is a third of a second of every start-up.
/* eslint-disable @typescript-eslint/no-require-imports -- deferred loads, typed by the casts */
const pdfkit = (): typeof PDFDocumentClass => require('pdfkit') as typeof PDFDocumentClass;
const pngjs = (): { PNG: typeof PNGClass } => require('pngjs') as { PNG: typeof PNGClass };
/* eslint-enable @typescript-eslint/no-require-imports */

export interface PdfTable {
  headers: string[];
  rows: string[][];
  /** right-align these column indexes (numbers) */
  alignRight?: number[];
}

export type PdfBlock =
  | { kind: 'heading'; text: string; level?: 1 | 2 | 3 }
  | { kind: 'paragraph'; text: string; bold?: boolean }
  /** A highlighted warning line, e.g. "AUTOMATIC DRAFT — not reviewed". */
  | { kind: 'banner'; text: string }
  /** empty: italic text shown when items is empty. */
  | { kind: 'bullets'; items: string[]; empty?: string }
  | { kind: 'table'; table: PdfTable }
  /** alt is printed small under the image, and instead of it when the PNG cannot be read. */
  | { kind: 'image'; png: Buffer; alt: string; width?: number }
  | { kind: 'keyValues'; pairs: { key: string; value: string }[] };

export interface PdfDocumentSpec {
  /** Shown at the top of the first page, and the PDF's Title. */
  title: string;
  /** PDF metadata */
  author?: string;
  subject?: string;
  /** Fixed creation date so the same input gives the same bytes. */
  createdAt: Date;
  /** Small text in every page footer, followed by " — page N of M" (just "page N of M" without it). */
  footer?: string;
  blocks: PdfBlock[];
}

// ---------------------------------------------------------------------------------------------
// Page geometry (points; A4 is 595.28 × 841.89)

const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN_X = 56.7; // 20 mm
const MARGIN_TOP = 56.7;
const CONTENT_BOTTOM = PAGE_HEIGHT - 62;
const FOOTER_BASELINE = PAGE_HEIGHT - 32;
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X;

/** Noto Sans vertical metrics (hhea ascender 1069, descender −293 per 1000 units). */
const ASCENT = 1.069;
const LINE_FACTOR = 1.362;

const BODY_SIZE = 10.5;
const SMALL_SIZE = 8;
const TITLE_SIZE = 20;
const HEADING_SIZES: Record<1 | 2 | 3, number> = { 1: 16, 2: 13, 3: 11.5 };

const TEXT = '#1a1a1a';
const MUTED = '#555555';
const HEADING = '#1f3a5f';
const RULE = '#9aa5b1';
const BANNER_FILL = '#fff4cc';
const BANNER_BAR = '#b45309';
const BANNER_TEXT = '#7a2e00';
const TABLE_BORDER = '#9a9a9a';
const TABLE_HEADER_FILL = '#ececec';

const CELL_PAD_X = 4;
const CELL_PAD_Y = 3;
const BULLET_INDENT = 14;
const BLOCK_GAP = 7;
/** A PNG larger than this (pixels) is not decoded: its alt text is shown instead. */
const MAX_IMAGE_PIXELS = 40_000_000;

// ---------------------------------------------------------------------------------------------
// Fonts

type FontStyle = 'regular' | 'bold' | 'italic';
const STYLE_FILE: Record<FontStyle, string> = { regular: '400-normal', bold: '700-normal', italic: '400-italic' };
/** Lookup order; subsets that unicode.json names and this list does not come after these, by name. */
const SUBSET_ORDER = ['latin', 'latin-ext', 'greek', 'greek-ext', 'cyrillic', 'cyrillic-ext', 'vietnamese', 'devanagari'];

interface SubsetFont {
  /** Name registered with PDFKit, e.g. "regular:latin". */
  name: string;
  data: Buffer;
  ranges: [number, number][];
}

let fontCache: Record<FontStyle, SubsetFont[]> | undefined;
/** Advance widths by font, size and text: the same for every document, so kept across them (bounded). */
const widthCache = new Map<string, number>();
const WIDTH_CACHE_LIMIT = 100_000;

function parseRanges(list: string): [number, number][] {
  const out: [number, number][] = [];
  for (const part of list.split(',')) {
    const m = /^\s*U\+([0-9A-Fa-f]+)(?:-([0-9A-Fa-f]+))?\s*$/.exec(part);
    if (!m || m[1] === undefined) continue;
    const lo = parseInt(m[1], 16);
    out.push([lo, m[2] === undefined ? lo : parseInt(m[2], 16)]);
  }
  return out;
}

/** Reads the WOFF files and their Unicode ranges once per process. */
function loadFonts(): Record<FontStyle, SubsetFont[]> {
  if (fontCache) return fontCache;
  const root = path.dirname(require.resolve('@fontsource/noto-sans/package.json'));
  const dir = path.join(root, 'files');
  const unicode = JSON.parse(readFileSync(path.join(root, 'unicode.json'), 'utf8')) as Record<string, string>;
  const files = new Set(readdirSync(dir));
  const subsets = Object.keys(unicode).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const load = (style: FontStyle): SubsetFont[] =>
    subsets.flatMap((subset) => {
      // A subset without an italic file falls back to its regular one.
      const file = [STYLE_FILE[style], STYLE_FILE.regular].map((s) => `noto-sans-${subset}-${s}.woff`).find((f) => files.has(f));
      if (!file) return [];
      return [{ name: `${style}:${subset}`, data: woffToSfnt(readFileSync(path.join(dir, file))), ranges: parseRanges(unicode[subset] ?? '') }];
    });
  const fonts = { regular: load('regular'), bold: load('bold'), italic: load('italic') };
  for (const style of Object.keys(fonts) as FontStyle[]) {
    if (!fonts[style][0]?.name.endsWith(':latin')) {
      throw new Error(`pdf: could not load the Noto Sans ${style} Latin font from ${dir}`);
    }
  }
  fontCache = fonts;
  return fonts;
}

/**
 * Unwraps a WOFF 1.0 file (W3C: a header, a table directory, each table zlib-compressed or stored) to
 * the OpenType font it carries. Anything unexpected returns the WOFF unchanged, which fontkit also
 * reads, only more slowly.
 */
function woffToSfnt(woff: Buffer): Buffer {
  try {
    if (woff.length < 44 || woff.readUInt32BE(0) !== 0x774f4646) return woff; // 'wOFF'
    const numTables = woff.readUInt16BE(12);
    const tables: { tag: number; checksum: number; data: Buffer }[] = [];
    for (let i = 0; i < numTables; i++) {
      const at = 44 + 20 * i;
      const offset = woff.readUInt32BE(at + 4);
      const compLength = woff.readUInt32BE(at + 8);
      const origLength = woff.readUInt32BE(at + 12);
      const stored = woff.subarray(offset, offset + compLength);
      if (stored.length !== compLength) return woff;
      const data = compLength < origLength ? inflateSync(stored) : stored;
      if (data.length !== origLength) return woff;
      tables.push({ tag: woff.readUInt32BE(at), checksum: woff.readUInt32BE(at + 16), data });
    }
    tables.sort((a, b) => a.tag - b.tag);
    const pad4 = (n: number) => (n + 3) & ~3;
    const headerLength = 12 + 16 * numTables;
    const out = Buffer.alloc(headerLength + tables.reduce((sum, t) => sum + pad4(t.data.length), 0));
    const log2 = Math.floor(Math.log2(Math.max(1, numTables)));
    out.writeUInt32BE(woff.readUInt32BE(4), 0); // flavor: the sfnt version
    out.writeUInt16BE(numTables, 4);
    out.writeUInt16BE(16 * 2 ** log2, 6);
    out.writeUInt16BE(log2, 8);
    out.writeUInt16BE(16 * numTables - 16 * 2 ** log2, 10);
    let offset = headerLength;
    tables.forEach((t, i) => {
      const at = 12 + 16 * i;
      out.writeUInt32BE(t.tag, at);
      out.writeUInt32BE(t.checksum, at + 4);
      out.writeUInt32BE(offset, at + 8);
      out.writeUInt32BE(t.data.length, at + 12);
      t.data.copy(out, offset);
      offset += pad4(t.data.length);
    });
    return out;
  } catch {
    return woff;
  }
}

function rank(subset: string): number {
  const i = SUBSET_ORDER.indexOf(subset);
  return i < 0 ? SUBSET_ORDER.length : i;
}

function covers(font: SubsetFont, cp: number): boolean {
  return font.ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
}

// ---------------------------------------------------------------------------------------------
// Text

/** NFC (so a letter and its accent share a font), no control characters, no lone surrogates. */
function clean(value: unknown): string {
  const s = typeof value === 'string' ? value : value == null ? '' : String(value);
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '') // eslint-disable-line no-control-regex
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** One line, no wrapping: only the text, as for footers. */
function oneLine(value: unknown): string {
  return clean(value).replace(/\s+/g, ' ').trim();
}

interface Span {
  font: string;
  text: string;
}

interface Line {
  spans: Span[];
  width: number;
}

interface TextFormat {
  style: FontStyle;
  size: number;
  color: string;
}

function pushSpan(spans: Span[], span: Span): void {
  const last = spans[spans.length - 1];
  if (last && last.font === span.font) last.text += span.text;
  else spans.push({ ...span });
}

// ---------------------------------------------------------------------------------------------
// Renderer

class Renderer {
  private readonly fonts: Record<FontStyle, SubsetFont[]>;
  private readonly registered = new Set<string>();
  private y = MARGIN_TOP;

  constructor(private readonly doc: PDFKit.PDFDocument) {
    this.fonts = loadFonts();
  }

  // --- fonts and measuring

  private use(font: string, size: number): PDFKit.PDFDocument {
    if (!this.registered.has(font)) {
      const style = font.slice(0, font.indexOf(':')) as FontStyle;
      const entry = this.fonts[style].find((f) => f.name === font);
      if (!entry) throw new Error(`pdf: unknown font ${font}`);
      this.doc.registerFont(font, entry.data);
      this.registered.add(font);
    }
    return this.doc.font(font).fontSize(size);
  }

  private widthOf(font: string, size: number, text: string): number {
    const key = `${font}\u0000${size}\u0000${text}`;
    let w = widthCache.get(key);
    if (w === undefined) {
      w = this.use(font, size).widthOfString(text);
      if (widthCache.size >= WIDTH_CACHE_LIMIT) widthCache.clear();
      widthCache.set(key, w);
    }
    return w;
  }

  private spansWidth(spans: Span[], size: number): number {
    return spans.reduce((sum, s) => sum + this.widthOf(s.font, size, s.text), 0);
  }

  /** Splits text into runs, each in the first subset (Latin first) that covers its characters. */
  private segment(text: string, style: FontStyle): Span[] {
    const fonts = this.fonts[style];
    const primary = fonts[0] as SubsetFont;
    const spans: Span[] = [];
    let current: SubsetFont | undefined;
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      if (!current || !covers(current, cp)) current = fonts.find((f) => covers(f, cp)) ?? primary;
      pushSpan(spans, { font: current.name, text: ch });
    }
    return spans;
  }

  /** Greedy line breaking at spaces; a word wider than the line is broken between characters. */
  private layout(value: unknown, fmt: TextFormat, maxWidth: number): Line[] {
    const lines: Line[] = [];
    const space = this.segment(' ', fmt.style)[0] as Span;
    const spaceWidth = this.widthOf(space.font, fmt.size, ' ');
    for (const paragraph of clean(value).split('\n')) {
      let line: Line = { spans: [], width: 0 };
      const words = paragraph.split(' ').filter((w) => w !== '');
      for (const word of words) {
        const spans = this.segment(word, fmt.style);
        const width = this.spansWidth(spans, fmt.size);
        if (line.spans.length > 0 && line.width + spaceWidth + width <= maxWidth + 0.01) {
          pushSpan(line.spans, space);
          for (const s of spans) pushSpan(line.spans, s);
          line.width += spaceWidth + width;
          continue;
        }
        if (line.spans.length > 0) lines.push(line);
        if (width <= maxWidth + 0.01) {
          line = { spans: [], width };
          for (const s of spans) pushSpan(line.spans, s);
          continue;
        }
        const pieces = this.breakWord(spans, fmt.size, maxWidth);
        lines.push(...pieces.slice(0, -1));
        line = pieces[pieces.length - 1] ?? { spans: [], width: 0 };
      }
      lines.push(line);
    }
    return lines;
  }

  private breakWord(spans: Span[], size: number, maxWidth: number): Line[] {
    const pieces: Line[] = [];
    let piece: Line = { spans: [], width: 0 };
    for (const span of spans) {
      for (const ch of span.text) {
        const w = this.widthOf(span.font, size, ch);
        if (piece.spans.length > 0 && piece.width + w > maxWidth + 0.01) {
          pieces.push(piece);
          piece = { spans: [], width: 0 };
        }
        pushSpan(piece.spans, { font: span.font, text: ch });
        piece.width += w;
      }
    }
    pieces.push(piece);
    return pieces;
  }

  private drawLine(line: Line, x: number, top: number, fmt: TextFormat, boxWidth: number, align: 'left' | 'right' | 'center' = 'left'): void {
    let cx = align === 'right' ? x + boxWidth - line.width : align === 'center' ? x + (boxWidth - line.width) / 2 : x;
    const baseline = top + fmt.size * ASCENT;
    for (const span of line.spans) {
      this.use(span.font, fmt.size).fillColor(fmt.color).text(span.text, cx, baseline, { lineBreak: false, baseline: 'alphabetic' });
      cx += this.widthOf(span.font, fmt.size, span.text);
    }
  }

  // --- page flow

  private newPage(): void {
    this.doc.addPage();
    this.y = MARGIN_TOP;
  }

  private get atTop(): boolean {
    return this.y <= MARGIN_TOP + 0.01;
  }

  /** Starts a new page unless `height` fits below the cursor (or the cursor is already at the top). */
  private ensure(height: number): void {
    if (this.y + height > CONTENT_BOTTOM && !this.atTop) this.newPage();
  }

  /** Lines of one format, flowing over pages; `before` draws a box behind each page's share. */
  private flowLines(lines: Line[], fmt: TextFormat, x: number, width: number, opts: { padY?: number; before?: (top: number, height: number) => void; first?: (top: number) => void } = {}): void {
    const lh = fmt.size * LINE_FACTOR;
    const padY = opts.padY ?? 0;
    let i = 0;
    while (i < lines.length) {
      let fit = Math.floor((CONTENT_BOTTOM - this.y - 2 * padY) / lh + 1e-6);
      if (fit < 1) {
        if (!this.atTop) {
          this.newPage();
          continue;
        }
        fit = 1;
      }
      const chunk = lines.slice(i, i + fit);
      const height = chunk.length * lh + 2 * padY;
      opts.before?.(this.y, height);
      chunk.forEach((line, k) => {
        const top = this.y + padY + k * lh;
        if (i + k === 0) opts.first?.(top);
        this.drawLine(line, x, top, fmt, width);
      });
      this.y += height;
      i += chunk.length;
      if (i < lines.length) this.newPage();
    }
  }

  // --- blocks

  render(spec: PdfDocumentSpec): void {
    this.title(spec.title);
    for (const block of Array.isArray(spec.blocks) ? spec.blocks : []) {
      this.block(block);
    }
    this.footers(spec.footer);
  }

  private title(text: string): void {
    const fmt: TextFormat = { style: 'bold', size: TITLE_SIZE, color: HEADING };
    const title = clean(text).trim();
    if (!title) return;
    this.flowLines(this.layout(title, fmt, CONTENT_WIDTH), fmt, MARGIN_X, CONTENT_WIDTH);
    this.y += 4;
    this.rule();
    this.y += 10;
  }

  private rule(): void {
    this.doc.save().lineWidth(0.75).strokeColor(RULE).moveTo(MARGIN_X, this.y).lineTo(MARGIN_X + CONTENT_WIDTH, this.y).stroke().restore();
  }

  private block(block: PdfBlock): void {
    switch (block?.kind) {
      case 'heading':
        return this.heading(block.text, block.level);
      case 'paragraph':
        return this.paragraph(block.text, block.bold ? 'bold' : 'regular');
      case 'banner':
        return this.banner(block.text);
      case 'bullets':
        return this.bullets(block.items, block.empty);
      case 'table':
        return this.table(block.table);
      case 'image':
        return this.image(block.png, block.alt, block.width);
      case 'keyValues':
        return this.keyValues(block.pairs);
      default:
        return; // an unknown kind (from untyped callers) is skipped
    }
  }

  private heading(text: string, level: 1 | 2 | 3 = 1): void {
    const size = HEADING_SIZES[level] ?? HEADING_SIZES[1];
    const fmt: TextFormat = { style: 'bold', size, color: HEADING };
    const lines = this.layout(text, fmt, CONTENT_WIDTH);
    if (!this.atTop) this.y += level === 1 ? 8 : 5;
    // Keep a heading with the start of what follows it.
    this.ensure(lines.length * size * LINE_FACTOR + 3 * BODY_SIZE * LINE_FACTOR);
    this.flowLines(lines, fmt, MARGIN_X, CONTENT_WIDTH);
    this.y += 3;
  }

  private paragraph(text: string, style: FontStyle): void {
    const fmt: TextFormat = { style, size: BODY_SIZE, color: TEXT };
    this.flowLines(this.layout(text, fmt, CONTENT_WIDTH), fmt, MARGIN_X, CONTENT_WIDTH);
    this.y += BLOCK_GAP;
  }

  private banner(text: string): void {
    const fmt: TextFormat = { style: 'bold', size: BODY_SIZE, color: BANNER_TEXT };
    const bar = 4;
    const padX = 8;
    const lines = this.layout(text, fmt, CONTENT_WIDTH - bar - 2 * padX);
    this.ensure(lines.length * BODY_SIZE * LINE_FACTOR + 12);
    this.flowLines(lines, fmt, MARGIN_X + bar + padX, CONTENT_WIDTH - bar - 2 * padX, {
      padY: 6,
      before: (top, height) => {
        this.doc.save().rect(MARGIN_X, top, CONTENT_WIDTH, height).fill(BANNER_FILL).rect(MARGIN_X, top, bar, height).fill(BANNER_BAR).restore();
      },
    });
    this.y += BLOCK_GAP + 2;
  }

  private bullets(items: string[], empty?: string): void {
    const list = Array.isArray(items) ? items : [];
    if (list.length === 0) {
      if (empty !== undefined && clean(empty).trim() !== '') this.paragraph(empty, 'italic');
      return;
    }
    const fmt: TextFormat = { style: 'regular', size: BODY_SIZE, color: TEXT };
    const bullet = { spans: this.segment('•', 'regular'), width: 0 };
    bullet.width = this.spansWidth(bullet.spans, BODY_SIZE);
    for (const item of list) {
      const lines = this.layout(item, fmt, CONTENT_WIDTH - BULLET_INDENT);
      this.flowLines(lines, fmt, MARGIN_X + BULLET_INDENT, CONTENT_WIDTH - BULLET_INDENT, {
        first: (top) => this.drawLine(bullet, MARGIN_X + 3, top, fmt, BULLET_INDENT),
      });
      this.y += 2;
    }
    this.y += BLOCK_GAP - 2;
  }

  private keyValues(pairs: { key: string; value: string }[]): void {
    const list = (Array.isArray(pairs) ? pairs : []).map((p) => [clean(p?.key), clean(p?.value)]);
    if (list.length === 0) return;
    const keyWidth = Math.min(
      CONTENT_WIDTH * 0.35,
      Math.max(60, ...list.map(([k]) => this.naturalWidth(k ?? '', 'bold', BODY_SIZE) + 12.5)),
    );
    this.grid({
      header: undefined,
      rows: list,
      widths: [keyWidth, CONTENT_WIDTH - keyWidth],
      styles: ['bold', 'regular'],
      alignRight: new Set(),
      borders: false,
    });
    this.y += BLOCK_GAP - 2;
  }

  private table(table: PdfTable): void {
    const headers = (Array.isArray(table?.headers) ? table.headers : []).map(clean);
    const rows = (Array.isArray(table?.rows) ? table.rows : []).map((r) => (Array.isArray(r) ? r.map(clean) : []));
    const columns = Math.max(headers.length, ...rows.map((r) => r.length));
    if (columns === 0) return;
    const alignRight = new Set((table.alignRight ?? []).filter((i) => Number.isInteger(i)));
    const widths = this.columnWidths(
      [headers, ...rows].map((r) => Array.from({ length: columns }, (_, i) => r[i] ?? '')),
      columns,
    );
    this.grid({
      header: headers.length > 0 ? Array.from({ length: columns }, (_, i) => headers[i] ?? '') : undefined,
      rows: rows.map((r) => Array.from({ length: columns }, (_, i) => r[i] ?? '')),
      widths,
      styles: Array.from({ length: columns }, () => 'regular' as FontStyle),
      alignRight,
      borders: true,
    });
    this.y += BLOCK_GAP + 2;
  }

  private naturalWidth(text: string, style: FontStyle, size: number): number {
    return Math.max(0, ...text.split('\n').map((l) => this.spansWidth(this.segment(l.replace(/ +/g, ' ').trim(), style), size)));
  }

  private longestWord(text: string, style: FontStyle, size: number): number {
    return Math.max(0, ...text.split(/\s+/).map((w) => this.spansWidth(this.segment(w, style), size)));
  }

  /**
   * Full width, shared by content: columns narrower than an even share keep their natural width, the
   * others share the rest by length, each keeping its longest word when there is room for that.
   */
  private columnWidths(rows: string[][], columns: number): number[] {
    const pad = 2 * CELL_PAD_X + 0.5;
    const style = (i: number): FontStyle => (i === 0 ? 'bold' : 'regular');
    const natural = Array.from({ length: columns }, (_, c) => pad + Math.max(...rows.map((r, i) => this.naturalWidth(r[c] ?? '', style(i), BODY_SIZE))));
    const minimum = Array.from({ length: columns }, (_, c) =>
      Math.min(natural[c] ?? 0, Math.max(24, pad + Math.max(...rows.map((r, i) => this.longestWord(r[c] ?? '', style(i), BODY_SIZE))))),
    );
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const totalNatural = sum(natural);
    if (totalNatural <= CONTENT_WIDTH) return natural.map((w) => (w / totalNatural) * CONTENT_WIDTH);
    const widths: (number | undefined)[] = new Array<number | undefined>(columns).fill(undefined);
    let remaining = CONTENT_WIDTH;
    for (let changed = true; changed; ) {
      changed = false;
      const open = widths.flatMap((w, c) => (w === undefined ? [c] : []));
      const share = remaining / Math.max(1, open.length);
      for (const c of open) {
        if ((natural[c] ?? 0) <= share) {
          widths[c] = natural[c] ?? 0;
          remaining -= widths[c];
          changed = true;
        }
      }
    }
    const open = widths.flatMap((w, c) => (w === undefined ? [c] : []));
    const openMin = sum(open.map((c) => minimum[c] ?? 0));
    if (openMin >= remaining) {
      // Not even the longest words fit: share by them (they will be broken between characters).
      open.forEach((c) => (widths[c] = ((minimum[c] ?? 0) / openMin) * remaining));
      return widths.map((w) => w ?? 0);
    }
    const spare = remaining - openMin;
    const wants = open.map((c) => (natural[c] ?? 0) - (minimum[c] ?? 0));
    const totalWants = sum(wants);
    open.forEach((c, k) => (widths[c] = (minimum[c] ?? 0) + (totalWants > 0 ? ((wants[k] ?? 0) / totalWants) * spare : spare / open.length)));
    return widths.map((w) => w ?? 0);
  }

  /** Rows of wrapped cells; a row that does not fit goes to the next page (split only if taller than a page); the header repeats. */
  private grid(g: { header: string[] | undefined; rows: string[][]; widths: number[]; styles: FontStyle[]; alignRight: Set<number>; borders: boolean }): void {
    const lh = BODY_SIZE * LINE_FACTOR;
    const padY = g.borders ? CELL_PAD_Y : 1.5;
    // Bordered cells are padded on both sides; borderless ones line up with the text around them.
    const padLeft = g.borders ? CELL_PAD_X : 0;
    const padRight = g.borders ? CELL_PAD_X : 12;
    const fmtFor = (style: FontStyle): TextFormat => ({ style, size: BODY_SIZE, color: TEXT });
    const cellLines = (row: string[], header: boolean): Line[][] =>
      g.widths.map((w, c) => this.layout(row[c] ?? '', fmtFor(header ? 'bold' : (g.styles[c] ?? 'regular')), Math.max(1, w - padLeft - padRight)));
    const headerLines = g.header ? cellLines(g.header, true) : undefined;
    const headerHeight = headerLines ? Math.max(...headerLines.map((l) => l.length)) * lh + 2 * padY : 0;

    const drawSegment = (cells: Line[][], from: number[], count: number, header: boolean): void => {
      const height = count * lh + 2 * padY;
      let x = MARGIN_X;
      g.widths.forEach((w, c) => {
        if (header) this.doc.save().rect(x, this.y, w, height).fill(TABLE_HEADER_FILL).restore();
        if (g.borders) this.doc.save().lineWidth(0.5).strokeColor(TABLE_BORDER).rect(x, this.y, w, height).stroke().restore();
        const fmt = fmtFor(header ? 'bold' : (g.styles[c] ?? 'regular'));
        const lines = (cells[c] ?? []).slice(from[c] ?? 0, (from[c] ?? 0) + count);
        lines.forEach((line, k) => this.drawLine(line, x + padLeft, this.y + padY + k * lh, fmt, w - padLeft - padRight, g.alignRight.has(c) ? 'right' : 'left'));
        x += w;
      });
      this.y += height;
    };
    const drawHeader = (): void => {
      if (headerLines) drawSegment(headerLines, headerLines.map(() => 0), Math.max(...headerLines.map((l) => l.length)), true);
    };
    const pageBreak = (): void => {
      this.newPage();
      drawHeader();
    };

    const rows = g.rows.map((row) => cellLines(row, false));
    const rowHeight = (cells: Line[][]): number => Math.max(...cells.map((l) => l.length)) * lh + 2 * padY;
    // The header goes to the next page unless the first row fits under it here (or a few lines of a
    // row taller than a page, which is split anyway).
    const first = rows[0] ? rowHeight(rows[0]) : 0;
    this.ensure(headerHeight + (headerHeight + first <= CONTENT_BOTTOM - MARGIN_TOP ? first : 3 * lh + 2 * padY));
    drawHeader();
    let rowsOnPage = 0;
    for (const cells of rows) {
      const from = cells.map(() => 0);
      for (;;) {
        const remaining = Math.max(...cells.map((l, c) => l.length - (from[c] ?? 0)));
        if (this.y + remaining * lh + 2 * padY <= CONTENT_BOTTOM + 0.01) {
          drawSegment(cells, from, remaining, false);
          rowsOnPage++;
          break;
        }
        if (rowsOnPage > 0) {
          pageBreak();
          rowsOnPage = 0;
          continue;
        }
        const fit = Math.max(1, Math.floor((CONTENT_BOTTOM - this.y - 2 * padY) / lh + 1e-6));
        drawSegment(cells, from, fit, false);
        from.forEach((f, c) => (from[c] = f + fit));
        pageBreak();
      }
    }
  }

  private image(png: Buffer, alt: string, width?: number): void {
    const altFmt: TextFormat = { style: 'italic', size: SMALL_SIZE, color: MUTED };
    const decoded = normalizePng(png);
    if (!decoded) {
      const fmt: TextFormat = { style: 'italic', size: BODY_SIZE, color: MUTED };
      const text = clean(alt).trim();
      this.flowLines(this.layout(`[Image not available${text ? `: ${text}` : ''}]`, fmt, CONTENT_WIDTH), fmt, MARGIN_X, CONTENT_WIDTH);
      this.y += BLOCK_GAP;
      return;
    }
    const altLines = clean(alt).trim() ? this.layout(alt, altFmt, CONTENT_WIDTH) : [];
    const altHeight = altLines.length * SMALL_SIZE * LINE_FACTOR + (altLines.length > 0 ? 3 : 0);
    // 96 dpi by default (a chart's 800 px is 600 pt), never wider than the text or taller than a page.
    let w = typeof width === 'number' && Number.isFinite(width) && width > 0 ? width : decoded.width * 0.75;
    w = Math.min(w, CONTENT_WIDTH);
    let h = (w * decoded.height) / decoded.width;
    const maxHeight = CONTENT_BOTTOM - MARGIN_TOP - altHeight;
    if (h > maxHeight) {
      w = (w * maxHeight) / h;
      h = maxHeight;
    }
    this.ensure(h + altHeight);
    this.doc.image(decoded.data, MARGIN_X, this.y, { width: w, height: h });
    this.y += h + 3;
    this.flowLines(altLines, altFmt, MARGIN_X, CONTENT_WIDTH);
    this.y += BLOCK_GAP;
  }

  private footers(footer: string | undefined): void {
    const fmt: TextFormat = { style: 'regular', size: SMALL_SIZE, color: MUTED };
    const range = this.doc.bufferedPageRange();
    const prefix = oneLine(footer);
    for (let i = 0; i < range.count; i++) {
      this.doc.switchToPage(range.start + i);
      const pages = `page ${i + 1} of ${range.count}`;
      let text = prefix ? `${prefix} — ${pages}` : pages;
      let line = this.singleLine(text, fmt);
      // Too long for one line: shorten the caller's text, never the page numbers.
      for (let keep = prefix.length - 1; line.width > CONTENT_WIDTH && keep > 0; keep = Math.floor(keep * 0.9)) {
        text = `${Array.from(prefix).slice(0, keep).join('').trimEnd()}… — ${pages}`;
        line = this.singleLine(text, fmt);
      }
      this.doc.save().lineWidth(0.5).strokeColor(RULE).moveTo(MARGIN_X, FOOTER_BASELINE - 12).lineTo(MARGIN_X + CONTENT_WIDTH, FOOTER_BASELINE - 12).stroke().restore();
      this.drawLine(line, MARGIN_X, FOOTER_BASELINE - SMALL_SIZE * ASCENT, fmt, CONTENT_WIDTH, 'center');
    }
  }

  private singleLine(text: string, fmt: TextFormat): Line {
    const spans = this.segment(text, fmt.style);
    return { spans, width: this.spansWidth(spans, fmt.size) };
  }
}

/**
 * Decodes the PNG fully (pngjs: signature, CRCs, zlib stream) and re-encodes it as plain 8-bit RGB or
 * RGBA, or returns undefined when it cannot be read. PDFKit itself decodes images with an alpha
 * channel asynchronously and throws from a zlib callback on corrupt data, which no caller could catch.
 */
function normalizePng(input: unknown): { data: Buffer; width: number; height: number } | undefined {
  if (!(input instanceof Uint8Array) || input.length < 33) return undefined;
  const png = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // IHDR is the first chunk: refuse absurd sizes before allocating for them.
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) return undefined;
  try {
    const { PNG } = pngjs();
    const decoded = PNG.sync.read(png);
    let opaque = true;
    for (let i = 3; i < decoded.data.length; i += 4) {
      if (decoded.data[i] !== 255) {
        opaque = false;
        break;
      }
    }
    const data = PNG.sync.write(decoded, { colorType: opaque ? 2 : 6, inputColorType: 6, inputHasAlpha: true });
    return { data, width: decoded.width, height: decoded.height };
  } catch {
    return undefined;
  }
}

/**
 * Renders the blocks to an A4 PDF with selectable text and "page N of M" footers.
 * The same spec always gives the same bytes.
 */
export function renderPdf(spec: PdfDocumentSpec): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    try {
      const createdAt = spec.createdAt;
      if (!(createdAt instanceof Date) || Number.isNaN(createdAt.getTime())) {
        throw new TypeError('renderPdf: createdAt must be a valid Date');
      }
      const info: PDFKit.DocumentInfo = {
        Title: oneLine(spec.title),
        Creator: 'Duty Desk',
        Producer: 'Duty Desk (PDFKit)',
        CreationDate: createdAt,
        ModDate: createdAt,
      };
      if (spec.author !== undefined) info.Author = oneLine(spec.author);
      if (spec.subject !== undefined) info.Subject = oneLine(spec.subject);
      const PDFDocument = pdfkit();
      const doc = new PDFDocument({ size: 'A4', margin: 0, bufferPages: true, displayTitle: true, info });
      const chunks: Buffer[] = [];
      doc.on('data', (chunk: Buffer) => chunks.push(chunk));
      doc.on('end', () => resolve(Buffer.concat(chunks)));
      doc.on('error', reject);
      new Renderer(doc).render(spec);
      doc.end();
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
