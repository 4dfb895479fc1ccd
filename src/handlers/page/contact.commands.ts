// A member's own contact methods for pages: /duty contact add|verify|edit|remove|list.
// Phones and emails are personal data: they appear in replies to their owner and in the audit,
// never in logs.
import { z } from 'zod/v4';
import { contactDelaySchema, findDuplicateContact, formatDuration, parseContactInput, type ContactKind, type ContactMethod } from '../../domain/escalation';
import type { Member } from '../../domain/member';
import { failure, message, type FormField, type MessageReply } from '../../domain/reply';
import type { ContactRecord } from '../../store/page.repository';
import type { Writer } from '../../store/store';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { CODE_TTL_MS, codeMatches, hashCode, MAX_CODE_ATTEMPTS, newCode, sendContactCode } from './contact-code';

/** A new code is not sent sooner than this after the last one: each costs an SMS or email. */
export const RESEND_AFTER_MS = 60_000;
/** Enough for chat, a phone and an email or two; a bound on what one member can make us send to. */
export const MAX_CONTACT_METHODS = 10;

const KIND_LABEL: Record<ContactKind, string> = { chat: 'Chat DM (Slack/Teams)', sms: 'SMS', email: 'Email' };

export function contactLabel(c: Pick<ContactMethod, 'kind' | 'address'>): string {
  return c.address ? `${KIND_LABEL[c.kind]} ${c.address}` : KIND_LABEL[c.kind];
}

function delayLabel(ms: number): string {
  return ms <= 0 ? 'at once' : `after ${formatDuration(ms)}`;
}

function codeState(c: ContactRecord, n: number, now: number): string {
  if (c.verified) return 'verified';
  if (c.codeHash && c.codeExpiresAt !== null && c.codeExpiresAt > now && c.codeAttempts < MAX_CODE_ATTEMPTS) {
    return `not verified (enter the code with /duty contact verify ${n} <code>)`;
  }
  return `not verified (get a new code with /duty contact verify ${n})`;
}

export function contactLine(c: ContactRecord, n: number, now: number): string {
  return `${n}. ${contactLabel(c)} — ${delayLabel(c.delayMs)} — ${codeState(c, n, now)}`;
}

function me(ctx: HandlerContext): Member {
  // Every contact command is for registered members; the dispatcher has checked.
  if (!ctx.actor) throw new CommandError('NOT_REGISTERED', 'You are not registered with Duty Desk.');
  return ctx.actor;
}

/**
 * Runs one change to the caller's contact methods with them locked and re-read, so two quick
 * adds cannot both pass the duplicate check and two wrong codes at once are both counted.
 * SQLite already runs write transactions one at a time.
 */
async function withContacts<T>(ctx: HandlerContext, fn: (w: Writer, member: Member, contacts: ContactRecord[]) => Promise<T>): Promise<T> {
  const member = me(ctx);
  return ctx.store.change(ctx.meta, async (w) => {
    if (ctx.store.provider === 'postgresql') await w.tx.$queryRaw`SELECT "id" FROM "Member" WHERE "id" = ${member.id} FOR UPDATE`;
    return fn(w, member, await ctx.store.pages.contacts(member.id, w.tx));
  });
}

function pick(contacts: ContactRecord[], n: number): ContactRecord {
  const c = contacts[n - 1];
  if (c) return c;
  const text = contacts.length
    ? `You have no contact method ${n}; yours are numbered 1 to ${contacts.length} (/duty contact list).`
    : 'You have no contact methods yet; add one with /duty contact add chat|sms|email.';
  throw new CommandError('UNKNOWN_CONTACT', text, { n: contacts.length ? `1 to ${contacts.length}` : 'you have none' });
}

