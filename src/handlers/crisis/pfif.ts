// PFIF (People Finder Interchange Format, http://zesty.ca/pfif/): the XML that Google Person
// Finder and other missing-person registries exchange. Reads PFIF 1.4 (and 1.1–1.3 leniently:
// first_name, last_name, home_zip, other and found are read as their 1.4 names) and writes 1.4.
//
// Safety (the file comes from outside): a DOCTYPE or any other markup declaration is refused
// before any parsing, so there are no external entities (nothing is ever fetched or read), no
// parameter entities and no expansion bombs; fast-xml-parser runs with entity processing off, and
// the five XML entities and character references are decoded here, once, never recursively. Depth,
// element count and namespace declarations are bounded so that a hostile file costs time and
// memory in proportion to its size, within the import's 50 MB.
//
// No loss: elements PFIF does not define are kept in `extra` (and reported as warnings); a record
// with a bad date or without its id is rejected whole (reported as an error), never half read.
import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { emptyPersonRecord, type PersonRecord, type PfifNote, type PfifPersonExtras } from './person-record';

export const PFIF_NS = 'http://zesty.ca/pfif/1.4';
const PFIF_NAMESPACES = new Set(['http://zesty.ca/pfif/1.1', 'http://zesty.ca/pfif/1.2', 'http://zesty.ca/pfif/1.3', PFIF_NS]);

/** Person fields in PFIF 1.4 order. */
const PERSON_FIELDS = [
  'person_record_id', 'entry_date', 'expiry_date', 'author_name', 'author_email', 'author_phone',
  'source_name', 'source_date', 'source_url', 'full_name', 'given_name', 'family_name', 'alternate_names',
  'description', 'sex', 'date_of_birth', 'age', 'home_street', 'home_neighborhood', 'home_city', 'home_state',
  'home_postal_code', 'home_country', 'photo_url', 'profile_urls',
] as const;
type PersonFieldName = (typeof PERSON_FIELDS)[number];

/** Note fields in PFIF 1.4 order. */
const NOTE_FIELDS = [
  'note_record_id', 'person_record_id', 'linked_person_record_id', 'entry_date', 'author_name', 'author_email',
  'author_phone', 'source_date', 'author_made_contact', 'status', 'email_of_found_person', 'phone_of_found_person',
  'last_known_location', 'text', 'photo_url',
] as const;
type NoteFieldName = (typeof NOTE_FIELDS)[number];

/** Fields renamed in PFIF 1.2 and 1.4, read from documents in the older namespaces. */
const OLD_PERSON_FIELDS: Record<string, PersonFieldName> = { first_name: 'given_name', last_name: 'family_name', home_zip: 'home_postal_code', other: 'description' };
const OLD_NOTE_FIELDS: Record<string, NoteFieldName> = { found: 'author_made_contact' };

const DATE_FIELDS = new Set(['entry_date', 'expiry_date', 'source_date']);
const MULTILINE_PERSON_FIELDS = new Set(['full_name', 'alternate_names', 'profile_urls']);
export const PFIF_NOTE_STATUSES = ['information_sought', 'is_note_author', 'believed_alive', 'believed_missing', 'believed_dead'] as const;
export const PFIF_SEXES = ['female', 'male', 'other'] as const;

export interface PfifProblem {
  /** "person example.org/123", "note example.org/n1", or "person #3" when the record has no id. */
  record: string;
  /** The PFIF field (element name), or '' for the record as a whole. */
  field: string;
  problem: string;
  /** error: the record was not read (nor its notes, for a person); warning: read, with this remark. */
  severity: 'error' | 'warning';
}

export interface PfifParseResult {
  /** The persons read, in file order, each with its notes (nested or top-level) in `notes`. */
  persons: PersonRecord[];
  /** Every note read, flat: those of each person in person order, then notes about persons not in the file. */
  notes: PfifNote[];
  problems: PfifProblem[];
}

/** The document as a whole cannot be read (not XML, a DTD, not PFIF). */
export class PfifError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PfifError';
  }
}

// ---------------------------------------------------------------------------------------------
// XML tree with namespaces resolved

interface XmlElement {
  ns: string | null;
  local: string;
  children: (XmlElement | string)[];
}

type FxpNode = Record<string, unknown>;

/** PFIF nests four deep (feed, pfif, person, note, field); extensions get room, a nesting bomb does not. */
const MAX_DEPTH = 64;
/**
 * Elements in one document: a person is about 25, a note 15, so this is room for 100,000 people with
 * notes. Each element costs the parser about 350 bytes; 12 million bare `<a/>` in 50 MB would not fit in memory.
 */
export const MAX_PFIF_ELEMENTS = 4_000_000;
/** Namespace declarations in one document: PFIF uses one or two, an Atom feed a few more. */
const MAX_NAMESPACE_DECLARATIONS = 10_000;
const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_m, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (name) return NAMED[name] as string;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex as string, 16);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\uFFFD';
  });
}

