// /page: raise a page, list, show, acknowledge, resolve.
import { z } from 'zod/v4';
import {
  dedupKeySchema,
  formatDuration,
  MAX_RESOLUTION_NOTE,
  parseTarget,
  SEVERITIES,
  severitySchema,
  type EscalationStep,
  type Severity,
} from '../../domain/escalation';
import type { Caller, Origin } from '../../domain/invocation';
import { parseMemberRef, describeRef, type Member } from '../../domain/member';
import { failure, message, type MessageReply } from '../../domain/reply';
import type { PolicySnapshot } from '../../store/page.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { MemberNames, viewerZone } from '../roster/roster-common';
import { notificationLine, pageMessage, pageRow, stepsSummary, timelineLines } from './page-view';
import { respondToPage, triggerPage, type RespondResult } from './page.service';

const MINUTE = 60_000;
/** Ad-hoc targets (a member, a roster, a role) re-notify every 5 minutes, three times in all. */
const ADHOC_DELAY_MS = 5 * MINUTE;
const ADHOC_REPEAT = 2;
const MAX_TITLE = 150;

/** The conversation a command came from, when it is a channel (not a DM): it gets the page's timeline. */
export function channelOf(caller: Caller, origin: Origin): string | null {
  const id = origin.channelId;
  if (!id) return null;
  if (caller.platform === 'slack') return /^[CG]/.test(id) ? `slack:${id}` : null;
  if (caller.platform === 'teams') return id.includes('@thread') ? `teams:${id}` : null;
  return null;
}

interface Target {
  policyId: string | null;
  policy: PolicySnapshot;
  label: string;
  /** words of the message used up naming the target (multi-word policy and roster names) */
  used: number;
}

function adhoc(name: string, steps: EscalationStep[]): PolicySnapshot {
  return { name, steps, repeat: ADHOC_REPEAT };
}

async function resolveTarget(ctx: HandlerContext, first: string, words: string[]): Promise<Target> {
  // @member or a platform mention
  if (first.startsWith('@') || first.startsWith('<@')) {
    const ref = parseMemberRef(first);
    const m = ref ? await ctx.store.members.resolve(ref) : null;
    if (!m) throw new CommandError('UNKNOWN_TARGET', `No member ${ref ? describeRef(ref) : first.slice(0, 40)}. Check /duty member list.`, { target: 'unknown member' });
    return { policyId: null, policy: adhoc(`@${m.handle}`, [{ targets: [{ kind: 'member', memberId: m.id }], delayMs: ADHOC_DELAY_MS }]), label: `${m.displayName} (@${m.handle})`, used: 0 };
  }
  if (/^role\s*:/i.test(first)) {
    const t = parseTarget(first);
    if (!t.ok || t.target.kind !== 'role') throw new CommandError('UNKNOWN_TARGET', t.ok ? `"${first.slice(0, 40)}" is not a role` : t.error, { target: 'unknown role' });
    const role = t.target.role;
    return { policyId: null, policy: adhoc(`role:${role}`, [{ targets: [{ kind: 'role', role }], delayMs: ADHOC_DELAY_MS }]), label: `every ${role}`, used: 0 };
  }
  // A policy or roster name, possibly of several words: the longest that matches.
  const rosterOnly = /^roster\s*:/i.test(first);
  const all = [first.replace(/^roster\s*:\s*/i, ''), ...words].filter(Boolean);
  const [policies, rosters] = await Promise.all([ctx.store.pages.policies(), ctx.store.rosters.list()]);
  for (let k = Math.min(all.length, 6); k >= 1; k--) {
    const candidate = all.slice(0, k).join(' ').toLowerCase();
    const used = k - 1 - (all.length - words.length - 1);
    const policy = rosterOnly ? undefined : policies.find((p) => p.name.toLowerCase() === candidate);
    if (policy) return { policyId: policy.id, policy: { name: policy.name, steps: policy.steps, repeat: policy.repeat }, label: policy.name, used };
    const roster = rosters.find((r) => r.name.toLowerCase() === candidate);
    if (roster) {
      return {
        policyId: null,
        policy: adhoc(`roster ${roster.name}`, [
          { targets: [{ kind: 'roster', rosterId: roster.id, layer: 'primary' }], delayMs: ADHOC_DELAY_MS },
          { targets: [{ kind: 'roster', rosterId: roster.id, layer: 'backup' }], delayMs: ADHOC_DELAY_MS },
        ]),
        label: `whoever is on duty on ${roster.name}`,
        used,
      };
    }
  }
  const known = [...policies.map((p) => `"${p.name}"`), ...rosters.map((r) => `roster:"${r.name}"`)];
  throw new CommandError(
    'UNKNOWN_TARGET',
    `"${first.slice(0, 40)}" is not a member, policy or roster. Page @member, a policy (${known.slice(0, 8).join(', ') || 'none yet'}), roster:<name> or role:leader.`,
    { target: 'unknown target' },
  );
}

