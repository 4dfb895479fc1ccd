// Console text renderer: a pure function of the neutral reply model.
import type { FormField, FormReply, MessageReply, Reply } from '../../domain/reply';

/** Slack-style *bold* and `code` read fine as plain text; only strip what looks odd on a terminal. */
function plain(s: string): string {
  return s.replace(/\*([^*\n]+)\*/g, '$1');
}

export function renderMessageText(r: MessageReply): string {
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
  for (const a of r.attachments ?? []) out.push(`[attachment ${a.filename}${a.altText ? `: ${a.altText}` : ''}]`);
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

export function renderText(r: Reply): string {
  return r.kind === 'message' ? renderMessageText(r) : renderFormAsMissing(r);
}

/** --json: one line of the neutral reply model; files as base64. */
export function renderJson(r: Reply): string {
  return JSON.stringify(r, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
}

export function isSuccess(r: Reply): boolean {
  return r.kind === 'message' && r.ok;
}
