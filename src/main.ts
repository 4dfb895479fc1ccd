// `npm start`: the HTTP server (Slack, Teams, health) and, with no chat platform configured,
// the console on this terminal.
import pino from 'pino';
import { runConsole } from './bot/console';
import { slackEnabled, teamsEnabled } from './config';
import { parseConsoleFlags } from './console';
import { loadConfigOrExit } from './env';
import { ensureConsoleMember } from './handlers/bootstrap';
import { createLogger } from './logger';
import { startServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const withConsole = !slackEnabled(config) && !teamsEnabled(config);
  const flags = parseConsoleFlags(process.argv.slice(2));
  if (typeof flags === 'string') {
    process.stderr.write(`duty-desk: ${flags}\n`);
    process.exit(2);
  }
  // With the console on the terminal, logs go to stderr so they do not mix with replies.
  const logger = createLogger(config.LOG_LEVEL, withConsole ? pino.destination(2) : undefined);
  const server = await startServer(config, { logger });
  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (withConsole) {
    logger.info('no Slack or Teams credentials: console open on this terminal');
    await ensureConsoleMember(server.core.store);
    const status = await runConsole({
      dispatcher: server.dispatcher,
      input: process.stdin,
      output: process.stdout,
      interactive: Boolean(process.stdin.isTTY),
      json: flags.json,
      as: flags.as,
      ...(flags.out !== undefined ? { outDir: flags.out } : {}),
    });
    await server.close();
    process.exit(status);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`duty-desk: failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
