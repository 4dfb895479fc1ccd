// The store: Prisma clients plus the repositories. Every change goes through `change()`, which
// writes the audit entry in the same transaction as the change it records.
import type { Platform } from '../domain/invocation';
import type { Provider } from './migrate';
import { createPrisma, type Clients, type Db, type Tx } from './client';
import { AuditRepository, type AuditMeta } from './audit.repository';
import { MemberRepository } from './member.repository';
import { ConversationRepository } from './conversation.repository';
import { RosterRepository } from './roster.repository';
import { PageRepository } from './page.repository';

export type { AuditMeta };

export interface Writer {
  tx: Tx;
  /** Records a change to an entity; before/after are plain objects (null on create/delete). */
  audit(entity: string, entityId: string, action: string, before: unknown, after: unknown): Promise<void>;
}

export class Store {
  readonly provider: Provider;
  /** Reads (committed data only). Write with change() or transaction(). */
  readonly db: Db;
  private readonly writer: Db;
  readonly members: MemberRepository;
  readonly audit: AuditRepository;
  readonly conversations: ConversationRepository;
  readonly rosters: RosterRepository;
  readonly pages: PageRepository;

  constructor(clients: Clients) {
    this.provider = clients.provider;
    this.db = clients.read;
    this.writer = clients.write;
    this.members = new MemberRepository(this.db);
    this.audit = new AuditRepository(this.db);
    this.conversations = new ConversationRepository(this.db, (fn) => this.transaction(fn));
    this.rosters = new RosterRepository(this.db);
    this.pages = new PageRepository(this.db);
  }

  static open(url: string): Store {
    return new Store(createPrisma(url));
  }

  /** A write transaction without an audit entry: for bookkeeping that is not user data. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.writer.$transaction(fn, { timeout: 15_000, maxWait: 15_000 });
  }

  async change<T>(meta: AuditMeta, fn: (w: Writer) => Promise<T>): Promise<T> {
    try {
      return await this.transaction(async (tx) => {
        const writer: Writer = {
          tx,
          audit: (entity, entityId, action, before, after) =>
            AuditRepository.write(tx, meta, { entity, entityId, action, before, after }),
        };
        return fn(writer);
      });
    } finally {
      // After commit (or rollback): nothing read before it may be served from a cache.
      this.members.invalidate();
    }
  }

  /** Cheap round trip for /healthz. */
  async ping(): Promise<void> {
    await this.db.$queryRawUnsafe('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.$disconnect();
    if (this.writer !== this.db) await this.writer.$disconnect();
  }
}

export { newId } from './ids';

export function systemMeta(requestId: string, platform: Platform | 'system' = 'system'): AuditMeta {
  return { actorId: null, actorName: 'system', platform, requestId };
}
