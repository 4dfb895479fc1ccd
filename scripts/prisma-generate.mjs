// postinstall: derive the PostgreSQL twin of the datamodel and generate both Prisma clients.
import fs from 'node:fs';
import path from 'node:path';
import { prisma, root } from './prisma-cli.mjs';

export function derivePostgresSchema(source) {
  const out = source
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace('../src/generated/prisma-sqlite', '../../src/generated/prisma-postgresql');
  if (out === source) throw new Error('prisma/schema.prisma: datasource or generator output not found');
  return '// GENERATED from prisma/schema.prisma by scripts/prisma-generate.mjs: do not edit.\n' + out;
}

export function writePostgresSchema() {
  const src = fs.readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
  const dir = path.join(root, 'prisma', 'postgresql');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'schema.prisma'), derivePostgresSchema(src));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writePostgresSchema();
  for (const provider of ['sqlite', 'postgresql']) {
    const r = prisma(provider, ['generate']);
    if (r.status !== 0) {
      process.stderr.write(r.stdout + r.stderr);
      process.exit(r.status);
    }
    process.stdout.write(`prisma client generated for ${provider}\n`);
  }
}
