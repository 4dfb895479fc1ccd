// /crisis import and /crisis export: people in and out as CSV or PFIF 1.4.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod/v4';
import { MAX_INVOCATION_FILE_BYTES } from '../../domain/invocation';
import { toPfifStatus, type PersonStatus } from '../../domain/person';
import { message } from '../../domain/reply';
import type { PersonNoteRecord, PersonRecord } from '../../store/crisis.repository';
import { CommandError, defineCommand, type HandlerContext } from '../command';
import { actorOf, crisisCodeInput, crisisFor } from './crisis-access';
import { deferTakeover, failImport, importMessage, runImport, startImport, TAKEOVER_MS } from './import.service';
import { writePeopleCsv } from './person-csv';
import type { PersonRecord as FileRecord, PfifNote, PfifPersonExtras } from './person-record';
import { writePfif } from './pfif';

/** Files larger than this are refused: a national registration list is a few MB. */
const MAX_FILE_BYTES = MAX_INVOCATION_FILE_BYTES;
const MB = 1024 * 1024;

function formatOf(name: string, given: string | undefined, content: Buffer): 'csv' | 'pfif' {
  if (given === 'csv' || given === 'pfif') return given;
  if (/\.(xml|pfif)$/i.test(name)) return 'pfif';
  const head = content.subarray(0, 200).toString('utf8');
  return /^\s*(<\?xml|<pfif)/i.test(head) ? 'pfif' : 'csv';
}

export const crisisImportCommand = defineCommand({
  key: 'crisis import',
  summary: 'import people from a CSV or PFIF 1.4 file (uploaded with the command in a DM, pasted as data="…", or file=<path> on the console)',
  usage: '/crisis import <code> [file=<path>] [data="…"] [format=csv|pfif]',
  allowed: 'any-member',
  positional: ['crisis'],
  form: {
    title: 'Import people',
    submitLabel: 'Import',
    fields: [
      { name: 'crisis', label: 'Crisis code', type: 'text', required: true, maxLength: 20 },
      { name: 'data', label: 'CSV (with a header line) or PFIF XML', type: 'longText', required: true },
    ],
  },
  // With nothing to import the paste form opens (an uploaded file skips it: see the dispatcher).
  opensForm: (args) => args.crisis === undefined || (args.data === undefined && args.file === undefined),
  input: z.strictObject({
    crisis: crisisCodeInput,
    file: z.string().trim().max(500).optional(),
    data: z.string().max(MAX_FILE_BYTES).optional(),
    format: z.enum(['csv', 'pfif'], { error: 'format=csv or format=pfif' }).optional(),
  }),
  async run(ctx, input) {
    const actor = actorOf(ctx);
    const crisis = await crisisFor(ctx, input.crisis, { active: true });
    let content: Buffer;
    let name: string;
    const uploaded = ctx.files?.[0];
    if (uploaded) {
      if (uploaded.content.length > MAX_FILE_BYTES) throw new CommandError('TOO_LARGE', `${uploaded.name} is ${Math.round(uploaded.content.length / MB)} MB; the limit is ${MAX_FILE_BYTES / MB} MB.`, { file: 'too large' });
      content = uploaded.content;
      name = uploaded.name;
    } else if (input.file) {
      // A path only from the console: the operator's own machine.
      if (ctx.caller.platform !== 'console') throw new CommandError('FORBIDDEN', 'file= works on the console only; in chat, paste the file into the import form (data=).', { file: 'console only' });
      try {
        const stat = fs.statSync(input.file);
        if (stat.size > MAX_FILE_BYTES) throw new CommandError('TOO_LARGE', `${input.file} is ${Math.round(stat.size / MB)} MB; the limit is ${MAX_FILE_BYTES / MB} MB.`, { file: 'too large' });
        content = fs.readFileSync(input.file);
      } catch (e) {
        if (e instanceof CommandError) throw e;
        throw new CommandError('FILE', `Could not read ${input.file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`, { file: 'unreadable' });
      }
      name = path.basename(input.file);
    } else if (input.data?.trim()) {
      content = Buffer.from(input.data, 'utf8');
      name = `pasted-${ctx.now.toISOString().slice(0, 10)}.${input.format ?? (/^\s*</.test(input.data) ? 'xml' : 'csv')}`;
    } else {
      throw new CommandError('INVALID_INPUT', 'Send the file with the command in my direct messages (upload it with "crisis import CODE" as its message), paste it (data=…), or give file=<path> on the console.', { data: 'required' });
    }
    const format = formatOf(name, input.format, content);
    const deps = { store: ctx.store, outbox: ctx.outbox, logger: ctx.logger, missionTimeZone: ctx.settings.missionTimeZone };
    const onConsole = ctx.caller.platform === 'console';
    // The console runs no scheduler and imports here and now. Its job stands by behind it, pushed
    // back at every batch: a server takes the import up only if this process dies.
    const runId = await startImport(deps, ctx.meta, crisis, { name, content, format }, onConsole ? null : `member:${actor.id}`, { id: actor.id }, ctx.now, { runHere: onConsole });
    if (!onConsole) {
      return message({ title: `Importing ${name} into ${crisis.code}`, text: 'Progress and the row-by-row report come in our direct messages.' });
    }
    let s: Awaited<ReturnType<typeof runImport>>;
    try {
      const started = Date.now();
      // Every 30 s is plenty against a takeover 150 s behind; every batch would be a commit on this
      // thread, and a commit here while the import's writer lets its log grow pays for its checkpoint.
      let deferred = started;
      s = await runImport(deps, runId, () => ctx.now, async () => {
        if (Date.now() - deferred < TAKEOVER_MS / 5) return;
        deferred = Date.now();
        await deferTakeover(deps.store, runId, new Date(ctx.now.getTime() + Date.now() - started));
      });
    } catch (err) {
      // Never leave the run "running": rows already committed stay; the run says it failed.
      const reason = err instanceof Error ? err.message : String(err);
      await failImport(deps.store, runId, reason, ctx.now);
      throw new CommandError('IMPORT_FAILED', `Import of ${name} into ${crisis.code} failed: ${reason}`);
    }
    return { ...importMessage({ fileName: name, status: s.status, done: s.total, imported: s.imported, updated: s.updated, duplicates: s.duplicates, problemCount: s.problemCount, problems: s.problems }, crisis.code), visibility: 'caller', ok: s.problemCount === 0 || s.imported + s.updated + s.unchanged > 0 };
  },
});

