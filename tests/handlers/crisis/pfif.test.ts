import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { PfifError, parsePfif, toPfifDate, writePfif, type PfifProblem } from '../../../src/handlers/crisis/pfif';
import { emptyPersonRecord, type PersonRecord } from '../../../src/handlers/crisis/person-record';

const FIXTURE = fs.readFileSync(path.join(__dirname, '../../fixtures/crisis/person-finder.pfif.xml'));
const NS = 'xmlns:pfif="http://zesty.ca/pfif/1.4"';

const doc = (body: string, ns = NS): string => `<?xml version="1.0" encoding="UTF-8"?>\n<pfif:pfif ${ns}>\n${body}\n</pfif:pfif>\n`;

describe('parsePfif: a Person Finder export', () => {
  const result = parsePfif(FIXTURE);

  test('persons: multi-line full_name, alternate names, profile URLs, PFIF extras', () => {
    expect(result.persons.map((p) => p.sourceId)).toEqual([
      'personfinder.example.org/person.4170001',
      'afad.example.gov.tr/kayit-55120',
      'personfinder.example.org/person.4170022',
    ]);
    const [mehmet] = result.persons;
    expect(mehmet).toMatchObject({
      fullName: 'Mehmet Yılmaz',
      givenName: 'Mehmet',
      familyName: 'Yılmaz',
      alternateNames: ['محمد يلماز', 'Memo Yılmaz', 'Mehmet Yilmaz'],
      description: 'Tall, grey hair, glasses. Last seen near the market & the old mosque <Ulu Camii>.\nWorks at the Café Park.',
      sex: 'male',
      dateOfBirth: '1961-03',
      age: '64-65',
      homeStreet: 'Atatürk Caddesi',
      homeNeighborhood: 'Cumhuriyet',
      homeCity: 'Antakya',
      homeState: 'Hatay',
      homePostalCode: '31000',
      homeCountry: 'TR',
      source: 'Person Finder',
      sourceDate: '2026-02-07T10:14:55Z',
      // PFIF keeps status on notes: the person's is the latest note's.
      status: 'believed_alive',
      phone: null,
      passportNumber: null,
    });
    expect(mehmet?.pfif).toEqual({
      personRecordId: 'personfinder.example.org/person.4170001',
      entryDate: '2026-02-07T10:15:02Z',
      expiryDate: '2027-02-07T10:15:02Z',
      authorName: 'Ayşe Yılmaz',
      authorEmail: 'ayse.yilmaz@example.com',
      authorPhone: '+90 555 010 0101',
      sourceUrl: 'https://personfinder.example.org/2026-quake/view?id=personfinder.example.org/person.4170001',
      photoUrl: 'https://personfinder.example.org/2026-quake/photo?id=88412',
      profileUrls: ['https://www.facebook.com/mehmet.yilmaz.example', 'https://twitter.com/mehmet_example'],
      fullNameLines: ['Mehmet Yılmaz', 'محمد يلماز'],
      extra: { '{http://example.org/shelter-registry/1}shelter_id': 'HT-SH-017' },
    });
  });

  test('notes: nested ones take their person id, top-level ones join their person, duplicates are linked', () => {
    const [mehmet, afad] = result.persons;
    expect(mehmet?.notes?.map((n) => n.noteRecordId)).toEqual([
      'personfinder.example.org/note.9001',
      'personfinder.example.org/note.9044',
      'personfinder.example.org/note.9102',
    ]);
    expect(mehmet?.notes?.[0]).toEqual({
      noteRecordId: 'personfinder.example.org/note.9001',
      personRecordId: 'personfinder.example.org/person.4170001',
      linkedPersonRecordId: null,
      entryDate: '2026-02-07T10:15:02Z',
      authorName: 'Ayşe Yılmaz',
      authorEmail: 'ayse.yilmaz@example.com',
      authorPhone: null,
      sourceDate: '2026-02-07T10:14:55Z',
      authorMadeContact: false,
      status: 'information_sought',
      emailOfFoundPerson: null,
      phoneOfFoundPerson: null,
      lastKnownLocation: null,
      text: 'I am looking for my father. He was at home when the earthquake struck.',
      photoUrl: null,
    });
    expect(mehmet?.notes?.[1]).toMatchObject({
      authorMadeContact: true,
      status: 'believed_alive',
      lastKnownLocation: 'Tent city, Hatay stadium, row C',
      text: 'Spoke with him at the stadium camp. Injured <left arm> but walking & talking.',
    });
    // Reciprocal duplicate links, never a merge.
    expect(mehmet?.notes?.[2]?.linkedPersonRecordId).toBe('afad.example.gov.tr/kayit-55120');
    expect(afad?.notes?.[0]).toMatchObject({ personRecordId: 'afad.example.gov.tr/kayit-55120', linkedPersonRecordId: 'personfinder.example.org/person.4170001' });
    // Flat list: each person's notes in person order, then notes about persons not in the file.
    expect(result.notes.map((n) => n.noteRecordId)).toEqual([
      'personfinder.example.org/note.9001',
      'personfinder.example.org/note.9044',
      'personfinder.example.org/note.9102',
      'afad.example.gov.tr/not-120',
      'personfinder.example.org/note.9230',
    ]);
    expect(result.notes[4]).toMatchObject({ personRecordId: 'personfinder.example.org/person.4160999', status: 'is_note_author', extra: { '{http://example.org/shelter-registry/1}checked_in_by': 'volunteer 12' } });
  });

  test('an expired record keeps only its id and dates', () => {
    const expired = result.persons[2] as PersonRecord;
    expect(expired).toEqual({
      ...emptyPersonRecord(''),
      sourceId: 'personfinder.example.org/person.4170022',
      sourceDate: '2026-02-06T21:12:00Z',
      pfif: { personRecordId: 'personfinder.example.org/person.4170022', entryDate: '2026-03-09T00:00:05Z', expiryDate: '2026-03-09T00:00:00Z' },
    });
  });

  test('unknown fields are warnings, nothing is an error', () => {
    expect(result.problems).toEqual([
      { record: 'person personfinder.example.org/person.4170001', field: '{http://example.org/shelter-registry/1}shelter_id', problem: 'unknown person field, kept as is', severity: 'warning' },
      { record: 'note personfinder.example.org/note.9230', field: '{http://example.org/shelter-registry/1}checked_in_by', problem: 'unknown note field, kept as is', severity: 'warning' },
    ]);
  });

  test('round trip: parse → write → parse gives the same records, and writing again the same XML', () => {
    const written = writePfif(result.persons, { domain: 'dutydesk.example.org', notes: result.notes });
    const again = parsePfif(written);
    expect(again).toEqual(result);
    expect(writePfif(again.persons, { domain: 'dutydesk.example.org', notes: again.notes })).toBe(written);
    // The expired record is written as a placeholder.
    expect(written).toContain(
      [
        '  <pfif:person>',
        '    <pfif:person_record_id>personfinder.example.org/person.4170022</pfif:person_record_id>',
        '    <pfif:entry_date>2026-03-09T00:00:05Z</pfif:entry_date>',
        '    <pfif:expiry_date>2026-03-09T00:00:00Z</pfif:expiry_date>',
        '    <pfif:source_date>2026-02-06T21:12:00Z</pfif:source_date>',
        '  </pfif:person>',
      ].join('\n'),
    );
    // A generic namespace-aware reader sees PFIF 1.4 elements where they belong.
    const tree = new XMLParser({ ignoreAttributes: false, removeNSPrefix: false, isArray: (name) => name === 'pfif:person' || name === 'pfif:note' }).parse(written) as {
      'pfif:pfif': { '@_xmlns:pfif': string; 'pfif:person': { 'pfif:full_name': string; 'pfif:note'?: unknown[] }[]; 'pfif:note': unknown[] };
    };
    expect(tree['pfif:pfif']['@_xmlns:pfif']).toBe('http://zesty.ca/pfif/1.4');
    expect(tree['pfif:pfif']['pfif:person'][0]?.['pfif:full_name']).toBe('Mehmet Yılmaz\nمحمد يلماز');
    expect(tree['pfif:pfif']['pfif:person'][0]?.['pfif:note']).toHaveLength(3);
    expect(tree['pfif:pfif']['pfif:note']).toHaveLength(1);
  });
});

