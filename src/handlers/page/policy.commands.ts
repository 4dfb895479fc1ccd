// Escalation policies: who is paged, in what order, how long apart, how many passes.
// /page policy new|edit|list|show|remove.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod/v4';
import {
  escalationEndsAt,
  formatDuration,
  formatSteps,
  formatTargetRef,
  passLength,
  policyNameSchema,
  referencesOf,
  repeatSchema,
  resolveSteps,
  stepsSchema,
  targetRefKey,
  unresolveSteps,
  type DraftStep,
  type EscalationStep,
} from '../../domain/escalation';
import type { MemberRef } from '../../domain/member';
import { message, type FormField, type ReplyField } from '../../domain/reply';
import type { PolicyRecord } from '../../store/page.repository';
import type { Store } from '../../store/store';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { lockPolicyNames } from './default-policies';

const STEPS_HELP =
  'Steps separated by ";", each: whom to notify (joined with +) and how long to wait before the next step. ' +
  'Targets: roster:<name>[/primary|/backup|/both], @handle, role:<officer|crisis|leader|admin>. ' +
  'E.g. roster:Consular duty/primary 5m; roster:Consular duty/backup 5m; role:leader';

const fields: FormField[] = [
  { name: 'name', label: 'Policy name', type: 'text', required: true, maxLength: 40, placeholder: 'Duty officer' },
  { name: 'steps', label: 'Steps', type: 'longText', required: true, help: STEPS_HELP, placeholder: 'roster:Consular duty/primary 5m; role:leader', maxLength: 2000 },
  { name: 'repeat', label: 'Repeat', type: 'number', required: false, placeholder: '0', help: 'How many more times to run all the steps when nobody acknowledges (0 to 9)' },
];
const editFields = fields.map((f) => ({ ...f, required: false }));

const policyRef = z.string({ error: 'name the policy, e.g. Leadership' }).trim().min(1, { error: 'name the policy, e.g. Leadership' }).max(80, { error: 'not a policy name: too long' });

/** Typed targets → ids; every unknown member or roster is reported in one message, on the steps field. */
async function resolveDraft(ctx: HandlerContext, draft: DraftStep[]): Promise<EscalationStep[]> {
  const refs = referencesOf(draft);
  const keyOf = (ref: MemberRef): string => targetRefKey({ kind: 'memberRef', ref });
  const members = new Map<string, string | null>();
  for (const ref of refs.members) members.set(keyOf(ref), (await ctx.store.members.resolve(ref))?.id ?? null);
  const rosters = new Map<string, string | null>();
  for (const name of refs.rosters) rosters.set(name.toLowerCase(), (await ctx.store.rosters.byName(name))?.id ?? null);
  const r = resolveSteps(draft, {
    member: (ref) => members.get(keyOf(ref)) ?? null,
    roster: (name) => rosters.get(name.toLowerCase()) ?? null,
  });
  if (!r.ok) {
    const all = r.errors.join(' ');
    throw new CommandError('UNKNOWN_TARGET', `steps: ${all}`, { steps: all });
  }
  return r.steps;
}

/** Member handles and roster names for writing stored steps back as people type them. */
class TargetTexts {
  private constructor(
    private readonly members: Map<string, { handle: string; removed: boolean }>,
    private readonly rosters: Map<string, string>,
  ) {}

  static async load(store: Store): Promise<TargetTexts> {
    const members = new Map((await store.members.directory()).map((m) => [m.id, { handle: m.handle, removed: m.removedAt !== null }]));
    return new TargetTexts(members, new Map((await store.rosters.list()).map((r) => [r.id, r.name])));
  }

  drafts(p: PolicyRecord): DraftStep[] {
    return unresolveSteps(p.steps, {
      memberHandle: (id) => this.members.get(id)?.handle ?? `unknown-${id.slice(0, 8)}`,
      rosterName: (id) => this.rosters.get(id) ?? `removed roster ${id.slice(0, 8)}`,
    });
  }

  /** The steps as /page policy new reads them. */
  steps(p: PolicyRecord): string {
    return formatSteps(this.drafts(p));
  }

  /** Targets that no longer page anyone: removed members and rosters. */
  stale(p: PolicyRecord): string[] {
    const out = new Set<string>();
    for (const s of p.steps) {
      for (const t of s.targets) {
        if (t.kind === 'member' && this.members.get(t.memberId)?.removed !== false) out.add(`@${this.members.get(t.memberId)?.handle ?? 'unknown'} (removed)`);
        if (t.kind === 'roster' && !this.rosters.has(t.rosterId)) out.add('a removed roster');
      }
    }
    return [...out];
  }
}

