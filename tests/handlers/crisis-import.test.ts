// Importing and exporting people: CSV (encodings, header synonyms, row-level problems, never half a
// row, the same file twice creates nothing new, duplicates flagged) and PFIF 1.4 (a Person Finder
// file imports without loss and exports again), through the console, which imports in place.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Papa from 'papaparse';
import pino from 'pino';
import type { Core } from '../../src/core';
import { registerImportJobs, startImport, TAKEOVER_MS } from '../../src/handlers/crisis/import.service';
import { parsePfif } from '../../src/handlers/crisis/pfif';
import { systemMeta } from '../../src/store/store';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { freshSqlite, tempDir, type TestDb } from '../helpers/db';

describe('crisis import and export [sqlite, console]', () => {
  let db: TestDb;
  let core: Core;
  let dir: string;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const root = () => as(core, 'root');

  beforeAll(async () => {
    db = await freshSqlite();
    dir = tempDir();
    core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Istanbul' }, clock.now);
    expect(msg(await root().run('/crisis open name="Hatay earthquake" code=HTY region=Turkey')).ok).toBe(true);
    expect(msg(await root().run('/crisis open name="Copy" code=CPY region=Turkey')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, content: string | Buffer): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  test('CSV: valid rows in, invalid rows reported by row and column, nothing half written; again: nothing new', async () => {
    const csv = [
      'Nom;Prénom;DOB;Passport No;Mobile;City;Status;Needs;Group;Shoe size',
      'Öztürk;Ayşe;1980-02-30;TR1234567;+90 555 000 0001;Antakya;safe;medical;Öztürk family;38',
      'Öztürk;Ayşe;1980-03-01;TR1234567;+90 555 000 0001;Antakya;safe;medical;Öztürk family;38',
      'Demir;Ali;1975;TR7654321;+90 555 000 0002;Antakya;missing;;;41',
      'Kaya;;2099-01-01;;;;;;;',
      'Şahin;Elif;;;;;asleep;;;',
      ';;;;;;;;;',
    ].join('\r\n');
    const p = file('hatay-list.csv', csv);
    const r = msg(await root().run(`/crisis import HTY file=${p}`));
    const t = textOf(r);
    expect(t).toContain('2 new');
    expect(t).toMatch(/Row 2, date of birth: .*not a real date|Row 2, date of birth/);
    expect(t).toMatch(/Row 5, date of birth/);
    expect(t).toMatch(/Row 6, status/);
    const crisis = await core.store.crises.byCode('HTY');
    const people = await core.store.crises.people(crisis?.id as string);
    expect(people.map((x) => x.fullName).sort()).toEqual(['Ali Demir', 'Ayşe Öztürk']);
    const ayse = people.find((x) => x.fullName === 'Ayşe Öztürk');
    expect(ayse).toMatchObject({ passportNumber: 'TR1234567', status: 'safe', needs: ['medical'], household: 'Öztürk family', homeCity: 'Antakya' });
    // Row 2 was rejected whole: no record with its bad date, nothing else of it either.
    expect(people.some((x) => x.dateOfBirth === '1980-02-30')).toBe(false);
    const run = await core.store.db.importRun.findFirst({ where: { fileName: 'hatay-list.csv' } });
    expect(run?.status).toBe('done');
    expect(await core.store.db.importFile.count({ where: { runId: run?.id as string } })).toBe(0);
    // The same file again: nothing new, nothing duplicated.
    const again = textOf(await root().run(`/crisis import HTY file=${p}`));
    expect(again).toContain('0 new');
    expect((await core.store.crises.people(crisis?.id as string)).length).toBe(2);
  });

  test('CSV in Windows-1252 with accents, and a near-duplicate of someone already there', async () => {
    const content = Buffer.from('Full name,Date of birth,Passport\r\nAyse Ozturk,1980-03-01,TR1234567\r\nJosé Müller,1970-01-01,\r\n', 'latin1');
    const r = textOf(await root().run(`/crisis import HTY file=${file('win.csv', content)}`));
    expect(r).toContain('2 new');
    expect(r).toMatch(/[1-9]\d* possible duplicates/);
    const crisis = await core.store.crises.byCode('HTY');
    const names = (await core.store.crises.people(crisis?.id as string)).map((x) => x.fullName);
    expect(names).toContain('José Müller');
    expect(textOf(await root().run('/person find muller jose crisis=HTY'))).toContain('José Müller');
  });

  test('a file without a name column is refused as a whole', async () => {
    const t = textOf(await root().run(`/crisis import HTY file=${file('noname.csv', 'Phone,City\r\n+905550000009,Adana\r\n')}`));
    expect(t).toContain('failed');
    expect(t).toMatch(/no column for/);
  });

  test('PFIF from Person Finder imports without loss, with notes and statuses, and exports again', async () => {
    const fixture = path.join(__dirname, '..', 'fixtures', 'crisis', 'person-finder.pfif.xml');
    const before = parsePfif(fs.readFileSync(fixture));
    const r = textOf(await root().run(`/crisis import CPY file=${fixture}`));
    expect(r).toMatch(/new/);
    const crisis = await core.store.crises.byCode('CPY');
    // Every record, the expired placeholder included (it is kept, but never live).
    const people = await core.store.crises.people(crisis?.id as string, { includeMerged: true });
    expect(people.length).toBe(before.persons.length);
    expect((await core.store.crises.people(crisis?.id as string)).length).toBe(before.persons.filter((p) => p.fullName).length);
    const notes = await core.store.crises.notesOfCrisis(crisis?.id as string);
    expect(notes.length).toBe(before.persons.reduce((n, p) => n + (p.notes?.length ?? 0), 0));
    const e = msg(await root().run('/crisis export CPY pfif'));
    const xml = (e.attachments?.[0]?.content as Buffer).toString('utf8');
    const after = parsePfif(xml);
    expect(after.persons.map((p) => p.pfif?.personRecordId).sort()).toEqual(before.persons.map((p) => p.pfif?.personRecordId).sort());
    for (const p of before.persons) {
      const q = after.persons.find((x) => x.pfif?.personRecordId === p.pfif?.personRecordId);
      expect(q?.fullName).toBe(p.fullName);
      expect(q?.dateOfBirth ?? null).toBe(p.dateOfBirth ?? null);
      expect(q?.source ?? null).toBe(p.source ?? null);
      expect(q?.alternateNames ?? []).toEqual(p.alternateNames ?? []);
      expect(q?.pfif?.extra ?? {}).toEqual(p.pfif?.extra ?? {});
      expect((q?.notes ?? []).map((n) => [n.noteRecordId, n.status, n.linkedPersonRecordId, n.text]).sort()).toEqual((p.notes ?? []).map((n) => [n.noteRecordId, n.status, n.linkedPersonRecordId, n.text]).sort());
    }
    // Importing the same PFIF again creates nothing new.
    expect(textOf(await root().run(`/crisis import CPY file=${fixture}`))).toContain('0 new');
  });

  test('CSV export round-trips through import, and carries no formula', async () => {
    const e = msg(await root().run('/crisis export HTY csv'));
    const csv = e.attachments?.[0]?.content as Buffer;
    const rows = Papa.parse<string[]>(csv.toString('utf8').replace(/^\uFEFF/, '')).data.filter((x) => x.length > 1);
    expect(rows[0]).toContain('Full name');
    expect(JSON.stringify(rows)).toContain("'+90"); // phone numbers start with + : neutralised
    const p = file('hty-export.csv', csv);
    expect(msg(await root().run('/crisis open name="Copy two" code=CP2 region=Turkey')).ok).toBe(true);
    const t = textOf(await root().run(`/crisis import CP2 file=${p}`));
    const hty = await core.store.crises.byCode('HTY');
    const n = (await core.store.crises.people(hty?.id as string)).length;
    expect(t).toContain(`${n} new`);
    expect(t).toContain('0 rows with problems');
  });

  // ------------------------------------------------------------------------------------------
  // Re-imports, notes for people already in, future dates, malformed files

  const pfifDoc = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">\n${body}\n</pfif:pfif>\n`;
  const pfifNote = (id: string, person: string, at: string, status: string, text: string): string =>
    `<pfif:note><pfif:note_record_id>${id}</pfif:note_record_id><pfif:person_record_id>${person}</pfif:person_record_id><pfif:author_name>Finder</pfif:author_name><pfif:source_date>${at}</pfif:source_date><pfif:status>${status}</pfif:status><pfif:text>${text}</pfif:text></pfif:note>`;
  const pfifPerson = (id: string, name: string, at: string, notes = ''): string =>
    `<pfif:person><pfif:person_record_id>${id}</pfif:person_record_id><pfif:entry_date>${at}</pfif:entry_date><pfif:source_date>${at}</pfif:source_date><pfif:full_name>${name}</pfif:full_name>${notes}</pfif:person>`;
  const crisisOf = async (code: string) => (await core.store.crises.byCode(code))?.id as string;
  const bySourceId = async (code: string, sourceId: string) => (await core.store.crises.people(await crisisOf(code), { includeMerged: true })).find((p) => p.sourceId === sourceId);

  test('CSV again: an older file does not overwrite newer data; a newer one updates (audited); its status is appended and applied', async () => {
    expect(msg(await root().run('/crisis open name="Reimport" code=RIM region=Turkey')).ok).toBe(true);
    clock.set('2026-11-22T12:00:00Z');
    const head = 'ID,Full name,City,Status,Source date';
    const first = file('rim.csv', `${head}\r\nA1,Ada Reimport,Antakya,missing,2026-11-22T08:00:00Z\r\nA2,Bob Reimport,Adana,,2026-11-22T08:00:00Z\r\n`);
    expect(textOf(await root().run(`/crisis import RIM file=${first}`))).toContain('2 new');
    // Someone corrects Ada by hand after the file's date.
    const ada = (await bySourceId('RIM', 'A1'))!;
    await core.store.change({ actorId: null, actorName: 'test', platform: 'system', requestId: 't' }, (w) => core.store.crises.savePerson(w.tx, ada, { homeCity: 'Iskenderun', sourceDate: new Date('2026-11-22T10:00:00Z') }, clock.now()));
    // The same file name, older data for Ada, a status for Bob.
    const older = file('rim.csv', `${head}\r\nA1,Ada Reimport,Antakya,missing,2026-11-22T09:00:00Z\r\nA2,Bob Reimport,Adana,safe,2026-11-22T09:00:00Z\r\n`);
    const t = textOf(await root().run(`/crisis import RIM file=${older}`));
    expect(t).toContain('0 new');
    expect((await bySourceId('RIM', 'A1'))?.homeCity).toBe('Iskenderun');
    const bob = (await bySourceId('RIM', 'A2'))!;
    expect(bob.status).toBe('safe');
    expect((await core.store.crises.notes(bob.id)).filter((n) => n.status === 'safe')).toHaveLength(1);
    // Once more: the status note is not appended twice.
    await root().run(`/crisis import RIM file=${older}`);
    expect((await core.store.crises.notes(bob.id)).filter((n) => n.status === 'safe')).toHaveLength(1);
    // A newer file updates Ada, and says so in the audit log; its later status decides.
    const newer = file('rim.csv', `${head}\r\nA1,Ada Reimport,Hatay,safe,2026-11-22T11:00:00Z\r\n`);
    expect(textOf(await root().run(`/crisis import RIM file=${newer}`))).toContain('1 updated');
    const ada2 = (await bySourceId('RIM', 'A1'))!;
    expect(ada2).toMatchObject({ homeCity: 'Hatay', status: 'safe', version: ada.version + 2 });
    expect(await core.store.db.auditEntry.count({ where: { entity: 'person', entityId: ada.id, action: 'import-update' } })).toBe(1);
  });

  test('one record several times in a file, across batches of 5,000 and within one: its newest row wins, each update audited with its number', async () => {
    expect(msg(await root().run('/crisis open name="Twice" code=TWC region=Turkey')).ok).toBe(true);
    clock.set('2026-11-22T12:00:00Z');
    const letters = (i: number): string => Array.from(i.toString(26).padStart(4, '0'), (c) => String.fromCharCode(97 + parseInt(c, 26))).join('');
    const filler = (i: number): string => `F${i},Filler ${letters(i)},Adana,2026-11-22T08:00:00Z`;
    const x = (city: string, hour: string): string => `X1,Xavier Twice,${city},2026-11-22T${hour}:00:00Z`;
    // Row 1 new, row 2 an update of it in the same batch; row 10,000 ends the second batch; row
    // 10,001 (the third batch, read while the second is written) goes back to the first fields.
    const rows = [x('Antakya', '08'), x('Adana', '09')];
    for (let i = 3; i <= 9999; i++) rows.push(filler(i));
    rows.push(x('Hatay', '10'), x('Antakya', '11'));
    const t = textOf(await root().run(`/crisis import TWC file=${file('twice.csv', `ID,Full name,City,Source date\r\n${rows.join('\r\n')}\r\n`)}`));
    expect(t).toContain('9998 new');
    expect(t).toContain('3 updated');
    const xavier = (await bySourceId('TWC', 'X1'))!;
    expect(xavier).toMatchObject({ homeCity: 'Antakya', version: 4 });
    expect(xavier.sourceDate.toISOString()).toBe('2026-11-22T11:00:00.000Z');
    expect(xavier.number).toBeGreaterThan(0);
    const audits = await core.store.db.auditEntry.findMany({ where: { entity: 'person', entityId: xavier.id, action: 'import-update' } });
    expect(audits).toHaveLength(3);
    for (const a of audits) expect(a.after).toContain(`"number":${xavier.number}`);
    const run = await core.store.db.importRun.findFirst({ where: { fileName: 'twice.csv' }, orderBy: { startedAt: 'desc' } });
    expect(run).toMatchObject({ status: 'done', done: 10001, imported: 9998, updated: 3 });
  });

  test('CSV again: a merged-away record is not updated; its status goes to the survivor', async () => {
    const head = 'ID,Full name,Passport,Status,Source date';
    const f1 = file('rmg.csv', `${head}\r\nM1,Merle Merged,MM1234567,,2026-11-22T08:00:00Z\r\nM2,Merle Merged,MM1234567,,2026-11-22T08:00:00Z\r\n`);
    expect(textOf(await root().run(`/crisis import RIM file=${f1}`))).toContain('2 new');
    const [m1, m2] = [(await bySourceId('RIM', 'M1'))!, (await bySourceId('RIM', 'M2'))!];
    await core.store.change({ actorId: null, actorName: 'test', platform: 'system', requestId: 't' }, (w) => core.store.crises.savePerson(w.tx, m2, { mergedIntoId: m1.id }, clock.now()));
    const f2 = file('rmg.csv', `${head}\r\nM2,Merle Renamed,MM1234567,evacuated,2026-11-22T11:00:00Z\r\n`);
    await root().run(`/crisis import RIM file=${f2}`);
    expect((await bySourceId('RIM', 'M2'))?.fullName).toBe('Merle Merged');
    expect((await bySourceId('RIM', 'M1'))?.status).toBe('evacuated');
  });

  test('future source dates are refused: a CSV row, /person add, a PFIF note', async () => {
    clock.set('2026-11-22T12:00:00Z');
    const t = textOf(await root().run(`/crisis import RIM file=${file('future.csv', 'Full name,Status,Source date\r\nFuture Fay,safe,2026-11-23T12:00:00Z\r\nSoon Sam,safe,2026-11-22T12:04:00Z\r\n')}`));
    expect(t).toContain('1 new');
    expect(t).toMatch(/Row 2, source date: a source date cannot be in the future/);
    const add = msg(await root().run('/person add name="Future Add" source_date=2026-11-24T00:00:00Z crisis=RIM'));
    expect(add.error?.code).toBe('INVALID_INPUT');
    expect(add.error?.fields?.source_date).toContain('future');
    const xml = pfifDoc(pfifPerson('fut.org/p1', 'Futura Note', '2026-11-22T10:00:00Z', pfifNote('fut.org/n1', 'fut.org/p1', '2026-12-01T00:00:00Z', 'believed_dead', 'from the future') + pfifNote('fut.org/n2', 'fut.org/p1', '2026-11-22T10:00:00Z', 'believed_alive', 'fine')));
    const r = textOf(await root().run(`/crisis import RIM file=${file('future.xml', xml)}`));
    expect(r).toMatch(/note fut\.org\/n1, source_date: a source date cannot be in the future/);
    const p = (await bySourceId('RIM', 'fut.org/p1'))!;
    expect(p.status).not.toBe('deceased');
    expect((await core.store.crises.notes(p.id)).map((n) => n.text)).toEqual(['fine']);
  });

  test('PFIF notes for people already imported: new nested notes and matching top-level notes are added once; others are reported', async () => {
    clock.set('2026-11-22T12:00:00Z');
    const f1 = pfifDoc(pfifPerson('pn.org/p1', 'Nora Notes', '2026-11-22T08:00:00Z', pfifNote('pn.org/n1', 'pn.org/p1', '2026-11-22T08:00:00Z', 'believed_missing', 'not seen')));
    expect(textOf(await root().run(`/crisis import RIM file=${file('pn.xml', f1)}`))).toContain('1 new');
    const nora = (await bySourceId('RIM', 'pn.org/p1'))!;
    expect(nora.status).toBe('missing');
    // Again, with a new nested note.
    const f2 = pfifDoc(pfifPerson('pn.org/p1', 'Nora Notes', '2026-11-22T08:00:00Z', pfifNote('pn.org/n1', 'pn.org/p1', '2026-11-22T08:00:00Z', 'believed_missing', 'not seen') + pfifNote('pn.org/n2', 'pn.org/p1', '2026-11-22T09:00:00Z', 'believed_alive', 'called')));
    await root().run(`/crisis import RIM file=${file('pn.xml', f2)}`);
    expect((await bySourceId('RIM', 'pn.org/p1'))?.status).toBe('safe');
    expect((await core.store.crises.notes(nora.id)).map((n) => n.text)).toEqual(['not seen', 'called']);
    // Another file: top-level notes only, one about Nora, one about nobody known.
    const f3 = pfifDoc(pfifNote('pn.org/n3', 'pn.org/p1', '2026-11-22T10:00:00Z', 'believed_dead', 'sadly') + pfifNote('pn.org/n4', 'pn.org/nobody', '2026-11-22T10:00:00Z', 'believed_alive', '?'));
    const t = textOf(await root().run(`/crisis import RIM file=${file('notes-only.xml', f3)}`));
    expect(t).toMatch(/note pn\.org\/n4: about person pn\.org\/nobody, who is neither in the file nor in RIM: not imported/);
    expect((await bySourceId('RIM', 'pn.org/p1'))?.status).toBe('deceased');
    await root().run(`/crisis import RIM file=${file('notes-only.xml', f3)}`);
    expect((await core.store.crises.notes(nora.id)).map((n) => n.text)).toEqual(['not seen', 'called', 'sadly']);
  });

  test('PFIF: a record with an error is reported by its row and id, never "Row 0"', async () => {
    const xml = pfifDoc(pfifPerson('bad.org/ok', 'Fine Person', '2026-11-22T08:00:00Z') + pfifPerson('bad.org/p2', 'Bad Date', '2026-11-22 08:00'));
    const t = textOf(await root().run(`/crisis import RIM file=${file('bad-record.xml', xml)}`));
    expect(t).not.toContain('Row 0');
    expect(t).toMatch(/Row 2, person bad\.org\/p2, (entry|source)_date: /);
  });

  test('on the console the job stands by behind the import and is retired when it ends; it takes up an import whose console died', async () => {
    const p = file('standby.csv', 'ID,Full name\r\nS1,Standby One\r\nS2,Standby Two\r\n');
    expect(textOf(await root().run(`/crisis import HTY file=${p}`))).toContain('2 new');
    const run = await core.store.db.importRun.findFirst({ where: { fileName: 'standby.csv' } });
    expect(await core.store.db.job.findUnique({ where: { idempotencyKey: `import:${run?.id}` } })).toMatchObject({ status: 'cancelled' });

    // The console starts an import and dies before its first batch: the run is "running", its job waits.
    const crisis = await core.store.crises.byCode('HTY');
    if (!crisis) throw new Error('no crisis');
    const deps = { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), missionTimeZone: 'Europe/Istanbul' };
    const content = Buffer.from('ID,Full name\r\nD1,Died Once\r\nD2,Died Twice\r\n', 'utf8');
    const runId = await startImport(deps, systemMeta('t-died'), crisis, { name: 'died.csv', content, format: 'csv' }, null, { id: null }, clock.now(), { runHere: true });
    // A server shares the database: it runs the import job, but not while the console may still be at it.
    registerImportJobs(core.scheduler, deps);
    clock.advance(TAKEOVER_MS - 1_000);
    await core.scheduler.runDue();
    expect((await core.store.db.importRun.findUnique({ where: { id: runId } }))?.status).toBe('running');
    clock.advance(2_000);
    expect(await core.scheduler.runDue()).toBe(1);
    expect(await core.store.db.importRun.findUnique({ where: { id: runId } })).toMatchObject({ status: 'done', imported: 2 });
    expect(await core.store.db.person.count({ where: { crisisId: crisis.id, fullName: { startsWith: 'Died ' } } })).toBe(2);
    expect(await core.store.db.importFile.count({ where: { runId } })).toBe(0);
  });

  test('malformed PFIF fails the run with the reason; the console retires its standby job and never leaves a run running', async () => {
    const t = textOf(await root().run(`/crisis import RIM file=${file('broken.xml', '<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>')}`));
    expect(t).toContain('failed');
    expect(t).toContain('not valid PFIF');
    const run = await core.store.db.importRun.findFirst({ where: { fileName: 'broken.xml' } });
    expect(run?.status).toBe('failed');
    expect(await core.store.db.job.count({ where: { kind: 'crisis-import', idempotencyKey: `import:${run?.id}`, status: { not: 'cancelled' } } })).toBe(0);
    // An import that throws: marked failed, and the reason told.
    const people = core.store.crises.people.bind(core.store.crises);
    core.store.crises.people = () => Promise.reject(new Error('disk on fire'));
    try {
      const r = msg(await root().run(`/crisis import RIM file=${file('throws.csv', 'Full name\r\nThrow Person\r\n')}`));
      expect(r.ok).toBe(false);
      expect(textOf(r)).toContain('disk on fire');
    } finally {
      core.store.crises.people = people;
    }
    const thrown = await core.store.db.importRun.findFirst({ where: { fileName: 'throws.csv' } });
    expect(thrown?.status).toBe('failed');
    expect(thrown?.finishedAt).not.toBeNull();
    expect(await core.store.db.job.findUnique({ where: { idempotencyKey: `import:${thrown?.id}` } })).toMatchObject({ status: 'cancelled' });
  });

  test('a file sent with the command in chat starts an import job whose report comes by DM', async () => {
    expect(msg(await root().run('/duty member add handle=dana name="Dana Desk" slack=T1:U8 roles=crisis')).ok).toBe(true);
    const content = Buffer.from('Full name,Passport\r\nUpload Person,UP1234567\r\n', 'utf8');
    const r = await core.dispatcher.dispatch({ kind: 'command', text: '/crisis import HTY', files: [{ name: 'upload.csv', content }], caller: { platform: 'slack', externalId: 'T1:U8' }, origin: { workspaceId: 'T1' }, requestId: crypto.randomUUID() });
    expect(msg(r).title).toBe('Importing upload.csv into HTY');
    const run = await core.store.db.importRun.findFirst({ where: { fileName: 'upload.csv' } });
    expect(run?.status).toBe('running');
    expect(run?.reportTo).toMatch(/^member:/);
    expect(await core.store.db.job.count({ where: { kind: 'crisis-import', idempotencyKey: `import:${run?.id}` } })).toBe(1);
    // Without a file or data, the paste form.
    const form = await core.dispatcher.dispatch({ kind: 'command', text: '/crisis import HTY', caller: { platform: 'slack', externalId: 'T1:U8' }, origin: { workspaceId: 'T1' }, requestId: crypto.randomUUID() });
    expect(form.kind).toBe('form');
  });

  test('file= is for the console only', async () => {
    expect(msg(await root().run('/duty member add handle=cara name="Cara Cell" slack=T1:U9 roles=crisis')).ok).toBe(true);
    const r = msg(await as(core, 'T1:U9', 'slack').run('/crisis import HTY file=/etc/passwd'));
    expect(r.error?.code).toBe('FORBIDDEN');
  });
});