function textOf(nodes: unknown): string {
  if (!Array.isArray(nodes)) return '';
  return nodes.map((n: FxpNode) => (typeof n['#text'] === 'string' ? n['#text'] : '')).join('');
}

/**
 * Namespace declarations in scope: each element that declares some gets its own small map, linked
 * to its parent's. Copying the whole scope per element would be quadratic (thousands of
 * declarations on the root, thousands of children each declaring one).
 */
interface Scope {
  declared: ReadonlyMap<string, string>;
  parent: Scope | null;
}

function lookup(scope: Scope | null, prefix: string): string | undefined {
  // At most MAX_DEPTH links.
  for (let s = scope; s !== null; s = s.parent) {
    const ns = s.declared.get(prefix);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

function buildTree(nodes: FxpNode[], scope: Scope, depth: number): (XmlElement | string)[] {
  if (depth > MAX_DEPTH) throw new PfifError(`elements are nested more than ${MAX_DEPTH} deep`);
  const out: (XmlElement | string)[] = [];
  for (const node of nodes) {
    if (typeof node['#text'] === 'string') {
      out.push(decodeEntities(node['#text']));
      continue;
    }
    if (Array.isArray(node['#cdata'])) {
      out.push(textOf(node['#cdata']));
      continue;
    }
    const qname = Object.keys(node).find((k) => k !== ':@' && k !== '#comment');
    if (qname === undefined) continue;
    const attrs = (node[':@'] ?? {}) as Record<string, string>;
    let declared: Map<string, string> | undefined;
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        (declared ??= new Map()).set(name === 'xmlns' ? '' : name.slice(6), decodeEntities(value));
      }
    }
    const inner: Scope = declared ? { declared, parent: scope } : scope;
    const colon = qname.indexOf(':');
    const prefix = colon >= 0 ? qname.slice(0, colon) : '';
    const local = colon >= 0 ? qname.slice(colon + 1) : qname;
    const ns = lookup(inner, prefix);
    if (ns === undefined && prefix !== '') throw new PfifError(`the namespace prefix "${prefix.slice(0, 40)}" of <${qname.slice(0, 80)}> is not declared`);
    out.push({ ns: ns === undefined || ns === '' ? null : ns, local, children: buildTree((node[qname] ?? []) as FxpNode[], inner, depth + 1) });
  }
  return out;
}

function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

function textContent(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textContent(c))).join('');
}

