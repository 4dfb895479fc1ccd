import fc from 'fast-check';
import { KeyHashes } from '../../src/domain/key-buckets';
import {
  ageBounds,
  alternateNamesSchema,
  blockingKeys,
  emitBlockingKeys,
  callListOrder,
  checkBirth,
  CONTACT_OUTCOME_LABELS,
  CONTACT_OUTCOMES,
  contactOutcomeSchema,
  coordinatesSchema,
  currentStatus,
  DEFAULT_PERSON_STATUS,
  DUPLICATE_THRESHOLD,
  DUPLICATE_WEIGHTS,
  duplicateScore,
  fromPfifStatus,
  isCountryCode,
  isDuplicateCandidate,
  isNameMatch,
  oneDeletionKeys,
  latestStatusNote,
  mayBeMinor,
  MERGE_FIELDS,
  mergePeople,
  nameKey,
  nameScore,
  nameSkeleton,
  nameTokens,
  NEED_LABELS,
  needsCall,
  needsSchema,
  normalisePassport,
  parseAge,
  parseBirthDate,
  parseContactOutcome,
  parseCoordinates,
  parseCountry,
  parseIsoInstant,
  parseNeeds,
  parseSex,
  parseSource,
  parseStatus,
  PERSON_NEEDS,
  PERSON_STATUS_LABELS,
  PERSON_STATUSES,
  personInputSchema,
  personNameScore,
  personStatusPhrase,
  personStatusSchema,
  pfifContactConfirmed,
  PFIF_STATUSES,
  RECORD_SOURCES,
  SEXES,
  SOURCE_LABELS,
  toPfifDate,
  toPfifStatus,
  unmerge,
  type CallListEntry,
  type DuplicateFields,
  type PersonData,
  type PersonStatus,
  type StatusNote,
} from '../../src/domain/person';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 22, 14, 0, 0);

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}
function err<T extends { ok: boolean }>(r: T): Extract<T, { ok: false }> {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: false }>;
}

/** A full record with every optional field empty, then `over`. */
function person(over: Partial<PersonData> & { fullName: string }): PersonData {
  return { ...personInputSchema.parse({ fullName: over.fullName }), ...over };
}

function issues(input: unknown): string[] {
  const r = personInputSchema.safeParse(input);
  if (r.success) throw new Error('expected the input to be refused');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

// ---------------------------------------------------------------------------------------------

describe('statuses', () => {
  test('codes and labels in the declared order; unaccounted is the default', () => {
    expect(PERSON_STATUSES).toEqual(['unaccounted', 'safe', 'needs-assistance', 'injured', 'in-hospital', 'missing', 'deceased', 'evacuated', 'left-area']);
    expect(PERSON_STATUSES.map((s) => PERSON_STATUS_LABELS[s])).toEqual(['Unaccounted', 'Safe', 'Needs assistance', 'Injured', 'In hospital', 'Missing', 'Deceased', 'Evacuated', 'Left the area']);
    expect(DEFAULT_PERSON_STATUS).toBe('unaccounted');
    expect(personStatusPhrase('left-area')).toBe('left the area');
  });

  test('every code and label parses to itself, in any case', () => {
    for (const s of PERSON_STATUSES) {
      expect(parseStatus(s)).toBe(s);
      expect(parseStatus(PERSON_STATUS_LABELS[s])).toBe(s);
      expect(parseStatus(PERSON_STATUS_LABELS[s].toUpperCase())).toBe(s);
    }
  });

  test.each([
    ['ok', 'safe'],
    ['OK', 'safe'],
    ['fine', 'safe'],
    ["I'm safe", 'safe'],
    ['hospital', 'in-hospital'],
    ['hospitalised', 'in-hospital'],
    ['Hospitalized', 'in-hospital'],
    ['in hospital', 'in-hospital'],
    ['dead', 'deceased'],
    ['died', 'deceased'],
    ['left', 'left-area'],
    ['left the area', 'left-area'],
    ['needs help', 'needs-assistance'],
    ['assistance', 'needs-assistance'],
    ['help', 'needs-assistance'],
    ['hurt', 'injured'],
    ['disappeared', 'missing'],
    ['evac', 'evacuated'],
    ['unknown', 'unaccounted'],
    ['unaccounted for', 'unaccounted'],
  ])('%s → %s', (input, expected) => {
    expect(parseStatus(input)).toBe(expected);
  });

  test('unknown words are null, and the schema says what to use', () => {
    expect(parseStatus('on holiday')).toBeNull();
    expect(parseStatus('')).toBeNull();
    const r = personStatusSchema.safeParse('on holiday');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('"on holiday" is not a person status; use unaccounted, safe, needs-assistance, injured, in-hospital, missing, deceased, evacuated or left-area');
    expect(personStatusSchema.parse(' Safe ')).toBe('safe');
  });
});

describe('PFIF note status', () => {
  test('toPfifStatus: living statuses are believed_alive', () => {
    expect(Object.fromEntries(PERSON_STATUSES.map((s) => [s, toPfifStatus(s)]))).toEqual({
      unaccounted: 'information_sought',
      safe: 'believed_alive',
      'needs-assistance': 'believed_alive',
      injured: 'believed_alive',
      'in-hospital': 'believed_alive',
      missing: 'believed_missing',
      deceased: 'believed_dead',
      evacuated: 'believed_alive',
      'left-area': 'believed_alive',
    });
  });

  test('fromPfifStatus: alive (reported or from the person) → safe; "" and unknown → null (no status)', () => {
    expect(fromPfifStatus('information_sought')).toBe('unaccounted');
    expect(fromPfifStatus('is_note_author')).toBe('safe');
    expect(fromPfifStatus('believed_alive')).toBe('safe');
    expect(fromPfifStatus(' BELIEVED_ALIVE ')).toBe('safe');
    expect(fromPfifStatus('believed_missing')).toBe('missing');
    expect(fromPfifStatus('believed_dead')).toBe('deceased');
    expect(fromPfifStatus('')).toBeNull();
    expect(fromPfifStatus('believed_happy')).toBeNull();
  });

  test('round trips: every PFIF status but is_note_author comes back; our statuses come back where PFIF can say them', () => {
    for (const p of PFIF_STATUSES) {
      const ours = fromPfifStatus(p);
      if (p === '') expect(ours).toBeNull();
      else expect(toPfifStatus(ours as PersonStatus)).toBe(p === 'is_note_author' ? 'believed_alive' : p);
    }
    for (const s of ['unaccounted', 'safe', 'missing', 'deceased'] as const) expect(fromPfifStatus(toPfifStatus(s))).toBe(s);
    for (const s of ['needs-assistance', 'injured', 'in-hospital', 'evacuated', 'left-area'] as const) expect(fromPfifStatus(toPfifStatus(s))).toBe('safe');
  });

  test('contact is confirmed when the author made contact or is the person', () => {
    expect(pfifContactConfirmed({ status: 'believed_alive', authorMadeContact: true })).toBe(true);
    expect(pfifContactConfirmed({ status: 'believed_alive', authorMadeContact: false })).toBe(false);
    expect(pfifContactConfirmed({ status: 'is_note_author', authorMadeContact: false })).toBe(true);
  });

  test('PFIF dates: UTC whole seconds with Z; ISO instants read back with offsets', () => {
    expect(toPfifDate(Date.UTC(2026, 10, 22, 14, 5, 9, 750))).toBe('2026-11-22T14:05:09Z');
    expect(parseIsoInstant('2026-11-22T14:05:09Z')).toBe(Date.UTC(2026, 10, 22, 14, 5, 9));
    expect(parseIsoInstant('2026-11-22T15:05:09+01:00')).toBe(Date.UTC(2026, 10, 22, 14, 5, 9));
    expect(parseIsoInstant('2026-11-22T09:05-0500')).toBe(Date.UTC(2026, 10, 22, 14, 5));
    expect(parseIsoInstant('2026-11-22T14:05:09.123Z')).toBe(Date.UTC(2026, 10, 22, 14, 5, 9));
    expect(parseIsoInstant('2026-11-22')).toBe(Date.UTC(2026, 10, 22));
    expect(parseIsoInstant('2026-02-30T10:00:00Z')).toBeNull();
    expect(parseIsoInstant('2026-11-22T24:00:00Z')).toBeNull();
    expect(parseIsoInstant('yesterday')).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        const whole = Math.floor(ms / 1000) * 1000;
        expect(parseIsoInstant(toPfifDate(ms))).toBe(whole);
      }),
    );
  });
});

