// The crisis benchmark's baseline, in a process of its own: the raw driver inserting the rows an
// import wrote (people as stored, sealed, with blind indexes; their name-index keys; the duplicate
// candidates), one prepared statement a table, one transaction, into a fresh database.
// argv: the database to create, the import's tables (a copy). Prints {ms, rows}.
import Database from 'better-sqlite3';
import { SQLITE_CACHE_KIB } from '../src/store/client';
import { migrate } from '../src/store/migrate';

async function main(): Promise<void> {
  const [to, from] = process.argv.slice(2);
  if (!to || !from) throw new Error('usage: raw-same-rows <new database> <import copy>');
  await migrate(`file:${to}`);
  const src = new Database(from, { readonly: true });
  const tables = ['Crisis', 'Person', 'PersonKey', 'DuplicateCandidate'];
  const data = tables.map((t) => ({ t, rows: src.prepare(`SELECT * FROM "${t}"`).raw(true).all() as unknown[][], columns: src.prepare(`SELECT * FROM "${t}" LIMIT 0`).columns().map((c) => c.name) }));
  src.close();
  const db = new Database(to);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // The page cache our connections have: the baseline must not be slowed by a smaller one.
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  const inserts = data.map(({ t, rows, columns }) => ({ rows, insert: db.prepare(`INSERT INTO "${t}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`) }));
  const t = performance.now();
  db.transaction(() => {
    for (const { rows, insert } of inserts) for (const r of rows) insert.run(...r);
  })();
  const ms = performance.now() - t;
  db.close();
  process.stdout.write(`${JSON.stringify({ ms, rows: data.filter((d) => d.t !== 'Crisis').reduce((n, d) => n + d.rows.length, 0) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