function channelReady(ctx: HandlerContext, kind: ContactKind): void {
  if (kind === 'sms' && !ctx.settings.channels?.sms) {
    throw new CommandError('CHANNEL_OFF', 'SMS is not set up on this Duty Desk (SMS_WEBHOOK_URL); ask an admin, or use chat or email.', { kind: 'SMS is not set up' });
  }
  if (kind === 'email' && !ctx.settings.channels?.email) {
    throw new CommandError('CHANNEL_OFF', 'Email is not set up on this Duty Desk (SMTP_URL); ask an admin, or use chat or SMS.', { kind: 'email is not set up' });
  }
}

/** A fresh code on the method and its message queued, in the caller's transaction. */
async function issueCode(ctx: HandlerContext, w: Writer, c: ContactRecord): Promise<void> {
  if (c.kind === 'chat' || c.address === null) throw new Error(`contact ${c.id}: a ${c.kind} method takes no code`);
  const code = newCode();
  await ctx.store.pages.updateContact(w.tx, c.id, { codeHash: hashCode(c.id, code), codeExpiresAt: new Date(ctx.now.getTime() + CODE_TTL_MS), codeAttempts: 0 });
  await sendContactCode(ctx.outbox, w.tx, { id: c.id, kind: c.kind }, code, ctx.now);
  await w.audit('contact', c.id, 'send-code', { codeAttempts: c.codeAttempts }, { codeExpiresAt: new Date(ctx.now.getTime() + CODE_TTL_MS).toISOString(), codeAttempts: 0 });
}

function codeSentText(c: ContactRecord, n: number): string {
  const where = c.kind === 'sms' ? `by SMS to ${c.address ?? ''}` : `by email to ${c.address ?? ''}`;
  return `A 6-digit code is on its way ${where}; it expires in ${formatDuration(CODE_TTL_MS)}. Enter it with /duty contact verify ${n} <code>. Until then pages do not use this method.`;
}

/** The note under a list or a change when nothing verified is left to page the member with. */
function reachNote(contacts: ContactRecord[]): string | undefined {
  if (contacts.length === 0) return 'You have no contact methods: pages reach you by chat DM (Slack/Teams) at once.';
  if (!contacts.some((c) => c.verified)) return 'None of your contact methods is verified yet, so pages cannot reach you: verify one, or add chat with /duty contact add chat.';
  return undefined;
}

const nSchema = z
  .string({ error: 'give the number of the method, as /duty contact list shows it' })
  .trim()
  .regex(/^\d{1,3}$/, { error: 'the number of the method, as /duty contact list shows it, e.g. 2' })
  .transform(Number);

const addFields: FormField[] = [
  {
    name: 'kind',
    label: 'Method',
    type: 'select',
    required: true,
    options: [
      { value: 'chat', label: 'Chat DM (Slack/Teams)' },
      { value: 'sms', label: 'SMS' },
      { value: 'email', label: 'Email' },
    ],
  },
  { name: 'address', label: 'Phone or email', type: 'text', required: false, help: 'Phone in international form (+44 20 7946 0000) or an email address; empty for chat' },
  { name: 'after', label: 'Use it after', type: 'text', required: false, placeholder: 'now', help: 'How long after a page reaches you to try this method, e.g. now, 2m, 5m' },
];

