// Generated invocations for every command: free unicode, the command's own words followed by
// random tokens, key=value pairs with its real argument names and hostile values, and form
// submissions keyed by its form fields. Shared by the pure and the through-the-dispatcher runs.
import fc from 'fast-check';
import { z } from 'zod/v4';
import { wellFormed } from '../../src/domain/args';
import { commands } from '../../src/handlers';
import type { AnyCommand, RawArgs } from '../../src/handlers/command';
import type { FormField } from '../../src/domain/reply';

/** Inputs per command in the pure run (CI); a nightly sets PROPERTY_RUNS=200000. */
export const PROPERTY_RUNS = positiveInt(process.env.PROPERTY_RUNS, 10_000);
/** Invocations per command through the real dispatcher and database (CI); the nightly sets 2000. */
export const DISPATCH_RUNS = positiveInt(process.env.PROPERTY_DISPATCH_RUNS, 50);

// Each run draws new inputs; a failure prints its seed, and PROPERTY_SEED=<seed> replays it.
if (process.env.PROPERTY_SEED) fc.configureGlobal({ seed: Number(process.env.PROPERTY_SEED) });

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** What people, scripts and attackers type into a field. */
export const HOSTILE: readonly string[] = [
  '',
  ' ',
  '\t',
  '"',
  "'",
  '“',
  '”',
  '‘',
  '’',
  'a"b',
  '"unbalanced',
  "O'Brien",
  'name="x',
  '""',
  '=',
  '==',
  'a=b=c',
  '\u0000',
  '\u0007bell',
  '\u001b[31mred\u001b[0m',
  'line\r\nbreak',
  '\u202eevil\u202c',
  '\u2066isolate\u2069',
  'zero\u200bwidth',
  '\ufeffbom',
  '\ud800',
  '\udfff\ud800',
  '👩‍👩‍👧',
  '🇫🇷',
  'é',
  'é',
  'İstanbul',
  'ß',
  'ＡＢＣ',
  '١٢٣',
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '@channel',
  '<@U123456>',
  '<#C123|general>',
  '<https://evil.example|click>',
  "=cmd|' /C calc'!A0",
  '+SUM(1+1)',
  '-2+3',
  '@SUM(A1)',
  "'; DROP TABLE \"Member\"; --",
  '%s%n%x',
  '${process.exit(1)}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../nonexistent/../x',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '0',
  '-0',
  '-1',
  '1e309',
  '-1e309',
  '5e-324',
  '9007199254740993',
  '99999999999999999999999',
  '-99999999999999999999999',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  '1_000',
  '1,5',
  '007',
  '2026-02-30',
  '2026-13-01',
  '0000-01-01',
  '9999-12-31',
  '275760-09-13',
  '2026-12-24T18:00:00Z',
  '2026-12-24T18:00:00+14:00',
  '2026-03-29 02:30',
  '24/12 18:00',
  '31/02',
  'tomorrow 08:00',
  'fri 18:00',
  'now',
  '25:61',
  '-5m',
  '0s',
  '999999999w',
];

/** Words the commands know, so that some inputs get past parsing and reach real records. */
export const DOMAIN: readonly string[] = [
  '@root',
  '@alee',
  '@bray',
  '@nobody',
  '@ALEE',
  'me',
  'nobody',
  'here',
  'none',
  'new',
  'all',
  'open',
  'mine',
  '<@slack:T1:U2>',
  '<@teams:abc-def|Ana>',
  'slack:T1:U2',
  'console:alee',
  'NPL-EQ',
  'npl-eq',
  'HTY',
  'C-2026-00001',
  'C-2026-99999',
  '1',
  '#1',
  '2',
  '42',
  'Consular',
  'consular',
  'Duty officer',
  'Leadership',
  'officer',
  'crisis',
  'leader',
  'admin',
  'P1',
  'P4',
  'P9',
  'critical',
  'high',
  'normal',
  'arrest',
  'death',
  'police',
  'acknowledged',
  'in-progress',
  'resolved',
  'closed',
  'safe',
  'missing',
  'evacuated',
  'reached',
  'no-answer',
  'wrong-number',
  'yes',
  'no',
  'unknown',
  'csv',
  'pfif',
  'md',
  'pdf',
  'chat',
  'sms',
  'email',
  'ana@example.org',
  '+33 6 12 34 56 78',
  'Europe/Paris',
  'Mars/Olympus',
  '08:00',
  '1w',
  '12h',
  '5m',
  '2h',
  '30s',
  'after-hours',
  'always',
  'mon-fri 18:00-08:00, sat-sun all-day',
  'offset 1',
  'roster:Consular/primary 5m; roster:Consular/backup 5m; role:leader',
  'role:leader',
  'flight',
  'bus',
  'medical,shelter',
  'female',
  '27.7172,85.3240',
  '91,181',
  'add',
  'remove',
  'import',
  'list',
  'date,name\n2026-12-25,Christmas',
  'full_name,status\nAna Lee,safe',
  'BEGIN:VCALENDAR\nEND:VCALENDAR',
  '<?xml version="1.0"?><pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"></pfif:pfif>',
  '<!DOCTYPE x [<!ENTITY a "b">]><x/>',
];

