// Affected citizens in a crisis, the pure part: statuses (and their PFIF 1.4 equivalents), needs,
// sources, sex, dates of birth and ages as PFIF allows them, positions, name keys for search and
// duplicate detection, duplicate scores, merging (and undoing it), the current status from notes,
// the call list and contact outcomes.
//
// No store and no clock: instants are epoch milliseconds passed in by the caller.
import { distance } from 'fastest-levenshtein';
import { z } from 'zod/v4';
import { fullNameSchema, MAX_FULL_NAME, MAX_NATIONALITY, MAX_PASSPORT, MAX_RELATIONSHIP, MIN_BIRTH_YEAR, MIN_PASSPORT, type ParsedField } from './case';
import { emailSchema, phoneSchema } from './member';
import type { KeySink } from './key-buckets';
import { dateKey, localOf, parseDateKey } from './zoned';
import { compact, count, lookup, orList, shown, wordSchema } from './words';

const HOUR = 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Statuses

export const PERSON_STATUSES = ['unaccounted', 'safe', 'needs-assistance', 'injured', 'in-hospital', 'missing', 'deceased', 'evacuated', 'left-area'] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];
/** Nobody has heard from them yet: where everyone starts. */
export const DEFAULT_PERSON_STATUS: PersonStatus = 'unaccounted';

export const PERSON_STATUS_LABELS: Record<PersonStatus, string> = {
  unaccounted: 'Unaccounted',
  safe: 'Safe',
  'needs-assistance': 'Needs assistance',
  injured: 'Injured',
  'in-hospital': 'In hospital',
  missing: 'Missing',
  deceased: 'Deceased',
  evacuated: 'Evacuated',
  'left-area': 'Left the area',
};

const PERSON_STATUS_WORDS = lookup(PERSON_STATUSES, PERSON_STATUS_LABELS, {
  unaccounted: ['unaccounted for', 'unknown', 'no news', 'not heard from', 'no contact', 'not contacted', 'information sought', 'information_sought'],
  safe: ['ok', 'okay', 'fine', 'well', 'safe and well', 'alive', 'found', 'accounted for', "i'm safe", 'im safe', 'believed alive', 'believed_alive'],
  'needs-assistance': ['needs help', 'need help', 'help', 'assistance', 'needs assistance', 'need assistance', 'i need help', 'in need', 'sos'],
  injured: ['hurt', 'wounded', 'injury', 'injuries'],
  'in-hospital': ['hospital', 'hospitalised', 'hospitalized', 'admitted', 'in the hospital', 'hospitalisation', 'hospitalization'],
  missing: ['lost', 'disappeared', 'whereabouts unknown', 'believed missing', 'believed_missing'],
  deceased: ['dead', 'died', 'death', 'killed', 'fatality', 'believed dead', 'believed_dead'],
  evacuated: ['evac', 'evacuee', 'flown out', 'evacuation completed'],
  'left-area': ['left', 'left area', 'gone', 'departed', 'out of area', 'out of the area', 'left the country'],
});

export function isPersonStatus(s: string): s is PersonStatus {
  return (PERSON_STATUSES as readonly string[]).includes(s);
}

/** A code, a label or a common word, any case: "ok" → safe, "hospitalised" → in-hospital, "left" → left-area. */
export function parseStatus(input: string): PersonStatus | null {
  return PERSON_STATUS_WORDS.get(compact(input)) ?? null;
}

export const personStatusSchema = wordSchema(parseStatus, 'a person status', PERSON_STATUSES);

