// What the adapters need from the core. Implemented by src/handlers/dispatcher.ts.
import type { Invocation } from '../domain/invocation';
import type { Reply } from '../domain/reply';

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
