import type { App, ViewSubmitAction } from '@slack/bolt';
import type { SlackDeps } from '../../deps';
import { FORM_CALLBACK_ID } from '../../render';
import { formSubmission } from './form-submission';

export function register(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>({ callback_id: FORM_CALLBACK_ID, type: 'view_submission' }, formSubmission(deps));
}