/** "left the area": a status inside a sentence. */
export function personStatusPhrase(s: PersonStatus): string {
  return PERSON_STATUS_LABELS[s].toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// PFIF note status

export const PFIF_STATUSES = ['', 'information_sought', 'is_note_author', 'believed_alive', 'believed_missing', 'believed_dead'] as const;
export type PfifStatus = (typeof PFIF_STATUSES)[number];

const TO_PFIF: Record<PersonStatus, PfifStatus> = {
  unaccounted: 'information_sought',
  safe: 'believed_alive',
  'needs-assistance': 'believed_alive',
  injured: 'believed_alive',
  'in-hospital': 'believed_alive',
  missing: 'believed_missing',
  deceased: 'believed_dead',
  evacuated: 'believed_alive',
  'left-area': 'believed_alive',
};

/** PFIF knows alive, missing or dead; every status of a living person is believed_alive. */
export function toPfifStatus(s: PersonStatus): PfifStatus {
  return TO_PFIF[s];
}

/**
 * Our status for a PFIF note status; "" (or anything unknown) → null: the note says nothing about
 * the status and must not change it.
 *
 * believed_alive → safe whether or not the author made contact: PFIF cannot say injured or in
 * hospital, and alive is all it asserts, so safe is the closest status; whether it was confirmed is
 * a separate fact (pfifContactConfirmed), shown beside the status rather than folded into it.
 * is_note_author (the person wrote the note) → safe as well.
 */
export function fromPfifStatus(status: string): PersonStatus | null {
  switch (status.trim().toLowerCase()) {
    case 'information_sought':
      return 'unaccounted';
    case 'is_note_author':
    case 'believed_alive':
      return 'safe';
    case 'believed_missing':
      return 'missing';
    case 'believed_dead':
      return 'deceased';
    default:
      return null;
  }
}

/** A PFIF note confirms the status when its author made contact or is the person. */
export function pfifContactConfirmed(note: { status: string; authorMadeContact: boolean }): boolean {
  return note.authorMadeContact || note.status.trim().toLowerCase() === 'is_note_author';
}

/** PFIF dates: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`. */
export function toPfifDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.sss]]` with Z or an offset (none: UTC) → epoch ms; null if not a real instant. */
export function parseIsoInstant(input: string): number | null {
  const m = ISO_INSTANT.exec(input.trim());
  if (!m || parseDateKey(m[1] as string) === null) return null;
  const [hh, mm, ss] = [m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [number, number, number];
  if (hh > 23 || mm > 59 || ss > 59) return null;
  const zone = m[5] ?? 'Z';
  const base = Date.parse(`${m[1]}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}Z`);
  if (zone.toUpperCase() === 'Z') return base;
  const z2 = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!z2) return null;
  const offset = (Number(z2[2]) * 60 + Number(z2[3])) * 60_000;
  return z2[1] === '+' ? base - offset : base + offset;
}

// ---------------------------------------------------------------------------------------------
// Needs

export const PERSON_NEEDS = ['medical', 'shelter', 'evacuation', 'consular', 'other'] as const;
export type PersonNeed = (typeof PERSON_NEEDS)[number];

export const NEED_LABELS: Record<PersonNeed, string> = {
  medical: 'Medical care',
  shelter: 'Shelter',
  evacuation: 'Evacuation',
  consular: 'Consular assistance',
  other: 'Other',
};

const NEED_WORDS = lookup(PERSON_NEEDS, NEED_LABELS, {
  medical: ['medicine', 'medication', 'doctor', 'health', 'med', 'meds', 'care', 'medical care', 'first aid'],
  shelter: ['housing', 'accommodation', 'lodging', 'a place to stay', 'somewhere to stay', 'bed'],
  evacuation: ['evac', 'evacuate', 'transport', 'to leave', 'a way out', 'flight out'],
  consular: ['consular help', 'consular assistance', 'passport', 'documents', 'document', 'travel document', 'etd', 'money', 'funds'],
  other: ['misc', 'miscellaneous', 'something else'],
});

const NO_NEEDS = new Set(['none', 'no', 'nothing', 'nil', 'na', 'n/a', '-']);

export function isPersonNeed(s: string): s is PersonNeed {
  return (PERSON_NEEDS as readonly string[]).includes(s);
}

export function parseNeed(input: string): PersonNeed | null {
  return NEED_WORDS.get(compact(input)) ?? null;
}

/** Needs in declared order, each once. */
export function sortNeeds(needs: Iterable<PersonNeed>): PersonNeed[] {
  const set = new Set(needs);
  return PERSON_NEEDS.filter((n) => set.has(n));
}

/**
 * "medical, shelter", "medical shelter", "consular assistance and evacuation", a list → needs in
 * declared order, each once; "none" or blank → []. A phrase is looked up whole first, then word by
 * word, so labels of several words work.
 */
export function parseNeeds(input: string | readonly string[]): ParsedField<PersonNeed[]> {
  if (typeof input === 'string' && NO_NEEDS.has(input.trim().toLowerCase())) return { ok: true, value: [] };
  const chunks = (typeof input === 'string' ? [input] : input).flatMap((s) => s.split(/[,;/+&\n]|\band\b/i)).map((s) => s.trim()).filter((s) => s !== '');
  const found: PersonNeed[] = [];
  const unknown: string[] = [];
  for (const chunk of chunks) {
    if (NO_NEEDS.has(chunk.toLowerCase())) continue;
    const whole = parseNeed(chunk);
    if (whole !== null) {
      found.push(whole);
      continue;
    }
    for (const word of chunk.split(/\s+/)) {
      const n = parseNeed(word);
      if (n !== null) found.push(n);
      else unknown.push(word);
    }
  }
  if (unknown.length) {
    const list = unknown.map((w) => `"${shown(w)}"`).join(', ');
    return { ok: false, error: `${list} ${unknown.length > 1 ? 'are not needs' : 'is not a need'}; use ${orList(PERSON_NEEDS)}` };
  }
  return { ok: true, value: sortNeeds(found) };
}

/** A string or a list; absent → []. */
export const needsSchema = z
  .union([z.string(), z.array(z.string())])
  .nullish()
  .transform((v, ctx): PersonNeed[] => {
    if (v === null || v === undefined) return [];
    const r = parseNeeds(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.value;
  });

// ---------------------------------------------------------------------------------------------
// Sources of a record

export const RECORD_SOURCES = ['self', 'relative', 'registration', 'hospital', 'authorities', 'staff'] as const;
export type RecordSource = (typeof RECORD_SOURCES)[number];

export const SOURCE_LABELS: Record<RecordSource, string> = {
  self: 'The person',
  relative: 'A relative',
  registration: 'A registration list',
  hospital: 'A hospital',
  authorities: 'Authorities',
  staff: 'Staff',
};

const SOURCE_WORDS = lookup(RECORD_SOURCES, SOURCE_LABELS, {
  self: ['person', 'the person themselves', 'themselves', 'themself', 'subject', 'me', 'myself', 'citizen'],
  relative: ['family', 'family member', 'next of kin', 'nok', 'relatives', 'parent', 'spouse', 'partner', 'sibling', 'child'],
  registration: ['register', 'registration list', 'registry', 'registered', 'list', 'step', 'roca', 'presence registration', 'import'],
  hospital: ['the hospital', 'clinic', 'doctor', 'medical staff', 'hospital list'],
  authorities: ['authority', 'the authorities', 'local authorities', 'local authority', 'police', 'government', 'emergency services', 'civil protection'],
  staff: ['officer', 'duty officer', 'embassy', 'consulate', 'mission', 'our staff', 'we', 'us'],
});

export function parseSource(input: string): RecordSource | null {
  return SOURCE_WORDS.get(compact(input)) ?? null;
}

export const sourceSchema = wordSchema(parseSource, 'a source', RECORD_SOURCES);

// ---------------------------------------------------------------------------------------------
// Sex (PFIF: female, male, other)

export const SEXES = ['female', 'male', 'other'] as const;
export type Sex = (typeof SEXES)[number];
export const SEX_LABELS: Record<Sex, string> = { female: 'Female', male: 'Male', other: 'Other' };

const SEX_WORDS = lookup(SEXES, SEX_LABELS, {
  female: ['f', 'woman', 'women', 'girl', 'feminine', 'w'],
  male: ['m', 'man', 'men', 'boy', 'masculine'],
  other: ['x', 'o', 'non-binary', 'nonbinary', 'diverse', 'd', 'intersex'],
});

export function parseSex(input: string): Sex | null {
  return SEX_WORDS.get(compact(input)) ?? null;
}

export const sexSchema = wordSchema(parseSex, 'a sex', SEXES);

// ---------------------------------------------------------------------------------------------
// Date of birth (YYYY, YYYY-MM or YYYY-MM-DD) and age (N or N-M)

export const MAX_AGE = 130;
export const ADULT_AGE = 18;

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * As PFIF allows: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`; also `DD/MM/YYYY` (or with dots or dashes) and
 * `MM/YYYY`, read day first as most of the world writes them, normalised to ISO. Real dates only;
 * whether it is plausible needs today's date: checkBirth.
 */
export function parseBirthDate(input: string): ParsedField<string> {
  return parseBirthDateMemo(input);
}

const parseBirthDateMemo = memo(parseBirthDateOnce);

function parseBirthDateOnce(input: string): ParsedField<string> {
  const t = input.trim();
  let y: number;
  let m: number | null = null;
  let d: number | null = null;
  let match: RegExpExecArray | null;
  if ((match = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(t))) {
    y = Number(match[1]);
    if (match[2] !== undefined) m = Number(match[2]);
    if (match[3] !== undefined) d = Number(match[3]);
  } else if ((match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t))) {
    d = Number(match[1]);
    m = Number(match[2]);
    y = Number(match[3]);
  } else if ((match = /^(\d{1,2})[/.](\d{4})$/.exec(t))) {
    m = Number(match[1]);
    y = Number(match[2]);
  } else {
    return { ok: false, error: `"${shown(t)}": write a date of birth as YYYY-MM-DD, YYYY-MM, YYYY or DD/MM/YYYY, e.g. 1985-04-23` };
  }
  if (m === null) return { ok: true, value: String(y) };
  if (m < 1 || m > 12) return { ok: false, error: `"${shown(t)}": ${m} is not a month${t.includes('/') || t.includes('.') ? '; dates with slashes are day/month/year' : ''}` };
  if (d === null) return { ok: true, value: `${y}-${pad2(m)}` };
  const iso = `${y}-${pad2(m)}-${pad2(d)}`;
  return parseDateKey(iso) === null ? { ok: false, error: `${iso} is not a real date` } : { ok: true, value: iso };
}

/**
 * The date of birth normalised to ISO, or why it cannot be right: not a date, before 1900, or after
 * today in `timeZone` (born today is fine; a year or month is in the future only when all of it is).
 */
export function checkBirth(dob: string, now: number, timeZone = 'UTC'): ParsedField<string> {
  const r = parseBirthDate(dob);
  if (!r.ok) return r;
  const iso = r.value;
  if (Number(iso.slice(0, 4)) < MIN_BIRTH_YEAR) return { ok: false, error: `a date of birth before ${MIN_BIRTH_YEAR} (${iso}) is not plausible; check the year` };
  const today = dateKey(localOf(timeZone, now));
  // Zero-padded keys compare as dates; a partial date compares with the same part of today.
  if (iso > today.slice(0, iso.length)) return { ok: false, error: `a date of birth cannot be in the future: ${iso} is after today (${today})` };
  return { ok: true, value: iso };
}