describe('needs', () => {
  test('labels, and a list parses leniently, each once, in declared order', () => {
    expect(PERSON_NEEDS).toEqual(['medical', 'shelter', 'evacuation', 'consular', 'other']);
    expect(NEED_LABELS.consular).toBe('Consular assistance');
    expect(ok(parseNeeds('shelter, medical')).value).toEqual(['medical', 'shelter']);
    expect(ok(parseNeeds('evacuation medical shelter medical')).value).toEqual(['medical', 'shelter', 'evacuation']);
    expect(ok(parseNeeds('Consular assistance and evacuation')).value).toEqual(['evacuation', 'consular']);
    expect(ok(parseNeeds('MEDICAL;other / passport')).value).toEqual(['medical', 'consular', 'other']);
    expect(ok(parseNeeds(['Medical care', 'shelter'])).value).toEqual(['medical', 'shelter']);
    for (const n of PERSON_NEEDS) expect(ok(parseNeeds(NEED_LABELS[n])).value).toEqual([n]);
  });

  test('none or blank is no needs; an unknown word is named', () => {
    expect(ok(parseNeeds('none')).value).toEqual([]);
    expect(ok(parseNeeds('n/a')).value).toEqual([]);
    expect(ok(parseNeeds('  ')).value).toEqual([]);
    expect(err(parseNeeds('medical, unicorns')).error).toBe('"unicorns" is not a need; use medical, shelter, evacuation, consular or other');
    expect(err(parseNeeds('cake pie')).error).toMatch(/^"cake", "pie" are not needs/);
  });

  test('schema: absent → [], refused with the message', () => {
    expect(needsSchema.parse(undefined)).toEqual([]);
    expect(needsSchema.parse(null)).toEqual([]);
    expect(needsSchema.parse('shelter medical')).toEqual(['medical', 'shelter']);
    expect(needsSchema.safeParse('wings').success).toBe(false);
  });

  test('property: declared order, no duplicates, whatever the order and repetition typed', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PERSON_NEEDS), { maxLength: 12 }), fc.constantFrom(', ', ' ', ';', ' and '), (needs, sep) => {
        const out = ok(parseNeeds(needs.join(sep))).value;
        expect(out).toEqual(PERSON_NEEDS.filter((n) => needs.includes(n)));
      }),
    );
  });
});

describe('sources, sex and contact outcomes', () => {
  test('sources: codes, labels, synonyms', () => {
    expect(RECORD_SOURCES).toEqual(['self', 'relative', 'registration', 'hospital', 'authorities', 'staff']);
    for (const s of RECORD_SOURCES) {
      expect(parseSource(s)).toBe(s);
      expect(parseSource(SOURCE_LABELS[s])).toBe(s);
    }
    expect(SOURCE_LABELS.self).toBe('The person');
    expect(parseSource('family')).toBe('relative');
    expect(parseSource('next of kin')).toBe('relative');
    expect(parseSource('Police')).toBe('authorities');
    expect(parseSource('embassy')).toBe('staff');
    expect(parseSource('registration list')).toBe('registration');
    expect(parseSource('a bird')).toBeNull();
  });

  test('sex: PFIF values, leniently', () => {
    expect(SEXES).toEqual(['female', 'male', 'other']);
    expect(['f', 'F', 'woman', 'Female'].map(parseSex)).toEqual(['female', 'female', 'female', 'female']);
    expect(['m', 'man', 'MALE'].map(parseSex)).toEqual(['male', 'male', 'male']);
    expect(['x', 'other', 'non-binary'].map(parseSex)).toEqual(['other', 'other', 'other']);
    expect(parseSex('q')).toBeNull();
  });

  test('contact outcomes', () => {
    expect(CONTACT_OUTCOMES).toEqual(['reached', 'no-answer', 'wrong-number']);
    expect(CONTACT_OUTCOME_LABELS['no-answer']).toBe('No answer');
    expect(parseContactOutcome('noanswer')).toBe('no-answer');
    expect(parseContactOutcome('No answer')).toBe('no-answer');
    expect(parseContactOutcome('no-answer')).toBe('no-answer');
    expect(parseContactOutcome('wrong')).toBe('wrong-number');
    expect(parseContactOutcome('Wrong number')).toBe('wrong-number');
    expect(parseContactOutcome('reached')).toBe('reached');
    expect(parseContactOutcome('maybe')).toBeNull();
    expect(contactOutcomeSchema.safeParse('maybe').error?.issues[0]?.message).toBe('"maybe" is not a call outcome; use reached, no-answer or wrong-number');
  });
});

describe('date of birth', () => {
  test.each([
    ['1985', '1985'],
    ['1985-04', '1985-04'],
    ['1985-4', '1985-04'],
    ['1985-04-23', '1985-04-23'],
    ['23/04/1985', '1985-04-23'],
    ['3/4/1985', '1985-04-03'],
    ['23.04.1985', '1985-04-23'],
    ['23-04-1985', '1985-04-23'],
    ['04/1985', '1985-04'],
    [' 2000-02-29 ', '2000-02-29'],
  ])('%s → %s', (input, iso) => {
    expect(ok(parseBirthDate(input)).value).toBe(iso);
  });

  test('not real dates, and formats we cannot read', () => {
    expect(err(parseBirthDate('1985-02-30')).error).toBe('1985-02-30 is not a real date');
    expect(err(parseBirthDate('31/04/1985')).error).toBe('1985-04-31 is not a real date');
    expect(err(parseBirthDate('1900-02-29')).error).toBe('1900-02-29 is not a real date');
    expect(err(parseBirthDate('1985-13')).error).toBe('"1985-13": 13 is not a month');
    expect(err(parseBirthDate('04/23/1985')).error).toBe('"04/23/1985": 23 is not a month; dates with slashes are day/month/year');
    expect(err(parseBirthDate('April 1985')).error).toMatch(/write a date of birth as YYYY-MM-DD, YYYY-MM, YYYY or DD\/MM\/YYYY/);
    expect(err(parseBirthDate('85')).error).toMatch(/write a date of birth/);
  });

  test('checkBirth: before 1900 and the future are refused; today is fine; partial dates compare by their part', () => {
    expect(ok(checkBirth('23/04/1985', NOW)).value).toBe('1985-04-23');
    expect(ok(checkBirth('1900', NOW)).value).toBe('1900');
    expect(err(checkBirth('1899-12-31', NOW)).error).toBe('a date of birth before 1900 (1899-12-31) is not plausible; check the year');
    expect(err(checkBirth('1899', NOW)).error).toMatch(/before 1900/);
    expect(ok(checkBirth('2026-11-22', NOW)).value).toBe('2026-11-22');
    expect(err(checkBirth('2026-11-23', NOW)).error).toBe('a date of birth cannot be in the future: 2026-11-23 is after today (2026-11-22)');
    expect(ok(checkBirth('2026-11', NOW)).value).toBe('2026-11');
    expect(ok(checkBirth('2026', NOW)).value).toBe('2026');
    expect(err(checkBirth('2026-12', NOW)).error).toMatch(/in the future/);
    expect(err(checkBirth('2027', NOW)).error).toMatch(/in the future/);
    expect(err(checkBirth('1985-02-30', NOW)).error).toBe('1985-02-30 is not a real date');
  });

  test("checkBirth: today is the mission's today when a time zone is given", () => {
    const lateUtc = Date.UTC(2026, 10, 22, 20, 0); // already the 23rd in Auckland
    expect(err(checkBirth('2026-11-23', lateUtc)).error).toMatch(/in the future/);
    expect(ok(checkBirth('2026-11-23', lateUtc, 'Pacific/Auckland')).value).toBe('2026-11-23');
  });

  test('property: any real date typed day first normalises to its ISO form', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2026, 10, 22)), noInvalidDate: true }), (d) => {
        const iso = d.toISOString().slice(0, 10);
        const [y, m, day] = iso.split('-');
        expect(ok(parseBirthDate(`${day}/${m}/${y}`)).value).toBe(iso);
        expect(ok(checkBirth(`${Number(day)}.${Number(m)}.${y}`, NOW)).value).toBe(iso);
      }),
    );
  });
});

