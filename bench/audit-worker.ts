// A replica writing audited changes for the audit benchmark. env: DATABASE_URL, MODE ("chain":
// through Store.change, hash-chained; "plain": the same transaction writing its entry the way it
// was written before the chain), COUNT, CONCURRENCY. Prints "ready", starts on a "go" line on
// standard input, and prints one JSON line {ms, done} when finished.
import { Store, systemMeta } from '../src/store/store';

const url = process.env.DATABASE_URL ?? '';
const mode = process.env.MODE === 'plain' ? 'plain' : 'chain';
const count = Number(process.env.COUNT ?? 1000);
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const worker = process.env.WORKER_ID ?? String(process.pid);
const store = Store.open(url);

async function one(i: number): Promise<void> {
  const meta = systemMeta(`${worker}-${i}`);
  const snapshot = { worker, i, status: 'in-progress', fields: ['assignee', 'priority'] };
  if (mode === 'chain') {
    await store.change(meta, async (w) => {
      await w.tx.setting.upsert({ where: { key: `bench:${worker}:${i % 50}` }, create: { key: `bench:${worker}:${i % 50}`, value: String(i) }, update: { value: String(i) } });
      await w.audit('case', `${worker}:${i}`, 'status', null, snapshot);
    });
  } else {
    await store.transaction(async (tx) => {
      await tx.setting.upsert({ where: { key: `bench:${worker}:${i % 50}` }, create: { key: `bench:${worker}:${i % 50}`, value: String(i) }, update: { value: String(i) } });
      await tx.auditEntry.create({ data: { ...meta, entity: 'case', entityId: `${worker}:${i}`, action: 'status', before: null, after: JSON.stringify(snapshot) } });
    });
  }
}

async function main(): Promise<void> {
  await store.ping();
  await one(-1); // warm: connections, prepared statements
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.on('data', (d: Buffer) => {
      if (d.toString().includes('go')) resolve();
    });
  });
  const start = Date.now();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        await one(next++);
        done++;
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ ms: Date.now() - start, done })}\n`);
  await store.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`audit-worker: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
