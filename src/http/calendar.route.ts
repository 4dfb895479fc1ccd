// GET /calendar/<token>.ics: the feed behind a secret address.
import type express from 'express';
import { renderFeed } from '../handlers/roster/calendar';
import type { Logger } from '../logger';
import type { Store } from '../store/store';

export function calendarRoute(store: Store, logger: Logger, clock: () => Date): express.RequestHandler {
  return (req, res) => {
    const m = /^([A-Za-z0-9_-]{16,64})\.ics$/.exec(String(req.params.file ?? ''));
    if (!m) {
      res.status(404).type('text/plain').send('no such calendar\n');
      return;
    }
    void (async () => {
      const feed = await store.rosters.feedByToken(m[1] as string);
      const body = feed ? await renderFeed(store, feed, clock().getTime()) : null;
      if (!body) {
        res.status(404).type('text/plain').send('no such calendar\n');
        return;
      }
      res.setHeader('Content-Type', 'text/calendar; charset=utf-8');
      res.setHeader('Cache-Control', 'private, max-age=300');
      res.setHeader('Content-Disposition', 'inline; filename="duty.ics"');
      res.send(body);
    })().catch((err: unknown) => {
      logger.error({ err }, 'calendar feed failed');
      if (!res.headersSent) res.status(503).type('text/plain').send('temporarily unavailable\n');
    });
  };
}