const pageNumber = z
  .string({ error: 'which page? e.g. /page ack 42' })
  .trim()
  .regex(/^#?\d{1,9}$/, { error: 'a page number, e.g. 42' })
  .transform((s) => Number(s.replace('#', '')));

function respondReply(r: RespondResult, done: string): MessageReply {
  if (r.ok) return message({ title: `Page #${r.page.number} ${done}`, text: `${r.page.title}\nEscalation has stopped.` });
  return failure(r.error.code, r.error.message);
}

function actorOf(ctx: HandlerContext): Member {
  if (!ctx.actor) throw new CommandError('NOT_REGISTERED', 'You are not registered with Duty Desk.');
  return ctx.actor;
}

export const pageCommand = defineCommand({
  key: 'page',
  summary: 'page a member, a policy or a roster, with escalation until someone acknowledges',
  usage: '/page <@member|policy|roster> <message> [severity=critical|high|normal] [details=…] [dedup=…]',
  allowed: 'any-member',
  positional: ['target'],
  rest: 'message',
  form: {
    title: 'Page someone',
    submitLabel: 'Page',
    fields: [
      { name: 'target', label: 'Whom', type: 'text', required: true, placeholder: '@alee, Duty officer, Leadership, roster:Consular', maxLength: 100 },
      { name: 'message', label: 'What is happening', type: 'text', required: true, maxLength: MAX_TITLE },
      { name: 'details', label: 'Details', type: 'longText', required: false, maxLength: 2000 },
      { name: 'severity', label: 'Severity', type: 'select', required: false, options: SEVERITIES.map((s) => ({ value: s, label: s })) },
    ],
  },
  input: z.strictObject({
    target: z.string({ error: 'whom to page: @member, a policy or a roster' }).trim().min(1, { error: 'whom to page: @member, a policy or a roster' }).max(100),
    message: z.string({ error: 'say what is happening, e.g. /page @alee Citizen arrested at the airport' }).trim().max(2000, { error: 'at most 2000 characters; put the rest in details=' }).optional(),
    details: z.string().trim().max(2000, { error: 'details are at most 2000 characters' }).optional(),
    severity: severitySchema.optional(),
    dedup: dedupKeySchema.optional(),
  }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    // "/page policy frob": a mistyped policy command, not a page to someone called "policy".
    if (input.target.toLowerCase() === 'policy') {
      const usages = ctx.available.filter((c) => c.key.startsWith('page policy ')).map((c) => c.usage);
      throw new CommandError('UNKNOWN_COMMAND', `There is no such /page policy command. Did you mean one of these?\n${usages.join('\n')}`);
    }
    const words = (input.message ?? '').split(/\s+/).filter(Boolean);
    const target = await resolveTarget(ctx, input.target, words);
    const text = words.slice(target.used).join(' ').trim();
    if (!text) throw new CommandError('EMPTY_MESSAGE', 'Say what is happening: /page <whom> <message>, e.g. /page Duty officer Citizen arrested at the airport.', { message: 'say what is happening' });
    const title = text.length > MAX_TITLE ? `${text.slice(0, MAX_TITLE - 1)}…` : text;
    const details = [text.length > MAX_TITLE ? text : null, input.details].filter(Boolean).join('\n\n') || null;
    const severity: Severity = input.severity ?? 'high';
    const r = await triggerPage(
      ctx,
      ctx.meta,
      {
        title,
        details,
        severity,
        source: 'manual',
        dedupKey: input.dedup ?? null,
        policyId: target.policyId,
        policy: target.policy,
        target: target.label,
        raisedById: actor.id,
        raisedByName: actor.displayName,
        channel: channelOf(ctx.caller, ctx.origin),
      },
      ctx.now,
    );
    if (r.merged) {
      return message({ title: `Added to open page #${r.page.number}`, text: `An open page has the same dedup key; nobody is paged again (${r.page.triggerCount} triggers).\n${r.page.title}`, buttons: [{ label: 'Show', command: `/page show ${r.page.number}` }] });
    }
    const first = r.page.policy.steps[0];
    return message({
      title: `Page #${r.page.number} raised`,
      text: `Paging ${target.label} (${stepsSummary(r.page)}${first ? `; the next step after ${formatDuration(first.delayMs)} unless acknowledged` : ''}).`,
      buttons: [{ label: 'Show', command: `/page show ${r.page.number}` }, { label: 'Resolve', command: `/page resolve ${r.page.number}` }],
    });
  },
});

export const pageAckCommand = defineCommand({
  key: 'page ack',
  summary: 'acknowledge a page: you are on it, escalation stops',
  usage: '/page ack <number>',
  allowed: 'any-member',
  positional: ['page'],
  input: z.strictObject({ page: pageNumber }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    return respondReply(await respondToPage(ctx, ctx.meta, input.page, { id: actor.id, name: actor.displayName }, { kind: 'ack' }, ctx.now), 'acknowledged');
  },
});

export const pageResolveCommand = defineCommand({
  key: 'page resolve',
  summary: 'resolve a page (with an optional note)',
  usage: '/page resolve <number> [note]',
  allowed: 'any-member',
  positional: ['page'],
  rest: 'note',
  input: z.strictObject({ page: pageNumber, note: z.string().trim().max(MAX_RESOLUTION_NOTE, { error: `a note is at most ${MAX_RESOLUTION_NOTE} characters` }).optional() }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    return respondReply(await respondToPage(ctx, ctx.meta, input.page, { id: actor.id, name: actor.displayName }, { kind: 'resolve', note: input.note ?? null }, ctx.now), 'resolved');
  },
});

/** "ack 42" and "resolve 42" typed in a DM (or sent by SMS) do the same. */
export const ackAliasCommand = defineCommand({ ...pageAckCommand, key: 'ack', usage: 'ack <number>', hidden: true });
export const resolveAliasCommand = defineCommand({ ...pageResolveCommand, key: 'resolve', usage: 'resolve <number> [note]', hidden: true });

export const pageListCommand = defineCommand({
  key: 'page list',
  summary: 'open pages, yours, or all recent ones',
  usage: '/page list [open|mine|all]',
  allowed: 'any-member',
  positional: ['which'],
  input: z.strictObject({ which: z.enum(['open', 'mine', 'all'], { error: 'open, mine or all' }).default('open') }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const open = ['triggered', 'acknowledged'] as const;
    const pages = await ctx.store.pages.list({
      ...(input.which === 'all' ? {} : { status: [...open] }),
      ...(input.which === 'mine' ? { memberId: actor.id } : {}),
      limit: 25,
    });
    if (!pages.length) return message({ title: 'Pages', text: input.which === 'all' ? 'No pages yet.' : input.which === 'mine' ? 'No open pages involve you.' : 'No open pages.' });
    const names = await MemberNames.load(ctx.store);
    const tz = viewerZone(ctx);
    return message({ title: `Pages (${input.which})`, rows: pages.map((p) => pageRow(p, names, tz)) });
  },
});

export const pageShowCommand = defineCommand({
  key: 'page show',
  summary: 'a page with who was notified, how, and its timeline',
  usage: '/page show <number>',
  allowed: 'any-member',
  positional: ['page'],
  input: z.strictObject({ page: pageNumber }),
  async run(ctx, input) {
    const page = await ctx.store.pages.pageByNumber(input.page);
    if (!page) throw new CommandError('UNKNOWN_PAGE', `There is no page #${input.page}.`);
    const [names, events, notifications] = await Promise.all([MemberNames.load(ctx.store), ctx.store.pages.events(page.id, 60), ctx.store.pages.notifications(page.id)]);
    const tz = viewerZone(ctx);
    const base = pageMessage(page, names, tz);
    return message({
      ...base,
      visibility: 'caller',
      rows: [
        ...(notifications.length ? [{ text: `*Notifications*\n${notifications.slice(-30).map((n) => notificationLine(n, names, tz)).join('\n')}` }] : []),
        { text: `*Timeline*\n${timelineLines(events, tz).join('\n')}` },
      ],
    });
  },
});

export const pageCommands = [pageCommand, pageAckCommand, pageResolveCommand, pageListCommand, pageShowCommand, ackAliasCommand, resolveAliasCommand];
