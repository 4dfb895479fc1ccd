/**
 * Where a message goes: a member (on their chat account) or a channel ("slack:C123" |
 * "teams:<conversation id>"). A channel message with `thread` is a reply in that thread: on Slack
 * the root message's ts, on Teams the root activity's id.
 */
export type Destination = { kind: 'member'; memberId: string } | { kind: 'channel'; channel: string; thread?: string };