export const birthDateSchema = z.string({ error: 'a date of birth is required' }).transform((s, ctx) => {
  const r = parseBirthDate(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.value;
});

/** "34", "30-35", "30 – 35", "30 to 35" → "34", "30-35"; N-N → N. */
export function parseAge(input: string | number): ParsedField<string> {
  const t = String(input).trim();
  const m = /^(\d{1,3})(?:\s*(?:-|–|—|to)\s*(\d{1,3}))?$/i.exec(t);
  if (!m) return { ok: false, error: `"${shown(t)}": write an age as a number (34) or a range (30-35)` };
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi > MAX_AGE) return { ok: false, error: `an age of ${hi} is not plausible; ages are 0 to ${MAX_AGE}` };
  if (lo > hi) return { ok: false, error: `"${shown(t)}": the range must go from the lower age to the higher, e.g. ${hi}-${lo}` };
  return { ok: true, value: lo === hi ? String(lo) : `${lo}-${hi}` };
}

export const ageSchema = z.union([z.string(), z.number()], { error: 'an age is required' }).transform((s, ctx) => {
  const r = parseAge(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.value;
});

function yearsBetween(y: number, m: number, d: number, today: { y: number; m: number; d: number }): number {
  return today.y - y - (today.m < m || (today.m === m && today.d < d) ? 1 : 0);
}

/**
 * The youngest and oldest the person can be at `now`: from the date of birth when it parses (a year
 * alone spans two ages), else from the age; null when neither is known.
 */
export function ageBounds(p: { dateOfBirth?: string | null; age?: string | null }, now: number, timeZone = 'UTC'): { min: number; max: number } | null {
  const today = localOf(timeZone, now);
  const dob = p.dateOfBirth ? parseBirthDate(p.dateOfBirth) : null;
  if (dob?.ok) {
    const [y, m, d] = dob.value.split('-').map(Number) as [number, number | undefined, number | undefined];
    // Oldest if born on the first day the date allows, youngest if on the last.
    const first = { m: m ?? 1, d: d ?? 1 };
    const last = { m: m ?? 12, d: d ?? (m === undefined ? 31 : new Date(Date.UTC(y, m, 0)).getUTCDate()) };
    const max = Math.max(0, yearsBetween(y, first.m, first.d, today));
    const min = Math.max(0, yearsBetween(y, last.m, last.d, today));
    return { min, max };
  }
  const age = p.age ? parseAge(p.age) : null;
  if (age?.ok) {
    const [lo, hi] = age.value.split('-').map(Number) as [number, number | undefined];
    return { min: lo, max: hi ?? lo };
  }
  return null;
}

/**
 * Under 18 as far as we know: the youngest they can be is under 18. Errs towards a child, as this
 * only moves a household up the evacuation order.
 */
export function mayBeMinor(p: { dateOfBirth?: string | null; age?: string | null }, now: number, timeZone = 'UTC'): boolean {
  const b = ageBounds(p, now, timeZone);
  return b !== null && b.min < ADULT_AGE;
}

// ---------------------------------------------------------------------------------------------
// Positions

export interface Coordinates {
  lat: number;
  lon: number;
}

/** Why these are not a position, or null. */
export function coordinatesProblem(lat: number, lon: number): string | null {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return 'a latitude and a longitude are numbers';
  const latOut = lat < -90 || lat > 90;
  const lonOut = lon < -180 || lon > 180;
  if (latOut && !lonOut && Math.abs(lon) <= 90 && Math.abs(lat) <= 180) return `latitude ${lat} is outside -90 to 90; latitude comes first (${lon},${lat}?)`;
  if (latOut) return `latitude ${lat} is outside -90 to 90`;
  if (lonOut) return `longitude ${lon} is outside -180 to 180`;
  return null;
}

// Exponents too: that is how String() writes very small numbers.
const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?`;
const LAT_LON = new RegExp(`^(${NUMBER})\\s*(?:[,;]\\s*|\\s+)(${NUMBER})$`, 'i');

/** "48.8566,2.3522", "48.8566, 2.3522", "48.8566 2.3522" → { lat, lon }. */
export function parseCoordinates(input: string): ParsedField<Coordinates> {
  const m = LAT_LON.exec(input.trim());
  if (!m) return { ok: false, error: `"${shown(input)}": write a position as latitude,longitude in degrees, e.g. 48.8566,2.3522` };
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  const problem = coordinatesProblem(lat, lon);
  return problem === null ? { ok: true, value: { lat, lon } } : { ok: false, error: problem };
}

export function formatCoordinates(c: Coordinates): string {
  return `${c.lat},${c.lon}`;
}

/** "lat,lon" text or { lat, lon }. */
export const coordinatesSchema = z.union([z.string(), z.object({ lat: z.number(), lon: z.number() })], { error: 'a position is latitude,longitude' }).transform((v, ctx) => {
  if (typeof v === 'string') {
    const r = parseCoordinates(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  const problem = coordinatesProblem(v.lat, v.lon);
  if (problem === null) return { lat: v.lat, lon: v.lon };
  ctx.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------------
// Countries (PFIF home_country is ISO 3166-1 alpha-2)

const ISO_COUNTRIES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
    'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT ' +
    'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
    'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG ' +
    'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);
export const MAX_COUNTRY_NAME = 100;

/** Names people use that CLDR's English names miss. */
const COUNTRY_ALIASES: Record<string, string> = {
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  usa: 'US',
  'united states of america': 'US',
  america: 'US',
  turkey: 'TR',
  'czech republic': 'CZ',
  'ivory coast': 'CI',
  holland: 'NL',
  'south korea': 'KR',
  'north korea': 'KP',
  russia: 'RU',
  'russian federation': 'RU',
  swaziland: 'SZ',
  macedonia: 'MK',
  burma: 'MM',
  'cape verde': 'CV',
  'east timor': 'TL',
  palestine: 'PS',
  vatican: 'VA',
  uae: 'AE',
  drc: 'CD',
  'dr congo': 'CD',
};

let countryNames: Map<string, string> | null = null;

/** English names → codes, built once on first use from the runtime's CLDR data. */
function countryByName(): Map<string, string> {
  if (countryNames) return countryNames;
  const names = new Map<string, string>();
  const display = new Intl.DisplayNames(['en'], { type: 'region' });
  for (const code of ISO_COUNTRIES) {
    const name = display.of(code);
    if (name && name !== code) names.set(compact(name), code);
  }
  for (const [alias, code] of Object.entries(COUNTRY_ALIASES)) names.set(compact(alias), code);
  countryNames = names;
  return names;
}

export function isCountryCode(s: string): boolean {
  return ISO_COUNTRIES.has(s);
}

/** "fr" → FR, "France" → FR, "UK" → GB; an unknown two-letter code is an error; other names kept as typed. */
export function parseCountry(input: string): ParsedField<string> {
  const t = input.trim().replace(/\s+/g, ' ');
  if (t === '') return { ok: false, error: 'a country is required' };
  const upper = t.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper)) {
    if (ISO_COUNTRIES.has(upper)) return { ok: true, value: upper };
    const alias = COUNTRY_ALIASES[t.toLowerCase()];
    if (alias) return { ok: true, value: alias };
    return { ok: false, error: `${upper} is not an ISO 3166-1 country code; write the code (e.g. FR) or the country's name` };
  }
  const code = countryByName().get(compact(t));
  if (code) return { ok: true, value: code };
  if (t.length > MAX_COUNTRY_NAME) return { ok: false, error: `the country is ${count(t.length)} characters; keep it under ${count(MAX_COUNTRY_NAME)}` };
  return { ok: true, value: t };
}

