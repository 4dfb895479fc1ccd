import pino from 'pino';
import type { Core } from '../../src/core';
import { ensureDefaultPolicies } from '../../src/handlers/page/default-policies';
import { Store } from '../../src/store/store';
import { as, coreOn, manualClock, msg, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';

const MIN = 60_000;

describeEachDb('escalation policies', (fresh) => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-11-22T16:00:00Z');
  const root = () => as(core, 'root');
  const alee = () => as(core, 'alee');
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(s) });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, {}, clock.now);
    for (const [h, n, r] of [['alee', 'Ana Lee', 'officer'], ['lena', 'Lena Park', 'leader'], ['bob', 'Bob Ray', 'officer']]) {
      expect(msg(await root().run(`/duty member add handle=${h} name="${n}" roles=${r}`)).ok).toBe(true);
      ids[h as string] = (await core.store.members.byHandle(h as string))?.id as string;
    }
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  const policies = () => core.store.pages.policies();
  const snapshot = async () => ({ policies: await policies(), audit: await core.store.audit.count() });
  const rosterId = async (name: string) => (await core.store.rosters.byName(name))?.id as string;

  test('first start without a roster: only Leadership; replicas starting together create it once', async () => {
    // PostgreSQL: two replicas, each with its own Store (own pool). SQLite is one process, one
    // writer: concurrent calls over one Store.
    const other = db.provider === 'postgresql' ? Store.open(db.url) : core.store;
    try {
      await Promise.all([ensureDefaultPolicies(core.store, logger), ensureDefaultPolicies(other, logger), ensureDefaultPolicies(core.store, logger), ensureDefaultPolicies(other, logger)]);
    } finally {
      if (other !== core.store) await other.close();
    }
    const all = await policies();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ name: 'Leadership', builtIn: 'leadership', repeat: 2, steps: [{ targets: [{ kind: 'role', role: 'leader' }], delayMs: 5 * MIN }] });
    const audit = await core.store.audit.list({ entity: 'policy', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'create', actorName: 'system', platform: 'system' });
    // Again: nothing new.
    const before = await snapshot();
    await ensureDefaultPolicies(core.store, logger);
    expect(await snapshot()).toEqual(before);
  });

  test('bad policy input is refused with the field named, and nothing changes', async () => {
    const before = await snapshot();
    const cases: [string, string, RegExp][] = [
      ['/page policy new name=Night steps="roster:Consular/primary 5m; role:leader"', 'steps', /No roster named "Consular"/],
      ['/page policy new name=Night steps="role:sheriff"', 'steps', /"sheriff" is not a role/],
      ['/page policy new name=Night steps="roster:Consular/sideways"', 'steps', /not a roster layer/],
      ['/page policy new name=Night steps="role:leader 5"', 'steps', /needs a unit/],
      ['/page policy new name=Night steps="role:leader 48h"', 'steps', /too long/],
      ['/page policy new name=Night steps=";"', 'steps', /at least one step/],
      ['/page policy new name=Night steps="role:leader" repeat=10', 'repeat', /0 to 9/],
      ['/page policy new name=Night steps="role:leader" repeat=lots', 'repeat', /0 to 9/],
      ['/page policy new name="!!" steps="role:leader"', 'name', /letters, digits/],
      ['/page policy new name=LEADERSHIP steps="role:leader"', 'name', /already a policy named "LEADERSHIP"/],
      ['/page policy new name=Night steps="role:leader" colour=red', 'colour', /unknown field/],
      ['/page policy show Night', 'name', /no policy "Night"\. Policies: Leadership/],
      ['/page policy remove Night', 'name', /no policy "Night"/],
      ['/page policy edit Night repeat=1', 'policy', /no policy "Night"/],
      ['/page policy edit Leadership steps="@ghost"', 'steps', /No member @ghost/],
      ['/page policy edit Leadership repeat=-1', 'repeat', /0 to 9/],
    ];
    for (const [text, field, pattern] of cases) {
      const r = msg(await root().run(text));
      expect({ text, ok: r.ok }).toEqual({ text, ok: false });
      expect({ text, fields: Object.keys(r.error?.fields ?? {}) }).toEqual({ text, fields: [field] });
      expect(r.text).toMatch(pattern);
    }
    // Every unknown target at once, in one message on the steps field.
    const many = msg(await root().run('/page policy new name=Night steps="roster:Consular/primary 5m; @ghost+@alee 2m; roster:Visa/both; @nobody"'));
    expect(many.error?.code).toBe('UNKNOWN_TARGET');
    expect(many.error?.fields?.steps).toBe('No roster named "Consular". No member @ghost. No roster named "Visa". No member @nobody.');
    // Admins only, for changes.
    for (const text of ['/page policy new name=Night steps="role:leader"', '/page policy edit Leadership repeat=1', '/page policy remove Leadership']) {
      expect(msg(await alee().run(text)).error?.code).toBe('FORBIDDEN');
    }
    expect(await snapshot()).toEqual(before);
  });

  test('a missing field opens the form, with the steps syntax as help', async () => {
    const r = await root().run('/page policy new name="Night desk"');
    expect(r.kind).toBe('form');
    if (r.kind !== 'form') return;
    expect(r.form.values).toEqual({ name: 'Night desk' });
    expect(r.form.fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['name', 'text', true],
      ['steps', 'longText', true],
      ['repeat', 'number', false],
    ]);
    expect(r.form.fields[1]?.help).toMatch(/roster:<name>\[\/primary\|\/backup\|\/both\], @handle, role:/);
    // A submitted form goes through the same checks; errors come back beside the fields.
    const bad = await root().submit('page policy new', { name: 'Night desk', steps: 'roster:Nowhere', repeat: '1' });
    expect(bad.kind).toBe('form');
    if (bad.kind === 'form') expect(bad.form.errors?.steps).toBe('No roster named "Nowhere".');
  });

  test('Duty officer appears once a roster exists, on the first roster; a policy an admin named so blocks it', async () => {
    // An admin's own "duty officer" comes first; creating a roster then leaves it alone.
    expect(msg(await root().run('/page policy new name="duty officer" steps="role:admin"')).ok).toBe(true);
    // Made in this order, listed by name: Consular comes first.
    for (const name of ['Visa', 'Consular']) {
      expect(msg(await root().run(`/duty roster new name=${name} members="@alee @bob" shift=1w handoff=08:00`)).ok).toBe(true);
    }
    const before = await snapshot();
    await ensureDefaultPolicies(core.store, logger);
    expect(await snapshot()).toEqual(before);
    const warning = logLines.map((l) => JSON.parse(l) as { level: number; policy?: string; msg: string }).find((l) => l.level === 40);
    expect(warning).toMatchObject({ policy: 'Duty officer', msg: expect.stringMatching(/already has this built-in name/) });

    expect(msg(await root().run('/page policy remove duty officer')).ok).toBe(true);
    await ensureDefaultPolicies(core.store, logger);
    const dutyOfficer = await core.store.pages.policyByBuiltIn('duty-officer');
    const consular = await rosterId('Consular');
    expect(dutyOfficer).toMatchObject({
      name: 'Duty officer',
      repeat: 2,
      steps: [
        { targets: [{ kind: 'roster', rosterId: consular, layer: 'primary' }], delayMs: 5 * MIN },
        { targets: [{ kind: 'roster', rosterId: consular, layer: 'backup' }], delayMs: 5 * MIN },
        { targets: [{ kind: 'role', role: 'leader' }], delayMs: 10 * MIN },
      ],
    });
    expect((await policies()).map((p) => p.name)).toEqual(['Leadership', 'Duty officer']);
  });

  test('create: names with spaces, members, roles and rosters; audited; list and show write the steps back', async () => {
    const r = msg(await root().run('/page policy new name="Night desk" steps="roster:consular 5m; @alee + role:leaders 2m; roster:Visa/both" repeat=2'));
    expect(r.ok).toBe(true);
    expect(r.title).toBe('Policy "Night desk" created');
    const p = await core.store.pages.policyByName('night desk');
    expect(p).toMatchObject({
      name: 'Night desk',
      builtIn: null,
      repeat: 2,
      steps: [
        { targets: [{ kind: 'roster', rosterId: await rosterId('Consular'), layer: 'primary' }], delayMs: 5 * MIN },
        { targets: [{ kind: 'member', memberId: ids.alee }, { kind: 'role', role: 'leader' }], delayMs: 2 * MIN },
        { targets: [{ kind: 'roster', rosterId: await rosterId('Visa'), layer: 'both' }], delayMs: 5 * MIN },
      ],
    });
    const [entry] = await core.store.audit.list({ entity: 'policy', entityId: p?.id, limit: 5 });
    expect(entry).toMatchObject({ action: 'create', actorName: '@root', before: null, after: { name: 'Night desk', repeat: 2 } });

    // Any member may read them.
    const list = msg(await alee().run('/page policy list'));
    expect(list.rows?.map((x) => x.text)).toEqual([
      '*Leadership* (built-in): role:leader 5m — repeat 2',
      '*Duty officer* (built-in): roster:Consular/primary 5m; roster:Consular/backup 5m; role:leader 10m — repeat 2',
      '*Night desk*: roster:Consular/primary 5m; @alee+role:leader 2m; roster:Visa/both 5m — repeat 2',
    ]);
    const show = textOf(await alee().run('/page policy show NIGHT DESK'));
    expect(show).toContain('Policy "Night desk"');
    expect(show).toContain('1. roster:Consular/primary — then 5m to the next step');
    expect(show).toContain('2. @alee + role:leader — then 2m to the next step');
    expect(show).toContain('3. roster:Visa/both — then 5m before starting again');
    expect(show).toContain('Steps: roster:Consular/primary 5m; @alee+role:leader 2m; roster:Visa/both 5m');
    expect(show).toContain('one pass 12m; escalation ends after 36m');
    expect(textOf(await alee().run('/page policy show Leadership'))).toContain('Built in: yes');
  });

  test('edit with no changes opens the form pre-filled; a submission saves, audited; unchanged saves write nothing', async () => {
    const p = await core.store.pages.policyByName('Night desk');
    const form = await root().run('/page policy edit Night desk');
    expect(form.kind).toBe('form');
    if (form.kind !== 'form') return;
    expect(form.form).toMatchObject({
      command: 'page policy edit',
      context: p?.id,
      values: { name: 'Night desk', steps: 'roster:Consular/primary 5m; @alee+role:leader 2m; roster:Visa/both 5m', repeat: '2' },
    });
    // Saved as it opened: nothing to write.
    const before = await snapshot();
    const same = msg(await root().submit('page policy edit', form.form.values ?? {}, form.form.context));
    expect(same.title).toBe('Policy "Night desk" unchanged');
    expect(await snapshot()).toEqual(before);

    const saved = msg(await root().submit('page policy edit', { ...form.form.values, steps: 'roster:Consular/both 3m; role:leader', repeat: '1' }, form.form.context));
    expect(saved.ok).toBe(true);
    const after = await core.store.pages.policyById(p?.id as string);
    expect(after).toMatchObject({ name: 'Night desk', repeat: 1, steps: [{ delayMs: 3 * MIN }, { delayMs: 5 * MIN }] });
    const [entry] = await core.store.audit.list({ entity: 'policy', entityId: p?.id, limit: 1 });
    expect(entry).toMatchObject({ action: 'update', actorName: '@root', before: { repeat: 2 }, after: { repeat: 1 } });

    // A bad submission comes back as the form with the error beside the field.
    const bad = await root().submit('page policy edit', { ...form.form.values, steps: '@ghost' }, form.form.context);
    expect(bad.kind).toBe('form');
    if (bad.kind === 'form') expect(bad.form.errors).toEqual({ steps: 'No member @ghost.' });
  });

  test('edit inline: rename (case-insensitive clash refused), change repeat; built-ins are editable', async () => {
    const before = await snapshot();
    const clash = msg(await root().run('/page policy edit Night desk name="DUTY OFFICER"'));
    expect(clash.error?.code).toBe('NAME_TAKEN');
    expect(clash.error?.fields).toEqual({ name: 'name taken' });
    expect(await snapshot()).toEqual(before);

    expect(msg(await root().run('/page policy edit night desk name="Night Desk" repeat=0')).ok).toBe(true);
    expect(await core.store.pages.policyByName('Night desk')).toMatchObject({ name: 'Night Desk', repeat: 0 });
    expect(textOf(await alee().run('/page policy list'))).toContain('*Night Desk*: roster:Consular/both 3m; role:leader 5m — no repeat');
  });

  test('remove: built-ins cannot be; others are archived, audited, and free their name', async () => {
    const before = await snapshot();
    const builtIn = msg(await root().run('/page policy remove Leadership'));
    expect(builtIn.error?.code).toBe('BUILT_IN');
    expect(builtIn.text).toMatch(/"Leadership" is built in and cannot be removed/);
    expect(builtIn.error?.fields).toHaveProperty('name');
    expect(await snapshot()).toEqual(before);

    const p = await core.store.pages.policyByName('Night Desk');
    const r = msg(await root().run('/page policy remove Night Desk'));
    expect(r.ok).toBe(true);
    expect((await policies()).map((x) => x.name)).toEqual(['Leadership', 'Duty officer']);
    expect((await core.store.pages.policyById(p?.id as string))?.archivedAt).toEqual(clock.now());
    const [entry] = await core.store.audit.list({ entity: 'policy', entityId: p?.id, limit: 1 });
    expect(entry).toMatchObject({ action: 'remove', actorName: '@root', after: null });
    expect(msg(await root().run('/page policy show Night Desk')).error?.code).toBe('UNKNOWN_POLICY');
    expect(msg(await root().run('/page policy new name="Night Desk" steps="role:leader"')).ok).toBe(true);
  });

  test('a removed member in a policy is pointed out', async () => {
    expect(msg(await root().run('/page policy new name="Lena first" steps="@lena 2m; role:leader"')).ok).toBe(true);
    expect(textOf(await root().run('/page policy show Lena first'))).not.toContain('Attention');
    expect(msg(await root().run('/duty member remove @lena')).ok).toBe(true);
    expect(textOf(await root().run('/page policy show Lena first'))).toMatch(/Attention: no longer pages @lena \(removed\); edit its steps/);
    // Saving it again needs the removed member taken out.
    expect(msg(await root().run('/page policy edit Lena first repeat=1')).ok).toBe(true);
    expect(msg(await root().run('/page policy edit Lena first steps="@lena 2m; role:leader"')).error?.fields).toEqual({ steps: 'No member @lena.' });
  });

  test('built-ins an admin changed are never overwritten at the next start', async () => {
    expect(msg(await root().run('/page policy edit Duty officer repeat=1 steps="roster:Visa 2m; role:leader"')).ok).toBe(true);
    expect(msg(await root().run('/page policy edit Leadership name=Leaders')).ok).toBe(true);
    const before = await snapshot();
    await ensureDefaultPolicies(core.store, logger);
    await ensureDefaultPolicies(core.store, logger);
    expect(await snapshot()).toEqual(before);
    expect(await core.store.pages.policyByName('Leadership')).toBeNull();
    expect(await core.store.pages.policyByBuiltIn('duty-officer')).toMatchObject({ repeat: 1, steps: [{ targets: [{ kind: 'roster', rosterId: await rosterId('Visa') }] }, {}] });
  });

  test('a replica that loses the race on the unique builtIn column moves on', async () => {
    // Two writers at once need PostgreSQL; SQLite has one.
    if (db.provider !== 'postgresql') return;
    await core.store.transaction((tx) => tx.escalationPolicy.deleteMany({ where: { builtIn: 'leadership' } }));
    const other = Store.open(db.url);
    try {
      // A replica that took no lock inserts the built-in and has not committed yet.
      let commit = (): void => undefined;
      const mayCommit = new Promise<void>((r) => (commit = r));
      let inserted = (): void => undefined;
      const didInsert = new Promise<void>((r) => (inserted = r));
      const racer = other.transaction(async (tx) => {
        await tx.escalationPolicy.create({ data: { id: 'racer', name: 'Leadership', steps: JSON.stringify([{ targets: [{ kind: 'role', role: 'leader' }], delayMs: 5 * MIN }]), repeat: 2, builtIn: 'leadership' } });
        inserted();
        await mayCommit;
      });
      await didInsert;
      const ensuring = ensureDefaultPolicies(core.store, logger);
      // Ours sees nothing committed, inserts too, and waits on the unique index.
      for (let i = 0; i < 200; i++) {
        const rows = await other.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        if (Number(rows[0]?.n ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      commit();
      await racer;
      await expect(ensuring).resolves.toBeUndefined();
      expect((await core.store.pages.policyByBuiltIn('leadership'))?.id).toBe('racer');
    } finally {
      await other.close();
    }
  });
});