describe('age', () => {
  test.each([
    ['34', '34'],
    [34, '34'],
    ['0', '0'],
    ['130', '130'],
    ['30-35', '30-35'],
    ['30 - 35', '30-35'],
    ['30–35', '30-35'],
    ['30 to 35', '30-35'],
    ['40-40', '40'],
  ])('%s → %s', (input, out) => {
    expect(ok(parseAge(input)).value).toBe(out);
  });

  test('out of range, reversed or not a number', () => {
    expect(err(parseAge('131')).error).toBe('an age of 131 is not plausible; ages are 0 to 130');
    expect(err(parseAge('30-140')).error).toMatch(/not plausible/);
    expect(err(parseAge('35-30')).error).toBe('"35-30": the range must go from the lower age to the higher, e.g. 30-35');
    expect(err(parseAge('-3')).error).toMatch(/write an age as a number/);
    expect(err(parseAge('about 30')).error).toMatch(/write an age as a number/);
    expect(err(parseAge(3.5)).error).toMatch(/write an age/);
  });

  test('ageBounds: exact from a full date, a span from a partial one, else from the age', () => {
    expect(ageBounds({ dateOfBirth: '2008-11-22' }, NOW)).toEqual({ min: 18, max: 18 });
    expect(ageBounds({ dateOfBirth: '2008-11-23' }, NOW)).toEqual({ min: 17, max: 17 });
    expect(ageBounds({ dateOfBirth: '2008' }, NOW)).toEqual({ min: 17, max: 18 });
    expect(ageBounds({ dateOfBirth: '2008-11' }, NOW)).toEqual({ min: 17, max: 18 });
    expect(ageBounds({ dateOfBirth: '2008-10' }, NOW)).toEqual({ min: 18, max: 18 });
    expect(ageBounds({ dateOfBirth: '2008-02' }, Date.UTC(2026, 1, 28))).toEqual({ min: 17, max: 18 });
    expect(ageBounds({ age: '30-35' }, NOW)).toEqual({ min: 30, max: 35 });
    expect(ageBounds({ age: '7', dateOfBirth: '1990-01-01' }, NOW)).toEqual({ min: 36, max: 36 });
    expect(ageBounds({ age: '7', dateOfBirth: 'garbage' }, NOW)).toEqual({ min: 7, max: 7 });
    expect(ageBounds({}, NOW)).toBeNull();
  });

  test('mayBeMinor: the youngest they can be is under 18', () => {
    expect(mayBeMinor({ age: '12' }, NOW)).toBe(true);
    expect(mayBeMinor({ age: '16-19' }, NOW)).toBe(true);
    expect(mayBeMinor({ age: '18' }, NOW)).toBe(false);
    expect(mayBeMinor({ dateOfBirth: '2008' }, NOW)).toBe(true);
    expect(mayBeMinor({ dateOfBirth: '2008-11-22' }, NOW)).toBe(false);
    expect(mayBeMinor({}, NOW)).toBe(false);
  });
});

describe('coordinates', () => {
  test('lat,lon text', () => {
    expect(ok(parseCoordinates('48.8566,2.3522')).value).toEqual({ lat: 48.8566, lon: 2.3522 });
    expect(ok(parseCoordinates(' -33.9, 151.2 ')).value).toEqual({ lat: -33.9, lon: 151.2 });
    expect(ok(parseCoordinates('-33.9 151.2')).value).toEqual({ lat: -33.9, lon: 151.2 });
    expect(ok(parseCoordinates('90,-180')).value).toEqual({ lat: 90, lon: -180 });
  });

  test('clear errors', () => {
    expect(err(parseCoordinates('Paris')).error).toBe('"Paris": write a position as latitude,longitude in degrees, e.g. 48.8566,2.3522');
    expect(err(parseCoordinates('91,0')).error).toBe('latitude 91 is outside -90 to 90; latitude comes first (0,91?)');
    expect(err(parseCoordinates('91,100')).error).toBe('latitude 91 is outside -90 to 90');
    expect(err(parseCoordinates('0,180.5')).error).toBe('longitude 180.5 is outside -180 to 180');
    expect(err(parseCoordinates('151.2,-33.9')).error).toBe('latitude 151.2 is outside -90 to 90; latitude comes first (-33.9,151.2?)');
    expect(err(parseCoordinates('200,200')).error).toBe('latitude 200 is outside -90 to 90');
  });

  test('schema takes text or numbers', () => {
    expect(coordinatesSchema.parse('1,2')).toEqual({ lat: 1, lon: 2 });
    expect(coordinatesSchema.parse({ lat: 1, lon: 2 })).toEqual({ lat: 1, lon: 2 });
    expect(coordinatesSchema.safeParse({ lat: 100, lon: 120 }).error?.issues[0]?.message).toBe('latitude 100 is outside -90 to 90');
    expect(coordinatesSchema.parse('1e-7,2E1')).toEqual({ lat: 1e-7, lon: 20 });
  });

  test('property: any in-range position formats and parses back', () => {
    fc.assert(
      fc.property(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }), (lat, lon) => {
        // Whatever String() writes (5e-324, -0) must read back.
        const back = ok(parseCoordinates(`${lat},${lon}`)).value;
        expect(back.lat).toBeCloseTo(lat, 10);
        expect(back.lon).toBeCloseTo(lon, 10);
      }),
    );
  });
});