// Any code point (lone surrogates too), built by hand: fast-check's unicode units build a
// million-entry reverse map per arbitrary, which costs more than the parsers under test.
const codePoint = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0x9, 0xa, 0xd, 0x1b, 0x7f, 0xa0, 0x200b, 0x200d, 0x202e, 0x2066, 0xd800, 0xdfff, 0xfeff, 0xfffd, 0x1f469) },
);
const unicode = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.array(codePoint, { maxLength: 20 }).map((cps) => cps.map((cp) => String.fromCodePoint(cp)).join('')),
  fc.string({ unit: fc.constantFrom(...'"\'“”‘’= @#<>|\\/\n\t\u202e\u0000-:,;.'), maxLength: 12 }),
);

const numbers = fc.oneof(
  fc.integer().map(String),
  fc.integer({ min: -3, max: 100 }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
);

const dates = fc.oneof(
  fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc
    .tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 26 }), fc.integer({ min: 0, max: 62 }))
    .map(([d, m, h, min]) => `${d}/${m} ${h}:${String(min).padStart(2, '0')}`),
);

const long = fc
  .tuple(fc.constantFrom('x', 'é', '"', ' ', '👩‍👩‍👧', '9', 'a b', '\u202e', ','), fc.constantFrom(250, 1000, 4100, 20_000))
  .map(([ch, n]) => ch.repeat(Math.ceil(n / ch.length)));

/** One value for an argument: hostile, plausible, random, numeric, a date, very long, or a mix. */
export function valueArb(extra: readonly string[] = []): fc.Arbitrary<string> {
  const known = fc.constantFrom(...DOMAIN, ...extra);
  const base = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 8, arbitrary: known },
    { weight: 6, arbitrary: unicode },
    { weight: 4, arbitrary: numbers },
    { weight: 4, arbitrary: dates },
    { weight: 1, arbitrary: long },
  );
  return fc.oneof({ weight: 6, arbitrary: base }, { weight: 1, arbitrary: fc.tuple(base, fc.constantFrom('', ' ', ',', '-', '='), base).map(([a, s, b]) => a + s + b) });
}

/** Every name a command's arguments go by: its schema keys, form fields, positional words and rest. */
export function argNames(c: AnyCommand): string[] {
  return [...new Set([...schemaKeys(c.input), ...(c.form?.fields.map((f) => f.name) ?? []), ...(c.positional ?? []), ...(c.rest ? [c.rest] : [])])];
}

/** The keys of an object schema, through pipes, unions and wrappers. */
export function schemaKeys(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return schemaKeys(schema.in as z.ZodType);
  if (schema instanceof z.ZodUnion) return [...new Set((schema.options as z.ZodType[]).flatMap((o) => schemaKeys(o)))];
  if (schema instanceof z.ZodIntersection) return [...schemaKeys(schema._zod.def.left as z.ZodType), ...schemaKeys(schema._zod.def.right as z.ZodType)];
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodNullable) return schemaKeys(schema.unwrap() as z.ZodType);
  return [];
}

function optionValues(c: AnyCommand): string[] {
  return (c.form?.fields ?? []).flatMap((f) => f.options?.map((o) => o.value) ?? []);
}

const spaces = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\u00a0', '\n');

