// Picks the platform: a channel by its prefix, a member by their chat accounts.
import type { Member } from '../domain/member';
import type { MessageReply } from '../domain/reply';
import type { Logger } from '../logger';
import {
  lookupMember,
  notDelivered,
  parseChannel,
  type ChannelOptions,
  type ChatCopy,
  type DeliveryResult,
  type Destination,
  type MemberDirectory,
  type ChannelCreator,
  type ChannelProbe,
  type MessagePinner,
  type MessageUpdater,
  type Notifier,
} from './types';

export type ChatPlatform = 'slack' | 'teams';

/** A notifier for one platform (SlackNotifier, TeamsNotifier). */
export interface PlatformNotifier extends Notifier, MessageUpdater, ChannelProbe {
  readonly platform: ChatPlatform;
  sendToMember(member: Member, reply: MessageReply): Promise<DeliveryResult>;
  sendToChannel(id: string, reply: MessageReply, opts?: ChannelOptions): Promise<DeliveryResult>;
}

const PLATFORM_NAME: Record<ChatPlatform, string> = { slack: 'Slack', teams: 'Teams' };

export interface RoutingOptions {
  members: MemberDirectory;
  /** The platforms that are connected; a missing one is skipped. */
  slack?: PlatformNotifier;
  teams?: PlatformNotifier;
  /** Order of preference for members with accounts on both. Default Slack first. */
  prefer?: ChatPlatform[];
  logger?: Logger;
}

export class RoutingNotifier implements Notifier, MessageUpdater, MessagePinner, ChannelCreator, ChannelProbe {
  private readonly prefer: ChatPlatform[];

  constructor(private readonly opts: RoutingOptions) {
    const prefer = opts.prefer ?? ['slack', 'teams'];
    // Whatever the preference lists, every platform stays reachable after it.
    this.prefer = [...new Set<ChatPlatform>([...prefer, 'slack', 'teams'])];
  }

  private notifier(platform: ChatPlatform): PlatformNotifier | undefined {
    return platform === 'slack' ? this.opts.slack : this.opts.teams;
  }

  async send(to: Destination, reply: MessageReply): Promise<DeliveryResult> {
    if (to.kind === 'channel') {
      const c = parseChannel(to.channel);
      if (!c) return notDelivered(`unknown channel "${to.channel}": expected slack:<channel id> or teams:<conversation id>`);
      const n = this.notifier(c.platform);
      if (!n) return notDelivered(`${PLATFORM_NAME[c.platform]} is not connected`);
      return n.sendToChannel(c.id, reply, to.thread !== undefined ? { thread: to.thread } : {});
    }
    const found = await lookupMember(this.opts.members, to.memberId);
    if (!found.ok) return found.result;
    const member = found.member;
    const has = this.prefer.filter((p) => member.identities.some((i) => i.platform === p));
    if (!has.length) return notDelivered('no chat account');
    const usable = has.filter((p) => this.notifier(p) !== undefined);
    if (!usable.length) return notDelivered(`no chat account on a connected platform (@${member.handle} is on ${has.join(', ')})`);
    // A definite "not delivered" (no Teams chat yet, user_not_found…) falls through to the next
    // platform; a retryable failure does not: the next attempt goes to the preferred one again.
    // Nor does an unknown outcome: the member may have the message already.
    const errors: string[] = [];
    for (const p of usable) {
      const r = await (this.notifier(p) as PlatformNotifier).sendToMember(member, reply);
      if (r.ok || r.retryable || r.unknownOutcome) return r;
      errors.push(`${p}: ${r.error}`);
      this.opts.logger?.info({ memberId: member.id, platform: p, error: r.error }, 'could not reach the member on this platform');
    }
    return notDelivered(errors.join('; '));
  }

  /** Whether the bot can post to the channel, asked of the platform its prefix names. */
  async canPost(channel: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const c = parseChannel(channel);
    if (!c) return { ok: false, error: `unknown channel "${channel}": expected slack:<channel id> or teams:<conversation id>` };
    const n = this.notifier(c.platform);
    if (!n) return { ok: false, error: `${PLATFORM_NAME[c.platform]} is not connected, so Duty Desk cannot post to ${channel}` };
    return n.canPost(channel);
  }

  /** Creates a channel where the platform lets a bot (Slack); Teams needs Graph, which we do not hold. */
  async createChannel(platform: ChatPlatform, name: string, inviteMemberIds: readonly string[]): Promise<{ ok: true; channel: string } | { ok: false; retryable: boolean; error: string }> {
    const n = this.notifier(platform) as (PlatformNotifier & { createChannel?(name: string, invite: readonly string[]): Promise<{ ok: true; channel: string } | { ok: false; retryable: boolean; error: string }> }) | undefined;
    if (!n?.createChannel) return { ok: false, retryable: false, error: `${PLATFORM_NAME[platform]} does not let this bot create channels: create one and link it with /crisis edit <code> channel=…` };
    return n.createChannel(name, inviteMemberIds);
  }

  /** Pins a message where the platform allows it (Slack); elsewhere says so. */
  pin(copy: ChatCopy): Promise<DeliveryResult> {
    const n = this.notifier(copy.platform) as (PlatformNotifier & Partial<MessagePinner>) | undefined;
    if (!n?.pin) return Promise.resolve(notDelivered(`${PLATFORM_NAME[copy.platform]} does not let bots pin messages`));
    return n.pin(copy);
  }

  /** Updates a message on the platform it was sent on. */
  update(copy: ChatCopy, reply: MessageReply): Promise<DeliveryResult> {
    const n = this.notifier(copy.platform);
    if (!n) return Promise.resolve(notDelivered(`${PLATFORM_NAME[copy.platform]} is not connected`));
    return n.update(copy, reply);
  }
}
