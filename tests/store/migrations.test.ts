import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { loadMigrations, migrate, migratePostgres, migrateSqlite, MigrationError } from '../../src/store/migrate';
import { projectRoot, sqlitePath } from '../../src/store/paths';
import { describeEachDb, freshPostgres, freshSqlite, pgAdminUrl, tempDir, type TestDb } from '../helpers/db';

const root = projectRoot();

/** `prisma migrate diff --from-empty --to-schema-datamodel …`: the datamodel as one script. */
function datamodelScript(provider: 'sqlite' | 'postgresql'): string {
  const schema = provider === 'sqlite' ? 'prisma/schema.prisma' : 'prisma/postgresql/schema.prisma';
  const code = `import('./scripts/new-migration.mjs').then(m => process.stdout.write(m.diffScript(${JSON.stringify(provider)}, null, ${JSON.stringify(schema)})))`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, TEST_POSTGRES_URL: pgAdminUrl } });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** The structure of a database, ignoring Prisma's bookkeeping table. */
async function catalog(db: TestDb): Promise<unknown> {
  if (db.provider === 'sqlite') {
    const d = new Database(sqlitePath(db.url), { readonly: true });
    try {
      const tables = (d.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('_prisma_migrations','sqlite_sequence') ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      return tables.map((t) => ({
        t,
        columns: d.pragma(`table_info("${t}")`),
        indexes: (d.pragma(`index_list("${t}")`) as { name: string; unique: number }[])
          // A partial index's condition too (prisma/partial-indexes.sql).
          .map((i) => ({ name: i.name, unique: i.unique, cols: d.pragma(`index_info("${i.name}")`), where: whereOf(d, i.name) }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        fks: d.pragma(`foreign_key_list("${t}")`),
      }));
    } finally {
      d.close();
    }
  }
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const cols = await c.query(
      "SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length FROM information_schema.columns WHERE table_schema='public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name",
    );
    const idx = await c.query("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname='public' AND tablename <> '_prisma_migrations' ORDER BY indexname");
    const cons = await c.query(
      "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '\"_prisma_migrations\"' AND conrelid::regclass::text <> '_prisma_migrations' ORDER BY conname",
    );
    return { cols: cols.rows, idx: idx.rows, cons: cons.rows };
  } finally {
    await c.end();
  }
}

function whereOf(d: Database.Database, index: string): string | null {
  const row = d.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(index) as { sql: string | null } | undefined;
  const m = /\sWHERE\s([\s\S]*)$/i.exec(row?.sql ?? '');
  return m ? (m[1] as string).trim() : null;
}

async function runScript(db: TestDb, sql: string): Promise<void> {
  if (db.provider === 'sqlite') {
    const d = new Database(sqlitePath(db.url));
    d.exec(sql);
    d.close();
    return;
  }
  const c = new Client({ connectionString: db.url });
  await c.connect();
  await c.query(sql);
  await c.end();
}

async function appliedRows(db: TestDb): Promise<{ migration_name: string; checksum: string; applied_steps_count: number; finished: boolean }[]> {
  const q = 'SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name';
  if (db.provider === 'sqlite') {
    const d = new Database(sqlitePath(db.url), { readonly: true });
    const rows = d.prepare(q).all() as { migration_name: string; checksum: string; applied_steps_count: number; finished: number }[];
    d.close();
    return rows.map((r) => ({ ...r, finished: Boolean(r.finished) }));
  }
  const c = new Client({ connectionString: db.url });
  await c.connect();
  const { rows } = await c.query(q);
  await c.end();
  return rows;
}

describeEachDb('migrations', (fresh) => {
  const dbs: TestDb[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });
  const make = async (): Promise<TestDb> => {
    const d = await fresh();
    dbs.push(d);
    return d;
  };

  test('apply from empty, record Prisma checksums, and a second start applies nothing', async () => {
    const db = await make();
    const all = loadMigrations(db.provider);
    expect(all.length).toBeGreaterThan(0);
    const first = await migrate(db.url);
    expect(first.applied).toEqual(all.map((m) => m.name));
    const rows = await appliedRows(db);
    expect(rows).toEqual(
      all.map((m) => ({
        migration_name: m.name,
        checksum: crypto.createHash('sha256').update(fs.readFileSync(path.join(root, 'prisma', 'migrations', db.provider, m.name, 'migration.sql'))).digest('hex'),
        applied_steps_count: 1,
        finished: true,
      })),
    );
    const second = await migrate(db.url);
    expect(second.applied).toEqual([]);
    expect(await appliedRows(db)).toHaveLength(all.length);
  });

  test('the migration history does not drift from the datamodel', async () => {
    const fromHistory = await make();
    await migrate(fromHistory.url);
    const fromDatamodel = await make();
    if (fromDatamodel.provider === 'sqlite') fs.mkdirSync(path.dirname(sqlitePath(fromDatamodel.url)), { recursive: true });
    await runScript(fromDatamodel, datamodelScript(fromDatamodel.provider));
    // What the datamodel cannot say (partial indexes) is said once, in this file.
    await runScript(fromDatamodel, fs.readFileSync(path.join(root, 'prisma', 'partial-indexes.sql'), 'utf8'));
    expect(await catalog(fromHistory)).toEqual(await catalog(fromDatamodel));
  });

  test('an edited migration stops start-up instead of being re-applied', async () => {
    const db = await make();
    const real = loadMigrations(db.provider);
    await migrate(db.url);
    const edited = real.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
    const run = db.provider === 'sqlite' ? async () => migrateSqlite(db.url, edited) : () => migratePostgres(db.url, edited);
    await expect(run()).rejects.toThrow(MigrationError);
    await expect(run()).rejects.toThrow(/modified after it was applied/);
  });
});

describe('replicas starting at once', () => {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  function migrateInChild(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn(tsx, ['src/migrate.ts'], { cwd: root, env: { ...process.env, DATABASE_URL: url } });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    });
  }

  test('[sqlite] two processes: the migrations are applied once', async () => {
    const db = await freshSqlite();
    const outs = await Promise.all([migrateInChild(db.url), migrateInChild(db.url)]);
    expect(outs.filter((o) => o.includes('applied:'))).toHaveLength(1);
    expect(outs.filter((o) => o.includes('up to date'))).toHaveLength(1);
    expect(await appliedRows(db)).toHaveLength(loadMigrations('sqlite').length);
    await db.drop();
  });

  (pgAdminUrl ? test : test.skip)('[postgresql] three at once: the advisory lock lets one apply', async () => {
    const db = await freshPostgres();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(await appliedRows(db)).toHaveLength(loadMigrations('postgresql').length);
    await db.drop();
  });
});

