// A fresh database per test file: a new SQLite file always, and a new PostgreSQL database when
// TEST_POSTGRES_URL is set (otherwise the PostgreSQL variants are reported as skipped).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export interface TestDb {
  provider: 'sqlite' | 'postgresql';
  url: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'duty-desk-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freshSqlite(): Promise<TestDb> {
  const dir = tempDir();
  return {
    provider: 'sqlite',
    url: `file:${path.join(dir, 'test.db')}`,
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const pgAdminUrl = process.env.TEST_POSTGRES_URL;

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function freshPostgres(): Promise<TestDb> {
  if (!pgAdminUrl) throw new Error('TEST_POSTGRES_URL is not set');
  const name = `dd_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    provider: 'postgresql',
    url: withDatabase(pgAdminUrl, name),
    async drop() {
      const c = new Client({ connectionString: pgAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

type Factory = () => Promise<TestDb>;

/** Runs a describe block on SQLite, and on PostgreSQL when TEST_POSTGRES_URL is set. */
export function describeEachDb(title: string, body: (fresh: Factory) => void): void {
  describe(`${title} [sqlite]`, () => body(freshSqlite));
  (pgAdminUrl ? describe : describe.skip)(`${title} [postgresql]`, () => body(freshPostgres));
}
