// Outbound delivery: Slack DMs and channel posts, Teams proactive messages, email, SMS, and the
// `deliver` job.
export * from './types';
export { SlackNotifier, createSlackDeliveryClient, classifySlackError, parseRetryAfter, slackUserId, type SlackDeliveryClientOptions } from './slack';
export { SlackWebClient, classifySlackAnswer, type PostMessageArgs, type SlackCall, type SlackWebClientOptions, type UpdateArgs } from './slack-web';
export { TeamsNotifier, classifyTeamsError, type ProactiveAdapter, type TeamsNotifierOptions } from './teams';
export { RoutingNotifier, type ChatPlatform, type PlatformNotifier, type RoutingOptions } from './routing';
export { EmailNotifier, classifyEmailError, renderEmail, type EmailNotifierOptions, type RenderedEmail } from './email';
export { SmsNotifier, classifySmsAnswer, renderSms, twilioSignature, twimlMessage, verifyTwilioSignature, type SmsNotifierOptions, type WebhookParams } from './sms';
export { DELIVER_KIND, deliverPayloadSchema, deliveryOutcome, enqueueDelivery, registerDelivery, type DeliverPayload } from './deliver';
