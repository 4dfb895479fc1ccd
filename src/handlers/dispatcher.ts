// One entry for every adapter: parse, find the member, check roles (here and only here),
// validate with the command's zod schema, run, and turn surprises into a reply with a ref.
import { closest, distance } from 'fastest-levenshtein';
import type { LatePorts } from './ports';
import type { z } from 'zod/v4';
import { splitArgs, tokenize, wellFormed } from '../domain/args';
import type { CommandInvocation, Invocation } from '../domain/invocation';
import type { Member } from '../domain/member';
import { failure, type FormReply, type Reply } from '../domain/reply';
import { describeAllowed, mayRun } from '../domain/roles';
import { rolesLabel } from '../domain/member';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from '../store/availability';
import type { Store } from '../store/store';
import { CommandError, type AnyCommand, type CoreSettings, type RawArgs } from './command';
import type { Dispatcher, Outbox, Preview } from './ports';

export const MAX_COMMAND_LENGTH = 4000;

/** The reply to any interaction while the database cannot be reached. */
export const DB_UNAVAILABLE = 'DB_UNAVAILABLE';
export const DB_UNAVAILABLE_MESSAGE = 'Duty Desk is temporarily unavailable: your request was not saved. Please try again in a minute.';

export interface DispatcherDeps {
  store: Store;
  commands: readonly AnyCommand[];
  settings: CoreSettings;
  logger: Logger;
  outbox: Outbox;
  clock?: () => Date;
  /** Bound once the chat platforms are connected (after the dispatcher exists: they need it). */
  ports?: LatePorts;
}

type Resolved =
  | { ok: true; command: AnyCommand; args: RawArgs }
  | { ok: false; reply: Reply };

function words(key: string): string[] {
  return key.split(' ');
}

export function usageLine(c: AnyCommand): string {
  return `${c.usage}: ${c.summary}`;
}

interface CommandIndex {
  entries: { command: AnyCommand; w: string[] }[];
  /** keys that are also the prefix of longer keys */
  groups: Set<string>;
}

// Every interaction parses its text once or twice; split the keys once per command list.
const indexes = new WeakMap<readonly AnyCommand[], CommandIndex>();

function indexFor(commands: readonly AnyCommand[]): CommandIndex {
  let index = indexes.get(commands);
  if (!index) {
    const groups = new Set<string>();
    for (const c of commands) {
      const w = words(c.key);
      for (let n = 1; n < w.length; n++) groups.add(w.slice(0, n).join(' '));
    }
    index = { entries: commands.map((command) => ({ command, w: words(command.key) })), groups };
    indexes.set(commands, index);
  }
  return index;
}

