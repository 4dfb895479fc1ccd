// Small integers (people, by position) in buckets by string key, held in typed arrays: no object
// per key or per bucket. An import of 100,000 people builds ~3 million blocking keys; as a
// Map<string, number[]> they were several hundred megabytes of strings and arrays that every
// young-generation collection had to copy and the old one to mark.
//
// A key is kept as a 64-bit hash (two 32-bit hashes), never as the string. Two keys sharing a hash
// share a bucket: with 64 bits that needs about 2^32 keys to become likely, and its only effect
// would be one more pair scored by the caller, which compares the records themselves.

/** An entry's number plus one is kept (in a slot's head, and as the next of an entry), so a zeroed array is empty. */
const NONE = 0;

/** Two 32-bit hashes of a string in one pass (FNV-1a and a murmur-style mix, each finalised), into out[at], out[at + 1]. */
function hashInto(key: string, out: Int32Array, at: number): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  out[at] = fmix(a);
  out[at + 1] = fmix(b ^ key.length);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

export class KeyBuckets {
  // Open addressing, linear probing. A slot is four numbers side by side (the key's two hashes, its
  // newest entry, its size), so a probe reads one cache line: with three arrays, a lookup in a
  // table of millions of keys waited on memory three times a probe.
  private slots: Int32Array;
  private mask: number;
  private keys = 0;
  // Entries as a linked list per bucket (newest first).
  private value: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private next: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private entries = 0;
  private readonly one = new Int32Array(2);

  constructor(slots = 1024) {
    let n = 16;
    while (n < slots) n *= 2;
    this.slots = new Int32Array(n * 4);
    this.mask = n - 1;
  }

  /** Distinct keys held. */
  get keyCount(): number {
    return this.keys;
  }

  /** The keys' hashes, two numbers a key, for addHashed() and forEachHashed(): each key hashed once. */
  static hashes(keys: readonly string[], out?: Int32Array): Int32Array {
    const h = out && out.length >= keys.length * 2 ? out : new Int32Array(Math.max(16, keys.length * 2));
    for (let i = 0; i < keys.length; i++) hashInto(keys[i] as string, h, i * 2);
    return h;
  }

  /** Adds `value` to the key's bucket unless it holds `cap` values already; false when full. */
  add(key: string, value: number, cap: number): boolean {
    const h = KeyBuckets.hashes([key], this.one);
    return this.addHashed(h[0] as number, h[1] as number, value, cap);
  }

  /** Calls `fn` with each value in the key's bucket. */
  forEach(key: string, fn: (value: number) => void): void {
    const h = KeyBuckets.hashes([key], this.one);
    this.forEachHashed(h[0] as number, h[1] as number, fn);
  }

  /** add() for the key whose hashes (from hashes()) are `a` and `b`. */
  addHashed(a: number, b: number, value: number, cap: number): boolean {
    let at = this.find(a, b);
    if (this.slots[at + HEAD] === NONE) {
      if ((this.keys + 1) * 4 > (this.mask + 1) * 3) {
        this.grow();
        at = this.find(a, b);
      }
      this.slots[at] = a;
      this.slots[at + 1] = b;
      this.keys++;
    } else if ((this.slots[at + SIZE] as number) >= cap) {
      return false;
    }
    if (this.entries === this.value.length) {
      this.value = resized(this.value, this.entries * 2);
      this.next = resized(this.next, this.entries * 2);
    }
    const e = this.entries++;
    this.value[e] = value;
    this.next[e] = this.slots[at + HEAD] as number;
    this.slots[at + HEAD] = e + 1;
    this.slots[at + SIZE] = (this.slots[at + SIZE] as number) + 1;
    return true;
  }

  /** forEach() for the key whose hashes are `a` and `b`. */
  forEachHashed(a: number, b: number, fn: (value: number) => void): void {
    for (let e = this.slots[this.find(a, b) + HEAD] as number; e !== NONE; e = this.next[e - 1] as number) fn(this.value[e - 1] as number);
  }

  /** Where the key's slot starts in `slots`, or where the empty slot it would take does. */
  private find(a: number, b: number): number {
    const s = this.slots;
    let slot = a & this.mask;
    for (;;) {
      const at = slot * 4;
      if (s[at + HEAD] === NONE || (s[at] === a && s[at + 1] === b)) return at;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Int32Array(n * 4);
    this.mask = n - 1;
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + HEAD] === NONE) continue;
      const to = this.find(old[at] as number, old[at + 1] as number);
      // Number by number: a subarray a slot was millions of objects for the collector.
      const s = this.slots;
      s[to] = old[at] as number;
      s[to + 1] = old[at + 1] as number;
      s[to + HEAD] = old[at + HEAD] as number;
      s[to + SIZE] = old[at + SIZE] as number;
    }
  }
}

/** A slot's newest entry and size, after its two hashes. */
const HEAD = 2;
const SIZE = 3;

function resized(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(n);
  out.set(a);
  return out;
}
