// The console adapter: the same commands as chat, typed on a terminal or piped from a script.
import crypto from 'node:crypto';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Caller, Invocation } from '../../domain/invocation';
import type { FormField, FormReply, FormValue, Reply } from '../../domain/reply';
import type { Dispatcher } from '../../handlers/ports';
import { saveAttachment, type AttachmentOutcome } from './files';
import { describeField, isSuccess, renderJson, renderText } from './render';

export interface ConsoleOptions {
  dispatcher: Dispatcher;
  input: Readable;
  output: Writable;
  /** Interactive: prompts, and forms become field-by-field questions. */
  interactive: boolean;
  json: boolean;
  as: string;
  /** Where reply attachments are written (created when the first one arrives); default: the working directory. */
  outDir?: string;
}

function invocation(caller: Caller, body: { kind: 'command'; text: string } | { kind: 'form'; command: string; values: Record<string, FormValue | undefined>; context?: string }): Invocation {
  return { ...body, caller, origin: {}, requestId: crypto.randomUUID() } as Invocation;
}

function parseAnswer(f: FormField, answer: string): FormValue | undefined {
  const a = answer.trim();
  if (a === '') return undefined;
  if (f.type === 'multiSelect') return a.split(',').map((s) => s.trim()).filter(Boolean);
  if (f.type === 'checkbox') return /^(y|yes|true|1)$/i.test(a);
  return a;
}

/** Runs until end of input; resolves to the exit status (0 when every command succeeded). */
export async function runConsole(opts: ConsoleOptions): Promise<number> {
  const caller: Caller = { platform: 'console', externalId: opts.as, displayName: opts.as };
  const rl = readline.createInterface({
    input: opts.input,
    output: opts.interactive ? opts.output : undefined,
    // Line editing only on a real terminal; prompts are written by ask() either way.
    terminal: opts.interactive && Boolean((opts.input as { isTTY?: boolean }).isTTY),
  });
  const print = (s: string): void => {
    opts.output.write(s.endsWith('\n') ? s : `${s}\n`);
  };
  const outDir = opts.outDir ?? '.';
  /** Saves the reply's attachments, one after the other, then prints the reply; false when a file could not be written. */
  const show = async (r: Reply): Promise<boolean> => {
    let files: AttachmentOutcome[] | undefined;
    if (r.kind === 'message' && r.attachments?.length) {
      files = [];
      for (const a of r.attachments) files.push(await saveAttachment(outDir, a));
    }
    print(opts.json ? renderJson(r, files) : renderText(r, files));
    return (files ?? []).every((f) => f.saved);
  };
  let failed = 0;

  // Lines are read through one iterator so form prompts and commands share the input.
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (q: string): Promise<string | null> => {
    if (opts.interactive) opts.output.write(q);
    const n = await lines.next();
    return n.done ? null : n.value;
  };

  async function fillForm(first: FormReply): Promise<Reply | null> {
    let reply: Reply = first;
    const values: Record<string, FormValue | undefined> = { ...(first.form.values ?? {}) };
    let toAsk = first.form.fields;
    print(`${first.form.title} (empty answer keeps the current value or skips an optional field; Ctrl-D cancels)`);
    for (;;) {
      const form = (reply as FormReply).form;
      for (const f of toAsk) {
        const current = values[f.name];
        const err = form.errors?.[f.name];
        if (err) print(`  ✗ ${f.name}: ${err}`);
        for (;;) {
          const shownCurrent = current === undefined ? '' : ` [${Array.isArray(current) ? current.join(',') : String(current)}]`;
          const answer = await ask(`  ${describeField(f)}${shownCurrent}: `);
          if (answer === null) return null;
          const v = parseAnswer(f, answer);
          if (v !== undefined) values[f.name] = v;
          if (f.required && values[f.name] === undefined) {
            print(`  ${f.label} is required.`);
            continue;
          }
          break;
        }
      }
      reply = await opts.dispatcher.dispatch(
        invocation(caller, { kind: 'form', command: form.command, values, ...(form.context !== undefined ? { context: form.context } : {}) }),
      );
      if (reply.kind === 'message') return reply;
      // Rejected: ask again only for the fields with errors (all, if none is named).
      const bad = Object.keys(reply.form.errors ?? {});
      toAsk = bad.length ? reply.form.fields.filter((f) => bad.includes(f.name)) : reply.form.fields;
    }
  }

  if (opts.interactive) print(`Duty Desk console — you are @${opts.as}. Type /duty help; Ctrl-D to quit.`);
  for (;;) {
    const line = await ask('duty> ');
    if (line === null) break;
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (opts.interactive && /^(exit|quit)$/i.test(text)) break;
    let reply = await opts.dispatcher.dispatch(invocation(caller, { kind: 'command', text }));
    if (reply.kind === 'form' && opts.interactive && !opts.json) {
      const filled = await fillForm(reply);
      if (filled === null) {
        print('Cancelled.');
        break;
      }
      reply = filled;
    }
    const allSaved = await show(reply);
    if (!isSuccess(reply) || !allSaved) failed++;
  }
  rl.close();
  return failed === 0 ? 0 : 1;
}