function repeatLabel(n: number): string {
  return n === 0 ? 'no repeat' : `repeat ${n}`;
}

function policyFields(p: PolicyRecord, names: TargetTexts): ReplyField[] {
  const pass = passLength(p);
  const stale = names.stale(p);
  return [
    { label: 'Steps', value: names.steps(p) },
    { label: 'Repeat', value: p.repeat === 0 ? 'none: one pass' : `${p.repeat} more ${p.repeat === 1 ? 'pass' : 'passes'} when nobody acknowledges` },
    { label: 'Length', value: `one pass ${formatDuration(pass)}; escalation ends after ${formatDuration(escalationEndsAt(p, 0))} if nobody acknowledges` },
    ...(p.builtIn ? [{ label: 'Built in', value: 'yes: it can be edited but not removed' }] : []),
    ...(stale.length ? [{ label: 'Attention', value: `no longer pages ${stale.join(', ')}; edit its steps` }] : []),
  ];
}

async function findPolicy(ctx: HandlerContext, name: string, field: string): Promise<PolicyRecord> {
  const p = await ctx.store.pages.policyByName(name);
  if (p) return p;
  const all = await ctx.store.pages.policies();
  throw new CommandError('UNKNOWN_POLICY', `There is no policy "${name.slice(0, 40)}". Policies: ${all.map((x) => x.name).join(', ') || 'none yet (/page policy new)'}.`, {
    [field]: 'no such policy',
  });
}

function nameTaken(name: string): CommandError {
  return new CommandError('NAME_TAKEN', `There is already a policy named "${name}" (names are compared without regard to case); choose another name.`, { name: 'name taken' });
}

export const policyNewCommand = defineCommand({
  key: 'page policy new',
  summary: 'create an escalation policy (form, or fields inline)',
  usage: '/page policy new name="…" steps="roster:<name>/primary 5m; roster:<name>/backup 5m; role:leader" [repeat=2]',
  allowed: ['admin'],
  form: { title: 'New escalation policy', submitLabel: 'Create', fields },
  input: z.strictObject({ name: policyNameSchema, steps: stepsSchema, repeat: repeatSchema.optional() }),
  async run(ctx, input) {
    const steps = await resolveDraft(ctx, input.steps);
    const created = await ctx.store.change(ctx.meta, async (w) => {
      await lockPolicyNames(ctx.store, w.tx);
      if (await ctx.store.pages.policyByName(input.name, w.tx)) throw nameTaken(input.name);
      return ctx.store.pages.createPolicy(w, { name: input.name, steps, repeat: input.repeat ?? 0 });
    });
    return message({ title: `Policy "${created.name}" created`, fields: policyFields(created, await TargetTexts.load(ctx.store)) });
  },
});

const editShape = { name: policyNameSchema.optional(), steps: stepsSchema.optional(), repeat: repeatSchema.optional() };

