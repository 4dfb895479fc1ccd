// `npm run keys:rotate`: re-encrypts every encrypted personal field under the current data key and
// recomputes the blind indexes, while the bot keeps running.
//
// Procedure: give every running instance the new key as DATA_ENCRYPTION_KEY and the old one in
// DATA_ENCRYPTION_OLD_KEYS (they then write under the new key and still read the old), run this,
// and once it reports that nothing under an old key remains, remove the old key.
//
// Rows are read in batches of 500 (by id) and each batch is written in one short transaction. Each
// row's update is fenced on the sealed values it read: a row someone changed in between is left
// alone (their write, under the new key, wins) and looked at again at the end. Rows already under
// the new key are skipped, so an interrupted run is simply run again. Plaintext values (written
// before a key was configured) are encrypted too.
import { loadConfigOrExit } from '../src/env';
import { CASE_BLIND, CASE_NOTE_SEALED, CASE_SEALED } from '../src/store/case.repository';
import { DUPLICATE_SEALED, PERSON_BLIND, PERSON_NOTE_SEALED, PERSON_SEALED } from '../src/store/crisis.repository';
import { MEMBER_SEALED } from '../src/store/member.repository';
import { cipherFromSettings, FieldDecryptError, SEALED_PREFIX, type FieldCipher, type IdentifierKind } from '../src/store/field-crypto';
import type { Tx } from '../src/store/client';
import { migrate } from '../src/store/migrate';
import type { SqlRunner, SqlValue } from '../src/store/sql';
import { Store, systemMeta } from '../src/store/store';

export const ROTATE_BATCH = 500;
/** Passes over rows that changed under us before giving up on them (they are reported). */
const MAX_RETRIES = 5;

interface TextTable {
  table: string;
  /** the primary key (default "id") */
  idColumn?: string;
  columns: readonly string[];
  /** `only`: rows that carry the index (an SMS number among contact addresses) */
  blind: readonly { kind: IdentifierKind; column: string; hash: string; only?: { column: string; value: string } }[];
}

/** Every table with sealed text columns. */
export const SEALED_TABLES: readonly TextTable[] = [
  { table: 'Person', columns: PERSON_SEALED, blind: PERSON_BLIND },
  { table: 'Case', columns: CASE_SEALED, blind: CASE_BLIND },
  { table: 'CaseNote', columns: CASE_NOTE_SEALED, blind: [] },
  { table: 'PersonNote', columns: PERSON_NOTE_SEALED, blind: [] },
  { table: 'DuplicateCandidate', columns: DUPLICATE_SEALED, blind: [] },
  { table: 'Member', columns: MEMBER_SEALED, blind: [] },
  { table: 'ContactMethod', columns: ['address'], blind: [{ kind: 'phone', column: 'address', hash: 'addressHash', only: { column: 'kind', value: 'sms' } }] },
  { table: 'PageNotification', idColumn: 'key', columns: ['address'], blind: [] },
];

export interface TableResult {
  table: string;
  rows: number;
  /** rows written: values re-encrypted (or encrypted for the first time) and indexes recomputed */
  rewritten: number;
  /** rows changed by someone else between our read and our write, every time we tried */
  contended: number;
  /** rows with a value that does not decrypt: reported, never written */
  unreadable: { id: string; problem: string }[];
}

export interface RotationReport {
  keyId: string;
  tables: TableResult[];
  /** values still in clear or under another key, per table and column, after the run */
  remaining: { table: string; column: string; count: number }[];
  /** identifiers without their blind index under the new key */
  missingIndexes: { table: string; column: string; count: number }[];
  /** true when nothing under an old key (or in clear) remains: the old keys can be removed */
  complete: boolean;
}

