// Subject access: /duty export-person through the real dispatcher and database. For a person: the
// record with every field, the record merged into it, the record of another crisis and the case
// with the same passport, status reports, calls, the seat, the duplicate decision, and the audit
// entries about each — exactly, as JSON with sorted keys and ISO dates — and a PDF saying the same;
// privately, admins only, the export itself audited. For a case reference: that case with its notes
// and history, and the people and cases sharing its passport. Nothing about anyone else.
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { Core } from '../../src/core';
import type { MessageReply, Reply } from '../../src/domain/reply';
import { as, coreOn, manualClock, msg } from '../helpers/core';
import { freshSqlite, type TestDb } from '../helpers/db';

const PDFJS_URL = pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href;
// pdf.js is an ES module; it runs in a child Node process (as in tests/handlers/report/pdf.test.ts).
const EXTRACT = `
const pdfjs = await import(process.env.PDFJS_URL);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const doc = await pdfjs.getDocument({ data: new Uint8Array(Buffer.concat(chunks)), verbosity: 0, isEvalSupported: false, disableFontFace: true }).promise;
const out = [];
for (let n = 1; n <= doc.numPages; n++) {
  const page = await doc.getPage(n);
  out.push((await page.getTextContent()).items.map((i) => i.str).join(' '));
}
process.stdout.write(JSON.stringify({ pages: doc.numPages, title: (await doc.getMetadata()).info.Title, text: out.join('\\n') }));
`;

function pdfText(pdf: Buffer): { pages: number; title: string; text: string } {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', EXTRACT], { input: pdf, env: { ...process.env, PDFJS_URL }, maxBuffer: 64 * 1024 * 1024 }).toString('utf8')) as { pages: number; title: string; text: string };
}

function numberIn(r: Reply): number {
  const m = /#(\d+)/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no person number in ${JSON.stringify(r)}`);
  return Number(m[1]);
}

function refIn(r: Reply): string {
  const m = /C-\d{4}-\d{5}/.exec(msg(r).title ?? '');
  if (!m) throw new Error(`no case reference in ${JSON.stringify(r)}`);
  return m[0];
}

/** Keys sorted at every level: what the export promises, checked on the text itself. */
function sortedDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedDeep);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedDeep((v as Record<string, unknown>)[k])]));
  return v;
}

interface Doc {
  export: Record<string, unknown>;
  people: { reason: string; crisis: unknown; record: Record<string, unknown>; statusReports: Record<string, unknown>[]; contactAttempts: Record<string, unknown>[]; movementSeats: Record<string, unknown>[]; duplicateDecisions: Record<string, unknown>[] }[];
  cases: { reason: string; record: Record<string, unknown>; notes: Record<string, unknown>[]; history: Record<string, unknown>[] }[];
  auditEntries: { id: number; entity: string; entityId: string; action: string; before: unknown; after: unknown; at: string; actorName: string }[];
}

function exported(r: Reply): { reply: MessageReply; json: string; doc: Doc; pdf: Buffer } {
  const m = msg(r);
  expect(m.ok).toBe(true);
  const json = m.attachments?.find((a) => a.mimeType === 'application/json');
  const pdf = m.attachments?.find((a) => a.mimeType === 'application/pdf');
  if (!json || !pdf) throw new Error(`expected a JSON and a PDF attachment: ${JSON.stringify(m.attachments?.map((a) => a.filename))}`);
  const text = json.content.toString('utf8');
  return { reply: m, json: text, doc: JSON.parse(text) as Doc, pdf: pdf.content };
}

