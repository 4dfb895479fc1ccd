// Importing and exporting people: CSV (encodings, header synonyms, row-level problems, never half a
// row, the same file twice creates nothing new, duplicates flagged) and PFIF 1.4 (a Person Finder
// file imports without loss and exports again), through the console, which imports in place.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Papa from 'papaparse';
import type { Core } from '../../src/core';
import { parsePfif } from '../../src/handlers/crisis/pfif';
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
