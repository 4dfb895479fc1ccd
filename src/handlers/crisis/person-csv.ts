// People lists as CSV: the spreadsheets that consulates, airlines, tour operators and hotels send
// in a crisis, and our own export. Reading streams through csv-parse, so 100,000 rows never sit in
// memory as objects at once; each row comes out whole (a record) or not at all (its problems).
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { restoreCsvText, toCsv, type CsvCell } from '../report/csv';
import { emptyPersonRecord, type PersonField, type PersonRecord } from './person-record';

export type CsvEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a CSV file: UTF-8 with or without a byte order mark, UTF-16 with one (Excel's
 * "Unicode text"), and otherwise, when the bytes are not valid UTF-8, Windows-1252 (what Excel
 * on Windows in Western Europe writes as "CSV"; it also covers ISO-8859-1).
 */
export function decodeCsvBytes(buf: Buffer): { text: string; encoding: CsvEncoding } {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    try {
      return { text: UTF8.decode(buf.subarray(3)), encoding: 'utf-8-bom' };
    } catch {
      // A BOM followed by bytes that are not UTF-8: fall through to Windows-1252.
    }
  } else if (buf[0] === 0xff && buf[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(buf.subarray(2)), encoding: 'utf-16le' };
  } else if (buf[0] === 0xfe && buf[1] === 0xff) {
    return { text: new TextDecoder('utf-16be').decode(buf.subarray(2)), encoding: 'utf-16be' };
  } else {
    try {
      return { text: UTF8.decode(buf), encoding: 'utf-8' };
    } catch {
      // Not UTF-8.
    }
  }
  return { text: decodeWindows1252(buf), encoding: 'windows-1252' };
}

/**
 * Windows-1252 bytes 0x80–0x9F (€, ‚, ƒ, „, …, smart quotes, Š, Ž, Ÿ…), by byte; the five bytes the
 * code page leaves undefined stay the C1 controls, as the WHATWG Encoding Standard says.
 */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

/**
 * Node's TextDecoder('windows-1252') decodes as ISO-8859-1 since Node 20.18.3 / 22.13.0 (bytes
 * 0x80–0x9F come out as C1 controls: nodejs/node#60888, #56542), so those 32 are mapped here;
 * where the decoder is right they are already mapped and this changes nothing.
 */
function decodeWindows1252(buf: Buffer): string {
  return new TextDecoder('windows-1252').decode(buf).replace(/[\u0080-\u009F]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] as string);
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Our export headers, in export order. mapHeaders recognises each, so export → import round-trips. */
export const CSV_COLUMNS: readonly { field: PersonField; header: string }[] = [
  { field: 'sourceId', header: 'ID' },
  { field: 'fullName', header: 'Full name' },
  { field: 'givenName', header: 'Given name' },
  { field: 'familyName', header: 'Family name' },
  { field: 'alternateNames', header: 'Alternate names' },
  { field: 'sex', header: 'Sex' },
  { field: 'dateOfBirth', header: 'Date of birth' },
  { field: 'age', header: 'Age' },
  { field: 'nationality', header: 'Nationality' },
  { field: 'passportNumber', header: 'Passport number' },
  { field: 'homeStreet', header: 'Home street' },
  { field: 'homeNeighborhood', header: 'Home neighborhood' },
  { field: 'homeCity', header: 'Home city' },
  { field: 'homeState', header: 'Home state' },
  { field: 'homePostalCode', header: 'Home postal code' },
  { field: 'homeCountry', header: 'Home country' },
  { field: 'location', header: 'Location' },
  { field: 'latitude', header: 'Latitude' },
  { field: 'longitude', header: 'Longitude' },
  { field: 'phone', header: 'Phone' },
  { field: 'email', header: 'Email' },
  { field: 'nokName', header: 'Next of kin' },
  { field: 'nokRelationship', header: 'Next of kin relationship' },
  { field: 'nokPhone', header: 'Next of kin phone' },
  { field: 'nokEmail', header: 'Next of kin email' },
  { field: 'description', header: 'Description' },
  { field: 'needs', header: 'Needs' },
  { field: 'household', header: 'Household' },
  { field: 'status', header: 'Status' },
  { field: 'source', header: 'Source' },
  { field: 'sourceDate', header: 'Source date' },
];

