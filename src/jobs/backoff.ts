// Exponential backoff with jitter, for retries whose delay nobody else told us.

export interface BackoffOptions {
  /** Delay of the first retry, before jitter. Default 1 s. */
  baseMs?: number;
  /** Ceiling, before jitter. Default 5 min. */
  maxMs?: number;
  /** [0, 1); injected in tests. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): base·2^(attempt−1), capped, then
 * "equal jitter" — between half and all of it — so that many jobs failing together (a provider
 * outage) do not all come back in the same instant.
 */
export function backoffMs(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 1000;
  const max = opts.maxMs ?? 5 * 60_000;
  const random = opts.random ?? Math.random;
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // 2^30 already exceeds any sensible ceiling; stop there so the number stays finite.
  const raw = Math.min(max, base * 2 ** Math.min(n - 1, 30));
  return Math.round(raw / 2 + random() * (raw / 2));
}
