// Encryption at rest for the most sensitive personal fields, and blind indexes so that exact-match
// search on passport, phone and email keeps working.
//
// A value is stored as `enc:v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts): AES-256-GCM with a
// random 96-bit IV per value, and the table, column and row id as additional authenticated data,
// so a ciphertext copied to another row or column fails to decrypt instead of showing the wrong
// person's data. A value without the prefix is plaintext (written before a key was configured) and
// is read as such until `npm run keys:rotate` encrypts it.
//
// Blind index: HMAC-SHA256 of the normalised value under a key derived (HKDF) from the data key,
// truncated to 128 bits. Search computes it under every readable key, so rows not yet rotated
// still match. 128 bits is safe: the key is secret, so nobody without it can test guesses against
// the column, and an accidental collision needs ~2^64 values; a collision would only add a
// candidate, which callers compare on the decrypted value anyway.
import crypto from 'node:crypto';
import { normalisePassport } from '../domain/person';

export const SEALED_PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Hex characters kept of a blind index (16 bytes). */
const INDEX_HEX = 32;
/** The byte form (import files): this magic, the key id's length and id, IV, tag, ciphertext. */
const BYTES_MAGIC = Buffer.from('ENC1');

export interface DataKey {
  id: string;
  key: Buffer;
}

/** `<keyId>:<base64 of 32 bytes>`, or the base64 alone (key id "k1"). A string is the problem. */
export function parseDataKey(spec: string): DataKey | string {
  const s = spec.trim();
  const colon = s.indexOf(':');
  const id = colon >= 0 ? s.slice(0, colon) : 'k1';
  const b64 = colon >= 0 ? s.slice(colon + 1) : s;
  if (!KEY_ID.test(id)) return 'a key id is 1 to 32 letters, digits, "-" or "_"';
  if (!BASE64.test(b64)) return 'expected <keyId>:<base64 of 32 random bytes> (openssl rand -base64 32)';
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) return `a key is 32 bytes; this one is ${key.length} (openssl rand -base64 32)`;
  return { id, key };
}

/** Where a value lives: its authenticated context. */
export interface FieldAt {
  table: string;
  column: string;
  id: string;
}

function aadOf(at: FieldAt): Buffer {
  return Buffer.from(`${at.table}.${at.column}/${at.id}`, 'utf8');
}

function placeOf(at: FieldAt): string {
  return `${at.table}.${at.column} of ${at.id}`;
}

/** A stored value that cannot be read: tampered with, moved from another row or column, or under a key not configured. */
export class FieldDecryptError extends Error {
  override readonly name = 'FieldDecryptError';
}

export type IdentifierKind = 'passport' | 'phone' | 'email';

/** The form identifiers are matched in: passport letters and digits upper case, phone digits, email lower case. */
export function normaliseIdentifier(kind: IdentifierKind, value: string): string {
  if (kind === 'passport') return normalisePassport(value);
  if (kind === 'phone') return value.replace(/\D/g, '');
  return value.trim().toLowerCase();
}

// IVs come from a pooled buffer: one randomFillSync per 4,096 values instead of one call each
// (an import encrypts several hundred thousand values).
const IV_POOL = 4096;
let ivPool = Buffer.alloc(0);
let ivAt = 0;
function nextIv(): Buffer {
  if (ivAt + IV_BYTES > ivPool.length) {
    ivPool = crypto.randomFillSync(Buffer.alloc(IV_BYTES * IV_POOL));
    ivAt = 0;
  }
  const iv = ivPool.subarray(ivAt, ivAt + IV_BYTES);
  ivAt += IV_BYTES;
  return iv;
}

/**
 * A cipher's keys as KeyObjects: posted to a worker thread, they arrive as KeyObjects there (the
 * bytes never pass through a JavaScript value), so the import's writer thread seals as we do.
 */
export interface SharedCipher {
  readonly current: string | null;
  readonly keys: ReadonlyMap<string, { readonly key: crypto.KeyObject; readonly index: crypto.KeyObject }>;
}