/** Header names people use, by field (English first, then French, Spanish, German). Compared after {@link headerKey}. */
const SYNONYMS: Record<PersonField, readonly string[]> = {
  sourceId: ['id', 'record id', 'person id', 'person record id', 'reference', 'ref', 'source id', 'external id', 'registration id', 'identifiant', 'référence'],
  fullName: ['full name', 'name', 'fullname', 'person name', 'name of person', 'traveller name', 'traveler name', 'passenger name', 'nom', 'nom complet', 'nombre completo', 'nombre', 'vollständiger name'],
  givenName: ['given name', 'given names', 'first name', 'first names', 'forename', 'forenames', 'christian name', 'prénom', 'prénoms', 'vorname', 'vornamen'],
  familyName: ['family name', 'last name', 'surname', 'nom de famille', 'apellido', 'apellidos', 'nachname', 'familienname'],
  alternateNames: ['alternate names', 'alternate name', 'other names', 'alias', 'aliases', 'aka', 'also known as', 'nickname', 'maiden name', 'autres noms'],
  sex: ['sex', 'gender', 'sexe', 'genre', 'sexo', 'geschlecht'],
  dateOfBirth: ['date of birth', 'dob', 'birth date', 'birthdate', 'born', 'date de naissance', 'fecha de nacimiento', 'geburtsdatum'],
  age: ['age', 'âge', 'edad', 'alter'],
  nationality: ['nationality', 'citizenship', 'nationalité', 'nacionalidad', 'staatsangehörigkeit'],
  passportNumber: ['passport number', 'passport', 'passport no', 'passport nr', 'passport num', 'document number', 'document no', 'travel document number', 'id document number', 'passeport', 'numéro de passeport', 'n° passeport', 'pasaporte', 'reisepass', 'reisepassnummer'],
  homeStreet: ['home street', 'street', 'home address', 'address', 'street address', 'address line 1', 'adresse', 'dirección', 'straße', 'strasse'],
  homeNeighborhood: ['home neighborhood', 'home neighbourhood', 'neighborhood', 'neighbourhood', 'district', 'quartier', 'barrio'],
  homeCity: ['home city', 'city', 'town', 'home town', 'ville', 'ciudad', 'stadt', 'ort'],
  homeState: ['home state', 'state', 'province', 'region', 'county', 'région', 'provincia', 'bundesland'],
  homePostalCode: ['home postal code', 'postal code', 'postcode', 'post code', 'zip', 'zip code', 'code postal', 'código postal', 'plz', 'postleitzahl'],
  homeCountry: ['home country', 'country', 'country of residence', 'pays', 'país', 'land'],
  location: ['location', 'current location', 'last known location', 'whereabouts', 'local address', 'current address', 'accommodation', 'hotel', 'localisation', 'lieu', 'ubicación', 'aufenthaltsort'],
  latitude: ['latitude', 'lat'],
  longitude: ['longitude', 'lon', 'lng', 'long'],
  phone: ['phone', 'phone number', 'mobile', 'mobile number', 'mobile phone', 'cell', 'cell phone', 'tel', 'telephone', 'telephone number', 'contact number', 'téléphone', 'portable', 'teléfono', 'móvil', 'telefon', 'handy'],
  email: ['email', 'e-mail', 'email address', 'e-mail address', 'mail', 'courriel', 'correo', 'correo electrónico'],
  nokName: ['next of kin', 'next of kin name', 'nok', 'nok name', 'emergency contact', 'emergency contact name', 'personne à prévenir', 'contacto de emergencia', 'notfallkontakt'],
  nokRelationship: ['next of kin relationship', 'nok relationship', 'emergency contact relationship', 'relationship', 'relation', 'lien de parenté'],
  nokPhone: ['next of kin phone', 'nok phone', 'emergency contact phone', 'emergency contact number', 'emergency phone'],
  nokEmail: ['next of kin email', 'nok email', 'emergency contact email'],
  description: ['description', 'notes', 'note', 'comments', 'comment', 'remarks', 'details', 'other', 'observations', 'remarques', 'commentaires', 'bemerkungen'],
  needs: ['needs', 'assistance needed', 'help needed', 'assistance', 'besoins', 'necesidades'],
  household: ['household', 'group', 'family group', 'household id', 'group id', 'travel group', 'party', 'foyer', 'groupe'],
  status: ['status', 'welfare status', 'statut', 'estado'],
  source: ['source', 'source name', 'reported by', 'informant', 'provenance', 'fuente'],
  sourceDate: ['source date', 'date reported', 'reported on', 'report date', 'reported at', 'date du signalement'],
};

