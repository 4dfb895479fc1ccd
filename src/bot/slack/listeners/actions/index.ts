import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { BUTTON_ACTION_PREFIX } from '../../render';
import { commandButton } from './command-button';

export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: new RegExp(`^${BUTTON_ACTION_PREFIX}`) }, commandButton(deps));
}
