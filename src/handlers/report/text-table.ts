// A chart's figures as plain text, for screen readers and clients that show no image. Meant for a
// monospace block (a Slack ``` block, a Teams code block, the console).

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Characters most monospace fonts draw two cells wide: CJK, Hangul, full-width forms, emoji. */
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]|\p{Extended_Pictographic}/u;

/** Columns the text takes in a monospace font: one per character as seen, two for wide ones. */
function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += WIDE.test(segment) ? 2 : 1;
  return width;
}

function cellText(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  // One line per row: line breaks and tabs become spaces, other control characters go.
  // eslint-disable-next-line no-control-regex
  return value.replace(/\r\n|[\r\n\t\v\f\u2028\u2029]/g, ' ').replace(/[\u0000-\u001F\u007F]/g, '');
}

function pad(text: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? fill + text : text + fill;
}

/**
 * An aligned plain-text table: a header line, a rule of dashes, then one line per row, columns two
 * spaces apart. Numbers are right-aligned (and so is the header of a column of numbers); text is
 * left-aligned. Short rows are padded; no line ends in spaces.
 */
export function textTable(headers: string[], rows: (string | number)[][]): string {
  const columns = Math.max(headers.length, ...rows.map((r) => r.length));
  const head = Array.from({ length: columns }, (_, c) => cellText(headers[c]));
  const body = rows.map((r) => Array.from({ length: columns }, (_, c) => cellText(r[c])));
  const numericColumn = Array.from({ length: columns }, (_, c) => {
    const cells = rows.map((r) => r[c]).filter((v) => v !== undefined && v !== '');
    return cells.length > 0 && cells.every((v) => typeof v === 'number');
  });
  const widths = Array.from({ length: columns }, (_, c) => Math.max(displayWidth(head[c] ?? ''), ...body.map((r) => displayWidth(r[c] ?? ''))));
  const line = (cells: string[], rightAligned: (c: number) => boolean) =>
    cells
      .map((text, c) => pad(text, widths[c] ?? 0, rightAligned(c)))
      .join('  ')
      .trimEnd();
  return [
    line(head, (c) => numericColumn[c] ?? false),
    line(
      widths.map((w) => '-'.repeat(w)),
      () => false,
    ),
    ...body.map((cells, i) => line(cells, (c) => typeof rows[i]?.[c] === 'number')),
  ].join('\n');
}