export const countrySchema = z.string({ error: 'a country is required' }).transform((s, ctx) => {
  const r = parseCountry(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.value;
});

// ---------------------------------------------------------------------------------------------
// Names for matching

/** Letters NFKD leaves whole: folded the way people type them without the key. */
const LETTER_FOLDS: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', ł: 'l', đ: 'd', œ: 'oe', ð: 'd', þ: 'th', ı: 'i', ħ: 'h', ŧ: 't' };
const FOLDED = new RegExp(`[${Object.keys(LETTER_FOLDS).join('')}]`, 'g');

/**
 * A bounded memo: an import scores each new record against dozens of others, folding the same
 * names and dates again and again. Pure functions of their input, so caching changes nothing.
 */
function memo<T>(fn: (s: string) => T, max = 100_000): (s: string) => T {
  const cache = new Map<string, T>();
  return (s) => {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const v = fn(s);
    if (cache.size >= max) cache.clear();
    cache.set(s, v);
    return v;
  };
}

/** Lower case, accents stripped, ß → ss and the like; O'Brien's apostrophe joins, other punctuation separates. */
const foldName = memo(foldNameOnce);

function foldNameOnce(s: string): string {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(FOLDED, (c) => LETTER_FOLDS[c] ?? c)
    .toLowerCase()
    .replace(/['’ʼ‘`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ');
}

/** The folded words of a name, in the order written: "José-María O'Brien" → jose, maria, obrien. */
export function nameTokens(full: string): string[] {
  return foldName(full)
    .split(' ')
    .filter((t) => t !== '');
}

/** The name as a key: folded words sorted, so word order, case, accents and punctuation do not matter. */
export function nameKey(full: string): string {
  return nameTokens(full).sort().join(' ');
}

const VOWELS = /[aeiouy]/g;

/**
 * A consonant skeleton: the first letter, then the rest without vowels, doubled letters once.
 * Mohammed and Muhammad → mhmd, Smith and Smyth → smth, John and Jhon → jhn.
 */
export function nameSkeleton(token: string): string {
  const rest = token.slice(1).replace(VOWELS, '');
  return (token.slice(0, 1) + rest).replace(/(.)\1+/g, '$1');
}

/** nameSkeleton(), remembered: blocking asks it for every word of every record. */
const skeletonOf = memo(nameSkeleton);

/** Shortest word a one-letter slip is forgiven in (matching and blocking agree). */
export const TYPO_MIN_LENGTH = 4;
/** Shortest word two slips are forgiven in. */
export const TWO_TYPOS_MIN_LENGTH = 8;

function allowedTypos(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  return n >= TWO_TYPOS_MIN_LENGTH ? 2 : n >= TYPO_MIN_LENGTH ? 1 : 0;
}

/** How well one query word matches one name word: 1 exact, less for a slip or a prefix, 0 not at all. */
function tokenScore(q: string, c: string): number {
  if (q === c) return 1;
  if (c.startsWith(q)) return 0.5 + (0.5 * q.length) / c.length;
  const allowed = allowedTypos(q, c);
  if (allowed === 0 || Math.abs(q.length - c.length) > allowed) return 0;
  const d = distance(q, c);
  return d <= allowed ? 1 - d / Math.max(q.length, c.length) : 0;
}

/** Exhaustive pairing up to this many words a side; beyond, greedy (rare, and exhaustive grows fast). */
const EXHAUSTIVE_WORDS = 5;

/** The best one-to-one pairing of query words with name words: the score each query word gets (0: unmatched). */
function bestPairing(q: readonly string[], c: readonly string[]): number[] {
  const scores = q.map((qt) => c.map((ct) => tokenScore(qt, ct)));
  if (q.length > EXHAUSTIVE_WORDS || c.length > EXHAUSTIVE_WORDS) {
    // Greedy for unusually long names: best pair first.
    const used = new Set<number>();
    const out = q.map(() => 0);
    const pairs = scores.flatMap((row, i) => row.map((s, j) => ({ s, i, j }))).sort((a, b) => b.s - a.s || a.i - b.i || a.j - b.j);
    const done = new Set<number>();
    for (const p of pairs) {
      if (p.s === 0 || done.has(p.i) || used.has(p.j)) continue;
      out[p.i] = p.s;
      done.add(p.i);
      used.add(p.j);
    }
    return out;
  }
  // Most words matched first, then the highest total: every nonzero score is at least 0.5, so
  // the total alone could prefer two exact words over three good ones.
  let best: number[] = q.map(() => 0);
  let bestMatched = -1;
  let bestSum = -1;
  const current: number[] = [];
  const used: boolean[] = c.map(() => false);
  const walk = (i: number, matched: number, sum: number): void => {
    if (i === q.length) {
      if (matched > bestMatched || (matched === bestMatched && sum > bestSum)) {
        bestMatched = matched;
        bestSum = sum;
        best = [...current];
      }
      return;
    }
    const row = scores[i] as number[];
    for (let j = 0; j < c.length; j++) {
      const s = row[j] as number;
      if (used[j] || s === 0) continue;
      used[j] = true;
      current.push(s);
      walk(i + 1, matched + 1, sum + s);
      current.pop();
      used[j] = false;
    }
    // Or leave this query word unmatched.
    current.push(0);
    walk(i + 1, matched, sum);
    current.pop();
  };
  walk(0, 0, 0);
  return best;
}

/**
 * How well a search matches a name, 0..1. Word order, case and accents do not matter; each query
 * word pairs with a different name word, exactly, as its prefix ("J", "Smi"), or within one slip
 * (words of 4+ letters) or two (8+). Unmatched query words count 0; name words the query left out
 * cost a little, so the exact name ranks first.
 */
export function nameScore(query: string, candidateFullName: string): number {
  const q = nameTokens(query);
  const c = nameTokens(candidateFullName);
  if (q.length === 0 || c.length === 0) return 0;
  const pairs = bestPairing(q, c);
  const matched = pairs.filter((s) => s > 0).length;
  const mean = pairs.reduce((a, b) => a + b, 0) / q.length;
  return mean * (0.9 + (0.1 * Math.min(matched, c.length)) / c.length);
}

/** Every word of the query matches a different word of the name. */
export function isNameMatch(query: string, candidate: string): boolean {
  const q = nameTokens(query);
  const c = nameTokens(candidate);
  if (q.length === 0 || q.length > c.length) return false;
  return bestPairing(q, c).every((s) => s > 0);
}

/** The best score over the full name and the alternate names. */
export function personNameScore(query: string, person: { fullName: string; alternateNames?: readonly string[] | null }): number {
  return Math.max(0, ...[person.fullName, ...(person.alternateNames ?? [])].map((n) => nameScore(query, n)));
}

// ---------------------------------------------------------------------------------------------
// Duplicate detection: blocking keys

/** Upper case letters and digits only: "ab 12-34 567" → AB1234567. */
export function normalisePassport(s: string): string {
  return s.replace(/[^\p{L}\p{N}]/gu, '').toUpperCase();
}

function phoneDigits(s: string): string {
  return s.replace(/\D/g, '');
}

export interface BlockingFields {
  fullName: string;
  familyName?: string | null;
  alternateNames?: readonly string[] | null;
  dateOfBirth?: string | null;
  passportNumber?: string | null;
  phone?: string | null;
  email?: string | null;
}

/** Builds the keys as strings, each once, in the order first made. */
class KeyStrings implements KeySink {
  readonly keys = new Set<string>();
  private current = '';

  begin(): void {
    this.current = '';
  }

  str(s: string, from = 0, to = s.length): void {
    this.current += from === 0 && to === s.length ? s : s.slice(from, to);
  }

  end(): void {
    this.keys.add(this.current);
  }
}

/** `a < (b without its letter k)`, as strings compare, without building the latter. */
function lessThanDeleted(a: string, b: string, k: number): boolean {
  const n = b.length - 1;
  for (let i = 0; i < a.length && i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i < k ? i : i + 1);
    if (x !== y) return x < y;
  }
  return a.length < n;
}

/** One key: `prefix` then the words, space-separated. */
function wordsKey(sink: KeySink, prefix: string, words: readonly string[], strong: boolean): void {
  sink.begin();
  sink.str(prefix);
  words.forEach((w, i) => {
    if (i > 0) sink.str(' ');
    sink.str(w);
  });
  sink.end(strong);
}

/**
 * oneDeletionKeys() into a sink (strong keys); `sorted`: the tokens sorted. Each variant is fed in
 * its place among the other words, never built: an import makes millions.
 */
function emitOneDeletionKeys(tokens: readonly string[], sorted: readonly string[], prefix: string, sink: KeySink): void {
  wordsKey(sink, prefix, sorted, true);
  for (const t of tokens) {
    if (t.length < TYPO_MIN_LENGTH) continue;
    // The other words: the sorted ones but one copy of this.
    const self = sorted.indexOf(t);
    for (let k = 0; k < t.length; k++) {
      // Deleting either of two equal letters gives the same word.
      if (k > 0 && t.charCodeAt(k) === t.charCodeAt(k - 1)) continue;
      sink.begin();
      sink.str(prefix);
      let first = true;
      let placed = false;
      for (let r = 0; r <= sorted.length; r++) {
        if (r === self) continue;
        const w = r < sorted.length ? (sorted[r] as string) : null;
        if (!placed && (w === null || !lessThanDeleted(w, t, k))) {
          if (!first) sink.str(' ');
          sink.str(t, 0, k);
          sink.str(t, k + 1);
          first = false;
          placed = true;
        }
        if (w === null) break;
        if (!first) sink.str(' ');
        sink.str(w);
        first = false;
      }
      sink.end(true);
    }
  }
}

/** The name with one letter deleted from one word of 4+ letters, words sorted; the name itself included; each after `prefix`. */
export function oneDeletionKeys(tokens: readonly string[], prefix = ''): string[] {
  const out = new KeyStrings();
  emitOneDeletionKeys(tokens, [...tokens].sort(), prefix, out);
  return [...out.keys];
}

/**
 * Keys a store indexes people by, so a new record is scored only against people sharing a key
 * instead of the whole registry. Two people are candidates when any key is shared:
 *
 * - `n:<name key>`: the same words in any order (full and alternate names).
 * - `nd:<…>`: the full name and every one-letter deletion from a word of 4+ letters (the SymSpell
 *   trick): any single substitution, insertion or deletion in one word leaves a key in common, and
 *   each key is nearly the whole name, so a block stays small even without a date of birth.
 * - `ns:<skeletons>`: sorted consonant skeletons: vowel spellings and doubled letters
 *   (Mohammed Hassan / Muhammad Hasan), and swaps such as Smtih / Smith.
 * - `ny:<skeleton>:<year>`: each word of 3+ letters with the birth year: one word spelt right, or
 *   nearly, is enough when the year agrees.
 * - `p:` passport, `t:` phone digits, `e:` email.
 * - `d:<dob>+<initial>`: date of birth and the family name's initial (each word's initial when the
 *   family name is not known, as the word order of a full name is not reliable).
 */
export function blockingKeys(person: BlockingFields): string[] {
  const out = new KeyStrings();
  emitBlockingKeys(person, out);
  return [...out.keys];
}

/**
 * blockingKeys() into a sink, in the same order: strong keys (`n:`, `nd:`, `p:`, `t:`, `e:`) nearly
 * identify a person alone; weak ones (`ns:`, `ny:`, `d:`) only together.
 */
export function emitBlockingKeys(person: BlockingFields, sink: KeySink): void {
  const tokens = nameTokens(person.fullName);
  const sorted = [...tokens].sort();
  const alternates = person.alternateNames ?? [];
  for (let n = -1; n < alternates.length; n++) {
    const t = n < 0 ? tokens : nameTokens(alternates[n] as string);
    if (t.length === 0) continue;
    wordsKey(sink, 'n:', n < 0 ? sorted : [...t].sort(), true);
    wordsKey(sink, 'ns:', t.map(skeletonOf).sort(), false);
  }
  if (tokens.length) emitOneDeletionKeys(tokens, sorted, 'nd:', sink);
  const dob = person.dateOfBirth ? parseBirthDate(person.dateOfBirth) : null;
  if (dob?.ok) {
    const year = dob.value.slice(0, 4);
    for (const t of tokens) {
      if (t.length < 3) continue;
      sink.begin();
      sink.str('ny:');
      sink.str(skeletonOf(t));
      sink.str(':');
      sink.str(year);
      sink.end(false);
    }
    const family = person.familyName ? nameTokens(person.familyName) : [];
    for (const t of family.length ? family.slice(0, 1) : tokens) {
      sink.begin();
      sink.str('d:');
      sink.str(dob.value);
      sink.str('+');
      sink.str(t, 0, 1);
      sink.end(false);
    }
  }
  const one = (prefix: string, value: string): void => {
    sink.begin();
    sink.str(prefix);
    sink.str(value);
    sink.end(true);
  };
  if (person.passportNumber) {
    const p = normalisePassport(person.passportNumber);
    if (p.length >= MIN_PASSPORT) one('p:', p);
  }
  if (person.phone) {
    const t = phoneDigits(person.phone);
    if (t.length >= 7) one('t:', t);
  }
  if (person.email && person.email.trim() !== '') one('e:', person.email.trim().toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Duplicate detection: scoring (Sahana Eden's weights)

/** Sahana Eden's import weights, plus the phone. */
export const DUPLICATE_WEIGHTS = {
  sameRecordId: 100,
  samePassport: 5,
  differentPassport: -2,
  sameEmail: 2,
  differentEmail: -5,
  sameBirth: 3,
  /** one date is less precise and they agree: 1985 and 1985-04-23 */
  compatibleBirth: 1,
  differentBirth: -2,
  /** per part: given and family name, or the full name counting for both */
  sameName: 2,
  differentName: -2,
  samePhone: 2,
} as const;

/** At or above: shown to a person as a possible duplicate. A shared name alone just reaches it. */
export const DUPLICATE_THRESHOLD = 4;

export interface DuplicateFields extends BlockingFields {
  givenName?: string | null;
  /** a PFIF person_record_id: the same record arriving again */
  recordId?: string | null;
}

export interface DuplicateScore {
  score: number;
  reasons: string[];
}

function present(s: string | null | undefined): s is string {
  return s !== null && s !== undefined && s.trim() !== '';
}

type NameVerdict = 'same' | 'similar' | 'different';

/** Equal keys; similar when every word of one matches a different word of the other (a slip, an initial, a missing middle name). */
function compareNames(a: string, b: string): NameVerdict {
  if (nameKey(a) === nameKey(b)) return 'same';
  return isNameMatch(a, b) || isNameMatch(b, a) ? 'similar' : 'different';
}

function compareAnyNames(a: readonly string[], b: readonly string[]): NameVerdict {
  let best: NameVerdict = 'different';
  for (const x of a) {
    for (const y of b) {
      const v = compareNames(x, y);
      if (v === 'same') return v;
      if (v === 'similar') best = v;
    }
  }
  return best;
}

/** full dates agree, one is a less precise form of the other, or they conflict */
function compareBirth(a: string, b: string): 'same' | 'compatible' | 'different' | null {
  const x = parseBirthDate(a);
  const y = parseBirthDate(b);
  if (!x.ok || !y.ok) return null;
  if (x.value === y.value) return x.value.length === 10 ? 'same' : 'compatible';
  const [short, long] = x.value.length <= y.value.length ? [x.value, y.value] : [y.value, x.value];
  return long.startsWith(short) ? 'compatible' : 'different';
}

/**
 * How likely two records are the same person (symmetric): identity document +5 / −2, email
 * +2 / −5, date of birth +3 / −2 (+1 when one is only a year or month that agrees), names ±2 per
 * part, the same phone +2 (a different phone proves nothing: people have several, families share
 * one). Names: the same words in any order (also via alternate names) +4; otherwise given and
 * family names ±2 each when both records have them, else the full names −4; a near match (a slip,
 * an initial, a missing middle name) counts 0 instead of the penalty. Missing on either side counts 0.
 */
export function duplicateScore(a: DuplicateFields, b: DuplicateFields): DuplicateScore {
  const W = DUPLICATE_WEIGHTS;
  let score = 0;
  const reasons: string[] = [];
  const add = (w: number, why: string) => {
    score += w;
    reasons.push(`${why} (${w > 0 ? '+' : ''}${w})`);
  };

  if (present(a.recordId) && present(b.recordId) && a.recordId.trim() === b.recordId.trim()) add(W.sameRecordId, 'same record id');

  if (present(a.passportNumber) && present(b.passportNumber)) {
    if (normalisePassport(a.passportNumber) === normalisePassport(b.passportNumber)) add(W.samePassport, 'same passport');
    else add(W.differentPassport, 'different passports');
  }

  if (present(a.email) && present(b.email)) {
    if (a.email.trim().toLowerCase() === b.email.trim().toLowerCase()) add(W.sameEmail, 'same email');
    else add(W.differentEmail, 'different emails');
  }

  if (present(a.dateOfBirth) && present(b.dateOfBirth)) {
    const v = compareBirth(a.dateOfBirth, b.dateOfBirth);
    if (v === 'same') add(W.sameBirth, 'same date of birth');
    else if (v === 'compatible') add(W.compatibleBirth, 'dates of birth agree as far as known');
    else if (v === 'different') add(W.differentBirth, 'different dates of birth');
  }

  const full = compareAnyNames([a.fullName, ...(a.alternateNames ?? [])], [b.fullName, ...(b.alternateNames ?? [])]);
  if (full === 'same') add(2 * W.sameName, 'same name');
  else if (present(a.givenName) && present(a.familyName) && present(b.givenName) && present(b.familyName)) {
    for (const [part, x, y] of [
      ['given name', a.givenName, b.givenName],
      ['family name', a.familyName, b.familyName],
    ] as const) {
      const v = compareNames(x, y);
      if (v === 'same') add(W.sameName, `same ${part}`);
      else if (v === 'different') add(W.differentName, `different ${part}s`);
      else reasons.push(`similar ${part}s (0)`);
    }
  } else if (full === 'different') add(2 * W.differentName, 'different names');
  else reasons.push('similar names (0)');

  if (present(a.phone) && present(b.phone) && phoneDigits(a.phone).length >= 7 && phoneDigits(a.phone) === phoneDigits(b.phone)) add(W.samePhone, 'same phone');

  return { score, reasons };
}

export function isDuplicateCandidate(a: DuplicateFields, b: DuplicateFields): boolean {
  return duplicateScore(a, b).score >= DUPLICATE_THRESHOLD;
}

// ---------------------------------------------------------------------------------------------
// Person input

export const MAX_NAME_PART = 100;
export const MAX_ALTERNATE_NAMES = 10;
export const MAX_DESCRIPTION = 2000;
export const MAX_ADDRESS_FIELD = 200;
export const MAX_PERSON_LOCATION = 200;
export const MAX_HOUSEHOLD = 100;
export { MAX_FULL_NAME, MAX_NATIONALITY, MIN_PASSPORT, MAX_PASSPORT, MIN_BIRTH_YEAR };

/** Optional text: absent or blank is null. */
function optionalText(the: string, max: number) {
  return z
    .string()
    .nullish()
    .transform((s, ctx) => {
      const t = s?.trim().replace(/\s+/g, ' ') ?? '';
      if (t.length > max) {
        ctx.addIssue({ code: 'custom', message: `${the} is ${count(t.length)} characters; keep it under ${count(max)}` });
        return z.NEVER;
      }
      return t === '' ? null : t;
    });
}

/** Absent or blank is null; anything else must pass `schema`. */
function optional<T, I>(schema: z.ZodType<T, I>) {
  return z
    .preprocess((v) => (v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v), schema.optional())
    .transform((v): T | null => v ?? null);
}

/** Upper case letters and digits; spaces, dashes and dots dropped. */
export const personPassportSchema = z
  .string({ error: 'a passport number is required' })
  .transform(normalisePassport)
  .pipe(z.string().regex(new RegExp(`^[A-Z0-9]{${MIN_PASSPORT},${MAX_PASSPORT}}$`), { error: `a passport number is ${MIN_PASSPORT} to ${MAX_PASSPORT} letters and digits` }));

/** A list, or one string with a name per line or separated by semicolons; duplicates (by name key) once. */
export const alternateNamesSchema = z
  .union([z.string(), z.array(z.string())])
  .nullish()
  .transform((v, ctx): string[] => {
    const raw = v === null || v === undefined ? [] : typeof v === 'string' ? v.split(/[\n;]/) : v;
    const out: string[] = [];
    const seen = new Set<string>();
    for (const s of raw) {
      const t = s.trim().replace(/\s+/g, ' ');
      if (t === '') continue;
      if (t.length > MAX_FULL_NAME) {
        ctx.addIssue({ code: 'custom', message: `an alternate name is ${count(t.length)} characters; keep it under ${count(MAX_FULL_NAME)}` });
        return z.NEVER;
      }
      const k = nameKey(t);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(t);
    }
    if (out.length > MAX_ALTERNATE_NAMES) {
      ctx.addIssue({ code: 'custom', message: `${out.length} alternate names; keep it to ${MAX_ALTERNATE_NAMES}` });
      return z.NEVER;
    }
    return out;
  });

/** An ISO instant as text (see parseIsoInstant) or epoch ms → epoch ms. */
export const sourceDateSchema = z.union([z.string(), z.number()], { error: 'a source date is required' }).transform((v, ctx) => {
  const ms = typeof v === 'number' ? (Number.isFinite(v) ? v : null) : parseIsoInstant(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${shown(String(v))}" is not a date and time; write e.g. 2026-11-22T14:00:00Z` });
    return z.NEVER;
  }
  return ms;
});

/** A blank name is "required", and only that (not also "needs letters"); the rest as for cases. */
const personFullNameSchema = z
  .string({ error: 'a full name is required' })
  .refine((s) => s.replace(/\p{Cf}/gu, '').trim() !== '', { error: 'a full name is required', abort: true })
  .pipe(fullNameSchema);

/** How far after now a source date may be (clocks disagree a little); later is refused. */
export const SOURCE_DATE_SKEW_MS = 5 * 60_000;

/**
 * A source date more than a few minutes in the future is refused: the latest by source time
 * decides a status, so a future date would lock it until that moment.
 */
export function checkSourceDate(ms: number, now: number): { ok: true } | { ok: false; error: string } {
  if (ms <= now + SOURCE_DATE_SKEW_MS) return { ok: true };
  return { ok: false, error: `a source date cannot be in the future: ${new Date(ms).toISOString()} is after now (${new Date(now).toISOString()})` };
}

/** Degrees as a number or numeric text; the range is checked with the other coordinate. */
const degreesSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v.trim());
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `"${shown(String(v))}" is not a number of degrees, e.g. 48.8566` });
    return z.NEVER;
  }
  return n;
});

