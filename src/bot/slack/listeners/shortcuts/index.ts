import type { App, MessageShortcut } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { LOG_AS_CASE_CALLBACK_ID, logAsCase } from './log-as-case';

export function register(app: App, deps: SlackDeps): void {
  app.shortcut<MessageShortcut>({ callback_id: LOG_AS_CASE_CALLBACK_ID, type: 'message_action' }, logAsCase(deps));
}