/** A value as it might be typed: bare (spaces split it), in a quote it does not contain, or broken. */
function quoted(v: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const how = fc.oneof({ weight: 12, arbitrary: fc.constant('fit') }, { weight: 4, arbitrary: fc.constant('bare') }, { weight: 1, arbitrary: fc.constant('open') });
  return fc.tuple(v, how).map(([s, how]) => {
    if (how === 'bare') return s;
    if (how === 'open') return `"${s}`; // never closed
    if (!/[\s"'“”‘’]/.test(s)) return s;
    for (const [open, close] of [['"', '"'], ["'", "'"], ['“', '”'], ['‘', '’']] as const) {
      if (!s.includes(close)) return open + s + close;
    }
    return s;
  });
}

/** The command's own words as people type them: any case, a slash or not, odd spacing. */
function commandWords(c: AnyCommand): fc.Arbitrary<string> {
  const w = c.key.split(' ');
  return fc
    .tuple(
      fc.oneof({ weight: 40, arbitrary: fc.constant('/') }, { weight: 12, arbitrary: fc.constantFrom('', ' /') }, { weight: 1, arbitrary: fc.constant('//') }),
      fc.array(fc.constantFrom<'lower' | 'upper' | 'title'>('lower', 'lower', 'upper', 'title'), { minLength: w.length, maxLength: w.length }),
      fc.array(spaces, { minLength: w.length, maxLength: w.length }),
    )
    .map(([slash, cases, gaps]) =>
      slash +
      w
        .map((x, i) => {
          const k = cases[i];
          const t = k === 'upper' ? x.toUpperCase() : k === 'title' ? x.charAt(0).toUpperCase() + x.slice(1) : x;
          return i === 0 ? t : (gaps[i] ?? ' ') + t;
        })
        .join(''),
    );
}

/** A command line for `c`: its words followed by random positional words and key=value pairs. */
export function commandTextArb(c: AnyCommand, extra: readonly string[] = []): fc.Arbitrary<string> {
  const names = argNames(c);
  const value = valueArb([...extra, ...optionValues(c)]);
  const key = fc.oneof(
    { weight: 5, arbitrary: names.length ? fc.constantFrom(...names) : fc.constant('x') },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,8}$/) },
    { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'context', 'Name', 'NAME') },
  );
  // Positional words mostly go to commands that take them; elsewhere they are refused at once
  // (or, after a group's name, read as an unknown subcommand).
  const takesWords = Boolean(c.positional?.length || c.rest);
  const isGroup = commands.some((x) => x.key.startsWith(`${c.key} `));
  const token = fc.oneof(
    { weight: takesWords ? 6 : isGroup ? 0 : 1, arbitrary: quoted(value) },
    { weight: 8, arbitrary: fc.tuple(key, quoted(value)).map(([k, v]) => `${k}=${v}`) },
  );
  const line = fc
    .tuple(commandWords(c), fc.array(fc.tuple(spaces, token), { maxLength: 7 }))
    .map(([head, rest]) => head + rest.map(([s, t]) => s + t).join(''));
  return fc.oneof(
    { weight: 40, arbitrary: line },
    // Free text with the command's words in front, and free text alone (the same for every command: a little).
    { weight: 5, arbitrary: fc.tuple(commandWords(c), unicode).map(([h, u]) => `${h} ${u}`) },
    { weight: 1, arbitrary: unicode },
  );
}

function fieldValueArb(f: FormField | undefined, value: fc.Arbitrary<string>): fc.Arbitrary<string | string[] | boolean> {
  const list = fc.array(value, { maxLength: 4 });
  if (f?.type === 'checkbox') return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: value });
  if (f?.type === 'multiSelect') {
    const opts = f.options?.map((o) => o.value) ?? [];
    return fc.oneof({ weight: 3, arbitrary: opts.length ? fc.subarray(opts) : list }, { weight: 1, arbitrary: list }, { weight: 1, arbitrary: value });
  }
  if (f?.options?.length) {
    const opts = f.options.map((o) => o.value);
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...opts) }, { weight: 2, arbitrary: value }, { weight: 1, arbitrary: list });
  }
  return fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: list }, { weight: 1, arbitrary: fc.boolean() });
}

export interface FormInput {
  values: Record<string, string | string[] | boolean | undefined>;
  context?: string;
}

