// What the adapters need from the core. Implemented by src/handlers/dispatcher.ts.
import type { Invocation } from '../domain/invocation';
import type { MessageReply, Reply } from '../domain/reply';
import type { Tx } from '../store/client';
import type { Destination } from '../domain/destination';
import type { ChannelProbe } from '../notify/types';

export interface Preview {
  /** The command key the text names ("duty member add"), if it names one. */
  command?: string;
  /**
   * True when running the text would answer with a form (a command with a form, missing required
   * fields). Pure and fast: Slack adapters open a placeholder modal on the strength of it before
   * any database work, because `trigger_id` expires after 3 seconds.
   */
  mayOpenForm: boolean;
}

export interface Dispatcher {
  /** Runs a command or a form submission. Never throws: unexpected errors become a reply with a ref. */
  dispatch(invocation: Invocation): Promise<Reply>;
  preview(text: string): Preview;
}

/** Where proactive messages go later (Teams conversation references, Slack DM channels). */
export interface ConversationStore {
  remember(platform: 'slack' | 'teams', key: string, reference: unknown): Promise<void>;
  recall(platform: 'slack' | 'teams', key: string): Promise<unknown>;
}

export type { Destination } from '../domain/destination';

/**
 * Durable side effects, written in the same transaction as the change that causes them:
 * messages and timed jobs. Implemented over the scheduler's job table (src/jobs).
 */
export interface Outbox {
  /** A message, sent once at most (the key names the one intended delivery). */
  deliver(tx: Tx, msg: { key: string; to: Destination; reply: MessageReply; dueAt?: Date }): Promise<void>;
  /** A job for later (handoffs, reminders, expiries); idempotent on key. */
  schedule(tx: Tx, job: { kind: string; key: string; dueAt: Date; payload: unknown }): Promise<void>;
  /** After the transaction committed: work is due now, look for it without waiting for the next poll. */
  wake?(): void;
}

/** Ports that exist only once the chat platforms are connected (the server sets them; the console has none). */
export interface LatePorts {
  channels?: ChannelProbe;
}
