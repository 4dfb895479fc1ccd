import { failure, message, type FormSpec, type MessageReply } from '../../../src/domain/reply';
import {
  LIMITS,
  escapeMrkdwn,
  readModalValues,
  renderFieldErrors,
  renderHome,
  renderMessage,
  renderModal,
  splitText,
  type KnownBlock,
} from '../../../src/bot/slack/render';
import { slackMention } from '../../../src/bot/slack/trusted';

type Json = Record<string, unknown>;
const asJson = (b: KnownBlock): Json => b as unknown as Json;

/** Every piece of text in a block tree, to check limits wherever it sits. */
function texts(node: unknown, key = ''): { key: string; text: string }[] {
  if (Array.isArray(node)) return node.flatMap((n) => texts(n, key));
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Json;
  const own = typeof o.text === 'string' ? [{ key: `${key}/${String(o.type)}`, text: o.text }] : [];
  return [...own, ...Object.entries(o).flatMap(([k, v]) => (k === 'text' && typeof v === 'string' ? [] : texts(v, `${key}/${k}`)))];
}

const blockTypes = (blocks: KnownBlock[]): string[] => blocks.map((b) => b.type);

describe('renderMessage', () => {
  it('renders title, text, fields, rows and buttons', () => {
    const reply = message({
      title: 'Members',
      text: 'Two members',
      fields: [{ label: 'Team', value: 'Consular' }],
      rows: [{ text: 'alee', fields: [{ label: 'Role', value: 'admin' }], buttons: [{ label: 'Remove', command: '/duty member remove alee', style: 'danger' }] }],
      buttons: [{ label: 'Add', command: '/duty member add', style: 'primary' }],
    });
    const { text, blocks } = renderMessage(reply);
    expect(blockTypes(blocks)).toEqual(['header', 'section', 'section', 'section', 'actions', 'actions']);
    expect(text).toBe('Members: Two members');
    const actions = blocks.filter((b) => b.type === 'actions').flatMap((b) => (asJson(b).elements as Json[]) ?? []);
    expect(actions.map((a) => a.action_id)).toEqual(['duty_cmd:0', 'duty_cmd:1']);
    expect(actions.map((a) => a.value)).toEqual(['/duty member remove alee', '/duty member add']);
    expect(actions.map((a) => a.style)).toEqual(['danger', 'primary']);
  });

  it('keeps 60 rows within 50 blocks and says how many were left out', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ text: `Row ${i}` }));
    const { blocks } = renderMessage(message({ title: 'Many', rows }));
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    const last = asJson(blocks[blocks.length - 1] as KnownBlock);
    expect(last.type).toBe('context');
    const shownRows = blocks.filter((b) => b.type === 'section').length;
    expect(JSON.stringify(last)).toContain(`…and ${60 - shownRows} more`);
    expect(shownRows).toBe(48);
  });

  it('keeps the trailing buttons when rows are cut', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ text: `Row ${i}`, buttons: [{ label: 'Ack', command: `/page ack ${i}` }] }));
    const { blocks } = renderMessage(message({ rows, buttons: [{ label: 'More', command: '/page list page=2' }] }));
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    expect(JSON.stringify(blocks)).toContain('/page list page=2');
    const ids = blocks.flatMap((b) => (b.type === 'actions' ? (asJson(b).elements as Json[]).map((e) => e.action_id) : []));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('splits a 5000-character text into sections of at most 3000', () => {
    const long = Array.from({ length: 1001 }, (_, i) => `w${i % 10}xx`).join(' ').slice(0, 5000);
    expect(long.length).toBe(5000);
    const { blocks, text } = renderMessage(message({ text: long }));
    const sections = blocks.filter((b) => b.type === 'section').map((b) => (asJson(b).text as Json).text as string);
    expect(sections.length).toBe(2);
    for (const s of sections) expect(s.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(sections.join(' ')).toBe(long);
    expect(text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  });

  it('never cuts an escaped entity in half', () => {
    const chunks = splitText(escapeMrkdwn('<'.repeat(2000)), 3000);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(3000);
      expect(c).toMatch(/^(&lt;)+$/);
    }
  });

  it('cuts long titles, field values, button labels and confirm texts to Slack limits', () => {
    const reply = message({
      title: 'T'.repeat(400),
      fields: Array.from({ length: 23 }, (_, i) => ({ label: `F${i}`, value: 'v'.repeat(2500) })),
      buttons: [
        { label: 'B'.repeat(100), command: '/duty help', confirm: { title: 'c'.repeat(200), text: 'x'.repeat(500), confirm: 'y'.repeat(50), deny: 'n'.repeat(50) } },
        { label: 'Too long a command', command: `/duty ${'z'.repeat(2100)}` },
      ],
    });
    const { blocks } = renderMessage(reply);
    const header = asJson(blocks[0] as KnownBlock);
    expect(((header.text as Json).text as string).length).toBeLessThanOrEqual(LIMITS.headerText);
    const fieldSections = blocks.filter((b) => b.type === 'section' && asJson(b).fields);
    expect(fieldSections.map((s) => (asJson(s).fields as unknown[]).length)).toEqual([10, 10, 3]);
    for (const s of fieldSections) for (const f of asJson(s).fields as Json[]) expect((f.text as string).length).toBeLessThanOrEqual(LIMITS.fieldText);
    const buttons = blocks.flatMap((b) => (b.type === 'actions' ? (asJson(b).elements as Json[]) : []));
    // The command too long for a button value is dropped rather than cut into another command.
    expect(buttons).toHaveLength(1);
    const b = buttons[0] as Json;
    expect(((b.text as Json).text as string).length).toBeLessThanOrEqual(LIMITS.buttonText);
    for (const t of texts(blocks)) expect(t.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const confirm = b.confirm as Record<string, Json>;
    expect((confirm.title?.text as string).length).toBeLessThanOrEqual(100);
    expect((confirm.text?.text as string).length).toBeLessThanOrEqual(300);
    expect((confirm.confirm?.text as string).length).toBeLessThanOrEqual(30);
    expect((confirm.deny?.text as string).length).toBeLessThanOrEqual(30);
  });

  it('escapes user text so that typed mentions never notify anyone', () => {
    const typed = 'Hello <!channel> and <@U999> & <https://evil.example|click>';
    const { blocks, text } = renderMessage(
      message({ title: 'x', text: typed, fields: [{ label: '<!here>', value: '<@U1>' }], rows: [{ text: '<!everyone>' }] }),
    );
    const all = JSON.stringify(blocks) + text;
    expect(all).not.toMatch(/<!channel>|<!here>|<!everyone>|<@U999>|<@U1>|<https:/);
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('&amp;');
  });

  it('shows canonical mentions in the text as text (they come from input), and sealed mentions live', () => {
    const { blocks } = renderMessage(message({ text: `Paged <@slack:T1:U42> and <@teams:abc>; on duty: ${slackMention('U7', 'Ana Lee')}` }));
    const t = (asJson(blocks[0] as KnownBlock).text as Json).text as string;
    expect(t).toBe('Paged @U42 and &lt;@teams:abc&gt;; on duty: <@U7>');
  });

  it('marks failures visibly', () => {
    const { blocks, text } = renderMessage(failure('NOT_A_MEMBER', 'You are not a member.', { handle: 'required' }));
    expect(JSON.stringify(blocks[0])).toContain(':warning: You are not a member.');
    expect(text).toContain('You are not a member.');
    const titled = renderMessage({ ...failure('X', 'Nope'), title: 'Add member' });
    expect(JSON.stringify(titled.blocks[0])).toContain(':warning: Add member');
  });

  it('never renders an empty message', () => {
    const { blocks } = renderMessage(message({}));
    expect(blocks.length).toBe(1);
  });

  it('lists attachments by name', () => {
    const reply: MessageReply = message({ text: 'Export', attachments: [{ filename: 'list.csv', mimeType: 'text/csv', content: Buffer.from('a'), altText: 'Members as CSV' }] });
    expect(JSON.stringify(renderMessage(reply).blocks)).toContain('list.csv — Members as CSV');
  });
});

