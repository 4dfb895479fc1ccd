// Counts every row written to a test database, per table and operation: a trigger on each table
// (listed from the database itself, so new tables are covered) bumps a counter inside the writing
// transaction, so a rolled-back write counts nothing. Stricter than comparing row counts: an
// UPDATE on error is caught too.
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { TestDb } from '../helpers/db';

/** Rows written since a snapshot, by "Table.OPERATION"; empty when nothing was written. */
export type Writes = Record<string, number>;

export interface WriteWatch {
  snapshot(): Promise<ReadonlyMap<string, number>>;
  since(snapshot: ReadonlyMap<string, number>): Promise<Writes>;
  close(): Promise<void>;
}

const COUNTER = '_test_writes';
const OPS = ['INSERT', 'UPDATE', 'DELETE'] as const;

export async function watchWrites(db: TestDb): Promise<WriteWatch> {
  const w = db.provider === 'sqlite' ? watchSqlite(db.url) : await watchPostgres(db.url);
  return {
    ...w,
    async since(before) {
      const out: Writes = {};
      for (const [k, n] of await w.snapshot()) if (n !== (before.get(k) ?? 0)) out[k] = n - (before.get(k) ?? 0);
      return out;
    },
  };
}

/** The tables of a SQLite database, from sqlite_master. */
export function sqliteTables(conn: Database.Database): string[] {
  const rows = conn.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`).all(COUNTER) as { name: string }[];
  return rows.map((r) => r.name);
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function watchSqlite(url: string): Omit<WriteWatch, 'since'> {
  const conn = new Database(url.replace(/^file:/, ''));
  conn.pragma('busy_timeout = 5000');
  conn.exec(`CREATE TABLE IF NOT EXISTS ${COUNTER} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
  const add = conn.prepare(`INSERT OR IGNORE INTO ${COUNTER} (k, n) VALUES (?, 0)`);
  for (const t of sqliteTables(conn)) {
    for (const op of OPS) {
      add.run(`${t}.${op}`);
      conn.exec(`CREATE TRIGGER IF NOT EXISTS ${quote(`_tw_${t}_${op}`)} AFTER ${op} ON ${quote(t)} BEGIN UPDATE ${COUNTER} SET n = n + 1 WHERE k = ${literal(`${t}.${op}`)}; END;`);
    }
  }
  const read = conn.prepare(`SELECT k, n FROM ${COUNTER}`);
  return {
    snapshot: async () => new Map((read.all() as { k: string; n: number }[]).map((r) => [r.k, r.n])),
    close: async () => void conn.close(),
  };
}

async function watchPostgres(url: string): Promise<Omit<WriteWatch, 'since'>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE TABLE IF NOT EXISTS ${COUNTER} (k text PRIMARY KEY, n bigint NOT NULL)`);
  await c.query(
    `CREATE OR REPLACE FUNCTION _test_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE ${COUNTER} SET n = n + 1 WHERE k = TG_TABLE_NAME || '.' || TG_OP; RETURN NULL; END $$`,
  );
  const { rows } = await c.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`,
    [COUNTER],
  );
  for (const { table_name: t } of rows) {
    for (const op of OPS) await c.query(`INSERT INTO ${COUNTER} (k, n) VALUES ($1, 0) ON CONFLICT DO NOTHING`, [`${t}.${op}`]);
    await c.query(`CREATE OR REPLACE TRIGGER _tw AFTER INSERT OR UPDATE OR DELETE ON ${quote(t)} FOR EACH ROW EXECUTE FUNCTION _test_bump()`);
  }
  return {
    snapshot: async () => new Map((await c.query<{ k: string; n: string }>(`SELECT k, n FROM ${COUNTER}`)).rows.map((r) => [r.k, Number(r.n)])),
    close: () => c.end(),
  };
}
