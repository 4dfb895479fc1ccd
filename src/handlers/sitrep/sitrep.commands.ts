// /sitrep: draft a situation report from live data, edit it, publish it once to the leadership
// channel and subscribed leaders; history, show, export; the cadence and late policy; subscriptions.
import { z } from 'zod/v4';
import { parseMemberRef } from '../../domain/member';
import { failure, message, type FormField, type MessageReply, type Reply, type ReplyButton } from '../../domain/reply';
import {
  formatCadence,
  formatSitrepItems,
  formatSitrepTime,
  LATE_POLICY_LABELS,
  nextSitrepDue,
  parseCadence,
  parseCaseRefs,
  parseLatePolicy,
  sitrepActionsSchema,
  sitrepIncidentsSchema,
  sitrepNeedsSchema,
  MAX_SITREP_TEXT,
  withNamedCases,
  type SitrepCase,
} from '../../domain/sitrep';
import { CATEGORY_LABELS } from '../../domain/case';
import type { CrisisRecord } from '../../store/crisis.repository';
import { ALL_CRISES, type SitrepRecord } from '../../store/sitrep.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { actorOf, crisisCodeInput, crisisFor } from '../crisis/crisis-access';
import { viewerZone, when } from '../roster/roster-common';
import { chartPoints, sitrepChart, sitrepDraft, sitrepMarkdown, sitrepMessage, sitrepPdf } from './sitrep-view';
import { cadenceOf, CHART_HISTORY, currentDraft, latePolicyOf, planNext, publishedChart, publishSitrep, SITREP_ROLES, type SitrepDeps } from './sitrep.service';

const HISTORY_LIMIT = CHART_HISTORY;

function deps(ctx: HandlerContext): SitrepDeps {
  return { store: ctx.store, outbox: ctx.outbox, missionTimeZone: ctx.settings.missionTimeZone, channels: ctx.channels };
}

/** Mission time: a SITREP reads the same for everyone who gets it. */
function zone(ctx: HandlerContext): string {
  return ctx.settings.missionTimeZone;
}

/** The number the draft will get: one after the newest published. */
async function upcomingNumber(ctx: HandlerContext, crisis: CrisisRecord): Promise<number> {
  return ((await ctx.store.sitreps.latest(crisis.id))?.number ?? 0) + 1;
}

function draftButtons(crisis: CrisisRecord, d: SitrepRecord): ReplyButton[] {
  const at = `draft=${d.id} version=${d.version}`;
  return [
    {
      label: 'Publish',
      command: `/sitrep publish ${crisis.code} ${at}`,
      style: 'primary',
      confirm: { title: 'Publish this SITREP?', text: `It goes to the leadership channel${crisis.leadershipChannel ? '' : ' (none set yet)'} and to subscribed leaders, with the figures as of publishing.`, confirm: 'Publish', deny: 'Not yet' },
    },
    { label: 'Edit', command: `/sitrep edit ${crisis.code}` },
    { label: 'Discard', command: `/sitrep discard ${crisis.code} ${at}`, style: 'danger', confirm: { title: 'Discard this draft?', text: 'What you wrote in it is lost.', confirm: 'Discard', deny: 'Keep' } },
  ];
}

/**
 * The draft as the lead sees it before publishing, with the chart unless `chart: false` (a stored
 * message carries no files). Privately: a named case may be in it.
 */