/** A submission of `c`'s form (any command can be named by a forged submission): fields of every type, hostile keys. */
export function formArb(c: AnyCommand, extra: readonly string[] = []): fc.Arbitrary<FormInput> {
  const value = valueArb([...extra, ...optionValues(c)]);
  const fields = new Map((c.form?.fields ?? []).map((f) => [f.name, f]));
  // Required fields are usually filled in, and about four of the others, as people do.
  const names = argNames(c);
  const optional = names.filter((n) => !fields.get(n)?.required).length;
  const entries = names.map((name) => {
    const present = fields.get(name)?.required ? 0.85 : Math.min(0.5, 4 / Math.max(1, optional));
    const weight = Math.round(present * 20);
    return fc.oneof(
      { weight: 20 - weight, arbitrary: fc.constant(undefined) },
      { weight, arbitrary: fieldValueArb(fields.get(name), value).map((v) => [name, v] as const) },
    );
  });
  const odd = fc.array(
    fc.tuple(fc.constantFrom('__proto__', 'constructor', 'toString', 'unknown_field', 'Name', ''), fc.oneof(value, fc.boolean(), fc.array(value, { maxLength: 2 }))),
    { maxLength: 2 },
  );
  return fc
    .tuple(fc.tuple(...entries), odd, fc.option(fc.oneof(value, fc.constantFrom('1', '0', '{"id":1}', 'null')), { nil: undefined, freq: 2 }))
    .map(([pairs, oddPairs, context]) => {
      const values: Record<string, string | string[] | boolean | undefined> = {};
      for (const p of pairs) if (p) values[p[0]] = p[1];
      // Own properties, as JSON.parse makes them from a forged payload (even "__proto__").
      for (const [k, v] of oddPairs) Object.defineProperty(values, k, { value: v, enumerable: true, writable: true, configurable: true });
      return context === undefined ? { values } : { values, context };
    });
}

/**
 * Values that make sense for each argument name, against the records the dispatcher run seeds
 * (members @alee @bray @cy, roster Consular, crisis NPL-EQ, people 1 and 2, movement 1, case
 * C-2026-00001, page 1): a plausible invocation with one or two values swapped for hostile ones
 * gets past the schema and into the use case, where the interesting failures are.
 */
