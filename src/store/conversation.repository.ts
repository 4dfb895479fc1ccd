import { z } from 'zod/v4';
import type { Db, Tx } from './client';
import { newId } from './ids';

const reference = z.string().transform((s) => JSON.parse(s) as unknown);

export class ConversationRepository {
  constructor(
    private readonly db: Db,
    private readonly transaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
  ) {}

  /** What this process last wrote per key: adapters call remember() on every interaction. */
  private readonly written = new Map<string, string>();

  async remember(platform: 'slack' | 'teams', key: string, ref: unknown): Promise<void> {
    const value = JSON.stringify(ref);
    const k = `${platform}\u0000${key}`;
    if (this.written.get(k) === value) return;
    await this.transaction((tx) =>
      tx.conversationRef.upsert({
      where: { platform_key: { platform, key } },
      create: { id: newId(), platform, key, reference: value },
      update: { reference: value },
      }),
    );
    this.written.set(k, value);
  }

  async recall(platform: 'slack' | 'teams', key: string): Promise<unknown> {
    const row = await this.db.conversationRef.findUnique({ where: { platform_key: { platform, key } } });
    return row ? reference.parse(row.reference) : undefined;
  }
}
