// Plain SQL values: a blob is bound as one (SQLite) and inlined as a bytea literal (PostgreSQL).
import { inlined, sqliteParam } from '../../src/store/sql';

describe('plain SQL values', () => {
  test('bytes inline as a bytea literal, whatever part of a buffer they are; other values as before', () => {
    const whole = new Uint8Array([1, 2, 0xff]);
    expect(inlined('INSERT INTO t VALUES (?, ?, ?)', [whole, null, "it's"])).toBe(`INSERT INTO t VALUES ('\\x0102ff'::bytea, NULL, 'it''s')`);
    const view = Buffer.from([9, 1, 2, 0xff, 9]).subarray(1, 4);
    expect(inlined('?', [view])).toBe(`'\\x0102ff'::bytea`);
    expect(inlined('?', [new Uint8Array(0)])).toBe(`'\\x'::bytea`);
    expect(sqliteParam(whole)).toBe(whole);
  });
});
