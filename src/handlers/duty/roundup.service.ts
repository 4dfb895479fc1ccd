// The daily roundup's store side: its setting, planning each day's job, claiming a day for
// sending, and loading the figures from live data (only codes, references, counts and handles are
// read: no personal field of a case or a person is selected).
import { OPEN_STATUSES, CASE_PRIORITIES, type CasePriority } from '../../domain/case';
import { onDutyAt } from '../../domain/rotation';
import {
  caseFigures,
  nextRoundup,
  parseRoundupConfig,
  parseRoundupSent,
  ROUNDUP_CHART_DAYS,
  ROUNDUP_MAX_LISTED,
  ROUNDUP_SENT_SETTING,
  ROUNDUP_SETTING,
  ROUNDUP_WINDOW_MS,
  roundupKey,
  tonightAt,
  type DutySlot,
  type RosterDuty,
  type RoundupConfig,
  type RoundupData,
  type RoundupSent,
  type RoundupSlot,
} from '../../domain/roundup';
import { addDays, dateKey, localOf, zonedInstant } from '../../domain/zoned';
import type { Tx } from '../../store/client';
import type { Store } from '../../store/store';
import { loadBoard } from '../crisis/crisis-board';
import type { Outbox } from '../ports';
import { loadPlan, MemberNames } from '../roster/roster-common';

export const ROUNDUP_JOB = 'roundup';

/** A day's scheduled roundup. `at` is the time it was planned for: a job whose time is no longer the setting's is stale. */
export interface DailyPayload {
  mode: 'daily';
  date: string;
  at: string;
}

/** `/duty roundup now`: one roundup to `channel`, at once. */
export interface NowPayload {
  mode: 'now';
  channel: string;
  requestedBy: string | null;
}

export async function roundupConfig(store: Store, client?: Tx): Promise<RoundupConfig | null> {
  return parseRoundupConfig(await store.cases.setting(ROUNDUP_SETTING, client));
}

export async function roundupSent(store: Store, client?: Tx): Promise<RoundupSent | null> {
  return parseRoundupSent(await store.cases.setting(ROUNDUP_SENT_SETTING, client));
}

/**
 * Plans the next roundup at or after `from` (idempotent: replicas and restarts plan the same key).
 * A date whose roundup has gone out already is skipped. Returns what it planned.
 */
export async function planRoundup(store: Store, outbox: Outbox, tx: Tx, config: RoundupConfig, timeZone: string, from: number): Promise<RoundupSlot> {
  const sent = await roundupSent(store, tx);
  const slot = nextRoundup(timeZone, config.at, from, sent?.date);
  const payload: DailyPayload = { mode: 'daily', date: dateKey(slot.date), at: config.at };
  await outbox.schedule(tx, { kind: ROUNDUP_JOB, key: roundupKey(slot.date, config.at), dueAt: new Date(slot.dueAt), payload });
  return slot;
}

function sentOf(json: string): RoundupSent | null {
  try {
    return parseRoundupSent(JSON.parse(json));
  } catch {
    return null;
  }
}

/**
 * Claims `date` for the job `jobId`, atomically: false when another job has claimed that date (or
 * a later one). The job's own retries find their claim and go on.
 */
export async function claimRoundupDay(store: Store, date: string, jobId: string, now: Date): Promise<boolean> {
  return store.transaction(async (tx) => {
    const row = await tx.setting.findUnique({ where: { key: ROUNDUP_SENT_SETTING } });
    const current = row ? sentOf(row.value) : null;
    if (current && current.date >= date && !(current.date === date && current.job === jobId)) return false;
    const value = JSON.stringify({ date, job: jobId } satisfies RoundupSent);
    if (!row) {
      // ON CONFLICT rather than create-and-catch: on PostgreSQL a failed insert aborts the transaction.
      const inserted = await tx.$executeRaw`INSERT INTO "Setting" ("key", "value", "updatedAt") VALUES (${ROUNDUP_SENT_SETTING}, ${value}, ${now}) ON CONFLICT ("key") DO NOTHING`;
      return inserted === 1;
    }
    // Compare-and-set on what was read: of two claims at once, one wins.
    const { count } = await tx.setting.updateMany({ where: { key: ROUNDUP_SENT_SETTING, value: row.value }, data: { value } });
    return count === 1;
  });
}

