// The Outbox port over any idempotent job enqueue (the scheduler's, in production).
import type { Tx } from '../store/client';
import type { Outbox } from './ports';

export type Enqueue = (spec: { kind: string; key: string; dueAt: Date; payload: unknown }, tx: Tx) => Promise<unknown>;

export function createOutbox(enqueue: Enqueue, clock: () => Date, wake?: () => void): Outbox {
  return {
    ...(wake ? { wake } : {}),
    async deliver(tx, msg) {
      await enqueue({ kind: 'deliver', key: msg.key, dueAt: msg.dueAt ?? clock(), payload: { to: msg.to, reply: msg.reply } }, tx);
    },
    async schedule(tx, job) {
      await enqueue(job, tx);
    },
  };
}
