// Messages typed to the bot (DM or @mention): remember the person and point to the commands.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { beginInteraction, rememberMember } from '../../interaction';

const HINT = 'I work through slash commands. Type `/duty help` to see what you can do.';

export function directMessage(deps: SlackDeps) {
  return async ({ event, body, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'message'>): Promise<void> => {
    // Edits, joins and bot posts (our own included) are not someone talking to us.
    if (event.subtype !== undefined || event.channel_type !== 'im' || event.bot_id !== undefined) return;
    const ix = beginInteraction(deps, 'dm', { teamId: body.team_id, userId: event.user }, event.channel);
    await rememberMember(deps, ix);
    await client.chat.postMessage({ channel: event.channel, text: HINT });
  };
}

export function appMention(deps: SlackDeps) {
  return async ({ event, body, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_mention'>): Promise<void> => {
    if (event.user === undefined || event.bot_id !== undefined) return;
    const ix = beginInteraction(deps, 'mention', { teamId: body.team_id, userId: event.user }, event.channel);
    await rememberMember(deps, ix);
    await client.chat.postEphemeral({ channel: event.channel, user: event.user, text: HINT });
  };
}