describe('renderHome', () => {
  it('makes a home view and allows up to 100 blocks', () => {
    const view = renderHome(message({ rows: Array.from({ length: 150 }, (_, i) => ({ text: `r${i}` })) }));
    expect(view.type).toBe('home');
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.viewBlocks);
    expect(view.blocks.length).toBeGreaterThan(LIMITS.messageBlocks);
  });
});

const form: FormSpec = {
  command: 'duty member add',
  title: 'Add a member to the duty roster',
  submitLabel: 'Add',
  fields: [
    { name: 'handle', label: 'Handle', type: 'text', required: true, help: 'Short name', maxLength: 32 },
    { name: 'notes', label: 'Notes', type: 'longText', required: false },
    { name: 'age', label: 'Age', type: 'number', required: false },
    { name: 'role', label: 'Role', type: 'select', required: true, options: [{ value: 'admin', label: 'Admin' }, { value: 'officer', label: 'Officer' }] },
    { name: 'teams', label: 'Teams', type: 'multiSelect', required: false, options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }] },
    { name: 'from', label: 'From', type: 'date', required: false },
    { name: 'at', label: 'At', type: 'dateTime', required: false },
    { name: 'user', label: 'User', type: 'user', required: false },
    { name: 'active', label: 'Active', type: 'checkbox', required: false },
  ],
  values: { handle: 'alee', role: 'officer', teams: ['b'], from: '2026-03-01', at: '2026-03-01T10:00:00.000Z', user: '<@slack:T1:U7>', active: true },
  errors: { handle: 'already taken', _: 'Something general' },
};

