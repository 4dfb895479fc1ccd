import type { IdentityRef, Member, MemberRef } from '../domain/member';
import type { Platform } from '../domain/invocation';
import { isRole, type Role } from '../domain/roles';
import type { Db, Tx } from './client';
import { FieldCipher, sealColumns } from './field-crypto';
import { dateOrNull, inList, type SqlRunner } from './sql';
import { newId } from './ids';
import type { Writer } from './store';

const include = { identities: true, roles: true } as const;

type Row = {
  id: string;
  handle: string;
  displayName: string;
  timeZone: string | null;
  email: string | null;
  phone: string | null;
  removedAt: Date | null;
  identities: { platform: string; externalId: string }[];
  roles: { role: string }[];
};

/** A member's own contact details: personal data, sealed like the citizens' (DATA_ENCRYPTION_KEY). */
export const MEMBER_SEALED = ['email', 'phone'] as const;

function toMember(r: Row, cipher: FieldCipher): Member {
  return {
    id: r.id,
    handle: r.handle,
    displayName: r.displayName,
    timeZone: r.timeZone,
    email: cipher.openOrNull(r.email, { table: 'Member', column: 'email', id: r.id }),
    phone: cipher.openOrNull(r.phone, { table: 'Member', column: 'phone', id: r.id }),
    removedAt: r.removedAt,
    roles: r.roles
      .map((g) => g.role)
      .filter(isRole)
      .sort(),
    identities: r.identities.map((i) => ({ platform: i.platform as Platform, externalId: i.externalId })),
  };
}

/** What the audit log keeps of a member. */
export function memberSnapshot(m: Member): Record<string, unknown> {
  return {
    handle: m.handle,
    displayName: m.displayName,
    timeZone: m.timeZone,
    // Whether they are set, not what they are: the audit log is not encrypted.
    email: m.email ? '[contact]' : null,
    phone: m.phone ? '[contact]' : null,
    roles: m.roles,
    identities: m.identities.map((i) => `${i.platform}:${i.externalId}`),
    removedAt: m.removedAt?.toISOString() ?? null,
  };
}

export type MemberName = Pick<Member, 'id' | 'handle' | 'displayName' | 'timeZone' | 'removedAt'>;

export interface NewMember {
  handle: string;
  displayName: string;
  timeZone?: string | null;
  email?: string | null;
  phone?: string | null;
  identities?: IdentityRef[];
  roles?: Role[];
}

export type MemberPatch = Partial<Pick<Member, 'displayName' | 'timeZone' | 'email' | 'phone'>> & {
  handle?: string;
  addIdentities?: IdentityRef[];
};

/** How long another replica's change to a member may take to be seen here. */
export const IDENTITY_CACHE_MS = 2000;

export class MemberRepository {
  private readonly identityCache = new Map<string, { member: Member | null; at: number }>();
  /** A lookup that overlapped a change must not cache what it read. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher = FieldCipher.plaintext(),
  ) {}

  /** Called after every committed (or rolled back) change. */
  invalidate(): void {
    this.generation++;
    this.identityCache.clear();
    this.idCache.clear();
  }

  private readonly idCache = new Map<string, { member: Member | null; at: number }>();

  /**
   * byId through the same short-lived cache: every chat send looks its recipient up, and a burst
   * of pages to a few people should not cost a query each. Fresh within IDENTITY_CACHE_MS.
   */
  async byIdCached(id: string): Promise<Member | null> {
    const cached = this.idCache.get(id);
    if (cached && Date.now() - cached.at < IDENTITY_CACHE_MS) return cached.member;
    const generation = this.generation;
    const member = await this.byId(id);
    if (generation === this.generation) {
      if (this.idCache.size >= 10_000) this.idCache.clear();
      this.idCache.set(id, { member, at: Date.now() });
    }
    return member;
  }

