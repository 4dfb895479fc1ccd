// What a use case declares: its name, who may run it, its inputs (one zod schema for inline
// arguments and form submissions alike), its form, and what it does.
import type { z } from 'zod/v4';
import type { Caller, InvocationFile, Origin } from '../domain/invocation';
import type { Member } from '../domain/member';
import type { FormField, FormValue, Reply } from '../domain/reply';
import type { Allowed } from '../domain/roles';
import type { Logger } from '../logger';
import type { AuditMeta, Store } from '../store/store';
import type { Outbox } from './ports';
import type { ChannelProbe } from '../notify/types';

export type RawArgs = Record<string, FormValue | undefined>;

export interface CoreSettings {
  missionTimeZone: string;
  publicBaseUrl?: string;
  /** Outbound channels configured besides chat: SMS (SMS_WEBHOOK_URL) and email (SMTP_URL). */
  channels?: { sms: boolean; email: boolean };
}

export interface HandlerContext {
  now: Date;
  /** The member running the command; null only for commands that allow unregistered callers. */
  actor: Member | null;
  caller: Caller;
  origin: Origin;
  requestId: string;
  store: Store;
  settings: CoreSettings;
  logger: Logger;
  /** Audit metadata for store.change(). */
  meta: AuditMeta;
  /** Commands the caller may run (for help). */
  available: readonly AnyCommand[];
  /** Messages and timed jobs, committed with the change that causes them. */
  outbox: Outbox;
  /** Whether the bot can post to a channel; absent on the console, where nothing is sent. */
  channels?: ChannelProbe;
  /** Files that came with the command (uploaded with it in a DM). */
  files?: readonly InvocationFile[];
}

export interface CommandForm {
  title: string;
  submitLabel: string;
  fields: FormField[];
}

export interface Command<I> {
  /** Words that name it: "duty member add". */
  key: string;
  summary: string;
  /** One-line usage, e.g. "/duty role grant @member ROLE". */
  usage: string;
  allowed: Allowed;
  /** Help and profile work before an admin has registered the caller. */
  allowUnregistered?: boolean;
  /** Left out of help (App Home, internal buttons). */
  hidden?: boolean;
  /** Names for positional words, in order. */
  positional?: readonly string[];
  /** Takes all remaining positional words, joined with spaces (free text). */
  rest?: string;
  form?: CommandForm;
  /** When the command answers with its form; default: a required form field is missing. */
  opensForm?: (args: RawArgs) => boolean;
  input: z.ZodType<I>;
  run(ctx: HandlerContext, input: I): Promise<Reply>;
}

// Method syntax above makes `run` bivariant, so any Command<I> fits here.
export type AnyCommand = Command<unknown>;

export function defineCommand<I>(c: Command<I>): AnyCommand {
  return c as AnyCommand;
}

/** Throw from a use case for an expected failure deep inside a transaction; the dispatcher replies with it. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
