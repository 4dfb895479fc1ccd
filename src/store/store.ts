// The store: a Prisma client plus the repositories. Every change goes through `change()`, which
// writes the audit entry in the same transaction as the change it records.
import type { Platform } from '../domain/invocation';
import { createPrisma, type Db, type Tx } from './client';
import { AuditRepository, type AuditMeta } from './audit.repository';
import { MemberRepository } from './member.repository';
import { ConversationRepository } from './conversation.repository';

export type { AuditMeta };

export interface Writer {
  tx: Tx;
  /** Records a change to an entity; before/after are plain objects (null on create/delete). */
  audit(entity: string, entityId: string, action: string, before: unknown, after: unknown): Promise<void>;
}

export class Store {
  readonly members: MemberRepository;
  readonly audit: AuditRepository;
  readonly conversations: ConversationRepository;

  constructor(readonly db: Db) {
    this.members = new MemberRepository(db);
    this.audit = new AuditRepository(db);
    this.conversations = new ConversationRepository(db);
  }

  static open(url: string): Store {
    return new Store(createPrisma(url));
  }

  async change<T>(meta: AuditMeta, fn: (w: Writer) => Promise<T>): Promise<T> {
    return this.db.$transaction(async (tx) => {
      const writer: Writer = {
        tx,
        audit: (entity, entityId, action, before, after) =>
          AuditRepository.write(tx, meta, { entity, entityId, action, before, after }),
      };
      return fn(writer);
    });
  }

  /** Cheap round trip for /healthz. */
  async ping(): Promise<void> {
    await this.db.$queryRawUnsafe('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.$disconnect();
  }
}

export { newId } from './ids';

export function systemMeta(requestId: string, platform: Platform | 'system' = 'system'): AuditMeta {
  return { actorId: null, actorName: 'system', platform, requestId };
}
