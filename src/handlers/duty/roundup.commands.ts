// /duty roundup: the daily roundup for leadership — who is on duty, the last 24 hours of cases,
// open pages, active crises, and a chart of cases per day — posted each day at a mission time.
import { z } from 'zod/v4';
import { parseChannelArg } from '../../domain/destination';
import { message, type ReplyField } from '../../domain/reply';
import { nextRoundup, parseRoundupTime, ROUNDUP_SETTING, type RoundupConfig } from '../../domain/roundup';
import { zoneAbbreviation } from '../../domain/zoned';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { channelOf } from '../page/page.commands';
import { when } from '../roster/roster-common';
import { loadRoundup, planRoundup, ROUNDUP_JOB, roundupConfig, roundupSent, type NowPayload } from './roundup.service';
import { renderRoundup } from './roundup.view';

const SET_USAGE = '/duty roundup set at=07:00 channel=#leadership';

/**
 * A channel the bot can post the roundup to: "here" (the channel the command came from), a
 * Slack channel link, or slack:C… / teams:…; never a direct message.
 */
function channelInput(ctx: HandlerContext, input: string): string {
  const t = input.trim();
  if (t.toLowerCase() === 'here') {
    const here = channelOf(ctx.caller, ctx.origin);
    if (!here) throw new CommandError('NOT_A_CHANNEL', 'channel=here works in a channel, not in a direct message or the console; run it in the leadership channel, or name one: channel=#leadership.', { channel: 'not a channel' });
    return here;
  }
  const named = parseChannelArg(t);
  if (!named) {
    throw new CommandError('INVALID_INPUT', `channel: "${t.slice(0, 40)}" is not a channel the bot can post to; use here (in that channel), a #channel link, slack:C… or teams:….`, { channel: 'not a channel' });
  }
  // Slack D… (a direct message), U…/W… (a person); a Teams conversation that is not a channel or group chat.
  if (/^slack:[DUW]/.test(named) || (named.startsWith('teams:') && !named.includes('@thread'))) {
    throw new CommandError('INVALID_INPUT', `channel: ${named} is a direct conversation, not a channel; the roundup goes to a channel leadership reads.`, { channel: 'not a channel' });
  }
  return named;
}

/** The platforms' "can the bot post there?", where the server provides it (not on the console). */
type ChannelCheck = { canPost(channel: string): Promise<{ ok: true } | { ok: false; error: string }> };

/** Refuses a channel the bot cannot post to (not in it, archived, unknown), before anything is saved. */
async function checkCanPost(ctx: HandlerContext, channel: string): Promise<void> {
  const probe = (ctx as HandlerContext & { channels?: ChannelCheck }).channels;
  if (!probe) return;
  const r = await probe.canPost(channel);
  if (!r.ok) throw new CommandError('CANNOT_POST', `The roundup cannot go to ${channel}: ${r.error}. Nothing was saved.`, { channel: 'the bot cannot post there' });
}

function zoneLabel(tz: string, at: number): string {
  const abbr = zoneAbbreviation(tz, at);
  return abbr === tz ? tz : `${abbr}, ${tz}`;
}

async function configFields(ctx: HandlerContext, config: RoundupConfig): Promise<ReplyField[]> {
  const tz = ctx.settings.missionTimeZone;
  const now = ctx.now.getTime();
  const sent = await roundupSent(ctx.store);
  const next = config.enabled ? nextRoundup(tz, config.at, now, sent?.date) : null;
  return [
    { label: 'Time', value: `${config.at} mission time (${zoneLabel(tz, next?.dueAt ?? now)})` },
    { label: 'Channel', value: config.channel },
    { label: 'Status', value: config.enabled ? 'on' : 'off' },
    { label: 'Next', value: next ? when(next.dueAt, tz) : 'none (off)' },
    ...(sent ? [{ label: 'Last run', value: sent.date }] : []),
  ];
}

export const roundupShowCommand = defineCommand({
  key: 'duty roundup',
  summary: 'the daily roundup for leadership: when and where it goes, and when the next one is due',
  usage: '/duty roundup',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const config = await roundupConfig(ctx.store);
    if (!config) {
      return message({
        title: 'Daily roundup',
        text: `No daily roundup is set up. Set one: ${SET_USAGE} (mission time, ${ctx.settings.missionTimeZone}). It carries who is on duty, the last 24 hours of cases (P1 and P2 by reference), open pages and active crises, with a chart of cases per day: counts and references, no personal data.`,
      });
    }
    return message({
      title: 'Daily roundup',
      fields: await configFields(ctx, config),
      buttons: [
        { label: 'Preview', command: '/duty roundup preview' },
        { label: 'Post one now', command: '/duty roundup now', confirm: { title: 'Post a roundup now?', text: `A roundup goes to ${config.channel} now; the daily one is unaffected.`, confirm: 'Post', deny: 'Cancel' } },
      ],
    });
  },
});