/** What a person record holds, apart from the ids, status and timestamps the store adds. */
export interface PersonData {
  fullName: string;
  givenName: string | null;
  familyName: string | null;
  alternateNames: string[];
  description: string | null;
  sex: Sex | null;
  /** YYYY, YYYY-MM or YYYY-MM-DD */
  dateOfBirth: string | null;
  /** N or N-M */
  age: string | null;
  nationality: string | null;
  /** upper-case letters and digits */
  passportNumber: string | null;
  homeStreet: string | null;
  homeNeighborhood: string | null;
  homeCity: string | null;
  homeState: string | null;
  homePostalCode: string | null;
  /** ISO 3166-1 alpha-2 when recognised, else the name as typed */
  homeCountry: string | null;
  /** last known location, as text */
  location: string | null;
  /** both or neither */
  latitude: number | null;
  longitude: number | null;
  /** E.164 */
  phone: string | null;
  email: string | null;
  nokName: string | null;
  nokRelationship: string | null;
  nokPhone: string | null;
  nokEmail: string | null;
  /** a label grouping people who travel together, e.g. "García family" */
  household: string | null;
  /** declared order, each once */
  needs: PersonNeed[];
  source: RecordSource | null;
  /** when the source says the record was true, epoch ms */
  sourceDate: number | null;
}

