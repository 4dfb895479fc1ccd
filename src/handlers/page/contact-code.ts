// Verification codes for new phones and emails: sent once, kept only as a hash.
import crypto from 'node:crypto';
import type { ContactKind } from '../../domain/escalation';
import type { Tx } from '../../store/client';
import type { Outbox } from '../ports';

export const CONTACT_CODE_JOB = 'contact-code';
export const CODE_TTL_MS = 15 * 60_000;
export const MAX_CODE_ATTEMPTS = 5;

/** The payload of a contact-code job (registered by the paging engine; sent at most once). */
export interface ContactCodePayload {
  contactId: string;
  kind: Exclude<ContactKind, 'chat'>;
  /** Not queued any more (the job table is not encrypted): the job reads it from the method. */
  address?: string;
  text: string;
}

export function newCode(): string {
  return String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Bound to the method, so a code for one method cannot verify another. */
export function hashCode(contactId: string, code: string): string {
  return crypto.createHash('sha256').update(`${contactId}:${code}`).digest('hex');
}

export function codeMatches(contactId: string, code: string, hash: string): boolean {
  const a = Buffer.from(hashCode(contactId, code.trim()), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Queues the code's message in the caller's transaction (each new code is its own delivery). */
export async function sendContactCode(outbox: Outbox, tx: Tx, c: { id: string; kind: Exclude<ContactKind, 'chat'> }, code: string, now: Date): Promise<void> {
  const text = `Duty Desk: your verification code is ${code}. It expires in 15 minutes. If you did not ask for it, ignore this message.`;
  const payload: ContactCodePayload = { contactId: c.id, kind: c.kind, text };
  await outbox.schedule(tx, { kind: CONTACT_CODE_JOB, key: `contact:${c.id}:code:${hashCode(c.id, code).slice(0, 16)}`, dueAt: now, payload });
}
