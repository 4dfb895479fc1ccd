// One handler for every slash command: the command name and text go to the dispatcher as typed.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { replayedElsewhere } from '../../gate';
import {
  beginInteraction,
  deliver,
  failInteraction,
  fromSlackText,
  openPlaceholder,
  rememberMember,
  tellSurface,
  type Surface,
} from '../../interaction';

export function dutyCommand(deps: SlackDeps) {
  return async ({ ack, command, client, context }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    await ack();
    if (await replayedElsewhere(context)) return;
    // Let other requests' acks go out before this one's work: acks have 3 s, replies 30 min.
    // (A form's trigger_id is spent within the same 3 s, so it still opens first below.)
    await new Promise<void>((resolve) => setImmediate(resolve));
    const ix = beginInteraction(deps, 'command', { teamId: command.team_id, userId: command.user_id, userName: command.user_name }, command.channel_id);
    const text = `${command.command} ${fromSlackText(command.text ?? '', command.team_id)}`.trim();
    const surface: Surface = {
      client,
      user: ix.user,
      triggerId: command.trigger_id,
      ...(command.channel_id ? { channelId: command.channel_id } : {}),
      ...(command.response_url ? { responseUrl: command.response_url } : {}),
    };
    try {
      // Before anything slow: the trigger id expires 3 seconds after the command.
      if (deps.dispatcher.preview(text).mayOpenForm) {
        const viewId = await openPlaceholder(surface, ix);
        if (viewId) surface.viewId = viewId;
      }
      await rememberMember(deps, ix);
      ix.log.info({ command: command.command }, 'slash command');
      const reply = await deps.dispatcher.dispatch({ kind: 'command', text, caller: ix.caller, origin: ix.origin, requestId: ix.requestId });
      await deliver(surface, reply, ix);
    } catch (err) {
      await failInteraction(ix, err, (r) => tellSurface(surface, r, ix));
    }
  };
}
