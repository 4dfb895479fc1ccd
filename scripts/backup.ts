// `npm run backup [-- --out FILE]`: an online backup of the database in DATABASE_URL.
// SQLite: SQLite's backup API over better-sqlite3, copied in one step so the copy is one
// consistent snapshot while the bot keeps writing (WAL readers do not block writers), then
// verified and moved into place under its final name; an existing file is never replaced.
// PostgreSQL: prints the pg_dump command and runs it when pg_dump is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import dotenv from 'dotenv';
import { Client } from 'pg';
import { configSchema, isPostgresUrl } from '../src/config';
import { projectRoot, sqlitePath } from '../src/store/paths';

export const DEFAULT_DATABASE_URL = 'file:./data/duty-desk.db';

/** A failure we expected and can explain in one sentence; anything else is a bug. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface Io {
  log(line: string): void;
  error(line: string): void;
}

export const consoleIo: Io = {
  log: (line) => process.stdout.write(line + '\n'),
  error: (line) => process.stderr.write(line + '\n'),
};

export type Env = Record<string, string | undefined>;

/** DATABASE_URL as the app reads it: empty means unset, then the same default and check. */
export function databaseUrl(env: Env): string {
  const raw = env.DATABASE_URL?.trim() ? env.DATABASE_URL : undefined;
  const r = configSchema.shape.DATABASE_URL.safeParse(raw);
  if (!r.success) throw new BackupError(`DATABASE_URL: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** Files named on the command line are relative to where `npm run` was typed (npm sets INIT_CWD). */
export function userPath(p: string, env: Env): string {
  return path.resolve(env.INIT_CWD || process.cwd(), p);
}

/** 20261122-155804, in UTC so that names sort and mean the same on every server. */
export function timestamp(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export function shown(p: string, env: Env = process.env): string {
  const rel = path.relative(env.INIT_CWD || process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

export interface BackupArgs {
  out?: string;
  help?: boolean;
}

export function parseBackupArgs(argv: string[]): BackupArgs | { error: string } {
  const args: BackupArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--out' || a.startsWith('--out=')) {
      const v = a === '--out' ? argv[++i] : a.slice('--out='.length);
      if (!v) return { error: '--out needs a file name' };
      args.out = v;
    } else return { error: `unknown option ${a} (usage: npm run backup [-- --out FILE])` };
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Files: a temporary name beside the final one, then a hard link (which fails rather than
// replace), so a half-written backup never carries a backup's name.

/** Syncs a folder so that a rename or link in it survives a power cut (best effort: not every OS can). */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open folders; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Gives `tmp` the name `final` unless `final` exists; true when done. */
export function claimName(tmp: string, final: string): boolean {
  try {
    fs.linkSync(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // No hard links on this file system (some network and FUSE mounts): check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
    if (fs.existsSync(final)) return false;
    fs.renameSync(tmp, final);
    syncDir(path.dirname(final));
    return true;
  }
  fs.unlinkSync(tmp);
  syncDir(path.dirname(final));
  return true;
}

function removeQuietly(...files: string[]): void {
  for (const f of files) fs.rmSync(f, { force: true });
}

/**
 * Where the backup goes: `--out FILE`; or duty-desk-<timestamp><ext> (-2, -3… if taken) in
 * `--out DIR/` or ./backups.
 */
export function targetFile(args: BackupArgs, env: Env, now: Date, ext: string): { file: string; explicit: boolean } {
  const name = `duty-desk-${timestamp(now)}${ext}`;
  if (args.out) {
    const out = userPath(args.out, env);
    const isDir = /[\\/]$/.test(args.out) || (fs.existsSync(out) && fs.statSync(out).isDirectory());
    return isDir ? { file: path.join(out, name), explicit: false } : { file: out, explicit: true };
  }
  return { file: path.join(projectRoot(), 'backups', name), explicit: false };
}

function withSuffix(file: string, n: number): string {
  const ext = path.extname(file);
  return n === 1 ? file : `${file.slice(0, file.length - ext.length)}-${n}${ext}`;
}

/** Moves the verified temporary file to its name; an explicit --out that exists is an error. */
function placeBackup(tmp: string, file: string, explicit: boolean): string {
  for (let n = 1; n < 100; n++) {
    const candidate = withSuffix(file, n);
    if (claimName(tmp, candidate)) return candidate;
    if (explicit) break;
  }
  removeQuietly(tmp);
  throw new BackupError(`${file} already exists and a backup never replaces a file: choose another --out`);
}

function prepareDir(file: string, explicit: boolean): void {
  const dir = path.dirname(file);
  if (explicit && fs.existsSync(file)) throw new BackupError(`${file} already exists and a backup never replaces a file: choose another --out`);
  try {
    // Backups hold personal data: a folder we create is for this user only.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BackupError(`cannot create the folder ${dir}: ${(e as Error).message}`);
  }
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
}

// ---------------------------------------------------------------------------------------------
// SQLite

export interface SqliteCheck {
  /** Applied migrations, oldest first. */
  migrations: { name: string; checksum: string; finished: boolean }[];
  tables: number;
}

/**
 * Checks a SQLite file is a whole Duty Desk database: integrity_check, no broken foreign keys,
 * and Prisma's migration table. Throws BackupError with the reason.
 */
export function checkSqlite(db: Database.Database, label: string): SqliteCheck {
  try {
    return checkSqliteUnsafe(db, label);
  } catch (e) {
    // A page too damaged to read ends the check with an error instead of a report.
    const code = String((e as { code?: unknown }).code);
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') throw new BackupError(`${label} is damaged: ${(e as Error).message}`);
    throw e;
  }
}

function checkSqliteUnsafe(db: Database.Database, label: string): SqliteCheck {
  const integrity = db.pragma('integrity_check') as { integrity_check: string }[];
  if (integrity.length !== 1 || integrity[0]?.integrity_check !== 'ok') {
    const first = integrity
      .slice(0, 3)
      .map((r) => r.integrity_check)
      .join('; ');
    throw new BackupError(`${label} fails SQLite's integrity check: ${first}`);
  }
  const broken = db.pragma('foreign_key_check') as unknown[];
  if (broken.length) throw new BackupError(`${label} has ${broken.length} rows with broken references`);
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
  if (!hasTable) throw new BackupError(`${label} is not a Duty Desk database (it has no _prisma_migrations table)`);
  const rows = db
    .prepare('SELECT migration_name AS name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY migration_name')
    .all() as { name: string; checksum: string; finished_at: string | null }[];
  if (!rows.length) throw new BackupError(`${label} has no migrations applied: it is not a Duty Desk database, or an empty one`);
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  return { migrations: rows.map((r) => ({ name: r.name, checksum: r.checksum, finished: r.finished_at !== null })), tables };
}

