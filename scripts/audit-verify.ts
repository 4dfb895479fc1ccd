// `npm run audit:verify`: checks the audit log's hash chain in the database the app uses
// (DATABASE_URL from the environment or .env). Prints "audit chain OK: N entries, head <hash>"
// and exits 0, or names the first broken entry and exits 1; 2 when it could not check.
// Reads only, in batches: memory stays flat however long the log, and it may run beside the app.
import type { Config } from '../src/config';
import { loadConfigOrExit } from '../src/env';
import { describeVerify, verifyAuditChain } from '../src/store/audit-chain';
import { Store } from '../src/store/store';

export interface VerifyRun {
  databaseUrl: string;
  /** The AUDIT_CHAIN_KEY the app writes with, if any. */
  key?: string;
  batchSize?: number;
}

/** Runs the check and writes its report; the exit status. */
export async function run(opts: VerifyRun, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`), err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const store = Store.open(opts.databaseUrl);
  try {
    await store.ping(); // connects, so that SQLite is read through its own read-only connection
    const r = await verifyAuditChain(store.sqlRead(), { ...(opts.key ? { key: opts.key } : {}), ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) });
    out(describeVerify(r));
    return r.ok ? 0 : 1;
  } catch (e) {
    err(`audit:verify: could not check the chain: ${e instanceof Error ? e.message.trim().split('\n').pop() : String(e)} (is DATABASE_URL right, and the database migrated?)`);
    return 2;
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** AUDIT_CHAIN_KEY as parsed by config.ts, once it has that field (core.ts opens the store with it then). */
export function chainKeyOf(config: Config): string | undefined {
  const v = (config as Partial<Record<'AUDIT_CHAIN_KEY', unknown>>).AUDIT_CHAIN_KEY;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

if (require.main === module) {
  const config = loadConfigOrExit();
  const key = chainKeyOf(config);
  void run({ databaseUrl: config.DATABASE_URL, ...(key ? { key } : {}) }).then((code) => {
    process.exitCode = code;
  });
}