type Row = Record<string, unknown>;

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** What a row should hold under the current key; null when it holds it already. */
function planRow(cipher: FieldCipher, t: TextTable, row: Row): Record<string, string | null> | null {
  const id = String(row[t.idColumn ?? 'id']);
  const out: Record<string, string | null> = {};
  const plain = new Map<string, string | null>();
  const clear = (column: string): string | null => {
    if (!plain.has(column)) plain.set(column, cipher.openOrNull(text(row[column]), { table: t.table, column, id }));
    return plain.get(column) ?? null;
  };
  for (const column of t.columns) {
    const v = text(row[column]);
    if (!cipher.isCurrent(v)) out[column] = cipher.seal(clear(column) as string, { table: t.table, column, id });
  }
  for (const b of t.blind) {
    if (b.only && text(row[b.only.column]) !== b.only.value) continue;
    const v = text(row[b.column]);
    const stored = text(row[b.hash]);
    // Values under the current key were written with their index: only the others need the work.
    if (!(b.column in out) && stored !== null && cipher.isCurrent(v)) continue;
    const want = cipher.blindIndex(b.kind, clear(b.column));
    if (want !== stored) out[b.hash] = want;
  }
  return Object.keys(out).length ? out : null;
}

/** `"col" IS ?`, null-safe on both databases. */
function sameAs(sql: SqlRunner, column: string): string {
  return sql.provider === 'postgresql' ? `"${column}" IS NOT DISTINCT FROM ?` : `"${column}" IS ?`;
}

export interface RotateOptions {
  /** rows a transaction (default 500) */
  batch?: number;
  /** progress lines */
  log?: (line: string) => void;
  /** Called between reading a batch and writing it: tests race an edit against the rotation here. */
  onBatch?: (table: string, ids: string[]) => Promise<void>;
}

async function rotateTable(store: Store, t: TextTable, batch: number, log: (line: string) => void, onBatch: RotateOptions['onBatch']): Promise<TableResult> {
  const cipher = store.cipher;
  const idCol = t.idColumn ?? 'id';
  const read = [...new Set([idCol, ...t.columns, ...t.blind.flatMap((b) => [b.hash, ...(b.only ? [b.only.column] : [])])])];
  const select = `SELECT ${read.map((c) => `"${c}"`).join(', ')} FROM "${t.table}"`;
  const result: TableResult = { table: t.table, rows: 0, rewritten: 0, contended: 0, unreadable: [] };
  const total = Number((await store.sqlRead().all<{ n: unknown }>(`SELECT COUNT(*) AS "n" FROM "${t.table}"`))[0]?.n ?? 0);

  /** Writes the planned rows in one transaction, each fenced on what was read; the ids not written. */
  const write = async (rows: Row[]): Promise<string[]> => {
    const planned: { row: Row; set: Record<string, string | null> }[] = [];
    for (const row of rows) {
      try {
        const set = planRow(cipher, t, row);
        if (set) planned.push({ row, set });
      } catch (e) {
        if (!(e instanceof FieldDecryptError)) throw e;
        result.unreadable.push({ id: String(row[idCol]), problem: e.message });
      }
    }
    if (!planned.length) return [];
    const missed: string[] = [];
    await store.transaction(async (tx: Tx) => {
      const sql = store.sqlIn(tx);
      for (const { row, set } of planned) {
        const columns = Object.keys(set);
        const params: SqlValue[] = [...columns.map((c) => set[c] ?? null), String(row[idCol]), ...t.columns.map((c) => text(row[c]))];
        const n = await sql.run(`UPDATE "${t.table}" SET ${columns.map((c) => `"${c}" = ?`).join(', ')} WHERE "${idCol}" = ? AND ${t.columns.map((c) => sameAs(sql, c)).join(' AND ')}`, params);
        if (n === 1) result.rewritten++;
        else missed.push(String(row[idCol]));
      }
    });
    return missed;
  };

  let after = '';
  let retry: string[] = [];
  for (;;) {
    const rows = await store.sqlRead().all<Row>(`${select} WHERE "${idCol}" > ? ORDER BY "${idCol}" LIMIT ?`, [after, batch]);
    if (!rows.length) break;
    result.rows += rows.length;
    after = String(rows[rows.length - 1]?.[idCol]);
    await onBatch?.(t.table, rows.map((r) => String(r[idCol])));
    retry.push(...(await write(rows)));
    log(`${t.table}: ${result.rows.toLocaleString('en')} of ${total.toLocaleString('en')} rows read, ${result.rewritten.toLocaleString('en')} rewritten`);
  }
  // Rows changed under us: read again (they are usually under the new key by now) and retry.
  for (let attempt = 0; retry.length && attempt < MAX_RETRIES; attempt++) {
    const again: string[] = [];
    for (let i = 0; i < retry.length; i += batch) {
      const ids = retry.slice(i, i + batch);
      const rows = await store.sqlRead().all<Row>(`${select} WHERE "${idCol}" IN (${ids.map(() => '?').join(', ')})`, ids);
      again.push(...(await write(rows)));
    }
    retry = again;
  }
  result.contended = retry.length;
  return result;
}