/** Finds the command a text names, by its longest matching key; pure. */
export function resolveText(commands: readonly AnyCommand[], text: string): Resolved {
  if (text.length > MAX_COMMAND_LENGTH) {
    return { ok: false, reply: failure('TOO_LONG', `That command is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}.`) };
  }
  const tok = tokenize(text.trim().replace(/^\//, ''));
  if (!tok.ok) return { ok: false, reply: failure('BAD_SYNTAX', `Could not read that command: ${tok.error}.`) };
  const tokens = tok.tokens;
  if (tokens.length === 0) return { ok: false, reply: failure('EMPTY', 'Type a command, for example /duty help.') };
  const lower = tokens.map((t) => t.toLowerCase());
  const index = indexFor(commands);
  let best: AnyCommand | undefined;
  let bestLength = 0;
  for (const { command, w } of index.entries) {
    if (w.length > bestLength && w.every((x, i) => lower[i] === x)) {
      best = command;
      bestLength = w.length;
    }
  }
  if (!best) return { ok: false, reply: unknownCommand(commands, lower) };
  const rest = tokens.slice(bestLength);
  // "/duty member frob": the key matched only a prefix that is itself a group of subcommands.
  const isGroup = index.groups.has(best.key);
  if (isGroup && rest.length > 0 && !best.positional?.length && !best.rest) {
    return { ok: false, reply: unknownCommand(commands, lower) };
  }
  const { positional, named } = splitArgs(rest);
  const args: RawArgs = { ...named };
  const names = best.positional ?? [];
  for (let i = 0; i < positional.length; i++) {
    const name = names[i];
    if (name !== undefined) {
      args[name] = positional[i];
    } else if (best.rest) {
      args[best.rest] = positional.slice(i).join(' ');
      break;
    } else {
      return {
        ok: false,
        reply: failure('UNEXPECTED_ARGUMENT', `Unexpected "${(positional[i] ?? '').slice(0, 40)}". Usage: ${best.usage}`),
      };
    }
  }
  return { ok: true, command: best, args };
}

function unknownCommand(commands: readonly AnyCommand[], lower: string[]): Reply {
  const visible = commands.filter((c) => !c.hidden);
  const shown = lower.slice(0, 3).join(' ').slice(0, 60);
  const isGroup = (p: string): boolean => visible.some((c) => c.key.startsWith(p + ' '));
  const usagesUnder = (p: string): string[] => visible.filter((c) => c.key === p || c.key.startsWith(p + ' ')).map((c) => c.usage);
  // Walk down the typed words while they name a group; at the first word that does not,
  // suggest the nearest word of that group (or, when none is near, everything the group holds).
  let prefix = '';
  const typed = lower.slice(0, 3);
  for (let i = 0; i < typed.length; i++) {
    const w = typed[i] as string;
    const next = prefix ? `${prefix} ${w}` : w;
    if (isGroup(next) || visible.some((c) => c.key === next)) {
      prefix = next;
      continue;
    }
    const words = [...new Set(visible.filter((c) => (prefix ? c.key.startsWith(prefix + ' ') : true)).map((c) => c.key.split(' ')[prefix ? prefix.split(' ').length : 0] as string))];
    const near = closest(w, words);
    if (near && distance(w, near) <= Math.max(2, Math.floor(near.length / 2))) {
      const key = prefix ? `${prefix} ${near}` : near;
      const exact = visible.find((c) => c.key === key);
      // "/duty membr lst": the near word is a group and more was typed; keep walking.
      if (isGroup(key) && i + 1 < typed.length && !exact?.positional?.length && !exact?.rest) {
        prefix = key;
        continue;
      }
      if (exact) return failure('UNKNOWN_COMMAND', `There is no command "/${shown}". Did you mean /${key}? Usage: ${exact.usage}`);
      return failure('UNKNOWN_COMMAND', `There is no command "/${shown}". Did you mean one of these?\n${usagesUnder(key).join('\n')}`);
    }
    break;
  }
  if (prefix) return failure('UNKNOWN_COMMAND', `There is no command "/${shown}". Did you mean one of these?\n${usagesUnder(prefix).join('\n')}`);
  return failure('UNKNOWN_COMMAND', `There is no command "/${shown}". Type /duty help for the list.`);
}

function clean(args: RawArgs): RawArgs {
  const out: RawArgs = {};
  for (const [k, v] of Object.entries(args)) {
    // A forged submission's own "__proto__" would otherwise become the prototype: inherited values, unchecked.
    if (k === '__proto__') continue;
    if (typeof v === 'string') {
      const t = wellFormed(v).trim();
      if (t !== '') out[k] = t;
    } else if (Array.isArray(v)) {
      const a = v.map((x) => wellFormed(x).trim()).filter((x) => x !== '');
      if (a.length) out[k] = a;
    } else if (v !== undefined) out[k] = v;
  }
  return out;
}

function missingRequired(command: AnyCommand, args: RawArgs): string[] {
  return (command.form?.fields ?? []).filter((f) => f.required && args[f.name] === undefined).map((f) => f.name);
}

function opensForm(command: AnyCommand, args: RawArgs): boolean {
  if (!command.form) return false;
  return command.opensForm ? command.opensForm(args) : missingRequired(command, args).length > 0;
}

function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out[k] ??= `unknown field "${k}"`;
      continue;
    }
    const k = String(issue.path[0] ?? '_');
    out[k] ??= issue.message;
  }
  return out;
}