function escapeText(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; CR is kept as a reference (parsers turn a raw one into LF).
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** Inner XML of an extension element with child elements, kept as text in `extra`; each top-level child declares its namespaces. */
function serializeInner(el: XmlElement): string {
  const write = (e: XmlElement, prefixes: Map<string, string>): string => {
    let decl = '';
    let name = e.local;
    if (e.ns !== null) {
      let p = prefixes.get(e.ns);
      if (p === undefined) {
        p = `n${prefixes.size}`;
        prefixes.set(e.ns, p);
        decl = ` xmlns:${p}="${escapeAttr(e.ns)}"`;
      }
      name = `${p}:${e.local}`;
    }
    const inner = e.children.map((c) => (typeof c === 'string' ? escapeText(c) : write(c, new Map(prefixes)))).join('');
    return `<${name}${decl}>${inner}</${name}>`;
  };
  return el.children
    .map((c) => (typeof c === 'string' ? escapeText(c) : write(c, new Map())))
    .join('')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Field checks

const PFIF_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

function isPfifDate(s: string): boolean {
  const m = PFIF_DATE.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
}

function isPfifBirthDate(s: string): boolean {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(s);
  if (!m) return false;
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const t = new Date(Date.UTC(Number(m[1]), month - 1, day));
  return t.getUTCMonth() === month - 1 && t.getUTCDate() === day;
}

const AGE = /^\d{1,3}(?:-\d{1,3})?$/;

function lines(s: string): string[] {
  return s
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface RawRecord {
  fields: Map<string, string>;
  extra: Record<string, string> | undefined;
  nested: XmlElement[];
}

/** The record's own id (person_record_id or note_record_id), read before the rest to name it in problems. */
function recordId(el: XmlElement, kind: 'person' | 'note'): string | null {
  const idField = kind === 'person' ? 'person_record_id' : 'note_record_id';
  const found = elements(el).find((c) => c.ns !== null && PFIF_NAMESPACES.has(c.ns) && c.local === idField);
  const id = found ? textContent(found).trim() : '';
  return id === '' ? null : id;
}

function readRecord(el: XmlElement, kind: 'person' | 'note', label: string, problems: PfifProblem[]): RawRecord {
  const known: readonly string[] = kind === 'person' ? PERSON_FIELDS : NOTE_FIELDS;
  const old: Record<string, string> = kind === 'person' ? OLD_PERSON_FIELDS : OLD_NOTE_FIELDS;
  const fields = new Map<string, string>();
  let extra: Record<string, string> | undefined;
  const nested: XmlElement[] = [];
  for (const child of elements(el)) {
    const isPfif = child.ns !== null && PFIF_NAMESPACES.has(child.ns);
    if (isPfif && kind === 'person' && child.local === 'note') {
      nested.push(child);
      continue;
    }
    let field: string | undefined;
    if (isPfif && known.includes(child.local)) field = child.local;
    else if (isPfif && child.ns !== PFIF_NS) field = old[child.local];
    if (field !== undefined) {
      if (elements(child).length > 0) problems.push({ record: label, field: child.local, problem: 'contains elements; only its text was read', severity: 'warning' });
      const value = textContent(child).trim();
      const prev = fields.get(field);
      if (prev !== undefined) {
        if (kind === 'person' && MULTILINE_PERSON_FIELDS.has(field)) {
          fields.set(field, `${prev}\n${value}`);
          continue;
        }
        problems.push({ record: label, field: child.local, problem: 'appears more than once; the last one was kept', severity: 'warning' });
      }
      fields.set(field, value);
      continue;
    }
    const key = isPfif ? child.local : `{${child.ns ?? ''}}${child.local}`;
    const hasElements = elements(child).length > 0;
    const value = hasElements ? serializeInner(child) : textContent(child).trim();
    extra ??= {};
    extra[key] = extra[key] === undefined ? value : `${extra[key]}\n${value}`;
    problems.push({
      record: label,
      field: key,
      problem: hasElements ? `unknown ${kind} field, kept as XML text` : `unknown ${kind} field, kept as is`,
      severity: 'warning',
    });
  }
  return { fields, extra, nested };
}

function checkDates(fields: Map<string, string>, record: string, problems: PfifProblem[]): boolean {
  let ok = true;
  for (const [field, value] of fields) {
    if (DATE_FIELDS.has(field) && value !== '' && !isPfifDate(value)) {
      problems.push({ record, field, problem: `"${value.slice(0, 40)}" is not a UTC date-time YYYY-MM-DDTHH:MM:SSZ; the record was not read`, severity: 'error' });
      ok = false;
    }
  }
  return ok;
}

function opt(fields: Map<string, string>, name: string): string | null {
  const v = fields.get(name);
  return v === undefined || v === '' ? null : v;
}

function parseNote(el: XmlElement, parentId: string | null, index: number, problems: PfifProblem[]): PfifNote | null {
  const id = recordId(el, 'note');
  const record = id ? `note ${id}` : `note #${index}`;
  const { fields, extra } = readRecord(el, 'note', record, problems);
  let ok = checkDates(fields, record, problems);
  if (id === null) {
    problems.push({ record, field: 'note_record_id', problem: 'missing; the note was not read', severity: 'error' });
    ok = false;
  }
  const sourceDate = opt(fields, 'source_date');
  if (sourceDate === null) {
    problems.push({ record, field: 'source_date', problem: 'missing; the note was not read', severity: 'error' });
    ok = false;
  }
  let personId = opt(fields, 'person_record_id');
  if (parentId !== null && personId !== null && personId !== parentId) {
    problems.push({ record, field: 'person_record_id', problem: `is ${personId} but the note is inside person ${parentId}; the note was not read`, severity: 'error' });
    ok = false;
  }
  personId ??= parentId;
  if (personId === null) {
    problems.push({ record, field: 'person_record_id', problem: 'missing: the note is about no person; it was not read', severity: 'error' });
    ok = false;
  }
  const contact = opt(fields, 'author_made_contact');
  if (contact !== null && contact !== 'true' && contact !== 'false') {
    problems.push({ record, field: 'author_made_contact', problem: `"${contact.slice(0, 20)}" is neither true nor false; the note was not read`, severity: 'error' });
    ok = false;
  }
  if (!ok) return null;
  const status = opt(fields, 'status');
  if (status !== null && !(PFIF_NOTE_STATUSES as readonly string[]).includes(status)) {
    problems.push({ record, field: 'status', problem: `"${status.slice(0, 40)}" is not a PFIF status; kept as is`, severity: 'warning' });
  }
  if (opt(fields, 'author_name') === null) problems.push({ record, field: 'author_name', problem: 'missing', severity: 'warning' });
  const note: PfifNote = {
    noteRecordId: id as string,
    personRecordId: personId,
    linkedPersonRecordId: opt(fields, 'linked_person_record_id'),
    entryDate: opt(fields, 'entry_date'),
    authorName: fields.get('author_name') ?? '',
    authorEmail: opt(fields, 'author_email'),
    authorPhone: opt(fields, 'author_phone'),
    sourceDate: sourceDate as string,
    authorMadeContact: contact === null ? null : contact === 'true',
    status,
    emailOfFoundPerson: opt(fields, 'email_of_found_person'),
    phoneOfFoundPerson: opt(fields, 'phone_of_found_person'),
    lastKnownLocation: opt(fields, 'last_known_location'),
    text: fields.get('text') ?? '',
    photoUrl: opt(fields, 'photo_url'),
  };
  if (extra) note.extra = extra;
  return note;
}

/** Content fields: what an expired placeholder no longer has. */
const PLACEHOLDER_FIELDS = new Set(['person_record_id', 'source_date', 'entry_date', 'expiry_date']);

function parsePerson(el: XmlElement, index: number, problems: PfifProblem[]): { person: PersonRecord | null; id: string | null; nested: XmlElement[] } {
  const id = recordId(el, 'person');
  const record = id ? `person ${id}` : `person #${index}`;
  const { fields, extra, nested } = readRecord(el, 'person', record, problems);
  let ok = checkDates(fields, record, problems);
  if (id === null) {
    problems.push({ record, field: 'person_record_id', problem: 'missing; the person was not read', severity: 'error' });
    ok = false;
  } else if (!id.includes('/')) {
    problems.push({ record, field: 'person_record_id', problem: 'has no domain (domain/local-id)', severity: 'warning' });
  }
  const nameLines = lines(fields.get('full_name') ?? '');
  const given = opt(fields, 'given_name');
  const family = opt(fields, 'family_name');
  const placeholder =
    nameLines.length === 0 && given === null && family === null && opt(fields, 'expiry_date') !== null && [...fields].every(([k, v]) => PLACEHOLDER_FIELDS.has(k) || v === '') && extra === undefined;
  let fullName = nameLines[0] ?? '';
  if (fullName === '' && !placeholder) {
    fullName = [given, family].filter((s): s is string => s !== null).join(' ');
    if (fullName === '') {
      problems.push({ record, field: 'full_name', problem: 'missing, and no given_name or family_name; the person was not read', severity: 'error' });
      ok = false;
    } else if (el.ns === PFIF_NS) {
      problems.push({ record, field: 'full_name', problem: 'missing; made from given_name and family_name', severity: 'warning' });
    }
  }
  if (!ok) return { person: null, id, nested };
  if (opt(fields, 'source_date') === null) problems.push({ record, field: 'source_date', problem: 'missing', severity: 'warning' });
  const sex = opt(fields, 'sex');
  if (sex !== null && !(PFIF_SEXES as readonly string[]).includes(sex)) problems.push({ record, field: 'sex', problem: `"${sex.slice(0, 20)}" is not female, male or other; kept as is`, severity: 'warning' });
  const dob = opt(fields, 'date_of_birth');
  if (dob !== null && !isPfifBirthDate(dob)) problems.push({ record, field: 'date_of_birth', problem: `"${dob.slice(0, 20)}" is not YYYY, YYYY-MM or YYYY-MM-DD; kept as is`, severity: 'warning' });
  const age = opt(fields, 'age');
  if (age !== null && !AGE.test(age)) problems.push({ record, field: 'age', problem: `"${age.slice(0, 20)}" is not N or N-M; kept as is`, severity: 'warning' });

  const person = emptyPersonRecord(fullName);
  person.sourceId = id;
  person.givenName = given;
  person.familyName = family;
  person.alternateNames = [...nameLines.slice(1), ...lines(fields.get('alternate_names') ?? '')];
  person.description = opt(fields, 'description');
  person.sex = sex;
  person.dateOfBirth = dob;
  person.age = age;
  person.homeStreet = opt(fields, 'home_street');
  person.homeNeighborhood = opt(fields, 'home_neighborhood');
  person.homeCity = opt(fields, 'home_city');
  person.homeState = opt(fields, 'home_state');
  person.homePostalCode = opt(fields, 'home_postal_code');
  person.homeCountry = opt(fields, 'home_country');
  person.source = opt(fields, 'source_name');
  person.sourceDate = opt(fields, 'source_date');
  const pfif: PfifPersonExtras = { personRecordId: id as string };
  const set = (key: 'entryDate' | 'expiryDate' | 'authorName' | 'authorEmail' | 'authorPhone' | 'sourceUrl' | 'photoUrl', field: string): void => {
    const v = opt(fields, field);
    if (v !== null) pfif[key] = v;
  };
  set('entryDate', 'entry_date');
  set('expiryDate', 'expiry_date');
  set('authorName', 'author_name');
  set('authorEmail', 'author_email');
  set('authorPhone', 'author_phone');
  set('sourceUrl', 'source_url');
  set('photoUrl', 'photo_url');
  const profiles = lines(fields.get('profile_urls') ?? '');
  if (profiles.length > 0) pfif.profileUrls = profiles;
  if (nameLines.length > 1) pfif.fullNameLines = nameLines;
  if (extra) pfif.extra = extra;
  person.pfif = pfif;
  return { person, id, nested };
}

function findRecords(el: XmlElement, out: { persons: XmlElement[]; notes: XmlElement[] }): void {
  for (const child of elements(el)) {
    if (child.ns !== null && PFIF_NAMESPACES.has(child.ns) && child.local === 'person') out.persons.push(child);
    else if (child.ns !== null && PFIF_NAMESPACES.has(child.ns) && child.local === 'note') out.notes.push(child);
    else findRecords(child, out);
  }
}

function hasPfifElement(el: XmlElement): boolean {
  return (el.ns !== null && PFIF_NAMESPACES.has(el.ns)) || elements(el).some(hasPfifElement);
}

/**
 * Markup declarations: a DTD (internal or external), general and parameter entities, and the
 * declarations that only live in a DTD. Anywhere in the text, comments and CDATA included: PFIF
 * never needs them, and a false alarm costs less than a parser that honours one.
 */
const FORBIDDEN = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Start tags in the text (not end tags, comments, CDATA, declarations or processing instructions): a cheap upper bound of the elements. */
function countStartTags(xml: string, stopAfter: number): number {
  let n = 0;
  for (let i = xml.indexOf('<'); i >= 0 && n <= stopAfter; i = xml.indexOf('<', i + 1)) {
    const c = xml.charCodeAt(i + 1);
    // '/', '!', '?'
    if (c !== 0x2f && c !== 0x21 && c !== 0x3f) n += 1;
  }
  return n;
}

/** Occurrences of "xmlns" in the text: an upper bound of the namespace declarations, counted before parsing. */
function countXmlns(xml: string, stopAfter: number): number {
  let n = 0;
  for (let i = xml.indexOf('xmlns'); i >= 0 && n <= stopAfter; i = xml.indexOf('xmlns', i + 5)) n += 1;
  return n;
}

/** A parser message, cut short: fast-xml-parser can put the whole stack of open tags in one. */
function shortMessage(message: string): string {
  const one = message.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 299)}…` : one;
}

/**
 * fast-xml-parser, every option that matters for safety spelled out rather than left to defaults
 * that have changed between versions.
 */
const PARSER_OPTIONS: X2jOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Values stay text: "0012" is an id, not a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // No entity is expanded by the parser: not DTD ones (refused above anyway), not HTML ones
  // ("&nbsp;" is not XML). decodeEntities reads the five XML ones and character references once.
  processEntities: false,
  htmlEntities: false,
  // Attributes need values, as XML says.
  allowBooleanAttributes: false,
  // An element named like the parser's own keys (#text, #cdata) is refused. Names that would
  // pollute prototypes (__proto__, constructor, prototype) are always refused by the parser.
  strictReservedNames: true,
  maxNestedTags: MAX_DEPTH,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
  ignoreDeclaration: true,
  // Processing instructions (xml-stylesheet…) are dropped, never acted on.
  ignorePiTags: true,
  // Nothing is left unparsed inside a "stop node".
  stopNodes: [],
};

/**
 * Persons and notes of a PFIF document (a `pfif` root, or PFIF records inside an Atom or RSS
 * feed). Throws PfifError when the document as a whole cannot be read; problems with single
 * records come back in `problems`, and a record with an error is left out (a person with its notes).
 */
export function parsePfif(input: string | Buffer): PfifParseResult {
  let xml: string;
  if (typeof input === 'string') {
    xml = input.replace(/^\uFEFF/, '');
  } else {
    try {
      xml = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new PfifError('the file is not UTF-8 text');
    }
  }
  if (FORBIDDEN.test(xml)) throw new PfifError('the document has a DOCTYPE or ENTITY declaration, which PFIF never needs; refused for safety');
  if (countStartTags(xml, MAX_PFIF_ELEMENTS) > MAX_PFIF_ELEMENTS) {
    throw new PfifError(`the document has more than ${MAX_PFIF_ELEMENTS.toLocaleString('en')} elements; split it into smaller files`);
  }
  if (countXmlns(xml, MAX_NAMESPACE_DECLARATIONS) > MAX_NAMESPACE_DECLARATIONS) throw new PfifError(`the document declares more than ${MAX_NAMESPACE_DECLARATIONS} namespaces`);
  const parser = new XMLParser(PARSER_OPTIONS);
  let parsed: FxpNode[];
  try {
    const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
    if (valid !== true) {
      // The validator lists every open tag when the document ends early: say it in words.
      const msg = /^Invalid '\[/.test(valid.err.msg) ? 'the document ends before all its elements are closed' : shortMessage(valid.err.msg);
      throw new PfifError(`not well-formed XML (line ${valid.err.line}, column ${valid.err.col}): ${msg}`);
    }
    parsed = parser.parse(xml) as FxpNode[];
  } catch (e) {
    if (e instanceof PfifError) throw e;
    const message = (e as Error).message;
    if (/^Maximum nested tags exceeded/.test(message)) throw new PfifError(`elements are nested more than ${MAX_DEPTH} deep`);
    const reserved = /\[SECURITY\] Invalid name: "([^"]*)"/.exec(message);
    if (reserved) throw new PfifError(`an element or attribute is named "${reserved[1]}", which is refused for safety`);
    throw new PfifError(`the XML could not be read: ${shortMessage(message)}`);
  }
  const scope: Scope = { declared: new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), parent: null };
  const roots = buildTree(parsed, scope, 0).filter(
    (n): n is XmlElement => typeof n !== 'string',
  );
  const root = roots[0];
  if (!root || !hasPfifElement(root)) throw new PfifError(`not a PFIF document: no element in the PFIF namespace (${PFIF_NS})`);

  const problems: PfifProblem[] = [];
  const found = { persons: [] as XmlElement[], notes: [] as XmlElement[] };
  if (root.ns !== null && PFIF_NAMESPACES.has(root.ns) && (root.local === 'person' || root.local === 'note')) found[root.local === 'person' ? 'persons' : 'notes'].push(root);
  else findRecords(root, found);

  const persons: PersonRecord[] = [];
  const byId = new Map<string, PersonRecord>();
  const rejected = new Set<string>();
  const parsedNotes: PfifNote[] = [];
  let noteIndex = 0;
  found.persons.forEach((el, i) => {
    const parsed = parsePerson(el, i + 1, problems);
    const { id, nested } = parsed;
    let person = parsed.person;
    if (person && id !== null && byId.has(id)) {
      problems.push({ record: `person ${id}`, field: 'person_record_id', problem: 'appears twice in the file; the second was not read', severity: 'error' });
      person = null;
    } else if (!person && id !== null) {
      rejected.add(id);
    }
    if (!person) {
      for (const n of nested) {
        noteIndex += 1;
        const noteId = recordId(n, 'note');
        problems.push({
          record: noteId ? `note ${noteId}` : `note #${noteIndex}`,
          field: '',
          problem: `its person (${id ?? `person #${i + 1}`}) was not read, so neither was the note`,
          severity: 'error',
        });
      }
      return;
    }
    persons.push(person);
    byId.set(id as string, person);
    for (const n of nested) {
      noteIndex += 1;
      const parsed = parseNote(n, id, noteIndex, problems);
      if (parsed) parsedNotes.push(parsed);
    }
  });
  for (const el of found.notes) {
    noteIndex += 1;
    const parsed = parseNote(el, null, noteIndex, problems);
    if (!parsed) continue;
    if (parsed.personRecordId !== null && rejected.has(parsed.personRecordId) && !byId.has(parsed.personRecordId)) {
      problems.push({ record: `note ${parsed.noteRecordId}`, field: 'person_record_id', problem: `its person (${parsed.personRecordId}) was not read, so neither was the note`, severity: 'error' });
      continue;
    }
    parsedNotes.push(parsed);
  }

  const seenNotes = new Set<string>();
  const orphans: PfifNote[] = [];
  for (const note of parsedNotes) {
    if (seenNotes.has(note.noteRecordId)) {
      problems.push({ record: `note ${note.noteRecordId}`, field: 'note_record_id', problem: 'appears twice in the file; the second was not read', severity: 'error' });
      continue;
    }
    seenNotes.add(note.noteRecordId);
    const person = note.personRecordId === null ? undefined : byId.get(note.personRecordId);
    if (person) (person.notes ??= []).push(note);
    else orphans.push(note);
  }
  for (const person of persons) {
    // The person's status is that of the latest note that has one (PFIF keeps status on notes).
    let latest: PfifNote | null = null;
    for (const n of person.notes ?? []) if (n.status !== null && (latest === null || n.sourceDate >= latest.sourceDate)) latest = n;
    person.status = latest?.status ?? null;
  }
  return { persons, notes: [...persons.flatMap((p) => p.notes ?? []), ...orphans], problems };
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WritePfifOptions {
  /** Our repository's domain: ids of records that did not come from PFIF become `domain/local-id`. */
  domain: string;
  /** Notes to write at the top level (notes about persons not written); notes already nested in a person are skipped. */
  notes?: Iterable<PfifNote>;
  /** Told about each value that was left out or does not follow PFIF (written as is). */
  onProblem?(problem: PfifProblem): void;
}

