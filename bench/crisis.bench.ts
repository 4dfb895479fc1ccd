// Crisis: importing 100,000 people from CSV with duplicate detection (against the raw driver
// inserting the same rows), board counts and /person find over them, and 500 concurrent status
// reports (none lost).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { startCore, type Core } from '../src/core';
import { personInputSchema } from '../src/domain/person';
import type { Reply } from '../src/domain/reply';
import { loadBoard } from '../src/handlers/crisis/crisis-board';
import { personOf } from '../src/handlers/crisis/crisis.service';
import { toCsv } from '../src/handlers/report/csv';
import { PERSON_COLUMNS, personRow } from '../src/store/crisis.repository';
import { migrate } from '../src/store/migrate';
import { percentile, root, type BenchResult, type Metric } from './lib';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 100_000);
const GIVEN = ['Ayşe', 'Mehmet', 'Fatma', 'Ahmet', 'Emine', 'Mustafa', 'Zeynep', 'Ali', 'Elif', 'Hüseyin', 'María', 'José', 'Anna', 'Jean', 'Pierre', 'Sofia', 'Liam', 'Noah', 'Olivia', 'Emma', 'Tenzing', 'Pema', 'Karma', 'Sita', 'Ram'];
const FAMILY = ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Öztürk', 'Aydın', 'Özdemir', 'Arslan', 'García', 'Martínez', 'López', 'Müller', 'Schmidt', 'Dubois', 'Martin', 'Smith', 'Jones', 'Brown', 'Sherpa', 'Gurung', 'Tamang', 'Rai', 'Lama'];

/**
 * Names as a registry has them: a few very common ones and a long tail. Syllables give ~3,000
 * given and ~8,000 family names besides the common lists, drawn with a skew towards the common.
 */
function namePools(r: () => number): { given: string[]; family: string[] } {
  const syl = ['ka', 'ya', 'mer', 'de', 'mir', 'ay', 'se', 'lo', 'pez', 'gar', 'cia', 'mul', 'ler', 'shi', 'ra', 'ta', 'man', 'gu', 'rung', 'el', 'if', 'zey', 'nep', 'hu', 'sey', 'in', 'os', 'tu', 'ro', 'bi', 'na', 'do', 'ri', 'ves', 'ko', 'wal', 'ski', 'ng', 'uy', 'en'];
  const word = (n: number): string => {
    let w = '';
    for (let i = 0; i < n; i++) w += syl[Math.floor(r() * syl.length)];
    return w.charAt(0).toUpperCase() + w.slice(1);
  };
  const given = new Set(GIVEN);
  while (given.size < 3000) given.add(word(2 + Math.floor(r() * 2)));
  const family = new Set(FAMILY);
  while (family.size < 8000) family.add(word(2 + Math.floor(r() * 3)));
  return { given: [...given], family: [...family] };
}