const personObjectSchema = z.object({
  fullName: personFullNameSchema,
  givenName: optionalText('the given name', MAX_NAME_PART),
  familyName: optionalText('the family name', MAX_NAME_PART),
  alternateNames: alternateNamesSchema,
  description: optionalText('the description', MAX_DESCRIPTION),
  sex: optional(sexSchema),
  dateOfBirth: optional(birthDateSchema),
  age: optional(ageSchema),
  nationality: optionalText('the nationality', MAX_NATIONALITY),
  passportNumber: optional(personPassportSchema),
  homeStreet: optionalText('the street', MAX_ADDRESS_FIELD),
  homeNeighborhood: optionalText('the neighbourhood', MAX_ADDRESS_FIELD),
  homeCity: optionalText('the city', MAX_ADDRESS_FIELD),
  homeState: optionalText('the state or region', MAX_ADDRESS_FIELD),
  homePostalCode: optionalText('the postal code', MAX_ADDRESS_FIELD),
  homeCountry: optional(countrySchema),
  location: optionalText('the location', MAX_PERSON_LOCATION),
  /** "lat,lon" text: an alternative to latitude and longitude */
  coordinates: optional(coordinatesSchema),
  latitude: optional(degreesSchema),
  longitude: optional(degreesSchema),
  phone: optional(phoneSchema),
  email: optional(emailSchema),
  nokName: optionalText("the next of kin's name", MAX_FULL_NAME),
  nokRelationship: optionalText('the relationship', MAX_RELATIONSHIP),
  nokPhone: optional(phoneSchema),
  nokEmail: optional(emailSchema),
  household: optionalText('the household', MAX_HOUSEHOLD),
  needs: needsSchema,
  source: optional(sourceSchema),
  sourceDate: optional(sourceDateSchema),
});

