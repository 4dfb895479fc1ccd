// Applies the checked-in Prisma migrations (prisma/migrations/<provider>/<name>/migration.sql)
// and records them in Prisma's own `_prisma_migrations` table with Prisma's checksum
// (SHA-256 of the file), so `prisma migrate status` / `migrate deploy` agree with us.
// Prisma's CLI cannot migrate PostgreSQL offline here, so the application does it at start-up.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { isPostgresUrl } from '../config';
import { projectRoot, sqlitePath } from './paths';

export type Provider = 'sqlite' | 'postgresql';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
}

/** Prisma takes this advisory lock for `migrate deploy`; sharing it excludes Prisma and us too. */
const PRISMA_ADVISORY_LOCK = 72707369;

export function providerOf(url: string): Provider {
  return isPostgresUrl(url) ? 'postgresql' : 'sqlite';
}

export function loadMigrations(provider: Provider, dir = path.join(projectRoot(), 'prisma', 'migrations', provider)): Migration[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: sql.toString('utf8'), checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Refuses to run over a history that was edited or half-applied: both need a person. */
function checkHistory(applied: Map<string, { checksum: string; finished: boolean }>, migrations: Migration[]): Migration[] {
  const pending: Migration[] = [];
  for (const m of migrations) {
    const row = applied.get(m.name);
    if (!row) {
      pending.push(m);
      continue;
    }
    if (!row.finished) throw new MigrationError(`migration ${m.name} failed earlier and is marked unfinished; resolve it before starting`);
    if (row.checksum !== m.checksum) throw new MigrationError(`migration ${m.name} was modified after it was applied (checksum differs)`);
  }
  return pending;
}

const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const PG_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Opens (creating folder and file if needed) and prepares a SQLite database: WAL, busy wait. */
export function openSqlite(url: string): Database.Database {
  const file = sqlitePath(url);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  // Switching a new file to WAL needs it to itself and does not wait on the busy handler: two
  // replicas creating the database at once would fail one of them. Wait here instead.
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || attempt >= 100) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 + Math.floor(Math.random() * 50));
    }
  }
  db.pragma('foreign_keys = ON');
  return db;
}

function isoNow(): string {
  // Prisma's SQLite engine writes this form.
  return new Date().toISOString().replace('Z', '+00:00');
}

export function migrateSqlite(url: string, migrations = loadMigrations('sqlite')): MigrateResult {
  const db = openSqlite(url);
  try {
    // Prisma's table-redefining SQLite migrations drop and recreate tables; with foreign keys
    // enforced, the drop would cascade and delete rows. The pragma is ignored inside a
    // transaction, so it is set before; integrity is checked before commit instead.
    db.pragma('foreign_keys = OFF');
    db.exec(SQLITE_TABLE);
    // BEGIN IMMEDIATE takes the writer lock, so a second process waits and then finds nothing to do.
    const run = db.transaction((): string[] => {
      const rows = db
        .prepare('SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL')
        .all() as { migration_name: string; checksum: string; finished_at: string | null }[];
      const applied = new Map(rows.map((r) => [r.migration_name, { checksum: r.checksum, finished: r.finished_at !== null }]));
      const pending = checkHistory(applied, migrations);
      for (const m of pending) {
        const started = isoNow();
        db.exec(m.sql);
        db.prepare(
          'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)',
        ).run(crypto.randomUUID(), m.checksum, isoNow(), m.name, started);
      }
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length) throw new MigrationError(`migrations would leave ${broken.length} rows with broken references; nothing applied`);
      return pending.map((m) => m.name);
    });
    return { applied: run.immediate() };
  } finally {
    db.close();
  }
}

export async function migratePostgres(url: string, migrations = loadMigrations('postgresql')): Promise<MigrateResult> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      await client.query(PG_TABLE);
      const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL',
      );
      const applied = new Map(rows.map((r) => [r.migration_name, { checksum: r.checksum, finished: r.finished_at !== null }]));
      const pending = checkHistory(applied, migrations);
      for (const m of pending) {
        // Each migration and its record commit together: a crash leaves it either applied or not.
        await client.query('BEGIN');
        try {
          const started = new Date();
          await client.query(m.sql);
          await client.query(
            'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)',
            [crypto.randomUUID(), m.checksum, m.name, started],
          );
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new MigrationError(`migration ${m.name} failed: ${(e as Error).message}`);
        }
      }
      return { applied: pending.map((m) => m.name) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  } finally {
    await client.end();
  }
}

export async function migrate(url: string): Promise<MigrateResult> {
  return providerOf(url) === 'postgresql' ? migratePostgres(url) : migrateSqlite(url);
}
