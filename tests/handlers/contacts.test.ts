import pino from 'pino';
import type { Core } from '../../src/core';
import { startCore } from '../../src/core';
import { CODE_TTL_MS, MAX_CODE_ATTEMPTS } from '../../src/handlers/page/contact-code';
import { as, coreOn, manualClock, msg, testConfig, textOf } from '../helpers/core';
import { describeEachDb, type TestDb } from '../helpers/db';

const CHANNELS = { SMS_WEBHOOK_URL: 'http://u:p@127.0.0.1:9/sms', SMS_FROM: '+15550000000', SMTP_URL: 'smtp://127.0.0.1:9' };
const PHONE = '+442079460000';

describeEachDb('contact methods', (fresh) => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-11-22T16:00:00Z');
  const root = () => as(core, 'root');
  const alee = () => as(core, 'alee');
  const bob = () => as(core, 'bob');
  let aleeId: string;

  beforeAll(async () => {
    db = await fresh();
    core = await coreOn(db, CHANNELS, clock.now);
    for (const [h, n] of [['alee', 'Ana Lee'], ['bob', 'Bob Ray'], ['cy', 'Cy Diaz']]) {
      expect(msg(await root().run(`/duty member add handle=${h} name="${n}" roles=officer`)).ok).toBe(true);
    }
    aleeId = (await core.store.members.byHandle('alee'))?.id as string;
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  const contacts = (memberId = aleeId) => core.store.pages.contacts(memberId);
  const codeJobs = async (contactId?: string) => {
    const rows = await core.store.db.job.findMany({ where: { kind: 'contact-code' }, orderBy: [{ dueAt: 'asc' }, { createdAt: 'asc' }] });
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as { contactId: string; kind: string; address: string; text: string } })).filter((j) => !contactId || j.payload.contactId === contactId);
  };
  /** The code in the last message queued for a method, as its owner would read it. */
  const lastCode = async (contactId: string): Promise<string> => {
    const jobs = await codeJobs(contactId);
    const m = /code is (\d{6})/.exec(jobs[jobs.length - 1]?.payload.text ?? '');
    if (!m) throw new Error(`no code queued for ${contactId}`);
    return m[1] as string;
  };
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  /** Everything a refusal must leave as it was. */
  const snapshot = async () => ({
    contacts: await contacts(),
    bob: await contacts((await core.store.members.byHandle('bob'))?.id as string),
    audit: await core.store.audit.count(),
    jobs: (await codeJobs()).length,
  });
  const listLines = async (who = alee) => msg(await who().run('/duty contact list')).rows?.map((r) => r.text) ?? [];

  test('with no methods, pages reach the member by chat DM at once', async () => {
    const r = msg(await alee().run('/duty contact list'));
    expect(r.ok).toBe(true);
    expect(r.rows).toEqual([]);
    expect(textOf(r)).toMatch(/no contact methods: pages reach you by chat DM \(Slack\/Teams\) at once/i);
  });

  test('chat is added verified, and audited', async () => {
    const r = msg(await alee().run('/duty contact add chat'));
    expect(r.ok).toBe(true);
    expect(textOf(r)).toContain('1. Chat DM (Slack/Teams) — at once — verified');
    const [c] = await contacts();
    expect(c).toMatchObject({ kind: 'chat', address: null, verified: true, delayMs: 0, position: 1, codeHash: null });
    const audit = await core.store.audit.list({ entity: 'contact', entityId: c?.id, limit: 5 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'create', actorName: '@alee', before: null });
    expect(await listLines()).toEqual(['1. Chat DM (Slack/Teams) — at once — verified']);
  });

  test('SMS is added unverified; a code is queued in the same change and the reply says where it went', async () => {
    const r = msg(await alee().run('/duty contact add sms +44 20 7946 0000 after=2m'));
    expect(r.ok).toBe(true);
    expect(r.text).toContain(`2. SMS ${PHONE} — after 2m — not verified yet`);
    expect(r.text).toContain(`by SMS to ${PHONE}`);
    expect(r.text).toContain('/duty contact verify 2 <code>');
    const sms = (await contacts())[1];
    expect(sms).toMatchObject({ kind: 'sms', address: PHONE, verified: false, delayMs: 120_000, position: 2, codeAttempts: 0 });
    expect(sms?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(sms?.codeExpiresAt).toBe(clock.now().getTime() + CODE_TTL_MS);
    const jobs = await codeJobs(sms?.id);
    expect(jobs).toHaveLength(1);
    // The number is not in the queue (the job table is not encrypted): the job reads it from the method.
    expect(jobs[0]?.payload).toMatchObject({ kind: 'sms', contactId: sms?.id });
    expect(JSON.stringify(jobs[0]?.payload)).not.toContain(PHONE);
    // Only the hash is stored: the code itself is in the message and nowhere else.
    expect(sms?.codeHash).not.toContain(await lastCode(sms?.id as string));
    const actions = (await core.store.audit.list({ entity: 'contact', entityId: sms?.id, limit: 5 })).map((a) => a.action).reverse();
    expect(actions).toEqual(['create', 'send-code']);
    expect(await listLines()).toEqual([
      '1. Chat DM (Slack/Teams) — at once — verified',
      `2. SMS ${PHONE} — after 2m — not verified (enter the code with /duty contact verify 2 <code>)`,
    ]);
  });

  test('bad input is refused with the field named, and nothing changes', async () => {
    const before = await snapshot();
    const cases: [string, string, RegExp][] = [
      ['/duty contact add pigeon', 'kind', /"pigeon" is not a contact method; use chat, sms or email/],
      ['/duty contact add sms 12345', 'address', /international form/],
      ['/duty contact add sms', 'address', /sms needs a phone number/],
      ['/duty contact add email not-an-email', 'address', /not an email address/],
      ['/duty contact add chat ana@example.org', 'address', /chat needs no address/],
      ['/duty contact add email ana@example.org after=25h', 'after', /too long/],
      ['/duty contact add email ana@example.org after=-1m', 'after', /cannot be negative/],
      ['/duty contact add email ana@example.org after=soon', 'after', /not a duration/],
      ['/duty contact add chat', 'kind', /already have Chat DM/],
      ['/duty contact add sms +44 (20) 7946-0000', 'address', new RegExp(`already have SMS \\${PHONE} as method 2`)],
      ['/duty contact add email ana@example.org colour=blue', 'colour', /unknown field/],
      ['/duty contact verify 9 123456', 'n', /no contact method 9; yours are numbered 1 to 2/],
      ['/duty contact verify 0', 'n', /no contact method 0/],
      ['/duty contact verify two 123456', 'n', /number of the method/],
      ['/duty contact verify 2 12ab56', 'code', /6 digits/],
      ['/duty contact verify 2 1234567', 'code', /6 digits/],
      ['/duty contact remove 3', 'n', /no contact method 3/],
      ['/duty contact remove', 'n', /number of the method/],
      ['/duty contact edit 5 after=1m', 'n', /no contact method 5/],
      ['/duty contact edit 1 after=forever', 'after', /not a duration/],
      ['/duty contact edit 1 after=2d', 'after', /"d" is not a unit/],
      ['/duty contact edit 1', 'after', /after=<delay> is required/],
    ];
    for (const [text, field, pattern] of cases) {
      const r = msg(await alee().run(text));
      expect({ text, ok: r.ok }).toEqual({ text, ok: false });
      expect({ text, fields: Object.keys(r.error?.fields ?? {}) }).toEqual({ text, fields: [field] });
      expect(r.text).toMatch(pattern);
    }
    // Bob has none: a number is out of range for him whatever Alee has.
    expect(msg(await bob().run('/duty contact remove 1')).text).toMatch(/no contact methods yet/);
    expect(await snapshot()).toEqual(before);
  });

  test('with no kind, the add form opens', async () => {
    const r = await alee().run('/duty contact add');
    expect(r.kind).toBe('form');
    if (r.kind !== 'form') return;
    expect(r.form.fields.map((f) => f.name)).toEqual(['kind', 'address', 'after']);
  });

  test('verify: a wrong code counts a try; the right one verifies and clears the code; again changes nothing', async () => {
    const sms = (await contacts())[1];
    const code = await lastCode(sms?.id as string);
    const bad = msg(await alee().run(`/duty contact verify 2 ${wrong(code)}`));
    expect(bad.error?.code).toBe('WRONG_CODE');
    expect(bad.text).toContain(`${MAX_CODE_ATTEMPTS - 1} tries left`);
    expect(bad.error?.fields).toHaveProperty('code');
    expect((await contacts())[1]).toMatchObject({ verified: false, codeAttempts: 1 });
    // A method's code does not verify someone else's: Bob has no method 2.
    expect(msg(await bob().run(`/duty contact verify 2 ${code}`)).error?.code).toBe('UNKNOWN_CONTACT');
    const ok = msg(await alee().run(`/duty contact verify 2 ${code}`));
    expect(ok.ok).toBe(true);
    expect(ok.text).toContain(`2. SMS ${PHONE} — after 2m — verified`);
    expect((await contacts())[1]).toMatchObject({ verified: true, codeHash: null, codeExpiresAt: null, codeAttempts: 0 });
    const actions = (await core.store.audit.list({ entity: 'contact', entityId: sms?.id, limit: 5 })).map((a) => a.action).reverse();
    expect(actions).toEqual(['create', 'send-code', 'verify-failed', 'verify']);
    expect((await listLines())[1]).toBe(`2. SMS ${PHONE} — after 2m — verified`);

    const before = await snapshot();
    for (const text of [`/duty contact verify 2 ${code}`, '/duty contact verify 2', '/duty contact verify 1']) {
      const again = msg(await alee().run(text));
      expect(again.ok).toBe(true);
      expect(again.text).toMatch(/is already verified; nothing changed/);
    }
    expect(await snapshot()).toEqual(before);
  });

  test('an expired code is refused with how to get a new one; a resend replaces the code', async () => {
    expect(msg(await alee().run('/duty contact add email Ana@Example.org after=5m')).ok).toBe(true);
    const email = (await contacts())[2];
    expect(email).toMatchObject({ kind: 'email', address: 'ana@example.org', verified: false });
    const first = await lastCode(email?.id as string);
    const firstHash = email?.codeHash;
    clock.advance(CODE_TTL_MS + 60_000);
    const before = await snapshot();
    const expired = msg(await alee().run(`/duty contact verify 3 ${first}`));
    expect(expired.error?.code).toBe('CODE_EXPIRED');
    expect(expired.text).toMatch(/expired .* Get a new code with \/duty contact verify 3\./);
    expect(await snapshot()).toEqual(before);
    expect((await listLines())[2]).toBe('3. Email ana@example.org — after 5m — not verified (get a new code with /duty contact verify 3)');

    const resent = msg(await alee().run('/duty contact verify 3'));
    expect(resent.ok).toBe(true);
    expect(resent.text).toContain('by email to ana@example.org');
    const after = (await contacts())[2];
    expect(after?.codeHash).not.toBe(firstHash);
    expect(after).toMatchObject({ codeAttempts: 0, codeExpiresAt: clock.now().getTime() + CODE_TTL_MS });
    expect(await codeJobs(email?.id)).toHaveLength(2);
    // Each code costs a message: not another one within a minute.
    const soon = msg(await alee().run('/duty contact verify 3'));
    expect(soon.error?.code).toBe('CODE_JUST_SENT');
    expect(await codeJobs(email?.id)).toHaveLength(2);
    // The old code no longer works.
    expect(msg(await alee().run(`/duty contact verify 3 ${first === (await lastCode(email?.id as string)) ? wrong(first) : first}`)).error?.code).toBe('WRONG_CODE');
  });

  test(`after ${MAX_CODE_ATTEMPTS} wrong tries the code is dead until a new one is sent`, async () => {
    const email = (await contacts())[2];
    const code = await lastCode(email?.id as string);
    // One wrong try was spent in the test before.
    for (let left = MAX_CODE_ATTEMPTS - 2; left > 0; left--) {
      const r = msg(await alee().run(`/duty contact verify 3 ${wrong(code)}`));
      expect(r.text).toContain(`${left} ${left === 1 ? 'try' : 'tries'} left`);
    }
    const last = msg(await alee().run(`/duty contact verify 3 ${wrong(code)}`));
    expect(last.error?.code).toBe('CODE_DEAD');
    expect(last.text).toMatch(/last try: the code no longer works\. Get a new code with \/duty contact verify 3/);
    expect((await contacts())[2]).toMatchObject({ verified: false, codeHash: null, codeAttempts: MAX_CODE_ATTEMPTS });
    const before = await snapshot();
    const dead = msg(await alee().run(`/duty contact verify 3 ${code}`));
    expect(dead.error?.code).toBe('CODE_DEAD');
    expect(await snapshot()).toEqual(before);
    // A dead code may be replaced at once.
    clock.advance(1000);
    expect(msg(await alee().run('/duty contact verify 3')).ok).toBe(true);
    expect((await contacts())[2]).toMatchObject({ codeAttempts: 0 });
    expect(msg(await alee().run(`/duty contact verify 3 ${await lastCode(email?.id as string)}`)).ok).toBe(true);
    expect((await contacts())[2]?.verified).toBe(true);
  });

  test('edit changes a delay, audited; the same delay changes nothing', async () => {
    const r = msg(await alee().run('/duty contact edit 2 after=5m'));
    expect(r.ok).toBe(true);
    expect(r.text).toBe(`2. SMS ${PHONE} — after 5m — verified`);
    const sms = (await contacts())[1];
    const [entry] = await core.store.audit.list({ entity: 'contact', entityId: sms?.id, limit: 1 });
    expect(entry).toMatchObject({ action: 'update', before: { delayMs: 120_000 }, after: { delayMs: 300_000 } });
    expect(msg(await alee().run('/duty contact edit 1 after=now')).text).toMatch(/already used at once; nothing changed/);
    expect(msg(await alee().run('/duty contact edit 1 after=30s')).ok).toBe(true);
    expect((await listLines())[0]).toBe('1. Chat DM (Slack/Teams) — after 30s — verified');
  });

  test('remove deletes one method; the rest keep their order and are renumbered', async () => {
    const [chat, sms, email] = await contacts();
    const r = msg(await alee().run('/duty contact remove 1'));
    expect(r.ok).toBe(true);
    expect(r.text).toContain('Removed Chat DM (Slack/Teams).');
    const rest = await contacts();
    expect(rest.map((c) => [c.id, c.position])).toEqual([
      [sms?.id, sms?.position],
      [email?.id, email?.position],
    ]);
    expect(await listLines()).toEqual([`1. SMS ${PHONE} — after 5m — verified`, '2. Email ana@example.org — after 5m — verified']);
    const [entry] = await core.store.audit.list({ entity: 'contact', entityId: chat?.id, limit: 1 });
    expect(entry).toMatchObject({ action: 'remove', actorName: '@alee', after: null });
    // A new method goes last.
    expect(msg(await alee().run('/duty contact add chat')).text).toContain('3. Chat DM (Slack/Teams)');
    expect((await listLines())[2]).toBe('3. Chat DM (Slack/Teams) — at once — verified');
  });

  test('removing the last verified method warns that pages cannot reach the member', async () => {
    expect(msg(await bob().run('/duty contact add email bob@example.org')).ok).toBe(true);
    const r = msg(await bob().run('/duty contact list'));
    expect(r.text).toMatch(/None of your contact methods is verified yet, so pages cannot reach you/);
    const removed = msg(await bob().run('/duty contact remove 1'));
    expect(removed.text).toMatch(/no contact methods: pages reach you by chat DM/i);
  });

  test('at the same moment: two identical adds store one; many guesses count each', async () => {
    const cy = as(core, 'cy');
    const replies = (await Promise.all([cy.run('/duty contact add sms +15550101234'), cy.run('/duty contact add sms +1 555 010 1234')])).map(msg);
    expect(replies.filter((r) => r.ok)).toHaveLength(1);
    expect(replies.find((r) => !r.ok)?.error?.code).toMatch(/DUPLICATE_CONTACT|CONFLICT/);
    const cyId = (await core.store.members.byHandle('cy'))?.id as string;
    expect((await contacts(cyId)).map((c) => c.address)).toEqual(['+15550101234']);
    // Guesses sent all at once are each counted: no more than MAX_CODE_ATTEMPTS are ever tried.
    const [sms] = await contacts(cyId);
    const code = await lastCode(sms?.id as string);
    const guesses = (await Promise.all(Array.from({ length: MAX_CODE_ATTEMPTS + 3 }, () => cy.run(`/duty contact verify 1 ${wrong(code)}`)))).map(msg);
    expect(guesses.filter((r) => r.error?.code === 'WRONG_CODE')).toHaveLength(MAX_CODE_ATTEMPTS - 1);
    expect(guesses.filter((r) => r.error?.code === 'CODE_DEAD')).toHaveLength(4);
    expect((await contacts(cyId))[0]).toMatchObject({ verified: false, codeHash: null, codeAttempts: MAX_CODE_ATTEMPTS });
    expect(msg(await cy.run(`/duty contact verify 1 ${code}`)).error?.code).toBe('CODE_DEAD');
  });

  test('a channel that is not set up is refused, nothing changes; addresses never reach the logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    const bare = await startCore(testConfig({ DATABASE_URL: db.url, BOOTSTRAP_ADMINS: 'console:root' }), logger, { clock: clock.now });
    try {
      const dee = as(bare, 'dee');
      expect(msg(await as(bare, 'root').run('/duty member add handle=dee name="Dee Okafor"')).ok).toBe(true);
      const deeId = (await bare.store.members.byHandle('dee'))?.id as string;
      const before = { contacts: await contacts(deeId), audit: await core.store.audit.count(), jobs: (await codeJobs()).length };
      const sms = msg(await dee.run('/duty contact add sms +33 6 12 34 56 78'));
      expect(sms.error?.code).toBe('CHANNEL_OFF');
      expect(sms.text).toContain('SMS is not set up on this Duty Desk (SMS_WEBHOOK_URL)');
      expect(sms.error?.fields).toHaveProperty('kind');
      const email = msg(await dee.run('/duty contact add email dee@example.org'));
      expect(email.error?.code).toBe('CHANNEL_OFF');
      expect(email.text).toContain('Email is not set up on this Duty Desk (SMTP_URL)');
      expect({ contacts: await contacts(deeId), audit: await core.store.audit.count(), jobs: (await codeJobs()).length }).toEqual(before);
      expect(msg(await dee.run('/duty contact add chat')).ok).toBe(true);
      // Verified and failed commands alike are logged by their words only.
      expect(msg(await as(bare, 'alee').run('/duty contact list')).rows?.map((r) => r.text).join('\n')).toContain(PHONE);
      await as(bare, 'alee').run('/duty contact add sms +44 20 7946 0000');
      await as(bare, 'alee').run('/duty contact verify 1 000000');
      expect(lines.length).toBeGreaterThan(0);
      const logs = lines.join('\n');
      for (const personal of [PHONE, '+44 20', 'ana@example.org', 'dee@example.org', '+33', 'bob@example.org']) expect(logs).not.toContain(personal);
    } finally {
      await bare.close();
    }
  });
});
