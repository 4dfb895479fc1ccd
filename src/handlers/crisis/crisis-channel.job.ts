// "channel=new" on /crisis open: the bot creates the crisis channel (Slack), invites the person who
// opened the crisis, links it, and posts the board there. At most once: a second run would be a
// second channel.
import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import type { Scheduler } from '../../jobs/scheduler';
import type { ChannelCreator } from '../../notify/types';
import type { Store } from '../../store/store';
import type { Outbox } from '../ports';
import { scheduleBoard } from './crisis.service';

export const CRISIS_CHANNEL_JOB = 'crisis-channel';

const payloadSchema = z.object({ crisisId: z.string(), platform: z.enum(['slack', 'teams']), byId: z.string().nullable() });
export type CrisisChannelPayload = z.output<typeof payloadSchema>;

export function registerCrisisChannelJob(scheduler: Scheduler, deps: { store: Store; outbox: Outbox; chat?: Partial<ChannelCreator> }): void {
  const { store, outbox } = deps;
  scheduler.register(
    CRISIS_CHANNEL_JOB,
    async (job, ctx) => {
      const p = payloadSchema.safeParse(job.payload);
      if (!p.success) return { status: 'failed', error: 'invalid payload' };
      const crisis = await store.crises.byId(p.data.crisisId);
      if (!crisis || crisis.channel) return { status: 'done', result: { skipped: crisis ? 'already has a channel' : 'no crisis' } };
      const tell = async (text: string): Promise<void> => {
        if (!p.data.byId) return;
        const byId = p.data.byId;
        await store.transaction((tx) => outbox.deliver(tx, { key: `crisis:${crisis.id}:channel:told`, to: { kind: 'member', memberId: byId }, reply: message({ title: `Crisis ${crisis.code}`, text, visibility: 'direct', fallback: text }) }));
        outbox.wake?.();
      };
      const create = deps.chat?.createChannel?.bind(deps.chat);
      if (!create) {
        await tell('No chat platform is connected, so no channel was created. Link one with /crisis edit.');
        return { status: 'failed', error: 'no chat platform can create channels' };
      }
      const r = await create(p.data.platform, `crisis-${crisis.code}`, p.data.byId ? [p.data.byId] : []);
      if (!r.ok) {
        if (r.retryable && job.attempts < 5) return { status: 'retry', afterMs: 2000 * job.attempts, error: r.error };
        await tell(`The crisis channel could not be created: ${r.error}`);
        return { status: 'failed', error: r.error };
      }
      await store.transaction(async (tx) => {
        const saved = await store.crises.save(tx, crisis, { channel: r.channel });
        if (saved) await scheduleBoard(outbox, tx, saved, ctx.now);
      });
      outbox.wake?.();
      await tell(`Created the crisis channel (${r.channel}); the live board is pinned there.`);
      return { status: 'done', result: { channel: r.channel } };
    },
    { atMostOnce: true },
  );
}
