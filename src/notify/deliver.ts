// The `deliver` job: one outbound message, sent at most once; messages to one destination go in
// the order they were queued, also across an outage of the platform (the scheduler's lanes).
import { z } from 'zod/v4';
import type { MessageReply } from '../domain/reply';
import { backoffMs } from '../jobs/backoff';
import type { JobOutcome, Scheduler } from '../jobs/scheduler';
import type { Tx } from '../store/client';
import type { Destination, DeliveryResult, Notifier } from './types';

export const DELIVER_KIND = 'deliver';
/**
 * Tries of one message, by default. A retry is only asked for when the message certainly did not
 * go (refused connection, 5xx, 429), and the backoff grows to 5 minutes: about an hour of outage
 * is waited out, while a message that keeps failing holds up its destination no longer than that.
 */
export const DELIVER_MAX_ATTEMPTS = 20;

const destinationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('member'), memberId: z.string().min(1) }),
  z.object({ kind: z.literal('channel'), channel: z.string().min(1), thread: z.string().min(1).optional() }),
]);

const fieldSchema = z.object({ label: z.string(), value: z.string() });
const buttonSchema = z.object({
  label: z.string(),
  command: z.string(),
  style: z.enum(['primary', 'danger', 'default']).optional(),
  confirm: z.object({ title: z.string(), text: z.string(), confirm: z.string(), deny: z.string() }).optional(),
});

/** A MessageReply as stored in a job (attachments are not carried yet: their content is a Buffer). */
const messageReplySchema = z.object({
  kind: z.literal('message'),
  ok: z.boolean(),
  title: z.string().optional(),
  text: z.string().optional(),
  fields: z.array(fieldSchema).optional(),
  rows: z.array(z.object({ text: z.string(), fields: z.array(fieldSchema).optional(), buttons: z.array(buttonSchema).optional() })).optional(),
  buttons: z.array(buttonSchema).optional(),
  visibility: z.enum(['caller', 'channel', 'direct']),
  error: z.object({ code: z.string(), message: z.string(), fields: z.record(z.string(), z.string()).optional() }).optional(),
  fallback: z.string().optional(),
});

export const deliverPayloadSchema = z.object({ to: destinationSchema, reply: messageReplySchema });
export type DeliverPayload = { to: Destination; reply: MessageReply };

/**
 * The lane of messages to a destination: a member (whichever platform reaches them) or a channel
 * (its threads included, so that a thread's replies keep their order too).
 */
export function destinationLane(to: Destination): string {
  return to.kind === 'member' ? `chat:member:${to.memberId}` : `chat:channel:${to.channel}`;
}

const lanePayloadSchema = z.object({ to: destinationSchema });

/** The lane of a `deliver` job, from its payload; undefined when the payload names no destination. */
export function deliveryLane(payload: unknown): string | undefined {
  const p = lanePayloadSchema.safeParse(payload);
  return p.success ? destinationLane(p.data.to) : undefined;
}

/** What a delivery's result means for its job. The job's result keeps the chat copy, to update it later. */
export function deliveryOutcome(r: DeliveryResult, attempt: number): JobOutcome {
  if (r.ok) {
    const result = { ...(r.providerId !== undefined ? { providerId: r.providerId } : {}), ...(r.copy ? { copy: r.copy } : {}) };
    return { status: 'done', ...(Object.keys(result).length ? { result } : {}) };
  }
  if (r.retryable) return { status: 'retry', afterMs: r.retryAfterMs ?? backoffMs(attempt), error: r.error };
  return { status: 'failed', error: r.error };
}

/**
 * Registers the `deliver` kind: at most once, because a send whose outcome is unknown is not
 * repeated; in its destination's lane, so that a message never overtakes an earlier one to the
 * same member or channel that waits for its retry (Slack or Teams down, or rate-limiting).
 */
export function registerDelivery(scheduler: Scheduler, notifier: Notifier, opts: { maxAttempts?: number } = {}): void {
  scheduler.register(
    DELIVER_KIND,
    async (job) => {
      const parsed = deliverPayloadSchema.safeParse(job.payload);
      if (!parsed.success) return { status: 'failed', error: `invalid deliver payload: ${z.prettifyError(parsed.error)}` };
      return deliveryOutcome(await notifier.send(parsed.data.to, parsed.data.reply), job.attempts);
    },
    { atMostOnce: true, lane: deliveryLane, maxAttempts: opts.maxAttempts ?? DELIVER_MAX_ATTEMPTS },
  );
}

/**
 * Enqueues one message. `key` names the one intended delivery (e.g. "page:42:step:1:alee"): a
 * second enqueue with it does nothing and returns false. Pass the change's transaction so that
 * the message is sent only if the change commits. Due now unless dueAt says otherwise.
 */
export function enqueueDelivery(scheduler: Scheduler, msg: { key: string; to: Destination; reply: MessageReply; dueAt?: Date }, tx?: Tx): Promise<boolean> {
  // A programming error, not a delivery failure: say so where the message is made.
  if (msg.reply.attachments?.length) throw new Error(`delivery ${msg.key}: attachments cannot be delivered yet`);
  const payload = deliverPayloadSchema.parse({ to: msg.to, reply: msg.reply });
  return scheduler.enqueue({ kind: DELIVER_KIND, key: msg.key, dueAt: msg.dueAt ?? scheduler.now(), payload }, tx);
}
