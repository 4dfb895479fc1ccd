// /crisis open, list, show, stand-down, reopen, add: the crisis itself and who works it.
import { z } from 'zod/v4';
import { parseMemberRef } from '../../domain/member';
import { message, type MessageReply } from '../../domain/reply';
import type { Role } from '../../domain/roles';
import { parseChannelArg } from '../../domain/destination';
import type { CrisisRecord } from '../../store/crisis.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { channelOf } from '../page/page.commands';
import { viewerZone, when } from '../roster/roster-common';
import { actorOf, crisisCodeInput, crisisFor, mayWork } from './crisis-access';
import { scheduleBoard } from './crisis.service';
import { CRISIS_CHANNEL_JOB, type CrisisChannelPayload } from './crisis-channel.job';

const OPENERS: readonly Role[] = ['crisis', 'leader', 'admin'];

/** "here", "<#C123|name>", "slack:C123", "teams:…" → a channel; "none" → null. */
function channelInput(ctx: HandlerContext, s: string | undefined, field: string): string | null | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const t = s.trim();
  if (t.toLowerCase() === 'none') return null;
  if (t.toLowerCase() === 'here') {
    const here = channelOf(ctx.caller, ctx.origin);
    if (!here) throw new CommandError('NOT_A_CHANNEL', `${field}=here works in a channel, not a direct message; name one: ${field}=#channel or ${field}=slack:C…`, { [field]: 'not a channel' });
    return here;
  }
  const named = parseChannelArg(t);
  if (named) return named;
  throw new CommandError('INVALID_INPUT', `${field}: "${t.slice(0, 40)}" is not a channel; use here, #channel, slack:C… or teams:…`, { [field]: 'not a channel' });
}

function crisisFields(c: CrisisRecord, tz: string): { label: string; value: string }[] {
  return [
    { label: 'Code', value: c.code },
    { label: 'Region', value: c.region },
    { label: 'Status', value: c.status === 'active' ? `active since ${when(c.openedAt.getTime(), tz)}` : `stood down ${when((c.stoodDownAt ?? c.openedAt).getTime(), tz)}` },
    { label: 'Crisis channel', value: c.channel ?? 'none' },
    { label: 'Leadership channel', value: c.leadershipChannel ?? 'none' },
  ];
}

export const crisisOpenCommand = defineCommand({
  key: 'crisis open',
  summary: 'open a crisis: its code, region, channels (form without arguments)',
  usage: '/crisis open name="…" code=NPL-EQ region="…" [description="…"] [channel=new|here|#channel] [leadership=#channel]',
  allowed: OPENERS,
  form: {
    title: 'Open a crisis',
    submitLabel: 'Open',
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true, maxLength: 120, placeholder: 'Nepal earthquake' },
      { name: 'code', label: 'Short code', type: 'text', required: true, maxLength: 20, placeholder: 'NPL-EQ' },
      { name: 'region', label: 'Country or region', type: 'text', required: true, maxLength: 120 },
      { name: 'description', label: 'Description', type: 'longText', required: false, maxLength: 2000 },
      { name: 'channel', label: 'Crisis channel', type: 'text', required: false, placeholder: 'new, here, #crisis-npl or slack:C…', help: '"new" creates one (Slack); the live board is pinned there' },
      { name: 'leadership', label: 'Leadership channel', type: 'text', required: false, placeholder: '#leadership', help: 'SITREPs and the daily roundup go there' },
    ],
  },
  input: z.strictObject({
    name: z.string({ error: 'a name is required' }).trim().min(2, { error: 'a name is required' }).max(120),
    code: crisisCodeInput,
    region: z.string({ error: 'a country or region is required' }).trim().min(2, { error: 'a country or region is required' }).max(120),
    description: z.string().trim().max(2000, { error: 'at most 2000 characters' }).optional(),
    channel: z.string().max(200).optional(),
    leadership: z.string().max(200).optional(),
  }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const createChannel = input.channel?.trim().toLowerCase() === 'new';
    if (createChannel && ctx.caller.platform === 'console') throw new CommandError('NOT_A_CHANNEL', 'channel=new creates a Slack channel: run it from Slack, or link one: channel=slack:C…', { channel: 'not from the console' });
    const channel = createChannel ? null : (channelInput(ctx, input.channel, 'channel') ?? null);
    const leadership = channelInput(ctx, input.leadership, 'leadership') ?? null;
    if (await ctx.store.crises.byCode(input.code)) throw new CommandError('CODE_TAKEN', `The code ${input.code} is taken; choose another.`, { code: 'taken' });
    const crisis = await ctx.store.change(ctx.meta, async (w) => {
      const c = await ctx.store.crises.create(w.tx, {
        code: input.code,
        name: input.name,
        region: input.region,
        description: input.description || null,
        status: 'active',
        leadershipChannel: leadership,
        channel,
        openedAt: ctx.now,
        openedById: actor.id,
      });
      await ctx.store.crises.addMember(w.tx, c.id, actor.id, ctx.now);
      if (c.channel) await scheduleBoard(ctx.outbox, w.tx, c, ctx.now);
      if (createChannel) {
        const payload: CrisisChannelPayload = { crisisId: c.id, platform: ctx.caller.platform === 'teams' ? 'teams' : 'slack', byId: actor.id };
        await ctx.outbox.schedule(w.tx, { kind: CRISIS_CHANNEL_JOB, key: `crisis:${c.id}:create-channel`, dueAt: ctx.now, payload });
      }
      await w.audit('crisis', c.id, 'open', null, c);
      return c;
    });
    ctx.outbox.wake?.();
    return message({
      title: `Crisis ${crisis.code} opened: ${crisis.name}`,
      text: `${crisis.channel ? `The live board goes to ${crisis.channel}.` : createChannel ? 'Creating the crisis channel; you will be invited, and the live board is pinned there.' : `No crisis channel: link one with /crisis edit ${crisis.code} channel=here.`} Add people with /person add crisis=${crisis.code}, or import a list with /crisis import ${crisis.code}.`,
      fields: crisisFields(crisis, viewerZone(ctx)),
      buttons: [{ label: 'Board', command: `/crisis board ${crisis.code}` }, { label: 'Add a person', command: `/person add crisis=${crisis.code}` }],
    });
  },
});

