// Small integers (people, by position) in buckets by string key, held in typed arrays: no object
// per key or per bucket. An import of 100,000 people builds ~3 million blocking keys; as a
// Map<string, number[]> they were several hundred megabytes of strings and arrays that every
// young-generation collection had to copy and the old one to mark.
//
// A key is kept as a 64-bit hash (two 32-bit hashes), never as the string. Two keys sharing a hash
// share a bucket: with 64 bits that needs about 2^32 keys to become likely, and its only effect
// would be one more pair scored by the caller, which compares the records themselves.

const EMPTY = -1;

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
  // Open addressing, linear probing: per slot the key's two hashes, its first entry and its size.
  private hashA: Int32Array;
  private hashB: Int32Array;
  private head: Int32Array;
  private size: Uint16Array;
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
    this.hashA = new Int32Array(n);
    this.hashB = new Int32Array(n);
    this.head = new Int32Array(n).fill(EMPTY);
    this.size = new Uint16Array(n);
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
    let slot = this.find(a, b);
    if (this.head[slot] === EMPTY) {
      if ((this.keys + 1) * 4 > (this.mask + 1) * 3) {
        this.grow();
        slot = this.find(a, b);
      }
      this.hashA[slot] = a;
      this.hashB[slot] = b;
      this.keys++;
    } else if ((this.size[slot] as number) >= cap) {
      return false;
    }
    if (this.entries === this.value.length) {
      this.value = resized(this.value, this.entries * 2);
      this.next = resized(this.next, this.entries * 2);
    }
    const e = this.entries++;
    this.value[e] = value;
    this.next[e] = this.head[slot] as number;
    this.head[slot] = e;
    this.size[slot] = (this.size[slot] as number) + 1;
    return true;
  }

  /** forEach() for the key whose hashes are `a` and `b`. */
  forEachHashed(a: number, b: number, fn: (value: number) => void): void {
    for (let e = this.head[this.find(a, b)] as number; e !== EMPTY; e = this.next[e] as number) fn(this.value[e] as number);
  }

  /** The key's slot, or the empty slot where it would go. */
  private find(a: number, b: number): number {
    let slot = a & this.mask;
    while (this.head[slot] !== EMPTY && (this.hashA[slot] !== a || this.hashB[slot] !== b)) slot = (slot + 1) & this.mask;
    return slot;
  }

  private grow(): void {
    const { hashA, hashB, head, size } = this;
    const n = (this.mask + 1) * 2;
    this.hashA = new Int32Array(n);
    this.hashB = new Int32Array(n);
    this.head = new Int32Array(n).fill(EMPTY);
    this.size = new Uint16Array(n);
    this.mask = n - 1;
    for (let s = 0; s < head.length; s++) {
      if (head[s] === EMPTY) continue;
      const slot = this.find(hashA[s] as number, hashB[s] as number);
      this.hashA[slot] = hashA[s] as number;
      this.hashB[slot] = hashB[s] as number;
      this.head[slot] = head[s] as number;
      this.size[slot] = size[s] as number;
    }
  }
}

function resized(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(n);
  out.set(a);
  return out;
}
