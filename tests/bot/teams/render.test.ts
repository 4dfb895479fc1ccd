import fc from 'fast-check';
import {
  CARD_BUDGET_BYTES,
  escapeCardText,
  readCardString,
  readCardValues,
  renderButton,
  renderFormCard,
  renderMessageCard,
  splitDateTime,
  truncate,
  type AdaptiveCard,
} from '../../../src/bot/teams/render';
import { failure, message, type FormSpec, type ReplyRow } from '../../../src/domain/reply';
import { walk, type CardNode } from './activities';

const ZWSP = /\u200B/g;

function bytes(card: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(card), 'utf8');
}

function blocks(card: AdaptiveCard): CardNode[] {
  return walk(card.body).filter((n) => n.type === 'TextBlock');
}

describe('renderMessageCard', () => {
  test('title, text, facts, rows and buttons', () => {
    const card = renderMessageCard(
      message({
        title: 'Page 42',
        text: 'Unacknowledged for 5 minutes',
        fields: [{ label: 'Case', value: 'C-7' }],
        rows: [{ text: 'Alee', fields: [{ label: 'Role', value: 'officer' }], buttons: [{ label: 'Call', command: '/duty me' }] }],
        buttons: [
          { label: 'Ack', command: '/page ack 42', style: 'primary' },
          { label: 'Close', command: '/page close 42', style: 'danger', confirm: { title: 'Close page 42?', text: 'Nobody will be paged again.', confirm: 'Close it', deny: 'Keep' } },
        ],
      }),
    );
    expect(card).toMatchObject({ type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'Page 42', weight: 'bolder', wrap: true });
    expect(card.body[1]).toMatchObject({ type: 'TextBlock', text: 'Unacknowledged for 5 minutes' });
    expect(card.body[2]).toEqual({ type: 'FactSet', facts: [{ title: 'Case', value: 'C-7' }] });
    const row = card.body[3] as CardNode;
    expect(row.type).toBe('Container');
    expect(walk(row.items).map((n) => n.type)).toEqual(['TextBlock', 'FactSet', 'ActionSet', 'Action.Execute']);
    expect(card.actions?.[0]).toEqual({ type: 'Action.Execute', title: 'Ack', verb: 'duty.command', data: { command: '/page ack 42' }, style: 'positive' });
    // "Are you sure?" opens in place, and the inner button runs the command.
    const close = card.actions?.[1] as CardNode;
    expect(close).toMatchObject({ type: 'Action.ShowCard', title: 'Close', style: 'destructive' });
    expect(walk(close.card)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Action.Execute', title: 'Close it', verb: 'duty.command', data: { command: '/page close 42' } })]),
    );
    expect(card.fallbackText).toBe('Page 42 — Unacknowledged for 5 minutes');
    expect(JSON.stringify(card)).not.toContain('"color"');
  });

  test('errors are styled as attention, with per-field messages', () => {
    const card = renderMessageCard(failure('INVALID_INPUT', 'Two fields are wrong.', { email: 'not an email address' }));
    const tb = blocks(card);
    expect(tb[0]).toMatchObject({ text: 'Two fields are wrong.', color: 'attention' });
    expect(tb.some((b) => b.text === 'email: not an email address' && b.color === 'attention')).toBe(true);
  });

  test('multi-line text becomes one block per line', () => {
    const card = renderMessageCard(message({ text: 'one\ntwo\n\nthree' }));
    expect(blocks(card).map((b) => [b.text, b.spacing])).toEqual([
      ['one', undefined],
      ['two', 'None'],
      ['three', 'Medium'],
    ]);
  });

  test('many rows are cut to fit Teams with "…and N more"', () => {
    const rows: ReplyRow[] = Array.from({ length: 500 }, (_, i) => ({
      text: `Member ${i} ${'x'.repeat(80)}`,
      fields: [{ label: 'Roles', value: 'officer, leader' }],
      buttons: [{ label: 'Remove', command: `/duty member remove @m${i}` }],
    }));
    const card = renderMessageCard(message({ title: 'Members', rows }));
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    expect(bytes(card)).toBeLessThan(28 * 1024);
    const containers = card.body.filter((n) => n.type === 'Container');
    expect(containers.length).toBeGreaterThan(10);
    expect(containers.length).toBeLessThan(500);
    expect(card.body.at(-1)).toMatchObject({ type: 'TextBlock', text: `…and ${500 - containers.length} more` });
  });

  test('a short list is not cut', () => {
    const card = renderMessageCard(message({ rows: [{ text: 'a' }, { text: 'b' }] }));
    expect(JSON.stringify(card)).not.toContain('more');
  });

  test('one enormous text and many facts still fit', () => {
    const card = renderMessageCard(
      message({
        title: 't'.repeat(5000),
        text: 'é'.repeat(200_000),
        fields: Array.from({ length: 200 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(2000) })),
        rows: [{ text: 'row' }],
      }),
    );
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    const facts = (card.body.find((n) => n.type === 'FactSet') as CardNode).facts as Array<{ title: string; value: string }>;
    expect(facts.at(-1)).toEqual({ title: '…', value: 'and 170 more' });
    expect(String(card.body[0]?.text).endsWith('…')).toBe(true);
  });

  test('user text cannot expand templates, make links or mention people', () => {
    const hostile = 'Hi ${user.secret} [click here](https://evil.example) ![x](https://t.example/p.png) <https://evil.example> <at>Boss</at>';
    const card = renderMessageCard(
      message({ title: hostile, text: hostile, fields: [{ label: hostile, value: hostile }], rows: [{ text: hostile }], buttons: [{ label: '${x}', command: '/duty help ${x}' }] }),
    );
    // fallbackText is plain text (no markdown) but still goes through templating.
    expect(card.fallbackText).not.toContain('${');
    const json = JSON.stringify({ ...card, fallbackText: undefined, actions: card.actions?.map((a) => ({ ...a, data: undefined })) });
    expect(json).not.toContain('${');
    expect(json).not.toContain('](');
    expect(json).not.toContain('<at>');
    expect(json).not.toContain('<https');
    // What people read is unchanged.
    expect(String(card.body[0]?.text).replace(ZWSP, '')).toBe(hostile);
    // The command a button runs is data, not display, but a template engine would bind it too:
    // escaped on the card, read back exactly.
    const data = card.actions?.[0]?.data as { command: string };
    expect(data.command).not.toContain('${');
    expect(readCardString(data.command)).toBe('/duty help ${x}');
  });

  test('escapeCardText only ever inserts invisible breaks', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('$', '{', '}', '[', ']', '(', ')', ':', '<', '>', 'a', ' ', '\n') }), (s) => {
        const e = escapeCardText(s);
        expect(e.replace(ZWSP, '')).toBe(s.replace(ZWSP, ''));
        expect(e).not.toMatch(/\$\{|\]\(|\]\[|\]:|<[^\u200B]/);
      }),
    );
  });

  test('truncate counts characters, not UTF-16 units', () => {
    expect(truncate('😀😀😀', 3)).toBe('😀😀😀');
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
  });

  test('buttons beyond five go to the overflow menu', () => {
    const card = renderMessageCard(message({ buttons: Array.from({ length: 7 }, (_, i) => ({ label: `b${i}`, command: `/duty help ${i}` })) }));
    expect(card.actions?.map((a) => a.mode)).toEqual([undefined, undefined, undefined, undefined, undefined, 'secondary', 'secondary']);
    expect(renderButton({ label: 'x', command: '/x' })).not.toHaveProperty('style');
  });
});