/** ImportFile: a file waiting to be imported, sealed as bytes. Few rows, each rewritten with Prisma. */
async function rotateImportFiles(store: Store, log: (line: string) => void): Promise<TableResult> {
  const cipher = store.cipher;
  const result: TableResult = { table: 'ImportFile', rows: 0, rewritten: 0, contended: 0, unreadable: [] };
  const ids = (await store.db.importFile.findMany({ select: { runId: true } })).map((r) => r.runId);
  for (const runId of ids) {
    const f = await store.db.importFile.findUnique({ where: { runId } });
    if (!f) continue;
    result.rows++;
    if (cipher.keyOfBytes(f.content) === cipher.current?.id) continue;
    const at = { table: 'ImportFile', column: 'content', id: runId };
    let clear: Buffer;
    try {
      clear = cipher.openBytes(f.content, at);
    } catch (e) {
      if (!(e instanceof FieldDecryptError)) throw e;
      result.unreadable.push({ id: runId, problem: e.message });
      continue;
    }
    const content = new Uint8Array(cipher.sealBytes(clear, at));
    const { count } = await store.transaction((tx) => tx.importFile.updateMany({ where: { runId, content: { equals: f.content } }, data: { content } }));
    if (count === 1) result.rewritten++;
    // Else the import finished (and dropped it) meanwhile.
  }
  if (result.rows) log(`ImportFile: ${result.rows} files read, ${result.rewritten} rewritten`);
  return result;
}

/** Values of each sealed column not under the current key (plaintext included), and identifiers without an index. */
export async function remainingOld(store: Store): Promise<{ remaining: RotationReport['remaining']; missingIndexes: RotationReport['missingIndexes'] }> {
  const keyId = store.cipher.current?.id;
  if (!keyId) throw new Error('DATA_ENCRYPTION_KEY is not set');
  const prefix = `${SEALED_PREFIX}${keyId}:`;
  const sql = store.sqlRead();
  const remaining: RotationReport['remaining'] = [];
  const missingIndexes: RotationReport['missingIndexes'] = [];
  for (const t of SEALED_TABLES) {
    for (const column of t.columns) {
      const rows = await sql.all<{ n: unknown }>(`SELECT COUNT(*) AS "n" FROM "${t.table}" WHERE "${column}" IS NOT NULL AND substr("${column}", 1, ${prefix.length}) <> ?`, [prefix]);
      const count = Number(rows[0]?.n ?? 0);
      if (count) remaining.push({ table: t.table, column, count });
    }
    for (const b of t.blind) {
      const only = b.only ? ` AND "${b.only.column}" = ?` : '';
      const rows = await sql.all<{ n: unknown }>(`SELECT COUNT(*) AS "n" FROM "${t.table}" WHERE "${b.column}" IS NOT NULL AND "${b.hash}" IS NULL${only}`, b.only ? [b.only.value] : []);
      const count = Number(rows[0]?.n ?? 0);
      if (count) missingIndexes.push({ table: t.table, column: b.hash, count });
    }
  }
  let files = 0;
  for (const f of await store.db.importFile.findMany({ select: { content: true } })) if (store.cipher.keyOfBytes(f.content) !== keyId) files++;
  if (files) remaining.push({ table: 'ImportFile', column: 'content', count: files });
  return { remaining, missingIndexes };
}

