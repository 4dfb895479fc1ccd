// A submitted form modal: validate through the dispatcher and answer inside Slack's 3 seconds
// (errors beside the fields, the next form, or close and post the result).
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { failure, type MessageReply } from '../../../../domain/reply';
import type { SlackDeps } from '../../deps';
import { replayedElsewhere } from '../../gate';
import {
  SlackInteractionError,
  beginInteraction,
  decodeMeta,
  encodeMeta,
  failInteraction,
  rememberMember,
  sendMessage,
  somethingWentWrong,
  type MessageTarget,
} from '../../interaction';
import { readModalValues, renderFieldErrors, renderMessageModal, renderModal, type ViewStateValues } from '../../render';

export function formSubmission(deps: SlackDeps) {
  return async ({ ack, body, view, client, context }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>): Promise<void> => {
    // A form's answer is its ack, so here the shared replay check comes first.
    if (await replayedElsewhere(context)) return ack();
    const teamId = body.user.team_id ?? body.team?.id ?? view.team_id;
    const meta = decodeMeta(view.private_metadata);
    const ix = beginInteraction(deps, 'form', { teamId, userId: body.user.id, userName: body.user.name }, meta?.channelId);
    const target: MessageTarget = {
      client,
      user: ix.user,
      ...(meta?.channelId ? { channelId: meta.channelId } : {}),
    };
    // The modal closes on ack; this posts where the person will see it.
    const post = async (reply: MessageReply): Promise<void> => {
      try {
        await sendMessage(target, reply, ix.log);
      } catch (err) {
        // chat.postEphemeral fails where the bot is not in the channel; the command's
        // response_url (valid 30 minutes) still reaches the person.
        if (!meta?.responseUrl || reply.visibility === 'direct') throw err;
        ix.log.warn({ err }, 'posting the form result failed; using the response_url');
        await sendMessage({ ...target, responseUrl: meta.responseUrl }, reply, ix.log);
      }
    };

    if (!meta) {
      await ack({ response_action: 'update', view: renderMessageModal(failure('BAD_FORM', 'This form has expired. Please run the command again.')) });
      return;
    }
    let acked = false;
    try {
      const values = readModalValues(view.state.values as ViewStateValues, teamId);
      ix.log.info({ command: meta.command }, 'form submitted');
      const reply = await deps.dispatcher.dispatch({
        kind: 'form',
        command: meta.command,
        values,
        ...(meta.context !== undefined ? { context: meta.context } : {}),
        caller: ix.caller,
        origin: ix.origin,
        requestId: ix.requestId,
      });
      if (reply.kind === 'message') {
        await ack();
        acked = true;
        await rememberMember(deps, ix);
        await post(reply);
        return;
      }
      // Slack can show an error only beside an input block of the open view.
      const blockIds = new Set(Object.keys(view.state.values));
      const errors = Object.entries(reply.form.errors ?? {});
      const besideFields = errors.length > 0 && errors.every(([k]) => blockIds.has(k));
      if (reply.form.command === meta.command && besideFields) {
        await ack(renderFieldErrors(Object.fromEntries(errors)));
      } else {
        // The next step, or errors Slack cannot place beside a field: show the form again.
        const { context: _old, ...base } = meta;
        const nextMeta = encodeMeta({ ...base, command: reply.form.command, ...(reply.form.context !== undefined ? { context: reply.form.context } : {}) });
        await ack({ response_action: 'update', view: renderModal(reply.form, nextMeta) });
      }
      acked = true;
      await rememberMember(deps, ix);
    } catch (err) {
      if (acked) return failInteraction(ix, err, post);
      // Not acked yet: the modal itself can say what happened.
      await ack({ response_action: 'update', view: renderMessageModal(somethingWentWrong(ix.requestId)) });
      throw new SlackInteractionError(ix.requestId, err);
    }
  };
}