export async function draftPreview(ctx: Pick<HandlerContext, 'store' | 'settings'>, crisis: CrisisRecord, d: SitrepRecord, note?: string, opts: { chart?: boolean } = {}): Promise<MessageReply> {
  const tz = ctx.settings.missionTimeZone;
  const [previous, history] = await Promise.all([ctx.store.sitreps.latest(crisis.id), ctx.store.sitreps.published(crisis.id, HISTORY_LIMIT)]);
  const number = (previous?.number ?? 0) + 1;
  const nextAt = nextSitrepDue(cadenceOf(crisis), d.asOf.getTime(), d.asOf.getTime(), tz);
  const doc = sitrepDraft(crisis, { ...d, nextAt: nextAt === null ? null : new Date(nextAt) }, previous, tz, number);
  const attachments = opts.chart === false ? [] : [await sitrepChart(crisis.code, chartPoints(history, d, tz))];
  const reply = sitrepMessage(doc, { draft: true, buttons: draftButtons(crisis, d), attachments, visibility: d.namedCases.length ? 'direct' : 'caller' });
  return note ? { ...reply, text: `${note}\n${reply.text ?? ''}` } : reply;
}

async function publishedReply(ctx: HandlerContext, crisis: CrisisRecord, s: SitrepRecord, opts: { buttons?: ReplyButton[]; text?: string } = {}): Promise<MessageReply> {
  const tz = zone(ctx);
  const number = s.number ?? 0;
  const [previous, chart] = await Promise.all([number > 1 ? ctx.store.sitreps.byNumber(crisis.id, number - 1) : Promise.resolve(null), publishedChart(ctx.store, crisis, s, tz)]);
  const doc = sitrepDraft(crisis, s, previous, tz, number);
  const reply = sitrepMessage(doc, { attachments: [chart], visibility: s.namedCases.length ? 'direct' : 'caller', ...(opts.buttons ? { buttons: opts.buttons } : {}) });
  return opts.text ? { ...reply, text: `${opts.text}\n${reply.text ?? ''}` } : reply;
}

export const sitrepDraftCommand = defineCommand({
  key: 'sitrep',
  summary: 'draft the next situation report from live figures (preview, then edit or publish)',
  usage: '/sitrep <crisis>',
  allowed: SITREP_ROLES,
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis, { active: true });
    const d = await currentDraft(deps(ctx), crisis, actorOf(ctx).id, ctx.now);
    return draftPreview(ctx, crisis, d);
  },
});

const editFields: FormField[] = [
  { name: 'incidents', label: 'Key incidents', type: 'longText', required: false, help: 'One per line. Counts and case references; names only if you mean to broadcast them.', maxLength: MAX_SITREP_TEXT },
  { name: 'actions', label: 'Actions', type: 'longText', required: false, help: 'Movements, key cases by reference, what the cell is doing. One per line.', maxLength: MAX_SITREP_TEXT },
  { name: 'needs', label: 'Needs', type: 'longText', required: false, help: 'What the cell needs from headquarters. One per line.', maxLength: MAX_SITREP_TEXT },
  { name: 'named', label: 'Cases to name', type: 'text', required: false, help: 'Case references whose subject may be named in this broadcast, e.g. C-2026-00042. Leave empty to name nobody.', maxLength: 200 },
  { name: 'publish', label: 'Publish now', type: 'checkbox', required: false, help: 'Unticked: the draft is saved for later.' },
];

const editInput = z
  .strictObject({
    crisis: crisisCodeInput.optional(),
    /** "<draft id>:<version>", carried by the form. */
    context: z.string().max(200).optional(),
    incidents: sitrepIncidentsSchema.optional(),
    actions: sitrepActionsSchema.optional(),
    needs: sitrepNeedsSchema.optional(),
    named: z.string().max(200).optional(),
    publish: z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no'])], { error: 'publish is yes or no' }).optional(),
  })
  .refine((v) => v.crisis || v.context, { error: 'which crisis? e.g. /sitrep edit NPL-EQ', path: ['crisis'] });

function truthy(v: boolean | string | undefined): boolean {
  return v === true || v === 'true' || v === 'yes';
}