/**
 * A person as the command layer or an import hands it over (strings as typed), PFIF-aligned. Only
 * the full name is required; a date of birth is checked for format here and for plausibility with
 * checkBirth, which needs today's date. The position is `coordinates` ("lat,lon") or `latitude`
 * and `longitude`, not both.
 */
export const personInputSchema = personObjectSchema.transform((p, ctx): PersonData => {
  // Field problems are reported already (and leave placeholders behind): no cross-field check on top.
  if (ctx.issues.length) return z.NEVER;
  const { coordinates, ...rest } = p;
  let { latitude, longitude } = p;
  if (coordinates !== null) {
    if (latitude !== null || longitude !== null) {
      ctx.addIssue({ code: 'custom', message: 'give the position once: coordinates="lat,lon", or latitude and longitude', path: ['coordinates'] });
      return z.NEVER;
    }
    latitude = coordinates.lat;
    longitude = coordinates.lon;
  }
  if ((latitude === null) !== (longitude === null)) {
    ctx.addIssue({ code: 'custom', message: 'a position needs both a latitude and a longitude', path: [latitude === null ? 'latitude' : 'longitude'] });
    return z.NEVER;
  }
  if (latitude !== null && longitude !== null) {
    const problem = coordinatesProblem(latitude, longitude);
    if (problem !== null) {
      ctx.addIssue({ code: 'custom', message: problem, path: [latitude >= -90 && latitude <= 90 ? 'longitude' : 'latitude'] });
      return z.NEVER;
    }
  }
  return { ...rest, latitude, longitude };
});
export type PersonInput = z.input<typeof personInputSchema>;

// ---------------------------------------------------------------------------------------------
// Merging duplicates

export const MERGE_FIELDS = [
  'fullName',
  'givenName',
  'familyName',
  'alternateNames',
  'description',
  'sex',
  'dateOfBirth',
  'age',
  'nationality',
  'passportNumber',
  'homeStreet',
  'homeNeighborhood',
  'homeCity',
  'homeState',
  'homePostalCode',
  'homeCountry',
  'location',
  'latitude',
  'longitude',
  'phone',
  'email',
  'nokName',
  'nokRelationship',
  'nokPhone',
  'nokEmail',
  'household',
  'needs',
  'source',
  'sourceDate',
] as const satisfies readonly (keyof PersonData)[];
export type MergeField = (typeof MERGE_FIELDS)[number];

/** One field of the surviving record as it was before the merge and after; enough to undo it. */
export type PersonChange = { [K in MergeField]: { field: K; from: PersonData[K]; to: PersonData[K] } }[MergeField];

const HOME_FIELDS = ['homeStreet', 'homeNeighborhood', 'homeCity', 'homeState', 'homePostalCode', 'homeCountry'] as const;
const NAME_FIELDS = ['fullName', 'givenName', 'familyName'] as const;
const WHEREABOUTS_FIELDS = ['location', 'latitude', 'longitude'] as const;
const NOK_FIELDS = ['nokName', 'nokRelationship', 'nokPhone', 'nokEmail'] as const;
/** Fields that only make sense together: taken from one record. */
const FIELD_GROUPS: readonly (readonly MergeField[])[] = [HOME_FIELDS, WHEREABOUTS_FIELDS, NOK_FIELDS];
const GROUPED: ReadonlySet<MergeField> = new Set([...NAME_FIELDS, ...FIELD_GROUPS.flat()]);

type JsonLike = string | number | boolean | null | undefined | readonly JsonLike[] | { readonly [k: string]: JsonLike };