export class FieldCipher {
  /** The id of the key new values are written under; null: none configured, values are stored in clear. */
  readonly current: { readonly id: string } | null;
  // KeyObjects: OpenSSL gets the key without a copy per value (measurably cheaper per call).
  private readonly keys = new Map<string, crypto.KeyObject>();
  private readonly indexKeys = new Map<string, crypto.KeyObject>();
  private readonly currentKey: crypto.KeyObject | null;

  constructor(current: DataKey | SharedCipher | null, old: readonly DataKey[] = []) {
    if (current && 'keys' in current) {
      for (const [id, k] of current.keys) {
        this.keys.set(id, k.key);
        this.indexKeys.set(id, k.index);
      }
      this.current = current.current === null ? null : { id: current.current };
      this.currentKey = current.current === null ? null : (this.keys.get(current.current) ?? null);
      return;
    }
    // Only the id is kept in the open; the key bytes live in KeyObjects, which print and serialise as nothing.
    this.current = current ? { id: current.id } : null;
    for (const k of [...(current ? [current] : []), ...old]) {
      if (this.keys.has(k.id)) continue;
      this.keys.set(k.id, crypto.createSecretKey(k.key));
      this.indexKeys.set(k.id, crypto.createSecretKey(Buffer.from(crypto.hkdfSync('sha256', k.key, Buffer.alloc(0), 'duty-desk blind index v1', 32))));
    }
    this.currentKey = current ? (this.keys.get(current.id) as crypto.KeyObject) : null;
  }

  /** The keys, to build the same cipher on a worker thread (`new FieldCipher(shared)`). */
  shared(): SharedCipher {
    return { current: this.current?.id ?? null, keys: new Map([...this.keys].map(([id, key]) => [id, { key, index: this.indexKeys.get(id) as crypto.KeyObject }])) };
  }

  /** No key: values are stored and read in clear (development). */
  static plaintext(): FieldCipher {
    return new FieldCipher(null);
  }

  get enabled(): boolean {
    return this.current !== null;
  }

  /** Ids of every key that can be read: the current one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** The key a stored value is under; null for plaintext. */
  keyOf(stored: string): string | null {
    if (!stored.startsWith(SEALED_PREFIX)) return null;
    const end = stored.indexOf(':', SEALED_PREFIX.length);
    return end < 0 ? '' : stored.slice(SEALED_PREFIX.length, end);
  }

  /** True when the value is as this cipher would write it now: under the current key (or in clear when there is none). */
  isCurrent(stored: string | null): boolean {
    if (stored === null) return true;
    const k = this.keyOf(stored);
    return this.current ? k === this.current.id : k === null;
  }

  seal(value: string, at: FieldAt): string {
    if (!this.current || !this.currentKey) return value;
    const iv = nextIv();
    const c = crypto.createCipheriv('aes-256-gcm', this.currentKey, iv);
    c.setAAD(aadOf(at));
    // Base64 straight out of the cipher (final() flushes the last bytes): no buffers to join.
    const body = c.update(value, 'utf8', 'base64') + c.final('base64');
    return `${SEALED_PREFIX}${this.current.id}:${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${body}`;
  }

  sealOrNull(value: string | null, at: FieldAt): string | null {
    return value === null ? null : this.seal(value, at);
  }

