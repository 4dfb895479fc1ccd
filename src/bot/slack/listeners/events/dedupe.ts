// Slack retries an event it thinks was not acknowledged (up to 3 times); do the work once.
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../../../../logger';
import type { SeenCheck } from '../../../../store/seen.repository';
import { replayedElsewhere } from '../../gate';

const TTL_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 5000;

/** `shared`: with several replicas, the event ids every one of them accepted (the database). */
export function dedupeEvents(logger?: Logger, shared?: SeenCheck): Middleware<AnyMiddlewareArgs> {
  const seen = new Map<string, number>();
  const elsewhere = async (id: string, now: number): Promise<boolean> => {
    if (!shared) return false;
    try {
      return !(await shared.firstTime(`slack-event:${id}`, new Date(now + TTL_MS), new Date(now)));
    } catch (err) {
      logger?.warn({ err, component: 'slack' }, 'slack: could not check the shared event ids; this replica\'s memory only');
      return false;
    }
  };
  return async ({ body, context, next }) => {
    // The request itself, replayed to another replica (events are acknowledged before this runs).
    if (await replayedElsewhere(context)) return;
    const id = (body as { event_id?: unknown }).event_id;
    if (typeof id !== 'string') return next();
    const now = Date.now();
    const at = seen.get(id);
    if ((at !== undefined && now - at < TTL_MS) || (at === undefined && (await elsewhere(id, now)))) {
      // Acknowledged (Slack stops retrying) but not run again; a retry means we were slow once.
      logger?.warn(
        { component: 'slack', reason: 'this event_id was already handled', status: 200, eventId: id, retryNum: context.retryNum ?? null, retryReason: context.retryReason ?? null },
        'rejected a Slack request',
      );
      return;
    }
    seen.set(id, now);
    // Maps iterate in insertion order: the first entries are the oldest.
    for (const [k, t] of seen) {
      if (seen.size <= MAX_REMEMBERED && now - t < TTL_MS) break;
      seen.delete(k);
    }
    await next();
  };
}
