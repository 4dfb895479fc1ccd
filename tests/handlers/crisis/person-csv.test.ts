import {
  CSV_COLUMNS,
  decodeCsvBytes,
  headerKey,
  mapHeaders,
  parsePeopleCsv,
  readPeopleCsv,
  writePeopleCsv,
  type PeopleCsvRow,
} from '../../../src/handlers/crisis/person-csv';
import { emptyPersonRecord, type PersonRecord } from '../../../src/handlers/crisis/person-record';

async function collect(rows: AsyncIterable<PeopleCsvRow>): Promise<PeopleCsvRow[]> {
  const out: PeopleCsvRow[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function readAll(buf: Buffer): Promise<{ rows: PeopleCsvRow[]; csv: Awaited<ReturnType<typeof readPeopleCsv>> }> {
  const csv = await readPeopleCsv(buf);
  return { csv, rows: await collect(csv.rows) };
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('decodeCsvBytes', () => {
  test('UTF-8 without and with a BOM', () => {
    expect(decodeCsvBytes(utf8('Name\nZoë Łukasiewicz\n'))).toEqual({ text: 'Name\nZoë Łukasiewicz\n', encoding: 'utf-8' });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('Name\nКиїв\n')]);
    expect(decodeCsvBytes(bom)).toEqual({ text: 'Name\nКиїв\n', encoding: 'utf-8-bom' });
  });

  test('bytes that are not UTF-8 are Windows-1252 (Excel "CSV" on Western European Windows)', () => {
    // "Müller;Café;O’Brien paid 20 €" in Windows-1252: ü = FC, é = E9, and two bytes ISO-8859-1
    // does not have: ’ = 92, € = 80 (Node 20's own decoder gets those wrong; see decodeWindows1252).
    const bytes = Buffer.from([
      ...Buffer.from('Name;City;Note\r\n', 'latin1'),
      0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x3b, 0x43, 0x61, 0x66, 0xe9, 0x3b,
      0x4f, 0x92, 0x42, 0x72, 0x69, 0x65, 0x6e, 0x20, 0x70, 0x61, 0x69, 0x64, 0x20, 0x32, 0x30, 0x20, 0x80, 0x0d, 0x0a,
    ]);
    expect(decodeCsvBytes(bytes)).toEqual({ text: 'Name;City;Note\r\nMüller;Café;O’Brien paid 20 €\r\n', encoding: 'windows-1252' });
    const all = decodeCsvBytes(Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i))).text;
    expect(all).toBe('€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ');
  });

  test('UTF-16 with a BOM (Excel "Unicode text")', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Name\tCity\nMüller\tCafé\n', 'utf16le')]);
    expect(decodeCsvBytes(le)).toEqual({ text: 'Name\tCity\nMüller\tCafé\n', encoding: 'utf-16le' });
  });

  test('a Windows-1252 file reads end to end', async () => {
    const bytes = Buffer.from('Surname,First name,City\r\nMüller,Jürgen,Café du Lac\r\n', 'latin1');
    const { csv, rows } = await readAll(bytes);
    expect(csv.encoding).toBe('windows-1252');
    expect(rows[0]?.record).toMatchObject({ fullName: 'Jürgen Müller', givenName: 'Jürgen', familyName: 'Müller', homeCity: 'Café du Lac' });
  });
});

