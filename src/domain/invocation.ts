// What an adapter hands to the dispatcher: who is asking, from where, and what.

export type Platform = 'slack' | 'teams' | 'console';

export interface Caller {
  platform: Platform;
  /** Slack: "TEAM:USER"; Teams: AAD object id; console: the handle. */
  externalId: string;
  /** Name the platform shows, used when nothing better is stored. */
  displayName?: string;
}

export interface Origin {
  /** Slack channel id, Teams conversation id; absent on the console. */
  channelId?: string;
  /** Slack team id or Teams tenant id. */
  workspaceId?: string;
}

/** A file that came with a message (a CSV uploaded to the bot's DM), already downloaded. */
export interface InvocationFile {
  name: string;
  content: Buffer;
  mimeType?: string;
}

/** Files larger than this are not downloaded: a national registration list is a few MB. */
export const MAX_INVOCATION_FILE_BYTES = 50 * 1024 * 1024;

interface BaseInvocation {
  caller: Caller;
  origin: Origin;
  requestId: string;
  /** Files sent with the command (Slack or Teams DM upload); commands that take a file read them. */
  files?: InvocationFile[];
}

/** A typed command, e.g. "/duty member add handle=alee". Also what a button press runs. */
export interface CommandInvocation extends BaseInvocation {
  kind: 'command';
  text: string;
  /** Values to start a form with, under what was typed (e.g. "Log as case" fills the summary from the message). */
  prefill?: Record<string, string>;
}

/** A submitted form (Slack modal, Teams card, console prompts). */
export interface FormInvocation extends BaseInvocation {
  kind: 'form';
  command: string;
  values: Record<string, string | string[] | boolean | undefined>;
  context?: string;
}

export type Invocation = CommandInvocation | FormInvocation;
