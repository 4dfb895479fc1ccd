// Evacuation: /crisis movement new|list|show, /crisis assign, /crisis allocate, /crisis checkin,
// /crisis boarded and /crisis manifest. Data access in movement.service.ts; rules in
// src/domain/evacuation.ts.
import { z } from 'zod/v4';
import { parseDateTime } from '../../domain/datetime-input';
import { CHECK_IN_LABELS, MOVEMENT_KIND_LABELS, MOVEMENT_KINDS, movementInputSchema, type CheckInState, type MovementKind, type PriorityReason } from '../../domain/evacuation';
import { NEED_LABELS, type PersonNeed } from '../../domain/person';
import { message, type ReplyButton, type ReplyRow } from '../../domain/reply';
import type { CrisisRecord } from '../../store/crisis.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { toCsv } from '../report/csv';
import { viewerZone, when } from '../roster/roster-common';
import { actorOf, crisisCodeInput, crisisFor } from './crisis-access';
import {
  allocateWaiting,
  assignToMovement,
  auditManifest,
  createMovement,
  listMovements,
  manifestOf,
  movementLabel,
  movementSummary,
  recordCheckIn,
  type MovementRecord,
  type MovementSummary,
  type Traveller,
} from './movement.service';
import { personNumberInput } from './person.commands';

/** Manifest rows per page of /crisis movement show (each row carries its buttons). */
const SHOW_PAGE = 20;

