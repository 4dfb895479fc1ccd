// A request's open transaction is invisible to, and cannot swallow, other requests' work.
import type { Core } from '../../src/core';
import { systemMeta } from '../../src/store/store';
import { as, coreOn } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describeEachDb('transaction isolation', (fresh) => {
  let db: TestDb;
  let core: Core;
  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('uncommitted work is not read by others, and is read once committed', async () => {
    const hold = deferred();
    const inside = deferred();
    const tx = core.store.change(systemMeta('t1'), async (w) => {
      await core.store.members.create(w, { handle: 'pending', displayName: 'Pending' }, null);
      inside.resolve();
      await hold.promise;
    });
    await inside.promise;
    expect(await core.store.members.byHandle('pending')).toBeNull();
    hold.resolve();
    await tx;
    expect(await core.store.members.byHandle('pending')).not.toBeNull();
  });

  test("a rolled-back transaction does not take another request's write with it", async () => {
    const hold = deferred();
    const inside = deferred();
    const failing = core.store
      .change(systemMeta('t2'), async (w) => {
        await core.store.members.create(w, { handle: 'doomed', displayName: 'Doomed' }, null);
        inside.resolve();
        await hold.promise;
        throw new Error('rollback');
      })
      .catch((e: Error) => e.message);
    await inside.promise;
    const other = core.store.conversations.remember('slack', 'member:T1:U9', { userId: 'U9' });
    hold.resolve();
    expect(await failing).toBe('rollback');
    await other;
    expect(await core.store.members.byHandle('doomed')).toBeNull();
    expect(await core.store.conversations.recall('slack', 'member:T1:U9')).toEqual({ userId: 'U9' });
    const audit = await core.store.audit.list({ entity: 'member', limit: 50 });
    expect(audit.some((a) => (a.after as { handle?: string } | null)?.handle === 'doomed')).toBe(false);
  });

  test('two admins removing each other at once leave one admin', async () => {
    const root = await core.store.members.byHandle('root');
    expect(root?.roles).toContain('admin');
    await core.store.change(systemMeta('t3'), (w) => core.store.members.create(w, { handle: 'adm2', displayName: 'Second', roles: ['admin'] }, null));
    const [a, b] = await Promise.all([as(core, 'root').run('/duty role revoke @adm2 admin'), as(core, 'adm2').run('/duty role revoke @root admin')]);
    const codes = [a, b].map((r) => (r.kind === 'message' ? (r.error?.code ?? 'OK') : 'FORM')).sort();
    expect(codes).toEqual(['LAST_ADMIN', 'OK']);
    expect((await core.store.members.list({ role: 'admin' })).length).toBe(1);
  });
});