describe('renderModal', () => {
  const view = renderModal(form, '{"command":"duty member add"}');
  const inputs = (view.blocks as unknown as Json[]).filter((b) => b.type === 'input');
  const element = (name: string): Json => (inputs.find((b) => b.block_id === name) as Json).element as Json;

  it('maps every field type to its Slack element, keyed by the field name', () => {
    expect(inputs.map((b) => b.block_id)).toEqual(form.fields.map((f) => f.name));
    expect(inputs.map((b) => (b.element as Json).action_id)).toEqual(form.fields.map((f) => f.name));
    expect(inputs.map((b) => (b.element as Json).type)).toEqual([
      'plain_text_input',
      'plain_text_input',
      'number_input',
      'static_select',
      'multi_static_select',
      'datepicker',
      'datetimepicker',
      'users_select',
      'checkboxes',
    ]);
    expect(element('notes').multiline).toBe(true);
    expect(element('handle').max_length).toBe(32);
  });

  it('marks optional fields, shows help and errors as hints, and pre-fills values', () => {
    expect(inputs.map((b) => b.optional)).toEqual(form.fields.map((f) => !f.required));
    expect(JSON.stringify(inputs[0]?.hint)).toContain('already taken');
    expect(JSON.stringify(inputs[0]?.hint)).toContain('Short name');
    expect(element('handle').initial_value).toBe('alee');
    expect((element('role').initial_option as Json).value).toBe('officer');
    expect((element('teams').initial_options as Json[]).map((o) => o.value)).toEqual(['b']);
    expect(element('from').initial_date).toBe('2026-03-01');
    expect(element('at').initial_date_time).toBe(Date.parse('2026-03-01T10:00:00Z') / 1000);
    expect(element('user').initial_user).toBe('U7');
    expect(element('active').initial_options).toHaveLength(1);
    expect(JSON.stringify(view.blocks[0])).toContain('Something general');
  });

  it('respects the title, label and metadata limits', () => {
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
    expect(view.submit?.text).toBe('Add');
    expect(view.callback_id).toBe('duty_form');
    expect(view.private_metadata).toBe('{"command":"duty member add"}');
    expect(() => renderModal(form, 'x'.repeat(3001))).toThrow(RangeError);
  });

  it('caps a form at 100 blocks', () => {
    const big: FormSpec = { ...form, errors: {}, fields: Array.from({ length: 130 }, (_, i) => ({ name: `f${i}`, label: `F${i}`, type: 'text' as const, required: false })) };
    expect(renderModal(big, '').blocks.length).toBe(LIMITS.viewBlocks);
  });
});

describe('readModalValues', () => {
  it('turns view state into form values', () => {
    const values = readModalValues(
      {
        handle: { handle: { type: 'plain_text_input', value: 'alee' } },
        notes: { notes: { type: 'plain_text_input', value: null } },
        age: { age: { type: 'number_input', value: '42' } },
        role: { role: { type: 'static_select', selected_option: { value: 'admin' } } },
        teams: { teams: { type: 'multi_static_select', selected_options: [{ value: 'a' }, { value: 'b' }] } },
        from: { from: { type: 'datepicker', selected_date: '2026-03-01' } },
        at: { at: { type: 'datetimepicker', selected_date_time: 1772359200 } },
        user: { user: { type: 'users_select', selected_user: 'U7' } },
        active: { active: { type: 'checkboxes', selected_options: [] } },
      },
      'T1',
    );
    expect(values).toEqual({
      handle: 'alee',
      notes: undefined,
      age: '42',
      role: 'admin',
      teams: ['a', 'b'],
      from: '2026-03-01',
      at: '2026-03-01T10:00:00.000Z',
      user: '<@slack:T1:U7>',
      active: false,
    });
  });

  it('with the form fields, gives every field a key and reads checkboxes as booleans', () => {
    const values = readModalValues({ active: { active: { type: 'checkboxes', selected_options: [{ value: 'true' }] } } }, 'T1', form.fields);
    expect(values.active).toBe(true);
    expect(Object.keys(values).sort()).toEqual(form.fields.map((f) => f.name).sort());
    expect(values.handle).toBeUndefined();
  });
});

describe('renderFieldErrors', () => {
  it('keys errors by block id', () => {
    expect(renderFieldErrors({ handle: 'required' })).toEqual({ response_action: 'errors', errors: { handle: 'required' } });
  });
});
