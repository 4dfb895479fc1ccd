// The "Log as case" message shortcut is declared in manifest.json; until cases land, say so
// instead of leaving Slack to report a timeout.
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { failure } from '../../../../domain/reply';
import type { SlackDeps } from '../../deps';
import { beginInteraction, rememberMember, sendMessage } from '../../interaction';

export const LOG_AS_CASE_CALLBACK_ID = 'log_as_case';

export function logAsCase(deps: SlackDeps) {
  return async ({ ack, shortcut, client }: AllMiddlewareArgs & SlackShortcutMiddlewareArgs<MessageShortcut>): Promise<void> => {
    await ack();
    const teamId = shortcut.user.team_id ?? shortcut.team?.id ?? '';
    const ix = beginInteraction(deps, 'shortcut', { teamId, userId: shortcut.user.id, userName: shortcut.user.name }, shortcut.channel.id);
    await rememberMember(deps, ix);
    await sendMessage(
      { client, user: ix.user, channelId: shortcut.channel.id, responseUrl: shortcut.response_url },
      failure('NOT_AVAILABLE', 'Logging a message as a case is not available yet.'),
      ix.log,
    );
  };
}
