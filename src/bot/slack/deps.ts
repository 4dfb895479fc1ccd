// What the Slack adapter needs from the rest of the application.
import type { Config } from '../../config';
import type { ConversationStore, Dispatcher } from '../../handlers/ports';
import type { Logger } from '../../logger';

export interface SlackDeps {
  config: Config;
  dispatcher: Dispatcher;
  logger: Logger;
  conversations: ConversationStore;
}
