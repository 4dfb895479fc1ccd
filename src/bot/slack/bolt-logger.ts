// Bolt, its Web API client and the Socket Mode client log through this, so everything ends up
// in our structured pino logs instead of the console.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../logger';

function boltLevel(level: string): LogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function line(msg: unknown[]): { err?: Error; text: string } {
  const err = msg.find((m): m is Error => m instanceof Error);
  const text = msg
    .map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : stringify(m)))
    .join(' ');
  return err ? { err, text } : { text };
}

export function boltLogger(base: Logger): BoltLogger {
  const logger = base.child({ component: 'slack' });
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: unknown[]): void => {
    const { err, text } = line(msg);
    if (err) logger[level]({ err }, text);
    else logger[level](text);
  };
  return {
    debug: (...msg: unknown[]) => log('debug', msg),
    info: (...msg: unknown[]) => log('info', msg),
    warn: (...msg: unknown[]) => log('warn', msg),
    error: (...msg: unknown[]) => log('error', msg),
    // Bolt and the Socket Mode client call setLevel with their defaults; the level is ours
    // (LOG_LEVEL), so this is deliberately a no-op.
    setLevel: (_level: LogLevel) => undefined,
    getLevel: () => boltLevel(logger.level),
    // One instance is shared by Bolt, its Web API clients and Socket Mode, each of which names
    // it in turn; the names would only mislead.
    setName: (_name: string) => undefined,
  };
}
