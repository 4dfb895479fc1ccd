// What the Slack adapter needs from the rest of the application.
import type { Config } from '../../config';
import type { ConversationStore, Dispatcher } from '../../handlers/ports';
import type { Logger } from '../../logger';
import type { SeenCheck } from '../../store/seen.repository';

export interface SlackDeps {
  config: Config;
  dispatcher: Dispatcher;
  logger: Logger;
  conversations: ConversationStore;
  /** Who is registered: only members' conversations are kept (an unknown caller leaves nothing behind). */
  members?: { byIdentity(platform: 'slack', externalId: string): Promise<unknown> };
  /** Several replicas: requests and events already accepted, shared through the database. */
  seen?: SeenCheck;
}
