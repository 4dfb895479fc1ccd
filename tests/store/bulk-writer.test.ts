// The import's bulk writes: on a SQLite file a thread with its own connection, on PostgreSQL the
// store's transactions. Each batch is one transaction (all or nothing), numbers are reserved in
// it, dates are stored as the rest of the store stores them, and a held write lock is waited for.
import type { Core } from '../../src/core';
import { personInputSchema } from '../../src/domain/person';
import { personOf } from '../../src/handlers/crisis/crisis.service';
import { EARLIER_FAILED, sealAhead, type BulkWriter, type InsertStep } from '../../src/store/bulk-writer';
import { PERSON_COLUMNS, PERSON_NUMBER_COLUMN, PERSON_SEALING, personRow } from '../../src/store/crisis.repository';
import { coreOn } from '../helpers/core';
import { describeEachDb, freshSqlite, type TestDb } from '../helpers/db';

const reserve = (name: string, count: number) => ({
  reserve: { sql: `INSERT INTO "Counter" ("name", "value") VALUES ('${name}', ?) ON CONFLICT ("name") DO UPDATE SET "value" = "Counter"."value" + ? RETURNING "value"`, params: [count, count], count },
});

describeEachDb('bulk writer', (fresh) => {
  let db: TestDb;
  let core: Core;
  let writer: BulkWriter;
  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db);
    writer = core.store.bulkWriter();
  });
  afterAll(async () => {
    await writer.close();
    await core.close();
    await db.drop();
  });

  const counter = async (name: string): Promise<number | null> => (await core.store.db.counter.findUnique({ where: { name } }))?.value ?? null;

  test('numbers rows from a counter reserved in the same transaction', async () => {
    expect(await writer.write([reserve('bulk', 2), { table: 'Counter', columns: ['name', 'value'], rows: [['bulk-a', 0], ['bulk-b', 0]], numberColumn: 1 }])).toBe(1);
    expect(await writer.write([reserve('bulk', 3), { table: 'Counter', columns: ['name', 'value'], rows: [['bulk-c', 0], ['bulk-d', 0], ['bulk-e', 0]], numberColumn: 1 }])).toBe(3);
    expect([await counter('bulk-a'), await counter('bulk-b'), await counter('bulk-c'), await counter('bulk-e'), await counter('bulk')]).toEqual([1, 2, 3, 5, 5]);
  });

  test('a batch that fails writes nothing, and the writer goes on', async () => {
    const at = new Date('2026-11-23T10:00:00.000Z');
    const failing = writer.write([
      reserve('rollback', 2),
      { table: 'Counter', columns: ['name', 'value'], rows: [['rollback-a', 0]], numberColumn: 1 },
      { table: 'SeenRequest', columns: ['key', 'expiresAt'], rows: [['twice', at], ['twice', at]] },
    ]);
    await expect(failing).rejects.toThrow(/unique|duplicate/i);
    expect(await counter('rollback')).toBeNull();
    expect(await counter('rollback-a')).toBeNull();
    expect(await core.store.db.seenRequest.count({ where: { key: 'twice' } })).toBe(0);
    expect(await writer.write([{ table: 'SeenRequest', columns: ['key', 'expiresAt'], rows: [['once', at]] }])).toBeNull();
    expect(await core.store.db.seenRequest.count({ where: { key: 'once' } })).toBe(1);
  });

  test('writes handed over together run one at a time, in order; a chained one after a failure is refused, the failure named', async () => {
    const row = (name: string, value: number) => ({ table: 'Counter', columns: ['name', 'value'], rows: [[name, value]] });
    const dup = { table: 'Counter', columns: ['name', 'value'], rows: [['chain-dup', 1], ['chain-dup', 2]] };
    // All handed over before the first ends, as the import does.
    const writes = [
      writer.write([row('chain-a', 1)], { chained: true }),
      writer.write([{ sql: `UPDATE "Counter" SET "value" = "value" + 10 WHERE "name" = 'chain-a'`, params: [] }], { chained: true }),
      writer.write([dup], { chained: true }),
      writer.write([row('chain-b', 1)], { chained: true }),
      writer.write([row('chain-c', 1)], { chained: true }),
      writer.write([row('chain-d', 1)]),
      writer.write([row('chain-e', 1)], { chained: true }),
    ];
    const results = await Promise.allSettled(writes);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/unique|duplicate/i);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: EARLIER_FAILED, message: expect.stringMatching(/batch before it failed/) });
    // The second ran after the first: it found its row.
    expect([await counter('chain-a'), await counter('chain-dup'), await counter('chain-b'), await counter('chain-c'), await counter('chain-d'), await counter('chain-e')]).toEqual([11, null, null, null, 1, 1]);
  });

  test('dates are stored as the store stores them: compared and read back exactly', async () => {
    const at = new Date('2026-11-23T10:00:00.123Z');
    await writer.write([{ table: 'SeenRequest', columns: ['key', 'expiresAt'], rows: [['dated', at]] }]);
    const row = await core.store.db.seenRequest.findFirst({ where: { key: 'dated', expiresAt: { gte: at, lt: new Date(at.getTime() + 1) } } });
    expect(row?.expiresAt.toISOString()).toBe(at.toISOString());
  });

  test('rows given in clear are sealed by the writer as the store seals them: readable by the store, searchable by blind index, nothing in clear', async () => {
    const at = new Date('2026-11-23T10:00:00.000Z');
    await writer.write([{ sql: `INSERT INTO "Crisis" ("id", "code", "name", "region", "status", "openedAt", "version", "updatedAt") VALUES ('bulk-c', 'BULK', 'Bulk', 'r', 'active', ?, 1, ?)`, params: [at, at] }]);
    const data = personInputSchema.parse({ fullName: 'Wiktoria Bulk', passportNumber: 'WB7654321', phone: '+48 600 700 800', email: 'w.bulk@example.org', dateOfBirth: '1980-02-03' });
    const p = personOf(data, { crisisId: 'bulk-c', number: 0, source: 'csv:bulk', sourceId: 'B1', now: at });
    await writer.write([reserve('person-bulk', 1), { table: 'Person', columns: PERSON_COLUMNS, rows: [personRow(p)], numberColumn: PERSON_NUMBER_COLUMN, seal: PERSON_SEALING }]);
    const [raw] = await core.store.sqlRead().all<Record<string, unknown>>(`SELECT * FROM "Person" WHERE "id" = ?`, [p.id]);
    for (const c of ['passportNumber', 'phone', 'email', 'dateOfBirth']) expect(String(raw?.[c])).toMatch(/^enc:v1:/);
    expect(JSON.stringify(raw)).not.toMatch(/WB7654321|700|w\.bulk|1980/);
    expect(raw?.passportHash).toBe(core.store.cipher.blindIndex('passport', 'WB7654321'));
    const [read] = await core.store.crises.people('bulk-c');
    expect(read).toMatchObject({ fullName: 'Wiktoria Bulk', passportNumber: 'WB7654321', phone: p.phone, email: 'w.bulk@example.org', dateOfBirth: '1980-02-03' });
    expect((await core.store.crises.byIdentifiers('bulk-c', { passport: 'wb 7654321' })).map((x) => x.id)).toEqual([p.id]);
  });

  test('rows sealed ahead by the caller are not sealed again: all read back as they went in', async () => {
    const at = new Date('2026-11-23T10:00:00.000Z');
    await writer.write([{ sql: `INSERT INTO "Crisis" ("id", "code", "name", "region", "status", "openedAt", "version", "updatedAt") VALUES ('ahead-c', 'AHEAD', 'Ahead', 'r', 'active', ?, 1, ?)`, params: [at, at] }]);
    const people = ['Ada Ahead', 'Bo Behind', 'Cy Ahead'].map((fullName, i) => personOf(personInputSchema.parse({ fullName, passportNumber: `AH00000${i}`, dateOfBirth: '1980-02-03' }), { crisisId: 'ahead-c', number: 0, source: 'csv:ahead', sourceId: `A${i}`, now: at }));
    const step: InsertStep = { table: 'Person', columns: PERSON_COLUMNS, rows: people.map((p) => personRow(p)), numberColumn: PERSON_NUMBER_COLUMN, seal: PERSON_SEALING };
    sealAhead(core.store.cipher, step, 2);
    expect(step.sealedAhead).toBe(2);
    expect(String(step.rows[1]?.[PERSON_COLUMNS.indexOf('passportNumber')])).toMatch(/^enc:v1:/);
    expect(step.rows[2]?.[PERSON_COLUMNS.indexOf('passportNumber')]).toBe('AH000002');
    // Person numbers are unique across crises: the same counter as the test before.
    await writer.write([reserve('person-bulk', 3), step]);
    const read = await core.store.crises.people('ahead-c');
    expect(read.map((p) => [p.fullName, p.passportNumber, p.dateOfBirth])).toEqual(people.map((p) => [p.fullName, p.passportNumber, '1980-02-03']));
    expect((await core.store.crises.byIdentifiers('ahead-c', { passport: 'AH000001' })).map((x) => x.id)).toEqual([people[1]?.id]);
  });

  test('a write lock held by another transaction is waited for, then the batch commits', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const locked = new Promise<void>((r) => (inside = r));
    const holder = core.store.transaction(async (tx) => {
      await tx.counter.create({ data: { name: 'holder', value: 1 } });
      inside();
      await held;
    });
    await locked;
    let done = false;
    const waiting = writer.write([{ table: 'Counter', columns: ['name', 'value'], rows: [['after-lock', 7]] }]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    // On PostgreSQL another row does not conflict, so it may already be in; on SQLite it waits.
    if (db.provider === 'sqlite') expect(done).toBe(false);
    release();
    await holder;
    await waiting;
    expect(await counter('after-lock')).toBe(7);
    expect(await counter('holder')).toBe(1);
  });
});