const movementNumberInput = z
  .string({ error: 'which movement? e.g. 2' })
  .trim()
  .regex(/^#?\d{1,6}$/, { error: 'a movement number, e.g. 2 (see /crisis movement list)' })
  .transform((s) => Number(s.replace('#', '')));

const PRIORITY_LABELS: Record<PriorityReason, string> = { medical: 'medical', children: 'children', none: 'no priority' };

function kindLabel(kind: string): string {
  return MOVEMENT_KIND_LABELS[kind as MovementKind] ?? kind;
}

function stateLabel(state: string): string {
  return CHECK_IN_LABELS[state as CheckInState] ?? state;
}

function needsLabel(needs: readonly string[]): string {
  return needs.map((n) => NEED_LABELS[n as PersonNeed] ?? n).join(', ');
}

function who(people: readonly Traveller[]): string {
  return people.map((p) => `#${p.number} ${p.fullName}`).join(', ');
}

/** A household's label and its people; one person alone, just them. */
function groupLine(g: { label: string; people: readonly Traveller[]; priority: PriorityReason | null }): string {
  const tag = g.priority ? ` [${PRIORITY_LABELS[g.priority]}]` : '';
  return g.label.startsWith('household') ? `${g.label}${tag}: ${who(g.people)}` : `${who(g.people)}${tag}`;
}

/** "Charter 1 (Flight)" */
function titled(m: Pick<MovementRecord, 'name' | 'kind'>): string {
  return `${m.name} (${kindLabel(m.kind)})`;
}

function zoneOf(ctx: HandlerContext): string {
  return ctx.actor?.timeZone ?? ctx.settings.missionTimeZone;
}

function movementLine(m: MovementSummary, tz: string): string {
  return `*${m.number}* ${titled(m)} · departs ${when(m.departureAt.getTime(), tz)} · muster ${m.musterPoint} · ${m.taken}/${m.capacity} seats taken, ${m.left} left · ${m.shownStatus}`;
}

function movementFields(m: MovementSummary, tz: string): { label: string; value: string }[] {
  return [
    { label: 'Kind', value: kindLabel(m.kind) },
    { label: 'Departs', value: when(m.departureAt.getTime(), tz) },
    { label: 'Muster point', value: m.musterPoint },
    { label: 'Seats', value: `${m.taken} of ${m.capacity} taken, ${m.left} left` },
    { label: 'Status', value: m.shownStatus },
  ];
}

async function activeCrisis(ctx: HandlerContext, code: string): Promise<CrisisRecord> {
  return crisisFor(ctx, code, { active: true });
}

// ---------------------------------------------------------------------------------------------
// /crisis movement new, list, show

const FIELD_OF: Record<string, string> = { name: 'name', kind: 'kind', capacity: 'capacity', departure: 'departs', musterPoint: 'muster' };

export const movementNewCommand = defineCommand({
  key: 'crisis movement new',
  summary: 'plan a movement (flight, convoy, bus or ship): name, seats, departure, muster point (form when fields are missing)',
  usage: '/crisis movement new <code> kind=flight|convoy|bus|ship name="…" capacity=N departs="2026-12-24 18:00" muster="…"',
  allowed: 'any-member',
  positional: ['crisis'],
  form: {
    title: 'Plan a movement',
    submitLabel: 'Plan',
    fields: [
      { name: 'crisis', label: 'Crisis code', type: 'text', required: true, maxLength: 20, placeholder: 'NPL-EQ' },
      { name: 'kind', label: 'Kind', type: 'select', required: true, options: MOVEMENT_KINDS.map((k) => ({ value: k, label: MOVEMENT_KIND_LABELS[k] })) },
      { name: 'name', label: 'Name', type: 'text', required: true, maxLength: 100, placeholder: 'Charter 1' },
      { name: 'capacity', label: 'Seats', type: 'number', required: true, placeholder: '150' },
      { name: 'departs', label: 'Departure', type: 'dateTime', required: true, help: 'In your time zone' },
      { name: 'muster', label: 'Muster point', type: 'text', required: true, maxLength: 200, help: 'Where people gather before it leaves' },
    ],
  },
  input: z.strictObject({
    crisis: crisisCodeInput,
    kind: z.string().optional(),
    name: z.string().optional(),
    capacity: z.union([z.string(), z.number()]).optional(),
    departs: z.string().max(60, { error: 'at most 60 characters' }).optional(),
    muster: z.string().optional(),
  }),
  async run(ctx, input) {
    actorOf(ctx);
    const crisis = await activeCrisis(ctx, input.crisis);
    const fields: Record<string, string> = {};
    let departure: number | undefined;
    if (input.departs === undefined) fields.departs = 'a departure time is required, e.g. departs="2026-12-24 18:00"';
    else {
      const d = parseDateTime(input.departs, zoneOf(ctx), ctx.now.getTime());
      if (!d.ok) fields.departs = d.error;
      else if (d.instant <= ctx.now.getTime()) fields.departs = `${when(d.instant, zoneOf(ctx))} is in the past; a movement departs later than now`;
      else departure = d.instant;
    }
    const parsed = movementInputSchema.safeParse({ name: input.name, kind: input.kind, capacity: input.capacity, departure: departure ?? 0, musterPoint: input.muster });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const k = String(issue.path[0] ?? '_');
        fields[FIELD_OF[k] ?? k] ??= issue.message;
      }
    }
    if (Object.keys(fields).length || !parsed.success) {
      throw new CommandError('INVALID_INPUT', `Not saved: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ')}.`, fields);
    }
    const m = await createMovement(ctx, ctx.meta, crisis, parsed.data, ctx.now);
    const tz = viewerZone(ctx);
    return message({
      title: `${crisis.code} movement ${m.number} planned: ${titled(m)}`,
      fields: movementFields({ ...m, taken: 0, left: m.capacity, shownStatus: m.status }, tz),
      text: `Seat people with /crisis assign ${crisis.code} <person or household="…"> ${m.number}, or everyone waiting with /crisis allocate ${crisis.code}.`,
      buttons: [
        { label: 'Show', command: `/crisis movement show ${crisis.code} ${m.number}` },
        { label: 'Allocate', command: `/crisis allocate ${crisis.code}` },
      ],
    });
  },
});

export const movementListCommand = defineCommand({
  key: 'crisis movement list',
  summary: "a crisis's movements: departure, seats taken and left, status",
  usage: '/crisis movement list <code>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const movements = await listMovements(ctx.store, crisis.id, ctx.now);
    if (!movements.length) return message({ title: `${crisis.code} movements`, text: `None planned. Plan one with /crisis movement new ${crisis.code}.` });
    const tz = viewerZone(ctx);
    const open = movements.filter((m) => m.shownStatus === 'planned');
    return message({
      title: `${crisis.code} movements: ${movements.length}`,
      text: `${open.reduce((n, m) => n + m.left, 0)} seats left on ${open.length} planned movement${open.length === 1 ? '' : 's'}.`,
      rows: movements.map((m) => ({ text: movementLine(m, tz), buttons: [{ label: 'Manifest', command: `/crisis movement show ${crisis.code} ${m.number}` }] })),
    });
  },
});

