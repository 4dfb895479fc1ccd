// SITREP races on both databases: drafts started at once give one draft; publishes of the same
// draft at once (a double click across two replicas) publish once, with one set of sends.
import { as, coreOn, msg } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';
import type { Core } from '../../src/core';

describeEachDb('SITREP races', (fresh) => {
  let db: TestDb;
  let cores: Core[];
  beforeAll(async () => {
    db = await fresh();
    // PostgreSQL: two cores over one database, as two replicas. SQLite is one process by design.
    cores = db.provider === 'postgresql' ? [await coreOn(db), await coreOn(db)] : [await coreOn(db)];
    const root = as(cores[0] as Core, 'root');
    expect(msg(await root.run('/crisis open name="Flood" code=FLD region=Somewhere leadership=slack:C1')).ok).toBe(true);
    expect(msg(await root.run('/person add name="Some One" crisis=FLD')).ok).toBe(true);
  });
  afterAll(async () => {
    for (const c of cores) await c.close();
    await db.drop();
  });

  test('ten /sitrep at once: one draft', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => as(cores[i % cores.length] as Core, 'root').run('/sitrep FLD')));
    for (const r of replies) expect(msg(r).ok).toBe(true);
    const drafts = await (cores[0] as Core).store.db.sitrep.count({ where: { status: 'draft' } });
    expect(drafts).toBe(1);
  });

  test('ten publishes of the same draft at once: SITREP 1 once, one channel send', async () => {
    const draft = await (cores[0] as Core).store.sitreps.draftOf(((await (cores[0] as Core).store.crises.byCode('FLD')) as { id: string }).id);
    expect(draft).not.toBeNull();
    const command = `/sitrep publish FLD draft=${draft?.id} version=${draft?.version}`;
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => as(cores[i % cores.length] as Core, 'root').run(command)));
    const texts = replies.map((r) => msg(r).text ?? '');
    expect(texts.filter((t) => t.startsWith('Published SITREP 1'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('SITREP 1 was already published'))).toHaveLength(9);
    const store = (cores[0] as Core).store;
    expect(await store.db.sitrep.count({ where: { status: 'published' } })).toBe(1);
    expect(await store.db.job.count({ where: { kind: 'sitrep-send' } })).toBe(1);
  });
});
