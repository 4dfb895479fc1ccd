/** Where a message goes: a member (on their chat account) or a channel ("slack:C123" | "teams:<conversation id>"). */
export type Destination = { kind: 'member'; memberId: string } | { kind: 'channel'; channel: string };
