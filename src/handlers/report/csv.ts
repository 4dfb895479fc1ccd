// CSV exports of report figures, made for Excel as much as for scripts: UTF-8 with a byte order mark
// (without it Excel reads UTF-8 as the local code page), CRLF line ends, RFC 4180 quoting by
// papaparse (chosen over csv-stringify: 2.5 times faster, and a year of cases is 100,000 rows).
// Every CSV the bot writes goes through toCsv, so this is the one place that neutralises formulas.
import Papa from 'papaparse';

export type CsvCell = string | number | null | undefined | Date;

/**
 * Text that a spreadsheet would take as a formula or a command (OWASP "CSV injection"): a cell
 * starting with = + - @, also after leading white space (Google Sheets and LibreOffice trim it
 * before looking), or starting with a tab or a carriage return.
 *
 * Numbers are another matter: what the code holds as a number (counts, minutes, seat numbers) is
 * written as a number, negative ones included, and no spreadsheet runs a number. Text is judged by
 * its first character whatever it looks like: a negative coordinate or a "+44 …" phone number held
 * as text is written "'-8.65", "'+44 …" (shown as text; our import reads it back exactly), since a
 * rule for "text that looks like a number" is one more parser to get wrong.
 */
const FORMULA_START = /^[\s\u200b\ufeff]*[=+\-@]|^[\t\r]/;

/**
 * Whether a text cell gets the leading apostrophe. Text that already starts with apostrophes before
 * something dangerous gets one more, so that {@link restoreCsvText} gives back exactly what was
 * written: "'=x" typed by someone is written "''=x" and read back "'=x".
 */
function needsMark(text: string): boolean {
  // Iterative, not recursive: a cell of a million apostrophes must not exhaust the stack.
  let i = 0;
  while (text.charCodeAt(i) === 0x27) i += 1;
  return FORMULA_START.test(i === 0 ? text : text.slice(i));
}

/** A text cell as toCsv writes it: formula-like text gets a leading apostrophe, spreadsheets' "this is text". */
export function neutraliseCsvText(text: string): string {
  return needsMark(text) ? `'${text}` : text;
}

/** Undoes {@link neutraliseCsvText} (for reading our own exports back): exactly the text that was written. */
export function restoreCsvText(cell: string): string {
  return cell.startsWith("'") && needsMark(cell) ? cell.slice(1) : cell;
}

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  return neutraliseCsvText(value);
}

/** A CSV file: the header line, then the rows. null and undefined are empty cells; dates are ISO 8601 UTC. */
export function toCsv(headers: string[], rows: readonly (readonly CsvCell[])[]): Buffer {
  const text = Papa.unparse({ fields: headers.map(cell), data: rows.map((r) => r.map(cell)) }, { newline: '\r\n', quotes: false });
  // Papa ends the last record without a line break (except a header alone); tools prefer one.
  return Buffer.from(`\uFEFF${text}${text.endsWith('\r\n') ? '' : '\r\n'}`, 'utf8');
}