export const crisisListCommand = defineCommand({
  key: 'crisis list',
  summary: 'crises, active first',
  usage: '/crisis list',
  allowed: 'any-member',
  input: z.strictObject({}),
  async run(ctx) {
    const all = await ctx.store.crises.list();
    const tz = viewerZone(ctx);
    const visible: CrisisRecord[] = [];
    for (const c of all) if (await mayWork(ctx, c)) visible.push(c);
    if (!visible.length) return message({ title: 'Crises', text: all.length ? 'None that you work.' : 'No crises yet. Open one with /crisis open.' });
    const rows = await Promise.all(
      visible.map(async (c) => {
        const counts = await ctx.store.crises.statusCounts(c.id);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        return {
          text: `*${c.code}* ${c.name} · ${c.region} · ${c.status === 'active' ? `active since ${when(c.openedAt.getTime(), tz)}` : 'stood down'}\n${total} people, ${counts.get('unaccounted') ?? 0} unaccounted`,
          buttons: [{ label: 'Board', command: `/crisis board ${c.code}` }],
        };
      }),
    );
    return message({ title: 'Crises', rows });
  },
});

export const crisisShowCommand = defineCommand({
  key: 'crisis show',
  summary: 'a crisis: its channels, members and headline counts',
  usage: '/crisis show <code>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const c = await crisisFor(ctx, input.crisis);
    const [counts, memberIds, duplicates] = await Promise.all([ctx.store.crises.statusCounts(c.id), ctx.store.crises.memberIds(c.id), ctx.store.crises.candidateCount(c.id)]);
    const names = await ctx.store.members.names(memberIds);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return message({
      title: `${c.code}: ${c.name}`,
      text: [c.description, `${total} people; ${counts.get('unaccounted') ?? 0} unaccounted.${duplicates ? ` ${duplicates} possible duplicates to review: /crisis duplicates ${c.code}` : ''}`].filter(Boolean).join('\n'),
      fields: [...crisisFields(c, viewerZone(ctx)), { label: 'Added members', value: [...names.values()].map((m) => m.displayName).join(', ') || 'none' }],
      buttons: [{ label: 'Board', command: `/crisis board ${c.code}` }, { label: 'Call list', command: `/crisis calllist ${c.code}` }],
    });
  },
});