const everyType: FormSpec = {
  command: 'case new',
  title: 'New case',
  submitLabel: 'Open case',
  context: 'ctx-1',
  fields: [
    { name: 'summary', label: 'Summary', type: 'text', required: true, maxLength: 120, placeholder: 'What happened' },
    { name: 'details', label: 'Details', type: 'longText', required: false, help: 'Facts only' },
    { name: 'people', label: 'People', type: 'number', required: false },
    { name: 'category', label: 'Category', type: 'select', required: true, options: [{ value: 'arrest', label: 'Arrest or detention' }, { value: 'death', label: 'Death abroad' }] },
    { name: 'tags', label: 'Tags', type: 'multiSelect', required: false, options: [{ value: 'media', label: 'Media interest' }, { value: 'minor', label: 'Minor involved' }] },
    { name: 'born', label: 'Date of birth', type: 'date', required: false },
    { name: 'when', label: 'When', type: 'dateTime', required: true },
    { name: 'owner', label: 'Owner', type: 'user', required: false },
    { name: 'urgent', label: 'Urgent', type: 'checkbox', required: false },
  ],
  values: { summary: 'Arrest in port', people: '2', tags: ['media'], when: '2026-03-01T14:30', urgent: true, category: 'arrest' },
  errors: { category: 'pick a category', _: 'The case could not be saved.' },
};