describe('parsePfif: safety', () => {
  test('a billion-laughs document is refused at once', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      `<pfif:pfif ${NS}><pfif:person><pfif:person_record_id>x.org/1</pfif:person_record_id><pfif:full_name>&lol9;</pfif:full_name></pfif:person></pfif:pfif>`,
    ].join('\n');
    const started = performance.now();
    expect(() => parsePfif(lol)).toThrow(PfifError);
    expect(() => parsePfif(lol)).toThrow(/DOCTYPE or ENTITY declaration/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('external entities are refused too, however the declaration is written', () => {
    expect(() => parsePfif(`<?xml version="1.0"?><!doctype x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><pfif:pfif ${NS}/>`)).toThrow(PfifError);
    expect(() => parsePfif(`<pfif:pfif ${NS}><!ENTITY a "b"></pfif:pfif>`)).toThrow(PfifError);
  });

  test('an undeclared entity is not expanded; character references are decoded once', () => {
    const r = parsePfif(doc('<pfif:person><pfif:person_record_id>x.org/1</pfif:person_record_id><pfif:source_date>2026-01-01T00:00:00Z</pfif:source_date><pfif:full_name>A &amp;amp; B &#x263A; &#0; &lol;</pfif:full_name></pfif:person>'));
    expect(r.persons[0]?.fullName).toBe('A &amp; B ☺ \uFFFD &lol;');
  });

  test('documents that are not well-formed XML, or not PFIF, are refused with a clear error', () => {
    expect(() => parsePfif(`<pfif:pfif ${NS}><pfif:person></pfif:pfif>`)).toThrow(/not well-formed XML \(line 1, column \d+\)/);
    expect(() => parsePfif('<people><person><name>A</name></person></people>')).toThrow(/not a PFIF document/);
    expect(() => parsePfif('<x:a><x:b/></x:a>')).toThrow(PfifError);
    expect(() => parsePfif(Buffer.from([0x3c, 0x61, 0xff, 0x3e]))).toThrow(/not UTF-8/);
    expect(() => parsePfif(`<a ${NS}>${'<b>'.repeat(100)}${'</b>'.repeat(100)}</a>`)).toThrow(/nested more than/);
    expect(() => parsePfif(`<a ${NS}>${'<b>'.repeat(100_000)}${'</b>'.repeat(100_000)}</a>`)).toThrow(PfifError);
  });
});

describe('parsePfif: problems per record', () => {
  const person = (id: string, fields: string, notes = ''): string =>
    `<pfif:person><pfif:person_record_id>${id}</pfif:person_record_id>${fields}${notes}</pfif:person>`;
  const note = (id: string, fields: string): string =>
    `<pfif:note><pfif:note_record_id>${id}</pfif:note_record_id><pfif:author_name>A</pfif:author_name>${fields}</pfif:note>`;
  const ok = '<pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date><pfif:full_name>Fine Person</pfif:full_name>';

  test('a bad date rejects its record whole (a person with its notes); the others are read', () => {
    const r = parsePfif(
      doc(
        [
          person('x.org/1', ok),
          person('x.org/2', '<pfif:source_date>2026-02-07 10:00</pfif:source_date><pfif:full_name>Bad Date</pfif:full_name>', note('x.org/n1', '<pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date>')),
          person('x.org/3', '<pfif:entry_date>2026-02-30T10:00:00Z</pfif:entry_date><pfif:source_date>2026-02-07T10:00:00+01:00</pfif:source_date><pfif:full_name>Two Bad Dates</pfif:full_name>'),
          person('x.org/4', ok, note('x.org/n2', '<pfif:source_date>yesterday</pfif:source_date>') + note('x.org/n3', '<pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date>')),
          note('x.org/n4', '<pfif:person_record_id>x.org/2</pfif:person_record_id><pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date>'),
        ].join('\n'),
      ),
    );
    expect(r.persons.map((p) => p.sourceId)).toEqual(['x.org/1', 'x.org/4']);
    expect(r.notes.map((n) => n.noteRecordId)).toEqual(['x.org/n3']);
    const errors = r.problems.filter((p) => p.severity === 'error').map((p) => [p.record, p.field]);
    expect(errors).toEqual([
      ['person x.org/2', 'source_date'],
      ['note x.org/n1', ''],
      ['person x.org/3', 'entry_date'],
      ['person x.org/3', 'source_date'],
      ['note x.org/n2', 'source_date'],
      ['note x.org/n4', 'person_record_id'],
    ]);
    expect(r.problems.find((p) => p.record === 'person x.org/2')?.problem).toBe('"2026-02-07 10:00" is not a UTC date-time YYYY-MM-DDTHH:MM:SSZ; the record was not read');
  });

  test('missing ids, names and required note fields are errors; odd values are warnings and kept', () => {
    const r = parsePfif(
      doc(
        [
          '<pfif:person><pfif:full_name>No Id</pfif:full_name></pfif:person>',
          person('x.org/5', '<pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date>'),
          person('x.org/6', `${ok}<pfif:sex>F</pfif:sex><pfif:date_of_birth>12/03/1980</pfif:date_of_birth><pfif:age>about 40</pfif:age>`),
          person('x.org/6', ok),
          person('x.org/7', '<pfif:given_name>Solo</pfif:given_name>'),
          '<pfif:note><pfif:person_record_id>x.org/6</pfif:person_record_id><pfif:author_name>A</pfif:author_name><pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date></pfif:note>',
          note('x.org/n5', '<pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date>'),
          note('x.org/n6', '<pfif:person_record_id>x.org/6</pfif:person_record_id><pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date><pfif:author_made_contact>yes</pfif:author_made_contact>'),
          note('x.org/n7', '<pfif:person_record_id>x.org/6</pfif:person_record_id><pfif:status>found</pfif:status>'),
          note('x.org/n8', '<pfif:person_record_id>x.org/6</pfif:person_record_id><pfif:source_date>2026-02-07T10:00:00Z</pfif:source_date><pfif:status>believed_dead</pfif:status><pfif:status>believed_alive</pfif:status>'),
        ].join('\n'),
      ),
    );
    const brief = (ps: PfifProblem[]): string[] => ps.map((p) => `${p.severity} ${p.record} ${p.field}: ${p.problem}`);
    expect(brief(r.problems)).toEqual([
      'error person #1 person_record_id: missing; the person was not read',
      'error person x.org/5 full_name: missing, and no given_name or family_name; the person was not read',
      'warning person x.org/6 sex: "F" is not female, male or other; kept as is',
      'warning person x.org/6 date_of_birth: "12/03/1980" is not YYYY, YYYY-MM or YYYY-MM-DD; kept as is',
      'warning person x.org/6 age: "about 40" is not N or N-M; kept as is',
      'error person x.org/6 person_record_id: appears twice in the file; the second was not read',
      'warning person x.org/7 full_name: missing; made from given_name and family_name',
      'warning person x.org/7 source_date: missing',
      'error note #1 note_record_id: missing; the note was not read',
      'error note x.org/n5 person_record_id: missing: the note is about no person; it was not read',
      'error note x.org/n6 author_made_contact: "yes" is neither true nor false; the note was not read',
      'error note x.org/n7 source_date: missing; the note was not read',
      'warning note x.org/n8 status: appears more than once; the last one was kept',
    ]);
    expect(r.persons.map((p) => [p.sourceId, p.fullName, p.sex, p.status])).toEqual([
      ['x.org/6', 'Fine Person', 'F', 'believed_alive'],
      ['x.org/7', 'Solo', null, null],
    ]);
  });

  test('unknown fields are kept (PFIF-namespace ones by name, extension ones by namespace) and written back', () => {
    const r = parsePfif(
      doc(
        person(
          'x.org/8',
          `${ok}<pfif:other>description: from an old exporter</pfif:other><ext:tag>a &amp; b</ext:tag><ext:tag>second</ext:tag><geo:point xmlns:geo="urn:geo"><geo:lat>1.5</geo:lat><geo:lon>2.5</geo:lon></geo:point><plain>no namespace</plain>`,
        ),
        `${NS} xmlns:ext="http://example.org/ext"`,
      ),
    );
    const extra = r.persons[0]?.pfif?.extra;
    expect(extra).toEqual({
      other: 'description: from an old exporter',
      '{http://example.org/ext}tag': 'a & b\nsecond',
      '{urn:geo}point': '<n0:lat xmlns:n0="urn:geo">1.5</n0:lat><n0:lon xmlns:n0="urn:geo">2.5</n0:lon>',
      '{}plain': 'no namespace',
    });
    expect(r.problems.map((p) => [p.field, p.problem])).toEqual([
      ['other', 'unknown person field, kept as is'],
      ['{http://example.org/ext}tag', 'unknown person field, kept as is'],
      ['{http://example.org/ext}tag', 'unknown person field, kept as is'],
      ['{urn:geo}point', 'unknown person field, kept as XML text'],
      ['{}plain', 'unknown person field, kept as is'],
    ]);
    const again = parsePfif(writePfif(r.persons, { domain: 'd.org' }));
    expect(again.persons).toEqual(r.persons);
  });

  test('PFIF 1.2 and 1.3 documents are read with their old field names', () => {
    const r = parsePfif(
      doc(
        '<pfif:person><pfif:person_record_id>old.org/1</pfif:person_record_id><pfif:source_date>2010-01-14T00:00:00Z</pfif:source_date>' +
          '<pfif:first_name>JEAN</pfif:first_name><pfif:last_name>PIERRE</pfif:last_name><pfif:home_zip>HT6110</pfif:home_zip><pfif:other>Seen at the hospital</pfif:other>' +
          '<pfif:note><pfif:note_record_id>old.org/n1</pfif:note_record_id><pfif:author_name>X</pfif:author_name><pfif:source_date>2010-01-15T00:00:00Z</pfif:source_date><pfif:found>true</pfif:found><pfif:text>Found</pfif:text></pfif:note></pfif:person>',
        'xmlns:pfif="http://zesty.ca/pfif/1.2"',
      ),
    );
    expect(r.problems).toEqual([]);
    expect(r.persons[0]).toMatchObject({ fullName: 'JEAN PIERRE', givenName: 'JEAN', familyName: 'PIERRE', homePostalCode: 'HT6110', description: 'Seen at the hospital' });
    expect(r.notes[0]).toMatchObject({ authorMadeContact: true, text: 'Found' });
  });

  test('a default namespace and PFIF records inside an Atom feed', () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><person xmlns="http://zesty.ca/pfif/1.4"><person_record_id>x.org/9</person_record_id>${ok.replace(/pfif:/g, '')}</person></entry></feed>`;
    expect(parsePfif(atom).persons.map((p) => p.fullName)).toEqual(['Fine Person']);
  });
});

describe('writePfif from our own records', () => {
  const ana: PersonRecord = {
    ...emptyPersonRecord('Ana <Souza> & "Filhos"'),
    sourceId: 'P-17',
    givenName: 'Ana',
    familyName: 'Souza',
    alternateNames: ['Aninha'],
    sex: 'F',
    dateOfBirth: '02/04/1990',
    age: '35',
    homeCity: 'São Paulo',
    homeCountry: 'BR',
    passportNumber: 'FZ123456',
    phone: '+55 11 9999 0000',
    nokName: 'Rui Souza',
    household: 'H-1',
    description: 'Line one\r\nline two </pfif:description><script>',
    source: 'Hotel list',
    sourceDate: '2026-11-22T16:05:00.250+01:00',
    notes: [
      {
        noteRecordId: 'N-1',
        personRecordId: null,
        linkedPersonRecordId: 'P-18',
        entryDate: null,
        authorName: 'Duty officer',
        authorEmail: null,
        authorPhone: null,
        sourceDate: '2026-11-22T17:00:00Z',
        authorMadeContact: true,
        status: 'believed_alive',
        emailOfFoundPerson: null,
        phoneOfFoundPerson: null,
        lastKnownLocation: 'Hotel Sol, Denpasar',
        text: 'Called her: safe.',
        photoUrl: null,
      },
    ],
  };

  test('ids get our domain, dates become UTC whole seconds, values are escaped, personal data stays out', () => {
    const problems: PfifProblem[] = [];
    const xml = writePfif([ana, { ...emptyPersonRecord('No Id') }], { domain: 'dutydesk.example.org', onProblem: (p) => problems.push(p) });
    expect(xml).toContain('<pfif:person_record_id>dutydesk.example.org/P-17</pfif:person_record_id>');
    expect(xml).toContain('<pfif:source_date>2026-11-22T15:05:00Z</pfif:source_date>');
    expect(xml).toContain('<pfif:full_name>Ana &lt;Souza&gt; &amp; "Filhos"</pfif:full_name>');
    expect(xml).toContain('<pfif:description>Line one&#13;\nline two &lt;/pfif:description&gt;&lt;script&gt;</pfif:description>');
    expect(xml).toContain('<pfif:sex>female</pfif:sex>');
    expect(xml).toContain('<pfif:date_of_birth>1990-04-02</pfif:date_of_birth>');
    expect(xml).toContain('<pfif:note_record_id>dutydesk.example.org/N-1</pfif:note_record_id>');
    expect(xml).toContain('<pfif:linked_person_record_id>dutydesk.example.org/P-18</pfif:linked_person_record_id>');
    expect(xml).toContain('<pfif:author_made_contact>true</pfif:author_made_contact>');
    for (const secret of ['FZ123456', '9999', 'Rui Souza', 'H-1']) expect(xml).not.toContain(secret);
    expect(problems).toEqual([{ record: 'person #2 (No Id)', field: 'person_record_id', problem: 'the person has no id (sourceId or pfif.personRecordId); left out', severity: 'error' }]);

    const back = parsePfif(xml);
    expect(back.problems).toEqual([]);
    expect(back.persons).toHaveLength(1);
    expect(back.persons[0]).toMatchObject({
      sourceId: 'dutydesk.example.org/P-17',
      fullName: 'Ana <Souza> & "Filhos"',
      description: 'Line one\r\nline two </pfif:description><script>',
      sex: 'female',
      dateOfBirth: '1990-04-02',
      status: 'believed_alive',
      passportNumber: null,
    });
    expect(back.notes[0]).toMatchObject({ noteRecordId: 'dutydesk.example.org/N-1', personRecordId: 'dutydesk.example.org/P-17', lastKnownLocation: 'Hotel Sol, Denpasar' });
  });

  test('values PFIF does not take are reported', () => {
    const problems: PfifProblem[] = [];
    writePfif([{ ...ana, sourceDate: '22/11/2026', sex: 'unknown', homeCountry: 'Brazil', notes: [] }], { domain: 'd.org', onProblem: (p) => problems.push(p) });
    expect(problems.map((p) => `${p.severity} ${p.field}`)).toEqual(['warning sex', 'warning home_country', 'warning source_date', 'error source_date']);
    expect(() => writePfif([], { domain: 'a/b' })).toThrow(/not a domain/);
  });

  test('toPfifDate', () => {
    expect(toPfifDate('2026-11-22T15:05:00Z')).toBe('2026-11-22T15:05:00Z');
    expect(toPfifDate('2026-11-22T15:05:00.999Z')).toBe('2026-11-22T15:05:00Z');
    expect(toPfifDate('2026-11-22T01:05+0200')).toBe('2026-11-21T23:05:00Z');
    expect(toPfifDate('2026-11-22')).toBe('2026-11-22T00:00:00Z');
    expect(toPfifDate('2026-02-30')).toBeNull();
    expect(toPfifDate('22/11/2026')).toBeNull();
    expect(toPfifDate(null)).toBeNull();
  });
});
