// A real core (migrated store, commands, dispatcher) over a fresh database, and a way to speak
// to it as a given member.
import crypto from 'node:crypto';
import pino from 'pino';
import { parseConfig, type Config } from '../../src/config';
import { startCore, type Core } from '../../src/core';
import type { Platform } from '../../src/domain/invocation';
import type { MessageReply, Reply } from '../../src/domain/reply';
import type { TestDb } from './db';

/** The data key every test core runs with, so every component test writes and reads encrypted fields. */
export const TEST_DATA_KEY = `test:${Buffer.alloc(32, 7).toString('base64')}`;

export function testConfig(env: Record<string, string>): Config {
  const r = parseConfig({ LOG_LEVEL: 'silent', DATA_ENCRYPTION_KEY: TEST_DATA_KEY, ...env });
  if (!r.ok) throw new Error(r.error);
  return r.config;
}

export async function coreOn(db: TestDb, env: Record<string, string> = {}, clock?: () => Date): Promise<Core> {
  return startCore(testConfig({ DATABASE_URL: db.url, BOOTSTRAP_ADMINS: 'console:root', ...env }), pino({ level: 'silent' }), clock ? { clock } : {});
}

/** A clock the test moves by hand. */
export function manualClock(start: string): { now: () => Date; set: (iso: string) => void; advance: (ms: number) => void } {
  let t = Date.parse(start);
  return { now: () => new Date(t), set: (iso) => (t = Date.parse(iso)), advance: (ms) => (t += ms) };
}

export function as(core: Core, externalId: string, platform: Platform = 'console') {
  const base = { caller: { platform, externalId }, origin: { workspaceId: platform === 'slack' ? 'T1' : undefined } };
  return {
    run: (text: string): Promise<Reply> => core.dispatcher.dispatch({ ...base, kind: 'command', text, requestId: crypto.randomUUID() }),
    submit: (command: string, values: Record<string, string | string[] | boolean | undefined>, context?: string): Promise<Reply> =>
      core.dispatcher.dispatch({ ...base, kind: 'form', command, values, context, requestId: crypto.randomUUID() }),
  };
}

export function msg(r: Reply): MessageReply {
  if (r.kind !== 'message') throw new Error(`expected a message, got a form: ${JSON.stringify(r.form)}`);
  return r;
}

/** Everything a reply says, as one string, for assertions. */
export function textOf(r: Reply): string {
  if (r.kind === 'form') return JSON.stringify(r.form);
  return [r.title, r.text, ...(r.fields ?? []).map((f) => `${f.label}: ${f.value}`), ...(r.rows ?? []).map((x) => x.text)].filter(Boolean).join('\n');
}