export const policyEditCommand = defineCommand({
  key: 'page policy edit',
  summary: 'change an escalation policy (no fields: opens the form)',
  usage: '/page policy edit <policy> [name="…"] [steps="…"] [repeat=N]',
  allowed: ['admin'],
  // The new name is name=…; the policy being edited is the rest of the words.
  rest: 'policy',
  form: { title: 'Edit escalation policy', submitLabel: 'Save', fields: editFields },
  // The form needs the policy's current values, so the use case builds it (below).
  opensForm: () => false,
  input: z
    .strictObject({
      policy: policyRef.optional(),
      /** The policy id, carried by the form. */
      context: z.string().optional(),
      ...editShape,
    })
    .refine((v) => v.policy || v.context, { error: 'name the policy to edit, e.g. /page policy edit Leadership', path: ['policy'] }),
  async run(ctx, input) {
    const policy = input.context ? await ctx.store.pages.policyById(input.context) : await findPolicy(ctx, input.policy ?? '', 'policy');
    if (!policy || policy.archivedAt) throw new CommandError('UNKNOWN_POLICY', 'That policy no longer exists.');
    if (input.name === undefined && input.steps === undefined && input.repeat === undefined) {
      return {
        kind: 'form',
        form: {
          command: 'page policy edit',
          title: 'Edit escalation policy',
          submitLabel: 'Save',
          fields: editFields,
          context: policy.id,
          values: { name: policy.name, steps: (await TargetTexts.load(ctx.store)).steps(policy), repeat: String(policy.repeat) },
        },
      };
    }
    const steps = input.steps ? await resolveDraft(ctx, input.steps) : undefined;
    const after = await ctx.store.change(ctx.meta, async (w) => {
      await lockPolicyNames(ctx.store, w.tx);
      const current = await ctx.store.pages.policyById(policy.id, w.tx);
      if (!current || current.archivedAt) throw new CommandError('UNKNOWN_POLICY', 'That policy was removed a moment ago.');
      if (input.name !== undefined && input.name.toLowerCase() !== current.name.toLowerCase()) {
        const other = await ctx.store.pages.policyByName(input.name, w.tx);
        if (other && other.id !== current.id) throw nameTaken(input.name);
      }
      const patch = {
        ...(input.name !== undefined && input.name !== current.name ? { name: input.name } : {}),
        ...(steps !== undefined && !isDeepStrictEqual(steps, current.steps) ? { steps } : {}),
        ...(input.repeat !== undefined && input.repeat !== current.repeat ? { repeat: input.repeat } : {}),
      };
      // A form saved as it opened changes nothing, and writes nothing.
      if (Object.keys(patch).length === 0) return null;
      return ctx.store.pages.updatePolicy(w, current, patch);
    });
    const shown = after ?? policy;
    return message({
      title: after ? `Policy "${shown.name}" updated` : `Policy "${shown.name}" unchanged`,
      text: after ? 'Pages already running keep the policy as it was when they started.' : 'Nothing changed: that is what it says already.',
      fields: policyFields(shown, await TargetTexts.load(ctx.store)),
    });
  },
});

export const policyListCommand = defineCommand({
  key: 'page policy list',
  summary: 'all escalation policies',
  usage: '/page policy list',
  allowed: 'any-member',
  input: z.strictObject({}),
  async run(ctx) {
    const policies = await ctx.store.pages.policies();
    const names = await TargetTexts.load(ctx.store);
    const rows = policies.map((p) => ({ text: `*${p.name}*${p.builtIn ? ' (built-in)' : ''}: ${names.steps(p)} — ${repeatLabel(p.repeat)}` }));
    return message({
      title: `Escalation policies (${policies.length})`,
      text: policies.length ? undefined : 'None yet. An admin creates one with /page policy new.',
      rows,
      fallback: rows.map((r) => r.text.replace(/\*/g, '')).join('\n') || 'No escalation policies yet.',
    });
  },
});

export const policyShowCommand = defineCommand({
  key: 'page policy show',
  summary: 'one escalation policy, step by step',
  usage: '/page policy show <policy>',
  allowed: 'any-member',
  rest: 'name',
  input: z.strictObject({ name: policyRef }),
  async run(ctx, input) {
    const p = await findPolicy(ctx, input.name, 'name');
    const names = await TargetTexts.load(ctx.store);
    const drafts = names.drafts(p);
    const last = drafts.length - 1;
    return message({
      title: `Policy "${p.name}"${p.builtIn ? ' (built-in)' : ''}`,
      rows: drafts.map((s, i) => {
        const then = i < last ? `then ${formatDuration(s.delayMs)} to the next step` : p.repeat ? `then ${formatDuration(s.delayMs)} before starting again` : `escalation ends ${formatDuration(s.delayMs)} later`;
        return { text: `${i + 1}. ${s.targets.map(formatTargetRef).join(' + ')} — ${then}` };
      }),
      fields: policyFields(p, names),
    });
  },
});

export const policyRemoveCommand = defineCommand({
  key: 'page policy remove',
  summary: 'remove an escalation policy (pages already raised keep it)',
  usage: '/page policy remove <policy>',
  allowed: ['admin'],
  rest: 'name',
  input: z.strictObject({ name: policyRef }),
  async run(ctx, input) {
    const p = await findPolicy(ctx, input.name, 'name');
    if (p.builtIn) {
      throw new CommandError('BUILT_IN', `"${p.name}" is built in and cannot be removed; change it instead with /page policy edit ${p.name}.`, { name: 'built-in policy' });
    }
    await ctx.store.change(ctx.meta, async (w) => {
      const current = await ctx.store.pages.policyById(p.id, w.tx);
      if (!current || current.archivedAt) throw new CommandError('UNKNOWN_POLICY', `"${p.name}" was removed a moment ago.`, { name: 'no such policy' });
      await ctx.store.pages.archivePolicy(w, current, ctx.now);
    });
    return message({ text: `Removed the policy "${p.name}". Pages already raised with it keep it until they are resolved.` });
  },
});