describe('mapHeaders', () => {
  test('synonyms, whatever the case, accents, spaces, underscores, hyphens and punctuation', () => {
    const { mapping, unmapped, duplicates, missingRequired } = mapHeaders([
      ' Record ID ', 'NAME', 'Forename', 'SURNAME', 'D.O.B.', 'Passport No.', 'passport_number', 'Mobile', 'E-mail',
      'Home City', 'COUNTRY', 'lat', 'Lng', 'Emergency contact', 'Status', 'Needs', 'Family group', 'Source', 'source-date',
      'Nationalité', 'Date de naissance', 'Shoe size', '',
    ]);
    expect(mapping).toEqual([
      'sourceId', 'fullName', 'givenName', 'familyName', 'dateOfBirth', 'passportNumber', null, 'phone', 'email',
      'homeCity', 'homeCountry', 'latitude', 'longitude', 'nokName', 'status', 'needs', 'household', 'source', 'sourceDate',
      'nationality', null, null, null,
    ]);
    expect(unmapped).toEqual(['Shoe size', '(column 23)']);
    expect(duplicates).toEqual(['passport_number', 'Date de naissance']);
    expect(missingRequired).toEqual([]);
  });

  test('more synonyms', () => {
    const cases: [string, string][] = [
      ['full name', 'fullName'], ['nom', 'fullName'], ['first name', 'givenName'], ['given name', 'givenName'], ['last name', 'familyName'],
      ['family name', 'familyName'], ['dob', 'dateOfBirth'], ['birth date', 'dateOfBirth'], ['date of birth', 'dateOfBirth'],
      ['passport', 'passportNumber'], ['document number', 'passportNumber'], ['phone number', 'phone'], ['tel', 'phone'],
      ['telephone', 'phone'], ['email address', 'email'], ['city', 'homeCity'], ['home country', 'homeCountry'], ['latitude', 'latitude'],
      ['lon', 'longitude'], ['longitude', 'longitude'], ['next of kin', 'nokName'], ['group', 'household'], ['household', 'household'],
      ['id', 'sourceId'], ['person id', 'sourceId'], ['reference', 'sourceId'], ['source date', 'sourceDate'], ['Prénom', 'givenName'],
      ['Gender', 'sex'], ['Alias', 'alternateNames'], ['Hotel', 'location'], ['Post code', 'homePostalCode'],
    ];
    for (const [header, field] of cases) expect([header, mapHeaders([header]).mapping[0]]).toEqual([header, field]);
  });

  test('a name is required: a full name, or a given and a family name', () => {
    expect(mapHeaders(['Passport', 'Phone']).missingRequired).toEqual(['full name (or given name and family name)']);
    expect(mapHeaders(['First name', 'Phone']).missingRequired).toHaveLength(1);
    expect(mapHeaders(['First name', 'Last name']).missingRequired).toEqual([]);
    expect(mapHeaders(['Full name']).missingRequired).toEqual([]);
    expect(mapHeaders([]).missingRequired).toHaveLength(1);
  });

  test('"Nom, Prénom" and "Name, Vorname": nom/name is the family name next to a first-name column', () => {
    expect(mapHeaders(['Nom', 'Prénom']).mapping).toEqual(['familyName', 'givenName']);
    expect(mapHeaders(['Name', 'Vorname', 'Geburtsdatum']).mapping).toEqual(['familyName', 'givenName', 'dateOfBirth']);
    expect(mapHeaders(['Name', 'First name', 'Last name']).mapping).toEqual(['fullName', 'givenName', 'familyName']);
  });

  test('our export headers map back to their own fields', () => {
    const { mapping, unmapped } = mapHeaders(CSV_COLUMNS.map((c) => c.header));
    expect(mapping).toEqual(CSV_COLUMNS.map((c) => c.field));
    expect(unmapped).toEqual([]);
    expect(headerKey('  Passport_No.-# ')).toBe('passportno');
  });
});

