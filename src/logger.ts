// Structured JSON logs. Each interaction logs through a child carrying its request id.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'duty-desk' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets that may sit in objects we log by accident.
      redact: {
        paths: ['*.token', '*.password', '*.authorization', 'headers.authorization', '*.SLACK_BOT_TOKEN', '*.TEAMS_APP_PASSWORD'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
