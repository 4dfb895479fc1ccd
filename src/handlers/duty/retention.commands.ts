// /duty retention: how long personal data of stood-down crises and closed cases is kept, what is
// due for erasure now and next, the last run; `set months=N` changes the period, `run` erases what
// is due now (the daily job's own code).
import { z } from 'zod/v4';
import { message, type ReplyField } from '../../domain/reply';
import { DEFAULT_RETENTION_MONTHS, monthsLabel, RETENTION_RUN_MINUTES, RETENTION_SETTING, retentionCutoff, retentionDueAt, retentionMonths } from '../../domain/retention';
import { formatInZone } from '../../domain/time';
import { formatClock } from '../../domain/zoned';
import type { Store } from '../../store/store';
import { defineCommand, type HandlerContext } from '../command';
import { viewerZone } from '../roster/roster-common';
import { eraseDue, lastRetentionRun, RETENTION_JOB, retentionConfig, retentionRepository, type RetentionPayload } from './retention.job';

/** Batches `/duty retention run` erases before it hands the rest to a job (it answers in seconds). */
const COMMAND_BATCHES = 10;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function at(instant: Date | number, tz: string): string {
  return formatInZone(instant instanceof Date ? instant : new Date(instant), tz);
}

/**
 * The line /person show and /case show carry once the record's personal data is erased; null
 * before. The date is the mission's.
 */
export async function erasureNotice(store: Store, kind: 'person' | 'case', id: string, timeZone: string): Promise<string | null> {
  const erasedAt = await retentionRepository(store).erasedAt(kind, id);
  if (!erasedAt) return null;
  const what = kind === 'person' ? 'this person' : 'this case';
  return `The personal data of ${what} was erased under the retention policy on ${at(erasedAt, timeZone).slice(0, 10)}; statuses, categories and times are kept for reports.`;
}

async function outlookFields(ctx: HandlerContext): Promise<{ fields: ReplyField[]; due: boolean }> {
  const tz = ctx.settings.missionTimeZone;
  const viewer = viewerZone(ctx);
  const config = await retentionConfig(ctx.store);
  const now = ctx.now.getTime();
  const cutoff = new Date(retentionCutoff(now, config.months, tz));
  const o = await retentionRepository(ctx.store).outlook(cutoff);
  const dueParts = [
    ...o.crises.map((c) => `${plural(c.people, 'person', 'people')} of ${c.code} (stood down ${at(c.stoodDownAt, viewer)})`),
    ...(o.cases ? [plural(o.cases, 'closed case')] : []),
  ];
  const next: { at: number; what: string }[] = [];
  if (o.nextCrisis) next.push({ at: retentionDueAt(o.nextCrisis.stoodDownAt.getTime(), config.months, tz), what: `${plural(o.nextCrisis.people, 'person', 'people')} of ${o.nextCrisis.code}` });
  if (o.nextCaseClosedAt) next.push({ at: retentionDueAt(o.nextCaseClosedAt.getTime(), config.months, tz), what: 'a closed case' });
  next.sort((a, b) => a.at - b.at);
  const first = next[0];
  const last = await lastRetentionRun(ctx.store);
  const fields: ReplyField[] = [
    { label: 'Period', value: `${monthsLabel(config.months)} after a crisis is stood down or a case is closed${config.months === DEFAULT_RETENTION_MONTHS ? ' (the default)' : ''}` },
    { label: 'Due now', value: dueParts.length ? dueParts.join('; ') : 'nothing' },
    { label: 'Next due', value: first ? `${at(first.at, viewer)}: ${first.what}` : 'nothing is waiting (no stood-down crisis or closed case with personal data left)' },
    { label: 'Last run', value: last ? `${at(new Date(last.at), viewer)} by ${last.by}: ${plural(last.people, 'person', 'people')}${last.crises.length ? ` (${last.crises.join(', ')})` : ''}, ${plural(last.cases, 'case')}${last.continued ? '; continued in the background' : ''}` : 'never' },
    { label: 'Erased so far', value: `${plural(o.erased.people, 'person', 'people')}, ${plural(o.erased.cases, 'case')}` },
    { label: 'Daily run', value: `${formatClock(RETENTION_RUN_MINUTES)} mission time (${tz})` },
  ];
  return { fields, due: dueParts.length > 0 };
}