function lifecycle(key: 'crisis stand-down' | 'crisis reopen') {
  const standDown = key === 'crisis stand-down';
  return defineCommand({
    key,
    summary: standDown ? 'stand a crisis down (its people stay on record)' : 'reopen a stood-down crisis',
    usage: `/${key} <code>`,
    allowed: OPENERS,
    positional: ['crisis'],
    input: z.strictObject({ crisis: crisisCodeInput }),
    async run(ctx, input): Promise<MessageReply> {
      const c = await crisisFor(ctx, input.crisis);
      if (standDown === (c.status !== 'active')) throw new CommandError('SAME_STATUS', `Crisis ${c.code} is already ${standDown ? 'stood down' : 'active'}.`);
      const after = await ctx.store.change(ctx.meta, async (w) => {
        const saved = await ctx.store.crises.save(w.tx, c, standDown ? { status: 'stood-down', stoodDownAt: ctx.now } : { status: 'active', stoodDownAt: null });
        if (!saved) throw new CommandError('CHANGED', `Crisis ${c.code} changed at the same moment; look again with /crisis show ${c.code}.`);
        await w.audit('crisis', c.id, standDown ? 'stand-down' : 'reopen', c, saved);
        if (saved.channel) await scheduleBoard(ctx.outbox, w.tx, saved, ctx.now);
        return saved;
      });
      ctx.outbox.wake?.();
      return message({ title: `Crisis ${after.code} ${standDown ? 'stood down' : 'reopened'}`, fields: crisisFields(after, viewerZone(ctx)) });
    },
  });
}

export const crisisStandDownCommand = lifecycle('crisis stand-down');
export const crisisReopenCommand = lifecycle('crisis reopen');

export const crisisAddCommand = defineCommand({
  key: 'crisis add',
  summary: 'add a member to a crisis cell (besides everyone with the crisis role)',
  usage: '/crisis add <code> @member',
  allowed: OPENERS,
  positional: ['crisis', 'member'],
  input: z.strictObject({ crisis: crisisCodeInput, member: z.string({ error: 'whom to add: @member' }).trim().min(1) }),
  async run(ctx, input) {
    const c = await crisisFor(ctx, input.crisis);
    const ref = parseMemberRef(input.member);
    const m = ref ? await ctx.store.members.resolve(ref) : null;
    if (!m || m.removedAt) throw new CommandError('UNKNOWN_MEMBER', `No member ${input.member.slice(0, 40)}; check /duty member list.`, { member: 'unknown member' });
    const added = await ctx.store.change(ctx.meta, async (w) => {
      const ok = await ctx.store.crises.addMember(w.tx, c.id, m.id, ctx.now);
      if (ok) await w.audit('crisis', c.id, 'member.add', null, { memberId: m.id });
      return ok;
    });
    return message({ title: `${c.code}: ${m.displayName} ${added ? 'added' : 'was already in the cell'}` });
  },
});

export const crisisEditCommand = defineCommand({
  key: 'crisis edit',
  summary: 'change a crisis: name, region, description, its channel or its leadership channel',
  usage: '/crisis edit <code> [name="…"] [region="…"] [description="…"] [channel=here|#channel|none] [leadership=#channel|none]',
  allowed: OPENERS,
  positional: ['crisis'],
  input: z.strictObject({
    crisis: crisisCodeInput,
    name: z.string().trim().min(2, { error: 'at least 2 characters' }).max(120).optional(),
    region: z.string().trim().min(2, { error: 'at least 2 characters' }).max(120).optional(),
    description: z.string().trim().max(2000, { error: 'at most 2000 characters' }).optional(),
    channel: z.string().max(200).optional(),
    leadership: z.string().max(200).optional(),
  }),
  async run(ctx, input) {
    const c = await crisisFor(ctx, input.crisis);
    const channel = channelInput(ctx, input.channel, 'channel');
    const leadership = channelInput(ctx, input.leadership, 'leadership');
    const patch = {
      ...(input.name ? { name: input.name } : {}),
      ...(input.region ? { region: input.region } : {}),
      ...(input.description !== undefined ? { description: input.description || null } : {}),
      ...(channel !== undefined ? { channel, boardMessage: channel === c.channel ? c.boardMessage : null } : {}),
      ...(leadership !== undefined ? { leadershipChannel: leadership } : {}),
    };
    if (!Object.keys(patch).length) throw new CommandError('INVALID_INPUT', `Say what to change, e.g. /crisis edit ${c.code} channel=here.`, { channel: 'nothing to change' });
    const after = await ctx.store.change(ctx.meta, async (w) => {
      const saved = await ctx.store.crises.save(w.tx, c, patch);
      if (!saved) throw new CommandError('CHANGED', `Crisis ${c.code} changed at the same moment; look again with /crisis show ${c.code}.`);
      if (saved.channel && saved.channel !== c.channel) await scheduleBoard(ctx.outbox, w.tx, saved, ctx.now);
      await w.audit('crisis', c.id, 'edit', c, saved);
      return saved;
    });
    ctx.outbox.wake?.();
    return message({ title: `Crisis ${after.code} changed`, fields: crisisFields(after, viewerZone(ctx)) });
  },
});

export const crisisCommands = [crisisOpenCommand, crisisEditCommand, crisisListCommand, crisisShowCommand, crisisStandDownCommand, crisisReopenCommand, crisisAddCommand];
