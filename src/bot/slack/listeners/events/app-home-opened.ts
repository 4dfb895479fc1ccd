// The Home tab is the member's dashboard: whatever "/duty home" answers.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { failure } from '../../../../domain/reply';
import type { SlackDeps } from '../../deps';
import { beginInteraction, rememberMember, somethingWentWrong, SlackInteractionError } from '../../interaction';
import { renderHome } from '../../render';

export function appHomeOpened(deps: SlackDeps) {
  return async ({ event, body, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>): Promise<void> => {
    const ix = beginInteraction(deps, 'home', { teamId: body.team_id, userId: event.user });
    await rememberMember(deps, ix);
    if (event.tab === 'messages') return;
    try {
      const reply = await deps.dispatcher.dispatch({ kind: 'command', text: '/duty home', caller: ix.caller, origin: ix.origin, requestId: ix.requestId });
      const shown =
        reply.kind === 'message' ? reply : failure('FORM_IN_HOME', `Run /${reply.form.command} in a channel or a DM with Duty Desk to fill in "${reply.form.title}".`);
      await client.views.publish({ user_id: event.user, view: renderHome(shown) });
    } catch (err) {
      try {
        await client.views.publish({ user_id: event.user, view: renderHome(somethingWentWrong(ix.requestId)) });
      } catch (publishErr) {
        ix.log.warn({ err: publishErr }, 'could not publish the error to the Home tab');
      }
      throw new SlackInteractionError(ix.requestId, err);
    }
  };
}