describe('readPeopleCsv', () => {
  test('cells are trimmed, empty cells are null, unmapped columns come back as extra, the id is kept', async () => {
    const { csv, rows } = await readAll(
      utf8('ID,Name,DOB,Passport,Mobile,Shoe size,Household\n P-001 , Ana Souza ,1990-04-02, ,+55 11 9999 0000,42,H7\nP-002,"Souza, João",,,,,H7\n'),
    );
    expect(csv.headers.unmapped).toEqual(['Shoe size']);
    expect(csv.headers.names).toEqual(['ID', 'Name', 'DOB', 'Passport', 'Mobile', 'Shoe size', 'Household']);
    expect(rows).toEqual([
      {
        row: 2,
        record: { ...emptyPersonRecord('Ana Souza'), sourceId: 'P-001', dateOfBirth: '1990-04-02', phone: '+55 11 9999 0000', household: 'H7' },
        extra: { 'Shoe size': '42' },
        problems: [],
      },
      { row: 3, record: { ...emptyPersonRecord('Souza, João'), sourceId: 'P-002', household: 'H7' }, problems: [] },
    ]);
  });

  test('given and family names make the full name; alternate names split on line breaks and semicolons', async () => {
    const { rows } = await readAll(utf8('First name,Last name,Aliases\nJean,Dupont,"JD; Johnny\nJean-Baptiste"\n,Martin,\n'));
    expect(rows[0]?.record).toMatchObject({ fullName: 'Jean Dupont', givenName: 'Jean', familyName: 'Dupont', alternateNames: ['JD', 'Johnny', 'Jean-Baptiste'] });
    expect(rows[1]?.record).toMatchObject({ fullName: 'Martin', givenName: null, familyName: 'Martin' });
  });

  test('a row without a name is reported as "no name" with its spreadsheet row; empty rows are skipped', async () => {
    const { rows } = await readAll(utf8('Name,Phone\nAna,1\n   ,2\n\n,,\nBen,4\n'));
    expect(rows).toEqual([
      { row: 2, record: expect.objectContaining({ fullName: 'Ana' }), problems: [] },
      { row: 3, problems: [{ row: 3, column: 'Name', problem: 'no name' }] },
      { row: 6, record: expect.objectContaining({ fullName: 'Ben' }), problems: [] },
    ]);
  });

  test('broken quoting is reported on its row, and reading goes on at the next row; rows count records, not lines', async () => {
    const text = ['Name,Notes', 'Ana,"two', 'lines"', 'Ben "the Hammer" Costa,x', 'Carla,ok', 'Dan,"quoted"tail', 'Eve,last'].join('\n');
    const { rows } = await readAll(utf8(text));
    expect(rows.map((r) => [r.row, r.record?.fullName ?? r.problems[0]?.problem])).toEqual([
      [2, 'Ana'],
      [3, expect.stringMatching(/^broken quoting: a quote inside a cell .*\(line 4 of the file\)/)],
      [4, 'Carla'],
      [5, expect.stringMatching(/^broken quoting: a closing quote is followed by other characters \(line 6 of the file\)/)],
      // After a bad closing quote csv-parse cannot find the row ends again: the rest is reported, not guessed.
      [6, expect.stringMatching(/^a quoted cell is never closed .*the rest of the file could not be read/)],
    ]);
    expect(rows[0]?.record?.description).toBe('two\nlines');
    for (const r of rows.slice(1)) if (!r.record) expect(r.problems[0]).toMatchObject({ row: r.row, column: '' });
  });

  test('an unclosed quote is reported on the row where reading stopped', async () => {
    const { rows } = await readAll(utf8('Name,Notes\nAna,ok\nBen,"never closed\nCarla,ok\n'));
    expect(rows).toEqual([
      { row: 2, record: expect.objectContaining({ fullName: 'Ana' }), problems: [] },
      { row: 3, problems: [{ row: 3, column: '', problem: expect.stringContaining('a quoted cell is never closed') }] },
    ]);
  });

  test('a row with more or fewer cells than the header is reported, never half read', async () => {
    const { rows } = await readAll(utf8('Name,Phone,City\nAna,1,Lyon\nBen,2\nCarla,3,Nice,extra\nDan,4,Metz,,\n'));
    expect(rows.map((r) => [r.row, r.record?.fullName ?? r.problems[0]?.problem])).toEqual([
      [2, 'Ana'],
      [3, expect.stringContaining('the row has 2 cells but the header has 3 columns')],
      [4, expect.stringContaining('the row has 4 cells but the header has 3 columns')],
      [5, 'Dan'], // trailing empty cells are harmless
    ]);
  });

  test('semicolon and tab separated files', async () => {
    const semi = await readAll(utf8('Nom;Prénom;Ville\nDupont;Jean;Lyon, 3e\n'));
    expect(semi.csv.delimiter).toBe(';');
    expect(semi.rows[0]?.record).toMatchObject({ fullName: 'Jean Dupont', familyName: 'Dupont', givenName: 'Jean', homeCity: 'Lyon, 3e' });
    const tab = await readAll(utf8('Name\tCity\nAna\tPorto\n'));
    expect(tab.csv.delimiter).toBe('\t');
    expect(tab.rows[0]?.record).toMatchObject({ fullName: 'Ana', homeCity: 'Porto' });
  });

  test('no name column: the header says so and no row comes out; parsePeopleCsv reports it on row 1', async () => {
    const buf = utf8('Passport,Phone\nX1,1\n');
    const { csv, rows } = await readAll(buf);
    expect(csv.headers.missingRequired).toEqual(['full name (or given name and family name)']);
    expect(rows).toEqual([]);
    expect(await collect(parsePeopleCsv(buf))).toEqual([
      { row: 1, problems: [{ row: 1, column: '', problem: 'the header has no column for full name (or given name and family name)' }] },
    ]);
    expect(await collect(parsePeopleCsv(Buffer.alloc(0)))).toHaveLength(1);
  });

  test('100,000 rows stream through with progress reports', async () => {
    const lines = ['ID,Full name,Date of birth,Passport number,Phone,Email,Home city,Home country,Status,Household'];
    for (let i = 0; i < 100_000; i += 1) {
      lines.push(`P${i},Person ${i} Müller,1980-01-${String((i % 28) + 1).padStart(2, '0')},X${i},+33 6 ${i},p${i}@example.org,Lyon,FR,${i % 7 === 0 ? 'missing' : 'safe'},H${Math.floor(i / 4)}`);
    }
    const buf = Buffer.from(lines.join('\r\n'), 'utf8');
    const progress: number[] = [];
    const started = performance.now();
    let records = 0;
    let lastRow = 0;
    for await (const r of parsePeopleCsv(buf, { onProgress: (n) => void progress.push(n), progressEvery: 10_000 })) {
      if (r.record) records += 1;
      lastRow = r.row;
    }
    const ms = performance.now() - started;
    console.log(`100,000-row people CSV (${(buf.length / 1e6).toFixed(1)} MB) read in ${Math.round(ms)} ms`);
    expect(records).toBe(100_000);
    expect(lastRow).toBe(100_001);
    expect(progress).toEqual([10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000]);
  });

  test('onProgress is awaited and reports the end', async () => {
    const seen: number[] = [];
    const rows = await collect(
      parsePeopleCsv(utf8('Name\nA\nB\nC\n'), {
        progressEvery: 2,
        onProgress: async (n) => {
          await new Promise((r) => setTimeout(r, 5));
          seen.push(n);
        },
      }),
    );
    expect(rows).toHaveLength(3);
    expect(seen).toEqual([2, 3]);
  });
});

