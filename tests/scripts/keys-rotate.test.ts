// keys:rotate: data written under an old key (and a row from before any key) is re-encrypted under
// the new one while the bot, configured with both keys, keeps writing: a batch raced by an edit
// leaves the edit alone, nothing concurrent is lost, a second run has nothing to do, and once the
// old key is removed everything still decrypts and search still matches.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Core } from '../../src/core';
import { personInputSchema } from '../../src/domain/person';
import { personOf } from '../../src/handlers/crisis/crisis.service';
import { cipherFromSettings, SEALED_PREFIX } from '../../src/store/field-crypto';
import { Store, systemMeta } from '../../src/store/store';
import { remainingOld, rotateKeys, SEALED_TABLES, summaryLines } from '../../scripts/keys-rotate';
import { registerPagingJobs } from '../../src/handlers/page/page.jobs';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { describeEachDb, tempDir } from '../helpers/db';

const spec = (id: string): string => `${id}:${crypto.randomBytes(32).toString('base64')}`;
const PEOPLE = 24;
/** SMS set up (never reached: no job sends here), so that an SMS contact can be added. */
const SMS = { SMS_WEBHOOK_URL: 'http://u:p@127.0.0.1:9/sms', SMS_FROM: '+15550000000' };

function csv(): string {
  const rows = ['Full name,Date of birth,Passport,Phone,Email'];
  for (let i = 0; i < PEOPLE; i++) rows.push(`Person Number${String.fromCharCode(97 + (i % 26))}${i},19${50 + (i % 40)}-0${1 + (i % 9)}-1${i % 10},RT${String(1_000_000 + i)},+4870000${String(1000 + i)},person${i}@example.org`);
  return rows.join('\r\n');
}