export const PLAUSIBLE: Readonly<Record<string, readonly string[]>> = {
  ack: ['15m', 'next-working-day 10:00'],
  action: ['add', 'remove', 'import', 'list'],
  actions: ['Convoy to Pokhara at 06:00'],
  address: ['+33 6 12 34 56 78', 'ana@example.org'],
  after: ['2m', '30s'],
  age: ['34', '30-40'],
  alt: ['Annie'],
  assignee: ['@alee', 'me'],
  at: ['07:00', '2026-03-10 09:00', 'now'],
  backup: ['offset 1', 'none', '@bray @alee'],
  cadence: ['every 6h', 'daily 08:00', 'none'],
  capacity: ['10', '1'],
  category: ['arrest', 'death', 'document'],
  channel: ['here', '#leadership', 'none', 'new'],
  city: ['Kathmandu'],
  code: ['123456', 'NPL-FL'],
  consent: ['yes', 'no', 'unknown'],
  contact: ['yes', 'no', 'Through the hotel desk'],
  context: ['1', 'NPL-EQ'],
  coordinates: ['27.7172,85.3240'],
  country: ['Nepal'],
  coverage: ['after-hours', 'always', 'mon-fri 18:00-08:00, sat-sun all-day'],
  crisis: ['NPL-EQ'],
  data: ['full_name,status\nZed Zee,safe', 'date,name\n2026-12-25,Christmas'],
  date: ['2026-12-25'],
  dedup: ['quake-1'],
  departs: ['2026-03-12 08:00', 'tomorrow 08:00'],
  description: ['Tall, red jacket'],
  details: ['Call the desk'],
  dob: ['1980-07-13', '1980'],
  draft: ['x'],
  email: ['ana@example.org'],
  entity: ['member', 'case', 'person'],
  family: ['Lima'],
  file: ['./nonexistent.csv'],
  filter: ['open', 'mine', 'P1'],
  for: ['@bray', '2026-03-17'],
  format: ['csv', 'pfif', 'md', 'pdf'],
  from: ['2026-03-11 08:00', '2026-01-01'],
  given: ['Ana'],
  handle: ['zed', 'alee'],
  handoff: ['08:00'],
  hours: ['4'],
  household: ['Lima family'],
  id: ['1', '00000000-0000-0000-0000-000000000000'],
  incidents: ['Aftershock at 04:10'],
  kind: ['chat', 'sms', 'email', 'bus', 'flight'],
  late: ['remind', 'publish-draft'],
  lead: ['@bray'],
  layer: ['backup', 'primary'],
  leadership: ['#leadership', 'none'],
  limit: ['5'],
  location: ['Hotel Yak'],
  member: ['@alee', '@bray', '@cy'],
  members: ['@alee @bray'],
  message: ['Call the desk'],
  months: ['18'],
  move: ['yes'],
  movement: ['1'],
  muster: ['Hotel Yak'],
  n: ['1'],
  name: ['Zed Zee', 'Consular', 'Leadership', 'Christmas'],
  named: ['C-2026-00001'],
  nationality: ['French'],
  needs: ['medical,evacuation', 'Water purification tablets'],
  neighbourhood: ['Thamel'],
  nok_email: ['kin@example.org'],
  nok_name: ['Bo Lima'],
  nok_phone: ['+44 20 7946 0000'],
  nok_relationship: ['brother'],
  note: ['Spoke to the hotel'],
  number: ['1'],
  outcome: ['Released without charge', 'reached', 'no-answer'],
  page: ['1'],
  passport: ['AB1234567'],
  person: ['1', '2'],
  phone: ['+977 1 4412345'],
  policy: ['Leadership'],
  postcode: ['44600'],
  priority: ['P1', 'P2', 'P4'],
  publish: ['yes', 'no'],
  reason: ['New information'],
  region: ['Nepal'],
  reminder: ['24'],
  removed: ['yes'],
  repeat: ['2', '0'],
  ref: ['C-2026-00001'],
  reporter: ['police', 'self'],
  reporter_detail: ['Kathmandu police'],
  role: ['officer', 'leader'],
  roles: ['officer,leader'],
  roster: ['Consular'],
  severity: ['critical', 'high'],
  sex: ['female'],
  shift: ['1w', '2026-03-17'],
  slack: ['U0ZED'],
  source: ['relative', 'staff'],
  source_date: ['2026-03-10'],
  start: ['2026-03-16'],
  state: ['Bagmati'],
  status: ['safe', 'in-progress', 'resolved', 'open'],
  steps: ['roster:Consular/primary 5m; role:leader'],
  street: ['Freak Street'],
  subject: ['1', 'C-2026-00001'],
  summary: ['Arrested at the airport'],
  target: ['@alee', 'Consular', 'Leadership'],
  teams: ['0f8fad5b-d9cb-469f-a165-70867728950e'],
  text: ['Ana', 'Quiet night', 'next fri 18:00', 'Called the hotel'],
  to: ['2026-03-11 20:00', '2026-12-31'],
  topic: ['cases', 'duty'],
  tz: ['Europe/Paris', 'Asia/Kathmandu'],
  update: ['2h', 'none'],
  version: ['1', '2'],
  weeks: ['2'],
  which: ['me', 'Consular', 'open', 'all'],
};