export const roundupSetCommand = defineCommand({
  key: 'duty roundup set',
  summary: 'when (mission time) and where the daily roundup goes; turns it on',
  usage: `${SET_USAGE}   (channel: here, #channel, slack:C… or teams:…)`,
  allowed: ['admin'],
  input: z.strictObject({ at: z.string().max(20).optional(), channel: z.string().max(200).optional() }),
  async run(ctx, input) {
    if (input.at === undefined && input.channel === undefined) throw new CommandError('INVALID_INPUT', `Say what to set: at=HH:MM and/or channel=…, e.g. ${SET_USAGE}.`, { at: 'at= or channel= is required' });
    const existing = await roundupConfig(ctx.store);
    let at = existing?.at;
    if (input.at !== undefined) {
      const t = parseRoundupTime(input.at);
      if (!t.ok) throw new CommandError('INVALID_INPUT', `at: ${t.error}.`, { at: 'not a time' });
      at = t.at;
    }
    const channel = input.channel !== undefined ? channelInput(ctx, input.channel) : existing?.channel;
    if (!at) throw new CommandError('INVALID_INPUT', `at= is required the first time: ${SET_USAGE}.`, { at: 'required' });
    if (!channel) throw new CommandError('INVALID_INPUT', `channel= is required the first time: ${SET_USAGE}.`, { channel: 'required' });
    if (input.channel !== undefined) await checkCanPost(ctx, channel);
    const config: RoundupConfig = { at, channel, enabled: true };
    const tz = ctx.settings.missionTimeZone;
    const now = ctx.now.getTime();
    const slot = await ctx.store.change(ctx.meta, async (w) => {
      const before = (await ctx.store.cases.setting(ROUNDUP_SETTING, w.tx)) ?? null;
      await ctx.store.cases.setSetting(w.tx, ROUNDUP_SETTING, config);
      await w.audit('setting', ROUNDUP_SETTING, 'set', before, config);
      // Jobs planned for another time find it changed when they come due, and stand down.
      return planRoundup(ctx.store, ctx.outbox, w.tx, config, tz, now);
    });
    if (slot.dueAt <= now) ctx.outbox.wake?.();
    return message({
      title: 'Daily roundup set',
      text: `The roundup goes to ${config.channel} every day at ${config.at} mission time (${zoneLabel(tz, slot.dueAt)}); the next one ${when(slot.dueAt, tz)}. Check it with /duty roundup preview, or post one now with /duty roundup now.`,
    });
  },
});

export const roundupOffCommand = defineCommand({
  key: 'duty roundup off',
  summary: 'stop the daily roundup (its time and channel are kept for the next /duty roundup set)',
  usage: '/duty roundup off',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const existing = await roundupConfig(ctx.store);
    if (!existing?.enabled) return message({ title: 'Daily roundup', text: 'The daily roundup is already off.' });
    const config: RoundupConfig = { ...existing, enabled: false };
    await ctx.store.change(ctx.meta, async (w) => {
      await ctx.store.cases.setSetting(w.tx, ROUNDUP_SETTING, config);
      await w.audit('setting', ROUNDUP_SETTING, 'set', existing, config);
    });
    return message({ title: 'Daily roundup off', text: `No more roundups go to ${existing.channel}. Turn it on again with /duty roundup set (at ${existing.at} unless you say otherwise).` });
  },
});

export const roundupNowCommand = defineCommand({
  key: 'duty roundup now',
  summary: 'post a roundup to the roundup channel now, to check it (the daily one is unaffected)',
  usage: '/duty roundup now',
  allowed: ['admin'],
  input: z.strictObject({}),
  async run(ctx) {
    const config = await roundupConfig(ctx.store);
    if (!config) throw new CommandError('NOT_CONFIGURED', `No roundup channel is set yet: ${SET_USAGE}.`);
    const payload: NowPayload = { mode: 'now', channel: config.channel, requestedBy: ctx.actor?.id ?? null };
    await ctx.store.change(ctx.meta, async (w) => {
      // One post per request: the same request arriving twice (a platform retry) enqueues nothing new.
      await ctx.outbox.schedule(w.tx, { kind: ROUNDUP_JOB, key: `roundup:now:${ctx.requestId}`, dueAt: ctx.now, payload });
      await w.audit('roundup', 'now', 'post', null, { channel: config.channel });
    });
    ctx.outbox.wake?.();
    return message({ title: 'Daily roundup', text: `Posting a roundup to ${config.channel} now. You will hear from me only if it cannot be posted.` });
  },
});

export const roundupPreviewCommand = defineCommand({
  key: 'duty roundup preview',
  summary: 'the roundup as it would be posted now, shown only to you, with its chart',
  usage: '/duty roundup preview',
  allowed: ['admin', 'leader'],
  input: z.strictObject({}),
  async run(ctx) {
    const reply = await renderRoundup(await loadRoundup(ctx.store, ctx.settings.missionTimeZone, ctx.now.getTime()));
    return { ...reply, visibility: 'caller' };
  },
});

export const roundupCommands = [roundupShowCommand, roundupSetCommand, roundupOffCommand, roundupNowCommand, roundupPreviewCommand];
