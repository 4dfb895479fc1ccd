import crypto from 'node:crypto';

// Random bytes drawn 16 KiB at a time: an import makes hundreds of thousands of ids.
const POOL = 16 * 1024;
let pool = Buffer.alloc(0);
let at = 0;

/** A random (v4) UUID: its first 8 characters are enough to name it (`/duty cover remove 1a2b3c4d`). */
export function newId(): string {
  return crypto.randomUUID();
}

/**
 * A UUIDv7 (RFC 9562): the time in milliseconds, then 74 random bits. Ids made one after another
 * sort one after another, so a primary key index grows at its end: with random ids an import's
 * every batch rewrote nearly every page of the indexes keyed by a person's id. The random part
 * keeps ids unguessable; the time they give away is the row's createdAt anyway. Not for ids shown
 * by their first characters: those are the time, shared by every id of the same minute.
 */
export function newTimeOrderedId(): string {
  if (at + 10 > pool.length) {
    pool = crypto.randomFillSync(Buffer.alloc(POOL));
    at = 0;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(Date.now(), 0, 6);
  pool.copy(b, 6, at, at + 10);
  at += 10;
  b[6] = ((b[6] as number) & 0x0f) | 0x70;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
