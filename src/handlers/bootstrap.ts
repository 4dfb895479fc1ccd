// Start-up provisioning: BOOTSTRAP_ADMINS become admins, and the console has its operator.
import { parseIdentitySpec, type IdentityRef } from '../domain/member';
import type { Logger } from '../logger';
import { systemMeta, type Store } from '../store/store';

export const CONSOLE_HANDLE = 'console';

function handleFor(i: IdentityRef): string {
  const base = i.externalId.split(':').pop() ?? 'admin';
  return `${i.platform}-${base}`.toLowerCase().replace(/[^a-z0-9._-]/g, '').slice(0, 32);
}

export async function ensureBootstrapAdmins(store: Store, specs: readonly string[], logger: Logger): Promise<void> {
  for (const spec of specs) {
    const identity = parseIdentitySpec(spec);
    // config.ts validated every entry; this only guards direct callers.
    if (!identity) throw new Error(`BOOTSTRAP_ADMINS: "${spec}" is not slack:TEAM:USER, teams:<object id> or console:<handle>`);
    await store.change(systemMeta('bootstrap'), async (w) => {
      // Replicas starting together: one at a time, so the second finds what the first made.
      if (store.provider === 'postgresql') await w.tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('duty-desk:bootstrap'))`);
      let existing =
        identity.platform === 'console'
          ? await store.members.byHandle(identity.externalId.toLowerCase(), w.tx)
          : await store.members.byIdentityIncludingRemoved(identity, w.tx);
      if (existing) {
        // Listed in BOOTSTRAP_ADMINS: the operator wants this account to be an admin, even if
        // someone removed it.
        if (existing.removedAt) {
          existing = await store.members.restore(w, existing);
          logger.warn({ member: existing.handle }, 'bootstrap admin was removed; restored');
        }
        if (await store.members.grant(w, existing, 'admin', null)) logger.info({ member: existing.handle }, 'bootstrap admin granted');
        return;
      }
      let handle = identity.platform === 'console' ? identity.externalId.toLowerCase() : handleFor(identity);
      for (let n = 2; await store.members.byHandle(handle, w.tx); n++) handle = `${handleFor(identity).slice(0, 28)}-${n}`;
      await store.members.create(
        w,
        {
          handle,
          displayName: `Admin (${identity.platform})`,
          identities: identity.platform === 'console' ? [] : [identity],
          roles: ['admin'],
        },
        null,
      );
      logger.info({ member: handle }, 'bootstrap admin created');
    });
  }
}

/** The console's default operator: the person at the server's terminal, an admin. */
export async function ensureConsoleMember(store: Store): Promise<void> {
  if (await store.members.byHandle(CONSOLE_HANDLE)) return;
  await store.change(systemMeta('bootstrap'), async (w) => {
    if (store.provider === 'postgresql') await w.tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('duty-desk:bootstrap'))`);
    if (await store.members.byHandle(CONSOLE_HANDLE, w.tx)) return;
    await store.members.create(w, { handle: CONSOLE_HANDLE, displayName: 'Console operator', roles: ['admin'] }, null);
  });
}
