// The live board of a crisis: counts by status with the change since the last update and over 24
// hours, needs, movements with seats left. Pinned in the crisis channel and updated in place, at
// most once every 10 seconds (see scheduleBoard). No names: counts only.
import { z } from 'zod/v4';
import { NEED_LABELS, PERSON_NEEDS, PERSON_STATUS_LABELS, PERSON_STATUSES } from '../../domain/person';
import { message, type MessageReply } from '../../domain/reply';
import type { JobOutcome, Scheduler } from '../../jobs/scheduler';
import type { ChatCopy, MessagePinner, MessageUpdater, Notifier } from '../../notify/types';
import type { CrisisRecord } from '../../store/crisis.repository';
import type { Store } from '../../store/store';
import { defineCommand } from '../command';
import { textTable } from '../report/text-table';
import { when } from '../roster/roster-common';
import { crisisCodeInput, crisisFor } from './crisis-access';
import { CRISIS_BOARD_JOB, scheduleBoard } from './crisis.service';

const DAY = 86_400_000;

export interface BoardData {
  counts: Map<string, number>;
  sinceLast: Map<string, number>;
  lastDay: Map<string, number>;
  needs: Map<string, number>;
  movements: { number: number; name: string; kind: string; departureAt: Date; capacity: number; taken: number; status: string }[];
  at: number;
  lastAt: number | null;
}

const boardStateSchema = z.object({ platform: z.enum(['slack', 'teams']), conversation: z.string(), messageId: z.string(), at: z.number().optional() });

const boardClaimSchema = z.object({ claim: z.string(), at: z.number() });
/** A claim older than this is from a board job that died before posting: it may be taken over. */
const CLAIM_STALE_MS = 5 * 60_000;

