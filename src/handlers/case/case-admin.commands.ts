// Admin settings for cases: service-level targets per priority and category, and the duty channel
// that new case cards go to.
import { z } from 'zod/v4';
import {
  CASE_CATEGORIES,
  CASE_PRIORITIES,
  CATEGORY_LABELS,
  DEFAULT_SERVICE_LEVELS,
  describeServiceLevel,
  parseCategory,
  parseServiceLevelInput,
  prioritySchema,
  serviceLevelFor,
  type CaseCategory,
} from '../../domain/case';
import { message } from '../../domain/reply';
import { parseChannelArg } from '../../domain/destination';
import { CommandError, defineCommand } from '../command';
import { channelOf } from '../page/page.commands';
import { caseChannel, CASE_CHANNEL_SETTING, overridesOf } from './case.service';
import { CASE_ROLES } from './case.commands';

const categoryInput = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s.trim() === '' || s.trim() === '*') return '*';
    const c = parseCategory(s);
    if (!c) {
      ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 30)}" is not a category; use one of ${CASE_CATEGORIES.join(', ')}` });
      return z.NEVER;
    }
    return c;
  });

export const caseSlaListCommand = defineCommand({
  key: 'case sla',
  summary: 'service-level targets: time to acknowledge and update interval, per priority and category',
  usage: '/case sla',
  allowed: CASE_ROLES,
  input: z.strictObject({}),
  async run(ctx) {
    const overrides = await overridesOf(ctx.store);
    const rows = CASE_PRIORITIES.map((p) => {
      const special = overrides.filter((o) => o.priority === p && o.category !== null);
      const lines = [`*${p}*: ${describeServiceLevel(serviceLevelFor(p, null, overrides))}${overrides.some((o) => o.priority === p && o.category === null) ? ' (changed)' : ''}`];
      for (const o of special) lines.push(`  ${CATEGORY_LABELS[o.category as CaseCategory] ?? o.category}: ${describeServiceLevel(serviceLevelFor(p, o.category, overrides))}`);
      return { text: lines.join('\n') };
    });
    return message({
      title: 'Case service levels',
      text: `Defaults: ${CASE_PRIORITIES.map((p) => `${p} ${describeServiceLevel(DEFAULT_SERVICE_LEVELS[p])}`).join('; ')}. P1 and P2 cases not acknowledged in time page the duty officer.`,
      rows,
    });
  },
});

export const caseSlaSetCommand = defineCommand({
  key: 'case sla set',
  summary: 'change a service-level target (new cases use it; open ones keep theirs)',
  usage: '/case sla set <P1..P4> [category=…] [ack=15m|"next-working-day 10:00"] [update=2h|none]',
  allowed: ['admin'],
  positional: ['priority'],
  input: z.strictObject({ priority: prioritySchema, category: categoryInput, ack: z.string().max(60).optional(), update: z.string().max(30).optional() }),
  async run(ctx, input) {
    if (input.ack === undefined && input.update === undefined) throw new CommandError('INVALID_INPUT', 'Say what to change: ack=… and/or update=…, e.g. /case sla set P1 ack=10m update=1h.', { ack: 'ack= or update= is required' });
    const parsed = parseServiceLevelInput({ ack: input.ack ?? null, update: input.update ?? null });
    if (!parsed.ok) throw new CommandError('INVALID_INPUT', `${parsed.field}: ${parsed.error}`, { [parsed.field]: parsed.error });
    const existing = (await ctx.store.cases.serviceLevels()).find((r) => r.priority === input.priority && r.category === input.category);
    const ack = parsed.patch.ack ?? existing?.ack ?? null;
    const updateEveryMs = parsed.patch.updateEveryMs === undefined ? (existing?.updateEveryMs ?? null) : parsed.patch.updateEveryMs === null ? 0 : parsed.patch.updateEveryMs;
    await ctx.store.change(ctx.meta, async (w) => {
      await ctx.store.cases.setServiceLevel(w.tx, { priority: input.priority, category: input.category, ack, updateEveryMs });
      await w.audit('case-sla', `${input.priority}:${input.category}`, 'set', existing ?? null, { ack, updateEveryMs });
    });
    const level = serviceLevelFor(input.priority, input.category === '*' ? null : input.category, await overridesOf(ctx.store));
    const scope = input.category === '*' ? input.priority : `${input.priority} ${CATEGORY_LABELS[input.category as CaseCategory]}`;
    return message({ title: `Service level for ${scope}`, text: `${describeServiceLevel(level)}. Cases opened from now on use it; open cases keep the deadlines they have.` });
  },
});

export const caseSlaResetCommand = defineCommand({
  key: 'case sla reset',
  summary: 'go back to the default service level for a priority (and category)',
  usage: '/case sla reset <P1..P4> [category=…]',
  allowed: ['admin'],
  positional: ['priority'],
  input: z.strictObject({ priority: prioritySchema, category: categoryInput }),
  async run(ctx, input) {
    const removed = await ctx.store.change(ctx.meta, async (w) => {
      const ok = await ctx.store.cases.removeServiceLevel(w.tx, input.priority, input.category);
      if (ok) await w.audit('case-sla', `${input.priority}:${input.category}`, 'reset', { priority: input.priority, category: input.category }, null);
      return ok;
    });
    if (!removed) throw new CommandError('NOT_FOUND', `${input.priority}${input.category === '*' ? '' : ` ${input.category}`} already uses the default service level.`);
    return message({ title: 'Service level reset', text: `${input.priority}: ${describeServiceLevel(serviceLevelFor(input.priority, input.category === '*' ? null : input.category, await overridesOf(ctx.store)))}.` });
  },
});

export const caseChannelCommand = defineCommand({
  key: 'case channel',
  summary: 'the duty channel that new case cards go to (here, #channel, or none)',
  usage: '/case channel [here|#channel|none]',
  allowed: ['admin'],
  positional: ['channel'],
  input: z.strictObject({ channel: z.string().max(200).optional() }),
  async run(ctx, input) {
    if (!input.channel) {
      const current = await caseChannel(ctx.store);
      return message({ title: 'Case channel', text: current ? `New case cards go to ${current}.` : 'No duty channel is set: case cards are not posted. Run /case channel here in the duty channel.' });
    }
    const word = input.channel.trim().toLowerCase();
    let channel: string | null;
    if (word === 'none') channel = null;
    else if (word === 'here') {
      channel = channelOf(ctx.caller, ctx.origin);
      if (!channel) throw new CommandError('NOT_A_CHANNEL', 'Run /case channel here in a channel (not a direct message), or name one: /case channel #duty.', { channel: 'not a channel' });
    } else {
      channel = parseChannelArg(input.channel);
      if (!channel) throw new CommandError('INVALID_INPUT', `"${input.channel.slice(0, 40)}" is not a channel; use here, #channel or none.`, { channel: 'not a channel' });
    }
    await ctx.store.change(ctx.meta, async (w) => {
      const before = await ctx.store.cases.setting(CASE_CHANNEL_SETTING, w.tx);
      await ctx.store.cases.setSetting(w.tx, CASE_CHANNEL_SETTING, channel ?? '');
      await w.audit('setting', CASE_CHANNEL_SETTING, 'set', before ?? null, channel);
    });
    return message({ title: 'Case channel', text: channel ? `New case cards go to ${channel}.` : 'New case cards are no longer posted.' });
  },
});

export const caseAdminCommands = [caseSlaListCommand, caseSlaSetCommand, caseSlaResetCommand, caseChannelCommand];