export const sitrepEditCommand = defineCommand({
  key: 'sitrep edit',
  summary: 'edit the draft: key incidents, actions, needs, cases to name (no fields: opens the form)',
  usage: '/sitrep edit <crisis> [incidents="…"] [actions="…"] [needs="…"] [named=C-2026-00042] [publish=yes]',
  allowed: SITREP_ROLES,
  positional: ['crisis'],
  form: { title: 'Edit the SITREP', submitLabel: 'Save', fields: editFields },
  // The form shows the draft as it is, so the use case builds it.
  opensForm: () => false,
  input: editInput,
  async run(ctx, input): Promise<Reply> {
    const fromForm = input.context !== undefined ? /^(.+):(\d+)$/.exec(input.context) : null;
    if (input.context !== undefined && !fromForm) throw new CommandError('INVALID_INPUT', 'That form is not a SITREP draft; run /sitrep edit again.');
    const draftRef = fromForm ? await ctx.store.sitreps.byId(fromForm[1] as string) : null;
    const crisisRecord = draftRef ? await ctx.store.crises.byId(draftRef.crisisId) : null;
    const crisis = await crisisFor(ctx, input.crisis ?? crisisRecord?.code ?? '??', { active: true });
    const d = draftRef && draftRef.crisisId === crisis.id ? draftRef : await currentDraft(deps(ctx), crisis, actorOf(ctx).id, ctx.now);
    const version = fromForm ? Number(fromForm[2]) : d.version;
    const edits = input.incidents !== undefined || input.actions !== undefined || input.needs !== undefined || input.named !== undefined;
    if (!edits && !truthy(input.publish)) {
      return {
        kind: 'form',
        form: {
          command: 'sitrep edit',
          title: `SITREP ${await upcomingNumber(ctx, crisis)} ${crisis.code}`.slice(0, 24),
          submitLabel: 'Save',
          fields: editFields,
          context: `${d.id}:${d.version}`,
          values: { incidents: formatSitrepItems(d.incidents), actions: formatSitrepItems(d.actions), needs: formatSitrepItems(d.needs), named: d.namedCases.join(' '), publish: false },
        },
      };
    }
    if (d.status !== 'draft') return failure('SITREP_CHANGED', d.status === 'published' ? `That draft was already published as SITREP ${d.number}; start the next with /sitrep ${crisis.code}.` : 'That draft was discarded; start another with /sitrep.');
    let named: string[] | undefined;
    let actions = input.actions;
    if (input.named !== undefined) {
      const refs = parseCaseRefs(input.named);
      if (!refs.ok) throw new CommandError('INVALID_INPUT', refs.error, { named: refs.error });
      const cases: SitrepCase[] = [];
      for (const ref of refs.value) {
        const c = await ctx.store.cases.byRef(ref);
        if (!c) throw new CommandError('UNKNOWN_CASE', `There is no case ${ref}.`, { named: `no case ${ref}` });
        cases.push({ ref: c.ref, category: c.category, priority: c.priority, status: c.status, subjectName: c.subjectName });
      }
      named = refs.value;
      actions = withNamedCases(actions ?? d.actions, cases, d.namedCases, CATEGORY_LABELS);
    }
    let saved = d;
    if (edits) {
      const patch = {
        ...(input.incidents !== undefined ? { incidents: input.incidents } : {}),
        ...(actions !== undefined ? { actions } : {}),
        ...(input.needs !== undefined ? { needs: input.needs } : {}),
        ...(named !== undefined ? { namedCases: named } : {}),
      };
      const after = await ctx.store.change(ctx.meta, async (w) => {
        const r = await ctx.store.sitreps.editDraft(w.tx, { id: d.id, version }, patch, ctx.now);
        if (r) await w.audit('sitrep', d.id, 'edit', { incidents: d.incidents, actions: d.actions, needs: d.needs, namedCases: d.namedCases }, patch);
        return r;
      });
      if (!after) {
        const current = (await ctx.store.sitreps.byId(d.id)) ?? d;
        return { ...(await draftPreview(ctx, crisis, current, 'Someone edited the draft since you opened it; your changes were not saved. Here it is now.')), ok: false, error: { code: 'SITREP_CHANGED', message: 'The draft was edited since you opened it.' } };
      }
      saved = after;
    }
    if (truthy(input.publish)) return publishReply(ctx, crisis, saved.id, saved.version);
    return draftPreview(ctx, crisis, saved, 'Draft saved.');
  },
});