function formReply(command: AnyCommand, args: RawArgs, errors?: Record<string, string>, context?: string): FormReply {
  const form = command.form as NonNullable<AnyCommand['form']>;
  return {
    kind: 'form',
    form: {
      command: command.key,
      title: form.title,
      submitLabel: form.submitLabel,
      fields: form.fields,
      values: Object.fromEntries(Object.entries(args).filter((e): e is [string, string | string[] | boolean] => e[1] !== undefined)),
      ...(errors ? { errors } : {}),
      ...(context !== undefined ? { context } : {}),
    },
  };
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, commands, settings } = deps;
  const clock = deps.clock ?? (() => new Date());
  const byKey = new Map(commands.map((c) => [c.key, c]));

  async function findActor(inv: Invocation): Promise<Member | null> {
    const { platform, externalId } = inv.caller;
    // The console names its user by handle; chat platforms by their own user id.
    return platform === 'console'
      ? store.members.resolve({ kind: 'handle', handle: externalId.toLowerCase() })
      : store.members.byIdentity(platform, externalId);
  }

  async function run(inv: Invocation, log: Logger): Promise<Reply> {
    let command: AnyCommand;
    let args: RawArgs;
    let context: string | undefined;
    if (inv.kind === 'command') {
      const r = resolveText(commands, inv.text);
      if (!r.ok) return r.reply;
      command = r.command;
      args = clean({ ...(inv.prefill ?? {}), ...r.args });
    } else {
      const c = byKey.get(inv.command);
      if (!c) return failure('UNKNOWN_FORM', 'That form belongs to a command that no longer exists; run the command again.');
      command = c;
      args = clean(inv.values);
      context = inv.context === undefined ? undefined : wellFormed(inv.context);
    }

    const actor = await findActor(inv);
    if (!actor && !command.allowUnregistered) {
      return failure(
        'NOT_REGISTERED',
        `You are not registered with Duty Desk. Ask an admin to add you: /duty member add handle=… name=… ${inv.caller.platform}=${inv.caller.externalId}`,
      );
    }
    const roles = actor?.roles ?? [];
    if (!command.allowUnregistered && !mayRun(command.allowed, roles)) {
      return failure(
        'FORBIDDEN',
        `/${command.key} is for ${describeAllowed(command.allowed)}; you have ${rolesLabel(roles)}. Ask an admin if you need it.`,
      );
    }

    // Prefilled values are a start for the person to check, never a submission.
    // A file sent with the command is its content: no form to fill in then.
    if (inv.kind === 'command' && !inv.files?.length && (opensForm(command, args) || (inv.prefill && command.form))) return formReply(command, args);

    const input = context !== undefined ? { ...args, context } : args;
    const parsed = command.input.safeParse(input);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      // "Invalid input: expected string, received undefined" says less than this.
      for (const name of missingRequired(command, args)) {
        const label = command.form?.fields.find((f) => f.name === name)?.label ?? name;
        errors[name] = `${label} is required`;
      }
      if (inv.kind === 'form' && command.form) return formReply(command, args, errors, context);
      const list = Object.entries(errors)
        .map(([k, v]) => (k === '_' ? v : `${k}: ${v}`))
        .join('; ');
      return failure('INVALID_INPUT', `${list}. Usage: ${command.usage}`, errors);
    }

    const meta = {
      actorId: actor?.id ?? null,
      actorName: actor ? `@${actor.handle}` : `${inv.caller.platform}:${inv.caller.externalId}`,
      platform: inv.caller.platform,
      requestId: inv.requestId,
    };
    try {
      return await command.run(
        {
          now: clock(),
          actor,
          caller: inv.caller,
          origin: inv.origin,
          requestId: inv.requestId,
          store,
          settings,
          logger: log,
          meta,
          outbox: deps.outbox,
          ...(deps.ports?.channels ? { channels: deps.ports.channels } : {}),
          ...(inv.files?.length ? { files: inv.files } : {}),
          available: commands.filter((c) => (c.allowUnregistered && !actor) || (actor && mayRun(c.allowed, roles))),
        },
        parsed.data,
      );
    } catch (e) {
      // A unique constraint hit by a concurrent request: the user can simply try again.
      if ((e as { code?: unknown }).code === 'P2002') {
        return failure('CONFLICT', 'Someone changed the same record at the same moment; nothing was saved. Please try again.');
      }
      if (e instanceof CommandError) {
        if (inv.kind === 'form' && command.form && e.fields) return formReply(command, args, e.fields, context);
        return failure(e.code, e.message, e.fields);
      }
      throw e;
    }
  }

  return {
    preview(text: string): Preview {
      const r = resolveText(commands, text);
      if (!r.ok) return { mayOpenForm: false };
      return { command: r.command.key, mayOpenForm: opensForm(r.command, clean(r.args)) };
    },
    async dispatch(inv: Invocation): Promise<Reply> {
      const log = deps.logger.child({ requestId: inv.requestId, platform: inv.caller.platform });
      const started = Date.now();
      try {
        const reply = await run(inv, log);
        log.info(
          {
            command: inv.kind === 'command' ? commandWords(inv, commands) : inv.command,
            kind: inv.kind,
            ok: reply.kind === 'form' || reply.ok,
            code: reply.kind === 'message' ? reply.error?.code : 'FORM',
            ms: Date.now() - started,
          },
          'interaction',
        );
        return reply;
      } catch (err) {
        // The database is away (stopped, restarting, unreachable): nothing was saved, and trying
        // again later will work; say so rather than "something went wrong".
        if (isDatabaseUnavailable(err)) {
          log.warn({ err, code: DB_UNAVAILABLE, ms: Date.now() - started }, 'database unavailable; the interaction was not saved');
          return failure(DB_UNAVAILABLE, DB_UNAVAILABLE_MESSAGE);
        }
        const ref = inv.requestId.slice(0, 8);
        log.error({ err, ref }, 'unexpected error while handling an interaction');
        return failure('INTERNAL', `Something went wrong (ref ${ref}). It has been logged; please try again or tell your admin.`);
      }
    },
  };
}

/**
 * The command's key only, for logs: any word after it may be personal data ("/person find <name>",
 * a mistyped "/person fnd <name>"). An unknown command logs its first word if that starts a known
 * command, else nothing of the text.
 */
function commandWords(inv: CommandInvocation, commands: readonly AnyCommand[]): string {
  const r = resolveText(commands, inv.text);
  if (r.ok) return r.command.key;
  const first = (inv.text.trim().split(/\s+/)[0] ?? '').replace(/^\//, '').toLowerCase();
  return commands.some((c) => c.key.split(' ')[0] === first) ? `${first} (not a command)` : '(not a command)';
}
