import { parse } from 'csv-parse/sync';
import { toCsv } from '../../../src/handlers/report/csv';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const read = (buf: Buffer): string[][] => parse(buf, { bom: true, relax_column_count: true });

test('UTF-8 with a BOM and CRLF line ends; round-trips through csv-parse', () => {
  const buf = toCsv(['Name', 'Status', 'People'], [
    ['Zoë Łukasiewicz', 'safe', 3],
    ['Київ office', 'needs help', 12],
  ]);
  expect(buf.subarray(0, 3)).toEqual(BOM);
  const text = buf.subarray(3).toString('utf8');
  expect(text).toBe('Name,Status,People\r\nZoë Łukasiewicz,safe,3\r\nКиїв office,needs help,12\r\n');
  expect(read(buf)).toEqual([
    ['Name', 'Status', 'People'],
    ['Zoë Łukasiewicz', 'safe', '3'],
    ['Київ office', 'needs help', '12'],
  ]);
});

test('quotes, commas and line breaks inside cells survive', () => {
  const cells = ['He said "go", then left', 'a,b,c', 'line one\nline two', 'cr\r\nlf', ' padded ', ''];
  const buf = toCsv(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'], [cells]);
  expect(buf.toString('utf8')).toContain('"He said ""go"", then left","a,b,c"');
  expect(read(buf)[1]).toEqual(cells);
});

test('formula injection: text starting with = + - @ tab or CR gets an apostrophe; numbers stay numbers', () => {
  const evil = ['=SUM(A1)', '+1', '-2+3', '@cmd', '\t=1', '\r=1', '=HYPERLINK("http://x","y")'];
  const buf = toCsv(evil.map((_, i) => `c${i}`), [evil, [-2, 3.5, 0, -0.25, 1e21, -7, 8]]);
  const [, texts, numbers] = read(buf);
  expect(texts).toEqual(evil.map((v) => `'${v}`));
  expect(numbers).toEqual(['-2', '3.5', '0', '-0.25', '1e+21', '-7', '8']);
  // Headers are cells too.
  expect(read(toCsv(['=cmd|"/c calc"!A1'], []))).toEqual([['\'=cmd|"/c calc"!A1']]);
  // Text that merely contains those characters is left alone.
  expect(read(toCsv(['a'], [['1+1=2'], ['a-b'], ['e@mail.example']])).slice(1)).toEqual([['1+1=2'], ['a-b'], ['e@mail.example']]);
});

test('null and undefined are empty cells, dates are ISO 8601 UTC, non-finite numbers and invalid dates are empty', () => {
  const at = new Date('2026-11-22T16:05:00+01:00');
  const buf = toCsv(['a', 'b', 'c', 'd', 'e', 'f'], [[null, undefined, at, NaN, Infinity, new Date(Number.NaN)]]);
  expect(buf.subarray(3).toString('utf8')).toBe('a,b,c,d,e,f\r\n,,2026-11-22T15:05:00.000Z,,,\r\n');
  expect(read(buf)[1]).toEqual(['', '', '2026-11-22T15:05:00.000Z', '', '', '']);
});

test('an export with no rows is the header line', () => {
  expect(toCsv(['Case', 'Opened'], []).subarray(3).toString('utf8')).toBe('Case,Opened\r\n');
});