  /**
   * Every chat interaction starts with this lookup, so outside transactions it is served from a
   * short-lived cache. Writes through this repository clear it at once; another replica's
   * writes are seen within IDENTITY_CACHE_MS.
   */
  async byIdentity(platform: Platform, externalId: string, client: Db | Tx = this.db): Promise<Member | null> {
    const key = `${platform}\u0000${externalId}`;
    const cached = client === this.db ? this.identityCache.get(key) : undefined;
    if (cached && Date.now() - cached.at < IDENTITY_CACHE_MS) return cached.member;
    const generation = this.generation;
    const idn = await client.identity.findUnique({
      where: { platform_externalId: { platform, externalId } },
      include: { member: { include } },
    });
    const member = idn && !idn.member.removedAt ? toMember(idn.member, this.cipher) : null;
    if (client === this.db && generation === this.generation) {
      if (this.identityCache.size >= 10_000) this.identityCache.clear();
      this.identityCache.set(key, { member, at: Date.now() });
    }
    return member;
  }

  async byHandle(handle: string, client: Db | Tx = this.db): Promise<Member | null> {
    const r = await client.member.findUnique({ where: { handle }, include });
    return r ? toMember(r, this.cipher) : null;
  }

  async byId(id: string, client: Db | Tx = this.db): Promise<Member | null> {
    const r = await client.member.findUnique({ where: { id }, include });
    return r ? toMember(r, this.cipher) : null;
  }

  /** Active members only: a removed member cannot be named in commands. */
  async resolve(ref: MemberRef, client: Db | Tx = this.db): Promise<Member | null> {
    const m =
      ref.kind === 'handle'
        ? await this.byHandle(ref.handle, client)
        : await this.byIdentity(ref.identity.platform, ref.identity.externalId, client);
    return m && !m.removedAt ? m : null;
  }

  async list(opts: { includeRemoved?: boolean; role?: Role } = {}): Promise<Member[]> {
    const rows = await this.db.member.findMany({
      where: {
        ...(opts.includeRemoved ? {} : { removedAt: null }),
        ...(opts.role ? { roles: { some: { role: opts.role } } } : {}),
      },
      include,
      orderBy: { handle: 'asc' },
    });
    return rows.map((r) => toMember(r, this.cipher));
  }

  /** Names and zones of these members (removed ones too), in plain SQL (hot paths). */
  static async namesVia(sql: SqlRunner, ids: string[]): Promise<Map<string, MemberName>> {
    if (!ids.length) return new Map();
    const rows = await sql.all<{ id: string; handle: string; displayName: string; timeZone: string | null; removedAt: unknown }>(
      `SELECT "id", "handle", "displayName", "timeZone", "removedAt" FROM "Member" WHERE "id" IN (${inList(ids.length)})`,
      ids,
    );
    return new Map(rows.map((r) => [r.id, { ...r, removedAt: dateOrNull(r.removedAt) }]));
  }