/** Opens a file that must already be a SQLite database, with a clear sentence if it is not. */
export function openExisting(file: string, label: string, opts: { readonly?: boolean } = {}): Database.Database {
  if (!fs.existsSync(file)) throw new BackupError(`${label} ${file} does not exist`);
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1') !== 'SQLite format 3\0') throw new BackupError(`${label} ${file} is not a SQLite database`);
  return new Database(file, { fileMustExist: true, readonly: opts.readonly ?? false, timeout: 10_000 });
}

/**
 * Copies `source` into the new file `dest` in a single backup step: one read transaction, so one
 * consistent snapshot. In steps, every commit by another connection would restart the copy, and
 * a busy bot could keep it from ever finishing.
 */
export async function copySqlite(source: Database.Database, dest: string): Promise<void> {
  // The copy holds personal data: created for this user only before SQLite writes to it.
  fs.closeSync(fs.openSync(dest, 'wx', 0o600));
  await source.backup(dest, { progress: () => 0x7fffffff });
  const copy = new Database(dest, { fileMustExist: true });
  try {
    // The copy inherits WAL mode; a backup should be one self-contained file.
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

export interface SqliteBackupResult {
  file: string;
  bytes: number;
  check: SqliteCheck;
}

export async function backupSqlite(url: string, args: BackupArgs, env: Env, now: Date): Promise<SqliteBackupResult> {
  const source = sqlitePath(url);
  const { file, explicit } = targetFile(args, env, now, '.db');
  // Read-write, without writing: as the last connection it tidies the -wal and -shm files on close.
  const db = openExisting(source, 'the database');
  try {
    prepareDir(file, explicit);
    const tmp = tempName(file);
    try {
      await copySqlite(db, tmp);
      const copy = new Database(tmp, { readonly: true, fileMustExist: true });
      let check: SqliteCheck;
      try {
        check = checkSqlite(copy, 'the copy');
      } finally {
        copy.close();
      }
      const placed = placeBackup(tmp, file, explicit);
      return { file: placed, bytes: fs.statSync(placed).size, check };
    } finally {
      removeQuietly(tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`);
    }
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** Query parameters libpq understands; Prisma's own (schema, connection_limit…) would make pg_dump refuse the URL. */
const LIBPQ_PARAMS = new Set([
  'host', 'hostaddr', 'port', 'dbname', 'user', 'passfile', 'channel_binding', 'connect_timeout', 'client_encoding', 'options',
  'application_name', 'fallback_application_name', 'keepalives', 'keepalives_idle', 'keepalives_interval', 'keepalives_count',
  'tcp_user_timeout', 'sslmode', 'requiressl', 'sslcompression', 'sslcert', 'sslkey', 'sslpassword', 'sslcertmode', 'sslrootcert',
  'sslcrl', 'sslcrldir', 'sslsni', 'requirepeer', 'ssl_min_protocol_version', 'ssl_max_protocol_version', 'krbsrvname', 'gsslib',
  'gssdelegation', 'service', 'target_session_attrs', 'load_balance_hosts', 'gssencmode',
]);

export interface PgTarget {
  /** The URL for libpq, without the password (it goes in PGPASSWORD, not on a command line others can see). */
  url: string;
  password?: string;
  /** Prisma's `schema=` when not public: dumped alone with --schema. */
  schema?: string;
  database: string;
}

export function pgTarget(databaseUrl: string): PgTarget {
  const u = new URL(databaseUrl);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  const schema = u.searchParams.get('schema') ?? undefined;
  for (const key of [...u.searchParams.keys()]) if (!LIBPQ_PARAMS.has(key)) u.searchParams.delete(key);
  return {
    url: u.toString(),
    ...(password !== undefined ? { password } : {}),
    ...(schema && schema !== 'public' ? { schema } : {}),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/** The same server, another database (for restoring beside the live one). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args].map(shellQuote).join(' ');
}

export function pgDumpArgs(t: PgTarget, file: string): string[] {
  return ['--format=custom', '--no-owner', ...(t.schema ? [`--schema=${t.schema}`] : []), `--file=${file}`, `--dbname=${t.url}`];
}

/** Where the PostgreSQL client tools are: PG_BIN if set, else the PATH. */
export function findPgTool(name: 'pg_dump' | 'pg_restore', env: Env): string | undefined {
  const dirs = env.PG_BIN ? [env.PG_BIN] : (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        if (fs.statSync(p).isFile()) return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function toolMajor(tool: string): number | undefined {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function serverMajor(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (e) {
    const u = new URL(databaseUrl);
    throw new BackupError(`cannot connect to PostgreSQL at ${u.host}${u.pathname}: ${(e as Error).message}`);
  }
  try {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    // 150020 → 15 (the scheme since PostgreSQL 10, all Prisma supports).
    return Math.floor(Number(rows[0]?.server_version_num) / 10000);
  } finally {
    await client.end();
  }
}

/**
 * pg_dump refuses a server newer than itself; a newer pg_dump reads older servers, but its
 * archive then needs a pg_restore at least as new. Undefined: go ahead.
 */
export function versionAdvice(dump: number, server: number): { fatal: boolean; text: string } | undefined {
  if (dump === server) return undefined;
  if (dump < server) {
    return {
      fatal: true,
      text:
        `pg_dump is version ${dump} but the server runs PostgreSQL ${server}, and pg_dump cannot dump a newer server: ` +
        `install the PostgreSQL ${server} client tools (Debian/Ubuntu: apt install postgresql-client-${server}) and set PG_BIN to their folder ` +
        `(e.g. PG_BIN=/usr/lib/postgresql/${server}/bin), or run pg_dump on the database server itself`,
    };
  }
  return {
    fatal: false,
    text: `note: pg_dump ${dump} is newer than the server (PostgreSQL ${server}); that works, but restore the archive with pg_restore ${dump} or newer`,
  };
}

function pgEnv(t: PgTarget): NodeJS.ProcessEnv {
  return { ...process.env, ...(t.password !== undefined ? { PGPASSWORD: t.password } : {}) };
}

export interface PgBackupResult {
  file: string;
  bytes: number;
  /** Tables whose data the archive holds (from pg_restore --list); undefined without pg_restore. */
  tables?: number;
}

export async function backupPostgres(databaseUrl: string, args: BackupArgs, env: Env, now: Date, io: Io): Promise<PgBackupResult> {
  const t = pgTarget(databaseUrl);
  const { file, explicit } = targetFile(args, env, now, '.dump');
  const pgDump = findPgTool('pg_dump', env);
  io.log('PostgreSQL backup (custom format, restorable with pg_restore):');
  io.log(`  ${t.password !== undefined ? 'PGPASSWORD=<the password in DATABASE_URL> ' : ''}${commandLine('pg_dump', pgDumpArgs(t, shown(file, env)))}`);
  if (!pgDump) {
    throw new BackupError(
      `no backup was taken: pg_dump is not ${env.PG_BIN ? `in PG_BIN (${env.PG_BIN})` : 'on the PATH'}; ` +
        'install the PostgreSQL client tools of the server\'s major version (Debian/Ubuntu: postgresql-client) or run the command above where they are',
    );
  }
  const dumpMajor = toolMajor(pgDump);
  const server = await serverMajor(databaseUrl);
  if (dumpMajor === undefined) throw new BackupError(`cannot tell the version of ${pgDump} (pg_dump --version gave nothing usable)`);
  const advice = versionAdvice(dumpMajor, server);
  if (advice?.fatal) throw new BackupError(advice.text);
  if (advice) io.log(advice.text);

  prepareDir(file, explicit);
  const tmp = tempName(file);
  try {
    fs.closeSync(fs.openSync(tmp, 'wx', 0o600));
    const r = spawnSync(pgDump, pgDumpArgs(t, tmp), { env: pgEnv(t), encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.error) throw new BackupError(`pg_dump could not run: ${r.error.message}`);
    if (r.status !== 0) throw new BackupError(`pg_dump failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
    const tables = verifyArchive(tmp, env);
    const placed = placeBackup(tmp, file, explicit);
    return { file: placed, bytes: fs.statSync(placed).size, ...(tables !== undefined ? { tables } : {}) };
  } finally {
    removeQuietly(tmp);
  }
}

/** Reads the archive's table of contents back: a truncated or foreign file fails here. */
function verifyArchive(file: string, env: Env): number | undefined {
  const pgRestore = findPgTool('pg_restore', env);
  if (!pgRestore) return undefined;
  const r = spawnSync(pgRestore, ['--list', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new BackupError(`the archive pg_dump wrote does not read back: ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`);
  const toc = r.stdout ?? '';
  if (!/TABLE DATA \S+ _prisma_migrations /.test(toc)) throw new BackupError('the archive pg_dump wrote has no _prisma_migrations data: is DATABASE_URL the Duty Desk database?');
  return toc.split('\n').filter((l) => / TABLE DATA /.test(l)).length;
}

// ---------------------------------------------------------------------------------------------

export const BACKUP_USAGE = [
  'usage: npm run backup [-- --out FILE|DIR/]',
  '  SQLite: an online, verified copy of the database, by default ./backups/duty-desk-YYYYMMDD-HHMMSS.db (UTC); never replaces a file.',
  '  PostgreSQL: prints the pg_dump command and runs it when pg_dump is installed (PG_BIN: the folder of the client tools).',
];

/** The whole command; returns the exit status. */
export async function runBackup(argv: string[], env: Env, io: Io = consoleIo, now: Date = new Date()): Promise<number> {
  const args = parseBackupArgs(argv);
  if ('error' in args) {
    io.error(`duty-desk: ${args.error}`);
    return 2;
  }
  if (args.help) {
    BACKUP_USAGE.forEach((l) => io.log(l));
    return 0;
  }
  try {
    const url = databaseUrl(env);
    if (isPostgresUrl(url)) {
      const r = await backupPostgres(url, args, env, now, io);
      io.log(`Backup written to ${shown(r.file, env)} (${formatBytes(r.bytes)}${r.tables !== undefined ? `, ${r.tables} tables of data, read back with pg_restore --list` : ''}).`);
      return 0;
    }
    const r = await backupSqlite(url, args, env, now);
    const last = r.check.migrations[r.check.migrations.length - 1]!;
    io.log(
      `Backup written to ${shown(r.file, env)} (${formatBytes(r.bytes)}): integrity check ok, ${r.check.tables} tables, ` +
        `${r.check.migrations.length} migrations (latest ${last.name}).`,
    );
    return 0;
  } catch (e) {
    if (e instanceof BackupError) {
      io.error(`duty-desk: backup failed: ${e.message}`);
      return 1;
    }
    const err = e as Error & { code?: string };
    io.error(`duty-desk: backup failed: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    return 1;
  }
}

export function loadDotEnv(): void {
  const file = path.join(projectRoot(), '.env');
  if (fs.existsSync(file)) dotenv.config({ path: file, quiet: true });
}

if (require.main === module) {
  loadDotEnv();
  void runBackup(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
