import fc from 'fast-check';
import { KeyBuckets, KeyHashes } from '../../src/domain/key-buckets';

/** What KeyBuckets stands in for: a Map of arrays, each capped. */
function reference(ops: readonly { key: string; value: number; cap: number }[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const o of ops) {
    const list = m.get(o.key) ?? [];
    if (!m.has(o.key)) m.set(o.key, list);
    if (list.length < o.cap) list.push(o.value);
  }
  return m;
}

function bucket(b: KeyBuckets, key: string): number[] {
  const out: number[] = [];
  b.forEach(key, (v) => out.push(v));
  return out.sort((x, y) => x - y);
}

describe('KeyBuckets', () => {
  test('holds what a Map of capped arrays holds, through growth, for any keys (unicode, empty, near-identical)', () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('n:ali', 'n:ali ', 'nd:al', 'nd:ali', 'p:TR1', 't:90555', 'e:a@b', ''), fc.string({ unit: 'grapheme', maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(fc.record({ key, value: fc.nat(1_000_000), cap: fc.integer({ min: 1, max: 4 }) }), { maxLength: 400 }), fc.array(key, { maxLength: 20 }), (ops, probes) => {
        const b = new KeyBuckets(16);
        const added = ops.map((o) => b.add(o.key, o.value, o.cap));
        const ref = reference(ops);
        // add() says whether it took the value: whether the bucket had room then.
        const held = new Map<string, number>();
        ops.forEach((o, i) => {
          const n = held.get(o.key) ?? 0;
          expect(added[i]).toBe(n < o.cap);
          if (n < o.cap) held.set(o.key, n + 1);
        });
        expect(b.keyCount).toBe(ref.size);
        for (const [k, list] of ref) expect(bucket(b, k)).toEqual([...list].sort((x, y) => x - y));
        for (const p of probes) expect(bucket(b, p)).toEqual([...(ref.get(p) ?? [])].sort((x, y) => x - y));
      }),
    );
  });

  test('a full bucket refuses more; other keys are unaffected', () => {
    const b = new KeyBuckets();
    for (let i = 0; i < 30; i++) b.add('n:common name', i, 25);
    expect(b.add('n:common name', 99, 25)).toBe(false);
    expect(bucket(b, 'n:common name')).toHaveLength(25);
    expect(b.add('n:rare name', 7, 25)).toBe(true);
    expect(bucket(b, 'n:rare name')).toEqual([7]);
    expect(bucket(b, 'n:absent')).toEqual([]);
  });

  test('200,000 distinct keys: each finds exactly its own value', () => {
    const b = new KeyBuckets(16);
    for (let i = 0; i < 200_000; i++) b.add(`nd:name ${i}`, i, 25);
    expect(b.keyCount).toBe(200_000);
    for (let i = 0; i < 200_000; i += 997) expect(bucket(b, `nd:name ${i}`)).toEqual([i]);
  });

  test('a key fed in pieces hashes as the whole string; a key made twice is kept once, first come first', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.nat(12), fc.boolean()), { maxLength: 30 }), (keys) => {
        const whole = KeyHashes.of(keys.map(([k]) => k));
        const pieces = new KeyHashes();
        for (const [k, cut, strong] of keys) {
          const at = Math.min(cut, k.length);
          pieces.begin();
          pieces.str(k, 0, at);
          pieces.str('');
          pieces.str(k, at);
          pieces.end(strong);
        }
        expect(pieces.count).toBe(new Set(keys.map(([k]) => k)).size);
        expect([...pieces.hash.subarray(0, pieces.count * 2)]).toEqual([...whole.hash.subarray(0, whole.count * 2)]);
        // Whether a key is strong: as it was first made.
        const first = new Map<string, boolean>();
        for (const [k, , strong] of keys) if (!first.has(k)) first.set(k, strong);
        expect([...pieces.strong.subarray(0, pieces.count)]).toEqual([...first.values()].map((v) => (v ? 1 : 0)));
      }),
    );
  });

  test('walks a bucket entry by entry, newest first, as forEach() does', () => {
    const b = new KeyBuckets(16);
    for (const v of [3, 1, 4]) b.add('n:ali', v, 10);
    const h = KeyHashes.of(['n:ali']).hash;
    const walked: number[] = [];
    for (let e = b.firstEntry(h[0] as number, h[1] as number); e !== 0; e = b.nextEntry(e)) walked.push(b.entryValue(e));
    expect(walked).toEqual([4, 1, 3]);
    const missing = KeyHashes.of(['n:bob']).hash;
    expect(b.firstEntry(missing[0] as number, missing[1] as number)).toBe(0);
  });
});
