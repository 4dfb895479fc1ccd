// What the generated inputs found, kept as plain examples so that each stays fixed whatever
// the generators draw next time.
import type { Core } from '../../src/core';
import { tokenize, wellFormed } from '../../src/domain/args';
import { MAX_STEPS_TEXT, parseSteps } from '../../src/domain/escalation';
import { as, coreOn, msg } from '../helpers/core';
import { freshSqlite, type TestDb } from '../helpers/db';

test('text no database can store (unpaired surrogates, NUL) becomes U+FFFD; pairs and everything else stay', () => {
  expect(wellFormed('a\ud800b\udc00c\u0000d')).toBe('a\ufffdb\ufffdc\ufffdd');
  expect(wellFormed('\udfff\ud800')).toBe('\ufffd\ufffd');
  expect(wellFormed('👩‍👩‍👧 é \u202e x')).toBe('👩‍👩‍👧 é \u202e x');
  expect(tokenize('note "x\ud800"')).toEqual({ ok: true, tokens: ['note', 'x\ufffd'] });
});

test('steps longer than a command are refused before the delay search, whose cost grows faster than the text', () => {
  const r = parseSteps('role:leader '.repeat(Math.ceil((MAX_STEPS_TEXT + 1) / 12)));
  expect(r).toEqual({ ok: false, error: expect.stringContaining(`at most ${MAX_STEPS_TEXT} characters`) });
  // Just under the limit, hostile words are read (and refused) as usual.
  expect(parseSteps('a b '.repeat(900))).toMatchObject({ ok: false, error: expect.stringContaining('Step 1:') });
});

describe('through the dispatcher', () => {
  let db: TestDb;
  let core: Core;
  let root: ReturnType<typeof as>;
  beforeAll(async () => {
    db = await freshSqlite();
    core = await coreOn(db);
    root = as(core, 'root');
    for (const line of ['/duty member add handle=alee name="Ana Lee" roles=officer', '/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal']) {
      expect(msg(await root.run(line)).ok).toBe(true);
    }
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('a lone surrogate in a stored field, a lookup or a form context is replaced, not a crash', async () => {
    const edit = msg(await root.run('/duty member edit @alee name="Ana\ud800"'));
    expect(edit.ok).toBe(true);
    expect((await core.store.members.byHandle('alee'))?.displayName).toBe('Ana\ufffd');
    for (const [command, values] of [
      ['page policy edit', { name: 'Night desk' }],
      ['duty member edit', { name: 'Ana Lee' }],
    ] as const) {
      const r = await root.submit(command, values, '\ud800');
      expect(r.kind === 'message' ? r.error?.code : 'FORM').not.toBe('INTERNAL');
    }
  });

  test('a forged form\'s "__proto__" supplies no values (it used to become the prototype, read unchecked)', async () => {
    const values = JSON.parse('{"__proto__":{"name":"Injected","members":"@alee","shift":"1w","handoff":"08:00"}}') as Record<string, string>;
    const r = await root.submit('duty roster new', values);
    expect(r.kind).toBe('form');
    expect(await core.store.rosters.list()).toEqual([]);
  });

  test('a malformed crisis code in /person find and /person add is an input error, not an exception', async () => {
    for (const line of ['/person find Ana crisis=1970-01-01T00:00:00.000Z', '/person add name="Ana Lima" crisis="not a code"']) {
      const r = msg(await root.run(line));
      expect(r.error?.code).toBe('INVALID_INPUT');
      expect(r.error?.fields?.crisis).toMatch(/crisis code/);
    }
  });

  test.each([
    ['/duty role grant', /member: name a member as @handle; role: which role\? officer, crisis, leader, admin/],
    ['/duty member restore', /member: a handle, e\.g\. @alee/],
    ['/duty roster add', /member: name the member, e\.g\. @alee/],
    ['/duty swap accept', /id: a swap request id/],
    ['/duty cover remove', /id: which cover\?/],
    ['/duty at', /text: say when/],
    ['/duty audit limit=lots', /limit: limit is a number of entries/],
    ['/duty audit limit=2.5', /limit: limit is a whole number/],
    ['/case ack C-2026-00001 version=1e-9', /version: a version number/],
    ['/crisis movement show NPL-EQ 1 page=1e300', /page: page is a whole number|page: at most page 1000/],
    ['/crisis calllist NPL-EQ hours=-1', /hours: hours is 0 or more/],
    ['/sitrep publish NPL-EQ version=abc', /version: a version number/],
    ['/sitrep edit NPL-EQ publish=maybe', /publish: publish is yes or no/],
    ['/sitrep show NPL-EQ 99999999', /number: a SITREP number/],
  ])('%s says what is wrong in words, not zod\'s', async (line, message) => {
    const r = msg(await root.run(line));
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.error?.message).toMatch(message);
    expect(r.error?.message).not.toMatch(/Invalid input|expected \w+, received/);
  });
});