  open(stored: string, at: FieldAt): string {
    const keyId = this.keyOf(stored);
    if (keyId === null) return stored;
    const parts = stored.slice(SEALED_PREFIX.length).split(':');
    if (parts.length !== 4) throw new FieldDecryptError(`${placeOf(at)} is not a well-formed encrypted value`);
    const [, ivText, tagText, bodyText] = parts as [string, string, string, string];
    const key = this.keyFor(keyId, at);
    const iv = Buffer.from(ivText, 'base64');
    const tag = Buffer.from(tagText, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new FieldDecryptError(`${placeOf(at)} is not a well-formed encrypted value`);
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(aadOf(at));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(Buffer.from(bodyText, 'base64')), d.final()]).toString('utf8');
    } catch {
      throw new FieldDecryptError(`${placeOf(at)} does not decrypt under key ${keyId}: the stored value was altered or belongs to another row or column`);
    }
  }

  openOrNull(stored: string | null, at: FieldAt): string | null {
    return stored === null ? null : this.open(stored, at);
  }

  /** Bytes (an uploaded file): the same scheme, binary. Without a key, unchanged. */
  sealBytes(value: Uint8Array, at: FieldAt): Uint8Array {
    if (!this.current || !this.currentKey) return value;
    const iv = nextIv();
    const c = crypto.createCipheriv('aes-256-gcm', this.currentKey, iv);
    c.setAAD(aadOf(at));
    const body = Buffer.concat([c.update(value), c.final()]);
    const id = Buffer.from(this.current.id, 'utf8');
    return Buffer.concat([BYTES_MAGIC, Buffer.from([id.length]), id, iv, c.getAuthTag(), body]);
  }

  /** The key id of sealed bytes; null when they are in clear. */
  keyOfBytes(stored: Uint8Array): string | null {
    const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    if (b.length < BYTES_MAGIC.length + 1 || !b.subarray(0, BYTES_MAGIC.length).equals(BYTES_MAGIC)) return null;
    const n = b[BYTES_MAGIC.length] as number;
    return b.subarray(BYTES_MAGIC.length + 1, BYTES_MAGIC.length + 1 + n).toString('utf8');
  }

  openBytes(stored: Uint8Array, at: FieldAt): Buffer {
    const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const keyId = this.keyOfBytes(b);
    if (keyId === null) return b;
    const start = BYTES_MAGIC.length + 1 + Buffer.byteLength(keyId);
    if (b.length < start + IV_BYTES + TAG_BYTES) throw new FieldDecryptError(`${placeOf(at)} is not a well-formed encrypted value`);
    const key = this.keyFor(keyId, at);
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, b.subarray(start, start + IV_BYTES));
      d.setAAD(aadOf(at));
      d.setAuthTag(b.subarray(start + IV_BYTES, start + IV_BYTES + TAG_BYTES));
      return Buffer.concat([d.update(b.subarray(start + IV_BYTES + TAG_BYTES)), d.final()]);
    } catch {
      throw new FieldDecryptError(`${placeOf(at)} does not decrypt under key ${keyId}: the stored value was altered or belongs to another row or column`);
    }
  }

  /** The blind index of an identifier under the current key; null without a key or a value. */
  blindIndex(kind: IdentifierKind, value: string | null): string | null {
    if (!this.current || value === null) return null;
    return this.indexUnder(this.current.id, kind, value);
  }

  /** The blind index under every readable key: what a search matches (rows not yet rotated included). */
  blindIndexes(kind: IdentifierKind, value: string): string[] {
    const out: string[] = [];
    for (const id of this.indexKeys.keys()) {
      const h = this.indexUnder(id, kind, value);
      if (h !== null) out.push(h);
    }
    return out;
  }

  private indexUnder(keyId: string, kind: IdentifierKind, value: string): string | null {
    const norm = normaliseIdentifier(kind, value);
    if (norm === '') return null;
    const key = this.indexKeys.get(keyId) as crypto.KeyObject;
    // The kind is hashed in so one value in two roles (a phone-like passport) gives two indexes.
    return crypto.createHmac('sha256', key).update(`${kind}\0${norm}`, 'utf8').digest('hex').slice(0, INDEX_HEX);
  }

  private keyFor(keyId: string, at: FieldAt): crypto.KeyObject {
    const key = this.keys.get(keyId);
    if (key) return key;
    if (!this.current) throw new FieldDecryptError(`${placeOf(at)} is encrypted (key ${keyId}) but DATA_ENCRYPTION_KEY is not set`);
    throw new FieldDecryptError(`${placeOf(at)} is encrypted under key ${keyId}, which is neither DATA_ENCRYPTION_KEY nor in DATA_ENCRYPTION_OLD_KEYS`);
  }
}

/**
 * Seals the listed columns of a row (those present and not null) for row `id` of `table`. Other
 * properties are copied as they are.
 */
