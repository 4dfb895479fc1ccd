// `npm run restore -- FILE`: puts a backup made by `npm run backup` back in place of the
// database in DATABASE_URL (SQLite), keeping the current one beside it; for PostgreSQL, prints
// how to restore into a new database with pg_restore.
//
// "In use" is what SQLite's file locks can tell: every connection to a WAL database (the bot,
// the console, a sqlite3 shell, Prisma's CLI) holds a shared lock on the file for as long as it is
// open, and leaving WAL mode needs the file to itself. A process on another machine over a
// network file system with broken locks, or one that opens the file after the check, is not seen.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { isPostgresUrl } from '../src/config';
import { loadMigrations, type Migration } from '../src/store/migrate';
import { sqlitePath } from '../src/store/paths';
import {
  BackupError,
  checkSqlite,
  commandLine,
  consoleIo,
  copySqlite,
  databaseUrl,
  formatBytes,
  loadDotEnv,
  openExisting,
  pgTarget,
  shown,
  syncDir,
  timestamp,
  userPath,
  withDatabase,
  type Env,
  type Io,
  type PgTarget,
  type SqliteCheck,
} from './backup';

/** Why the backup's migration history cannot run under this code, if it cannot. */
export function migrationProblem(backup: SqliteCheck['migrations'], code: Migration[]): string | undefined {
  const known = new Map(code.map((m) => [m.name, m.checksum]));
  for (const m of backup) {
    const checksum = known.get(m.name);
    if (checksum === undefined) {
      return `the backup was made by a newer version of Duty Desk: its migration ${m.name} is not in this code's prisma/migrations/sqlite; upgrade the code, then restore`;
    }
    if (!m.finished) return `the backup's migration ${m.name} is marked unfinished: it was taken from a database whose migration failed`;
    if (checksum !== m.checksum) return `the backup's migration ${m.name} differs from this code's (checksum): Duty Desk would refuse to start over it`;
  }
  return undefined;
}

export interface RestoreResult {
  target: string;
  /** The database that was in place, kept under this name; absent when there was none. */
  kept?: string;
  bytes: number;
  check: SqliteCheck;
  /** This code's migrations the backup lacks: applied at the next start. */
  pending: string[];
}

/** A free name `base`, `base-2`, … made to point at `file` without copying (a hard link when possible). */
function keepAs(file: string, base: string): string {
  for (let n = 1; n < 100; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    try {
      fs.linkSync(file, name);
      return name;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
      try {
        fs.copyFileSync(file, name, fs.constants.COPYFILE_EXCL);
        return name;
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e2;
      }
    }
  }
  throw new BackupError(`cannot find a free name to keep the current database as ${base}`);
}

/**
 * Takes the current database for ourselves: leaving WAL mode fails while any other connection
 * has it open, and the exclusive lock then keeps newcomers waiting until the swap is done.
 */