  /** Names and zones of these members (removed ones too). */
  async names(ids: string[], client: Db | Tx = this.db): Promise<Map<string, MemberName>> {
    if (!ids.length) return new Map();
    const rows = await client.member.findMany({ where: { id: { in: ids } }, select: { id: true, handle: true, displayName: true, timeZone: true, removedAt: true } });
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Ids of the active members with a role. */
  async idsWithRole(role: Role, client: Db | Tx = this.db): Promise<string[]> {
    const rows = await client.member.findMany({ where: { removedAt: null, roles: { some: { role } } }, select: { id: true }, orderBy: { handle: 'asc' } });
    return rows.map((r) => r.id);
  }

  /** Names and zones of every member, removed ones too: one query, for labelling output. */
  async directory(): Promise<MemberName[]> {
    return this.db.member.findMany({ select: { id: true, handle: true, displayName: true, timeZone: true, removedAt: true } });
  }

  async identityOwner(identity: IdentityRef, client: Db | Tx = this.db): Promise<string | null> {
    const r = await client.identity.findUnique({
      where: { platform_externalId: { platform: identity.platform, externalId: identity.externalId } },
    });
    return r?.memberId ?? null;
  }

  async create(w: Writer, m: NewMember, grantedBy: string | null): Promise<Member> {
    const id = newId();
    await w.tx.member.create({
      data: {
        id,
        handle: m.handle,
        displayName: m.displayName,
        timeZone: m.timeZone ?? null,
        ...sealColumns(this.cipher, 'Member', id, { email: m.email ?? null, phone: m.phone ?? null }, MEMBER_SEALED),
        identities: { create: (m.identities ?? []).map((i) => ({ id: newId(), ...i })) },
        roles: { create: (m.roles ?? []).map((role) => ({ role, grantedBy })) },
      },
    });
    const created = (await this.byId(id, w.tx)) as Member;
    await w.audit('member', id, 'create', null, memberSnapshot(created));
    return created;
  }

  async update(w: Writer, before: Member, patch: MemberPatch): Promise<Member> {
    const { addIdentities, ...fields } = patch;
    await w.tx.member.update({
      where: { id: before.id },
      data: {
        ...sealColumns(this.cipher, 'Member', before.id, fields, MEMBER_SEALED),
        identities: addIdentities?.length ? { create: addIdentities.map((i) => ({ id: newId(), ...i })) } : undefined,
      },
    });
    const after = (await this.byId(before.id, w.tx)) as Member;
    await w.audit('member', before.id, 'update', memberSnapshot(before), memberSnapshot(after));
    return after;
  }

  async remove(w: Writer, before: Member, at: Date): Promise<Member> {
    await w.tx.member.update({ where: { id: before.id }, data: { removedAt: at } });
    const after = (await this.byId(before.id, w.tx)) as Member;
    await w.audit('member', before.id, 'remove', memberSnapshot(before), memberSnapshot(after));
    return after;
  }

  async restore(w: Writer, before: Member): Promise<Member> {
    await w.tx.member.update({ where: { id: before.id }, data: { removedAt: null } });
    const after = (await this.byId(before.id, w.tx)) as Member;
    await w.audit('member', before.id, 'restore', memberSnapshot(before), memberSnapshot(after));
    return after;
  }

  /** Finds the member behind an identity, removed or not. */
  async byIdentityIncludingRemoved(identity: IdentityRef, client: Db | Tx = this.db): Promise<Member | null> {
    const id = await this.identityOwner(identity, client);
    return id ? this.byId(id, client) : null;
  }

  async grant(w: Writer, member: Member, role: Role, grantedBy: string | null): Promise<boolean> {
    if (member.roles.includes(role)) return false;
    await w.tx.roleGrant.create({ data: { memberId: member.id, role, grantedBy } });
    await w.audit('member', member.id, 'role.grant', { roles: member.roles }, { roles: [...member.roles, role].sort() });
    return true;
  }

  async revoke(w: Writer, member: Member, role: Role): Promise<boolean> {
    if (!member.roles.includes(role)) return false;
    await w.tx.roleGrant.delete({ where: { memberId_role: { memberId: member.id, role } } });
    await w.audit('member', member.id, 'role.revoke', { roles: member.roles }, { roles: member.roles.filter((r) => r !== role) });
    return true;
  }

  /**
   * Inside a change: locks the admin grants on PostgreSQL, so two admins removing each other at
   * once cannot both pass the last-admin check (SQLite has one writer at a time anyway).
   */
  async countAdmins(tx: Tx, provider: 'sqlite' | 'postgresql'): Promise<number> {
    if (provider === 'postgresql') {
      const rows = await tx.$queryRaw<{ memberId: string }[]>`
        SELECT g."memberId" FROM "RoleGrant" g JOIN "Member" m ON m."id" = g."memberId"
        WHERE g."role" = 'admin' AND m."removedAt" IS NULL FOR UPDATE OF g`;
      return rows.length;
    }
    return tx.roleGrant.count({ where: { role: 'admin', member: { removedAt: null } } });
  }

  /** Re-reads a member inside a change, so its "before" is current and races are seen. */
  async current(w: Writer, id: string): Promise<Member | null> {
    const m = await this.byId(id, w.tx);
    return m && !m.removedAt ? m : null;
  }
}
