// `npm run console [-- --json] [-- --as HANDLE] [-- --out DIR]`: the console alone, no HTTP server
// or scheduler.
import pino from 'pino';
import { runConsole } from './bot/console';
import { startCore } from './core';
import { loadConfigOrExit } from './env';
import { CONSOLE_HANDLE, ensureConsoleMember } from './handlers/bootstrap';
import { createLogger } from './logger';

export interface ConsoleFlags {
  json: boolean;
  as: string;
  /** Directory for reply attachments; unset: the working directory. */
  out?: string;
}

export function parseConsoleFlags(argv: readonly string[]): ConsoleFlags | string {
  const flags: ConsoleFlags = { json: false, as: CONSOLE_HANDLE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') flags.json = true;
    else if (a === '--as') {
      const v = argv[++i];
      if (!v) return '--as needs a member handle';
      flags.as = v.replace(/^@/, '').toLowerCase();
    } else if (a.startsWith('--as=')) flags.as = a.slice(5).replace(/^@/, '').toLowerCase();
    else if (a === '--out' || a.startsWith('--out=')) {
      const v = a === '--out' ? argv[++i] : a.slice(6);
      if (!v) return '--out needs a directory';
      flags.out = v;
    } else return `unknown option ${a} (options: --json, --as HANDLE, --out DIR)`;
  }
  return flags;
}

async function main(): Promise<void> {
  const flags = parseConsoleFlags(process.argv.slice(2));
  if (typeof flags === 'string') {
    process.stderr.write(`duty-desk console: ${flags}\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit();
  // Replies own stdout; logs go to stderr, and only warnings unless asked for more.
  const logger = createLogger(process.env.LOG_LEVEL?.trim() ? config.LOG_LEVEL : 'warn', pino.destination(2));
  const core = await startCore(config, logger);
  await ensureConsoleMember(core.store);
  const status = await runConsole({
    dispatcher: core.dispatcher,
    input: process.stdin,
    output: process.stdout,
    interactive: Boolean(process.stdin.isTTY),
    json: flags.json,
    as: flags.as,
    outDir: flags.out,
  });
  await core.close();
  process.exitCode = status;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`duty-desk console: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