describe('subject access export [sqlite]', () => {
  let db: TestDb;
  let core: Core;
  const clock = manualClock('2026-03-10T08:00:00Z');
  const adm = () => as(core, 'adm');
  const n = { zora: 0, copy: 0, other: 0, stranger: 0 };
  const refs = { same: '', stranger: '' };

  beforeAll(async () => {
    db = await freshSqlite();
    core = await coreOn(db, { MISSION_TIMEZONE: 'Europe/Paris' }, clock.now);
    const root = as(core, 'root');
    expect(msg(await root.run('/duty member add handle=adm name="Ada Min" tz=Europe/Paris roles=admin,crisis,officer')).ok).toBe(true);
    expect(msg(await root.run('/duty member add handle=cara name="Cara Cell" roles=crisis')).ok).toBe(true);
    const a = adm();
    expect(msg(await a.run('/crisis open name="Alpine avalanche" code=ALP-AV region=Valais')).ok).toBe(true);
    expect(msg(await a.run('/crisis open name="Bernese floods" code=BER-FL region=Bern')).ok).toBe(true);
    n.zora = numberIn(await a.run('/person add crisis=ALP-AV name="Zora Quimby" given=Zora family=Quimby dob=1970-05-06 sex=female nationality=Canadian passport=QZ1234567 phone="+1 613 555 0199" email=Zora@Example.org location="Chalet 9" city=Zermatt country=Switzerland nok_name="Quill Quimby" nok_phone="+1 613 555 0100" needs=medical household=Quimby description="Uses a wheelchair" source=relative'));
    clock.set('2026-03-10T08:05:00Z');
    n.copy = numberIn(await a.run('/person add crisis=ALP-AV name="Zora Quimby" dob=1970-05-06 passport=QZ1234567'));
    n.other = numberIn(await a.run('/person add crisis=BER-FL name="Z. Quimby" passport=QZ1234567'));
    n.stranger = numberIn(await a.run('/person add crisis=ALP-AV name="Ulric Unrelated" passport=UU9999999 phone="+41 79 000 00 00"'));
    const pair = await core.store.db.duplicateCandidate.findFirstOrThrow({ where: { crisisId: (await core.store.crises.byCode('ALP-AV'))?.id ?? '' } });
    clock.set('2026-03-10T08:10:00Z');
    expect(msg(await a.run(`/crisis same ${pair.id}`)).ok).toBe(true);
    clock.set('2026-03-10T09:00:00Z');
    expect(msg(await a.run(`/person status ${n.zora} injured "Fell on the ice" location="Clinic Zermatt"`)).ok).toBe(true);
    expect(msg(await as(core, 'cara').run(`/person contact ${n.zora} reached`)).ok).toBe(true);
    expect(msg(await a.run(`/person status ${n.stranger} safe "Ulric is fine"`)).ok).toBe(true);
    expect(msg(await a.run('/crisis movement new ALP-AV kind=bus name="Valley bus" capacity=30 departs="2026-03-12 08:00" muster="Zermatt station"')).ok).toBe(true);
    expect(msg(await a.run(`/crisis assign ALP-AV ${n.zora} 1`)).ok).toBe(true);
    clock.set('2026-03-10T10:00:00Z');
    refs.same = refIn(await a.run('/case new category=arrest priority=p2 name="Zora Quimby" reporter=police summary="Detained at the border" passport="qz 123 4567" city=Zermatt'));
    expect(msg(await a.run(`/case note ${refs.same} "Lawyer appointed for Zora"`)).ok).toBe(true);
    refs.stranger = refIn(await a.run('/case new category=document priority=p4 name="Ulric Unrelated" reporter=self summary="Lost his card" passport=UU9999999 city=Bern'));
    clock.set('2026-03-11T07:30:00Z');
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('admins only; a number or a case reference; unknown ones refused', async () => {
    expect(msg(await as(core, 'cara').run(`/duty export-person ${n.zora}`)).error?.code).toBe('FORBIDDEN');
    expect(msg(await adm().run('/duty export-person')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await adm().run('/duty export-person zora')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await adm().run('/duty export-person 999999')).error?.code).toBe('UNKNOWN_PERSON');
    expect(msg(await adm().run('/duty export-person C-2026-09999')).error?.code).toBe('UNKNOWN_CASE');
    expect(await core.store.db.auditEntry.count({ where: { action: 'subject-access' } })).toBe(0);
  });

  test('a person: everything held about them, exactly, as JSON with sorted keys and ISO dates; privately; audited', async () => {
    const audited = await core.store.db.auditEntry.findMany({ orderBy: { id: 'asc' } });
    const { reply, json, doc, pdf } = exported(await adm().run(`/duty export-person #${n.zora}`));
    expect(reply.visibility).toBe('direct');
    expect(reply.title).toBe(`Subject access: person #${n.zora}`);
    expect(reply.attachments?.map((x) => x.filename)).toEqual([`subject-access-person-${n.zora}.json`, `subject-access-person-${n.zora}.pdf`]);
    // Stable: keys sorted at every level, two-space indentation, a final newline.
    expect(json).toBe(`${JSON.stringify(sortedDeep(JSON.parse(json)), null, 2)}\n`);

    const zora = await core.store.crises.personByNumber(n.zora);
    const copy = await core.store.crises.personByNumber(n.copy);
    const other = await core.store.crises.personByNumber(n.other);
    const stranger = await core.store.crises.personByNumber(n.stranger);
    if (!zora || !copy || !other || !stranger) throw new Error('people missing');
    const alp = await core.store.crises.byCode('ALP-AV');
    const adaId = (await core.store.members.byHandle('adm'))?.id;
    const caraId = (await core.store.members.byHandle('cara'))?.id;
    const iso = (d: Date | null) => d?.toISOString() ?? null;

    expect(doc.export).toEqual({ format: 'duty-desk-subject-access/1', request: `person #${n.zora}`, at: '2026-03-11T07:30:00.000Z', by: '@adm' });
    expect(doc.people.map((p) => [p.reason, p.record.number])).toEqual([
      ['requested', n.zora],
      [`merged into #${n.zora} as the same person`, n.copy],
      ['same passport', n.other],
    ]);
    const [main, merged, elsewhere] = doc.people;
    expect(main?.crisis).toEqual({ code: 'ALP-AV', name: 'Alpine avalanche' });
    expect(elsewhere?.crisis).toEqual({ code: 'BER-FL', name: 'Bernese floods' });
    expect(main?.record).toEqual({
      id: zora.id,
      number: n.zora,
      crisisId: alp?.id,
      fullName: 'Zora Quimby',
      givenName: 'Zora',
      familyName: 'Quimby',
      alternateNames: [],
      nameKey: zora.nameKey,
      sex: 'female',
      dateOfBirth: '1970-05-06',
      age: null,
      nationality: 'Canadian',
      passportNumber: 'QZ1234567',
      homeStreet: null,
      homeNeighborhood: null,
      homeCity: 'Zermatt',
      homeState: null,
      homePostalCode: null,
      homeCountry: 'CH',
      location: 'Clinic Zermatt',
      latitude: null,
      longitude: null,
      phone: '+16135550199',
      email: 'zora@example.org',
      nokName: 'Quill Quimby',
      nokRelationship: null,
      nokPhone: '+16135550100',
      nokEmail: null,
      description: 'Uses a wheelchair',
      needs: ['medical'],
      household: 'Quimby',
      status: 'injured',
      statusAt: '2026-03-10T09:00:00.000Z',
      source: 'relative',
      sourceId: null,
      // the merged record's, which is newer
      sourceDate: '2026-03-10T08:05:00.000Z',
      pfif: null,
      mergedIntoId: null,
      version: zora.version,
      createdAt: '2026-03-10T08:00:00.000Z',
      updatedAt: iso(zora.updatedAt),
      erasedAt: null,
    });
    expect(merged?.record).toMatchObject({ id: copy.id, fullName: 'Zora Quimby', passportNumber: 'QZ1234567', mergedIntoId: zora.id, dateOfBirth: '1970-05-06' });
    expect(elsewhere?.record).toMatchObject({ id: other.id, fullName: 'Z. Quimby', passportNumber: 'QZ1234567', mergedIntoId: null });

    const notes = await core.store.crises.notes(zora.id);
    expect(main?.statusReports).toEqual(notes.map((x) => ({ ...x, sourceAt: x.sourceAt.toISOString(), createdAt: x.createdAt.toISOString() })));
    expect(main?.statusReports.map((x) => [x.status, x.text, x.lastKnownLocation, x.authorName])).toEqual([
      [null, 'Record created', 'Chalet 9', 'Ada Min'],
      // the merge's reciprocal linked note
      [null, `Same person as #${n.copy}`, null, 'Ada Min'],
      ['injured', 'Fell on the ice', 'Clinic Zermatt', 'Ada Min'],
    ]);
    const attempt = (await core.store.crises.attempts(zora.id))[0];
    expect(main?.contactAttempts).toEqual([{ id: attempt?.id, personId: zora.id, crisisId: alp?.id, byId: caraId, byName: 'Cara Cell', outcome: 'reached', at: '2026-03-10T09:00:00.000Z' }]);
    expect(main?.movementSeats).toEqual([{ movementNumber: 1, movementName: 'Valley bus', movementKind: 'bus', departureAt: '2026-03-12T07:00:00.000Z', state: 'assigned', assignedAt: '2026-03-10T09:00:00.000Z', checkedInAt: null, boardedAt: null }]);
    const pair = await core.store.db.duplicateCandidate.findFirstOrThrow({ where: { crisisId: alp?.id } });
    const decision = { id: pair.id, score: pair.score, reasons: JSON.parse(pair.reasons) as unknown, status: 'same', decidedBy: '@adm', decidedAt: '2026-03-10T08:10:00.000Z', createdAt: '2026-03-10T08:05:00.000Z' };
    expect(main?.duplicateDecisions).toEqual([{ ...decision, otherPerson: n.copy }]);
    expect(merged?.duplicateDecisions).toEqual([{ ...decision, otherPerson: n.zora }]);
    expect(merged?.movementSeats).toEqual([]);
    expect(elsewhere?.statusReports.map((x) => x.text)).toEqual(['Record created']);

    // The case with the same passport (typed with spaces, stored normalised), its notes and history.
    const c = await core.store.cases.byRef(refs.same);
    if (!c) throw new Error('case missing');
    expect(doc.cases.map((x) => [x.reason, x.record.ref])).toEqual([['same passport', refs.same]]);
    expect(doc.cases[0]?.record).toMatchObject({ id: c.id, subjectName: 'Zora Quimby', passportNumber: 'QZ1234567', summary: 'Detained at the border', category: 'arrest', priority: 'P2', status: 'new', openedAt: '2026-03-10T10:00:00.000Z', erasedAt: null });
    expect(Object.keys(doc.cases[0]?.record ?? {})).toHaveLength(43);
    expect(doc.cases[0]?.notes.map((x) => [x.text, x.authorName, x.createdAt])).toEqual([['Lawyer appointed for Zora', 'Ada Min', '2026-03-10T10:00:00.000Z']]);
    expect(doc.cases[0]?.history.map((x) => x.type)).toEqual((await core.store.cases.events(c.id)).map((e) => e.type));

    // The audit entries about those records, oldest first, exactly those.
    const about = new Set([`person:${zora.id}`, `person:${copy.id}`, `person:${other.id}`, `case:${c.id}`, `duplicate:${pair.id}`]);
    const expected = audited.filter((e) => about.has(`${e.entity}:${e.entityId}`) || (e.entity === 'movement-seat' && [zora.id, copy.id, other.id].some((id) => e.entityId.endsWith(`:${id}`))));
    expect(doc.auditEntries.map((e) => [e.id, e.entity, e.entityId, e.action])).toEqual(expected.map((e) => [e.id, e.entity, e.entityId, e.action]));
    expect(doc.auditEntries.map((e) => `${e.entity} ${e.action}`)).toEqual(
      expect.arrayContaining(['person add', 'duplicate same', 'person merge', 'person merged', 'person status', 'person contact', 'movement-seat assign', 'case open', 'case note']),
    );
    const first = expected[0];
    if (!first) throw new Error('no audit entry');
    expect(doc.auditEntries[0]).toEqual({
      id: first.id,
      at: first.at.toISOString(),
      actorId: first.actorId,
      actorName: first.actorName,
      platform: first.platform,
      requestId: first.requestId,
      entity: first.entity,
      entityId: first.entityId,
      action: first.action,
      before: null,
      after: JSON.parse(first.after ?? 'null') as unknown,
    });

    // Nothing about anyone else.
    for (const s of ['Ulric', 'UU9999999', '+41790000000', 'Lost his card', stranger.id, refs.stranger]) expect(json).not.toContain(s);

    // The export is audited with counts only.
    const entry = await core.store.db.auditEntry.findFirstOrThrow({ where: { action: 'subject-access' } });
    expect(entry).toMatchObject({ entity: 'person', entityId: zora.id, actorId: adaId, actorName: '@adm' });
    expect(JSON.parse(entry.after ?? '{}')).toEqual({ request: `person #${n.zora}`, people: 3, cases: 1, auditEntries: expected.length });

    // The PDF says the same.
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text.title).toBe(`Subject access: person #${n.zora}`);
    for (const s of ['Zora Quimby', 'QZ1234567', '+16135550199', 'zora@example.org', 'Fell on the ice', 'Valley bus', refs.same, 'Lawyer appointed for Zora', 'subject access', 'duplicate']) expect(text.text).toContain(s);
    expect(text.text).not.toContain('Ulric');

    // A second export at the same moment reads the same, plus the first export's own audit entry.
    const again = exported(await adm().run(`/duty export-person ${n.zora}`));
    expect({ ...again.doc, auditEntries: again.doc.auditEntries.slice(0, -1) }).toEqual(doc);
    expect(again.doc.auditEntries.at(-1)).toMatchObject({ entity: 'person', entityId: zora.id, action: 'subject-access' });
  });

  test('a case reference: that case with its notes and history, and the people and cases sharing its passport', async () => {
    const { doc, json } = exported(await adm().run(`/duty export-person ${refs.same.toLowerCase()}`));
    expect(doc.export.request).toBe(`case ${refs.same}`);
    expect(doc.cases.map((x) => [x.reason, x.record.ref])).toEqual([['requested', refs.same]]);
    expect(doc.people.map((p) => [p.reason, p.record.number])).toEqual([
      ['same passport', n.zora],
      ['same passport', n.copy],
      ['same passport', n.other],
    ]);
    expect(doc.cases[0]?.history.length).toBeGreaterThan(0);
    expect(json).not.toContain('Ulric');
    const c = await core.store.cases.byRef(refs.same);
    expect(await core.store.db.auditEntry.count({ where: { entity: 'case', entityId: c?.id, action: 'subject-access' } })).toBe(1);
    // Its own case-only export: the stranger's case alone, nobody else.
    const alone = exported(await adm().run(`/duty export-person ${refs.stranger}`)).doc;
    expect(alone.cases.map((x) => x.record.ref)).toEqual([refs.stranger]);
    expect(alone.people.map((p) => p.record.number)).toEqual([n.stranger]);
  });
});
