// The roster's timed jobs, registered with the scheduler.
import type { Scheduler } from '../../jobs';
import type { Store } from '../../store/store';
import type { Outbox } from '../ports';
import { rosterJobs } from './handoff.job';
import { swapJobs } from './swap.commands';

/** Registers the kinds; returns what to run at start-up (re-plans every roster's next handoff). */
export function registerRosterJobs(scheduler: Scheduler, deps: { store: Store; outbox: Outbox }): { ensurePlanned(now: number): Promise<void> } {
  const roster = rosterJobs(deps);
  const handlers = { ...roster.jobs, ...swapJobs(deps) };
  for (const [kind, run] of Object.entries(handlers)) {
    // Planning jobs write only to the database (messages go out as their own deliver jobs), so
    // running one again after a crash is safe: every message key is idempotent.
    scheduler.register(kind, async (job, ctx) => run(job.payload, ctx.now.getTime()));
  }
  return { ensurePlanned: roster.ensurePlanned };
}