function seatButtons(crisis: CrisisRecord, m: MovementRecord, personNumber: number, state: string): ReplyButton[] {
  const out: ReplyButton[] = [];
  if (state === 'assigned') out.push({ label: 'Checked in', command: `/crisis checkin ${crisis.code} ${m.number} ${personNumber}` });
  if (state === 'assigned' || state === 'checked-in') out.push({ label: 'Boarded', command: `/crisis boarded ${crisis.code} ${m.number} ${personNumber}`, style: 'primary' });
  return out;
}

export const movementShowCommand = defineCommand({
  key: 'crisis movement show',
  summary: 'a movement and its manifest: who is on it, checked in and boarded (buttons per person)',
  usage: '/crisis movement show <code> <movement> [page=N]',
  allowed: 'any-member',
  positional: ['crisis', 'movement'],
  input: z.strictObject({ crisis: crisisCodeInput, movement: movementNumberInput, page: z.coerce.number({ error: 'page is a number' }).int({ error: 'page is a whole number' }).min(1, { error: 'pages start at 1' }).max(1000, { error: 'at most page 1000' }).optional() }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const m = await movementSummary(ctx.store, crisis, input.movement, ctx.now);
    const rows = await manifestOf(ctx.store, m);
    const tz = viewerZone(ctx);
    const pages = Math.max(1, Math.ceil(rows.length / SHOW_PAGE));
    const page = Math.min(input.page ?? 1, pages);
    const shown = rows.slice((page - 1) * SHOW_PAGE, page * SHOW_PAGE);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.seat.state, (counts.get(r.seat.state) ?? 0) + 1);
    const summary = (['assigned', 'checked-in', 'boarded', 'no-show'] as const).filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${CHECK_IN_LABELS[s].toLowerCase()}`).join(', ');
    const manifestRows: ReplyRow[] = shown.map(({ seat, person: p }) => ({
      text: `*#${p.number}* ${p.fullName}${p.household ? ` · household ${p.household}` : ''}${p.needs.length ? ` · needs ${needsLabel(p.needs)}` : ''} · ${stateLabel(seat.state)}${seat.boardedAt ? ` ${when(seat.boardedAt.getTime(), tz)}` : seat.checkedInAt ? ` ${when(seat.checkedInAt.getTime(), tz)}` : ''}`,
      buttons: seatButtons(crisis, m, p.number, seat.state),
    }));
    const buttons: ReplyButton[] = [{ label: 'Manifest (CSV)', command: `/crisis manifest ${crisis.code} ${m.number}` }];
    if (page < pages) buttons.push({ label: 'Next page', command: `/crisis movement show ${crisis.code} ${m.number} page=${page + 1}` });
    return message({
      title: `${crisis.code} movement ${m.number}: ${titled(m)}`,
      text: rows.length ? `${rows.length} on the manifest: ${summary}.${pages > 1 ? ` Page ${page} of ${pages}.` : ''}` : `Nobody assigned yet: /crisis assign ${crisis.code} <person or household="…"> ${m.number}`,
      fields: movementFields(m, tz),
      rows: manifestRows,
      buttons,
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /crisis assign, allocate

export const assignCommand = defineCommand({
  key: 'crisis assign',
  summary: 'seat a person or a whole household on a movement (a household stays together; seats are counted)',
  usage: '/crisis assign <code> <person-number | household="label"> <movement> [move=yes]',
  allowed: 'any-member',
  positional: ['crisis', 'person', 'movement'],
  input: z.strictObject({
    crisis: crisisCodeInput,
    person: z.string().optional(),
    movement: z.string().optional(),
    household: z.string().trim().min(1, { error: 'a household label' }).max(100, { error: 'a household label is at most 100 characters' }).optional(),
    move: z.enum(['yes', 'no'], { error: 'move=yes or move=no' }).optional(),
  }),
  async run(ctx, input) {
    actorOf(ctx);
    const usage = '/crisis assign <code> <person-number | household="label"> <movement> [move=yes]';
    let personText = input.person;
    let movementText = input.movement;
    if (input.household !== undefined) {
      if (personText !== undefined && movementText !== undefined) throw new CommandError('INVALID_INPUT', `Name a person or a household, not both. Usage: ${usage}`, { person: 'a person or a household, not both' });
      movementText = movementText ?? personText;
      personText = undefined;
    }
    if (movementText === undefined) throw new CommandError('INVALID_INPUT', `Which movement? Usage: ${usage}`, { movement: 'which movement?' });
    const mv = movementNumberInput.safeParse(movementText);
    if (!mv.success) throw new CommandError('INVALID_INPUT', `movement: ${mv.error.issues[0]?.message ?? 'not a movement number'}`, { movement: 'not a movement number' });
    let target: { personNumber: number } | { household: string };
    if (input.household !== undefined) target = { household: input.household };
    else {
      if (personText === undefined) throw new CommandError('INVALID_INPUT', `Whom? A person number or household="…". Usage: ${usage}`, { person: 'whom?' });
      const pn = personNumberInput.safeParse(personText);
      if (!pn.success) throw new CommandError('INVALID_INPUT', `person: ${pn.error.issues[0]?.message ?? 'not a person number'}; for a household write household="label"`, { person: 'not a person number' });
      target = { personNumber: pn.data };
    }
    const crisis = await activeCrisis(ctx, input.crisis);
    const r = await assignToMovement(ctx, ctx.meta, crisis, mv.data, target, { move: input.move === 'yes' }, ctx.now);
    const lines: string[] = [];
    if (r.seated.length) lines.push(`Seated: ${who(r.seated)}.`);
    if (r.moved.length) lines.push(`Moved from ${[...new Set(r.moved.map((x) => movementLabel(x.from)))].join(', ')}: ${who(r.moved.map((x) => x.person))}.`);
    if (r.alreadyOn.length) lines.push(`Already on it: ${who(r.alreadyOn)}.`);
    lines.push(`${r.seatsLeft} seat${r.seatsLeft === 1 ? '' : 's'} left of ${r.movement.capacity}.`);
    const subject = 'household' in target ? `household "${r.household}"` : r.seated.length + r.alreadyOn.length === 1 ? `#${(r.seated[0] ?? r.alreadyOn[0])?.number}` : 'people';
    return message({
      title: r.seated.length ? `${crisis.code}: ${subject} on ${movementLabel(r.movement)}` : `${crisis.code}: nothing to do, already on ${movementLabel(r.movement)}`,
      text: lines.join('\n'),
      buttons: [{ label: 'Show movement', command: `/crisis movement show ${crisis.code} ${r.movement.number}` }],
    });
  },
});

export const allocateCommand = defineCommand({
  key: 'crisis allocate',
  summary: 'seat everyone waiting for evacuation: medical first, then families with children, then others; households whole',
  usage: '/crisis allocate <code>',
  allowed: 'any-member',
  positional: ['crisis'],
  input: z.strictObject({ crisis: crisisCodeInput }),
  async run(ctx, input) {
    actorOf(ctx);
    const crisis = await activeCrisis(ctx, input.crisis);
    const r = await allocateWaiting(ctx, ctx.meta, crisis, ctx.now, ctx.settings.missionTimeZone);
    const seatedPeople = r.seated.reduce((n, g) => n + g.people.length, 0);
    const waitingPeople = r.waiting.reduce((n, g) => n + g.people.length, 0);
    if (!seatedPeople && !waitingPeople) return message({ title: `${crisis.code}: nobody waiting`, text: 'Everyone who needs evacuation already holds a seat (or none is recorded as needing it).' });
    const rows: ReplyRow[] = [];
    for (const { movement, left } of r.movements) {
      const groups = r.seated.filter((g) => g.movement.id === movement.id);
      if (!groups.length) continue;
      rows.push({
        text: `*${movementLabel(movement)}* (${left} seat${left === 1 ? '' : 's'} left)\n${groups.map(groupLine).join('\n')}`,
        buttons: [{ label: 'Show', command: `/crisis movement show ${crisis.code} ${movement.number}` }],
      });
    }
    if (r.waiting.length) {
      rows.push({ text: `*Waiting*\n${r.waiting.map((g) => `${groupLine(g)}. Why: ${g.reason}`).join('\n')}` });
    }
    return message({
      title: `${crisis.code}: ${seatedPeople} seated, ${waitingPeople} waiting`,
      text: 'Medical needs first, then households with children, then others (earliest registered first); a household is never split.',
      rows,
    });
  },
});

// ---------------------------------------------------------------------------------------------
// /crisis checkin, boarded

function checkInCommand(key: 'crisis checkin' | 'crisis boarded' | 'crisis noshow') {
  const board = key === 'crisis boarded';
  const action = board ? 'board' : key === 'crisis noshow' ? 'no-show' : 'check-in';
  return defineCommand({
    key,
    summary: board ? 'record a person boarded (after check-in); their status becomes evacuated' : action === 'no-show' ? 'after departure: a person who did not come (frees the seat)' : 'check a person in at the muster point',
    usage: `/${key} <code> <movement> <person-number>`,
    allowed: 'any-member',
    positional: ['crisis', 'movement', 'person'],
    input: z.strictObject({ crisis: crisisCodeInput, movement: movementNumberInput, person: personNumberInput }),
    async run(ctx, input) {
      const actor = actorOf(ctx);
      const crisis = await activeCrisis(ctx, input.crisis);
      const r = await recordCheckIn(ctx, ctx.meta, crisis, input.movement, input.person, action, { id: actor.id, name: actor.displayName }, ctx.now);
      const status = r.statusApplied === null ? '' : r.statusApplied ? ' Status: evacuated.' : ' Noted as evacuated; a later report still sets the current status.';
      return message({
        title: `#${r.person.number} ${r.person.fullName}: ${CHECK_IN_LABELS[r.to].toLowerCase()}`,
        text: `${movementLabel(r.movement)}, muster point ${r.movement.musterPoint}.${status}`,
        buttons: r.to === 'checked-in' ? [{ label: 'Boarded', command: `/crisis boarded ${crisis.code} ${r.movement.number} ${r.person.number}`, style: 'primary' }] : [],
      });
    },
  });
}

export const checkinCommand = checkInCommand('crisis checkin');
export const boardedCommand = checkInCommand('crisis boarded');
export const noShowCommand = checkInCommand('crisis noshow');

// ---------------------------------------------------------------------------------------------
// /crisis manifest

export const MANIFEST_HEADERS = ['Number', 'Full name', 'Date of birth', 'Nationality', 'Passport', 'Phone', 'Household', 'Needs', 'State', 'Checked in', 'Boarded'];

export const manifestCommand = defineCommand({
  key: 'crisis manifest',
  summary: "a movement's manifest as CSV (personal data: only to you, and audited)",
  usage: '/crisis manifest <code> <movement>',
  allowed: 'any-member',
  positional: ['crisis', 'movement'],
  input: z.strictObject({ crisis: crisisCodeInput, movement: movementNumberInput }),
  async run(ctx, input) {
    actorOf(ctx);
    const crisis = await crisisFor(ctx, input.crisis);
    const m = await movementSummary(ctx.store, crisis, input.movement, ctx.now);
    const rows = await manifestOf(ctx.store, m);
    const content = toCsv(
      MANIFEST_HEADERS,
      rows.map(({ seat, person: p }) => [p.number, p.fullName, p.dateOfBirth, p.nationality, p.passportNumber, p.phone, p.household, p.needs.join(', '), seat.state, seat.checkedInAt, seat.boardedAt]),
    );
    await auditManifest(ctx.store, ctx.meta, crisis, m, rows);
    const stamp = ctx.now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
    return message({
      title: `${crisis.code} movement ${m.number} manifest: ${rows.length} ${rows.length === 1 ? 'person' : 'people'}`,
      text: 'Personal data: keep it to those who need it. This export is recorded in the audit log.',
      attachments: [
        {
          filename: `${crisis.code.toLowerCase()}-movement-${m.number}-manifest-${stamp}.csv`,
          mimeType: 'text/csv',
          content,
          title: `${crisis.code} ${titled(m)}: manifest (CSV)`,
          altText: `${rows.length} people on ${movementLabel(m)}, one per row: number, name, date of birth, nationality, passport, phone, household, needs, state, check-in and boarding times.`,
        },
      ],
      visibility: 'direct', // personal data: a DM (Slack), the 1:1 chat (Teams)
    });
  },
});

export const movementCommands = [movementNewCommand, movementListCommand, movementShowCommand, assignCommand, allocateCommand, checkinCommand, boardedCommand, noShowCommand, manifestCommand];
