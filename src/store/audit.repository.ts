import { z } from 'zod/v4';
import type { Platform } from '../domain/invocation';
import type { Db, Tx } from './client';

export interface AuditMeta {
  actorId: string | null;
  actorName: string;
  platform: Platform | 'system';
  requestId: string;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actorId: string | null;
  actorName: string;
  platform: string;
  requestId: string;
  entity: string;
  entityId: string;
  action: string;
  before: unknown;
  after: unknown;
}

const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'audit snapshot is not JSON' });
    return z.NEVER;
  }
});

function snapshot(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

export class AuditRepository {
  constructor(private readonly db: Db) {}

  static async write(
    tx: Tx,
    meta: AuditMeta,
    e: { entity: string; entityId: string; action: string; before: unknown; after: unknown },
  ): Promise<void> {
    await tx.auditEntry.create({
      data: {
        actorId: meta.actorId,
        actorName: meta.actorName,
        platform: meta.platform,
        requestId: meta.requestId,
        entity: e.entity,
        entityId: e.entityId,
        action: e.action,
        before: snapshot(e.before),
        after: snapshot(e.after),
      },
    });
  }

  async list(filter: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]> {
    const rows = await this.db.auditEntry.findMany({
      where: { entity: filter.entity, entityId: filter.entityId },
      orderBy: { id: 'desc' },
      take: filter.limit,
    });
    return rows.map((r) => ({
      ...r,
      before: r.before === null ? null : json.parse(r.before),
      after: r.after === null ? null : json.parse(r.after),
    }));
  }

  async count(): Promise<number> {
    return this.db.auditEntry.count();
  }
}