export const contactAddCommand = defineCommand({
  key: 'duty contact add',
  summary: 'add a way pages reach you: chat, SMS or email, at once or after a delay',
  usage: '/duty contact add <chat|sms|email> [phone or email] [after=2m]',
  allowed: 'any-member',
  positional: ['kind'],
  // A phone typed with spaces (+44 20 7946 0000) arrives as several words.
  rest: 'address',
  form: { title: 'Add a contact method', submitLabel: 'Add', fields: addFields },
  input: z
    .strictObject({
      kind: z.string({ error: 'name the method: chat, sms or email' }).trim().max(20, { error: 'chat, sms or email' }),
      address: z.string().trim().max(200, { error: 'at most 200 characters' }).optional(),
      after: z.string().trim().max(40, { error: 'a delay such as 2m' }).optional(),
    })
    .transform((v, zctx) => {
      const r = parseContactInput(v.kind, v.address, v.after);
      if (r.ok) return r.method;
      zctx.addIssue({ code: 'custom', path: [r.field], message: r.error.replace(/^after: /, '') });
      return z.NEVER;
    }),
  async run(ctx, method) {
    channelReady(ctx, method.kind);
    const { added, n } = await withContacts(ctx, async (w, member, contacts) => {
      const dup = findDuplicateContact(contacts, method);
      if (dup) {
        const field = method.kind === 'chat' ? 'kind' : 'address';
        throw new CommandError('DUPLICATE_CONTACT', `You already have ${contactLabel(dup)} as method ${contacts.indexOf(dup) + 1}; change its delay with /duty contact edit ${contacts.indexOf(dup) + 1} after=…`, {
          [field]: 'you already have this one',
        });
      }
      if (contacts.length >= MAX_CONTACT_METHODS) {
        throw new CommandError('TOO_MANY_CONTACTS', `You have ${contacts.length} contact methods, the most there can be; remove one first (/duty contact remove <n>).`, { kind: 'too many methods' });
      }
      const c = await ctx.store.pages.addContact(w, {
        memberId: member.id,
        kind: method.kind,
        address: method.address,
        delayMs: method.delayMs,
        verifiedAt: method.kind === 'chat' ? ctx.now : null,
        codeHash: null,
        codeExpiresAt: null,
      });
      // The hash is bound to the method's id, known only once it exists.
      if (method.kind !== 'chat') await issueCode(ctx, w, c);
      return { added: c, n: contacts.length + 1 };
    });
    const line = `${n}. ${contactLabel(added)} — ${delayLabel(added.delayMs)}`;
    if (added.kind === 'chat') return message({ title: 'Contact method added', text: `${line} — verified. Pages reach you by chat DM ${delayLabel(added.delayMs)}.` });
    return message({ title: 'Contact method added', text: `${line} — not verified yet.\n${codeSentText(added, n)}` });
  },
});

export const contactVerifyCommand = defineCommand({
  key: 'duty contact verify',
  summary: 'verify a phone or email with the code sent to it (no code: send a new one)',
  usage: '/duty contact verify <n> [code]',
  allowed: 'any-member',
  positional: ['n', 'code'],
  input: z.strictObject({
    n: nSchema,
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, { error: 'the code is the 6 digits sent to you' })
      .optional(),
  }),
  async run(ctx, { n, code }) {
    const now = ctx.now.getTime();
    return withContacts(ctx, async (w, _member, contacts): Promise<MessageReply> => {
      const c = pick(contacts, n);
      if (c.verified) return message({ text: `${n}. ${contactLabel(c)} is already verified; nothing changed.` });
      if (code === undefined) {
        channelReady(ctx, c.kind);
        const sentAt = c.codeExpiresAt !== null ? c.codeExpiresAt - CODE_TTL_MS : null;
        if (c.codeHash && sentAt !== null && now - sentAt < RESEND_AFTER_MS) {
          const wait = Math.ceil((RESEND_AFTER_MS - (now - sentAt)) / 1000);
          return failure('CODE_JUST_SENT', `A code was sent to ${c.address ?? 'it'} less than a minute ago; it can take a moment to arrive. To get another, try again in ${wait} s.`);
        }
        await issueCode(ctx, w, c);
        return message({ title: 'New code sent', text: codeSentText(c, n) });
      }
      const again = `Get a new code with /duty contact verify ${n}.`;
      if (c.codeAttempts >= MAX_CODE_ATTEMPTS) {
        return failure('CODE_DEAD', `Too many wrong tries: that code no longer works. ${again}`, { code: 'too many wrong tries' });
      }
      if (!c.codeHash || c.codeExpiresAt === null) return failure('NO_CODE', `No code is waiting for ${contactLabel(c)}. ${again}`, { code: 'no code waiting' });
      if (c.codeExpiresAt <= now) {
        return failure('CODE_EXPIRED', `That code has expired (codes last ${formatDuration(CODE_TTL_MS)}). ${again}`, { code: 'expired' });
      }
      if (!codeMatches(c.id, code, c.codeHash)) {
        const attempts = c.codeAttempts + 1;
        const left = MAX_CODE_ATTEMPTS - attempts;
        // The last wrong try kills the code: guessing goes no further than MAX_CODE_ATTEMPTS.
        await ctx.store.pages.updateContact(w.tx, c.id, left > 0 ? { codeAttempts: attempts } : { codeAttempts: attempts, codeHash: null, codeExpiresAt: null });
        await w.audit('contact', c.id, 'verify-failed', { codeAttempts: c.codeAttempts }, { codeAttempts: attempts });
        return left > 0
          ? failure('WRONG_CODE', `That is not the code; ${left} ${left === 1 ? 'try' : 'tries'} left.`, { code: 'wrong code' })
          : failure('CODE_DEAD', `That is not the code, and that was the last try: the code no longer works. ${again}`, { code: 'too many wrong tries' });
      }
      await ctx.store.pages.updateContact(w.tx, c.id, { verifiedAt: ctx.now, codeHash: null, codeExpiresAt: null, codeAttempts: 0 });
      await w.audit('contact', c.id, 'verify', { verified: false }, { verified: true });
      return message({ title: 'Verified', text: `${n}. ${contactLabel(c)} — ${delayLabel(c.delayMs)} — verified. Pages will use it.` });
    });
  },
});

