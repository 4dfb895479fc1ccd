// The interactive console: a form becomes field-by-field prompts, rejected fields are asked again.
import { PassThrough } from 'node:stream';
import { runConsole } from '../../../src/bot/console';
import type { Core } from '../../../src/core';
import { coreOn } from '../../helpers/core';
import { freshSqlite, type TestDb } from '../../helpers/db';

describe('interactive console', () => {
  let db: TestDb;
  let core: Core;
  beforeAll(async () => {
    db = await freshSqlite();
    core = await coreOn(db);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  async function session(lines: string[]): Promise<{ status: number; out: string }> {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d: Buffer) => (out += d.toString()));
    const done = runConsole({ dispatcher: core.dispatcher, input, output, interactive: true, json: false, as: 'root' });
    input.end(lines.map((l) => `${l}\n`).join(''));
    const status = await done;
    return { status, out };
  }

  test('missing fields are prompted one by one; a bad answer is asked again with its error', async () => {
    // handle, name, tz (bad), email, phone, slack, teams, roles — then tz again.
    const { status, out } = await session(['/duty member add', 'alee', 'Ana Lee', 'Mars/Base', '', '', '', '', 'officer', 'Europe/Rome']);
    expect(out).toContain('Add a member');
    expect(out).toContain('handle — Handle, required');
    expect(out).toContain('✗ tz: not a time zone');
    expect(out).toContain('Added @alee');
    expect(status).toBe(0);
    expect(await core.store.members.byHandle('alee')).toMatchObject({ timeZone: 'Europe/Rome', roles: ['officer'] });
  });

  test('an empty answer to a required field asks again; end of input cancels without writing', async () => {
    const before = await core.store.audit.count();
    const { out } = await session(['/duty member add', '', 'bob']);
    expect(out).toContain('Handle is required.');
    expect(out).toContain('Cancelled.');
    expect(await core.store.members.byHandle('bob')).toBeNull();
    expect(await core.store.audit.count()).toBe(before);
  });
});
