// `npm run audit:verify`: the report and exit status on SQLite and PostgreSQL, against a log
// written by the app and then tampered with in SQL; reads in bounded batches; and the script
// itself as a process, with DATABASE_URL from the environment.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chainKeyOf, run } from '../../scripts/audit-verify';
import { parseConfig } from '../../src/config';
import { verifyAuditChain } from '../../src/store/audit-chain';
import { migrate } from '../../src/store/migrate';
import type { SqlRunner } from '../../src/store/sql';
import { Store, systemMeta } from '../../src/store/store';
import { describeEachDb, freshSqlite, type TestDb } from '../helpers/db';

async function logOf(db: TestDb, n: number, key?: string): Promise<void> {
  await migrate(db.url);
  const store = Store.open(db.url, key ? { auditChainKey: key } : {});
  try {
    // A few per transaction, as a merge or an import writes them.
    for (let i = 0; i < n; i += 3) {
      await store.change(systemMeta(`r${i}`), async (w) => {
        for (let j = i; j < Math.min(n, i + 3); j++) await w.audit('person', `p${j}`, 'view', null, { number: j, fields: 'full details' });
      });
    }
  } finally {
    await store.close();
  }
}

async function tamper(db: TestDb, sql: string): Promise<void> {
  const store = Store.open(db.url);
  try {
    await store.transaction((tx) => store.sqlIn(tx).run(sql));
  } finally {
    await store.close();
  }
}

async function report(opts: Parameters<typeof run>[0]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(opts, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

describeEachDb('audit:verify', (fresh) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await fresh();
    await logOf(db, 10);
  });
  afterAll(() => db.drop());

  test('an intact log: "audit chain OK", exit 0', async () => {
    const r = await report({ databaseUrl: db.url, batchSize: 4 });
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([expect.stringMatching(/^audit chain OK: 10 entries, head [0-9a-f]{64}$/)]);
  });

  test('a tampered log: the first broken entry named, exit 1', async () => {
    await tamper(db, `UPDATE "AuditEntry" SET "after" = '{"number":7,"fields":"none"}' WHERE "seq" = 7`);
    await tamper(db, 'DELETE FROM "AuditEntry" WHERE "seq" = 9');
    const id7 = await (async () => {
      const store = Store.open(db.url);
      try {
        return (await store.db.auditEntry.findFirst({ where: { seq: 7 } }))?.id;
      } finally {
        await store.close();
      }
    })();
    const r = await report({ databaseUrl: db.url, batchSize: 4 });
    expect(r.code).toBe(1);
    expect(r.out).toEqual([`audit chain BROKEN at seq 7, id ${id7}: hash mismatch: its content does not match its hash: changed after it was written. 6 entries before it are intact.`]);
  });

  test('a database it cannot read: exit 2 with the reason', async () => {
    const missing = db.provider === 'sqlite' ? 'file:/nonexistent/dir/none.db' : db.url.replace(/\/[^/]*$/, '/dd_no_such_database');
    const r = await report({ databaseUrl: missing });
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/^audit:verify: could not check the chain: /);
  });
});

describe('audit:verify, keyed chain and bounded reads [sqlite]', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await freshSqlite();
    await logOf(db, 50, 'chain-key');
  });
  afterAll(() => db.drop());

  test('a keyed chain needs its key', async () => {
    expect((await report({ databaseUrl: db.url, key: 'chain-key' })).code).toBe(0);
    const r = await report({ databaseUrl: db.url });
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^audit chain BROKEN at seq 1, id \d+: hash mismatch: .*another AUDIT_CHAIN_KEY, or none/);
  });

  test('the key comes from the configuration once it has AUDIT_CHAIN_KEY', () => {
    const c = parseConfig({});
    if (!c.ok) throw new Error(c.error);
    expect(chainKeyOf(c.config)).toBeUndefined();
    expect(chainKeyOf({ ...c.config, AUDIT_CHAIN_KEY: 'k' } as typeof c.config)).toBe('k');
  });

  test('the log is read in batches of at most batchSize rows', async () => {
    const store = Store.open(db.url);
    try {
      await store.ping();
      const inner = store.sqlRead();
      let most = 0;
      let reads = 0;
      const counting: SqlRunner = {
        ...inner,
        values: async (sql, params) => {
          const rows = await inner.values(sql, params);
          if (sql.includes('"before"')) {
            reads++;
            most = Math.max(most, rows.length);
          }
          return rows;
        },
      };
      expect(await verifyAuditChain(counting, { key: 'chain-key', batchSize: 7 })).toMatchObject({ ok: true, entries: 50 });
      expect(most).toBe(7);
      expect(reads).toBe(8);
    } finally {
      await store.close();
    }
  });

  test('as a process: DATABASE_URL from the environment, the report, the exit status', () => {
    const root = path.resolve(__dirname, '..', '..');
    // No key given to the process: this keyed chain does not verify, which is what we check.
    const p = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'audit-verify.ts')], { cwd: root, env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000 });
    expect(p.stdout).toMatch(/^audit chain BROKEN at seq 1, id \d+: hash mismatch/);
    expect(p.status).toBe(1);
  });
});