/**
 * Re-encrypts every sealed value not under the store's current key and recomputes the blind
 * indexes; then counts what remains. The store's cipher must hold the new key as current and
 * every old key still in use.
 */
export async function rotateKeys(store: Store, opts: RotateOptions = {}): Promise<RotationReport> {
  const keyId = store.cipher.current?.id;
  if (!keyId) throw new Error('DATA_ENCRYPTION_KEY is not set: set it to the new key (and the old one in DATA_ENCRYPTION_OLD_KEYS)');
  const log = opts.log ?? (() => undefined);
  const batch = opts.batch ?? ROTATE_BATCH;
  const tables: TableResult[] = [];
  for (const t of SEALED_TABLES) tables.push(await rotateTable(store, t, batch, log, opts.onBatch));
  tables.push(await rotateImportFiles(store, log));
  const { remaining, missingIndexes } = await remainingOld(store);
  const report: RotationReport = { keyId, tables, remaining, missingIndexes, complete: remaining.length === 0 && missingIndexes.length === 0 };
  await store.change(systemMeta('keys:rotate'), (w) =>
    w.audit('encryption', keyId, 'rotate', null, {
      tables: tables.map((t) => ({ table: t.table, rows: t.rows, rewritten: t.rewritten, contended: t.contended, unreadable: t.unreadable.length })),
      complete: report.complete,
    }),
  );
  return report;
}

/** The closing lines: what was done, and whether the old keys may go. */
export function summaryLines(r: RotationReport, oldKeyIds: readonly string[]): string[] {
  const lines = r.tables.map((t) => `${t.table}: ${t.rows.toLocaleString('en')} rows, ${t.rewritten.toLocaleString('en')} rewritten${t.contended ? `, ${t.contended} kept changing (run again)` : ''}${t.unreadable.length ? `, ${t.unreadable.length} do not decrypt` : ''}`);
  for (const t of r.tables) for (const u of t.unreadable.slice(0, 10)) lines.push(`  ${u.problem}`);
  if (r.complete) {
    lines.push(`Every value is under key ${r.keyId} and indexed with it: no value under an old key or in clear remains.${oldKeyIds.length ? ` ${oldKeyIds.join(', ')} can be removed from DATA_ENCRYPTION_OLD_KEYS.` : ''}`);
  } else {
    for (const x of r.remaining) lines.push(`${x.table}.${x.column}: ${x.count} values not under ${r.keyId} yet`);
    for (const x of r.missingIndexes) lines.push(`${x.table}.${x.column}: ${x.count} missing`);
    lines.push('Keep the old keys and run again (is an instance still writing with an old DATA_ENCRYPTION_KEY?).');
  }
  return lines;
}

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  if (!config.DATA_ENCRYPTION_KEY) {
    process.stderr.write('keys:rotate: DATA_ENCRYPTION_KEY is not set: set it to the new key, and the old one in DATA_ENCRYPTION_OLD_KEYS\n');
    return 2;
  }
  await migrate(config.DATABASE_URL);
  const cipher = cipherFromSettings(config);
  const store = Store.open(config.DATABASE_URL, { cipher });
  try {
    process.stdout.write(`Re-encrypting under key ${cipher.current?.id}; readable: ${cipher.keyIds.join(', ')}\n`);
    const report = await rotateKeys(store, { log: (line) => process.stdout.write(`${line}\n`) });
    for (const line of summaryLines(report, cipher.keyIds.slice(1))) process.stdout.write(`${line}\n`);
    return report.complete ? 0 : 1;
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`keys:rotate failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