/** A board job's claim to post the first board (see registerBoardJob), or null. */
export function boardClaim(json: string | null): { claim: string; at: number } | null {
  if (!json) return null;
  try {
    const r = boardClaimSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** The board message's copy, and when it was last drawn (for "since the last update"); null for none or a claim. */
export function boardState(json: string | null): (ChatCopy & { at?: number | undefined }) | null {
  if (!json) return null;
  try {
    const r = boardStateSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export async function loadBoard(store: Store, crisis: CrisisRecord, now: number): Promise<BoardData> {
  const lastAt = boardState(crisis.boardMessage)?.at ?? null;
  const [counts, sinceLast, lastDay, needs, movements] = await Promise.all([
    store.crises.statusCounts(crisis.id),
    lastAt ? store.crises.statusChangesSince(crisis.id, new Date(lastAt)) : Promise.resolve(new Map<string, number>()),
    store.crises.statusChangesSince(crisis.id, new Date(now - DAY)),
    store.crises.needsCounts(crisis.id),
    store.db.movement.findMany({ where: { crisisId: crisis.id, status: { not: 'cancelled' } }, orderBy: { departureAt: 'asc' }, include: { _count: { select: { seats: { where: { state: { not: 'no-show' } } } } } } }),
  ]);
  return {
    counts,
    sinceLast,
    lastDay,
    needs,
    movements: movements.map((m) => ({ number: m.number, name: m.name, kind: m.kind, departureAt: m.departureAt, capacity: m.capacity, taken: m._count.seats, status: m.status })),
    at: now,
    lastAt,
  };
}

function plus(n: number): string {
  return n ? `+${n}` : '·';
}

/** Pure: the board as a message. "Change" columns count people who reached each status in the window. */
export function boardMessage(crisis: CrisisRecord, b: BoardData, tz: string): MessageReply {
  const total = [...b.counts.values()].reduce((a, x) => a + x, 0);
  const rows = PERSON_STATUSES.map((s) => [PERSON_STATUS_LABELS[s], b.counts.get(s) ?? 0, plus(b.sinceLast.get(s) ?? 0), plus(b.lastDay.get(s) ?? 0)]);
  rows.push(['Total', total, '', '']);
  const table = textTable(['Status', 'Now', b.lastAt ? 'Since last' : 'New', '24 h'], rows);
  const needs = PERSON_NEEDS.filter((n) => b.needs.get(n)).map((n) => `${NEED_LABELS[n]} ${b.needs.get(n)}`).join(' · ') || 'none recorded';
  const moves = b.movements.map((m) => `${m.kind} ${m.number} ${m.name}, ${when(m.departureAt.getTime(), tz)}: ${m.taken}/${m.capacity} seats, ${Math.max(0, m.capacity - m.taken)} left${m.status !== 'planned' ? ` (${m.status})` : ''}`);
  const unaccounted = b.counts.get('unaccounted') ?? 0;
  return message({
    title: `${crisis.code} ${crisis.name}: ${total} people, ${unaccounted} unaccounted${crisis.status !== 'active' ? ' (stood down)' : ''}`,
    text: `Updated ${when(b.at, tz)}${b.lastAt ? `; changes since ${when(b.lastAt, tz)}` : ''}.`,
    rows: [{ text: `\`\`\`\n${table}\n\`\`\`` }, { text: `*Needs*: ${needs}` }, { text: `*Movements*\n${moves.join('\n') || 'none planned'}` }],
    buttons: [
      { label: 'Call list', command: `/crisis calllist ${crisis.code}` },
      { label: 'Add a person', command: `/person add crisis=${crisis.code}` },
    ],
    visibility: 'channel',
    fallback: `${crisis.code}: ${total} people, ${unaccounted} unaccounted`,
  });
}

export const crisisBoardCommand = defineCommand({
  key: 'crisis board',
  summary: 'the live board: counts by status, changes, needs, movements (refreshes the pinned one)',
  usage: '/crisis board <code>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const board = boardMessage(crisis, await loadBoard(ctx.store, crisis, ctx.now.getTime()), ctx.actor?.timeZone ?? ctx.settings.missionTimeZone);
    if (crisis.channel) {
      await ctx.store.transaction((tx) => scheduleBoard(ctx.outbox, tx, crisis, ctx.now));
      ctx.outbox.wake?.();
    }
    return { ...board, visibility: 'caller' };
  },
});

export interface BoardJobDeps {
  store: Store;
  missionTimeZone: string;
  chat?: Notifier & Partial<MessageUpdater> & Partial<MessagePinner>;
}

/** Posts (and pins) the board the first time, then updates it in place. */
export function registerBoardJob(scheduler: Scheduler, deps: BoardJobDeps): void {
  const payload = z.object({ crisisId: z.string() });
  scheduler.register(
    CRISIS_BOARD_JOB,
    async (job, ctx): Promise<JobOutcome> => {
      const p = payload.safeParse(job.payload);
      if (!p.success) return { status: 'failed', error: 'invalid payload' };
      const crisis = await deps.store.crises.byId(p.data.crisisId);
      if (!crisis?.channel) return { status: 'done', result: { skipped: 'no crisis channel' } };
      const chat = deps.chat;
      if (!chat) return { status: 'failed', error: 'no chat platform is connected' };
      const now = ctx.now.getTime();
      const reply = boardMessage(crisis, await loadBoard(deps.store, crisis, now), deps.missionTimeZone);
      const state = boardState(crisis.boardMessage);
      const channel = crisis.channel;
      if (state && chat.update) {
        const r = await chat.update(state, reply);
        if (r.ok) {
          // Fenced on the channel: a board of a channel unlinked meanwhile is not written back.
          await deps.store.transaction((tx) => deps.store.crises.setBoardMessage(tx, crisis.id, JSON.stringify({ ...state, at: now }), { channel }));
          return { status: 'done' };
        }
        if (r.retryable) return { status: 'retry', afterMs: r.retryAfterMs ?? 2000, error: r.error };
        // The message is gone (deleted, channel archived): post a new one below.
        ctx.logger.warn({ crisisId: crisis.id, error: r.error }, 'could not update the crisis board; posting a new one');
      }
      // Two board jobs (two servers, or two windows) must not both post: claim the post first,
      // atomically, over what was read (none, a lost message, or a claim whose job died).
      const held = boardClaim(crisis.boardMessage);
      if (held && now - held.at < CLAIM_STALE_MS) return { status: 'done', result: { skipped: 'another job is posting the board' } };
      const claim = JSON.stringify({ claim: job.id, at: now });
      if (!(await deps.store.transaction((tx) => deps.store.crises.claimBoard(tx, crisis, crisis.boardMessage, claim)))) {
        return { status: 'done', result: { skipped: 'the board changed meanwhile' } };
      }
      const release = () => deps.store.transaction((tx) => deps.store.crises.setBoardMessage(tx, crisis.id, null, { channel, current: claim }));
      const r = await chat.send({ kind: 'channel', channel }, reply);
      if (!r.ok) {
        await release();
        return r.retryable ? { status: 'retry', afterMs: r.retryAfterMs ?? 2000, error: r.error } : { status: 'failed', error: r.error };
      }
      if (!r.copy) {
        await release();
        return { status: 'done' };
      }
      const copy = r.copy;
      const written = await deps.store.transaction((tx) => deps.store.crises.setBoardMessage(tx, crisis.id, JSON.stringify({ ...copy, at: now }), { channel, current: claim }));
      if (!written) {
        ctx.logger.warn({ crisisId: crisis.id }, 'the crisis channel changed while the board was posted; not kept');
        return { status: 'done', result: { skipped: 'channel changed' } };
      }
      if (chat.pin) {
        const pinned = await chat.pin(copy);
        if (!pinned.ok) ctx.logger.info({ crisisId: crisis.id, error: pinned.error }, 'the crisis board is posted but not pinned');
      }
      return { status: 'done' };
    },
    // A second post would be a second board: a lost run is not repeated (the next change posts again).
    { atMostOnce: true },
  );
}
