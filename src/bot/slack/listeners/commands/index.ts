import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { dutyCommand } from './duty-command';

/** The slash commands declared in manifest.json; all go through the same dispatcher. */
export const SLASH_COMMANDS = ['/duty', '/case', '/crisis', '/person', '/page', '/sitrep'] as const;

export function register(app: App, deps: SlackDeps): void {
  const handler = dutyCommand(deps);
  for (const name of SLASH_COMMANDS) app.command(name, handler);
}
