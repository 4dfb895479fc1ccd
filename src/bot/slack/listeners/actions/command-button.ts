// A button runs its command as the person who pressed it, through the same dispatcher.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { replayedElsewhere } from '../../gate';
import { beginInteraction, deliver, failInteraction, openPlaceholder, rememberMember, tellSurface, type Surface } from '../../interaction';

export function commandButton(deps: SlackDeps) {
  return async ({ ack, body, action, client, context }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>): Promise<void> => {
    await ack();
    if (await replayedElsewhere(context)) return;
    const teamId = body.user.team_id ?? body.team?.id ?? '';
    const channelId = body.channel?.id;
    const ix = beginInteraction(deps, 'button', { teamId, userId: body.user.id, userName: body.user.username ?? body.user.name }, channelId);
    const surface: Surface = {
      client,
      user: ix.user,
      triggerId: body.trigger_id,
      replaceOriginal: false,
      ...(channelId ? { channelId } : {}),
      // Home tab and modal buttons carry no response_url.
      ...(body.response_url ? { responseUrl: body.response_url } : {}),
      ...(body.view?.type === 'modal' ? { inModal: true } : {}),
      ...(body.view && !body.response_url ? { answerInModal: true } : {}),
    };
    const text = action.value ?? '';
    try {
      if (text !== '' && deps.dispatcher.preview(text).mayOpenForm) {
        const viewId = await openPlaceholder(surface, ix);
        if (viewId) surface.viewId = viewId;
      }
      await rememberMember(deps, ix);
      ix.log.info({ actionId: action.action_id }, 'button');
      const reply = await deps.dispatcher.dispatch({ kind: 'command', text, caller: ix.caller, origin: ix.origin, requestId: ix.requestId });
      await deliver(surface, reply, ix);
    } catch (err) {
      await failInteraction(ix, err, (r) => tellSurface(surface, r, ix));
    }
  };
}