describe('renderFormCard', () => {
  const card = renderFormCard(everyType);
  const byId = (id: string): CardNode | undefined => walk(card).find((n) => n.id === id);

  test('one input per field, of the right kind, with labels, required flags and values', () => {
    expect(byId('field.summary')).toMatchObject({ type: 'Input.Text', label: 'Summary', isRequired: true, value: 'Arrest in port', maxLength: 120, placeholder: 'What happened', errorMessage: 'Summary is required' });
    expect(byId('field.details')).toMatchObject({ type: 'Input.Text', isMultiline: true, isRequired: false });
    expect(byId('field.details')).not.toHaveProperty('errorMessage');
    expect(byId('field.people')).toMatchObject({ type: 'Input.Number', value: 2 });
    expect(byId('field.category')).toMatchObject({ type: 'Input.ChoiceSet', style: 'compact', value: 'arrest', choices: [{ title: 'Arrest or detention', value: 'arrest' }, { title: 'Death abroad', value: 'death' }] });
    expect(byId('field.tags')).toMatchObject({ type: 'Input.ChoiceSet', isMultiSelect: true, value: 'media' });
    expect(byId('field.born')).toMatchObject({ type: 'Input.Date' });
    expect(byId('field.when_date')).toMatchObject({ type: 'Input.Date', value: '2026-03-01', isRequired: true });
    expect(byId('field.when_time')).toMatchObject({ type: 'Input.Time', value: '14:30', isRequired: true });
    expect(byId('field.owner')).toMatchObject({ type: 'Input.Text', placeholder: '@handle' });
    expect(byId('field.urgent')).toMatchObject({ type: 'Input.Toggle', title: 'Urgent', value: 'true', valueOn: 'true', valueOff: 'false' });
  });

  test('errors sit beside their field in red, others at the top', () => {
    const at = card.body.findIndex((n) => n.id === 'field.category');
    expect(card.body[at]?.errorMessage).toBe('pick a category');
    expect(card.body[at + 1]).toMatchObject({ type: 'TextBlock', text: 'pick a category', color: 'attention' });
    expect(card.body[1]).toMatchObject({ type: 'TextBlock', text: 'The case could not be saved.', color: 'attention' });
    expect(card.body.findIndex((n) => n.text === 'Facts only')).toBe(card.body.findIndex((n) => n.id === 'field.details') + 1);
  });

  test('the submit button is an Action.Execute carrying the command and context', () => {
    expect(card.actions).toHaveLength(1);
    expect(card.actions?.[0]).toMatchObject({ type: 'Action.Execute', title: 'Open case', verb: 'duty.form', data: { command: 'case new', context: 'ctx-1' } });
  });

  test('a submission reads back as the values the dispatcher expects', () => {
    const data = {
      ...(card.actions?.[0]?.data as Record<string, unknown>),
      'field.summary': 'Arrest in port',
      'field.details': '',
      'field.people': '3',
      'field.category': 'death',
      'field.tags': 'media,minor',
      'field.born': '1990-05-04',
      'field.when_date': '2026-03-02',
      'field.when_time': '09:15',
      'field.owner': '@alee',
      'field.urgent': 'false',
    };
    expect(readCardValues(data)).toEqual({
      summary: 'Arrest in port',
      details: undefined,
      people: '3',
      category: 'death',
      tags: ['media', 'minor'],
      born: '1990-05-04',
      when: '2026-03-02T09:15',
      owner: '@alee',
      urgent: false,
    });
  });

  test('readCardValues: toggles left out are unchecked, a date without time stays a date, other keys are ignored', () => {
    const types = { urgent: 'checkbox', when: 'dateTime', tags: 'multiSelect' };
    expect(readCardValues({ command: 'x', context: 'c', verb: 'duty.form', types, 'field.when_date': '2026-03-02', 'field.tags': '' })).toEqual({
      when: '2026-03-02',
      tags: undefined,
      urgent: false,
    });
    expect(readCardValues({ 'field.ok': 'true', 'field.n': 7 })).toEqual({ ok: 'true', n: '7' });
    expect(readCardValues(null)).toEqual({});
    expect(readCardValues({ types: { urgent: 'checkbox' }, 'field.urgent': 'true' })).toEqual({ urgent: true });
  });

  test('splitDateTime', () => {
    expect(splitDateTime('2026-03-01 14:30')).toEqual({ date: '2026-03-01', time: '14:30' });
    expect(splitDateTime('2026-03-01')).toEqual({ date: '2026-03-01' });
    expect(splitDateTime('tomorrow')).toEqual({});
  });

  test('a form field named "command" cannot overwrite the submission target', () => {
    const f = renderFormCard({ command: 'x y', title: 't', submitLabel: 's', fields: [{ name: 'command', label: 'Command', type: 'text', required: true }] });
    const data: Record<string, unknown> = { ...(f.actions?.[0]?.data as Record<string, unknown>), 'field.command': 'evil' };
    expect(data.command).toBe('x y');
    expect(readCardValues(data)).toEqual({ command: 'evil' });
  });

  test('form text is escaped too', () => {
    const f = renderFormCard({ command: 'x', title: '${t}', submitLabel: 'Go', fields: [{ name: 'a', label: '[l](u)', type: 'select', required: false, options: [{ value: 'v', label: '${o}' }] }] });
    expect(JSON.stringify(f)).not.toContain('${');
    expect(JSON.stringify(f)).not.toContain('](');
  });
});