/** A date as PFIF wants it (UTC, whole seconds), from PFIF or ISO 8601 text; null when it is not one. */
export function toPfifDate(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const s = raw.trim();
  if (isPfifDate(s)) return s;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/.exec(s);
  if (!m || !isPfifBirthDate(m[1] as string)) return null;
  const zone = m[5] === undefined ? 'Z' : m[5] === 'Z' || m[5].includes(':') ? m[5] : `${m[5].slice(0, 3)}:${m[5].slice(3)}`;
  const t = new Date(`${m[1]}T${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}${zone}`);
  return Number.isNaN(t.getTime()) ? null : `${t.toISOString().slice(0, 19)}Z`;
}

const SEX_WORDS: Record<string, (typeof PFIF_SEXES)[number]> = {
  f: 'female', female: 'female', woman: 'female', w: 'female', femme: 'female', femenino: 'female', mujer: 'female', weiblich: 'female',
  m: 'male', male: 'male', man: 'male', homme: 'male', h: 'male', masculino: 'male', hombre: 'male', mannlich: 'male', männlich: 'male',
  other: 'other', x: 'other', o: 'other', autre: 'other', otro: 'other', divers: 'other', d: 'other', nonbinary: 'other', 'non-binary': 'other',
};

const NCNAME = /^[\p{L}_][\p{L}\p{N}_.-]*$/u;

