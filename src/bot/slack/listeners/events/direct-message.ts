// Messages typed to the bot (DM or @mention): remember the person and point to the commands.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { beginInteraction, failInteraction, fromSlackText, rememberMember } from '../../interaction';
import { renderMessage } from '../../render';

const HINT = 'I work through slash commands. Type `/duty help` to see what you can do.';

/** "ack 42", "page ack 42", "/page show 42" typed in the DM run as commands; forms need the slash command. */
function commandIn(text: string, preview: SlackDeps['dispatcher']['preview']): string | null {
  const t = text.trim();
  if (!t) return null;
  const asCommand = t.startsWith('/') ? t : `/${t}`;
  const p = preview(asCommand);
  return p.command && !p.mayOpenForm ? asCommand : null;
}

export function directMessage(deps: SlackDeps) {
  return async ({ event, body, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'message'>): Promise<void> => {
    // Edits, joins and bot posts (our own included) are not someone talking to us.
    if (event.subtype !== undefined || event.channel_type !== 'im' || event.bot_id !== undefined) return;
    const ix = beginInteraction(deps, 'dm', { teamId: body.team_id, userId: event.user }, event.channel);
    await rememberMember(deps, ix);
    const text = commandIn(typeof event.text === 'string' ? event.text : '', (t) => deps.dispatcher.preview(t));
    if (!text) {
      await client.chat.postMessage({ channel: event.channel, text: HINT });
      return;
    }
    try {
      const reply = await deps.dispatcher.dispatch({ kind: 'command', text: fromSlackText(text, body.team_id), caller: ix.caller, origin: ix.origin, requestId: ix.requestId });
      if (reply.kind !== 'message') return;
      await client.chat.postMessage({ channel: event.channel, ...renderMessage(reply), unfurl_links: false });
    } catch (err) {
      await failInteraction(ix, err, async (r) => void (await client.chat.postMessage({ channel: event.channel, ...renderMessage(r) })));
    }
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
