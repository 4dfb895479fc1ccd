/**
 * Where a message goes: a member (on their chat account) or a channel ("slack:C123" |
 * "teams:<conversation id>"). A channel message with `thread` is a reply in that thread: on Slack
 * the root message's ts, on Teams the root activity's id.
 */
export type Destination = { kind: 'member'; memberId: string } | { kind: 'channel'; channel: string; thread?: string };

/**
 * A channel named in a command: Slack's escaped mention `<#C123|name>`, or `slack:C123` /
 * `teams:<conversation id>` as typed. Null when it names neither.
 */
export function parseChannelArg(text: string): string | null {
  const t = text.trim();
  const m = /^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(t);
  if (m) return `slack:${m[1]}`;
  return /^(slack|teams):\S+$/.test(t) ? t : null;
}
