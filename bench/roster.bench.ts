// Rosters: who is on duty at t (50 members, 5 years of history, 200 overrides), a one-year
// schedule, and a one-year calendar feed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { startCore } from '../src/core';
import { renderFeed } from '../src/handlers/roster/calendar';
import { loadPlan } from '../src/handlers/roster/roster-common';
import { onDutyAt, schedule } from '../src/domain/rotation';
import { systemMeta } from '../src/store/store';
import { percentile, type BenchResult } from './lib';

const DAY = 86_400_000;

function timeIt(n: number, fn: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function timeItAsync(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

export async function run(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-bench-'));
  const cfg = parseConfig({ DATABASE_URL: `file:${path.join(dir, 'r.db')}`, LOG_LEVEL: 'silent' });
  if (!cfg.ok) throw new Error(cfg.error);
  const core = await startCore(cfg.config, pino({ level: 'silent' }));
  const now = Date.parse('2026-11-22T16:00:00Z');
  try {
    const ids: string[] = [];
    await core.store.change(systemMeta('bench'), async (w) => {
      for (let i = 0; i < 50; i++) ids.push((await core.store.members.create(w, { handle: `officer${i}`, displayName: `Officer ${i}`, roles: ['officer'] }, null)).id);
    });
    const roster = await core.store.change(systemMeta('bench'), (w) =>
      core.store.rosters.create(w, {
        name: 'Consular duty',
        timeZone: 'Europe/London',
        unit: 'days',
        length: 1,
        handoff: 8 * 60,
        start: { y: 2021, m: 11, d: 22 },
        backup: { mode: 'offset', offset: 1 },
        coverage: [
          { days: [1, 2, 3, 4, 5], from: 18 * 60, to: 8 * 60 },
          { days: [0, 6], from: 0, to: 0 },
        ],
        channel: null,
        reminderHours: 24,
        members: ids,
      }),
    );
    // 200 overrides spread over the five years of history and the coming year.
    await core.store.change(systemMeta('bench'), async (w) => {
      for (let i = 0; i < 200; i++) {
        const from = now - 5 * 365 * DAY + Math.floor((i / 200) * 6 * 365) * DAY + 18 * 3_600_000;
        await core.store.rosters.addOverride(w, { rosterId: roster.id, layer: 'primary', memberId: ids[(i * 7) % 50] as string, replaces: null, from, to: from + 14 * 3_600_000, kind: 'cover', createdBy: null });
      }
    });
    const { plan } = await loadPlan(core.store, roster);
    const all = await core.store.rosters.overrides(roster.id, now - 6 * 365 * DAY, now + 2 * 365 * DAY);
    // Who is on duty at random instants over the five years, with all 200 overrides in play.
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    timeIt(2000, () => onDutyAt(plan, all, now - rand() * 5 * 365 * DAY));
    const who = timeIt(20000, () => onDutyAt(plan, all, now - rand() * 5 * 365 * DAY));
    // The same question through the store: overrides around t are read from the database.
    const whoStore = await timeItAsync(2000, async () => {
      const t = now - rand() * 5 * 365 * DAY;
      return onDutyAt(plan, await core.store.rosters.overrides(roster.id, t, t + 1), t);
    });
    const sched = timeIt(200, () => schedule(plan, all, now, now + 365 * DAY));
    const feedToken = 'benchbenchbenchbenchbench';
    await core.store.change(systemMeta('bench'), (w) => core.store.rosters.createFeed(w, { rosterId: roster.id }, feedToken, null, new Date(now)));
    const feed = await core.store.rosters.feedByToken(feedToken);
    await renderFeed(core.store, feed ?? {}, now);
    const feeds = await timeItAsync(200, () => renderFeed(core.store, feed ?? {}, now));
    const p99 = percentile(who, 99);
    const schedP99 = percentile(sched, 99);
    const feedP99 = percentile(feeds, 99);
    return {
      name: 'roster',
      description: 'daily roster, 50 members, 5 years of history, 200 overrides, after-hours coverage (Europe/London)',
      metrics: [
        { label: 'who is on duty at t: p50', value: percentile(who, 50), unit: 'ms' },
        { label: 'who is on duty at t: p99', value: p99, unit: 'ms', target: '< 1 ms', pass: p99 < 1 },
        { label: 'same, reading overrides from SQLite: p99', value: percentile(whoStore, 99), unit: 'ms' },
        { label: 'one-year schedule (365 shifts): p99', value: schedP99, unit: 'ms', target: '< 20 ms', pass: schedP99 < 20 },
        { label: 'one-year calendar feed: p50', value: percentile(feeds, 50), unit: 'ms' },
        { label: 'one-year calendar feed: p99', value: feedP99, unit: 'ms', target: '< 50 ms', pass: feedP99 < 50 },
        { label: 'feed size', value: (await renderFeed(core.store, feed ?? {}, now))?.length ?? 0, unit: 'bytes' },
      ],
    };
  } finally {
    await core.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
