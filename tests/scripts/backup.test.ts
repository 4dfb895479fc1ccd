// `npm run backup` / `npm run restore`: a real core writes through commands, the backup copies
// its database while it runs, and the restored database holds the same rows, table by table.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { findPgTool, pgTarget, runBackup, versionAdvice, type Io } from '../../scripts/backup';
import { migrationProblem, pgRestoreArgs, runRestore } from '../../scripts/restore';
import type { Core } from '../../src/core';
import { loadMigrations } from '../../src/store/migrate';
import { projectRoot } from '../../src/store/paths';
import { as, coreOn, msg, textOf } from '../helpers/core';
import { freshPostgres, freshSqlite, pgAdminUrl, tempDir, type TestDb } from '../helpers/db';

const NOW = new Date('2026-11-22T10:15:00Z');
const root = projectRoot();

function captureIo(): Io & { out: string[]; err: string[]; all(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (l) => out.push(l), error: (l) => err.push(l), all: () => [...out, ...err].join('\n') };
}

/** Members, a roster, a case with a note, a crisis with people and a status report: most tables get rows. */
async function seed(core: Core): Promise<{ caseRef: string }> {
  const r = as(core, 'root');
  const ok = async (text: string) => {
    const reply = msg(await r.run(text));
    if (!reply.ok) throw new Error(`${text}: ${textOf(reply)}`);
    return reply;
  };
  await ok('/duty member add handle=alee name="Ana Lee" roles=officer,crisis email=ana@example.org phone=+15550100');
  await ok('/duty member add handle=bob name="Bob Ray" roles=officer');
  await ok('/duty member add handle=cara name="Cara Day" roles=crisis,leader');
  await ok('/duty roster new name="Consular" members="@alee @bob" shift=1w handoff=08:00 tz=Europe/Paris');
  const created = await ok('/case new category=arrest priority=P2 name="Zeb Quill" reporter=police summary="Held at the airport" passport=ZZ9988776 city=Lyon');
  const caseRef = /C-\d{4}-\d{5}/.exec(created.title ?? '')?.[0];
  if (!caseRef) throw new Error(`no case reference in ${textOf(created)}`);
  await ok(`/case note ${caseRef} Lawyer called`);
  await ok(`/case ack ${caseRef}`);
  await ok('/crisis open name="Rhone floods" code=FR-FL region=Lyon');
  await ok('/person add name="Yolanda Persson" crisis=FR-FL passport=P1234567 phone=+33600000001 needs=medical');
  await ok('/person add name="Wilhelmina Strand" crisis=FR-FL status=safe household=Strand');
  await ok('/person add name="Otto Strand" crisis=FR-FL household=Strand');
  await ok('/person status 1 injured Hip broken location="Hopital Edouard Herriot"');
  return { caseRef };
}

type Snapshot = Record<string, string[]>;

function rowText(row: unknown[]): string {
  return JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' ? v.toString() : v));
}

/** Every table's rows, each as JSON, sorted; and the schema. */
function sqliteSnapshot(file: string): Snapshot {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    const snap: Snapshot = {};
    snap['(schema)'] = (db.prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS s FROM sqlite_master").all() as { s: string }[]).map((r) => r.s).sort();
    for (const { name } of tables) {
      snap[name] = (db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][]).map(rowText).sort();
    }
    return snap;
  } finally {
    db.close();
  }
}

async function pgSnapshot(url: string): Promise<Snapshot> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows: tables } = await c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    const snap: Snapshot = {};
    for (const { table_name } of tables) {
      const { rows } = await c.query({ text: `SELECT * FROM "${table_name}"`, rowMode: 'array' });
      snap[table_name] = (rows as unknown[][]).map(rowText).sort();
    }
    return snap;
  } finally {
    await c.end();
  }
}

function expectSeeded(snap: Snapshot, provider: 'sqlite' | 'postgresql' = 'sqlite'): void {
  expect(snap.Member?.length).toBeGreaterThanOrEqual(4);
  expect(snap.Roster).toHaveLength(1);
  expect(snap.Case).toHaveLength(1);
  expect(snap.CaseNote).toHaveLength(1);
  expect(snap.Crisis).toHaveLength(1);
  expect(snap.Person).toHaveLength(3);
  expect(snap.AuditEntry?.length).toBeGreaterThan(5);
  expect(snap._prisma_migrations).toHaveLength(loadMigrations(provider).length);
}

