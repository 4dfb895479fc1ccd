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

/**
 * Receives keys piece by piece: begun, fed strings (or parts of strings), ended. A key's maker
 * (blocking keys) writes to a sink that builds strings, or to one that hashes as it goes
 * (KeyHashes), so the import makes millions of keys without building any.
 */
export interface KeySink {
  begin(): void;
  /** `s` from `from` to before `to` (the whole string by default). */
  str(s: string, from?: number, to?: number): void;
  /** `strong`: the key nearly identifies a person alone (the caller's meaning). */
  end(strong: boolean): void;
}

const SEED_A = 0x811c9dc5;
const SEED_B = 0x9747b28c;

/**
 * The distinct keys' two 32-bit hashes (FNV-1a and a murmur-style mix, each finalised), in the
 * order first made, and whether each is strong: `hash[2i]`, `hash[2i + 1]`, `strong[i]` for i below
 * `count`. Cleared and refilled per record: no allocation a key.
 */
export class KeyHashes implements KeySink {
  hash = new Int32Array(128);
  strong = new Uint8Array(64);
  count = 0;
  private a = SEED_A;
  private b = SEED_B;
  private length = 0;

  clear(): this {
    this.count = 0;
    return this;
  }

  begin(): void {
    this.a = SEED_A;
    this.b = SEED_B;
    this.length = 0;
  }

  str(s: string, from = 0, to = s.length): void {
    let a = this.a;
    let b = this.b;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    this.a = a;
    this.b = b;
    this.length += to - from;
  }

  /** Keeps the key unless an earlier one had the same hashes (a record makes a few dozen: a scan is enough). */
  end(strong: boolean): void {
    const a = fmix(this.a);
    const b = fmix(this.b ^ this.length);
    const h = this.hash;
    for (let i = 0; i < this.count; i++) if (h[i * 2] === a && h[i * 2 + 1] === b) return;
    if (this.count === this.strong.length) {
      this.hash = resized(this.hash, this.hash.length * 2);
      const st = new Uint8Array(this.strong.length * 2);
      st.set(this.strong);
      this.strong = st;
    }
    this.hash[this.count * 2] = a;
    this.hash[this.count * 2 + 1] = b;
    this.strong[this.count] = strong ? 1 : 0;
    this.count++;
  }

  /** Each key whole. */
  static of(keys: readonly string[], strong = false): KeyHashes {
    const out = new KeyHashes();
    for (const k of keys) {
      out.begin();
      out.str(k);
      out.end(strong);
    }
    return out;
  }
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

  /** Adds `value` to the key's bucket unless it holds `cap` values already; false when full. */
  add(key: string, value: number, cap: number): boolean {
    const h = KeyHashes.of([key]).hash;
    return this.addHashed(h[0] as number, h[1] as number, value, cap);
  }

  /** Calls `fn` with each value in the key's bucket. */
  forEach(key: string, fn: (value: number) => void): void {
    const h = KeyHashes.of([key]).hash;
    this.forEachHashed(h[0] as number, h[1] as number, fn);
  }

  /** add() for the key whose hashes (from KeyHashes) are `a` and `b`. */
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
    for (let e = this.firstEntry(a, b); e !== NONE; e = this.nextEntry(e)) fn(this.entryValue(e));
  }

  /**
   * The newest entry in the bucket of the key whose hashes are `a` and `b`; 0 when there is none.
   * With nextEntry() and entryValue(), a walk without a callback (the import walks millions of buckets).
   */
  firstEntry(a: number, b: number): number {
    return this.slots[this.find(a, b) + HEAD] as number;
  }

  /** The entry after `e` in its bucket; 0 at the end. */
  nextEntry(e: number): number {
    return this.next[e - 1] as number;
  }

  entryValue(e: number): number {
    return this.value[e - 1] as number;
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