export function sealColumns<T extends object>(cipher: FieldCipher, table: string, id: string, row: T, columns: readonly string[]): T {
  if (!cipher.enabled) return row;
  const out = { ...row } as Record<string, unknown>;
  for (const column of columns) {
    const v = out[column];
    if (typeof v === 'string') out[column] = cipher.seal(v, { table, column, id });
  }
  return out as T;
}

/**
 * How rows of a table, as arrays in column order, are sealed: the columns sealed (bound to the
 * row's id), and the identifiers whose blind index goes into another column.
 */
export interface RowSealing {
  readonly table: string;
  readonly idColumn: number;
  readonly sealed: readonly { readonly index: number; readonly column: string }[];
  readonly blind: readonly { readonly kind: IdentifierKind; readonly from: number; readonly to: number }[];
}

export function rowSealing(table: string, columns: readonly string[], sealed: readonly string[], blind: readonly { kind: IdentifierKind; column: string; hash: string }[] = []): RowSealing {
  const at = (c: string): number => {
    const i = columns.indexOf(c);
    if (i < 0) throw new Error(`${table} rows have no column ${c}`);
    return i;
  };
  return {
    table,
    idColumn: at('id'),
    sealed: sealed.filter((c) => columns.includes(c)).map((column) => ({ index: at(column), column })),
    blind: blind.filter((b) => columns.includes(b.column) && columns.includes(b.hash)).map((b) => ({ kind: b.kind, from: at(b.column), to: at(b.hash) })),
  };
}

/**
 * The row with its blind indexes (of the values in clear) and its sealed columns, in clear without
 * a key: a copy, or `into` (the row itself, to seal it in place: the blind indexes are made first).
 */
export function sealRow<V>(cipher: FieldCipher, how: RowSealing, row: readonly (V | string | null)[], into?: (V | string | null)[]): (V | string | null)[] {
  const out = into ?? [...row];
  if (!cipher.enabled) return out;
  indexRow(cipher, how, row, out);
  const id = String(row[how.idColumn]);
  for (const s of how.sealed) {
    const v = row[s.index];
    if (typeof v === 'string') out[s.index] = cipher.seal(v, { table: how.table, column: s.column, id });
  }
  return out;
}

/** The blind indexes of a row in clear, into `out` (the row itself by default); nothing without a key. */
export function indexRow<V>(cipher: FieldCipher, how: RowSealing, row: readonly (V | string | null)[], out = row as (V | string | null)[]): void {
  if (!cipher.enabled) return;
  for (const b of how.blind) {
    const v = row[b.from];
    out[b.to] = typeof v === 'string' ? cipher.blindIndex(b.kind, v) : null;
  }
}

/** The same sealing without the blind indexes: for rows whose indexes were made already (indexRow()). */
export function sealedOnly(how: RowSealing): RowSealing {
  return { ...how, blind: [] };
}

/** Opens the listed columns of a row read from `table` (those present as strings). */
export function openColumns<T extends { id: string }>(cipher: FieldCipher, table: string, row: T, columns: readonly string[]): T {
  const out = { ...row } as Record<string, unknown>;
  for (const column of columns) {
    const v = out[column];
    if (typeof v === 'string' && v.startsWith(SEALED_PREFIX)) out[column] = cipher.open(v, { table, column, id: row.id });
  }
  return out as T;
}

/** The configuration's keys as a cipher; without a key, says so once and stores in clear. */
export function cipherFromSettings(s: { DATA_ENCRYPTION_KEY?: string | undefined; DATA_ENCRYPTION_OLD_KEYS?: readonly string[] }, warn?: (msg: string) => void): FieldCipher {
  const parse = (spec: string): DataKey => {
    const k = parseDataKey(spec);
    if (typeof k === 'string') throw new Error(`invalid data key: ${k}`);
    return k;
  };
  const old = (s.DATA_ENCRYPTION_OLD_KEYS ?? []).map(parse);
  if (!s.DATA_ENCRYPTION_KEY) {
    warn?.('DATA_ENCRYPTION_KEY is not set: personal data is stored unencrypted (development only; production refuses to start without it)');
    return new FieldCipher(null, old);
  }
  return new FieldCipher(parse(s.DATA_ENCRYPTION_KEY), old);
}
