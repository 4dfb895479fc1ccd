import type { App } from '@slack/bolt';
import type { SlackDeps } from '../deps';
import * as actions from './actions';
import * as commands from './commands';
import * as events from './events';
import * as shortcuts from './shortcuts';
import * as views from './views';

export function registerListeners(app: App, deps: SlackDeps): void {
  actions.register(app, deps);
  commands.register(app, deps);
  events.register(app, deps);
  shortcuts.register(app, deps);
  views.register(app, deps);
}
