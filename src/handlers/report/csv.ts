// CSV exports of report figures, made for Excel as much as for scripts: UTF-8 with a byte order mark
// (without it Excel reads UTF-8 as the local code page), CRLF line ends, RFC 4180 quoting by csv-stringify.
import { stringify } from 'csv-stringify/sync';

export type CsvCell = string | number | null | undefined | Date;

/**
 * Text that a spreadsheet would take as a formula or a command (OWASP "CSV injection"): a cell
 * starting with = + - @, a tab or a carriage return. Such text gets a leading apostrophe, which
 * spreadsheets treat as "this is text". Numbers are written as numbers, negative ones included.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** A CSV file: the header line, then the rows. null and undefined are empty cells; dates are ISO 8601 UTC. */
export function toCsv(headers: string[], rows: CsvCell[][]): Buffer {
  const text = stringify([headers.map(cell), ...rows.map((r) => r.map(cell))], { bom: true, record_delimiter: 'windows' });
  return Buffer.from(text, 'utf8');
}
