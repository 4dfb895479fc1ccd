import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { appHomeOpened } from './app-home-opened';
import { dedupeEvents } from './dedupe';
import { appMention, directMessage } from './direct-message';

export function register(app: App, deps: SlackDeps): void {
  const once = dedupeEvents(deps.logger, deps.seen);
  app.event('app_home_opened', once, appHomeOpened(deps));
  app.event('message', once, directMessage(deps));
  app.event('app_mention', once, appMention(deps));
}
