// /crisis duplicates, same, different, unmerge: reviewing the possible duplicates found when
// people are added or imported.
import { z } from 'zod/v4';
import type { MergeField } from '../../domain/person';
import { message, type ReplyButton, type ReplyRow } from '../../domain/reply';
import type { CrisisRecord, DuplicateRecord, PersonRecord } from '../../store/crisis.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { actorOf, crisisCodeInput, crisisFor, mayWork } from './crisis-access';
import { decideDifferent, decideSame, survivorOf, undoMerge } from './duplicate.service';
import { personLine } from './person.commands';

/** Pairs shown at once, best first. */
const LIST_LIMIT = 10;
/** Open pairs read to fill the list (pairs with a merged-away record are skipped). */
const SCAN_LIMIT = 200;
export const SHORT_ID_LENGTH = 8;

const FIELD_LABELS: Record<MergeField, string> = {
  fullName: 'name',
  givenName: 'given name',
  familyName: 'family name',
  alternateNames: 'other names',
  description: 'description',
  sex: 'sex',
  dateOfBirth: 'date of birth',
  age: 'age',
  nationality: 'nationality',
  passportNumber: 'passport',
  homeStreet: 'street',
  homeNeighborhood: 'neighbourhood',
  homeCity: 'city',
  homeState: 'state',
  homePostalCode: 'postal code',
  homeCountry: 'country',
  location: 'location',
  latitude: 'latitude',
  longitude: 'longitude',
  phone: 'phone',
  email: 'email',
  nokName: 'emergency contact',
  nokRelationship: 'emergency contact relationship',
  nokPhone: 'emergency contact phone',
  nokEmail: 'emergency contact email',
  household: 'household',
  needs: 'needs',
  source: 'source',
  sourceDate: 'source date',
};

function fieldList(fields: readonly MergeField[]): string {
  // Latitude and longitude move together: say "position" once.
  const words = fields.map((f) => (f === 'latitude' || f === 'longitude' ? 'position' : FIELD_LABELS[f]));
  return [...new Set(words)].join(', ');
}

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

const candidateIdInput = z
  .string({ error: 'which pair? the id shown by /crisis duplicates, e.g. 3f2a9c1d' })
  .trim()
  .regex(/^[0-9a-f][0-9a-f-]{3,35}$/i, { error: 'a pair id is the 8 letters and digits shown by /crisis duplicates, e.g. 3f2a9c1d' })
  .transform((s) => s.toLowerCase());

/**
 * The candidate an id (or the start of one) names, among the crises the caller works, and its
 * crisis. Unknown, ambiguous or not the caller's: a clear error.
 */
async function candidateFor(ctx: HandlerContext, id: string): Promise<{ candidate: DuplicateRecord; crisis: CrisisRecord }> {
  const exact = await ctx.store.crises.candidateById(id);
  const ids = exact ? [exact.id] : (await ctx.store.db.duplicateCandidate.findMany({ where: { id: { startsWith: id } }, select: { id: true }, take: 20 })).map((r) => r.id);
  const found: { candidate: DuplicateRecord; crisis: CrisisRecord }[] = [];
  let forbidden = false;
  for (const candidateId of ids) {
    const candidate = candidateId === exact?.id ? exact : await ctx.store.crises.candidateById(candidateId);
    if (!candidate) continue;
    const crisis = await ctx.store.crises.byId(candidate.crisisId);
    if (!crisis) continue;
    if (await mayWork(ctx, crisis)) found.push({ candidate, crisis });
    else forbidden = true;
  }
  const [only] = found;
  if (only && found.length === 1) return only;
  if (found.length > 1) throw new CommandError('AMBIGUOUS', `${found.length} pairs have an id starting ${id}; give more of it (the buttons of /crisis duplicates use the whole id when needed).`, { id: 'ambiguous' });
  if (forbidden) throw new CommandError('FORBIDDEN', 'That pair belongs to a crisis you do not work.');
  throw new CommandError('UNKNOWN_CANDIDATE', `No possible duplicate has the id ${id}; list them with /crisis duplicates <code>.`, { id: 'unknown pair' });
}

/** The id a button should carry: the short one unless another pair starts the same way. */
async function buttonId(ctx: HandlerContext, id: string): Promise<string> {
  const n = await ctx.store.db.duplicateCandidate.count({ where: { id: { startsWith: shortId(id) } } });
  return n > 1 ? id : shortId(id);
}

function pairButtons(id: string, a: PersonRecord, b: PersonRecord): ReplyButton[] {
  return [
    {
      label: 'Same person',
      command: `/crisis same ${id}`,
      style: 'primary',
      confirm: { title: 'Same person?', text: `#${a.number} and #${b.number} become one record: the older keeps its number, the newer details win. It can be undone.`, confirm: 'Merge', deny: 'Cancel' },
    },
    { label: 'Different people', command: `/crisis different ${id}` },
  ];
}

// ---------------------------------------------------------------------------------------------
// /crisis duplicates