/** Skewed towards the front of the list: the common names come up far more often. */
function skewed<T>(a: readonly T[], r: () => number): T {
  return a[Math.floor(a.length * r() ** 3)] as T;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** 100,000 people; one in fifty a near copy of an earlier one (a slip in the name, same birth date and passport). */
export function makeCsv(n: number): { csv: Buffer; names: string[] } {
  const r = rng(42);
  const pools = namePools(r);
  const rows: (string | number)[][] = [];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 100 && i % 50 === 0) {
      const src = rows[Math.floor(r() * (rows.length - 1))] as (string | number)[];
      const name = String(src[1]).replace(/a/, 'e');
      rows.push([`R${i}`, name, src[2] as string, src[3] as string, '', 'Antakya', 'TR', 'registration']);
      continue;
    }
    const name = r() < 0.5 ? `${skewed(pools.given, r)} ${skewed(pools.family, r)}` : `${skewed(pools.given, r)} ${skewed(pools.given, r)} ${skewed(pools.family, r)} ${skewed(pools.family, r)}`;
    names.push(name);
    const dob = `${1940 + Math.floor(r() * 70)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    rows.push([`R${i}`, name, dob, `TR${String(1e7 + i)}`, `+90555${String(1e6 + i)}`, 'Antakya', 'TR', 'registration']);
  }
  return { csv: toCsv(['ID', 'Full name', 'Date of birth', 'Passport', 'Phone', 'Home city', 'Home country', 'Source'], rows), names };
}

/** The raw driver inserting the same person rows: one prepared statement, one transaction. */
async function rawInsert(dir: string, csvRows: Buffer): Promise<number> {
  const url = `file:${path.join(dir, 'raw.db')}`;
  await migrate(url);
  const db = new Database(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  // The same rows our import writes (built before the clock starts).
  const text = csvRows.toString('utf8').replace(/^\uFEFF/, '').split('\r\n').slice(1).filter(Boolean);
  const now = new Date();
  const rows = text.map((line, i) => {
    const [id, fullName, dateOfBirth, passportNumber, phone, homeCity, homeCountry] = line.split(',');
    const data = personInputSchema.parse({ fullName, dateOfBirth, passportNumber, phone: phone?.replace(/^'/, '') || undefined, homeCity, homeCountry });
    return personRow(personOf(data, { crisisId: 'c1', number: i + 1, source: 'csv:raw', sourceId: id ?? null, now })).map((v) => (v instanceof Date ? v.toISOString().replace('Z', '+00:00') : v));
  });
  db.prepare(`INSERT INTO "Crisis" ("id", "code", "name", "region", "status", "openedAt", "version", "updatedAt") VALUES ('c1', 'RAW', 'raw', 'r', 'active', ?, 1, ?)`).run(now.toISOString(), now.toISOString());
  const insert = db.prepare(`INSERT INTO "Person" (${PERSON_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${PERSON_COLUMNS.map(() => '?').join(', ')})`);
  const t = performance.now();
  db.transaction(() => {
    for (const r of rows) insert.run(...r);
  })();
  const ms = performance.now() - t;
  db.close();
  return ms;
}

/** Runs of the raw driver: its fastest is the baseline. */
const RAW_RUNS = 3;

/**
 * The raw driver inserting exactly the rows the import wrote: in a process of its own
 * (raw-same-rows.ts), from a copy of the import's tables taken when it finished, once our core has
 * stopped; the fastest of RAW_RUNS. Run in this process after the import it took ~40 % longer, and
 * right after the import even in a process of its own up to ~30 % (falling run after run): a
 * single slow run would flatter our ratio.
 */
function rawInsertWritten(dir: string, snapshot: string): { ms: number; rows: number } {
  const runs = Array.from({ length: RAW_RUNS }, () => {
    const db = path.join(dir, 'raw-same.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
    const out = execFileSync(process.execPath, [path.join(root(), 'dist', 'bench', 'raw-same-rows.js'), db, snapshot], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.trim().split('\n').pop() ?? '') as { ms: number; rows: number };
  });
  return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
}

export async function run(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const metrics: Metric[] = [];
  const notes: string[] = [];
  let core: Core | undefined;
  try {
    const { csv, names } = makeCsv(PEOPLE);
    const file = path.join(dir, 'registrations.csv');
    fs.writeFileSync(file, csv);
    const rawMs = await rawInsert(dir, csv);

    const cfg = parseConfig({ DATABASE_URL: `file:${path.join(dir, 'crisis.db')}`, LOG_LEVEL: 'silent', BOOTSTRAP_ADMINS: 'console:root', DATA_ENCRYPTION_KEY: `bench:${crypto.randomBytes(32).toString('base64')}` });
    if (!cfg.ok) throw new Error(cfg.error);
    core = await startCore(cfg.config, pino({ level: 'silent' }));
    const c = core;
    const run = (text: string): Promise<Reply> => c.dispatcher.dispatch({ kind: 'command', text, caller: { platform: 'console', externalId: 'root' }, origin: {}, requestId: crypto.randomUUID() });
    await run('/crisis open name="Bench quake" code=BQ region=Hatay');
    const t0 = performance.now();
    const r = await run(`/crisis import BQ file=${file}`);
    const importMs = performance.now() - t0;
    if (r.kind !== 'message') throw new Error('import answered with a form');
    const crisis = await c.store.crises.byCode('BQ');
    if (!crisis) throw new Error('no crisis');
    const imported = (await c.store.crises.statusCounts(crisis.id)).get('unaccounted') ?? 0;
    const duplicates = await c.store.crises.candidateCount(crisis.id);
    // The tables as the import left them, for the raw driver at the end (not timed).
    const snapshot = path.join(dir, 'imported.db');
    const live = new Database(path.join(dir, 'crisis.db'), { readonly: true });
    live.prepare('VACUUM INTO ?').run(snapshot);
    live.close();
    metrics.push({ label: `import ${PEOPLE.toLocaleString('en')} people from CSV with duplicate detection`, value: Math.round(importMs), unit: 'ms', target: '< 20000 ms', pass: importMs < 20_000 && imported === PEOPLE });
    const compared = (same: { ms: number; rows: number }): Metric[] => [
      { label: `  raw driver inserting the rows the import wrote (${same.rows.toLocaleString('en')}: people sealed, name keys, candidates; own process, fastest of ${RAW_RUNS})`, value: Math.round(same.ms), unit: 'ms' },
      { label: '  import / raw driver, same rows', value: Number((importMs / same.ms).toFixed(2)), unit: 'x', target: '≤ 3', pass: importMs / same.ms <= 3 },
      { label: '  raw driver inserting the people alone, in clear (the baseline until 2026-11-23)', value: Math.round(rawMs), unit: 'ms' },
      { label: '  import / that', value: Number((importMs / rawMs).toFixed(2)), unit: 'x' },
    ];
    notes.push(`${imported.toLocaleString('en')} people imported, ${duplicates.toLocaleString('en')} possible duplicates recorded (the file has one near copy in fifty). ${r.title ?? ''}`);

    // Board counts.
    const board: number[] = [];
    for (let i = 0; i < 105; i++) {
      const t = performance.now();
      await loadBoard(c.store, crisis, Date.now());
      if (i >= 5) board.push(performance.now() - t);
    }
    board.sort((a, b) => a - b);
    metrics.push({ label: 'board counts over them (status, changes, needs, movements), p99', value: Number(percentile(board, 99).toFixed(2)), unit: 'ms', target: '< 20 ms', pass: percentile(board, 99) < 20 });

    // /person find: names as typed, in another order, and with a slip.
    const rand = rng(7);
    const queries = Array.from({ length: 200 }, (_, i) => {
      const n = names[Math.floor(rand() * names.length)] as string;
      const words = n.split(' ');
      const last = words[words.length - 1] as string;
      if (i % 3 === 0) return `${last} ${words[0]}`;
      if (i % 3 === 1) return `${last.length >= 5 ? `${last.slice(0, -1)}x` : last} ${words[0]}`;
      return n.toUpperCase();
    });
    const find: number[] = [];
    let misses = 0;
    for (const [i, q] of queries.entries()) {
      const t = performance.now();
      const res = await run(`/person find ${q} crisis=BQ`);
      const ms = performance.now() - t;
      if (i >= 10) find.push(ms);
      if (res.kind !== 'message' || !res.ok || /No one matches/.test(res.title ?? '')) misses++;
    }
    find.sort((a, b) => a - b);
    metrics.push({ label: '/person find over them, p99 (200 queries: word order, slips, case)', value: Number(percentile(find, 99).toFixed(1)), unit: 'ms', target: '< 100 ms', pass: percentile(find, 99) < 100 });
    metrics.push({ label: '  /person find p50', value: Number(percentile(find, 50).toFixed(1)), unit: 'ms' });
    notes.push(`${misses} of ${queries.length} find queries found nothing.`);

    // 500 concurrent status reports.
    const people = (await c.store.crises.people(crisis.id)).slice(0, 50);
    const before = await c.store.db.personNote.count({ where: { crisisId: crisis.id } });
    const t1 = performance.now();
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => run(`/person status ${people[i % 50]?.number} safe "report ${i}"`)));
    const reportMs = performance.now() - t1;
    const after = await c.store.db.personNote.count({ where: { crisisId: crisis.id } });
    const ok = replies.filter((x) => x.kind === 'message' && x.ok).length;
    metrics.push({ label: '500 concurrent status reports: notes written', value: after - before, unit: `of 500 (${ok} answered ok, ${Math.round(reportMs)} ms)`, target: '500, none lost', pass: after - before === 500 && ok === 500 });

    // The raw driver, once nothing of ours runs.
    await c.close();
    core = undefined;
    metrics.splice(1, 0, ...compared(rawInsertWritten(dir, snapshot)));
  } finally {
    await core?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'crisis', description: `crisis tracking on SQLite: a ${PEOPLE.toLocaleString('en')}-person CSV import, board counts, find, concurrent reports`, metrics, notes };
}
