// Encryption at rest: after commands write people, cases and notes, no table holds a passport,
// phone, email, date of birth, summary or note in clear (read with plain SQL); everything reads
// them back in clear; exact search and duplicate detection still match through the blind indexes;
// a value altered or moved to another row fails loudly; rows from before a key still read.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fc from 'fast-check';
import path from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import type { Core } from '../../src/core';
import { personInputSchema } from '../../src/domain/person';
import { personOf } from '../../src/handlers/crisis/crisis.service';
import { runImport, startImport } from '../../src/handlers/crisis/import.service';
import { registerPagingJobs } from '../../src/handlers/page/page.jobs';
import { SmsNotifier } from '../../src/notify/sms';
import { cipherFromSettings, FieldCipher, FieldDecryptError, parseDataKey, SEALED_PREFIX, type DataKey } from '../../src/store/field-crypto';
import { Store, systemMeta } from '../../src/store/store';
import { as, coreOn, manualClock, msg, TEST_DATA_KEY, textOf } from '../helpers/core';
import { describeEachDb, tempDir, type TestDb } from '../helpers/db';
import { startSmsFake, type SmsFake } from '../helpers/sms-fake';

const key = (id: string): DataKey => ({ id, key: crypto.randomBytes(32) });
const at = { table: 'Person', column: 'phone', id: 'p1' };