describe("Prisma's own CLI agrees with our runner", () => {
  test('[sqlite] migrate status reports the database up to date', async () => {
    const dir = tempDir();
    const url = `file:${path.join(dir, 'p.db')}`;
    await migrate(url);
    const code = `import('./scripts/prisma-cli.mjs').then(m => { const r = m.prisma('sqlite', ['migrate', 'status'], { DATABASE_URL: ${JSON.stringify(url)} }); process.stdout.write(r.stdout + r.stderr); process.exit(r.status); })`;
    const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
    expect(r.stdout).toMatch(/Database schema is up to date/);
    expect(r.status).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('a table-redefining SQLite migration over existing data', () => {
  test('keeps every row of the tables that reference the redefined one', async () => {
    const db = await freshSqlite();
    const base = loadMigrations('sqlite');
    await migrate(db.url);
    const d = new Database(sqlitePath(db.url));
    d.exec(`INSERT INTO "Member" (id, handle, displayName, updatedAt) VALUES ('m1', 'ana', 'Ana', '2026-01-01T00:00:00.000+00:00');
            INSERT INTO "Identity" (id, memberId, platform, externalId) VALUES ('i1', 'm1', 'slack', 'T1:U1');
            INSERT INTO "RoleGrant" (memberId, role) VALUES ('m1', 'admin');`);
    d.close();
    // What Prisma writes for a column added to Member on SQLite: copy, drop, rename.
    const redefine = `PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Member" ("id" TEXT NOT NULL PRIMARY KEY, "handle" TEXT NOT NULL, "displayName" TEXT NOT NULL, "timeZone" TEXT, "email" TEXT, "phone" TEXT, "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL, "removedAt" DATETIME, "nickname" TEXT);
INSERT INTO "new_Member" ("id", "handle", "displayName", "timeZone", "email", "phone", "createdAt", "updatedAt", "removedAt") SELECT "id", "handle", "displayName", "timeZone", "email", "phone", "createdAt", "updatedAt", "removedAt" FROM "Member";
DROP TABLE "Member";
ALTER TABLE "new_Member" RENAME TO "Member";
CREATE UNIQUE INDEX "Member_handle_key" ON "Member"("handle");
CREATE INDEX "Member_removedAt_idx" ON "Member"("removedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;
    const next = [...base, { name: '99999999999999_redefine_member', sql: redefine, checksum: crypto.createHash('sha256').update(redefine).digest('hex') }];
    expect(migrateSqlite(db.url, next).applied).toEqual(['99999999999999_redefine_member']);
    const after = new Database(sqlitePath(db.url), { readonly: true });
    const counts = after.prepare('SELECT (SELECT count(*) FROM "Member") m, (SELECT count(*) FROM "Identity") i, (SELECT count(*) FROM "RoleGrant") r').get();
    after.close();
    expect(counts).toEqual({ m: 1, i: 1, r: 1 });
    await db.drop();
  });
});
