// /person add, find, show, status, contact, and /crisis calllist: tracking each affected citizen.
import { z } from 'zod/v4';
import { parseDateTime } from '../../domain/datetime-input';
import {
  checkBirth,
  checkSourceDate,
  CONTACT_OUTCOME_LABELS,
  contactOutcomeSchema,
  DEFAULT_CALL_INTERVAL_HOURS,
  NEED_LABELS,
  PERSON_NEEDS,
  PERSON_STATUS_LABELS,
  PERSON_STATUSES,
  personInputSchema,
  personStatusSchema,
  RECORD_SOURCES,
  SOURCE_LABELS,
  parseSource,
  type PersonStatus,
} from '../../domain/person';
import { failure, message, type MessageReply, type ReplyField, type ReplyRow } from '../../domain/reply';
import type { CrisisRecord, PersonRecord } from '../../store/crisis.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { viewerZone, when } from '../roster/roster-common';
import { actorOf, crisisCodeInput, crisisFor, defaultCrisis, mayWork } from './crisis-access';
import { addPerson, findByName, logContact, reportStatus, type DuplicateMatch } from './crisis.service';
import { historyOf } from './duplicate.service';
import { erasureNotice } from '../duty/retention.commands';

const FIND_LIMIT = 15;
const CALL_LIST_LIMIT = 30;