describe('field cipher', () => {
  const k1 = key('k1');
  const k2 = key('k2');
  const c1 = new FieldCipher(k1);

  test('AES-256-GCM with a fresh IV per value: the same value seals differently each time and opens again', () => {
    const a = c1.seal('+48601555019', at);
    const b = c1.seal('+48601555019', at);
    expect(a.startsWith(`${SEALED_PREFIX}k1:`)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain('601555019');
    expect(c1.open(a, at)).toBe('+48601555019');
    expect(c1.open('', at)).toBe('');
    expect(c1.open(c1.seal('', at), at)).toBe('');
    expect(c1.open(c1.seal('Zoë ✈ 日本', at), at)).toBe('Zoë ✈ 日本');
    // Any text, of any length (the ciphertext's base64 is made in pieces): as it went in.
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (v) => expect(c1.open(c1.seal(v, at), at)).toBe(v)), { numRuns: 500 });
  });

  test('bound to its table, column and row: moved elsewhere, or altered, it does not decrypt', () => {
    const sealed = c1.seal('+48601555019', at);
    expect(() => c1.open(sealed, { ...at, id: 'p2' })).toThrow(/Person\.phone of p2 does not decrypt under key k1: the stored value was altered or belongs to another row or column/);
    expect(() => c1.open(sealed, { ...at, column: 'nokPhone' })).toThrow(FieldDecryptError);
    expect(() => c1.open(sealed, { ...at, table: 'Case' })).toThrow(FieldDecryptError);
    const parts = sealed.split(':');
    const body = Buffer.from(parts[5] as string, 'base64');
    body[0] = (body[0] as number) ^ 1;
    expect(() => c1.open([...parts.slice(0, 5), body.toString('base64')].join(':'), at)).toThrow(FieldDecryptError);
    expect(() => c1.open(`${SEALED_PREFIX}k1:broken`, at)).toThrow(/not a well-formed encrypted value/);
  });

  test('keys: old keys stay readable; a key not configured is named; no key means plaintext in and out', () => {
    const c2 = new FieldCipher(k2, [k1]);
    const old = c1.seal('old value', at);
    expect(c2.open(old, at)).toBe('old value');
    expect(c2.isCurrent(old)).toBe(false);
    expect(c2.isCurrent(c2.seal('x', at))).toBe(true);
    expect(c2.keyIds).toEqual(['k2', 'k1']);
    expect(() => new FieldCipher(k2).open(old, at)).toThrow(/under key k1, which is neither DATA_ENCRYPTION_KEY nor in DATA_ENCRYPTION_OLD_KEYS/);
    expect(() => FieldCipher.plaintext().open(old, at)).toThrow(/encrypted \(key k1\) but DATA_ENCRYPTION_KEY is not set/);
    // Values from before a key was configured have no prefix: read as they are.
    expect(c1.open('+48601555019', at)).toBe('+48601555019');
    expect(FieldCipher.plaintext().seal('+48601555019', at)).toBe('+48601555019');
  });

  test('bytes (an uploaded file) seal and open the same way', () => {
    const file = Buffer.from('Full name,Passport\r\nZofia,ZW4481937\r\n');
    const sealed = c1.sealBytes(file, { table: 'ImportFile', column: 'content', id: 'r1' });
    expect(Buffer.from(sealed).includes('ZW4481937')).toBe(false);
    expect(c1.keyOfBytes(sealed)).toBe('k1');
    expect(c1.openBytes(sealed, { table: 'ImportFile', column: 'content', id: 'r1' }).equals(file)).toBe(true);
    expect(() => c1.openBytes(sealed, { table: 'ImportFile', column: 'content', id: 'r2' })).toThrow(FieldDecryptError);
    expect(c1.openBytes(file, { table: 'ImportFile', column: 'content', id: 'r1' }).equals(file)).toBe(true);
  });

  test('blind indexes: keyed, normalised as matching is, 128 bits, one per readable key', () => {
    expect(c1.blindIndex('passport', 'zw 448-1937')).toBe(c1.blindIndex('passport', 'ZW4481937'));
    expect(c1.blindIndex('phone', '+48 (601) 555-019')).toBe(c1.blindIndex('phone', '+48601555019'));
    expect(c1.blindIndex('email', ' Zofia.W@Example.org ')).toBe(c1.blindIndex('email', 'zofia.w@example.org'));
    expect(c1.blindIndex('email', 'zofia.w@example.org')).toMatch(/^[0-9a-f]{32}$/);
    // The same text in another role, or under another key, is another index.
    expect(c1.blindIndex('passport', '48601555019')).not.toBe(c1.blindIndex('phone', '48601555019'));
    const c2 = new FieldCipher(k2, [k1]);
    expect(c2.blindIndex('passport', 'ZW4481937')).not.toBe(c1.blindIndex('passport', 'ZW4481937'));
    expect(c2.blindIndexes('passport', 'ZW4481937')).toEqual([c2.blindIndex('passport', 'ZW4481937'), c1.blindIndex('passport', 'ZW4481937')]);
    expect(FieldCipher.plaintext().blindIndex('passport', 'ZW4481937')).toBeNull();
    expect(c1.blindIndex('phone', 'none')).toBeNull();
  });

  test('configuration: key formats, production refuses to start without a key, key ids unique, no key echoed', () => {
    const b64 = crypto.randomBytes(32).toString('base64');
    expect(parseDataKey(b64)).toMatchObject({ id: 'k1' });
    expect(parseDataKey(`2026-11:${b64}`)).toMatchObject({ id: '2026-11' });
    expect(parseDataKey('k1:c2hvcnQ=')).toMatch(/32 bytes; this one is 5/);
    const bad = parseConfig({ DATA_ENCRYPTION_KEY: 'k1:not base64 at all!' });
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toMatch(/^DATA_ENCRYPTION_KEY: expected <keyId>:<base64 of 32 random bytes>/);
    const prod = parseConfig({ NODE_ENV: 'production' });
    expect(!prod.ok && prod.error).toMatch(/^DATA_ENCRYPTION_KEY: required when NODE_ENV=production/);
    expect(parseConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEY: b64 }).ok).toBe(true);
    const twice = parseConfig({ DATA_ENCRYPTION_KEY: `k1:${b64}`, DATA_ENCRYPTION_OLD_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}` });
    expect(!twice.ok && twice.error).toMatch(/key id k1 is used twice/);
    const leaked = parseConfig({ DATA_ENCRYPTION_OLD_KEYS: `k0:${b64.slice(0, 20)}` });
    expect(!leaked.ok && leaked.error).not.toContain(b64.slice(0, 20));
    // Development without a key: one warning, values in clear.
    const warnings: string[] = [];
    expect(cipherFromSettings({}, (m) => warnings.push(m)).enabled).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/DATA_ENCRYPTION_KEY is not set: personal data is stored unencrypted/)]);
  });
});

/** Every row of every table, as text (plain SQL, bytes read as Latin-1), to look for plaintext in. */
async function everything(store: Store): Promise<string> {
  const sql = store.sqlRead();
  const tables =
    sql.provider === 'sqlite'
      ? (await sql.all<{ name: string }>(`SELECT "name" FROM "sqlite_master" WHERE "type" = 'table'`)).map((t) => t.name)
      : (await sql.all<{ name: string }>(`SELECT "tablename" AS "name" FROM "pg_tables" WHERE "schemaname" = 'public'`)).map((t) => t.name);
  const out: string[] = [];
  for (const t of tables) {
    const rows = await sql.all(`SELECT * FROM "${t}"`);
    out.push(`${t}: ${JSON.stringify(rows, (_k, v: unknown) => (v && typeof v === 'object' && 'type' in v && (v as { type: unknown }).type === 'Buffer' ? Buffer.from((v as unknown as { data: number[] }).data).toString('latin1') : v))}`);
  }
  return out.join('\n');
}

const ZOFIA = 'name="Zofia Wiśniewska" crisis=ENC dob=1983-07-19 passport="zw 448 1937" phone="+48 601 555 019" email=Zofia.W@Example.org nok_phone="+48 601 555 020" nok_email=nok.zofia@example.org';
const CASE = [
  '/case new category=detention priority=p2 name="Piotr Nowakowski" reporter=police',
  'summary="Detained overnight at the Kapikule border post"',
  'dob=1969-04-12 passport="CP 773 3119" contact="+33 6 12 34 56 78, piotr.n@example.com"',
  'nok_name="Ewa Nowakowska" nok_relationship=spouse nok_phone="+48 22 555 0101" nok_email=ewa.nowakowska@example.pl',
].join(' ');
const CSV = ['Full name,Date of birth,Passport,Phone,Email', 'Tomasz Kowalczyk,1977-11-05,QX9981234,+90 555 000 1234,tomasz.k@example.net'].join('\r\n');
/** What must not be found anywhere in the database in clear. */
const SECRETS = [
  'ZW4481937', '1983-07-19', '48601555019', '601 555 019', 'zofia.w@example.org', '48601555020', 'nok.zofia@example.org',
  'CP7733119', '1969-04-12', '612345678', '6 12 34 56 78', 'piotr.n@example.com', 'Kapikule', '48225550101', 'ewa.nowakowska@example.pl', 'Oyelaran',
  'QX9981234', '1977-11-05', '905550001234', 'tomasz.k@example.net',
  'Kowalewski', 'ayse.yilmaz@example.com', '555 010 0101', 'mehmet.y@example.com', '555 030 0303', 'stadium camp', 'looking for my father',
];

function numberIn(title: string | undefined): number {
  const m = /#(\d+)/.exec(title ?? '');
  if (!m) throw new Error(`no person number in ${title}`);
  return Number(m[1]);
}

describeEachDb('encryption at rest', (fresh) => {
  let db: TestDb;
  let core: Core;
  let dir: string;
  const clock = manualClock('2026-11-23T08:00:00Z');
  const cara = () => as(core, 'cara');
  let zofia = 0;
  let caseRef = '';

  let sms: SmsFake;

  beforeAll(async () => {
    db = await fresh();
    dir = tempDir();
    sms = await startSmsFake();
    core = await coreOn(db, { SMS_WEBHOOK_URL: sms.url, SMS_FROM: '+15550000000' }, clock.now);
    expect(msg(await as(core, 'root').run('/duty member add handle=cara name="Cara Cell" roles=crisis,officer')).ok).toBe(true);
    expect(msg(await cara().run('/crisis open name="Encryption drill" code=ENC region=Poland')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await sms.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('after commands write them, no table holds the fields in clear; the commands read them back', async () => {
    const added = msg(await cara().run(`/person add ${ZOFIA}`));
    expect(added.ok).toBe(true);
    zofia = numberIn(added.title);
    const logged = msg(await cara().run(CASE));
    expect(logged.ok).toBe(true);
    caseRef = /C-\d{4}-\d{5}/.exec(logged.title ?? '')?.[0] as string;
    expect(msg(await cara().run(`/case note ${caseRef} Spoke to the governor, Mr Oyelaran`)).ok).toBe(true);
    const file = path.join(dir, 'registrations.csv');
    fs.writeFileSync(file, CSV);
    expect(textOf(await cara().run(`/crisis import ENC file=${file}`))).toContain('1 new');
    // A Person Finder file: its notes, and the PFIF fields kept verbatim (authors' and found people's phones and emails).
    expect(textOf(await cara().run(`/crisis import ENC file=${path.join(__dirname, '../fixtures/crisis/person-finder.pfif.xml')}`))).toMatch(/[1-9] new/);
    expect(msg(await cara().run(`/person status ${zofia} injured "Seen at the Wroclaw shelter by Dr Kowalewski"`)).ok).toBe(true);

    const dump = await everything(core.store);
    for (const s of SECRETS) expect([s, dump.includes(s)]).toEqual([s, false]);
    const raw = (await core.store.sqlRead().all<Record<string, string | null>>(`SELECT * FROM "Person" WHERE "number" = ?`, [zofia]))[0] as Record<string, string | null>;
    for (const c of ['passportNumber', 'phone', 'email', 'dateOfBirth', 'nokPhone', 'nokEmail']) expect(raw[c]?.startsWith(`${SEALED_PREFIX}test:`)).toBe(true);
    expect(raw.passportHash).toMatch(/^[0-9a-f]{32}$/);

    // Read back in clear by everything that shows them.
    const shown = textOf(await cara().run(`/person show ${zofia}`));
    for (const s of ['ZW4481937', '+48601555019', 'zofia.w@example.org', '1983-07-19', 'Kowalewski']) expect(shown).toContain(s);
    const c = textOf(await cara().run(`/case show ${caseRef}`));
    for (const s of ['CP7733119', '1969-04-12', 'Kapikule', 'piotr.n@example.com', 'Oyelaran']) expect(c).toContain(s);
    expect((await core.store.cases.byRef(caseRef))?.passportNumber).toBe('CP7733119');
    const exported = msg(await cara().run('/crisis export ENC csv'));
    expect(exported.attachments?.[0]?.content.toString('utf8')).toContain('QX9981234');
    const pfif = msg(await cara().run('/crisis export ENC pfif')).attachments?.[0]?.content.toString('utf8');
    for (const s of ['stadium camp', 'looking for my father', '1961-03']) expect(pfif).toContain(s);
  });

  test("staff contact details too: a member's email and phone, their SMS number, and where a page went; inbound SMS still finds its sender", async () => {
    registerPagingJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), settings: core.settings, channels: { sms: new SmsNotifier({ url: sms.url, from: '+15550000000' }) } });
    const root = as(core, 'root');
    const dora = as(core, 'dora');
    expect(msg(await root.run('/duty member add handle=dora name="Dora Duty" email=dora.duty@example.gov phone="+44 20 7946 0311" roles=officer')).ok).toBe(true);
    expect(msg(await dora.run('/duty contact add sms +44 7700 900311')).ok).toBe(true);
    // The code goes out by SMS (the job reads the number from the method), and verifies it.
    await core.scheduler.runDue();
    const [text] = (await sms.waitFor(1)).map((m) => m.body);
    expect(sms.messages[0]?.to).toBe('+447700900311');
    const code = /code is (\d{6})/.exec(text ?? '')?.[1] ?? '';
    expect(msg(await dora.run(`/duty contact verify 1 ${code}`)).title).toBe('Verified');
    // A page reaches her by SMS.
    expect(msg(await root.run('/page @dora Encryption drill page')).ok).toBe(true);
    for (let i = 0; i < 5 && sms.messages.length < 2; i++) await core.scheduler.runDue();
    expect(sms.messages.map((m) => m.to)).toEqual(['+447700900311', '+447700900311']);
    expect((await core.store.db.pageNotification.findFirst())?.address).toMatch(new RegExp(`^${SEALED_PREFIX}test:`));

    const dump = await everything(core.store);
    for (const s of ['dora.duty@example.gov', '7946 0311', '2079460311', '7700 900311', '7700900311']) expect([s, dump.includes(s)]).toEqual([s, false]);
    // Read back where they are shown and used.
    const shown = textOf(await root.run('/duty member list'));
    expect(shown).toContain('dora.duty@example.gov');
    expect(textOf(await dora.run('/duty contact list'))).toContain('+447700900311');
    const member = await core.store.members.byHandle('dora');
    expect(await core.store.pages.membersWithPhone('+44 7700 900311')).toEqual([member?.id]);
    expect(await core.store.pages.membersWithPhone('+44 7700 900312')).toEqual([]);
  });

  test('a file waiting to be imported is sealed too', async () => {
    const crisis = await core.store.crises.byCode('ENC');
    const deps = { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), missionTimeZone: 'UTC' };
    const file = Buffer.from('Full name,Passport,Email\r\nIrena Zielińska,IZ5550123,irena.z@example.org\r\n');
    const runId = await startImport(deps, systemMeta('t'), crisis as NonNullable<typeof crisis>, { name: 'waiting.csv', content: file, format: 'csv' }, null, { id: null }, clock.now(), { runHere: true });
    const stored = await core.store.db.importFile.findUnique({ where: { runId } });
    expect(Buffer.from(stored?.content ?? []).includes('IZ5550123')).toBe(false);
    expect((await runImport(deps, runId, clock.now)).imported).toBe(1);
    expect(textOf(await cara().run('/person find IZ5550123 crisis=ENC'))).toContain('Irena Zielińska');
  });

  test('exact search by passport, phone and email, and duplicates found by them, through the blind indexes', async () => {
    for (const q of ['zw4481937', '+48 601 555 019', 'ZOFIA.W@example.org']) expect(textOf(await cara().run(`/person find ${q} crisis=ENC`))).toContain('Zofia Wiśniewska');
    expect(textOf(await cara().run('/person find +90 555 000 1234 crisis=ENC'))).toContain('Tomasz Kowalczyk');
    expect(textOf(await cara().run('/person find ZW4481938 crisis=ENC'))).toMatch(/No one matches/);
    // A new record with the same passport under another spelling of the name is flagged.
    const again = msg(await cara().run('/person add name="Zosia Wisniewska" passport=ZW4481937 crisis=ENC'));
    expect(again.ok).toBe(true);
    const crisis = await core.store.crises.byCode('ENC');
    const pairs = await core.store.crises.candidates(crisis?.id as string);
    expect(pairs.some((p) => p.reasons.includes('same passport (+5)'))).toBe(true);
    // And on import against what is stored: another name entirely, found by passport, phone and email alone.
    const file = path.join(dir, 'again.csv');
    fs.writeFileSync(file, 'Full name,Passport,Phone,Email\r\nAnonymous Registrant,QX9981234,+905550001234,tomasz.k@example.net\r\n');
    expect(textOf(await cara().run(`/crisis import ENC file=${file}`))).toMatch(/1 new.* 1 possible duplicates/);
  });

  test('rows written before a key was configured still read, and match by value', async () => {
    const crisis = await core.store.crises.byCode('ENC');
    const legacy = Store.open(db.url);
    try {
      const data = personInputSchema.parse({ fullName: 'Marek Legacy', passportNumber: 'ML1234567', phone: '+48 500 600 700' });
      await legacy.change(systemMeta('t'), (w) => legacy.crises.createPerson(w.tx, personOf(data, { crisisId: crisis?.id as string, number: 900_001, source: 'staff', sourceId: null, now: clock.now() })));
    } finally {
      await legacy.close();
    }
    const raw = await core.store.sqlRead().all<{ passportNumber: string; passportHash: string | null }>(`SELECT "passportNumber", "passportHash" FROM "Person" WHERE "number" = 900001`);
    expect(raw).toEqual([{ passportNumber: 'ML1234567', passportHash: null }]);
    expect(textOf(await cara().run('/person find ML1234567 crisis=ENC'))).toContain('Marek Legacy');
    expect(textOf(await cara().run('/person show 900001'))).toContain('+48500600700');
  });

  test('identifiers are looked up by index: blind indexes, and values in clear only among rows without one (partial indexes)', async () => {
    const crisis = await core.store.crises.byCode('ENC');
    const q = core.store.crises.identifierQuery(crisis?.id as string, { passport: 'ML1234567', phone: '+48 500 600 700', email: 'a@example.org' });
    if (!q) throw new Error('no query');
    // Ciphertext is not in the clear-value index: every sealed passport has its blind index.
    const counts = await core.store.sqlRead().all<{ sealed: unknown; unindexed: unknown }>(
      `SELECT COUNT(*) AS "sealed", SUM(CASE WHEN "passportHash" IS NULL THEN 1 ELSE 0 END) AS "unindexed" FROM "Person" WHERE "passportNumber" LIKE 'enc:v1:%'`,
    );
    expect(Number(counts[0]?.sealed)).toBeGreaterThan(0);
    expect(Number(counts[0]?.unindexed)).toBe(0);
    if (db.provider === 'sqlite') {
      const plan = (await core.store.sqlRead().all<{ detail: string }>(`EXPLAIN QUERY PLAN ${q.sql}`, q.params)).map((r) => r.detail).join('\n');
      for (const index of ['Person_passportHash_idx', 'Person_passportNumber_idx', 'Person_phoneHash_idx', 'Person_phone_idx', 'Person_emailHash_idx', 'Person_email_idx']) expect(plan).toContain(index);
      expect(plan).not.toMatch(/Person_crisisId|SCAN Person/);
    } else {
      // A table this small is cheaper to scan, or to walk by crisis: whether each partial index
      // serves its part of the query (the value in clear, where there is no blind index) is the question.
      for (const [column, hash] of [['passportNumber', 'passportHash'], ['phone', 'phoneHash'], ['email', 'emailHash']]) {
        const plan = await core.store.transaction(async (tx) => {
          await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
          return (await core.store.sqlIn(tx).all<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT "id" FROM "Person" WHERE "${column}" = 'x' AND "${hash}" IS NULL`)).map((r) => r['QUERY PLAN']).join('\n');
        });
        expect(plan).toContain(`Person_${column}_idx`);
      }
    }
  });

  test('a value altered, or moved to another row or column, does not decrypt: the command fails instead of showing it', async () => {
    const crisis = await core.store.crises.byCode('ENC');
    const people = await core.store.crises.people(crisis?.id as string);
    const a = people.find((p) => p.fullName === 'Zofia Wiśniewska');
    const b = people.find((p) => p.fullName === 'Tomasz Kowalczyk');
    if (!a || !b) throw new Error('setup');
    // Zofia's passport copied onto Tomasz's row.
    await core.store.transaction(async (tx) => {
      const sql = core.store.sqlIn(tx);
      const [row] = await sql.all<{ passportNumber: string }>(`SELECT "passportNumber" FROM "Person" WHERE "id" = ?`, [a.id]);
      await sql.run(`UPDATE "Person" SET "passportNumber" = ? WHERE "id" = ?`, [row?.passportNumber ?? null, b.id]);
    });
    await expect(core.store.crises.personById(b.id)).rejects.toThrow(new RegExp(`Person\\.passportNumber of ${b.id} does not decrypt under key test`));
    const shown = msg(await cara().run(`/person show ${b.number}`));
    expect(shown.ok).toBe(false);
    expect(shown.error?.code).toBe('INTERNAL');
    expect(textOf(shown)).not.toContain('ZW4481937');

    // The case summary altered by one bit, and its note moved into the summary column.
    const c = await core.store.cases.byRef(caseRef);
    await core.store.transaction(async (tx) => {
      const sql = core.store.sqlIn(tx);
      const [row] = await sql.all<{ summary: string }>(`SELECT "summary" FROM "Case" WHERE "id" = ?`, [c?.id as string]);
      const parts = (row?.summary ?? '').split(':');
      const body = Buffer.from(parts[5] as string, 'base64');
      body[3] = (body[3] as number) ^ 0x20;
      await sql.run(`UPDATE "Case" SET "summary" = ? WHERE "id" = ?`, [[...parts.slice(0, 5), body.toString('base64')].join(':'), c?.id as string]);
    });
    await expect(core.store.cases.byRef(caseRef)).rejects.toThrow(FieldDecryptError);
    const show = msg(await cara().run(`/case show ${caseRef}`));
    expect(show.error?.code).toBe('INTERNAL');
    expect(textOf(show)).not.toMatch(/Kapikule|border/);
  });

  test('the test key is what the core runs with', () => {
    expect(core.store.cipher.current?.id).toBe((parseDataKey(TEST_DATA_KEY) as DataKey).id);
  });
});
