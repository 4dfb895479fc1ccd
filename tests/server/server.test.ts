// The HTTP server as a whole: health, unknown routes, hostile bodies, and the database going away.
import crypto from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server';
import { Store } from '../../src/store/store';
import { freshPostgres, freshSqlite, pgAdminUrl, type TestDb } from '../helpers/db';
import { testConfig } from '../helpers/core';

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

describe('server [sqlite]', () => {
  let db: TestDb;
  let server: RunningServer;
  beforeAll(async () => {
    db = await freshSqlite();
    server = await startServer(testConfig({ DATABASE_URL: db.url, PORT: '0' }), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  test('healthz answers ok while the store answers', async () => {
    expect(await get(`${server.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
  });

  test('unknown routes get 404; Teams without credentials gets 401; the server keeps serving', async () => {
    expect((await get(`${server.url}/nope`)).status).toBe(404);
    const teams = await fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"message"' });
    expect(teams.status).toBe(401);
    expect(await teams.json()).toMatchObject({ error: 'teams_not_configured' });
    // Slack is off: its route does not exist.
    const slack = await fetch(`${server.url}/slack/events`, { method: 'POST', body: 'x' });
    expect(slack.status).toBe(404);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    // Nothing was changed by those requests (the built-in escalation policy made at start aside).
    expect(await server.core.store.db.auditEntry.count({ where: { entity: { not: 'policy' } } })).toBe(0);
  });
});

test('a stop lets the commands under way finish: acknowledged work is saved, not dropped with the process', async () => {
  const db = await freshSqlite();
  try {
    const server = await startServer(testConfig({ DATABASE_URL: db.url, PORT: '0', BOOTSTRAP_ADMINS: 'console:root' }), { logger: pino({ level: 'silent' }) });
    const pending = Array.from({ length: 20 }, (_, i) =>
      server.dispatcher.dispatch({ kind: 'command', text: `/duty member add handle=late${i} name="Late ${i}" roles=officer`, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() }),
    );
    // The stop comes while they run (a deploy's SIGTERM).
    await server.close();
    const replies = await Promise.all(pending);
    expect(replies.filter((r) => r.kind === 'message' && r.ok)).toHaveLength(20);
    const store = Store.open(db.url);
    try {
      expect(await store.db.member.count({ where: { handle: { startsWith: 'late' } } })).toBe(20);
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
});

(pgAdminUrl ? describe : describe.skip)('server [postgresql]', () => {
  test('healthz says 503 while the database refuses connections, and recovers by itself', async () => {
    const db = await freshPostgres();
    const server = await startServer(testConfig({ DATABASE_URL: db.url, PORT: '0' }), { logger: pino({ level: 'silent' }) });
    const name = new URL(db.url).pathname.slice(1);
    const admin = new Client({ connectionString: pgAdminUrl });
    await admin.connect();
    try {
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      const down = await get(`${server.url}/healthz`);
      expect(down).toEqual({ status: 503, body: { status: 'unavailable', db: 'error', reason: 'the database does not answer' } });
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await get(`${server.url}/healthz`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(200);
    } finally {
      await admin.end();
      await server.close();
      await db.drop();
    }
  });
});