describe('writePeopleCsv', () => {
  const people: PersonRecord[] = [
    {
      ...emptyPersonRecord('Zoë Łukasiewicz'),
      sourceId: 'P-1',
      givenName: 'Zoë',
      familyName: 'Łukasiewicz',
      alternateNames: ['Zoe Lukasiewicz', 'Зоя'],
      sex: 'female',
      dateOfBirth: '22/11/1990',
      age: '35',
      nationality: 'PL',
      passportNumber: 'EA1234567',
      homeStreet: 'ul. Długa 5',
      homeCity: 'Gdańsk',
      homePostalCode: '80-827',
      homeCountry: 'PL',
      location: 'Hotel "Sol", room 12',
      latitude: '-8.6500',
      longitude: '115.2167',
      phone: '+48 600 000 000',
      email: 'zoe@example.pl',
      nokName: 'Jan Łukasiewicz',
      nokRelationship: 'father',
      nokPhone: '+48 601 000 000',
      nokEmail: 'jan@example.pl',
      description: 'Line one\nline two, with a comma',
      needs: '=insulin daily',
      household: 'H-12',
      status: 'safe',
      source: 'Hotel list',
      sourceDate: '2026-11-22T15:05:00Z',
    },
    { ...emptyPersonRecord('Ben'), sourceId: 'P-2' },
  ];

  test('export then import gives the same records (canonical headers, formula neutralisation undone)', async () => {
    const buf = writePeopleCsv(people);
    expect(buf.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = buf.toString('utf8');
    expect(text.split('\r\n')[0]).toBe(`\uFEFF${CSV_COLUMNS.map((c) => c.header).join(',')}`);
    // Spreadsheets see text, not formulas:
    expect(text).toContain(",'-8.6500,");
    expect(text).toContain(",'+48 600 000 000,");
    expect(text).toContain(",'=insulin daily,");
    const { csv, rows } = await readAll(buf);
    expect(csv.encoding).toBe('utf-8-bom');
    expect(csv.headers.unmapped).toEqual([]);
    expect(rows.map((r) => r.record)).toEqual(people);
    expect(rows.every((r) => r.problems.length === 0 && r.extra === undefined)).toBe(true);
  });

  test('extra columns', async () => {
    const buf = writePeopleCsv(people.slice(1), [{ header: 'Case', value: (r) => `case of ${r.fullName}` }, { header: 'Count', value: () => 3 }]);
    const { csv, rows } = await readAll(buf);
    expect(csv.headers.unmapped).toEqual(['Case', 'Count']);
    expect(rows[0]?.extra).toEqual({ Case: 'case of Ben', Count: '3' });
  });
});