describe('backup and restore [sqlite]', () => {
  let db: TestDb;
  let core: Core | undefined;
  let dir: string;
  let caseRef: string;
  let backupFile: string;
  const source = () => db.url.replace(/^file:/, '');

  beforeAll(async () => {
    db = await freshSqlite();
    dir = tempDir('duty-desk-backup-');
    core = await coreOn(db);
    ({ caseRef } = await seed(core));
  });

  afterAll(async () => {
    await core?.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a backup taken while the bot runs is verified, private, and restores row for row into a new path', async () => {
    // The bot is up (its connections hold the file) but idle: the backup must equal the source.
    const io = captureIo();
    backupFile = path.join(dir, 'nightly.db');
    expect(await runBackup(['--out', 'nightly.db'], { DATABASE_URL: db.url, INIT_CWD: dir }, io, NOW)).toBe(0);
    expect(io.out.join('\n')).toMatch(/^Backup written to nightly\.db \(\d+\.\d KB\): integrity check ok, \d+ tables, \d+ migrations \(latest \d+_\w+\)\.$/);
    expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);
    // One self-contained file: no WAL beside it, and nothing temporary left.
    expect(fs.readdirSync(dir)).toEqual(['nightly.db']);
    const expected = sqliteSnapshot(source());
    expectSeeded(expected);
    expect(sqliteSnapshot(backupFile)).toEqual(expected);

    const target = path.join(dir, 'restored', 'duty-desk.db');
    const rio = captureIo();
    expect(await runRestore(['nightly.db'], { DATABASE_URL: `file:${target}`, INIT_CWD: dir }, rio, NOW)).toBe(0);
    expect(rio.out).toEqual([
      expect.stringMatching(/^Checked nightly\.db: integrity check ok/),
      expect.stringMatching(/^Restored it into restored\/duty-desk\.db \(/),
      'Start Duty Desk again to use it.',
    ]);
    expect(sqliteSnapshot(target)).toEqual(expected);

    // And the app runs over it.
    const restored = await coreOn({ provider: 'sqlite', url: `file:${target}`, drop: async () => undefined });
    try {
      expect(textOf(await as(restored, 'root').run('/case list all'))).toContain(caseRef);
      expect(textOf(await as(restored, 'root').run('/person find Strand crisis=FR-FL'))).toMatch(/Otto|Wilhelmina/);
    } finally {
      await restored.close();
    }
  });

  test('a backup never replaces a file; the default name is timestamped in UTC', async () => {
    const before = fs.readFileSync(backupFile);
    const io = captureIo();
    expect(await runBackup(['--out', backupFile], { DATABASE_URL: db.url }, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/already exists and a backup never replaces a file/);
    expect(fs.readFileSync(backupFile).equals(before)).toBe(true);

    // Into a folder: the default name, then -2 for a second backup in the same second.
    const folder = path.join(dir, 'nightly');
    expect(await runBackup(['--out', 'nightly/'], { DATABASE_URL: db.url, INIT_CWD: dir }, captureIo(), NOW)).toBe(0);
    expect(await runBackup(['--out', folder], { DATABASE_URL: db.url, INIT_CWD: dir }, captureIo(), NOW)).toBe(0);
    expect(fs.readdirSync(folder).sort()).toEqual(['duty-desk-20261122-101500-2.db', 'duty-desk-20261122-101500.db']);
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    fs.rmSync(folder, { recursive: true });

    expect(await runBackup(['--out', path.join(dir, 'missing-db.db')], { DATABASE_URL: `file:${path.join(dir, 'nope.db')}` }, captureIo(), NOW)).toBe(1);
    expect(fs.existsSync(path.join(dir, 'missing-db.db'))).toBe(false);
    expect(await runBackup(['--bogus'], { DATABASE_URL: db.url }, captureIo(), NOW)).toBe(2);
  });

  test('restore refuses while the database is open, and changes nothing', async () => {
    const io = captureIo();
    const before = sqliteSnapshot(source());
    // `core` still has the source open.
    expect(await runRestore([backupFile], { DATABASE_URL: db.url }, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/^duty-desk: restore failed: the database .* is in use \(a running bot, console or other program has it open\): stop it, then run restore again; nothing was changed$/);
    expect(fs.readdirSync(path.dirname(source())).filter((f) => /before-restore|partial/.test(f))).toEqual([]);
    expect(sqliteSnapshot(source())).toEqual(before);
    // The bot is unaffected.
    expect(msg(await as(core!, 'root').run('/duty member list')).ok).toBe(true);
  });

  test('restore over a stopped database keeps it as .before-restore-<time> and puts the backup in place', async () => {
    await core!.close();
    core = undefined;
    // A change made after the backup: in the kept database, not in the restored one.
    const later = await coreOn(db);
    expect(msg(await as(later, 'root').run('/duty member add handle=late name="Lee Late"')).ok).toBe(true);
    await later.close();

    // Another process with the file open (here a plain reader, as a sqlite3 shell would be) is seen too.
    const holder = spawn(
      process.execPath,
      ['-e', "const D = require('better-sqlite3'); const d = new D(process.argv[1]); d.prepare('SELECT count(*) FROM Member').get(); console.log('open'); setInterval(() => {}, 1000);", source()],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((res, rej) => {
        holder.stdout.once('data', () => res());
        holder.once('exit', (c) => rej(new Error(`holder exited with ${c}`)));
      });
      const busy = captureIo();
      expect(await runRestore([backupFile], { DATABASE_URL: db.url }, busy, NOW)).toBe(1);
      expect(busy.err.join('\n')).toMatch(/is in use/);
    } finally {
      holder.kill();
      await new Promise((res) => (holder.exitCode !== null || holder.signalCode !== null ? res(null) : holder.once('exit', res)));
    }

    const io = captureIo();
    expect(await runRestore([backupFile], { DATABASE_URL: db.url, INIT_CWD: dir }, io, NOW)).toBe(0);
    const kept = `${source()}.before-restore-20261122-101500`;
    expect(io.out.join('\n')).toContain(`The database that was in place is kept as ${kept}.`);
    const handles = (file: string) => sqliteSnapshot(file).Member!.filter((r) => r.includes('"late"')).length;
    expect(handles(kept)).toBe(1);
    expect(handles(source())).toBe(0);
    expect(sqliteSnapshot(source())).toEqual(sqliteSnapshot(backupFile));
    // No write-ahead log or index of the old file may be taken for the new one's.
    expect(fs.existsSync(`${source()}-wal`)).toBe(false);
    expect(fs.existsSync(`${source()}-shm`)).toBe(false);
    // A second restore in the same second keeps the database again, under another name.
    expect(await runRestore([backupFile], { DATABASE_URL: db.url }, captureIo(), NOW)).toBe(0);
    expect(fs.existsSync(`${kept}-2`)).toBe(true);
  });

  test('restore refuses a damaged file, a foreign file, and a backup from newer code, leaving the database alone', async () => {
    const target = path.join(dir, 'target.db');
    fs.copyFileSync(backupFile, target);
    const original = fs.readFileSync(target);
    const env = { DATABASE_URL: `file:${target}` };

    const damaged = path.join(dir, 'damaged.db');
    const bytes = fs.readFileSync(backupFile);
    // Overwrite the middle of the file (b-tree pages) with garbage, keeping the header.
    bytes.fill(0xa5, 8192, bytes.length - 8192);
    fs.writeFileSync(damaged, bytes);
    let io = captureIo();
    expect(await runRestore([damaged], env, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/the backup (fails SQLite's integrity check|is damaged)/);

    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not a database\n');
    io = captureIo();
    expect(await runRestore([text], env, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/is not a SQLite database/);

    const future = path.join(dir, 'future.db');
    fs.copyFileSync(backupFile, future);
    const f = new Database(future);
    f.prepare("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('x', 'abc', '2030-01-01', '29991231000000_future', '2030-01-01', 1)").run();
    f.close();
    io = captureIo();
    expect(await runRestore([future], env, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/made by a newer version of Duty Desk: its migration 29991231000000_future is not in this code's/);

    // A write-ahead log left where the database is to go would be replayed into the restored file.
    const fresh = path.join(dir, 'fresh', 'duty-desk.db');
    fs.mkdirSync(path.dirname(fresh));
    fs.writeFileSync(`${fresh}-wal`, 'stale');
    io = captureIo();
    expect(await runRestore([backupFile], { DATABASE_URL: `file:${fresh}` }, io, NOW)).toBe(1);
    expect(io.err.join('\n')).toMatch(/duty-desk\.db-wal is left from an earlier database: move it away first; nothing was changed/);
    expect(fs.readdirSync(path.dirname(fresh))).toEqual(['duty-desk.db-wal']);

    expect(fs.readFileSync(target).equals(original)).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('target.db'))).toEqual(['target.db']);
    expect(await runRestore([], env, captureIo(), NOW)).toBe(2);
  });

  test('migration histories: older backups restore (newer migrations apply at start), edited or unfinished ones do not', () => {
    const code = loadMigrations('sqlite');
    const applied = code.map((m) => ({ name: m.name, checksum: m.checksum, finished: true }));
    expect(migrationProblem(applied, code)).toBeUndefined();
    expect(migrationProblem(applied.slice(0, 3), code)).toBeUndefined();
    expect(migrationProblem([{ ...applied[0]!, checksum: 'edited' }], code)).toMatch(/differs from this code's/);
    expect(migrationProblem([{ ...applied[0]!, finished: false }], code)).toMatch(/unfinished/);
  });
});

describe('a backup taken while the bot keeps writing [sqlite]', () => {
  test('is one consistent snapshot: integrity ok, notes 1..k without gaps, and the app starts over it', async () => {
    const db = await freshSqlite();
    const dir = tempDir('duty-desk-backup-live-');
    const core = await coreOn(db);
    try {
      const r = as(core, 'root');
      const caseRef = /C-\d{4}-\d{5}/.exec(msg(await r.run('/case new category=death priority=P3 name="Ada Vale" reporter=family summary="Died abroad"')).title ?? '')![0];
      let written = 0;
      let stop = false;
      // The bot writing one note after another, each its own transaction, while the backup runs.
      const writer = (async () => {
        while (!stop) {
          const reply = msg(await r.run(`/case note ${caseRef} writer note ${written + 1}`));
          if (!reply.ok) throw new Error(textOf(reply));
          written++;
          // Paced: enough to overlap the backup, little CPU.
          await new Promise((res) => setTimeout(res, 40));
        }
      })();
      while (written < 5) await new Promise((res) => setTimeout(res, 5));
      const startedWith = written;

      // `npm run backup` as a process of its own, as an operator or cron would run it.
      const file = path.join(dir, 'live.db');
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', '--out', file], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: db.url, INIT_CWD: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((res) => child.on('exit', res));
      const endedWith = written;
      stop = true;
      await writer;
      expect({ code, out }).toEqual({ code: 0, out: expect.stringMatching(/^Backup written to live\.db \(.*integrity check ok/) });
      // The bot kept writing during the backup.
      expect(endedWith).toBeGreaterThan(startedWith);

      const copy = new Database(file, { readonly: true });
      let inBackup: string[];
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
        inBackup = (copy.prepare('SELECT id FROM CaseNote ORDER BY createdAt, id').all() as { id: string }[]).map((x) => x.id);
      } finally {
        copy.close();
      }
      // A consistent snapshot holds a prefix of the notes in the order they were written (their
      // text may be encrypted, so they are told apart by id), none missing in between.
      const all = (await core.store.db.caseNote.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true } })).map((x) => x.id);
      expect(all).toHaveLength(written);
      const k = inBackup.length;
      expect(k).toBeGreaterThanOrEqual(startedWith);
      expect(k).toBeLessThanOrEqual(endedWith);
      expect(inBackup).toEqual(all.slice(0, k));

      // The app opens the backup as it is (a copy, so the backup itself stays untouched).
      const opened = path.join(dir, 'opened.db');
      fs.copyFileSync(file, opened);
      const again = await coreOn({ provider: 'sqlite', url: `file:${opened}`, drop: async () => undefined });
      try {
        expect(await again.store.db.caseNote.count()).toBe(k);
        expect(textOf(await as(again, 'root').run('/case list all'))).toContain(caseRef);
      } finally {
        await again.close();
      }
    } finally {
      await core.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backup and restore [postgresql]', () => {
  const url = 'postgresql://duty:s3cret@db.example.org:5432/duty_desk?schema=public&connection_limit=5';

  test('backup prints the exact pg_dump command, password left out, and fails clearly without pg_dump', async () => {
    const io = captureIo();
    const empty = tempDir('duty-desk-nopath-');
    try {
      expect(await runBackup([], { DATABASE_URL: url, PATH: empty, INIT_CWD: root }, io, NOW)).toBe(1);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    expect(io.out).toEqual([
      'PostgreSQL backup (custom format, restorable with pg_restore):',
      '  PGPASSWORD=<the password in DATABASE_URL> pg_dump --format=custom --no-owner --file=backups/duty-desk-20261122-101500.dump --dbname=postgresql://duty@db.example.org:5432/duty_desk',
    ]);
    expect(io.err.join('\n')).toMatch(/^duty-desk: backup failed: no backup was taken: pg_dump is not on the PATH; install the PostgreSQL client tools/);
    expect(io.all()).not.toContain('s3cret');
  });

  test('restore prints the pg_restore steps into a new database and exits 0', async () => {
    const io = captureIo();
    expect(await runRestore(['/srv/backups/duty-desk-20261122-101500.dump'], { DATABASE_URL: url }, io, NOW)).toBe(0);
    const text = io.out.join('\n');
    expect(text).toContain('createdb --maintenance-db=postgresql://duty@db.example.org:5432/duty_desk duty_desk_restored_20261122_101500');
    expect(text).toContain(
      'pg_restore --no-owner --exit-on-error --single-transaction --dbname=postgresql://duty@db.example.org:5432/duty_desk_restored_20261122_101500 /srv/backups/duty-desk-20261122-101500.dump',
    );
    expect(text).toMatch(/set DATABASE_URL to the same address with the database duty_desk_restored_20261122_101500/);
    expect(io.all()).not.toContain('s3cret');
  });

  test('pg_dump must be at least the server\'s major version', () => {
    expect(versionAdvice(15, 15)).toBeUndefined();
    expect(versionAdvice(14, 16)).toEqual({ fatal: true, text: expect.stringContaining('apt install postgresql-client-16') });
    expect(versionAdvice(14, 16)?.text).toContain('PG_BIN=/usr/lib/postgresql/16/bin');
    expect(versionAdvice(17, 15)).toEqual({ fatal: false, text: expect.stringContaining('pg_restore 17 or newer') });
  });

  const canDump = Boolean(pgAdminUrl && findPgTool('pg_dump', process.env) && findPgTool('pg_restore', process.env));
  (canDump ? test : test.skip)('a pg_dump archive restores into a fresh database row for row, and the app runs over it', async () => {
    const src = await freshPostgres();
    const dst = await freshPostgres();
    const dir = tempDir('duty-desk-pgdump-');
    try {
      const core = await coreOn(src);
      let caseRef: string;
      try {
        ({ caseRef } = await seed(core));
      } finally {
        await core.close();
      }
      const io = captureIo();
      expect(await runBackup(['--out', 'pg.dump'], { ...process.env, DATABASE_URL: src.url, INIT_CWD: dir }, io, NOW)).toBe(0);
      expect(io.out.at(-1)).toMatch(/^Backup written to pg\.dump \(.*tables of data, read back with pg_restore --list\)\.$/);
      expect(fs.statSync(path.join(dir, 'pg.dump')).mode & 0o777).toBe(0o600);

      const restore = spawnSync(findPgTool('pg_restore', process.env)!, pgRestoreArgs(pgTarget(dst.url), path.join(dir, 'pg.dump')), { encoding: 'utf8' });
      expect({ status: restore.status, stderr: restore.stderr }).toEqual({ status: 0, stderr: '' });
      const expected = await pgSnapshot(src.url);
      expectSeeded(expected, 'postgresql');
      expect(await pgSnapshot(dst.url)).toEqual(expected);

      const restored = await coreOn(dst);
      try {
        expect(textOf(await as(restored, 'root').run('/case list all'))).toContain(caseRef);
      } finally {
        await restored.close();
      }
    } finally {
      await src.drop();
      await dst.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