export const crisisDuplicatesCommand = defineCommand({
  key: 'crisis duplicates',
  summary: 'possible duplicates to review, most likely first: same person or different people',
  usage: '/crisis duplicates <code>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const open = await ctx.store.crises.candidates(crisis.id, 'open', SCAN_LIMIT);
    const people = new Map((await ctx.store.crises.peopleByIds([...new Set(open.flatMap((c) => [c.personAId, c.personBId]))])).map((p) => [p.id, p]));
    // A pair with a merged-away record is left open but not shown: it returns if the merge is undone.
    const live = open.flatMap((c) => {
      const a = people.get(c.personAId);
      const b = people.get(c.personBId);
      return a && b && !a.mergedIntoId && !b.mergedIntoId ? [{ c, a, b }] : [];
    });
    if (!live.length) return message({ title: `${crisis.code}: no possible duplicates`, text: 'Nothing to review. Pairs are found when people are added or imported.' });
    const shown = live.slice(0, LIST_LIMIT);
    const rows: ReplyRow[] = await Promise.all(
      shown.map(async ({ c, a, b }) => {
        const [older, newer] = survivorOf(a, b);
        const id = await buttonId(ctx, c.id);
        return {
          text: `*Pair ${shortId(c.id)}* · score ${c.score}\n${personLine(older)}\n${personLine(newer)}\n${c.reasons.join(', ')}`,
          buttons: pairButtons(id, older, newer),
        };
      }),
    );
    const more = live.length - shown.length;
    return message({
      title: `${crisis.code}: ${live.length}${open.length === SCAN_LIMIT ? '+' : ''} possible duplicate${live.length === 1 ? '' : 's'}`,
      text: `Most likely first.${more > 0 ? ` ${more} more after these.` : ''} "Same person" merges the newer record into the older (undo with /crisis unmerge <pair>); "Different people" never suggests the pair again.`,
      rows,
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /crisis same, different, unmerge

export const crisisSameCommand = defineCommand({
  key: 'crisis same',
  summary: 'a possible duplicate is the same person: merge the records (can be undone)',
  usage: '/crisis same <pair>',
  allowed: 'any-member',
  positional: ['id'],
  input: z.strictObject({ id: candidateIdInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { candidate } = await candidateFor(ctx, input.id);
    const r = await decideSame(ctx, ctx.meta, candidate.id, { id: actor.id, name: actor.displayName }, ctx.now);
    const s = r.survivor;
    return message({
      title: `Same person: #${r.merged.number} merged into #${s.number}`,
      text: `${personLine(s)}\n${r.fields.length ? `Taken into #${s.number}: ${fieldList(r.fields)}.` : `#${s.number} already had every detail.`} Both histories are kept; #${r.merged.number} now points to #${s.number}. Undo with /crisis unmerge ${shortId(candidate.id)}.`,
      buttons: [
        { label: 'Show', command: `/person show ${s.number}` },
        { label: 'Undo', command: `/crisis unmerge ${await buttonId(ctx, candidate.id)}`, style: 'danger', confirm: { title: 'Undo the merge?', text: `#${s.number} and #${r.merged.number} become separate records again.`, confirm: 'Undo', deny: 'Cancel' } },
      ],
    });
  },
});

export const crisisDifferentCommand = defineCommand({
  key: 'crisis different',
  summary: 'a possible duplicate is two different people: never suggest the pair again',
  usage: '/crisis different <pair>',
  allowed: 'any-member',
  positional: ['id'],
  input: z.strictObject({ id: candidateIdInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { candidate } = await candidateFor(ctx, input.id);
    const r = await decideDifferent(ctx, ctx.meta, candidate.id, { id: actor.id, name: actor.displayName }, ctx.now);
    const [x, y] = r.a.number <= r.b.number ? [r.a, r.b] : [r.b, r.a];
    return message({ title: `Different people: #${x.number} and #${y.number}`, text: `The pair will not be suggested again. Review the rest with /crisis duplicates ${r.crisis.code}.` });
  },
});

export const crisisUnmergeCommand = defineCommand({
  key: 'crisis unmerge',
  summary: 'undo a "same person" merge: two separate records again (edits since are kept)',
  usage: '/crisis unmerge <pair>',
  allowed: 'any-member',
  positional: ['id'],
  input: z.strictObject({ id: candidateIdInput }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { candidate } = await candidateFor(ctx, input.id);
    const r = await undoMerge(ctx, ctx.meta, candidate.id, { id: actor.id, name: actor.displayName }, ctx.now);
    const s = r.survivor;
    const lines = [
      personLine(s),
      personLine(r.restored),
      r.fields.length ? `Set back on #${s.number}: ${fieldList(r.fields)}.` : null,
      r.conflicts.length ? `⚠️ Edited since the merge, so kept as they are on #${s.number}: ${fieldList(r.conflicts)}. Check them: /person show ${s.number}` : null,
    ];
    return message({
      title: `Merge undone: #${s.number} and #${r.restored.number} are separate records again`,
      text: lines.filter((l): l is string => l !== null).join('\n'),
      buttons: [
        { label: `Show #${s.number}`, command: `/person show ${s.number}` },
        { label: `Show #${r.restored.number}`, command: `/person show ${r.restored.number}` },
      ],
    });
  },
});

export const duplicateCommands = [crisisDuplicatesCommand, crisisSameCommand, crisisDifferentCommand, crisisUnmergeCommand];