async function publishReply(ctx: HandlerContext, crisis: CrisisRecord, draftId: string, version: number): Promise<Reply> {
  const actor = actorOf(ctx);
  const r = await publishSitrep(deps(ctx), crisis, draftId, version, { memberId: actor.id, meta: ctx.meta, automatic: false }, ctx.now);
  if (!r.ok) {
    if (r.draft && r.draft.status === 'draft') {
      return { ...(await draftPreview(ctx, crisis, r.draft, r.message)), ok: false, error: { code: r.code, message: r.message } };
    }
    return failure(r.code, r.message);
  }
  const where = [crisis.leadershipChannel, 'subscribed leaders by direct message'].filter(Boolean).join(' and ');
  const text = r.already ? `SITREP ${r.sitrep.number} was already published; it was not sent again.` : `Published SITREP ${r.sitrep.number}: it goes to ${where}.${ctx.channels ? '' : ' (From the console: the server sends it.)'}`;
  return publishedReply(ctx, crisis, r.sitrep, { text });
}

export const sitrepPublishCommand = defineCommand({
  key: 'sitrep publish',
  summary: 'publish the draft to the leadership channel and subscribed leaders (once)',
  usage: '/sitrep publish <crisis> [draft=<id> version=<n>]',
  allowed: SITREP_ROLES,
  positional: ['crisis'],
  input: z.strictObject({
    crisis: crisisCodeInput,
    draft: z.string().max(100).optional(),
    version: z.coerce.number({ error: 'a version number' }).int({ error: 'a version number' }).positive({ error: 'a version number' }).optional(),
  }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    if (input.draft !== undefined && input.version !== undefined) return publishReply(ctx, crisis, input.draft, input.version);
    // Typed without a draft: publish the current draft as it stands (one is drafted if none).
    const d = await currentDraft(deps(ctx), crisis, actorOf(ctx).id, ctx.now);
    return publishReply(ctx, crisis, d.id, d.version);
  },
});

export const sitrepDiscardCommand = defineCommand({
  key: 'sitrep discard',
  summary: 'throw away the current draft',
  usage: '/sitrep discard <crisis>',
  allowed: SITREP_ROLES,
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput, draft: z.string().max(100).optional(), version: z.coerce.number({ error: 'a version number' }).int({ error: 'a version number' }).positive({ error: 'a version number' }).optional() }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const d = input.draft ? await ctx.store.sitreps.byId(input.draft) : await ctx.store.sitreps.draftOf(crisis.id);
    if (!d || d.crisisId !== crisis.id || d.status !== 'draft') return failure('NO_DRAFT', `${crisis.code} has no SITREP draft to discard.`);
    const ok = await ctx.store.change(ctx.meta, async (w) => {
      const done = await ctx.store.sitreps.discard(w.tx, { id: d.id, version: input.version ?? d.version });
      if (done) await w.audit('sitrep', d.id, 'discard', null, null);
      return done;
    });
    if (!ok) return failure('SITREP_CHANGED', 'The draft was edited or published meanwhile; nothing was discarded.');
    return message({ text: `Discarded the ${crisis.code} SITREP draft.` });
  },
});

