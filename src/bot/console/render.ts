// Console text renderer: a pure function of the neutral reply model (and of where its attachments
// were saved, which index.ts decides).
import type { FormField, FormReply, MessageReply, Reply, ReplyAttachment } from '../../domain/reply';
import { plainTrusted } from '../slack/trusted';
import type { AttachmentOutcome } from './files';

/**
 * Text safe to print on a terminal: reply text may hold anything someone typed or imported, and
 * escape sequences would be obeyed by the terminal (clear the screen, rewrite a line, set the
 * clipboard, make a hidden link). Control characters other than line feed and tab are shown as
 * "�"; a CR LF pair is a line break. Sealed Slack markup shows as its plain text.
 */
export function terminalSafe(s: string): string {
  return plainTrusted(s)
    .replace(/\r\n/g, '\n')
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** Slack-style *bold* and `code` read fine as plain text; only strip what looks odd on a terminal. */
function plain(s: string): string {
  return s.replace(/\*([^*\n]+)\*/g, '$1');
}

/** 812 B, 12.3 KB, 4.5 MB (powers of 1024). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function attachmentLine(a: ReplyAttachment, f: AttachmentOutcome | undefined): string {
  const about = a.altText ?? a.title;
  if (!f) return `[attachment ${a.filename}${a.altText ? `: ${a.altText}` : ''}]`;
  if (f.saved) return `Saved ${f.shown} (${formatBytes(f.bytes)})${about ? `: ${about}` : ''}`;
  return `✗ Could not save ${f.name} in ${f.dir}: ${f.error}`;
}

/** `files[i]` is what became of `r.attachments[i]`; without it an attachment is only named. */
export function renderMessageText(r: MessageReply, files?: readonly AttachmentOutcome[]): string {
  const out: string[] = [];
  if (r.title) out.push(`${r.ok ? '' : '✗ '}${plain(r.title)}`);
  if (r.text) out.push(`${!r.ok && !r.title ? '✗ ' : ''}${plain(r.text)}`);
  if (r.fields?.length) {
    const w = Math.max(...r.fields.map((f) => f.label.length));
    for (const f of r.fields) out.push(`  ${f.label.padEnd(w)}  ${f.value}`);
  }
  for (const row of r.rows ?? []) {
    out.push(...plain(row.text).split('\n').map((l, i) => (i === 0 ? `• ${l}` : `  ${l}`)));
    for (const f of row.fields ?? []) out.push(`    ${f.label}: ${f.value}`);
    if (row.buttons?.length) out.push(`    → ${row.buttons.map((b) => b.command).join('  |  ')}`);
  }
  if (r.buttons?.length) out.push(`→ ${r.buttons.map((b) => `${b.label}: ${b.command}`).join('  |  ')}`);
  (r.attachments ?? []).forEach((a, i) => out.push(attachmentLine(a, files?.[i])));
  return out.join('\n');
}

export function describeField(f: FormField): string {
  const opts = f.options?.length ? ` (${f.options.map((o) => o.value).join(', ')})` : '';
  return `${f.name} — ${f.label}${f.required ? ', required' : ''}${opts}${f.help ? `. ${f.help}` : ''}`;
}

/** A form shown where nobody can fill it in (piped input): say what was missing. */
export function renderFormAsMissing(r: FormReply): string {
  const missing = r.form.fields.filter((f) => f.required && r.form.values?.[f.name] === undefined);
  const errors = Object.entries(r.form.errors ?? {});
  const lines = [`✗ ${r.form.title}: ${missing.length ? 'required fields are missing' : 'some fields need attention'}.`];
  for (const f of missing) lines.push(`  missing: ${describeField(f)}`);
  for (const [k, v] of errors) lines.push(`  ${k}: ${v}`);
  lines.push(`  Give them inline as key=value, e.g. ${missing.map((f) => `${f.name}=…`).join(' ') || 'field=value'}`);
  return lines.join('\n');
}

export function renderText(r: Reply, files?: readonly AttachmentOutcome[]): string {
  return terminalSafe(r.kind === 'message' ? renderMessageText(r, files) : renderFormAsMissing(r));
}

export interface JsonAttachment {
  filename: string;
  mimeType: string;
  bytes: number;
  title?: string;
  altText?: string;
  /** Absolute path of the saved file. */
  path?: string;
  /** Why it could not be saved. */
  error?: string;
}

function jsonAttachment(a: ReplyAttachment, f: AttachmentOutcome | undefined): JsonAttachment {
  return {
    filename: a.filename,
    mimeType: a.mimeType,
    bytes: a.content.length,
    ...(a.title !== undefined ? { title: a.title } : {}),
    ...(a.altText !== undefined ? { altText: a.altText } : {}),
    ...(f ? (f.saved ? { path: f.path } : { error: f.error }) : {}),
  };
}

/** --json: one line of the neutral reply model; attachments are described (name, type, size, saved path), not inlined. */
export function renderJson(r: Reply, files?: readonly AttachmentOutcome[]): string {
  // JSON escapes control characters itself; sealed markup is shown as its text here too.
  const text = (_key: string, v: unknown): unknown => (typeof v === 'string' ? plainTrusted(v) : v);
  if (r.kind !== 'message' || !r.attachments) return JSON.stringify(r, text);
  return JSON.stringify({ ...r, attachments: r.attachments.map((a, i) => jsonAttachment(a, files?.[i])) }, text);
}

export function isSuccess(r: Reply): boolean {
  return r.kind === 'message' && r.ok;
}