/** A header compared without case, accents, spaces, underscores, hyphens or punctuation ("Passport No." = "passport_no"). */
export function headerKey(header: string): string {
  return header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const FIELD_BY_KEY: ReadonlyMap<string, PersonField> = (() => {
  const map = new Map<string, PersonField>();
  for (const [field, names] of Object.entries(SYNONYMS) as [PersonField, readonly string[]][]) {
    for (const name of names) {
      const key = headerKey(name);
      const taken = map.get(key);
      if (taken && taken !== field) throw new Error(`header synonym "${name}" is listed for ${taken} and ${field}`);
      map.set(key, field);
    }
  }
  return map;
})();

export interface HeaderAnalysis {
  /** The field each column fills, by column; null for a column that fills none. */
  mapping: (PersonField | null)[];
  /** Headers we do not recognise (their values come back in each row's `extra`). */
  unmapped: string[];
  /** Recognised headers whose field an earlier column already fills (ignored, values in `extra`). */
  duplicates: string[];
  /** What the file lacks to be imported at all: a full name, or a given and a family name. */
  missingRequired: string[];
}

/**
 * Columns to fields. "Nom" or "Name" next to a first-name column and no last-name column is the
 * family name (French "Nom, Prénom", German "Name, Vorname"); otherwise it is the full name.
 */
export function mapHeaders(headers: readonly string[]): HeaderAnalysis {
  const keys = headers.map(headerKey);
  const found = keys.map((k) => FIELD_BY_KEY.get(k) ?? null);
  if (found.includes('givenName') && !found.includes('familyName')) {
    const i = keys.findIndex((k, j) => found[j] === 'fullName' && (k === 'nom' || k === 'name'));
    if (i >= 0) found[i] = 'familyName';
  }
  const mapping: (PersonField | null)[] = [];
  const unmapped: string[] = [];
  const duplicates: string[] = [];
  const taken = new Set<PersonField>();
  found.forEach((field, i) => {
    const header = headers[i] ?? '';
    if (field === null) {
      mapping.push(null);
      unmapped.push(header.trim() === '' ? `(column ${i + 1})` : header);
    } else if (taken.has(field)) {
      mapping.push(null);
      duplicates.push(header);
    } else {
      taken.add(field);
      mapping.push(field);
    }
  });
  const missingRequired = taken.has('fullName') || (taken.has('givenName') && taken.has('familyName')) ? [] : ['full name (or given name and family name)'];
  return { mapping, unmapped, duplicates, missingRequired };
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface CsvRowProblem {
  /** The spreadsheet row: the header is row 1, the first person row 2. */
  row: number;
  /** The column's header, or '' for a problem with the row as a whole. */
  column: string;
  problem: string;
}

export interface PeopleCsvRow {
  /** The spreadsheet row: the header is row 1, the first person row 2. */
  row: number;
  /** The person, when the row could be read; absent when it has problems. */
  record?: PersonRecord;
  /** Non-empty cells of unrecognised (or duplicate) columns, by header. */
  extra?: Record<string, string>;
  problems: CsvRowProblem[];
}

export interface ReadPeopleCsvOptions {
  /** Called with the number of person rows done, every `progressEvery` rows and at the end; awaited. */
  onProgress?(rowsDone: number): void | Promise<void>;
  /** Default 1,000. */
  progressEvery?: number;
}

export interface PeopleCsv {
  encoding: CsvEncoding;
  delimiter: ',' | ';' | '\t';
  headers: HeaderAnalysis & { names: string[] };
  /**
   * The person rows, streamed, in file order; empty rows are skipped silently. Read once. Nothing
   * comes out when `headers.missingRequired` is not empty: without a name column no row is a person.
   */
  rows: AsyncIterable<PeopleCsvRow>;
}

type CsvEvent = { row: number; cells: string[] } | { row: number; error: string };

const CHUNK = 64 * 1024;

function* chunks(text: string): Generator<string> {
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + CHUNK, text.length);
    // Never split a surrogate pair: csv-parse turns each chunk into UTF-8 bytes.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    yield text.slice(at, end);
    at = end;
  }
}