export const sitrepHistoryCommand = defineCommand({
  key: 'sitrep history',
  summary: 'the SITREPs published for a crisis, newest first',
  usage: '/sitrep history <crisis>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const [list, total, draft] = await Promise.all([ctx.store.sitreps.published(crisis.id, HISTORY_LIMIT), ctx.store.sitreps.publishedCount(crisis.id), ctx.store.sitreps.draftOf(crisis.id)]);
    const tz = viewerZone(ctx);
    const members = new Map<string, string>();
    for (const id of new Set(list.map((s) => s.publishedById).filter((x): x is string => x !== null))) {
      const m = await ctx.store.members.byId(id);
      if (m) members.set(id, `@${m.handle}`);
    }
    const rows = list.map((s) => {
      const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
      const by = s.automatic ? 'automatic draft' : s.publishedById ? (members.get(s.publishedById) ?? 'a former member') : 'the system';
      return { text: `*SITREP ${s.number}* · ${when((s.publishedAt ?? s.asOf).getTime(), tz)} · ${by} · ${total} people, ${s.counts.unaccounted ?? 0} unaccounted`, buttons: [{ label: 'Show', command: `/sitrep show ${crisis.code} ${s.number}` }] };
    });
    const next = crisis.sitrepDueAt ? `Next due ${when(crisis.sitrepDueAt.getTime(), tz)} (${formatCadence(cadenceOf(crisis))}).` : `No cadence set (/sitrep schedule ${crisis.code} cadence="every 6h").`;
    return message({
      title: `${crisis.code} SITREPs`,
      text: `${total ? `${total} published${total > list.length ? `; the newest ${list.length} shown` : ''}.` : 'None published yet.'}${draft ? ' A draft is open.' : ''} ${next}`,
      rows,
    });
  },
});

const numberInput = z.coerce.number({ error: 'a SITREP number, e.g. 3' }).int({ error: 'a SITREP number, e.g. 3' }).positive({ error: 'SITREP numbers start at 1' }).max(1_000_000, { error: 'a SITREP number, e.g. 3' });

async function byNumber(ctx: HandlerContext, crisis: CrisisRecord, n: number): Promise<SitrepRecord> {
  const s = await ctx.store.sitreps.byNumber(crisis.id, n);
  if (!s) {
    const latest = await ctx.store.sitreps.latest(crisis.id);
    throw new CommandError('UNKNOWN_SITREP', `${crisis.code} has no SITREP ${n}; ${latest ? `they run from 1 to ${latest.number}` : 'none has been published yet'}.`, { number: 'no such SITREP' });
  }
  return s;
}

export const sitrepShowCommand = defineCommand({
  key: 'sitrep show',
  summary: 'one published SITREP',
  usage: '/sitrep show <crisis> <number>',
  allowed: 'any-member',
  positional: ['crisis', 'number'],
  input: z.strictObject({ crisis: crisisCodeInput, number: numberInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const s = await byNumber(ctx, crisis, input.number);
    return publishedReply(ctx, crisis, s, {
      buttons: [
        { label: 'Export PDF', command: `/sitrep export ${crisis.code} ${s.number} pdf` },
        { label: 'Export Markdown', command: `/sitrep export ${crisis.code} ${s.number} md` },
      ],
    });
  },
});

export const sitrepExportCommand = defineCommand({
  key: 'sitrep export',
  summary: 'a published SITREP as a document for headquarters: md or pdf',
  usage: '/sitrep export <crisis> <number> md|pdf',
  allowed: 'any-member',
  positional: ['crisis', 'number', 'format'],
  input: z.strictObject({
    crisis: crisisCodeInput,
    number: numberInput,
    format: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase().replace(/^\./, '').replace(/^markdown$/, 'md') : v), z.enum(['md', 'pdf'], { error: 'the format is md or pdf' })).default('pdf'),
  }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const s = await byNumber(ctx, crisis, input.number);
    const tz = zone(ctx);
    const previous = (s.number ?? 0) > 1 ? await ctx.store.sitreps.byNumber(crisis.id, (s.number ?? 0) - 1) : null;
    const doc = sitrepDraft(crisis, s, previous, tz, s.number ?? 0);
    const base = `sitrep-${crisis.code.toLowerCase()}-${s.number}`;
    let attachment;
    if (input.format === 'md') {
      attachment = { filename: `${base}.md`, mimeType: 'text/markdown', content: sitrepMarkdown(doc), title: `SITREP ${s.number} ${crisis.code} (Markdown)`, altText: 'The SITREP as a Markdown document.' };
    } else {
      const chart = await publishedChart(ctx.store, crisis, s, tz);
      attachment = { filename: `${base}.pdf`, mimeType: 'application/pdf', content: await sitrepPdf(doc, chart, s.publishedAt ?? s.asOf), title: `SITREP ${s.number} ${crisis.code} (PDF)`, altText: 'The SITREP as a PDF document, with its chart.' };
    }
    return message({ text: `SITREP ${s.number} of ${crisis.code}, as ${input.format === 'md' ? 'Markdown' : 'PDF'}: ${formatSitrepTime(s.asOf.getTime(), tz)}.`, attachments: [attachment], visibility: s.namedCases.length ? 'direct' : 'caller' });
  },
});