describe('countries', () => {
  test('codes, names and aliases; unknown codes refused; other names kept', () => {
    expect(ok(parseCountry('fr')).value).toBe('FR');
    expect(ok(parseCountry('France')).value).toBe('FR');
    expect(ok(parseCountry('united kingdom')).value).toBe('GB');
    expect(ok(parseCountry('UK')).value).toBe('GB');
    expect(ok(parseCountry('Côte d’Ivoire')).value).toBe('CI');
    expect(ok(parseCountry('Ivory Coast')).value).toBe('CI');
    expect(ok(parseCountry('Atlantis')).value).toBe('Atlantis');
    expect(err(parseCountry('XX')).error).toBe("XX is not an ISO 3166-1 country code; write the code (e.g. FR) or the country's name");
    expect(err(parseCountry('x'.repeat(101))).error).toBe('the country is 101 characters; keep it under 100');
    expect(isCountryCode('DE')).toBe(true);
    expect(isCountryCode('EU')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('name keys', () => {
  test('folding: accents, special letters, punctuation, order', () => {
    expect(nameTokens("José-María O'Brien")).toEqual(['jose', 'maria', 'obrien']);
    expect(nameKey('Straße Ærø Łukasz Đorđe Søren')).toBe('aero dorde lukasz soren strasse');
    expect(nameKey('GARCÍA LÓPEZ, María')).toBe('garcia lopez maria');
    expect(nameKey('María García López')).toBe(nameKey('lopez garcia maria'));
    expect(nameKey('İpek Yılmaz')).toBe('ipek yilmaz');
    expect(nameKey('  ')).toBe('');
    expect(nameTokens('Nguyễn Văn An')).toEqual(['nguyen', 'van', 'an']);
  });

  test('skeletons', () => {
    expect(nameSkeleton('mohammed')).toBe('mhmd');
    expect(nameSkeleton('muhammad')).toBe('mhmd');
    expect(nameSkeleton('smith')).toBe('smth');
    expect(nameSkeleton('smyth')).toBe('smth');
    expect(nameSkeleton('anna')).toBe('an');
  });

  const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 9 });
  const ACCENTS = ['\u0301', '\u0300', '\u0308', '\u0302', '\u0303', '\u030A', '\u0327', '\u030C'];

  test('property: invariant under word order, case, accents and separators', () => {
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 5 }).chain((words) =>
          fc.tuple(
            fc.constant(words),
            fc.shuffledSubarray(words, { minLength: words.length, maxLength: words.length }),
            fc.array(fc.tuple(fc.boolean(), fc.option(fc.constantFrom(...ACCENTS))), { minLength: 60, maxLength: 60 }),
            fc.array(fc.constantFrom(' ', '  ', '-', ', ', '\t', ' . '), { minLength: 5, maxLength: 5 }),
          ),
        ),
        ([words, shuffled, marks, seps]) => {
          let i = 0;
          const disguise = (w: string) =>
            [...w]
              .map((ch) => {
                const [upper, accent] = marks[i++ % marks.length] as [boolean, string | null];
                return (upper ? ch.toUpperCase() : ch) + (accent ?? '');
              })
              .join('')
              .normalize('NFC');
          const typed = shuffled.map(disguise).reduce((acc, w, k) => (k === 0 ? w : acc + (seps[k % seps.length] as string) + w), '');
          expect(nameKey(typed)).toBe(nameKey(words.join(' ')));
          expect(nameKey(typed)).toBe([...words].sort().join(' '));
        },
      ),
    );
  });
});

