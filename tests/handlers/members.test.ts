import type { Core } from '../../src/core';
import { describeEachDb, type TestDb } from '../helpers/db';
import { as, coreOn, msg, textOf } from '../helpers/core';

describeEachDb('members, roles and audit', (fresh) => {
  let db: TestDb;
  let core: Core;
  let root: ReturnType<typeof as>;
  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db);
    root = as(core, 'root');
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('an admin adds a member inline; the change and its audit entry are stored together', async () => {
    const r = msg(await root.run('/duty member add handle=alee name="Ana Lee" tz=Europe/Paris email=Ana@Example.org phone="+33 6 12 34 56 78" roles=officer,leader'));
    expect(r.ok).toBe(true);
    const m = await core.store.members.byHandle('alee');
    expect(m).toMatchObject({ displayName: 'Ana Lee', timeZone: 'Europe/Paris', email: 'ana@example.org', phone: '+33612345678', roles: ['leader', 'officer'] });
    const audit = await core.store.audit.list({ entity: 'member', entityId: m?.id, limit: 5 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'create', actorName: '@root', platform: 'console', before: null });
    expect(audit[0]?.after).toMatchObject({ handle: 'alee', roles: ['leader', 'officer'] });
  });

  test('missing required fields answer with the form, pre-filled with what was given', async () => {
    const r = await root.run('/duty member add handle=bob');
    expect(r.kind).toBe('form');
    if (r.kind !== 'form') return;
    expect(r.form.command).toBe('duty member add');
    expect(r.form.values).toEqual({ handle: 'bob' });
    expect(r.form.fields.filter((f) => f.required).map((f) => f.name)).toEqual(['handle', 'name']);
    expect(core.dispatcher.preview('/duty member add handle=bob')).toEqual({ command: 'duty member add', mayOpenForm: true });
    expect(core.dispatcher.preview('/duty member add handle=bob name=Bob')).toEqual({ command: 'duty member add', mayOpenForm: false });
  });

  test('a form submission is validated by the same schema; errors come back beside the fields and nothing is written', async () => {
    const before = await core.store.audit.count();
    const r = await root.submit('duty member add', { handle: 'x', name: '', email: 'not-an-email', tz: 'Mars/Olympus' });
    expect(r.kind).toBe('form');
    if (r.kind !== 'form') return;
    expect(Object.keys(r.form.errors ?? {}).sort()).toEqual(['email', 'handle', 'name', 'tz']);
    expect(r.form.errors?.tz).toMatch(/time zone/);
    expect(await core.store.audit.count()).toBe(before);
    const ok = msg(await root.submit('duty member add', { handle: 'bob', name: 'Bob Ray', roles: ['officer'] }));
    expect(ok.ok).toBe(true);
    expect((await core.store.members.byHandle('bob'))?.roles).toEqual(['officer']);
  });

  test('inline bad values: a clear message naming the field, nothing written', async () => {
    const before = await core.store.audit.count();
    const r = msg(await root.run(`/duty member add handle=carl name="${'x'.repeat(81)}"`));
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.text).toMatch(/name: a name is at most 80 characters/);
    const dup = msg(await root.run('/duty member add handle=alee name="Another"'));
    expect(dup.error?.code).toBe('HANDLE_TAKEN');
    const unknownField = msg(await root.run('/duty member add handle=dora name=Dora colour=blue'));
    expect(unknownField.error?.fields).toHaveProperty('colour');
    expect(await core.store.audit.count()).toBe(before);
  });

  test('roles are checked in one place: a non-admin is refused every admin command', async () => {
    const bob = as(core, 'bob');
    for (const text of ['/duty member add handle=zed name=Zed', '/duty member list', '/duty member remove @alee', '/duty role grant @bob admin', '/duty role list', '/duty audit']) {
      const r = msg(await bob.run(text));
      expect(r.error?.code).toBe('FORBIDDEN');
      expect(r.text).toMatch(/is for admin; you have officer/);
    }
    // Forms and buttons go through the same check: a submitted form is refused the same way.
    const form = msg(await bob.submit('duty member add', { handle: 'zed', name: 'Zed' }));
    expect(form.error?.code).toBe('FORBIDDEN');
    expect(await core.store.members.byHandle('zed')).toBeNull();
    expect(msg(await bob.run('/duty me')).ok).toBe(true);
    const help = textOf(await bob.run('/duty help'));
    expect(help).toContain('/duty me');
    expect(help).not.toContain('/duty member add');
  });

  test('an unregistered caller gets help and a way to be added, nothing else', async () => {
    const stranger = as(core, 'T1:U999', 'slack');
    const r = msg(await stranger.run('/duty member list'));
    expect(r.error?.code).toBe('NOT_REGISTERED');
    expect(r.text).toContain('slack=T1:U999');
    expect(msg(await stranger.run('/duty help')).ok).toBe(true);
  });

  test('linking a Slack account lets that user act; the same account cannot be linked twice', async () => {
    msg(await root.run('/duty member add handle=dee name="Dee Okafor" slack=T1:U777 roles=officer'));
    const dee = as(core, 'T1:U777', 'slack');
    expect(textOf(await dee.run('/duty me'))).toContain('Dee Okafor');
    const again = msg(await root.run('/duty member add handle=dee2 name="Dee Two" slack=T1:U777'));
    expect(again.error?.code).toBe('IDENTITY_TAKEN');
  });

  test('edit: no fields opens a pre-filled form; the submission updates the member it was opened for', async () => {
    const form = await root.run('/duty member edit @alee');
    expect(form.kind).toBe('form');
    if (form.kind !== 'form') return;
    expect(form.form.values).toMatchObject({ handle: 'alee', name: 'Ana Lee', tz: 'Europe/Paris' });
    const saved = msg(await root.submit('duty member edit', { ...form.form.values, name: 'Ana M. Lee', phone: 'none' }, form.form.context));
    expect(saved.ok).toBe(true);
    expect(await core.store.members.byHandle('alee')).toMatchObject({ displayName: 'Ana M. Lee', phone: null });
  });

  test('grant, revoke and the last admin', async () => {
    expect(msg(await root.run('/duty role grant @bob crisis')).text).toMatch(/now has the crisis role/);
    expect(msg(await root.run('/duty role grant @bob crisis')).text).toMatch(/already has/);
    expect(msg(await root.run('/duty role grant @bob captain')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await root.run('/duty role grant @nobody crisis')).error?.code).toBe('UNKNOWN_MEMBER');
    expect(msg(await root.run('/duty role revoke @root admin')).error?.code).toBe('LAST_ADMIN');
    expect(msg(await root.run('/duty member remove @root')).error?.code).toBe('LAST_ADMIN');
    expect(textOf(await root.run('/duty role list'))).toMatch(/crisis\*?: @bob/);
  });

  test('remove keeps history; a removed member can no longer act or be named', async () => {
    expect(msg(await root.run('/duty member remove @dee')).ok).toBe(true);
    expect(msg(await as(core, 'T1:U777', 'slack').run('/duty member list')).error?.code).toBe('NOT_REGISTERED');
    expect(msg(await root.run('/duty role grant @dee officer')).error?.code).toBe('UNKNOWN_MEMBER');
    const audit = textOf(await root.run('/duty audit member @dee'));
    expect(audit).toMatch(/remove member/);
    expect(audit).toMatch(/create member/);
  });

  test('a removed member can be restored; their handle and accounts point to the way back', async () => {
    const r = msg(await root.run('/duty member add handle=dee name="Dee Again"'));
    expect(r.text).toContain('/duty member restore @dee');
    expect(msg(await root.run('/duty member restore @dee')).ok).toBe(true);
    expect(textOf(await as(core, 'T1:U777', 'slack').run('/duty me'))).toContain('Dee Okafor');
    expect(msg(await root.run('/duty member restore @dee')).error?.code).toBe('NOT_REMOVED');
  });

  test('unknown commands get the nearest valid one and its usage', async () => {
    const r = msg(await root.run('/duty membr lst'));
    expect(r.error?.code).toBe('UNKNOWN_COMMAND');
    expect(r.text).toContain('Did you mean /duty member list?');
    expect(msg(await root.run('/dutty help')).text).toContain('/duty help');
    const group = msg(await root.run('/duty member frobnicate'));
    expect(group.text).toMatch(/Did you mean one of these\?/);
    expect(group.text).toContain('/duty member add handle=');
    expect(msg(await root.run('/xyzzy plugh')).error?.code).toBe('UNKNOWN_COMMAND');
    expect(msg(await root.run('/duty member add name="unterminated')).error?.code).toBe('BAD_SYNTAX');
    expect(msg(await root.run(`/duty help ${'x'.repeat(5000)}`)).error?.code).toBe('TOO_LONG');
  });
});

describeEachDb('bootstrap admins', (fresh) => {
  test('a removed bootstrap admin is restored at the next start instead of stopping it', async () => {
    const db = await fresh();
    const first = await coreOn(db, { BOOTSTRAP_ADMINS: 'console:root,slack:T1:UADMIN' });
    const admin = await first.store.members.byIdentity('slack', 'T1:UADMIN');
    expect(admin?.roles).toEqual(['admin']);
    expect(msg(await as(first, 'root').run(`/duty member remove @${admin?.handle}`)).ok).toBe(true);
    await first.close();
    const second = await coreOn(db, { BOOTSTRAP_ADMINS: 'console:root,slack:T1:UADMIN' });
    expect((await second.store.members.byIdentity('slack', 'T1:UADMIN'))?.roles).toEqual(['admin']);
    await second.close();
    await db.drop();
  });
});