// ---------------------------------------------------------------------------------------------
// Export

const extrasSchema = z.record(z.string(), z.unknown());

function withoutSourceName(x: PfifPersonExtras): PfifPersonExtras {
  const { sourceName: _drop, ...rest } = x as PfifPersonExtras & { sourceName?: string };
  return rest;
}

function fileRecordOf(p: PersonRecord, notes: readonly PfifNote[]): FileRecord {
  let pfif: PfifPersonExtras | undefined;
  if (p.pfif) {
    try {
      const r = extrasSchema.safeParse(JSON.parse(p.pfif));
      if (r.success && typeof r.data.personRecordId === 'string') pfif = r.data as unknown as PfifPersonExtras;
    } catch {
      // unreadable extras: export what we model
    }
  }
  const expired = Boolean(pfif?.expiryDate) && p.mergedIntoId === p.id;
  return {
    sourceId: p.sourceId ?? String(p.number),
    fullName: expired ? '' : p.fullName,
    givenName: p.givenName,
    familyName: p.familyName,
    alternateNames: p.alternateNames,
    sex: p.sex,
    dateOfBirth: p.dateOfBirth,
    age: p.age,
    nationality: p.nationality,
    passportNumber: p.passportNumber,
    homeStreet: p.homeStreet,
    homeNeighborhood: p.homeNeighborhood,
    homeCity: p.homeCity,
    homeState: p.homeState,
    homePostalCode: p.homePostalCode,
    homeCountry: p.homeCountry,
    location: p.location,
    latitude: p.latitude === null ? null : String(p.latitude),
    longitude: p.longitude === null ? null : String(p.longitude),
    phone: p.phone,
    email: p.email,
    nokName: p.nokName,
    nokRelationship: p.nokRelationship,
    nokPhone: p.nokPhone,
    nokEmail: p.nokEmail,
    description: p.description,
    needs: p.needs.join(', ') || null,
    household: p.household,
    status: p.status,
    // A PFIF record keeps the source_name it came with (none, for an expired placeholder).
    source: pfif ? (typeof (pfif as { sourceName?: unknown }).sourceName === 'string' ? ((pfif as { sourceName?: string }).sourceName as string) : null) : p.source,
    sourceDate: p.sourceDate.toISOString(),
    ...(pfif ? { pfif: withoutSourceName(pfif) } : {}),
    notes: [...notes],
  };
}

const noteExtras = z.object({ noteRecordId: z.string().optional(), linkedPersonRecordId: z.string().nullable().optional(), entryDate: z.string().nullable().optional(), authorEmail: z.string().nullable().optional(), authorPhone: z.string().nullable().optional(), pfifStatus: z.string().nullable().optional(), emailOfFoundPerson: z.string().nullable().optional(), phoneOfFoundPerson: z.string().nullable().optional(), photoUrl: z.string().nullable().optional(), extra: z.record(z.string(), z.string()).optional() }).partial();