function lockCurrent(target: string): Database.Database {
  const db = openExisting(target, 'the current database');
  try {
    // No busy wait: a running bot holds its connection for hours, not milliseconds.
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = DELETE', { simple: true }) as string;
    if (mode !== 'delete') throw Object.assign(new Error('still in WAL mode'), { code: 'SQLITE_BUSY' });
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (e) {
    db.close();
    if (String((e as { code?: unknown }).code).startsWith('SQLITE_BUSY') || String((e as { code?: unknown }).code).startsWith('SQLITE_LOCKED')) {
      throw new BackupError(
        `the database ${target} is in use (a running bot, console or other program has it open): stop it, then run restore again; nothing was changed`,
      );
    }
    throw e;
  }
}

export async function restoreSqlite(url: string, file: string, now: Date, migrations: Migration[] = loadMigrations('sqlite')): Promise<RestoreResult> {
  const target = sqlitePath(url);
  const backup = openExisting(file, 'the backup', { readonly: true });
  let check: SqliteCheck;
  try {
    check = checkSqlite(backup, 'the backup');
    const problem = migrationProblem(check.migrations, migrations);
    if (problem) throw new BackupError(problem);
  } catch (e) {
    backup.close();
    throw e;
  }
  const names = new Set(check.migrations.map((m) => m.name));
  const pending = migrations.map((m) => m.name).filter((n) => !names.has(n));

  const exists = fs.existsSync(target);
  if (exists && fs.realpathSync(target) === fs.realpathSync(file)) {
    backup.close();
    throw new BackupError(`${file} is the database itself: restore a backup, not the live file`);
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.restore-${process.pid}.partial`);
  let lock: Database.Database | undefined;
  try {
    lock = exists ? lockCurrent(target) : undefined;
    // The backup API again rather than a file copy: right even if the backup file has a -wal beside it.
    await copySqlite(backup, tmp);
    if (exists) {
      // The bot's user must still be able to open it: same owner and mode as the database it replaces.
      const st = fs.statSync(target);
      fs.chmodSync(tmp, st.mode & 0o777);
      try {
        fs.chownSync(tmp, st.uid, st.gid);
      } catch {
        // Only root may give a file away; then it is already ours.
      }
    }
    let kept: string | undefined;
    if (!exists) {
      // SQLite would replay these into the new file as if they were its own.
      const stale = [`${target}-wal`, `${target}-journal`].filter((f) => fs.existsSync(f));
      if (stale.length) throw new BackupError(`${stale.join(' and ')} ${stale.length > 1 ? 'are' : 'is'} left from an earlier database: move ${stale.length > 1 ? 'them' : 'it'} away first; nothing was changed`);
      fs.rmSync(`${target}-shm`, { force: true });
    } else {
      if (fs.existsSync(`${target}-wal`)) throw new BackupError(`${target}-wal is still there after the database was closed; nothing was changed`);
      kept = keepAs(target, `${target}.before-restore-${timestamp(now)}`);
      // A stale shared-memory index must not be taken for the new file's.
      fs.rmSync(`${target}-shm`, { force: true });
    }
    fs.renameSync(tmp, target);
    syncDir(dir);
    return { target, ...(kept ? { kept } : {}), bytes: fs.statSync(target).size, check, pending };
  } finally {
    backup.close();
    if (lock) {
      lock.exec('ROLLBACK');
      lock.close();
    }
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}-journal`, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: instructions only. Restoring over a live database cannot be made atomic from
// here; a new database beside it, then a switch of DATABASE_URL, can be checked and undone.

export function pgRestoreArgs(into: PgTarget, file: string): string[] {
  return ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${into.url}`, file];
}

export function restoredDatabaseName(current: string, now: Date): string {
  const base = current.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
  return `${base}_restored_${timestamp(now).replace('-', '_')}`;
}

export function pgRestoreInstructions(databaseUrl: string, file: string, now: Date): string[] {
  const current = pgTarget(databaseUrl);
  const name = restoredDatabaseName(current.database, now);
  const into = pgTarget(withDatabase(databaseUrl, name));
  const pw = current.password !== undefined;
  return [
    'PostgreSQL: restore into a new database beside the current one, check it, then switch to it.',
    `1. Create the database:`,
    `     ${commandLine('createdb', [`--maintenance-db=${current.url}`, name])}`,
    `2. Restore the archive into it, all or nothing:`,
    `     ${commandLine('pg_restore', pgRestoreArgs(into, file))}`,
    `3. Stop every replica, set DATABASE_URL to the same address with the database ${name}, and start them again`,
    `   (migrations newer than the backup are applied at start). Pages, cases and people written after the backup are not in it.`,
    `4. Keep the old database ${current.database} until you are satisfied; then: ${commandLine('dropdb', [`--maintenance-db=${into.url}`, current.database])}`,
    pw
      ? 'The password is the one in DATABASE_URL: export PGPASSWORD=… or put it in ~/.pgpass first.'
      : 'Add a password if your server needs one: export PGPASSWORD=… or use ~/.pgpass.',
    'Use a pg_restore of the same major version as the pg_dump that wrote the archive, or newer.',
  ];
}

// ---------------------------------------------------------------------------------------------

export const RESTORE_USAGE = [
  'usage: npm run restore -- FILE',
  '  SQLite: checks FILE, keeps the current database as <database>.before-restore-YYYYMMDD-HHMMSS, puts FILE in its place.',
  '  Refused while the database is open (stop the bot first). PostgreSQL: prints the pg_restore steps.',
];

export async function runRestore(argv: string[], env: Env, io: Io = consoleIo, now: Date = new Date()): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    RESTORE_USAGE.forEach((l) => io.log(l));
    return 0;
  }
  const unknown = argv.find((a) => a.startsWith('-'));
  if (unknown || argv.length !== 1) {
    io.error(unknown ? `duty-desk: unknown option ${unknown}` : 'duty-desk: restore needs one backup file');
    RESTORE_USAGE.forEach((l) => io.error(l));
    return 2;
  }
  const file = userPath(argv[0]!, env);
  try {
    const url = databaseUrl(env);
    if (isPostgresUrl(url)) {
      if (!fs.existsSync(file)) io.log(`note: ${file} does not exist here; run the steps where the archive is.`);
      pgRestoreInstructions(url, shown(file, env), now).forEach((l) => io.log(l));
      return 0;
    }
    const r = await restoreSqlite(url, file, now);
    const last = r.check.migrations[r.check.migrations.length - 1]!;
    io.log(`Checked ${shown(file, env)}: integrity check ok, ${r.check.tables} tables, ${r.check.migrations.length} migrations (latest ${last.name}).`);
    if (r.kept) io.log(`The database that was in place is kept as ${shown(r.kept, env)}.`);
    io.log(`Restored it into ${shown(r.target, env)} (${formatBytes(r.bytes)}).`);
    if (r.pending.length) io.log(`${r.pending.length} newer migrations will be applied when Duty Desk starts: ${r.pending.join(', ')}.`);
    io.log('Start Duty Desk again to use it.');
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    io.error(`duty-desk: restore failed: ${e instanceof BackupError ? '' : err.code ? `${err.code}: ` : ''}${err.message}`);
    return 1;
  }
}

if (require.main === module) {
  loadDotEnv();
  void runRestore(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