function sameValue(a: JsonLike, b: JsonLike): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x as JsonLike, b[i] as JsonLike));
  }
  const ra = a as { readonly [k: string]: JsonLike };
  const rb = b as { readonly [k: string]: JsonLike };
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (!sameValue(ra[k], rb[k])) return false;
  return true;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
}

/** Reads and writes one field without losing the field's type at the call site. */
function fieldOf<K extends MergeField>(p: PersonData, k: K): PersonData[K] {
  return p[k];
}
function setField<K extends MergeField>(p: PersonData, k: K, v: PersonData[K]): void {
  p[k] = v;
}

/**
 * Merges two records of one person into `older` (the survivor, whose id and other fields stay).
 * Field by field, the record with the newer source date wins (a tie or no dates: `newer`) where it
 * has a value; the other's value fills what the winner lacks. Fields that only make sense together
 * move together: the name (full, given, family), the home address, the last known location with
 * its position, the next of kin. Alternate names and needs are unioned; the losing full name, when it differs, becomes an
 * alternate name so it stays searchable. The source date is the later one. The changes list each
 * field of `older` that changed, with its previous value, for unmerge.
 */
export function mergePeople<T extends PersonData>(older: T, newer: PersonData): { merged: T; changes: PersonChange[] } {
  const newerWins = (newer.sourceDate ?? -Infinity) >= (older.sourceDate ?? -Infinity);
  const [win, lose] = newerWins ? [newer, older] : [older, newer];
  const merged: T = { ...older };

  for (const f of MERGE_FIELDS) {
    if (f === 'alternateNames' || f === 'needs' || f === 'sourceDate') continue;
    if (GROUPED.has(f)) continue;
    const v = fieldOf(win, f);
    setField(merged, f, isEmpty(v) ? fieldOf(lose, f) : v);
  }
  for (const group of FIELD_GROUPS) {
    const from = group.some((f) => !isEmpty(fieldOf(win, f))) ? win : lose;
    for (const f of group) setField(merged, f, fieldOf(from, f));
  }
  // The winner always has a full name; its parts come from the loser only when it is the same name.
  merged.fullName = win.fullName;
  const sameName = nameKey(win.fullName) === nameKey(lose.fullName);
  merged.givenName = win.givenName ?? (sameName ? lose.givenName : null);
  merged.familyName = win.familyName ?? (sameName ? lose.familyName : null);

  const mainKey = nameKey(merged.fullName);
  const seen = new Set([mainKey]);
  const alternates: string[] = [];
  for (const n of [...older.alternateNames, ...newer.alternateNames, lose.fullName]) {
    const k = nameKey(n);
    if (seen.has(k)) continue;
    seen.add(k);
    alternates.push(n);
  }
  merged.alternateNames = alternates;
  merged.needs = sortNeeds([...older.needs, ...newer.needs]);
  merged.sourceDate = older.sourceDate === null ? newer.sourceDate : newer.sourceDate === null ? older.sourceDate : Math.max(older.sourceDate, newer.sourceDate);

  const changes: PersonChange[] = [];
  for (const f of MERGE_FIELDS) {
    const from = fieldOf(older, f);
    const to = fieldOf(merged, f);
    if (!sameValue(from as JsonLike, to as JsonLike)) changes.push({ field: f, from, to } as PersonChange);
  }
  return { merged, changes };
}

/**
 * Undoes a merge on the survivor as it is now: each changed field goes back to its value before the
 * merge, unless someone has edited it since (it no longer holds the merged value): that edit is
 * kept and the field reported in `conflicts`.
 */
export function unmerge<T extends PersonData>(current: T, changes: readonly PersonChange[]): { person: T; conflicts: MergeField[] } {
  const person: T = { ...current };
  const conflicts: MergeField[] = [];
  for (const c of changes) {
    if (!sameValue(fieldOf(current, c.field) as JsonLike, c.to as JsonLike)) {
      conflicts.push(c.field);
      continue;
    }
    (person as Record<MergeField, unknown>)[c.field] = c.from;
  }
  return { person, conflicts };
}

// ---------------------------------------------------------------------------------------------
// Current status from notes

export interface StatusNote {
  id: string;
  /** null: the note says nothing about the status */
  status: PersonStatus | null;
  /** when the author says it was true: what orders notes */
  sourceDate: number;
  /** when we recorded it: breaks ties only */
  entryDate: number;
}

/** Later source time, then later entry, then the greater id; > 0 when a is later. */
export function compareNotes(a: StatusNote, b: StatusNote): number {
  return a.sourceDate - b.sourceDate || a.entryDate - b.entryDate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The note whose status holds now, or null. */
export function latestStatusNote<N extends StatusNote>(notes: readonly N[]): N | null {
  let best: N | null = null;
  for (const n of notes) {
    if (n.status === null) continue;
    if (best === null || compareNotes(n, best) > 0) best = n;
  }
  return best;
}

/**
 * The status of the latest note by source time (ties: entry time, then id), ignoring notes
 * without a status; unaccounted when none. Ordering by source time means a note that arrives late
 * about an earlier moment never overrides a newer one.
 */
export function currentStatus(notes: readonly StatusNote[]): PersonStatus {
  return latestStatusNote(notes)?.status ?? DEFAULT_PERSON_STATUS;
}

// ---------------------------------------------------------------------------------------------
// Call list

export const DEFAULT_CALL_INTERVAL_HOURS = 4;

/** Still unaccounted, and nobody has tried to call in the last `hours` (never tried counts as due). */
export function needsCall(person: { status: PersonStatus }, lastAttemptAt: number | null, now: number, hours: number = DEFAULT_CALL_INTERVAL_HOURS): boolean {
  if (!(hours >= 0) || !Number.isFinite(hours)) throw new RangeError(`hours between calls is a number from 0, not ${hours}`);
  if (person.status !== 'unaccounted') return false;
  return lastAttemptAt === null || now - lastAttemptAt >= hours * HOUR;
}

export interface CallListEntry {
  id: string;
  /** when the record was created */
  createdAt: number;
  lastAttemptAt: number | null;
}

/** Never tried first, then the longest since the last attempt; ties: the older record, then id. */
export function callListOrder<T extends CallListEntry>(people: readonly T[]): T[] {
  return [...people].sort((a, b) => {
    if (a.lastAttemptAt !== b.lastAttemptAt) {
      if (a.lastAttemptAt === null) return -1;
      if (b.lastAttemptAt === null) return 1;
      return a.lastAttemptAt - b.lastAttemptAt;
    }
    return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Contact attempts

export const CONTACT_OUTCOMES = ['reached', 'no-answer', 'wrong-number'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

export const CONTACT_OUTCOME_LABELS: Record<ContactOutcome, string> = {
  reached: 'Reached',
  'no-answer': 'No answer',
  'wrong-number': 'Wrong number',
};

const CONTACT_OUTCOME_WORDS = lookup(CONTACT_OUTCOMES, CONTACT_OUTCOME_LABELS, {
  reached: ['answered', 'spoke', 'spoken to', 'contacted', 'got through', 'contact made'],
  'no-answer': ['noanswer', 'no reply', 'voicemail', 'busy', 'unanswered', 'not reached'],
  'wrong-number': ['wrong', 'wrong no', 'invalid number', 'not in service', 'disconnected', 'bad number'],
});

/** "reached", "no answer", "noanswer", "wrong" … */
export function parseContactOutcome(input: string): ContactOutcome | null {
  return CONTACT_OUTCOME_WORDS.get(compact(input)) ?? null;
}

export const contactOutcomeSchema = wordSchema(parseContactOutcome, 'a call outcome', CONTACT_OUTCOMES);