export const personNumberInput = z
  .string({ error: 'which person? e.g. 1234' })
  .trim()
  .regex(/^#?\d{1,9}$/, { error: 'a person number, e.g. 1234' })
  .transform((s) => Number(s.replace('#', '')));

function statusLabel(s: string): string {
  return PERSON_STATUS_LABELS[s as PersonStatus] ?? s;
}

export function personLine(p: PersonRecord): string {
  const where = p.location ?? ([p.homeCity, p.homeCountry].filter(Boolean).join(', ') || 'location unknown');
  return `*#${p.number}* ${p.fullName}${p.dateOfBirth ? ` (${p.dateOfBirth})` : ''} · ${statusLabel(p.status)} · ${where}${p.household ? ` · household ${p.household}` : ''}${p.needs.length ? ` · needs ${p.needs.join(', ')}` : ''}`;
}

function personButtons(p: PersonRecord): { label: string; command: string }[] {
  return [
    { label: 'Safe', command: `/person status ${p.number} safe` },
    { label: 'Reached', command: `/person contact ${p.number} reached` },
    { label: 'No answer', command: `/person contact ${p.number} no-answer` },
    { label: 'Show', command: `/person show ${p.number}` },
  ];
}

/** The person, and their crisis if the caller works it. */
async function personFor(ctx: HandlerContext, n: number): Promise<{ person: PersonRecord; crisis: CrisisRecord }> {
  const p = await ctx.store.crises.personByNumber(n);
  if (!p) throw new CommandError('UNKNOWN_PERSON', `There is no person #${n}. Search with /person find <name>.`);
  const crisis = await ctx.store.crises.byId(p.crisisId);
  if (!crisis || !(await mayWork(ctx, crisis))) throw new CommandError('FORBIDDEN', `Person #${n} belongs to a crisis you do not work.`);
  if (p.mergedIntoId) {
    const into = await ctx.store.crises.personById(p.mergedIntoId);
    throw new CommandError('MERGED', `Person #${n} was merged into #${into?.number ?? '?'} as the same person; use that record.`);
  }
  return { person: p, crisis };
}

function duplicatesRows(d: readonly DuplicateMatch[]): ReplyRow[] {
  return d.slice(0, 5).map((x) => ({ text: `Possible duplicate (score ${x.score}): ${personLine(x.person)}\n${x.reasons.join(', ')}` }));
}

// ---------------------------------------------------------------------------------------------
// /person add

const text = z.string().optional();

export const personAddCommand = defineCommand({
  key: 'person add',
  summary: 'add an affected person to a crisis (opens a form without arguments)',
  usage: '/person add name="…" [crisis=CODE] [dob=…] [sex=…] [nationality=…] [passport=…] [phone=…] [email=…] [location=…] [coordinates=lat,lon] [city=…] [country=…] [needs=medical,shelter] [household=…] [status=…] [source=self|relative|registration|hospital|authorities|staff] [description=…] [nok_name=…] [nok_phone=…]',
  allowed: 'any-member',
  form: {
    title: 'Add a person',
    submitLabel: 'Add',
    fields: [
      { name: 'crisis', label: 'Crisis code', type: 'text', required: false, maxLength: 20, help: 'Leave empty when one crisis is active' },
      { name: 'name', label: 'Full name', type: 'text', required: true, maxLength: 200 },
      { name: 'dob', label: 'Date of birth', type: 'text', required: false, placeholder: 'YYYY, YYYY-MM or YYYY-MM-DD', maxLength: 10 },
      { name: 'age', label: 'Age or range', type: 'text', required: false, placeholder: '34 or 30-40', maxLength: 7 },
      { name: 'sex', label: 'Sex', type: 'select', required: false, options: [{ value: 'female', label: 'Female' }, { value: 'male', label: 'Male' }, { value: 'other', label: 'Other' }] },
      { name: 'nationality', label: 'Nationality', type: 'text', required: false, maxLength: 100 },
      { name: 'passport', label: 'Passport number', type: 'text', required: false, maxLength: 30 },
      { name: 'phone', label: 'Phone', type: 'text', required: false, maxLength: 30 },
      { name: 'email', label: 'Email', type: 'text', required: false, maxLength: 200 },
      { name: 'location', label: 'Current location', type: 'text', required: false, maxLength: 200 },
      { name: 'coordinates', label: 'Coordinates', type: 'text', required: false, placeholder: '27.7172,85.3240', maxLength: 40 },
      { name: 'city', label: 'Home city', type: 'text', required: false, maxLength: 200 },
      { name: 'country', label: 'Home country', type: 'text', required: false, maxLength: 100 },
      { name: 'needs', label: 'Needs', type: 'multiSelect', required: false, options: PERSON_NEEDS.map((n) => ({ value: n, label: NEED_LABELS[n] })) },
      { name: 'household', label: 'Household or group', type: 'text', required: false, maxLength: 100, help: 'People travelling together share it' },
      { name: 'status', label: 'Status', type: 'select', required: false, options: PERSON_STATUSES.map((s) => ({ value: s, label: PERSON_STATUS_LABELS[s] })) },
      { name: 'source', label: 'Source', type: 'select', required: false, options: RECORD_SOURCES.map((s) => ({ value: s, label: SOURCE_LABELS[s] })) },
      { name: 'nok_name', label: 'Emergency contact: name', type: 'text', required: false, maxLength: 200 },
      { name: 'nok_phone', label: 'Emergency contact: phone', type: 'text', required: false, maxLength: 30 },
      { name: 'description', label: 'Description', type: 'longText', required: false, maxLength: 2000 },
    ],
  },
  input: z.strictObject({
    crisis: crisisCodeInput.optional(),
    name: text,
    given: text,
    family: text,
    alt: text,
    sex: text,
    dob: text,
    age: text,
    nationality: text,
    passport: text,
    street: text,
    neighbourhood: text,
    city: text,
    state: text,
    postcode: text,
    country: text,
    location: text,
    coordinates: text,
    phone: text,
    email: text,
    nok_name: text,
    nok_relationship: text,
    nok_phone: text,
    nok_email: text,
    description: text,
    needs: z.union([z.string(), z.array(z.string())]).optional(),
    household: text,
    status: text,
    source: text,
    source_date: text,
  }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const crisis = await defaultCrisis(ctx, input.crisis);
    const parsed = personInputSchema.safeParse({
      fullName: input.name ?? '',
      givenName: input.given,
      familyName: input.family,
      alternateNames: input.alt,
      sex: input.sex,
      dateOfBirth: input.dob,
      age: input.age,
      nationality: input.nationality,
      passportNumber: input.passport,
      homeStreet: input.street,
      homeNeighborhood: input.neighbourhood,
      homeCity: input.city,
      homeState: input.state,
      homePostalCode: input.postcode,
      homeCountry: input.country,
      location: input.location,
      coordinates: input.coordinates,
      phone: input.phone,
      email: input.email,
      nokName: input.nok_name,
      nokRelationship: input.nok_relationship,
      nokPhone: input.nok_phone,
      nokEmail: input.nok_email,
      description: input.description,
      needs: input.needs,
      household: input.household,
      source: input.source,
      sourceDate: input.source_date,
    });
    const names: Record<string, string> = {
      fullName: 'name', givenName: 'given', familyName: 'family', alternateNames: 'alt', dateOfBirth: 'dob', passportNumber: 'passport', homeStreet: 'street', homeNeighborhood: 'neighbourhood',
      homeCity: 'city', homeState: 'state', homePostalCode: 'postcode', homeCountry: 'country', latitude: 'coordinates', longitude: 'coordinates', nokName: 'nok_name', nokRelationship: 'nok_relationship',
      nokPhone: 'nok_phone', nokEmail: 'nok_email', sourceDate: 'source_date',
    };
    const fields: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const k = String(issue.path[0] ?? '_');
        fields[names[k] ?? k] ??= issue.message;
      }
    }
    if (!input.name?.trim()) fields.name = 'the full name is required';
    if (input.dob?.trim()) {
      const b = checkBirth(input.dob.trim(), ctx.now.getTime(), ctx.settings.missionTimeZone);
      if (!b.ok) fields.dob ??= b.error;
    }
    if (parsed.success && parsed.data.sourceDate !== null) {
      const d = checkSourceDate(parsed.data.sourceDate, ctx.now.getTime());
      if (!d.ok) fields.source_date ??= d.error;
    }
    let status: PersonStatus | null = null;
    if (input.status) {
      const s = personStatusSchema.safeParse(input.status);
      if (s.success) status = s.data;
      else fields.status = s.error.issues[0]?.message ?? 'not a status';
    }
    if (Object.keys(fields).length || !parsed.success) {
      throw new CommandError('INVALID_INPUT', `Not saved: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ')}.`, fields);
    }
    const source = parsed.data.source ?? 'staff';
    const { person, duplicates } = await addPerson(ctx, ctx.meta, crisis, parsed.data, { source, status, by: { id: actor.id, name: actor.displayName } }, ctx.now);
    return message({
      title: `#${person.number} added to ${crisis.code}`,
      text: `${personLine(person)}${duplicates.length ? `\n⚠️ ${duplicates.length} possible duplicate${duplicates.length === 1 ? '' : 's'}: review with /crisis duplicates ${crisis.code}` : ''}`,
      rows: duplicatesRows(duplicates),
      buttons: personButtons(person),
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /person find, show

/** Exact identifiers: a passport, phone or email is matched as such, not as a name. */
function identifierOf(q: string): { passport?: string; phone?: string; email?: string } | null {
  const t = q.trim();
  if (/^\S+@\S+\.\S+$/.test(t)) return { email: t.toLowerCase() };
  if (/^\+?[\d\s().-]{7,}$/.test(t)) return { phone: `+${t.replace(/\D/g, '')}` };
  if (/^[A-Za-z]{0,3}\d[A-Za-z\d ]{4,19}$/.test(t) && /\d/.test(t)) return { passport: t.replace(/\s+/g, '').toUpperCase() };
  return null;
}

export const personFindCommand = defineCommand({
  key: 'person find',
  summary: 'find people by name (any order, accents and small slips forgiven), passport, phone or email',
  usage: '/person find <text> [crisis=CODE]',
  allowed: 'any-member',
  rest: 'text',
  input: z.strictObject({ text: z.string({ error: 'what to look for: a name, passport, phone or email' }).trim().min(2, { error: 'at least two characters' }).max(200), crisis: crisisCodeInput.optional() }),
  async run(ctx, input) {
    const crises: CrisisRecord[] = input.crisis
      ? [await crisisFor(ctx, input.crisis)]
      : await (async () => {
          const out: CrisisRecord[] = [];
          for (const c of await ctx.store.crises.list()) if (c.status === 'active' && (await mayWork(ctx, c))) out.push(c);
          return out;
        })();
    if (!crises.length) throw new CommandError('NO_CRISIS', 'No active crisis that you work; name one with crisis=CODE.');
    const id = identifierOf(input.text);
    const found: PersonRecord[] = [];
    let more = 0;
    for (const c of crises) {
      if (id) {
        found.push(...(await ctx.store.crises.byIdentifiers(c.id, id)));
      } else {
        const r = await findByName(ctx.store, c.id, input.text, FIND_LIMIT);
        found.push(...r.people.map((x) => x.person));
        more += r.more;
      }
    }
    if (!found.length) return message({ title: `No one matches "${input.text.slice(0, 60)}"`, text: `Searched ${crises.map((c) => c.code).join(', ')}. Add them with /person add.` });
    return message({
      title: `${found.length}${more ? '+' : ''} found for "${input.text.slice(0, 60)}"`,
      text: more ? `${more} more match; add words to narrow it.` : undefined,
      rows: found.slice(0, FIND_LIMIT).map((p) => ({ text: personLine(p), buttons: [{ label: 'Show', command: `/person show ${p.number}` }] })),
    });
  },
});

export const personShowCommand = defineCommand({
  key: 'person show',
  summary: 'a person in full: details, status history and calls (privately; audited)',
  usage: '/person show <number>',
  allowed: 'any-member',
  positional: ['person'],
  input: z.strictObject({ person: personNumberInput }),
  async run(ctx, input) {
    const { person: p, crisis } = await personFor(ctx, input.person);
    const tz = viewerZone(ctx);
    const [notes, attempts, erased] = await Promise.all([historyOf(ctx.store, p.id), ctx.store.crises.attempts(p.id), erasureNotice(ctx.store, 'person', p.id, ctx.settings.missionTimeZone)]);
    await ctx.store.change(ctx.meta, (w) => w.audit('person', p.id, 'view', null, { number: p.number, fields: 'full details' }));
    const f = (label: string, ...v: (string | number | null | undefined)[]): ReplyField | null => {
      const s = v.filter((x) => x !== null && x !== undefined && x !== '').join(' · ');
      return s ? { label, value: s } : null;
    };
    const fields = [
      f('Status', statusLabel(p.status), p.statusAt ? `as of ${when(p.statusAt.getTime(), tz)}` : null),
      f('Crisis', crisis.code),
      f('Names', p.givenName, p.familyName, p.alternateNames.length ? `also ${p.alternateNames.join('; ')}` : null),
      f('Born', p.dateOfBirth, p.age ? `age ${p.age}` : null, p.sex),
      f('Nationality', p.nationality),
      f('Passport', p.passportNumber),
      f('Phone', p.phone),
      f('Email', p.email),
      f('Location', p.location, p.latitude !== null ? `${p.latitude},${p.longitude}` : null),
      f('Home', p.homeStreet, p.homeNeighborhood, p.homeCity, p.homeState, p.homePostalCode, p.homeCountry),
      f('Emergency contact', p.nokName, p.nokRelationship, p.nokPhone, p.nokEmail),
      f('Needs', p.needs.map((n) => NEED_LABELS[n as keyof typeof NEED_LABELS] ?? n).join(', ')),
      f('Household', p.household),
      f('Source', SOURCE_LABELS[p.source as keyof typeof SOURCE_LABELS] ?? p.source, when(p.sourceDate.getTime(), tz)),
    ].filter((x): x is ReplyField => x !== null);
    const history = notes.map((n) => `${when(n.sourceAt.getTime(), tz)} ${n.status ? statusLabel(n.status) : '—'}${n.madeContact ? ' (contact made)' : ''} · ${n.authorName}${n.text ? `: ${n.text}` : ''}${n.lastKnownLocation ? ` · at ${n.lastKnownLocation}` : ''}${n.fromNumber !== null ? ` (on record #${n.fromNumber})` : ''}`);
    const calls = attempts.map((a) => `${when(a.at.getTime(), tz)} ${CONTACT_OUTCOME_LABELS[a.outcome as keyof typeof CONTACT_OUTCOME_LABELS] ?? a.outcome} · ${a.byName}`);
    return message({
      title: `#${p.number} ${p.fullName}`,
      text: erased ?? p.description ?? undefined,
      fields,
      rows: [{ text: `*Status history*\n${history.join('\n') || 'none'}` }, ...(calls.length ? [{ text: `*Calls*\n${calls.join('\n')}` }] : [])],
      buttons: personButtons(p),
      visibility: 'direct', // personal data: a DM (Slack), the 1:1 chat (Teams)
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /person status, contact

export const personStatusCommand = defineCommand({
  key: 'person status',
  summary: 'report a person\'s status (an append-only note; the latest by source time counts)',
  usage: '/person status <number> <status> [note] [location=…] [contact=yes|no] [source=…] [at=<when the source says>]',
  allowed: 'any-member',
  positional: ['person', 'status'],
  rest: 'note',
  input: z.strictObject({
    person: personNumberInput,
    status: personStatusSchema,
    note: z.string().trim().max(2000, { error: 'a note is at most 2000 characters' }).optional(),
    location: z.string().trim().max(200, { error: 'at most 200 characters' }).optional(),
    contact: z.enum(['yes', 'no'], { error: 'contact=yes or contact=no' }).optional(),
    source: z.string().optional(),
    at: z.string().max(40).optional(),
  }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { person, crisis } = await personFor(ctx, input.person);
    if (crisis.status !== 'active') throw new CommandError('NOT_ACTIVE', `Crisis ${crisis.code} was stood down; reopen it to record more.`);
    let sourceAt = ctx.now.getTime();
    if (input.at) {
      const r = parseDateTime(input.at, ctx.actor?.timeZone ?? ctx.settings.missionTimeZone, ctx.now.getTime());
      if (!r.ok) throw new CommandError('INVALID_INPUT', `at: ${r.error}`, { at: r.error });
      if (r.instant > ctx.now.getTime() + 60_000) throw new CommandError('INVALID_INPUT', 'at: a report cannot come from the future.', { at: 'in the future' });
      sourceAt = r.instant;
    }
    const source = input.source ? parseSource(input.source) : 'staff';
    if (!source) throw new CommandError('INVALID_INPUT', `source: use one of ${RECORD_SOURCES.join(', ')}.`, { source: 'unknown source' });
    const r = await reportStatus(ctx, ctx.meta, crisis, person, { status: input.status, text: input.note ?? null, location: input.location ?? null, madeContact: input.contact === undefined ? null : input.contact === 'yes', source, sourceAt: new Date(sourceAt) }, { id: actor.id, name: actor.displayName }, ctx.now);
    const on = r.person;
    const redirected = r.redirectedFrom ? ` #${r.redirectedFrom.number} was merged into #${on.number} as the same person meanwhile; the report was recorded on #${on.number}.` : '';
    return message({
      title: r.applied ? `#${on.number} ${on.fullName}: ${statusLabel(input.status)}` : `#${on.number}: noted, status unchanged`,
      text: (r.applied ? personLine(r.person) : `A newer report already says ${statusLabel(r.person.status)} (${when((r.person.statusAt ?? ctx.now).getTime(), viewerZone(ctx))}); this one is kept in the history.`) + redirected,
    });
  },
});

export const personContactCommand = defineCommand({
  key: 'person contact',
  summary: 'log a call: reached, no-answer or wrong-number',
  usage: '/person contact <number> reached|no-answer|wrong-number',
  allowed: 'any-member',
  positional: ['person', 'outcome'],
  input: z.strictObject({ person: personNumberInput, outcome: contactOutcomeSchema }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const { person, crisis } = await personFor(ctx, input.person);
    await logContact(ctx, ctx.meta, crisis, person, input.outcome, { id: actor.id, name: actor.displayName }, ctx.now);
    const hint = input.outcome === 'reached' && person.status === 'unaccounted' ? ` Record what they said: /person status ${person.number} safe …` : '';
    return message({ title: `#${person.number} ${person.fullName}: ${CONTACT_OUTCOME_LABELS[input.outcome]}`, text: `Logged.${hint}` });
  },
});

export const crisisCallListCommand = defineCommand({
  key: 'crisis calllist',
  summary: 'unaccounted people not tried in the last N hours (default 4), oldest first',
  usage: '/crisis calllist <code> [hours=4]',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput, hours: z.coerce.number({ error: 'hours is a number' }).min(0, { error: 'hours is 0 or more' }).max(720, { error: 'at most 720 hours (30 days)' }).optional() }),
  async run(ctx, input): Promise<MessageReply> {
    const crisis = await crisisFor(ctx, input.crisis);
    const hours = input.hours ?? DEFAULT_CALL_INTERVAL_HOURS;
    const list = await ctx.store.crises.callList(crisis.id, new Date(ctx.now.getTime() - hours * 3_600_000), CALL_LIST_LIMIT);
    if (!list.length) return message({ title: `${crisis.code} call list`, text: `Nobody unaccounted is waiting for a call (not tried in the last ${hours} h).` });
    // Names and phone numbers in bulk: read like an export.
    await ctx.store.change(ctx.meta, (w) => w.audit('crisis', crisis.id, 'calllist', null, { people: list.length, fields: 'names, phone numbers' }));
    const tz = viewerZone(ctx);
    return message({
      title: `${crisis.code} call list: ${list.length}${list.length === CALL_LIST_LIMIT ? '+' : ''} to call`,
      text: `Unaccounted, not tried in the last ${hours} h; never tried first, then the longest waiting.`,
      rows: list.map((x) => ({
        text: `${personLine(x.person)}\n${x.person.phone ?? 'no phone'} · ${x.lastAttemptAt ? `${x.attempts} tries, last ${when(x.lastAttemptAt.getTime(), tz)}` : 'never tried'}`,
        buttons: personButtons(x.person),
      })),
    });
  },
});

export const personCommands = [personAddCommand, personFindCommand, personShowCommand, personStatusCommand, personContactCommand, crisisCallListCommand];

export { failure };
