// `npm run bench [-- name…]`: runs every bench/*.bench.ts, prints a table, and writes
// bench/results/<name>.json.
import fs from 'node:fs';
import path from 'node:path';
import { root, type BenchResult } from './lib';

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(2);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  const outDir = path.join(root(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  let failed = false;
  for (const f of files) {
    const mod = (await import(path.join(__dirname, f))) as { run: () => Promise<BenchResult> };
    process.stdout.write(`\n▶ ${f.replace('.bench.js', '')}\n`);
    const result = await mod.run();
    fs.writeFileSync(path.join(outDir, `${result.name}.json`), JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2) + '\n');
    process.stdout.write(`${result.description}\n`);
    const rows = result.metrics.map((m) => [m.label, `${fmt(m.value)} ${m.unit}`.trim(), m.target ?? '', m.pass === undefined ? '' : m.pass ? 'PASS' : 'FAIL']);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length), ['metric', 'value', 'target', ''][i]?.length ?? 0));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
    process.stdout.write(`${line(['metric', 'value', 'target', ''])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
    for (const n of result.notes ?? []) process.stdout.write(`note: ${n}\n`);
    if (result.metrics.some((m) => m.pass === false)) failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
