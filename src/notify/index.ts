// Outbound delivery: Slack DMs and channel posts, Teams proactive messages, and the `deliver` job.
export * from './types';
export { SlackNotifier, createSlackDeliveryClient, classifySlackError, parseRetryAfter, slackUserId, type SlackDeliveryClientOptions } from './slack';
export { TeamsNotifier, classifyTeamsError, type ProactiveAdapter, type TeamsNotifierOptions } from './teams';
export { RoutingNotifier, type ChatPlatform, type PlatformNotifier, type RoutingOptions } from './routing';
export { DELIVER_KIND, deliverPayloadSchema, deliveryOutcome, enqueueDelivery, registerDelivery, type DeliverPayload } from './deliver';
