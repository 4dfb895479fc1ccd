// Plain SQL values: a blob is bound as one (SQLite) and inlined as bytea (PostgreSQL).
import { inlined, sqliteParam } from '../../src/store/sql';

describe('plain SQL values', () => {
  test('bytes inline as bytea, whatever part of a buffer they are; other values as before', () => {
    const whole = new Uint8Array([1, 2, 0xff]);
    expect(inlined('INSERT INTO t VALUES (?, ?, ?)', [whole, null, "it's"])).toBe(`INSERT INTO t VALUES (decode('0102ff', 'hex'), NULL, 'it''s')`);
    const view = Buffer.from([9, 1, 2, 0xff, 9]).subarray(1, 4);
    expect(inlined('?', [view])).toBe(`decode('0102ff', 'hex')`);
    expect(inlined('?', [new Uint8Array(0)])).toBe(`decode('', 'hex')`);
    expect(sqliteParam(whole)).toBe(whole);
  });
});