const EXPLAIN = 'Erasure removes names, dates of birth, passports, contact details, next of kin, locations, descriptions and notes; statuses, categories, priorities, needs and times stay, so boards and reports count the same. A reopened crisis or case is never erased.';

export const retentionShowCommand = defineCommand({
  key: 'duty retention',
  summary: 'how long personal data of stood-down crises and closed cases is kept, and what is due for erasure',
  usage: '/duty retention',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const { fields, due } = await outlookFields(ctx);
    return message({
      title: 'Retention of personal data',
      text: EXPLAIN,
      fields,
      buttons: due ? [{ label: 'Erase what is due now', command: '/duty retention run', style: 'danger', confirm: { title: 'Erase personal data now?', text: 'The personal data due under the retention period is erased now. This cannot be undone.', confirm: 'Erase', deny: 'Cancel' } }] : [],
    });
  },
});

export const retentionSetCommand = defineCommand({
  key: 'duty retention set',
  summary: 'the retention period in months (1 to 120; default 18)',
  usage: '/duty retention set months=18',
  allowed: ['admin'],
  input: z.strictObject({ months: retentionMonths }),
  async run(ctx, input) {
    const repo = retentionRepository(ctx.store);
    const before = await retentionConfig(ctx.store);
    const config = { months: input.months };
    await ctx.store.change(ctx.meta, async (w) => {
      await repo.setSetting(w.tx, RETENTION_SETTING, config);
      await w.audit('setting', RETENTION_SETTING, 'set', before, config);
    });
    const { fields } = await outlookFields(ctx);
    return message({
      title: `Retention period: ${monthsLabel(config.months)}`,
      text: `Personal data is erased ${monthsLabel(config.months)} after a crisis is stood down or a case is closed (was ${monthsLabel(before.months)}). Nothing is erased until the daily run or /duty retention run.`,
      fields,
    });
  },
});

export const retentionRunCommand = defineCommand({
  key: 'duty retention run',
  summary: 'erase the personal data due under the retention period now (the daily run does the same)',
  usage: '/duty retention run',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const by = ctx.actor ? `@${ctx.actor.handle}` : ctx.meta.actorName;
    const r = await eraseDue(ctx.store, ctx.meta, { now: ctx.now, timeZone: ctx.settings.missionTimeZone, runId: ctx.requestId, by, maxBatches: COMMAND_BATCHES });
    if (r.more) {
      const payload: RetentionPayload = { mode: 'continue', requestedBy: by };
      await ctx.store.transaction((tx) => ctx.outbox.schedule(tx, { kind: RETENTION_JOB, key: `retention:continue:${ctx.requestId}`, dueAt: ctx.now, payload }));
      ctx.outbox.wake?.();
    }
    if (!r.people && !r.cases) return message({ title: 'Retention: nothing to erase', text: 'Nothing is due under the retention period now. /duty retention shows what comes next.' });
    const people = r.people ? `${plural(r.people, 'person', 'people')} (${r.crises.join(', ')})` : null;
    const cases = r.cases ? plural(r.cases, 'closed case') : null;
    return message({
      title: 'Personal data erased',
      text: `Erased the personal data of ${[people, cases].filter(Boolean).join(' and ')} under the retention period. Counts, statuses and times are kept for reports; each batch is in the audit log (/duty audit retention).${r.more ? ' More is due: it is being erased in the background.' : ''}`,
    });
  },
});

export const retentionCommands = [retentionShowCommand, retentionSetCommand, retentionRunCommand];