describeEachDb('keys:rotate', (fresh) => {
  test('re-encrypts everything under the new key while the bot keeps writing; the old key can then go', async () => {
    const OLD = spec('old');
    const NEW = spec('new');
    const db = await fresh();
    const dir = tempDir();
    const clock = manualClock('2026-11-23T08:00:00Z');
    const cores: Core[] = [];
    const stores: Store[] = [];
    try {
      // Before: the bot under the old key, and a row from before any key was configured.
      let core = await coreOn(db, { DATA_ENCRYPTION_KEY: OLD, ...SMS }, clock.now);
      cores.push(core);
      const root = as(core, 'root');
      expect(msg(await root.run('/duty member add handle=cara name="Cara Cell" email=cara.cell@example.gov phone="+48 22 555 0199" roles=crisis,officer')).ok).toBe(true);
      const cara = () => as(core, 'cara');
      // Staff contacts: an SMS number (with its blind index) and where a page to it went.
      expect(msg(await cara().run('/duty contact add sms +48 600 111 222')).ok).toBe(true);
      const caraId = (await core.store.members.byHandle('cara'))?.id as string;
      await core.store.transaction((tx) => tx.contactMethod.updateMany({ where: { memberId: caraId }, data: { verifiedAt: clock.now() } }));
      registerPagingJobs(core.scheduler, { store: core.store, outbox: core.outbox, logger: pino({ level: 'silent' }), settings: core.settings, channels: {} });
      expect(msg(await root.run('/page @cara Rotation drill')).ok).toBe(true);
      await core.scheduler.runDue();
      expect(await core.store.db.pageNotification.count({ where: { method: 'sms' } })).toBe(1);
      expect(msg(await cara().run('/crisis open name="Rotation drill" code=ROT region=Poland')).ok).toBe(true);
      const file = path.join(dir, 'people.csv');
      fs.writeFileSync(file, csv());
      expect(textOf(await cara().run(`/crisis import ROT file=${file}`))).toContain(`${PEOPLE} new`);
      const twin = msg(await cara().run('/person add name="Person Numbera0" passport=RT1000000 phone=+48700001000 crisis=ROT'));
      expect(twin.ok).toBe(true);
      const crisis = await core.store.crises.byCode('ROT');
      const crisisId = crisis?.id as string;
      const twinId = (await core.store.crises.personByNumber(Number(/#(\d+)/.exec(twin.title ?? '')?.[1])))?.id;
      const pair = (await core.store.crises.candidates(crisisId)).find((c) => c.personAId === twinId || c.personBId === twinId);
      expect(msg(await cara().run(`/crisis same ${pair?.id}`)).ok).toBe(true);
      const refs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = msg(await cara().run(`/case new category=detention priority=p3 name="Case Subject${i}" reporter=police summary="Held at checkpoint ${i}" passport=CS${1_000_000 + i} contact="+48 600 000 00${i}"`));
        refs.push(/C-\d{4}-\d{5}/.exec(r.title ?? '')?.[0] as string);
        expect(msg(await cara().run(`/case note ${refs[i]} First call ${i}`)).ok).toBe(true);
      }
      const legacy = Store.open(db.url);
      await legacy.change(systemMeta('t'), (w) =>
        legacy.crises.createPerson(w.tx, personOf(personInputSchema.parse({ fullName: 'Marek Legacy', passportNumber: 'ML1234567', email: 'marek@example.org' }), { crisisId, number: 900_001, source: 'staff', sourceId: null, now: clock.now() })),
      );
      await legacy.close();
      await core.close();
      cores.pop();

      // The bot restarted with the new key, the old one still readable; keys:rotate beside it.
      core = await coreOn(db, { DATA_ENCRYPTION_KEY: NEW, DATA_ENCRYPTION_OLD_KEYS: OLD, ...SMS }, clock.now);
      cores.push(core);
      const rotator = Store.open(db.url, { cipher: cipherFromSettings({ DATA_ENCRYPTION_KEY: NEW, DATA_ENCRYPTION_OLD_KEYS: [OLD] }) });
      stores.push(rotator);
      expect((await remainingOld(rotator)).remaining.length).toBeGreaterThan(0);

      // Edits the bot makes meanwhile: phones changed (fenced on the version, as every edit is) and case notes.
      const phones = new Map<string, string>();
      let edits = 0;
      const editPhone = async (id: string): Promise<void> => {
        const phone = `+4879${String(1_000_000 + ++edits)}`;
        const saved = await core.store.change(systemMeta('edit'), async (w) => {
          const p = await core.store.crises.personById(id, w.tx);
          return p ? core.store.crises.savePerson(w.tx, p, { phone }, clock.now()) : null;
        });
        if (saved) phones.set(id, phone);
      };
      const people = (await core.store.crises.people(crisisId)).map((p) => p.id);
      let notes = 0;
      const writer = (async () => {
        for (let i = 0; i < 40; i++) {
          await editPhone(people[(i * 7) % people.length] as string);
          if (i % 4 === 0 && msg(await cara().run(`/case note ${refs[i % refs.length]} Update ${i}`)).ok) notes++;
        }
      })();
      // And one edit landing between each Person batch's read and its write: the fence must keep it.
      let raced = 0;
      const lines: string[] = [];
      const report = await rotateKeys(rotator, {
        batch: 6,
        log: (l) => lines.push(l),
        onBatch: async (table, ids) => {
          if (table !== 'Person') return;
          await editPhone(ids[0] as string);
          raced++;
        },
      });
      await writer;

      expect(report.complete).toBe(true);
      expect(report.remaining).toEqual([]);
      expect(report.missingIndexes).toEqual([]);
      const person = report.tables.find((t) => t.table === 'Person');
      expect(person).toMatchObject({ rows: PEOPLE + 2, contended: 0, unreadable: [] });
      expect(person?.rewritten).toBeGreaterThanOrEqual(PEOPLE + 2 - raced);
      expect(raced).toBeGreaterThanOrEqual(Math.ceil((PEOPLE + 2) / 6));
      expect(report.tables.find((t) => t.table === 'Case')?.rewritten).toBe(3);
      expect(report.tables.find((t) => t.table === 'DuplicateCandidate')?.rewritten).toBe(1);
      expect(lines.some((l) => new RegExp(`^Person: \\d+ of ${PEOPLE + 2} rows read, \\d+ rewritten$`).test(l))).toBe(true);
      expect(summaryLines(report, ['old']).at(-1)).toMatch(/no value under an old key or in clear remains\. old can be removed from DATA_ENCRYPTION_OLD_KEYS\./);
      // Resumable: run again, nothing to do.
      const again = await rotateKeys(rotator, { batch: 6 });
      expect(again.tables.map((t) => t.rewritten)).toEqual(again.tables.map(() => 0));
      expect(again.complete).toBe(true);

      // The old key removed: everything decrypts, every concurrent edit is there, search matches.
      const after = Store.open(db.url, { cipher: cipherFromSettings({ DATA_ENCRYPTION_KEY: NEW }) });
      stores.push(after);
      const all = await after.crises.people(crisisId, { includeMerged: true });
      expect(all).toHaveLength(PEOPLE + 2);
      for (const [id, phone] of phones) expect([id, all.find((p) => p.id === id)?.phone]).toEqual([id, phone]);
      expect(phones.size).toBeGreaterThan(0);
      for (const ref of refs) expect((await after.cases.byRef(ref))?.summary).toMatch(/^Held at checkpoint \d$/);
      expect((await after.cases.byRef(refs[0] as string))?.passportNumber).toBe('CS1000000');
      const noteCount = (await Promise.all(refs.map(async (ref) => (await after.cases.notes((await after.cases.byRef(ref))?.id as string)).length))).reduce((a, b) => a + b, 0);
      expect(noteCount).toBe(3 + notes);
      expect((await after.crises.notesOfCrisis(crisisId)).some((n) => n.text === 'Record created')).toBe(true);
      expect((await after.crises.candidateById(pair?.id as string))?.mergeUndo).toContain('"survivorId"');
      // Search by blind index under the new key alone (the legacy row's in clear is gone).
      expect((await after.crises.byIdentifiers(crisisId, { passport: 'ML1234567' })).map((p) => p.fullName)).toEqual(['Marek Legacy']);
      expect((await after.crises.byIdentifiers(crisisId, { email: 'MAREK@example.org' })).map((p) => p.fullName)).toEqual(['Marek Legacy']);
      expect((await after.crises.byIdentifiers(crisisId, { passport: 'RT1000017' })).map((p) => p.fullName)).toEqual(['Person Numberr17']);
      // Staff contacts read under the new key alone; an inbound SMS still finds its sender.
      const member = await after.members.byHandle('cara');
      expect([member?.email, member?.phone]).toEqual(['cara.cell@example.gov', '+48225550199']);
      expect(await after.pages.membersWithPhone('+48600111222')).toEqual([member?.id]);
      expect((await after.pages.notifications((await after.db.pageNotification.findFirst({ where: { method: 'sms' } }))?.pageId as string)).find((n) => n.method === 'sms')?.address).toBe('+48600111222');
      // And in the database, every sealed value is under the new key.
      const sql = after.sqlRead();
      for (const t of SEALED_TABLES) {
        for (const column of t.columns) {
          const values = (await sql.all<Record<string, string | null>>(`SELECT "${column}" FROM "${t.table}" WHERE "${column}" IS NOT NULL`)).map((r) => r[column] as string);
          for (const v of values) expect([t.table, column, v.startsWith(`${SEALED_PREFIX}new:`)]).toEqual([t.table, column, true]);
        }
      }
    } finally {
      for (const c of cores) await c.close();
      for (const s of stores) await s.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