/** The delimiter of the header line: comma, semicolon (Excel in much of Europe) or tab, whichever is most frequent. */
function detectDelimiter(text: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && (c === ',' || c === ';' || c === '\t')) counts[c] += 1;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[',']) return '\t';
  return ',';
}

function describeCsvError(err: CsvError): string {
  const line = typeof err.lines === 'number' ? ` (line ${err.lines} of the file)` : '';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a quoted cell is never closed${line}; the rest of the file could not be read`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `broken quoting: a closing quote is followed by other characters${line}; the row was not read`;
    case 'INVALID_OPENING_QUOTE':
      return `broken quoting: a quote inside a cell that does not start with one${line}; put the cell in quotes and double the inner quotes; the row was not read`;
    case 'CSV_MAX_RECORD_SIZE':
      return `a row is too long to be read${line}`;
    default:
      return `the row could not be read${line}: ${err.message}`;
  }
}

/**
 * Rows of the CSV text in order, numbered as a spreadsheet would number them. csv-parse skips a
 * row it cannot read and tells on_skip; a skip is put in order by the count of records emitted
 * before it (err.records), so the numbering stays right though the stream reads ahead.
 */
async function* csvEvents(text: string, delimiter: string): AsyncGenerator<CsvEvent> {
  const skips: { records: number; lines: number; error: string }[] = [];
  const parser = parse({
    delimiter,
    relax_column_count: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (err) => {
      if (!err) return undefined;
      const records = typeof err.records === 'number' ? err.records : 0;
      const lines = typeof err.lines === 'number' ? err.lines : -1;
      const prev = skips[skips.length - 1];
      // One bad row can raise several errors at the same place: report it once.
      if (!prev || prev.records !== records || prev.lines !== lines) skips.push({ records, lines, error: describeCsvError(err) });
      return undefined;
    },
  });
  const source = Readable.from(chunks(text));
  source.pipe(parser);
  let row = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { records: number } }>) {
      while (skips.length > 0 && (skips[0] as { records: number }).records < item.info.records) {
        row += 1;
        yield { row, error: (skips.shift() as { error: string }).error };
      }
      row += 1;
      yield { row, cells: item.record };
    }
  } catch (e) {
    for (const skip of skips.splice(0)) {
      row += 1;
      yield { row, error: skip.error };
    }
    const err = e as CsvError;
    yield { row: row + 1, error: typeof err.code === 'string' ? describeCsvError(err) : `the file could not be read further: ${err.message}` };
    return;
  } finally {
    source.destroy();
    parser.destroy();
  }
  for (const skip of skips) {
    row += 1;
    yield { row, error: skip.error };
  }
}

/** A cell's value: trimmed, with the apostrophe toCsv puts before formula-like text ("'=…") taken off again. */
function cellValue(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const v = restoreCsvText(raw.trim()).trim();
  return v === '' ? null : v;
}

function splitNames(value: string): string[] {
  return value
    .split(/\r\n|[\r\n;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function toRow(row: number, cells: string[], names: string[], mapping: (PersonField | null)[]): PeopleCsvRow {
  const problems: CsvRowProblem[] = [];
  if (cells.length > names.length && cells.slice(names.length).some((c) => c.trim() !== '')) {
    problems.push({ row, column: '', problem: `the row has ${cells.length} cells but the header has ${names.length} columns; cells may have shifted, so the row was not read` });
    return { row, problems };
  }
  if (cells.length < names.length) {
    problems.push({ row, column: '', problem: `the row has ${cells.length} cells but the header has ${names.length} columns; the row may be cut short, so it was not read` });
    return { row, problems };
  }
  const record = emptyPersonRecord('');
  let extra: Record<string, string> | undefined;
  mapping.forEach((field, i) => {
    const value = cellValue(cells[i]);
    if (value === null) return;
    if (field === null) {
      extra ??= {};
      extra[names[i]?.trim() || `(column ${i + 1})`] = value;
    } else if (field === 'alternateNames') {
      record.alternateNames = splitNames(value);
    } else {
      record[field] = value;
    }
  });
  if (record.fullName === '') {
    const composed = [record.givenName, record.familyName].filter((s): s is string => s !== null).join(' ');
    if (composed === '') {
      const i = mapping.indexOf('fullName');
      const column = i >= 0 ? (names[i] ?? '') : [names[mapping.indexOf('givenName')], names[mapping.indexOf('familyName')]].filter(Boolean).join(' / ');
      problems.push({ row, column, problem: 'no name' });
      return extra ? { row, extra, problems } : { row, problems };
    }
    record.fullName = composed;
  }
  return extra ? { row, record, extra, problems } : { row, record, problems };
}

/**
 * Opens a people CSV: decodes it, reads and maps the header, and returns the person rows as a
 * stream. Broken quoting is reported on the row it breaks (csv-parse then resumes at the next row
 * it can find; an unclosed quote swallows the rest of the file and says so).
 */
export async function readPeopleCsv(buf: Buffer, opts: ReadPeopleCsvOptions = {}): Promise<PeopleCsv> {
  const { text, encoding } = decodeCsvBytes(buf);
  const delimiter = detectDelimiter(text);
  const events = csvEvents(text, delimiter);
  const first = await events.next();
  let names: string[] = [];
  let headerError: string | null = null;
  if (!first.done) {
    if ('cells' in first.value) names = first.value.cells.map((h) => h.trim());
    else headerError = first.value.error;
  }
  const analysis = mapHeaders(names);
  if (headerError) analysis.missingRequired.push(`a readable header row (${headerError})`);
  const every = Math.max(1, Math.floor(opts.progressEvery ?? 1000));

  async function* rows(): AsyncGenerator<PeopleCsvRow> {
    if (analysis.missingRequired.length > 0 || first.done) {
      await events.return(undefined);
      return;
    }
    let done = 0;
    let reported = 0;
    for await (const ev of events) {
      if ('error' in ev) {
        yield { row: ev.row, problems: [{ row: ev.row, column: '', problem: ev.error }] };
      } else {
        if (ev.cells.every((c) => c.trim() === '')) continue;
        yield toRow(ev.row, ev.cells, names, analysis.mapping);
      }
      done += 1;
      if (opts.onProgress && done % every === 0) {
        reported = done;
        await opts.onProgress(done);
      }
    }
    if (opts.onProgress && reported !== done) await opts.onProgress(done);
  }

  return { encoding, delimiter, headers: { ...analysis, names }, rows: rows() };
}

/**
 * The person rows of a CSV file, streamed. When the header has no name column, yields one
 * problem on row 1 and stops; use {@link readPeopleCsv} to see the header analysis first.
 */
export async function* parsePeopleCsv(buf: Buffer, opts: ReadPeopleCsvOptions = {}): AsyncGenerator<PeopleCsvRow> {
  const csv = await readPeopleCsv(buf, opts);
  if (csv.headers.missingRequired.length > 0) {
    yield { row: 1, problems: csv.headers.missingRequired.map((m) => ({ row: 1, column: '', problem: `the header has no column for ${m}` })) };
    return;
  }
  yield* csv.rows;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface ExtraCsvColumn {
  header: string;
  value(record: PersonRecord): CsvCell;
}

/**
 * People as CSV, with our canonical headers (then any extra columns): UTF-8 with a BOM, CRLF,
 * formula-like cells neutralised by toCsv (reading undoes that). Alternate names are joined with "; ".
 */
export function writePeopleCsv(records: Iterable<PersonRecord>, extraColumns: readonly ExtraCsvColumn[] = []): Buffer {
  const headers = [...CSV_COLUMNS.map((c) => c.header), ...extraColumns.map((c) => c.header)];
  const rows: CsvCell[][] = [];
  for (const r of records) {
    const row: CsvCell[] = CSV_COLUMNS.map(({ field }) => (field === 'alternateNames' ? r.alternateNames.join('; ') || null : r[field]));
    for (const c of extraColumns) row.push(c.value(r));
    rows.push(row);
  }
  return toCsv(headers, rows);
}