export const contactEditCommand = defineCommand({
  key: 'duty contact edit',
  summary: 'change when one of your contact methods is used',
  usage: '/duty contact edit <n> after=<delay>',
  allowed: 'any-member',
  positional: ['n'],
  input: z.strictObject({
    n: nSchema,
    after: z.string({ error: 'after=<delay> is required, e.g. after=2m or after=now' }).pipe(contactDelaySchema),
  }),
  async run(ctx, { n, after }) {
    return withContacts(ctx, async (w, _member, contacts) => {
      const c = pick(contacts, n);
      if (c.delayMs === after) return message({ text: `${n}. ${contactLabel(c)} is already used ${delayLabel(after)}; nothing changed.` });
      const updated = await ctx.store.pages.updateContact(w.tx, c.id, { delayMs: after });
      await w.audit('contact', c.id, 'update', { delayMs: c.delayMs }, { delayMs: updated.delayMs });
      return message({ title: 'Contact method changed', text: contactLine(updated, n, ctx.now.getTime()) });
    });
  },
});

export const contactRemoveCommand = defineCommand({
  key: 'duty contact remove',
  summary: 'remove one of your contact methods',
  usage: '/duty contact remove <n>',
  allowed: 'any-member',
  positional: ['n'],
  input: z.strictObject({ n: nSchema }),
  async run(ctx, { n }) {
    const { removed, rest } = await withContacts(ctx, async (w, _member, contacts) => {
      const c = pick(contacts, n);
      await ctx.store.pages.removeContact(w, c);
      // The others keep their positions; numbers are their order, so they close up by themselves.
      return { removed: c, rest: contacts.filter((x) => x.id !== c.id) };
    });
    const now = ctx.now.getTime();
    return message({
      title: 'Contact method removed',
      text: [`Removed ${contactLabel(removed)}.`, reachNote(rest)].filter(Boolean).join('\n'),
      rows: rest.map((c, i) => ({ text: contactLine(c, i + 1, now) })),
    });
  },
});

export const contactListCommand = defineCommand({
  key: 'duty contact list',
  summary: 'how pages reach you',
  usage: '/duty contact list',
  allowed: 'any-member',
  input: z.strictObject({}),
  async run(ctx) {
    const contacts = await ctx.store.pages.contacts(me(ctx).id);
    const now = ctx.now.getTime();
    const lines = contacts.map((c, i) => contactLine(c, i + 1, now));
    return message({
      title: 'Your contact methods',
      text: reachNote(contacts) ?? 'Pages try each verified method at its time, until you acknowledge.',
      rows: lines.map((text) => ({ text })),
      fallback: lines.join('\n') || 'No contact methods: pages reach you by chat DM at once.',
    });
  },
});