/** A sensible invocation of `c`, typed or as its form, with up to two values made hostile. */
export function plausibleArb(c: AnyCommand): fc.Arbitrary<GeneratedInvocation> {
  const fields = new Map((c.form?.fields ?? []).map((f) => [f.name, f]));
  const positional = c.positional ?? [];
  const others = argNames(c).filter((n) => !positional.includes(n) && n !== c.rest && n !== 'context');
  const good = (n: string): fc.Arbitrary<string> => fc.constantFrom(...(PLAUSIBLE[n] ?? []), ...(fields.get(n)?.options?.map((o) => o.value) ?? []), ...(PLAUSIBLE[n] || fields.get(n)?.options ? [] : ['x']));
  const share = Math.min(0.5, 3 / Math.max(1, others.length));
  const slot = (n: string, present: number): fc.Arbitrary<readonly [string, string] | undefined> => {
    const w = Math.max(1, Math.round(present * 20));
    return fc.oneof({ weight: 20 - w, arbitrary: fc.constant(undefined) }, { weight: w, arbitrary: good(n).map((v) => [n, v] as const) });
  };
  const slots = [
    ...positional.map((n) => slot(n, 0.95)),
    ...(c.rest ? [slot(c.rest, 0.8)] : []),
    ...others.map((n) => slot(n, fields.get(n)?.required ? 0.95 : share)),
  ];
  const mutations = fc.array(fc.tuple(fc.nat(), valueArb(optionValues(c))), { maxLength: 2 });
  return fc
    .tuple(fc.tuple(...slots), mutations, fc.boolean(), commandWords(c), schemaKeys(c.input).includes('context') ? fc.option(good('context'), { nil: undefined, freq: 3 }) : fc.constant(undefined))
    .map(([chosen, swaps, typed, head, context]): GeneratedInvocation => {
      const args = chosen.filter((x): x is readonly [string, string] => x !== undefined).map(([n, v]) => [n, v] as [string, string]);
      for (const [i, v] of swaps) {
        const at = args[i % Math.max(1, args.length)];
        if (at) at[1] = v;
      }
      if (!typed) {
        const values: Record<string, string | string[] | boolean> = {};
        for (const [n, v] of args) {
          const type = fields.get(n)?.type;
          values[n] = type === 'multiSelect' ? v.split(',') : type === 'checkbox' && (v === 'yes' || v === 'no') ? v === 'yes' : v;
        }
        return context === undefined ? { kind: 'form', values } : { kind: 'form', values, context };
      }
      const fit = (v: string): string => (/[\s"'“”‘’]/.test(v) ? (v.includes('"') ? `'${v}'` : `"${v}"`) : v);
      const words: string[] = [];
      for (const n of positional) {
        const a = args.find(([k]) => k === n);
        if (!a) break; // a missing word leaves the later ones to shift: typed that way too
        words.push(fit(a[1]));
      }
      const rest = c.rest ? args.find(([k]) => k === c.rest) : undefined;
      if (rest) words.push(rest[1]);
      for (const [n, v] of args) if (!positional.includes(n) && n !== c.rest) words.push(`${n}=${fit(v)}`);
      return { kind: 'command', text: [head, ...words].join(' ') };
    });
}

export type GeneratedInvocation =
  | { kind: 'command'; text: string; prefill?: Record<string, string> }
  | ({ kind: 'form' } & FormInput);

/** Everything one command can be sent: typed lines (some with a prefilled form) and form submissions. */
export function invocationArb(c: AnyCommand, extra: readonly string[] = []): fc.Arbitrary<GeneratedInvocation> {
  const text = commandTextArb(c, extra);
  const prefill = fc.dictionary(fc.constantFrom(...(argNames(c).length ? argNames(c) : ['summary'])), valueArb(extra), { maxKeys: 2 });
  return fc.oneof(
    { weight: 6, arbitrary: text.map((t): GeneratedInvocation => ({ kind: 'command', text: t })) },
    { weight: 1, arbitrary: fc.tuple(text, prefill).map(([t, p]): GeneratedInvocation => ({ kind: 'command', text: t, prefill: p })) },
    { weight: 4, arbitrary: formArb(c, extra).map((f): GeneratedInvocation => ({ kind: 'form', ...f })) },
    { weight: 6, arbitrary: plausibleArb(c) },
  );
}

/** The dispatcher's argument clean-up (trim, drop empties), mirrored for the pure run; the dispatcher run covers the real one. */
export function cleanArgs(args: Record<string, string | string[] | boolean | undefined>): RawArgs {
  const out: RawArgs = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === '__proto__') continue;
    if (typeof v === 'string') {
      const t = wellFormed(v).trim();
      if (t !== '') out[k] = t;
    } else if (Array.isArray(v)) {
      const a = v.map((x) => wellFormed(x).trim()).filter((x) => x !== '');
      if (a.length) out[k] = a;
    } else if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A sentence a person can read: not empty, and no code leaking through unless they typed it. */
export function isHumanMessage(message: unknown, typed: () => string): boolean {
  if (typeof message !== 'string' || message.trim().length < 3) return false;
  for (const leak of ['[object Object]', 'undefined', 'NaN', 'TypeError', 'at Object.', 'Prisma']) {
    if (message.includes(leak) && !typed().includes(leak)) return false;
  }
  return true;
}
