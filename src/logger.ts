// Structured JSON logs. Each interaction logs through a child carrying its request id.
// Logs never carry personal data: our own messages are fixed sentences with ids and counts beside
// them, and text that libraries hand us (Bolt, the Slack Web API and Socket Mode clients log whole
// request and event bodies at debug level) is cut where a payload starts.
import pino, { type Logger } from 'pino';

export type { Logger };

/** Where a library's message starts quoting a payload: JSON, or "(body: …)". */
const PAYLOAD = /\s*(?:\(body: |[{[])[\s\S]*$/;

/** A message without the payload a library appended to it (ours never have one). */
export function withoutPayload(message: string): string {
  return message.replace(PAYLOAD, ' [payload not logged]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'duty-desk' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets that may sit in objects we log by accident; PostgreSQL's `detail` repeats a
      // conflicting row's values ("Key (email)=(…) already exists").
      redact: {
        paths: ['*.token', '*.password', '*.authorization', 'headers.authorization', '*.SLACK_BOT_TOKEN', '*.TEAMS_APP_PASSWORD', '*.detail', 'err.cause.detail'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a: unknown) => (typeof a === 'string' ? withoutPayload(a) : a)) as Parameters<typeof method>;
          method.apply(this, cleaned);
        },
      },
    },
    destination,
  );
}