describe('nameScore and isNameMatch', () => {
  test('word order, case and accents do not matter', () => {
    expect(nameScore('garcia maria', 'María García')).toBe(1);
    expect(nameScore('MARIA GARCIA', 'maría garcía')).toBe(1);
    expect(isNameMatch('Lopez Garcia Maria', 'María García López')).toBe(true);
  });

  test('one slip in words of 4+ letters, two in words of 8+; shorter words must match', () => {
    expect(isNameMatch('Jon Smyth', 'John Smith')).toBe(false); // "jon" is too short for a slip
    expect(isNameMatch('John Smyth', 'John Smith')).toBe(true);
    expect(isNameMatch('Jhon Smith', 'John Smith')).toBe(false); // a swap is two edits
    expect(isNameMatch('Jonh Smith', 'John Smith')).toBe(false);
    expect(isNameMatch('Johnn Smith', 'John Smith')).toBe(true);
    expect(isNameMatch('Alexandre', 'Alexandra')).toBe(true);
    expect(isNameMatch('Alexandar', 'Alexander')).toBe(true);
    expect(isNameMatch('Aleksander', 'Alexander')).toBe(true);
    expect(isNameMatch('Aleksandar', 'Alexander')).toBe(false);
    expect(isNameMatch('Aleksandr', 'Alexandr')).toBe(true);
    expect(isNameMatch('Alex', 'Alan')).toBe(false);
    expect(isNameMatch('Ana', 'Ama')).toBe(false);
    expect(isNameMatch('Christophr', 'Kristopher')).toBe(false);
  });

  test('prefixes count: initials and beginnings', () => {
    expect(isNameMatch('J Smith', 'John Smith')).toBe(true);
    expect(isNameMatch('smi', 'John Smith')).toBe(true);
    expect(nameScore('smi', 'John Smith')).toBeGreaterThan(0);
    expect(nameScore('smi', 'John Smith')).toBeLessThan(nameScore('smith', 'John Smith'));
  });

  test('each query word needs a different name word', () => {
    expect(isNameMatch('maria maria', 'Maria Garcia')).toBe(false);
    expect(isNameMatch('maria maria', 'Maria Garcia Maria')).toBe(true);
    expect(isNameMatch('Maria Garcia Lopez', 'Maria Garcia')).toBe(false);
  });

  test('ranking: exact first, then partial and near matches, unrelated 0', () => {
    const candidates = ['John Smith', 'John Smithers', 'John Smyth', 'Johnny Smith Jones', 'Mary Jones'];
    const ranked = [...candidates].sort((a, b) => nameScore('john smith', b) - nameScore('john smith', a));
    expect(ranked[0]).toBe('John Smith');
    expect(ranked[ranked.length - 1]).toBe('Mary Jones');
    expect(nameScore('john smith', 'Mary Jones')).toBe(0);
    expect(nameScore('', 'Mary Jones')).toBe(0);
    expect(nameScore('maria', 'Maria Garcia Lopez')).toBeGreaterThan(0.9);
    expect(nameScore('maria', 'Maria Garcia Lopez')).toBeLessThan(1);
  });

  test('personNameScore looks at alternate names too', () => {
    const p = { fullName: 'Mohammed Al-Hassan', alternateNames: ['Abu Karim'] };
    expect(personNameScore('abu karim', p)).toBe(1);
    expect(personNameScore('hassan mohammed', p)).toBeGreaterThan(0.9);
  });

  test('long names use the greedy pairing and still match themselves', () => {
    const long = 'Ana Beatriz Carla Daniela Eva Fernanda Gabriela Helena';
    expect(isNameMatch(long, long)).toBe(true);
    expect(nameScore(long, long)).toBe(1);
  });

  const nameArb = fc.array(fc.string({ unit: fc.constantFrom(...'abcdeilmnorstu'), minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 5 }).map((w) => w.join(' '));

  test('property: 0..1, a name matches itself in any word order with score 1', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        const s = nameScore(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        expect(nameScore(a, nameTokens(a).reverse().join(' ').toUpperCase())).toBe(1);
        expect(isNameMatch(a, a)).toBe(true);
        if (isNameMatch(a, b)) expect(s).toBeGreaterThan(0);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('blocking keys', () => {
  test('the keys of a full record', () => {
    const keys = blockingKeys({ fullName: 'John Smith', familyName: 'Smith', dateOfBirth: '23/04/1985', passportNumber: 'ab 123-456', phone: '+44 20 7946 0000', email: ' J.Smith@Example.org ' });
    expect(keys).toEqual(
      expect.arrayContaining(['n:john smith', 'ns:jhn smth', 'nd:john smith', 'nd:jon smith', 'nd:john smth', 'ny:jhn:1985', 'ny:smth:1985', 'd:1985-04-23+s', 'p:AB123456', 't:442079460000', 'e:j.smith@example.org']),
    );
    expect(keys).not.toContain('d:1985-04-23+j');
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('without a family name, each word gives the dob key; short words give no deletions; no dob, no year keys', () => {
    const keys = blockingKeys({ fullName: 'Li Wei', dateOfBirth: '1990-01-02' });
    expect(keys).toEqual(expect.arrayContaining(['d:1990-01-02+l', 'd:1990-01-02+w']));
    expect(keys.filter((k) => k.startsWith('nd:'))).toEqual(['nd:li wei']);
    expect(blockingKeys({ fullName: 'Li Wei' }).some((k) => k.startsWith('ny:') || k.startsWith('d:'))).toBe(false);
  });

  test('alternate names get name keys; short identifiers give no key', () => {
    const keys = blockingKeys({ fullName: 'Mohammed Hassan', alternateNames: ['Abu Karim'], passportNumber: 'A1', phone: '123' });
    expect(keys).toEqual(expect.arrayContaining(['n:hassan mohammed', 'n:abu karim', 'ns:ab krm']));
    expect(keys.some((k) => k.startsWith('p:') || k.startsWith('t:'))).toBe(false);
  });

  test('one-deletion keys: the same keys, in the same order, as sorting every variant of the name', () => {
    // The plain way, which the import found too slow for millions of keys.
    const plain = (tokens: readonly string[]): string[] => {
      const out = new Set<string>([[...tokens].sort().join(' ')]);
      tokens.forEach((t, i) => {
        if (t.length < 4) return;
        for (let k = 0; k < t.length; k++) {
          const variant = [...tokens];
          variant[i] = t.slice(0, k) + t.slice(k + 1);
          out.add(variant.sort().join(' '));
        }
      });
      return [...out];
    };
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'l', 'n', 'o', 'z', 'ö', 'ı', 'ß'), minLength: 1, maxLength: 9 });
    fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (tokens) => expect(oneDeletionKeys(tokens)).toEqual(plain(tokens))), { numRuns: 2000 });
    expect(oneDeletionKeys(['anna', 'lee'])).toEqual(['anna lee', 'lee nna', 'ana lee', 'ann lee']);
    expect(oneDeletionKeys(['lee', 'anna'], 'nd:')).toEqual(['nd:anna lee', 'nd:lee nna', 'nd:ana lee', 'nd:ann lee']);
  });

  test('hashed as they are made: the hashes of the keys as strings, in the same order, strong ones marked', () => {
    // Strong: the same name (or one slip away), passport, phone, email; weak: skeletons, year, birth date.
    const strong = (k: string): boolean => /^(n|nd|p|t|e):/.test(k);
    const name = fc.array(fc.string({ unit: fc.constantFrom('a', 'e', 'l', 'm', 'n', 'o', 'ö', 'ı', 'ß', "'", '-', ' '), minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
    const record = fc.record({
      fullName: name,
      familyName: fc.option(name),
      alternateNames: fc.option(fc.array(name, { maxLength: 2 })),
      dateOfBirth: fc.option(fc.constantFrom('1985-04-23', '1990', '23/04/1985', 'not a date')),
      passportNumber: fc.option(fc.constantFrom('AB123456', 'ab 12-34 56', 'A1')),
      phone: fc.option(fc.constantFrom('+44 20 7946 0000', '123')),
      email: fc.option(fc.constantFrom(' J.Smith@Example.org ', '')),
    });
    const sink = new KeyHashes();
    fc.assert(
      fc.property(record, (r) => {
        const keys = blockingKeys(r);
        const want = KeyHashes.of(keys);
        emitBlockingKeys(r, sink.clear());
        expect(sink.count).toBe(keys.length);
        expect([...sink.hash.subarray(0, sink.count * 2)]).toEqual([...want.hash.subarray(0, want.count * 2)]);
        expect([...sink.strong.subarray(0, sink.count)]).toEqual(keys.map((k) => (strong(k) ? 1 : 0)));
      }),
      { numRuns: 2000 },
    );
  });

  const share = (a: Parameters<typeof blockingKeys>[0], b: Parameters<typeof blockingKeys>[0]) => blockingKeys(a).some((k) => blockingKeys(b).includes(k));

  test('catches swapped names, vowel spellings and one-letter slips; keeps strangers apart', () => {
    expect(share({ fullName: 'Smith John' }, { fullName: 'John Smith' })).toBe(true);
    expect(share({ fullName: 'Mohammed Hassan' }, { fullName: 'Muhammad Hasan' })).toBe(true);
    expect(share({ fullName: 'Jonathan Smith' }, { fullName: 'Jonathon Smith' })).toBe(true);
    expect(share({ fullName: 'Smtih John' }, { fullName: 'John Smith' })).toBe(true);
    expect(share({ fullName: 'Jon Smith' }, { fullName: 'John Smith' })).toBe(true);
    expect(share({ fullName: 'Jhon Smith' }, { fullName: 'John Smith' })).toBe(true);
    expect(share({ fullName: 'Maria Garcia Lopez', dateOfBirth: '1980' }, { fullName: 'Maria Garsia', dateOfBirth: '1980-05-01' })).toBe(true);
    expect(share({ fullName: 'John Smith' }, { fullName: 'Mary Jones' })).toBe(false);
    expect(share({ fullName: 'John Smith' }, { fullName: 'Jane Smith' })).toBe(false);
    expect(share({ fullName: 'John Smith', dateOfBirth: '1980' }, { fullName: 'Jane Smith', dateOfBirth: '1980' })).toBe(true);
    expect(share({ fullName: 'Ann Lee', passportNumber: 'X1234567' }, { fullName: 'Bob Ray', passportNumber: 'x 123 4567' })).toBe(true);
  });

  const tokenArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 4, maxLength: 10 });

  test('property: one substitution, insertion or deletion in one word of 4+ letters, in any word order, still shares a key', () => {
    fc.assert(
      fc.property(
        fc.array(tokenArb, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('sub', 'ins', 'del'),
        fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
        fc.boolean(),
        (words, wi, ci, edit, ch, reverse) => {
          const i = wi % words.length;
          const w = words[i] as string;
          const k = ci % w.length;
          const edited = edit === 'sub' ? w.slice(0, k) + ch + w.slice(k + 1) : edit === 'ins' ? w.slice(0, k) + ch + w.slice(k) : w.slice(0, k) + w.slice(k + 1);
          const other = [...words];
          other[i] = edited;
          if (reverse) other.reverse();
          expect(share({ fullName: words.join(' ') }, { fullName: other.join(' ') })).toBe(true);
        },
      ),
    );
  });
});

describe('duplicate scores', () => {
  const W = DUPLICATE_WEIGHTS;

  test("the reference's weights", () => {
    expect(W).toMatchObject({ samePassport: 5, differentPassport: -2, sameEmail: 2, differentEmail: -5, sameBirth: 3, differentBirth: -2, sameName: 2, differentName: -2, samePhone: 2 });
    expect(DUPLICATE_THRESHOLD).toBe(4);
  });

  test('each rule', () => {
    const base = { fullName: 'Ann Lee' };
    const other = { fullName: 'Bob Ray' };
    expect(duplicateScore({ ...base, passportNumber: 'X1234567' }, { ...other, passportNumber: 'x 123-4567' })).toEqual({ score: 5 - 4, reasons: ['same passport (+5)', 'different names (-4)'] });
    expect(duplicateScore({ ...base, passportNumber: 'X1234567' }, { ...base, passportNumber: 'Y1234567' }).reasons).toEqual(['different passports (-2)', 'same name (+4)']);
    expect(duplicateScore({ ...base, email: 'a@x.org' }, { ...base, email: 'A@X.org ' }).score).toBe(2 + 4);
    expect(duplicateScore({ ...base, email: 'a@x.org' }, { ...base, email: 'b@x.org' }).score).toBe(-5 + 4);
    expect(duplicateScore({ ...base, dateOfBirth: '1985-04-23' }, { ...base, dateOfBirth: '23/04/1985' }).score).toBe(3 + 4);
    expect(duplicateScore({ ...base, dateOfBirth: '1985-04-23' }, { ...base, dateOfBirth: '1985-04' }).reasons).toEqual(['dates of birth agree as far as known (+1)', 'same name (+4)']);
    expect(duplicateScore({ ...base, dateOfBirth: '1985' }, { ...base, dateOfBirth: '1985' }).score).toBe(1 + 4);
    expect(duplicateScore({ ...base, dateOfBirth: '1985-04-23' }, { ...base, dateOfBirth: '1986' }).score).toBe(-2 + 4);
    expect(duplicateScore({ ...base, phone: '+44 20 7946 0000' }, { ...base, phone: '+442079460000' }).score).toBe(2 + 4);
    expect(duplicateScore({ ...base, phone: '+44 20 7946 0000' }, { ...base, phone: '+44 20 7946 0001' }).score).toBe(4);
    expect(duplicateScore({ ...base, recordId: 'pf.example.org/1' }, { ...other, recordId: 'pf.example.org/1' }).score).toBe(100 - 4);
  });

  test('names: the same words in any order +4; given and family ±2 each; near matches 0; alternates count', () => {
    expect(duplicateScore({ fullName: 'Smith John' }, { fullName: 'John SMITH' })).toEqual({ score: 4, reasons: ['same name (+4)'] });
    expect(duplicateScore({ fullName: 'John Smith', givenName: 'John', familyName: 'Smith' }, { fullName: 'Jane Smith', givenName: 'Jane', familyName: 'Smith' })).toEqual({
      score: 0,
      reasons: ['different given names (-2)', 'same family name (+2)'],
    });
    expect(duplicateScore({ fullName: 'Jonathan Smith', givenName: 'Jonathan', familyName: 'Smith' }, { fullName: 'Jonathon Smith', givenName: 'Jonathon', familyName: 'Smith' }).reasons).toEqual([
      'similar given names (0)',
      'same family name (+2)',
    ]);
    expect(duplicateScore({ fullName: 'John Smith' }, { fullName: 'Mary Jones' }).score).toBe(-4);
    expect(duplicateScore({ fullName: 'Maria Garcia' }, { fullName: 'Maria Garcia Lopez' })).toEqual({ score: 0, reasons: ['similar names (0)'] });
    expect(duplicateScore({ fullName: 'Abu Karim', alternateNames: ['Mohammed Hassan'] }, { fullName: 'Hassan Mohammed' }).reasons).toEqual(['same name (+4)']);
  });

  test('candidates: the threshold', () => {
    const a: DuplicateFields = { fullName: 'Ann Lee', dateOfBirth: '1985-04-23' };
    expect(isDuplicateCandidate(a, { fullName: 'Lee Ann' })).toBe(true);
    expect(isDuplicateCandidate(a, { fullName: 'Ann Lee', dateOfBirth: '1990-01-01' })).toBe(false);
    expect(isDuplicateCandidate(a, { fullName: 'Ann Leigh', dateOfBirth: '1985-04-23', passportNumber: 'X1' })).toBe(false);
    expect(isDuplicateCandidate({ ...a, passportNumber: 'P1234567' }, { fullName: 'A Lee', passportNumber: 'P1234567' })).toBe(true);
    expect(isDuplicateCandidate({ ...a, phone: '+33612345678' }, { fullName: 'Bob Ray', phone: '+33612345678' })).toBe(false);
  });

  const fieldsArb: fc.Arbitrary<DuplicateFields> = fc.record({
    fullName: fc.constantFrom('John Smith', 'Smith John', 'Jon Smith', 'Jane Smith', 'María García', 'Maria Garcia Lopez', 'Li Wei'),
    givenName: fc.option(fc.constantFrom('John', 'Jane', 'Maria', 'Jon')),
    familyName: fc.option(fc.constantFrom('Smith', 'Garcia', 'Smyth')),
    alternateNames: fc.array(fc.constantFrom('Johnny Smith', 'Li Wei', 'Mary G'), { maxLength: 2 }),
    dateOfBirth: fc.option(fc.constantFrom('1985', '1985-04', '1985-04-23', '1985-04-24', '1990-01-01', 'garbage')),
    passportNumber: fc.option(fc.constantFrom('X1234567', 'x 1234 567', 'Y7654321')),
    email: fc.option(fc.constantFrom('a@x.org', 'A@x.org', 'b@x.org')),
    phone: fc.option(fc.constantFrom('+441234567890', '+44 1234 567890', '+331234567')),
    recordId: fc.option(fc.constantFrom('a/1', 'a/2')),
  });

  test('property: symmetric, same reasons either way; a record is a candidate duplicate of itself', () => {
    fc.assert(
      fc.property(fieldsArb, fieldsArb, (a, b) => {
        const ab = duplicateScore(a, b);
        const ba = duplicateScore(b, a);
        expect(ab.score).toBe(ba.score);
        expect(ab.reasons).toEqual(ba.reasons);
        expect(isDuplicateCandidate(a, b)).toBe(isDuplicateCandidate(b, a));
        expect(isDuplicateCandidate(a, a)).toBe(true);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('person input', () => {
  test('minimal: only the name; everything else empty', () => {
    const p = personInputSchema.parse({ fullName: '  Ana   García ' });
    expect(p.fullName).toBe('Ana García');
    expect(p.alternateNames).toEqual([]);
    expect(p.needs).toEqual([]);
    const empties = Object.entries(p).filter(([k]) => !['fullName', 'alternateNames', 'needs'].includes(k));
    expect(empties.every(([, v]) => v === null)).toBe(true);
    expect(Object.keys(p).sort()).toEqual([...MERGE_FIELDS].sort());
  });

  test('a full record, normalised', () => {
    const p = personInputSchema.parse({
      fullName: 'Ana García',
      givenName: 'Ana',
      familyName: 'García',
      alternateNames: 'Ana G.\nANA GARCIA; García Ana',
      description: 'tall',
      sex: 'F',
      dateOfBirth: '23/04/1985',
      age: '40',
      nationality: 'British',
      passportNumber: 'ab 123-456',
      homeStreet: '1 High St',
      homeCity: 'London',
      homeCountry: 'United Kingdom',
      location: 'Hotel Miramar',
      coordinates: '36.72,-4.42',
      phone: '+44 (0)20 7946 0000'.replace('(0)', ''),
      email: ' Ana@Example.ORG ',
      nokName: 'Bo García',
      nokRelationship: 'brother',
      nokPhone: '+34 600 000 000',
      nokEmail: 'bo@example.org',
      household: 'García family',
      needs: 'shelter, medical',
      source: 'family',
      sourceDate: '2026-11-22T10:00:00Z',
    });
    expect(p).toMatchObject({
      alternateNames: ['Ana G.', 'ANA GARCIA'],
      sex: 'female',
      dateOfBirth: '1985-04-23',
      passportNumber: 'AB123456',
      homeCountry: 'GB',
      latitude: 36.72,
      longitude: -4.42,
      phone: '+442079460000',
      email: 'ana@example.org',
      nokPhone: '+34600000000',
      needs: ['medical', 'shelter'],
      source: 'relative',
      sourceDate: Date.UTC(2026, 10, 22, 10),
    });
  });

  test('limits', () => {
    expect(issues({ fullName: '' })).toEqual(['fullName: a full name is required']);
    expect(issues({ fullName: 'x'.repeat(201) })).toEqual(['fullName: a full name is at most 200 characters']);
    expect(personInputSchema.safeParse({ fullName: 'x'.repeat(200) }).success).toBe(true);
    expect(issues({ fullName: 'A', givenName: 'g'.repeat(101) })).toEqual(['givenName: the given name is 101 characters; keep it under 100']);
    expect(issues({ fullName: 'A', familyName: 'f'.repeat(101) })).toEqual(['familyName: the family name is 101 characters; keep it under 100']);
    expect(issues({ fullName: 'A', description: 'd'.repeat(2001) })).toEqual(['description: the description is 2,001 characters; keep it under 2,000']);
    expect(issues({ fullName: 'A', nationality: 'n'.repeat(101) })).toEqual(['nationality: the nationality is 101 characters; keep it under 100']);
    expect(issues({ fullName: 'A', homeCity: 'c'.repeat(201) })).toEqual(['homeCity: the city is 201 characters; keep it under 200']);
    expect(issues({ fullName: 'A', location: 'l'.repeat(201) })).toEqual(['location: the location is 201 characters; keep it under 200']);
    expect(issues({ fullName: 'A', household: 'h'.repeat(101) })).toEqual(['household: the household is 101 characters; keep it under 100']);
    expect(issues({ fullName: 'A', alternateNames: ['a'.repeat(201)] })).toEqual(['alternateNames: an alternate name is 201 characters; keep it under 200']);
    expect(issues({ fullName: 'A', alternateNames: Array.from({ length: 11 }, (_, i) => `Name ${'x'.repeat(i + 1)}`) })).toEqual(['alternateNames: 11 alternate names; keep it to 10']);
    expect(issues({ fullName: 'A', passportNumber: 'A12' })).toEqual(['passportNumber: a passport number is 5 to 20 letters and digits']);
    expect(issues({ fullName: 'A', passportNumber: 'A'.repeat(21) })).toEqual(['passportNumber: a passport number is 5 to 20 letters and digits']);
    expect(issues({ fullName: 'A', phone: '020 7946 0000' })).toEqual(['phone: a phone number in international form, e.g. +44 20 7946 0000']);
    expect(issues({ fullName: 'A', email: 'nope' })).toEqual(['email: not an email address']);
    expect(issues({ fullName: 'A', nokEmail: 'nope' })).toEqual(['nokEmail: not an email address']);
    expect(issues({ fullName: 'A', homeCountry: 'QQ' })[0]).toMatch(/^homeCountry: QQ is not an ISO 3166-1 country code/);
    expect(issues({ fullName: 'A', dateOfBirth: '1985-02-30' })).toEqual(['dateOfBirth: 1985-02-30 is not a real date']);
    expect(issues({ fullName: 'A', age: '200' })).toEqual(['age: an age of 200 is not plausible; ages are 0 to 130']);
    expect(issues({ fullName: 'A', sex: 'q' })[0]).toMatch(/^sex: "q" is not a sex/);
    expect(issues({ fullName: 'A', sourceDate: 'last week' })).toEqual(['sourceDate: "last week" is not a date and time; write e.g. 2026-11-22T14:00:00Z']);
  });

  test('every problem at once', () => {
    expect(issues({ fullName: '', email: 'nope', age: 'old' })).toHaveLength(3);
  });

  test('blank optional values are empty, not errors', () => {
    const p = personInputSchema.parse({ fullName: 'A', email: ' ', phone: '', passportNumber: '  ', sex: '', homeCountry: '', sourceDate: '' });
    expect([p.email, p.phone, p.passportNumber, p.sex, p.homeCountry, p.sourceDate]).toEqual([null, null, null, null, null, null]);
  });

  test('the position: text or both numbers, not both ways, in range', () => {
    expect(personInputSchema.parse({ fullName: 'A', latitude: '48.85', longitude: 2.35 })).toMatchObject({ latitude: 48.85, longitude: 2.35 });
    expect(issues({ fullName: 'A', latitude: 48.85 })).toEqual(['longitude: a position needs both a latitude and a longitude']);
    expect(issues({ fullName: 'A', coordinates: '1,2', latitude: 1 })).toEqual(['coordinates: give the position once: coordinates="lat,lon", or latitude and longitude']);
    expect(issues({ fullName: 'A', latitude: 95, longitude: 0 })).toEqual(['latitude: latitude 95 is outside -90 to 90; latitude comes first (0,95?)']);
    expect(issues({ fullName: 'A', latitude: 10, longitude: -181 })).toEqual(['longitude: longitude -181 is outside -180 to 180']);
    expect(issues({ fullName: 'A', latitude: 'north', longitude: 0 })).toEqual(['latitude: "north" is not a number of degrees, e.g. 48.8566']);
    expect(issues({ fullName: 'A', coordinates: 'here' })[0]).toMatch(/^coordinates: "here": write a position as latitude,longitude/);
  });

  test('alternate names: duplicates by name key once; lists or lines', () => {
    expect(alternateNamesSchema.parse(['Ana', 'ANA', ' ', 'Ána'])).toEqual(['Ana']);
    expect(alternateNamesSchema.parse('A B\nC D;E F')).toEqual(['A B', 'C D', 'E F']);
    expect(alternateNamesSchema.parse(undefined)).toEqual([]);
  });

  test('passports: letters and digits, upper case', () => {
    expect(normalisePassport(' ab-12.34 5 ')).toBe('AB12345');
  });
});

// ---------------------------------------------------------------------------------------------

describe('merging', () => {
  const older = person({
    fullName: 'Ana Garcia',
    givenName: 'Ana',
    familyName: 'Garcia',
    alternateNames: ['Anita'],
    phone: '+34600000001',
    email: 'ana@old.example',
    homeStreet: '1 Calle Mayor',
    homeCity: 'Madrid',
    homeCountry: 'ES',
    location: 'Hotel Sol',
    latitude: 40.4,
    longitude: -3.7,
    needs: ['shelter'],
    source: 'registration',
    sourceDate: Date.UTC(2026, 10, 20),
  });
  const newer = person({
    fullName: 'Ana García López',
    alternateNames: ['Anita', 'A. García'],
    dateOfBirth: '1985-04-23',
    email: 'ana@new.example',
    homeCity: 'Sevilla',
    needs: ['medical'],
    nokName: 'Bo García',
    nokPhone: '+34600000002',
    source: 'relative',
    sourceDate: Date.UTC(2026, 10, 22),
  });

  test('the newer source wins field by field; the older fills gaps; groups move whole; lists union', () => {
    const { merged, changes } = mergePeople({ ...older, id: 'p1' }, newer);
    expect(merged).toMatchObject({
      id: 'p1',
      fullName: 'Ana García López',
      // A different name: its parts are not borrowed from the older record.
      givenName: null,
      familyName: null,
      alternateNames: ['Anita', 'A. García', 'Ana Garcia'],
      dateOfBirth: '1985-04-23',
      phone: '+34600000001',
      email: 'ana@new.example',
      // The newer record has a home address (the city), so the whole address is its own.
      homeStreet: null,
      homeCity: 'Sevilla',
      homeCountry: null,
      location: 'Hotel Sol',
      latitude: 40.4,
      longitude: -3.7,
      nokName: 'Bo García',
      nokPhone: '+34600000002',
      needs: ['medical', 'shelter'],
      source: 'relative',
      sourceDate: Date.UTC(2026, 10, 22),
    });
    const fields = changes.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['fullName', 'givenName', 'alternateNames', 'dateOfBirth', 'email', 'homeCity', 'homeStreet', 'needs', 'source', 'sourceDate']));
    expect(fields).not.toContain('phone');
    expect(fields).not.toContain('location');
    expect(changes.find((c) => c.field === 'email')).toEqual({ field: 'email', from: 'ana@old.example', to: 'ana@new.example' });
  });

  test('the argument order does not decide: the source date does', () => {
    const stale = { ...newer, sourceDate: Date.UTC(2026, 10, 1) };
    const { merged } = mergePeople(older, stale);
    expect(merged.fullName).toBe('Ana Garcia');
    expect(merged.email).toBe('ana@old.example');
    expect(merged.dateOfBirth).toBe('1985-04-23');
    expect(merged.alternateNames).toEqual(['Anita', 'A. García', 'Ana García López']);
    expect(merged.sourceDate).toBe(older.sourceDate);
  });

  test('the same name spelt differently keeps the parts; a tie goes to the newer argument', () => {
    const a = person({ fullName: 'Garcia Ana', givenName: 'Ana', familyName: 'Garcia', sourceDate: 5 });
    const b = person({ fullName: 'Ana García', sourceDate: 5, email: 'b@x.org' });
    const { merged } = mergePeople(a, b);
    expect(merged).toMatchObject({ fullName: 'Ana García', givenName: 'Ana', familyName: 'Garcia', email: 'b@x.org', alternateNames: [] });
  });

  test('unmerge restores the survivor, keeping edits made since and reporting them', () => {
    const survivor = { ...older, id: 'p1', version: 3 };
    const { merged, changes } = mergePeople(survivor, newer);
    expect(unmerge(merged, changes)).toEqual({ person: survivor, conflicts: [] });
    const edited = { ...merged, email: 'ana@edited.example' };
    const undone = unmerge(edited, changes);
    expect(undone.conflicts).toEqual(['email']);
    expect(undone.person.email).toBe('ana@edited.example');
    expect(undone.person.fullName).toBe('Ana Garcia');
    expect(undone.person.needs).toEqual(['shelter']);
  });

  test('changes survive a JSON round trip (stored for undo)', () => {
    const { merged, changes } = mergePeople(older, newer);
    expect(unmerge(merged, JSON.parse(JSON.stringify(changes)) as typeof changes).person).toEqual(older);
  });

  const recordArb: fc.Arbitrary<PersonData> = fc
    .record({
      fullName: fc.constantFrom('Ana Garcia', 'Ana García López', 'Bo Lee', 'Lee Bo'),
      givenName: fc.option(fc.constantFrom('Ana', 'Bo')),
      alternateNames: fc.array(fc.constantFrom('Anita', 'A G', 'Bobby'), { maxLength: 3 }).map((a) => [...new Set(a)]),
      email: fc.option(fc.constantFrom('a@x.org', 'b@x.org')),
      phone: fc.option(fc.constantFrom('+34600000001', '+34600000002')),
      homeCity: fc.option(fc.constantFrom('Madrid', 'Sevilla')),
      homeStreet: fc.option(fc.constantFrom('1 Calle Mayor')),
      latitude: fc.option(fc.constantFrom(1, 2)),
      nokName: fc.option(fc.constantFrom('Bo', 'Cy')),
      needs: fc.subarray([...PERSON_NEEDS]),
      sourceDate: fc.option(fc.integer({ min: 0, max: 5 })),
    })
    .map((r) => person({ ...r, longitude: r.latitude === null ? null : 3 }));

  test('property: unmerge undoes any merge; lists are unions; the merged name is one of the two', () => {
    fc.assert(
      fc.property(recordArb, recordArb, (a, b) => {
        const { merged, changes } = mergePeople(a, b);
        expect(unmerge(merged, changes)).toEqual({ person: a, conflicts: [] });
        expect(merged.needs).toEqual(PERSON_NEEDS.filter((n) => a.needs.includes(n) || b.needs.includes(n)));
        expect([a.fullName, b.fullName]).toContain(merged.fullName);
        const keys = [merged.fullName, ...merged.alternateNames].map(nameKey);
        for (const n of [a.fullName, b.fullName, ...a.alternateNames, ...b.alternateNames]) expect(keys).toContain(nameKey(n));
        expect(new Set(keys).size).toBe(keys.length);
        for (const f of ['email', 'phone', 'nokName'] as const) {
          if (a[f] !== null || b[f] !== null) expect(merged[f]).not.toBeNull();
        }
        expect((merged.latitude === null) === (merged.longitude === null)).toBe(true);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('current status', () => {
  const note = (id: string, status: PersonStatus | null, sourceDate: number, entryDate = sourceDate): StatusNote => ({ id, status, sourceDate, entryDate });

  test('none, or none with a status → unaccounted', () => {
    expect(currentStatus([])).toBe('unaccounted');
    expect(currentStatus([note('a', null, 10)])).toBe('unaccounted');
  });

  test('the latest by source time; notes without a status are ignored', () => {
    expect(currentStatus([note('a', 'missing', 10), note('b', 'safe', 20), note('c', null, 30)])).toBe('safe');
  });

  test('a late-arriving older note never overrides a newer one', () => {
    const notes = [note('a', 'safe', 20 * HOUR, 20 * HOUR), note('b', 'missing', 10 * HOUR, 30 * HOUR)];
    expect(currentStatus(notes)).toBe('safe');
    expect(latestStatusNote(notes)?.id).toBe('a');
  });

  test('ties: the later entry, then the greater id', () => {
    expect(currentStatus([note('a', 'safe', 10, 5), note('b', 'injured', 10, 6)])).toBe('injured');
    expect(currentStatus([note('b', 'injured', 10, 5), note('a', 'safe', 10, 5)])).toBe('injured');
    expect(currentStatus([note('a', 'safe', 10, 5), note('b', 'injured', 10, 5)])).toBe('injured');
  });

  const notesArb = fc
    .uniqueArray(
      fc.record({
        id: fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 1, maxLength: 3 }),
        status: fc.option(fc.constantFrom(...PERSON_STATUSES), { freq: 4 }),
        sourceDate: fc.integer({ min: 0, max: 5 }),
        entryDate: fc.integer({ min: 0, max: 5 }),
      }),
      { selector: (n) => n.id, maxLength: 12 },
    )
    .chain((notes) => fc.tuple(fc.constant(notes), fc.shuffledSubarray(notes, { minLength: notes.length, maxLength: notes.length })));

  test('property: the status of the max note by (source, entry, id), for any order of the notes', () => {
    fc.assert(
      fc.property(notesArb, ([notes, shuffled]) => {
        const withStatus = notes.filter((n) => n.status !== null);
        const expected = withStatus.length
          ? [...withStatus].sort((x, y) => x.sourceDate - y.sourceDate || x.entryDate - y.entryDate || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))[withStatus.length - 1]?.status
          : 'unaccounted';
        expect(currentStatus(shuffled)).toBe(expected);
        expect(currentStatus(shuffled)).toBe(currentStatus(notes));
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('call list', () => {
  test('needsCall: unaccounted and not tried in the last N hours', () => {
    expect(needsCall({ status: 'unaccounted' }, null, NOW, 4)).toBe(true);
    expect(needsCall({ status: 'unaccounted' }, NOW - 3 * HOUR, NOW, 4)).toBe(false);
    expect(needsCall({ status: 'unaccounted' }, NOW - 4 * HOUR, NOW, 4)).toBe(true);
    expect(needsCall({ status: 'unaccounted' }, NOW - DAY, NOW, 4)).toBe(true);
    expect(needsCall({ status: 'unaccounted' }, NOW - 3 * HOUR, NOW)).toBe(false);
    for (const s of PERSON_STATUSES.filter((x) => x !== 'unaccounted')) expect(needsCall({ status: s }, null, NOW, 4)).toBe(false);
    expect(() => needsCall({ status: 'unaccounted' }, null, NOW, -1)).toThrow(RangeError);
    expect(() => needsCall({ status: 'unaccounted' }, null, NOW, Number.NaN)).toThrow(RangeError);
  });

  test('callListOrder: never tried first, then the oldest attempt; ties by record age, then id', () => {
    const people: CallListEntry[] = [
      { id: 'e', createdAt: 1, lastAttemptAt: 500 },
      { id: 'd', createdAt: 9, lastAttemptAt: 100 },
      { id: 'c', createdAt: 5, lastAttemptAt: null },
      { id: 'b', createdAt: 2, lastAttemptAt: null },
      { id: 'a', createdAt: 2, lastAttemptAt: null },
      { id: 'f', createdAt: 0, lastAttemptAt: 100 },
    ];
    expect(callListOrder(people).map((p) => p.id)).toEqual(['a', 'b', 'c', 'f', 'd', 'e']);
    expect(people[0]?.id).toBe('e');
  });

  test('property: a permutation, never-tried first, attempts ascending', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), createdAt: fc.integer({ min: 0, max: 9 }), lastAttemptAt: fc.option(fc.integer({ min: 0, max: 9 })) }), { selector: (p) => p.id, maxLength: 20 }),
        (people) => {
          const out = callListOrder(people);
          expect([...out].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([...people].sort((a, b) => (a.id < b.id ? -1 : 1)));
          for (let i = 1; i < out.length; i++) {
            const p = out[i - 1] as CallListEntry;
            const q = out[i] as CallListEntry;
            if (p.lastAttemptAt !== null) expect(q.lastAttemptAt).not.toBeNull();
            if (p.lastAttemptAt !== null && q.lastAttemptAt !== null) expect(p.lastAttemptAt).toBeLessThanOrEqual(q.lastAttemptAt);
            if (p.lastAttemptAt === q.lastAttemptAt) expect(p.createdAt).toBeLessThanOrEqual(q.createdAt);
          }
        },
      ),
    );
  });
});