describe('bulk writer thread [sqlite]', () => {
  test("takes turns with the store's transactions: one that read before a batch still writes after it", async () => {
    const db = await freshSqlite();
    const core = await coreOn(db);
    const writer = core.store.bulkWriter();
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inside!: () => void;
      const reading = new Promise<void>((r) => (inside = r));
      // Reads first (a snapshot), then writes: had the thread committed in between, SQLite would
      // refuse the write (SQLITE_BUSY_SNAPSHOT) instead of waiting.
      const tx = core.store.transaction(async (t) => {
        const n = await t.counter.count();
        inside();
        await held;
        await t.counter.create({ data: { name: 'read-then-write', value: n } });
      });
      await reading;
      const rows = Array.from({ length: 2000 }, (_, i) => [`thread-${i}`, i]);
      const batch = writer.write([{ table: 'Counter', columns: ['name', 'value'], rows }]);
      await new Promise((r) => setTimeout(r, 100));
      release();
      await tx;
      await batch;
      expect(await core.store.db.counter.count({ where: { name: { startsWith: 'thread-' } } })).toBe(2000);
      expect(await core.store.db.counter.findUnique({ where: { name: 'read-then-write' } })).not.toBeNull();
    } finally {
      await writer.close();
      await core.close();
      await db.drop();
    }
  });

  test('refuses work once closed, instead of losing it', async () => {
    const db = await freshSqlite();
    const core = await coreOn(db);
    try {
      const writer = core.store.bulkWriter();
      await writer.close();
      await expect(writer.write([{ table: 'Counter', columns: ['name', 'value'], rows: [['closed', 1]] }])).rejects.toThrow(/stopped/);
      expect(await core.store.db.counter.findUnique({ where: { name: 'closed' } })).toBeNull();
    } finally {
      await core.close();
      await db.drop();
    }
  });
});