async function dutyOf(store: Store, names: MemberNames, now: number, tonight: number | null): Promise<RosterDuty[]> {
  const out: RosterDuty[] = [];
  for (const roster of await store.rosters.list()) {
    const { plan } = await loadPlan(store, roster);
    const slot = async (t: number): Promise<DutySlot> => {
      const on = onDutyAt(plan, await store.rosters.overrides(roster.id, t, t + 1), t);
      return { at: t, covered: on.covered, empty: roster.members.length === 0, primary: on.primary ? names.short(on.primary) : null, backup: on.backup ? names.short(on.backup) : null };
    };
    out.push({ roster: roster.name, now: await slot(now), tonight: tonight === null ? null : await slot(tonight) });
  }
  return out;
}

/** A page's target as the roundup shows it: a member by handle only ("Bob Ray (@bob)" → "@bob"), a policy or roster by name. */
function targetOf(target: string): string {
  return /\((@[^()\s]+)\)$/.exec(target)?.[1] ?? target;
}

/** Everything the roundup shows, read at `now` from live data. */
export async function loadRoundup(store: Store, timeZone: string, now: number): Promise<RoundupData> {
  const today = localOf(timeZone, now);
  const chartFrom = zonedInstant(timeZone, addDays({ y: today.y, m: today.m, d: today.d }, -(ROUNDUP_CHART_DAYS - 1)), 0);
  const from = new Date(Math.min(chartFrom, now - ROUNDUP_WINDOW_MS));
  const openStatuses = [...OPEN_STATUSES];
  const [names, cases, open, pages, pagesTotal, crises] = await Promise.all([
    MemberNames.load(store),
    // Codes and times only: never a name, a summary or any other personal field.
    store.db.case.findMany({
      where: {
        OR: [
          { openedAt: { gte: from } },
          { status: { in: ['resolved', 'closed'] }, OR: [{ resolvedAt: { gte: from } }, { resolvedAt: null, closedAt: { gte: from } }] },
        ],
      },
      select: { ref: true, category: true, priority: true, status: true, openedAt: true, resolvedAt: true, closedAt: true },
    }),
    store.db.case.groupBy({ by: ['priority'], where: { status: { in: openStatuses } }, _count: { _all: true } }),
    // Not the title: a page's message is free text and may name someone.
    store.db.page.findMany({
      where: { status: { in: ['triggered', 'acknowledged'] } },
      orderBy: { number: 'asc' },
      take: ROUNDUP_MAX_LISTED,
      select: { number: true, severity: true, status: true, target: true, sourceRef: true, source: true, triggeredAt: true },
    }),
    store.db.page.count({ where: { status: { in: ['triggered', 'acknowledged'] } } }),
    store.crises.list(),
  ]);
  const openNow = Object.fromEntries(CASE_PRIORITIES.map((p) => [p, 0])) as Record<CasePriority, number>;
  for (const g of open) if ((CASE_PRIORITIES as readonly string[]).includes(g.priority)) openNow[g.priority as CasePriority] = g._count._all;
  const active = crises.filter((c) => c.status === 'active').sort((a, b) => a.code.localeCompare(b.code));
  const boards = await Promise.all(active.map((c) => loadBoard(store, c, now)));
  return {
    now,
    timeZone,
    duty: await dutyOf(store, names, now, tonightAt(timeZone, now)),
    cases: caseFigures(
      cases.map((c) => ({ ref: c.ref, category: c.category, priority: c.priority, status: c.status, openedAt: c.openedAt.getTime(), resolvedAt: (c.resolvedAt ?? c.closedAt)?.getTime() ?? null })),
      timeZone,
      now,
    ),
    openNow,
    pages: pages.map((p) => ({ number: p.number, severity: p.severity, status: p.status, target: targetOf(p.target), sourceRef: p.source === 'case' ? p.sourceRef : null, triggeredAt: p.triggeredAt.getTime() })),
    pagesTotal,
    crises: active.map((c, i) => {
      const b = boards[i];
      return {
        code: c.code,
        name: c.name,
        counts: Object.fromEntries(b?.counts ?? []),
        lastDay: Object.fromEntries(b?.lastDay ?? []),
        needs: Object.fromEntries(b?.needs ?? []),
      };
    }),
  };
}
