// Interaction payloads as Slack sends them, for tests that post them to /slack/events.
import crypto from 'node:crypto';

export type StateValues = Record<string, Record<string, Record<string, unknown>>>;

/** A view_submission of our form modal (callback duty_form), its command and context in the metadata. */
export function viewSubmission(values: StateValues, meta: Record<string, unknown> = { command: 'duty member add', channelId: 'C1' }): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'T1', domain: 'mission' },
    user: { id: 'U1', username: 'alee', name: 'alee', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trigger-${crypto.randomUUID()}`,
    view: {
      id: 'V1',
      team_id: 'T1',
      type: 'modal',
      callback_id: 'duty_form',
      private_metadata: JSON.stringify(meta),
      state: { values },
      hash: 'h',
      title: { type: 'plain_text', text: 'Add a member' },
      blocks: [],
      app_id: 'A1',
      bot_id: 'BBOT',
      root_view_id: 'V1',
      previous_view_id: null,
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
    },
    response_urls: [],
  };
}