interface Line {
  field: string;
  value: string;
}

/**
 * PFIF 1.4 XML for these persons, each with its notes nested. Person ids: `pfif.personRecordId`
 * when the record came from PFIF, otherwise `domain/sourceId`; a person with neither is left out
 * (and reported). Dates become YYYY-MM-DDTHH:MM:SSZ. Only PFIF fields are written: phone, email,
 * passport, next of kin, needs, household and location stay out of a file meant for other registries.
 */
export function writePfif(persons: Iterable<PersonRecord>, opts: WritePfifOptions): string {
  const domain = opts.domain.trim();
  if (domain === '' || /[/\s]/.test(domain)) throw new Error(`"${opts.domain}" is not a domain for PFIF record ids`);
  const report = (record: string, field: string, problem: string, severity: 'error' | 'warning' = 'warning'): void =>
    opts.onProblem?.({ record, field, problem, severity });
  const qualify = (id: string): string => (id.includes('/') ? id : `${domain}/${id}`);
  const list = [...persons];
  const topNotes = [...(opts.notes ?? [])];

  // Extension namespaces get prefixes declared once, on the root.
  const prefixes = new Map<string, string>();
  const collect = (extra: Record<string, string> | undefined): void => {
    for (const key of Object.keys(extra ?? {})) {
      const m = /^\{([^}]+)\}/.exec(key);
      if (m && !prefixes.has(m[1] as string)) prefixes.set(m[1] as string, `x${prefixes.size + 1}`);
    }
  };
  for (const p of list) {
    collect(p.pfif?.extra);
    for (const n of p.notes ?? []) collect(n.extra);
  }
  for (const n of topNotes) collect(n.extra);

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const nsDecls = [...prefixes].map(([uri, p]) => ` xmlns:${p}="${escapeAttr(uri)}"`).join('');
  out.push(`<pfif:pfif xmlns:pfif="${PFIF_NS}"${nsDecls}>`);

  const writeLines = (indent: string, lines: Line[], extra: Record<string, string> | undefined, known: readonly string[], record: string): void => {
    for (const { field, value } of lines) if (value !== '') out.push(`${indent}<pfif:${field}>${escapeText(value)}</pfif:${field}>`);
    for (const [key, value] of Object.entries(extra ?? {})) {
      const m = /^\{([^}]*)\}(.*)$/.exec(key);
      const local = m ? (m[2] as string) : key;
      if (!NCNAME.test(local) || (!m && known.includes(local))) {
        report(record, key, 'extra field with a name that cannot be written; left out');
        continue;
      }
      const name = m ? (m[1] === '' ? local : `${prefixes.get(m[1] as string) as string}:${local}`) : `pfif:${local}`;
      out.push(`${indent}<${name}>${escapeText(value)}</${name}>`);
    }
  };

  const dateLine = (field: string, raw: string | null | undefined, record: string): Line => {
    if (raw === null || raw === undefined || raw.trim() === '') return { field, value: '' };
    const d = toPfifDate(raw);
    if (d === null) report(record, field, `"${raw.slice(0, 40)}" is not an ISO 8601 date-time; left out`);
    return { field, value: d ?? '' };
  };

  const writtenNotes = new Set<string>();
  const writeNote = (n: PfifNote, personId: string | null, indent: string): void => {
    const id = qualify(n.noteRecordId);
    writtenNotes.add(n.noteRecordId);
    writtenNotes.add(id);
    const record = `note ${id}`;
    const source = dateLine('source_date', n.sourceDate, record);
    if (source.value === '') report(record, 'source_date', 'missing; PFIF requires it', 'error');
    out.push(`${indent}<pfif:note>`);
    writeLines(
      `${indent}  `,
      [
        { field: 'note_record_id', value: id },
        { field: 'person_record_id', value: personId ?? (n.personRecordId === null ? '' : qualify(n.personRecordId)) },
        { field: 'linked_person_record_id', value: n.linkedPersonRecordId === null ? '' : qualify(n.linkedPersonRecordId) },
        dateLine('entry_date', n.entryDate, record),
        { field: 'author_name', value: n.authorName },
        { field: 'author_email', value: n.authorEmail ?? '' },
        { field: 'author_phone', value: n.authorPhone ?? '' },
        source,
        { field: 'author_made_contact', value: n.authorMadeContact === null ? '' : String(n.authorMadeContact) },
        { field: 'status', value: n.status ?? '' },
        { field: 'email_of_found_person', value: n.emailOfFoundPerson ?? '' },
        { field: 'phone_of_found_person', value: n.phoneOfFoundPerson ?? '' },
        { field: 'last_known_location', value: n.lastKnownLocation ?? '' },
        { field: 'text', value: n.text },
        { field: 'photo_url', value: n.photoUrl ?? '' },
      ],
      n.extra,
      NOTE_FIELDS,
      record,
    );
    out.push(`${indent}</pfif:note>`);
  };

  list.forEach((p, i) => {
    const x = p.pfif;
    const id = x?.personRecordId ?? (p.sourceId !== null && p.sourceId.trim() !== '' ? `${domain}/${p.sourceId.trim()}` : null);
    if (id === null) {
      report(`person #${i + 1} (${p.fullName})`, 'person_record_id', 'the person has no id (sourceId or pfif.personRecordId); left out', 'error');
      return;
    }
    const record = `person ${id}`;
    // full_name: the name, then the other lines it had in the source, which are also alternate names.
    let nameLines = [p.fullName];
    let alternates = p.alternateNames;
    const original = x?.fullNameLines;
    if (original && original[0] === p.fullName) {
      const rest = [...alternates];
      const kept = original.slice(1).filter((l) => {
        const at = rest.indexOf(l);
        if (at < 0) return false;
        rest.splice(at, 1);
        return true;
      });
      nameLines = [p.fullName, ...kept];
      alternates = rest;
    }
    let sex = p.sex?.trim() ?? '';
    if (sex !== '') {
      const known = SEX_WORDS[sex.toLowerCase()];
      if (known) sex = known;
      else report(record, 'sex', `"${sex.slice(0, 20)}" is not female, male or other; written as is`);
    }
    let dob = p.dateOfBirth?.trim() ?? '';
    const dmy = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(dob);
    if (dmy) dob = `${dmy[3]}-${(dmy[2] as string).padStart(2, '0')}-${(dmy[1] as string).padStart(2, '0')}`;
    if (dob !== '' && !isPfifBirthDate(dob)) report(record, 'date_of_birth', `"${dob.slice(0, 20)}" is not YYYY, YYYY-MM or YYYY-MM-DD; written as is`);
    const age = p.age?.trim() ?? '';
    if (age !== '' && !AGE.test(age)) report(record, 'age', `"${age.slice(0, 20)}" is not N or N-M; written as is`);
    const country = p.homeCountry?.trim() ?? '';
    if (country !== '' && !/^[A-Za-z]{2}$/.test(country)) report(record, 'home_country', `"${country.slice(0, 30)}" is not an ISO 3166-1 two-letter code; written as is`);
    if (p.fullName.trim() === '' && !x?.expiryDate) report(record, 'full_name', 'missing; PFIF requires it', 'error');
    const source = dateLine('source_date', p.sourceDate, record);
    if (source.value === '') report(record, 'source_date', 'missing; PFIF requires it', 'error');

    out.push('  <pfif:person>');
    writeLines(
      '    ',
      [
        { field: 'person_record_id', value: id },
        dateLine('entry_date', x?.entryDate, record),
        dateLine('expiry_date', x?.expiryDate, record),
        { field: 'author_name', value: x?.authorName ?? '' },
        { field: 'author_email', value: x?.authorEmail ?? '' },
        { field: 'author_phone', value: x?.authorPhone ?? '' },
        { field: 'source_name', value: p.source ?? '' },
        source,
        { field: 'source_url', value: x?.sourceUrl ?? '' },
        { field: 'full_name', value: nameLines.join('\n').trim() },
        { field: 'given_name', value: p.givenName ?? '' },
        { field: 'family_name', value: p.familyName ?? '' },
        { field: 'alternate_names', value: alternates.join('\n') },
        { field: 'description', value: p.description ?? '' },
        { field: 'sex', value: sex },
        { field: 'date_of_birth', value: dob },
        { field: 'age', value: age },
        { field: 'home_street', value: p.homeStreet ?? '' },
        { field: 'home_neighborhood', value: p.homeNeighborhood ?? '' },
        { field: 'home_city', value: p.homeCity ?? '' },
        { field: 'home_state', value: p.homeState ?? '' },
        { field: 'home_postal_code', value: p.homePostalCode ?? '' },
        { field: 'home_country', value: country },
        { field: 'photo_url', value: x?.photoUrl ?? '' },
        { field: 'profile_urls', value: (x?.profileUrls ?? []).join('\n') },
      ],
      x?.extra,
      PERSON_FIELDS,
      record,
    );
    for (const n of p.notes ?? []) writeNote(n, id, '    ');
    out.push('  </pfif:person>');
  });
  for (const n of topNotes) {
    if (writtenNotes.has(n.noteRecordId)) continue;
    writeNote(n, null, '  ');
  }
  out.push('</pfif:pfif>', '');
  return out.join('\n');
}
