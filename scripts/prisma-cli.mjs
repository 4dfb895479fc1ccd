// Runs the Prisma CLI offline. Prisma 6 downloads engine binaries unless these variables point
// at an existing file; with `engine: "js"` in prisma.config.ts it never uses them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export function prismaEnv(provider, extra = {}) {
  const anyFile = path.join(root, 'package.json');
  return {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: anyFile,
    PRISMA_QUERY_ENGINE_LIBRARY: anyFile,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    PRISMA_PROVIDER: provider,
    ...extra,
  };
}

/** Runs `prisma <args>` for one provider; returns { status, stdout, stderr }. */
export function prisma(provider, args, extra = {}) {
  const cli = require.resolve('prisma/build/index.js');
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    env: prismaEnv(provider, extra),
    encoding: 'utf8',
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export { root };