function pfifNoteOf(n: PersonNoteRecord, personRecordId: string, domain: string, linked: Map<string, string>, undone: ReadonlySet<string>): PfifNote {
  let x: z.output<typeof noteExtras> = {};
  if (n.pfif) {
    try {
      x = noteExtras.catch({}).parse(JSON.parse(n.pfif));
    } catch {
      x = {};
    }
  }
  return {
    noteRecordId: x.noteRecordId ?? `${domain}/note.${n.id}`,
    personRecordId,
    // Our own "same person" link, unless that merge was undone since (the note itself stays).
    linkedPersonRecordId: x.linkedPersonRecordId ?? (n.linkedPersonId && !undone.has([n.personId, n.linkedPersonId].sort().join('|')) ? (linked.get(n.linkedPersonId) ?? null) : null),
    entryDate: x.entryDate ?? n.createdAt.toISOString(),
    authorName: n.authorName,
    authorEmail: x.authorEmail ?? null,
    authorPhone: x.authorPhone ?? null,
    sourceDate: n.sourceAt.toISOString(),
    authorMadeContact: n.madeContact,
    // The status as the source wrote it, else ours in PFIF's words.
    status: x.pfifStatus ?? (n.status ? toPfifStatus(n.status as PersonStatus) || null : null),
    emailOfFoundPerson: x.emailOfFoundPerson ?? null,
    phoneOfFoundPerson: x.phoneOfFoundPerson ?? null,
    lastKnownLocation: n.lastKnownLocation,
    text: n.text ?? '',
    photoUrl: x.photoUrl ?? null,
    ...(x.extra ? { extra: x.extra } : {}),
  };
}

function exportDomain(ctx: HandlerContext): string {
  try {
    return ctx.settings.publicBaseUrl ? new URL(ctx.settings.publicBaseUrl).host : 'duty-desk.invalid';
  } catch {
    return 'duty-desk.invalid';
  }
}

export const crisisExportCommand = defineCommand({
  key: 'crisis export',
  summary: 'every person of a crisis as CSV, or as PFIF 1.4 with their notes (privately; audited)',
  usage: '/crisis export <code> csv|pfif',
  allowed: 'any-member',
  positional: ['crisis', 'format'],
  input: z.strictObject({ crisis: crisisCodeInput, format: z.enum(['csv', 'pfif'], { error: 'csv or pfif' }).default('csv') }),
  async run(ctx, input) {
    const crisis = await crisisFor(ctx, input.crisis);
    const people = await ctx.store.crises.people(crisis.id);
    const stamp = ctx.now.toISOString().slice(0, 10);
    if (input.format === 'csv') {
      await ctx.store.change(ctx.meta, (w) => w.audit('crisis', crisis.id, 'export', null, { format: input.format, people: people.length }));
      const content = writePeopleCsv(people.map((p) => fileRecordOf(p, [])));
      return message({
        visibility: 'direct',
        title: `${crisis.code}: ${people.length} people as CSV`,
        text: 'Personal data: keep the file where only the crisis cell can read it.',
        attachments: [{ filename: `${crisis.code.toLowerCase()}-people-${stamp}.csv`, mimeType: 'text/csv', content, title: `${crisis.code} people (CSV)`, altText: `${people.length} people, one per row.` }],
      });
    }
    const domain = exportDomain(ctx);
    // PFIF keeps duplicates as linked records, and expired placeholders: every record goes out.
    const all = await ctx.store.crises.people(crisis.id, { includeMerged: true });
    const idOf = new Map(all.map((p) => [p.id, fileRecordOf(p, []).pfif?.personRecordId ?? `${domain}/${p.sourceId ?? p.number}`]));
    const notes = await ctx.store.crises.notesOfCrisis(crisis.id);
    // Counted as written: merged records and placeholders go out too.
    await ctx.store.change(ctx.meta, (w) => w.audit('crisis', crisis.id, 'export', null, { format: input.format, people: all.length, notes: notes.length }));
    const undone = new Set((await ctx.store.db.duplicateCandidate.findMany({ where: { crisisId: crisis.id, status: 'undone' }, select: { personAId: true, personBId: true } })).map((c) => [c.personAId, c.personBId].sort().join('|')));
    const byPerson = new Map<string, PfifNote[]>();
    for (const n of notes) {
      const pid = idOf.get(n.personId);
      if (!pid) continue;
      byPerson.set(n.personId, [...(byPerson.get(n.personId) ?? []), pfifNoteOf(n, pid, domain, idOf, undone)]);
    }
    const records = all.map((p) => {
      const r = fileRecordOf(p, byPerson.get(p.id) ?? []);
      return r.pfif ? r : { ...r, sourceId: `${p.sourceId ?? p.number}` };
    });
    let problems = 0;
    const xml = writePfif(records, { domain, onProblem: () => problems++ });
    return message({
      visibility: 'direct',
      title: `${crisis.code}: ${all.length} records as PFIF 1.4`,
      text: `With ${notes.length} notes.${problems ? ` ${problems} values did not fit PFIF and were left out or written as they are.` : ''} Phone, email, passport and next of kin are not written: a PFIF file may go to public registries.`,
      attachments: [{ filename: `${crisis.code.toLowerCase()}-people-${stamp}.pfif.xml`, mimeType: 'application/xml', content: Buffer.from(xml, 'utf8'), title: `${crisis.code} people (PFIF 1.4)`, altText: `${people.length} people with their notes.` }],
    });
  },
});

export const transferCommands = [crisisImportCommand, crisisExportCommand];
