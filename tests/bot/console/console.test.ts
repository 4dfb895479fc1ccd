// The console as operators use it: a real process, commands piped on standard input.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../../src/store/paths';
import { TEST_DATA_KEY } from '../../helpers/core';
import { freshSqlite, type TestDb } from '../../helpers/db';

const root = projectRoot();
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function consoleRun(db: TestDb, input: string, args: string[] = []): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, ['src/console.ts', ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: '', BOOTSTRAP_ADMINS: '', DATA_ENCRYPTION_KEY: TEST_DATA_KEY },
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('console over piped standard input', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await freshSqlite();
  });
  afterAll(() => db.drop());

  test('every command succeeds: replies in order, exit 0', () => {
    const r = consoleRun(db, '# a comment\n/duty help\n\n/duty member add handle=alee name="Ana Lee" roles=officer\n/duty role list\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Duty Desk help/);
    expect(r.stdout).toContain('Added @alee');
    expect(r.stdout).toMatch(/officer: @alee/);
    expect(r.stdout.indexOf('Duty Desk help')).toBeLessThan(r.stdout.indexOf('Added @alee'));
  });

  test('a failing command makes the exit status 1; missing fields are listed', () => {
    const r = consoleRun(db, '/duty member add handle=bob\n/duty help\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('missing: name — Full name, required');
    expect(r.stdout).toContain('Duty Desk help');
  });

  test('--json prints one reply per line; --as picks the member', () => {
    const r = consoleRun(db, '/duty me\n/duty member list\n', ['--json', '--as', 'alee']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; ok: boolean; title?: string; error?: { code: string } });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ kind: 'message', ok: true, title: 'Ana Lee (@alee)' });
    expect(lines[1]).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(r.status).toBe(1);
  });

  test('an unknown --as handle is refused, a bad flag stops with usage', () => {
    expect(consoleRun(db, '/duty member list\n', ['--as', 'ghost']).stdout).toContain('not registered');
    const bad = consoleRun(db, '', ['--verbose']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option --verbose');
  });

  test('a bad configuration stops start-up with one line naming the variable', () => {
    const r = spawnSync(tsx, ['src/console.ts'], { cwd: root, input: '', encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url, MISSION_TIMEZONE: 'Nowhere/Land' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('duty-desk: configuration error: MISSION_TIMEZONE: expected an IANA time zone such as Europe/London');
  });
});
