// Outbound delivery: where a message goes and what became of it.
import { z } from 'zod/v4';
import type { Member } from '../domain/member';
import type { MessageReply } from '../domain/reply';

import type { Destination } from '../domain/destination';

export type { Destination };

/**
 * Where a chat message landed, so that it can be updated in place later. Slack: the channel id
 * Slack answered (a D… id for a DM posted to a user id) and the message ts. Teams: the
 * conversation-reference key ("member:<aad id>", "conversation:<id>", with ";messageid=<root>"
 * for a thread reply) and the activity id.
 */
export interface ChatCopy {
  platform: 'slack' | 'teams';
  conversation: string;
  messageId: string;
}

const chatCopySchema = z.object({ platform: z.enum(['slack', 'teams']), conversation: z.string(), messageId: z.string() });

/** A ChatCopy as stored in a JSON column, or null when absent or unreadable. */
export function parseChatCopy(json: string | null | undefined): ChatCopy | null {
  if (!json) return null;
  try {
    const r = chatCopySchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Expected failures are values. `retryable` means the message was certainly not delivered and
 * trying again later may work; `retryAfterMs` is the provider's own wait (Retry-After), when it
 * named one. A send whose outcome is unknown (sent, then no answer) is not retryable, says
 * "outcome unknown" and has `unknownOutcome`: nobody may be paged twice, not even elsewhere.
 */
export type DeliveryResult =
  /** `warning`: the message went out but a part of it did not (an attachment); never a reason to send again. */
  | { ok: true; providerId?: string; copy?: ChatCopy; warning?: string }
  | { ok: false; retryable: boolean; retryAfterMs?: number; error: string; unknownOutcome?: true };

/** Changes a chat message already sent (Slack chat.update, Teams updateActivity). */
export interface MessageUpdater {
  update(copy: ChatCopy, reply: MessageReply): Promise<DeliveryResult>;
}

/** Pins a message sent before in its channel (Slack pins.add). Teams bots cannot pin: not offered there. */
export interface MessagePinner {
  pin(copy: ChatCopy): Promise<DeliveryResult>;
}

/** Creates a public channel and invites members to it (Slack conversations.create). */
export interface ChannelCreator {
  createChannel(platform: 'slack' | 'teams', name: string, inviteMemberIds: readonly string[]): Promise<{ ok: true; channel: string } | { ok: false; retryable: boolean; error: string }>;
}

/** Whether the bot can post to a channel ("slack:C123" | "teams:<conversation id>") before anything is committed. */
export interface ChannelProbe {
  canPost(channel: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

export interface Notifier {
  send(to: Destination, reply: MessageReply): Promise<DeliveryResult>;
}

/** How notifiers find a member's chat accounts (the store's MemberRepository fits). */
export interface MemberDirectory {
  byId(id: string): Promise<Member | null>;
}

/** A send that may or may not have happened: final, and not to be tried elsewhere either. */
export function outcomeUnknown(what: string): DeliveryResult {
  return { ok: false, retryable: false, unknownOutcome: true, error: `${what}: outcome unknown, not resent` };
}

/** Where Teams conversation references are kept (the store's ConversationRepository fits). */
export interface ConversationDirectory {
  recall(platform: 'slack' | 'teams', key: string): Promise<unknown>;
}

/** Options of a channel post. */
export interface ChannelOptions {
  /** Reply in this thread (Slack: the root ts; Teams: the root activity id). */
  thread?: string;
}

export function notDelivered(error: string, retryable = false, retryAfterMs?: number): DeliveryResult {
  return { ok: false, retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), error };
}

/** The platform and id of a channel destination ("slack:C123"), or null when it names neither. */
export function parseChannel(channel: string): { platform: 'slack' | 'teams'; id: string } | null {
  const m = /^(slack|teams):(.+)$/.exec(channel.trim());
  if (!m) return null;
  return { platform: m[1] as 'slack' | 'teams', id: m[2] as string };
}

/** The member, or the reason they cannot be messaged. Lookup errors are retryable: nothing was sent. */
export async function lookupMember(members: MemberDirectory, memberId: string): Promise<{ ok: true; member: Member } | { ok: false; result: DeliveryResult }> {
  let member: Member | null;
  try {
    member = await members.byId(memberId);
  } catch (err) {
    return { ok: false, result: notDelivered(`could not look up the member: ${err instanceof Error ? err.message : String(err)}`, true) };
  }
  if (!member) return { ok: false, result: notDelivered(`no member ${memberId}`) };
  if (member.removedAt) return { ok: false, result: notDelivered(`member @${member.handle} was removed`) };
  return { ok: true, member };
}