export const sitrepScheduleCommand = defineCommand({
  key: 'sitrep schedule',
  summary: 'the cadence, what happens when one is late, and who leads (no options: shows them)',
  usage: '/sitrep schedule <crisis> [cadence="every 6h"|"daily 08:00"|"twice daily 08:00 20:00"|none] [late=remind|publish-draft] [lead=@member]',
  allowed: SITREP_ROLES,
  positional: ['crisis'],
  input: z.strictObject({
    crisis: crisisCodeInput,
    cadence: z.string().max(100).optional(),
    late: z.string().max(60).optional(),
    lead: z.string().max(100).optional(),
  }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const errors: Record<string, string> = {};
    const cadence = input.cadence !== undefined ? parseCadence(input.cadence) : null;
    if (cadence && !cadence.ok) errors.cadence = cadence.error;
    const late = input.late !== undefined ? parseLatePolicy(input.late) : undefined;
    if (late === null) errors.late = `"${input.late?.slice(0, 40)}" is not a late policy; write remind or publish-draft`;
    let leadId: string | undefined;
    if (input.lead !== undefined) {
      const ref = parseMemberRef(input.lead);
      const m = ref ? await ctx.store.members.resolve(ref) : null;
      if (!m || m.removedAt) errors.lead = `no member ${input.lead.slice(0, 40)}`;
      else if (!m.roles.some((r) => SITREP_ROLES.includes(r))) errors.lead = `@${m.handle} cannot publish SITREPs: give them the crisis or leader role first`;
      else leadId = m.id;
    }
    if (Object.keys(errors).length) {
      throw new CommandError('INVALID_INPUT', Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; '), errors);
    }
    let current = crisis;
    if (cadence?.ok || late || leadId) {
      if (crisis.status !== 'active' && cadence?.ok && cadence.value.kind !== 'none') throw new CommandError('NOT_ACTIVE', `Crisis ${crisis.code} was stood down; reopen it before scheduling SITREPs.`);
      const saved = await ctx.store.change(ctx.meta, async (w) => {
        const patch = {
          ...(cadence?.ok ? { sitrepCadence: formatCadence(cadence.value) } : {}),
          ...(late ? { sitrepLatePolicy: late } : {}),
          ...(leadId ? { leadId } : {}),
        };
        const after = await ctx.store.crises.save(w.tx, crisis, patch);
        if (!after) throw new CommandError('CRISIS_CHANGED', `Someone changed ${crisis.code} at the same moment; nothing was saved. Try again.`);
        await w.audit('crisis', crisis.id, 'sitrep.schedule', { sitrepCadence: crisis.sitrepCadence, sitrepLatePolicy: crisis.sitrepLatePolicy, leadId: crisis.leadId }, patch);
        if (cadence?.ok) {
          // A new cadence counts from now: an old last SITREP must not make the first one overdue.
          const due = nextSitrepDue(cadence.value, null, ctx.now.getTime(), zone(ctx));
          await planNext({ store: ctx.store, outbox: ctx.outbox }, w.tx, crisis, due === null ? null : new Date(due), ctx.now);
          return { ...after, sitrepDueAt: due === null ? null : new Date(due) };
        }
        return after;
      });
      ctx.outbox.wake?.();
      current = saved;
    }
    const lead = current.leadId ? await ctx.store.members.byId(current.leadId) : null;
    const tz = viewerZone(ctx);
    return message({
      title: `${current.code} SITREP schedule${cadence?.ok || late || leadId ? ' saved' : ''}`,
      fields: [
        { label: 'Cadence', value: formatCadence(cadenceOf(current)) },
        { label: 'Next due', value: current.sitrepDueAt ? `${when(current.sitrepDueAt.getTime(), tz)} (draft to the lead 30 minutes before)` : 'not scheduled' },
        { label: 'When late', value: LATE_POLICY_LABELS[latePolicyOf(current)] },
        { label: 'Lead', value: lead ? `@${lead.handle}` : 'nobody: set one with lead=@member' },
        { label: 'Leadership channel', value: current.leadershipChannel ?? `none: /crisis edit ${current.code} leadership=#channel` },
      ],
    });
  },
});

const scopeInput = z.string().max(20).optional();

async function scopeOf(ctx: HandlerContext, s: string | undefined): Promise<{ scope: string; label: string }> {
  if (s === undefined || /^(all|\*|every|everything)$/i.test(s.trim())) return { scope: ALL_CRISES, label: 'every crisis' };
  const code = crisisCodeInput.safeParse(s);
  if (!code.success) throw new CommandError('INVALID_INPUT', 'name a crisis code (e.g. NPL-EQ) or all', { crisis: 'a crisis code or all' });
  const crisis = await crisisFor(ctx, code.data);
  return { scope: crisis.id, label: crisis.code };
}

export const sitrepSubscribeCommand = defineCommand({
  key: 'sitrep subscribe',
  summary: 'receive published SITREPs by direct message (leaders): one crisis or all',
  usage: '/sitrep subscribe [<crisis>|all]',
  allowed: ['leader'],
  positional: ['crisis'],
  input: z.strictObject({ crisis: scopeInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { scope, label } = await scopeOf(ctx, input.crisis);
    const added = await ctx.store.change(ctx.meta, async (w) => {
      const ok = await ctx.store.sitreps.subscribe(w.tx, actor.id, scope, ctx.now);
      if (ok) await w.audit('member', actor.id, 'sitrep.subscribe', null, { scope });
      return ok;
    });
    return message({ text: added ? `You will receive SITREPs of ${label} by direct message.` : `You already receive SITREPs of ${label}.` });
  },
});

export const sitrepUnsubscribeCommand = defineCommand({
  key: 'sitrep unsubscribe',
  summary: 'stop receiving SITREPs by direct message: one crisis or all',
  usage: '/sitrep unsubscribe [<crisis>|all]',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: scopeInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { scope, label } = await scopeOf(ctx, input.crisis);
    const removed = await ctx.store.change(ctx.meta, async (w) => {
      const n = await ctx.store.sitreps.unsubscribe(w.tx, actor.id, scope === ALL_CRISES ? null : scope);
      if (n) await w.audit('member', actor.id, 'sitrep.unsubscribe', { scope }, null);
      return n;
    });
    return message({ text: removed ? `You no longer receive SITREPs of ${label} by direct message.` : `You were not subscribed to SITREPs of ${label}.` });
  },
});

export const sitrepCommands = [
  sitrepDraftCommand,
  sitrepEditCommand,
  sitrepPublishCommand,
  sitrepDiscardCommand,
  sitrepHistoryCommand,
  sitrepShowCommand,
  sitrepExportCommand,
  sitrepScheduleCommand,
  sitrepSubscribeCommand,
  sitrepUnsubscribeCommand,
];
