// Pure renderers from the neutral reply model to Slack Block Kit, within Slack's limits.
//
// Injection: every string of the reply model is text, whoever wrote it. Where Slack reads mrkdwn
// (section text, fields, context, the notification text) it is escaped, so nothing typed or
// imported becomes a mention, a broadcast or a link; the only live markup is what the code sealed
// with trusted.ts. Where Slack reads plain text (headers, buttons, options, labels, hints,
// modal titles) or takes a value back (button values, option values, initial values,
// private_metadata), Slack parses nothing, so the text goes as it is: escaping it would show
// "&amp;" or change the command a button runs.
import type { types } from '@slack/bolt';
import type { FormField, FormSpec, FormValue, MessageReply, ReplyButton, ReplyField, ReplyRow } from '../../domain/reply';
import { plainTrusted, trustedParts } from './trusted';

export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;
type PlainText = types.PlainTextElement;
type Button = types.Button;
type InputBlockElement = types.InputBlockElement;
type PlainTextOption = types.PlainTextOption;

/** Slack's documented limits (https://docs.slack.dev/reference/block-kit). */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  actionsElements: 25,
  contextElements: 10,
  id: 255,
  modalTitle: 24,
  modalButton: 24,
  inputLabel: 2000,
  hint: 2000,
  placeholder: 150,
  optionText: 75,
  optionValue: 150,
  selectOptions: 100,
  textInputMax: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  privateMetadata: 3000,
  fallbackText: 3000,
} as const;

/** Action ids of command buttons; the actions listener matches this prefix. */
export const BUTTON_ACTION_PREFIX = 'duty_cmd:';
/** Callback id of every form modal; the views listener matches it. */
export const FORM_CALLBACK_ID = 'duty_form';
/** Modals without a submit button (placeholder, results). */
export const INFO_CALLBACK_ID = 'duty_info';

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Cuts to `max` characters, ending with "…" when something was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, max);
  return `${text.slice(0, max - 1)}…`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters (Slack's own rule: only these). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Reply text as mrkdwn: escaped, so a typed `<!channel>`, `<@U1>`, `<#C1>` or `<https://x|y>` stays
 * text. A canonical mention in the text (`<@slack:T1:U1>`, what the adapter makes of a Slack
 * mention in a command, or anyone's typing) is text too, shown as "@U1": it came from input, so it
 * must not ping. Only markup sealed by trusted.ts (mentions and channel links the code built) is live.
 */
export function mrkdwn(text: string): string {
  return trustedParts(text)
    .map((part) => ('markup' in part ? part.markup : escapeMrkdwn(part.text).replace(/&lt;@slack:[A-Z0-9]+:([UW][A-Z0-9]+)&gt;/g, '@$1')))
    .join('');
}

/** Reply text where Slack shows plain text: canonical mentions and sealed markup as their readable form. */
function plainText(text: string): string {
  return plainTrusted(text).replace(/<@slack:[A-Z0-9]+:([UW][A-Z0-9]+)>/g, '@$1');
}

function plain(text: string, max: number): PlainText {
  const t = truncate(plainText(text), max);
  return { type: 'plain_text', text: t === '' ? ' ' : t, emoji: true };
}

/** Moves a cut back so it does not split an entity (`&amp;`) or a mention (`<@U1>`). */
function safeCut(text: string, cut: number): number {
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp >= 0) {
    const semi = text.indexOf(';', amp);
    if (semi >= cut && semi - amp <= 5) cut = amp;
  }
  const lt = text.lastIndexOf('<', cut - 1);
  if (lt >= 0 && text.lastIndexOf('>', cut - 1) < lt) {
    const gt = text.indexOf('>', lt);
    if (gt >= cut && gt - lt < 100) cut = lt;
  }
  return cut > 0 ? cut : Math.min(text.length, 1);
}

/** Splits rendered mrkdwn into chunks of at most `max`, preferring line and word breaks. */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max * 0.5) cut = rest.lastIndexOf(' ', max);
    if (cut < max * 0.5) cut = max;
    cut = safeCut(rest, cut);
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest !== '') out.push(rest);
  return out;
}

/** Truncates rendered mrkdwn without leaving half an entity or mention. */
function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, safeCut(text, max - 1))}…`;
}

// ---------------------------------------------------------------------------------------------
// Messages

interface ButtonCounter {
  next: number;
}

function renderButton(b: ReplyButton, counter: ButtonCounter): Button | undefined {
  // A command cut short would run something else: drop the button instead.
  if (b.command.length > LIMITS.buttonValue) return undefined;
  const button: Button = {
    type: 'button',
    action_id: `${BUTTON_ACTION_PREFIX}${counter.next++}`,
    text: plain(b.label, LIMITS.buttonText),
    value: b.command,
  };
  if (b.style === 'primary' || b.style === 'danger') button.style = b.style;
  if (b.confirm) {
    button.confirm = {
      title: plain(b.confirm.title, LIMITS.confirmTitle),
      text: plain(b.confirm.text, LIMITS.confirmText),
      confirm: plain(b.confirm.confirm, LIMITS.confirmButton),
      deny: plain(b.confirm.deny, LIMITS.confirmButton),
      ...(b.style === 'danger' ? { style: 'danger' as const } : {}),
    };
  }
  return button;
}

function actionBlocks(buttons: ReplyButton[] | undefined, counter: ButtonCounter): KnownBlock[] {
  const elements = (buttons ?? []).map((b) => renderButton(b, counter)).filter((b): b is Button => b !== undefined);
  const blocks: KnownBlock[] = [];
  for (let i = 0; i < elements.length; i += LIMITS.actionsElements) {
    blocks.push({ type: 'actions', elements: elements.slice(i, i + LIMITS.actionsElements) });
  }
  return blocks;
}

function fieldBlocks(fields: ReplyField[] | undefined, firstText?: string): KnownBlock[] {
  const rendered = (fields ?? []).map((f) => ({
    type: 'mrkdwn' as const,
    text: truncateMrkdwn(`*${mrkdwn(f.label)}*\n${mrkdwn(f.value === '' ? '—' : f.value)}`, LIMITS.fieldText),
  }));
  const blocks: KnownBlock[] = [];
  for (let i = 0; i < rendered.length; i += LIMITS.sectionFields) {
    blocks.push({
      type: 'section',
      ...(i === 0 && firstText !== undefined ? { text: { type: 'mrkdwn' as const, text: firstText } } : {}),
      fields: rendered.slice(i, i + LIMITS.sectionFields),
    });
  }
  if (blocks.length === 0 && firstText !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: firstText } });
  return blocks;
}

function rowBlocks(row: ReplyRow, counter: ButtonCounter): KnownBlock[] {
  const text = row.text.trim() === '' ? undefined : truncateMrkdwn(mrkdwn(row.text), LIMITS.sectionText);
  return [...fieldBlocks(row.fields, text), ...actionBlocks(row.buttons, counter)];
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) }] };
}

/** The message's body text, with the error marker when the command failed. */
function bodyText(reply: MessageReply): string | undefined {
  const text = reply.text ?? (reply.ok ? undefined : reply.error?.message);
  if (reply.ok) return text;
  return `:warning: ${text ?? 'That did not work.'}`;
}

/** A plain one-line-ish summary for notifications and clients without blocks. */
export function fallbackText(reply: MessageReply): string {
  const summary =
    reply.fallback ??
    ([reply.title, reply.text ?? reply.error?.message].filter((s): s is string => s !== undefined && s !== '').join(': ') ||
      (reply.ok ? 'Done.' : 'That did not work.'));
  const marked = reply.ok || reply.fallback !== undefined ? summary : `Error: ${summary}`;
  // Slack reads this as mrkdwn too (notifications, clients without blocks).
  return truncateMrkdwn(mrkdwn(marked), LIMITS.fallbackText);
}

/**
 * Renders a reply as blocks in units (title, text, each row, buttons) so that truncation drops
 * whole rows and says how many were left out.
 */
function messageBlocks(reply: MessageReply, maxBlocks: number): KnownBlock[] {
  const counter: ButtonCounter = { next: 0 };
  const head: KnownBlock[] = [];
  if (reply.title !== undefined && reply.title.trim() !== '') {
    head.push({ type: 'header', text: plain(reply.ok ? reply.title : `:warning: ${reply.title}`, LIMITS.headerText) });
  }
  // The header carries the error marker when there is one; otherwise the text does.
  const text = head.length > 0 ? (reply.text ?? (reply.ok ? undefined : reply.error?.message)) : bodyText(reply);
  if (text !== undefined && text.trim() !== '') {
    for (const chunk of splitText(mrkdwn(text), LIMITS.sectionText)) head.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  // error.fields is not shown: the error text already names the fields, and forms show them
  // beside their inputs.
  head.push(...fieldBlocks(reply.fields));

  const rows = (reply.rows ?? []).map((r) => rowBlocks(r, counter));
  const tail: KnownBlock[] = [...actionBlocks(reply.buttons, counter)];
  if (reply.attachments && reply.attachments.length > 0) {
    const names = reply.attachments.map((a) => `:paperclip: ${mrkdwn(a.title ?? a.filename)}${a.altText ? ` — ${mrkdwn(a.altText)}` : ''}`);
    tail.push(context(names.slice(0, 20).join('\n')));
  }

  const total = head.length + rows.reduce((n, r) => n + r.length, 0) + tail.length;
  if (total <= maxBlocks) {
    const all = [...head, ...rows.flat(), ...tail];
    return all.length > 0 ? all : [{ type: 'section', text: { type: 'mrkdwn', text: fallbackText(reply) } }];
  }

  // Too many: keep the head (cut if it alone is too long), then whole rows, then the tail, and
  // end with a note of what was left out.
  const budget = maxBlocks - 1;
  const tailKept = tail.slice(0, Math.max(0, Math.min(tail.length, budget - 1)));
  const headKept = head.slice(0, Math.max(0, budget - tailKept.length));
  let used = headKept.length + tailKept.length;
  const kept: KnownBlock[] = [];
  let shownRows = 0;
  for (const r of rows) {
    if (used + r.length > budget) break;
    kept.push(...r);
    used += r.length;
    shownRows++;
  }
  const missingRows = rows.length - shownRows;
  const missingHead = head.length - headKept.length;
  const more = missingRows > 0 ? missingRows : missingHead + (tail.length - tailKept.length);
  return [...headKept, ...kept, ...tailKept, context(`…and ${more} more`)];
}

export function renderMessage(reply: MessageReply): { text: string; blocks: KnownBlock[] } {
  return { text: fallbackText(reply), blocks: messageBlocks(reply, LIMITS.messageBlocks) };
}

export function renderHome(reply: MessageReply): HomeView {
  return { type: 'home', blocks: messageBlocks(reply, LIMITS.viewBlocks) };
}

// ---------------------------------------------------------------------------------------------
// Modals

function checkMeta(meta: string): string {
  if (meta.length > LIMITS.privateMetadata) throw new RangeError(`private_metadata is ${meta.length} characters; Slack allows ${LIMITS.privateMetadata}`);
  return meta;
}

/** A modal showing a reply (results of a command run from a modal or a placeholder). */
export function renderMessageModal(reply: MessageReply, meta = '', title = 'Duty Desk'): ModalView {
  const longTitle = reply.title !== undefined && (reply.title.length > LIMITS.modalTitle || !reply.ok);
  return {
    type: 'modal',
    callback_id: INFO_CALLBACK_ID,
    // A title too long for the modal's bar stays in the body as a header.
    title: plain(reply.title !== undefined && !longTitle ? reply.title : title, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: messageBlocks(longTitle ? reply : { ...reply, title: undefined }, LIMITS.viewBlocks),
    private_metadata: checkMeta(meta),
  };
}

/** Opened at once with the trigger id, replaced by the form or the result when it is ready. */
export function renderLoadingModal(meta = ''): ModalView {
  return {
    type: 'modal',
    callback_id: INFO_CALLBACK_ID,
    title: plain('Duty Desk', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Loading…' } }],
    private_metadata: checkMeta(meta),
  };
}

function option(o: { value: string; label: string }): PlainTextOption {
  return { text: plain(o.label, LIMITS.optionText), value: o.value.slice(0, LIMITS.optionValue) };
}

function asString(v: FormValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** A Slack user id from a canonical mention, a Slack mention or a bare id. */
function slackUserId(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const m = /^<@(?:slack:[A-Z0-9]+:)?([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(v.trim()) ?? /^([UW][A-Z0-9]+)$/.exec(v.trim());
  return m?.[1];
}

function fieldElement(field: FormField, value: FormValue | undefined): InputBlockElement {
  const actionId = field.name.slice(0, LIMITS.id);
  const placeholder = field.placeholder ? { placeholder: plain(field.placeholder, LIMITS.placeholder) } : {};
  const options = (field.options ?? []).slice(0, LIMITS.selectOptions).map(option);
  const str = asString(value);
  switch (field.type) {
    case 'number':
      return {
        type: 'number_input',
        action_id: actionId,
        // Whether decimals make sense is the core's call; it validates the submitted value.
        is_decimal_allowed: true,
        ...(str !== undefined && str !== '' && !Number.isNaN(Number(str)) ? { initial_value: str } : {}),
        ...placeholder,
      };
    case 'select':
      if (options.length === 0) break;
      {
        const initial = options.find((o) => o.value === str);
        return { type: 'static_select', action_id: actionId, options, ...(initial ? { initial_option: initial } : {}), ...placeholder };
      }
    case 'multiSelect':
      if (options.length === 0) break;
      {
        const wanted: string[] = Array.isArray(value) ? value : str !== undefined ? str.split(',').map((s) => s.trim()) : [];
        const initial = options.filter((o) => o.value !== undefined && wanted.includes(o.value));
        return { type: 'multi_static_select', action_id: actionId, options, ...(initial.length > 0 ? { initial_options: initial } : {}), ...placeholder };
      }
    case 'date': {
      const date = str !== undefined && /^\d{4}-\d{2}-\d{2}/.test(str) ? str.slice(0, 10) : undefined;
      return { type: 'datepicker', action_id: actionId, ...(date ? { initial_date: date } : {}), ...placeholder };
    }
    case 'dateTime': {
      const ms = str !== undefined ? Date.parse(str) : Number.NaN;
      return { type: 'datetimepicker', action_id: actionId, ...(Number.isNaN(ms) ? {} : { initial_date_time: Math.floor(ms / 1000) }) };
    }
    case 'user': {
      const user = slackUserId(str);
      return { type: 'users_select', action_id: actionId, ...(user ? { initial_user: user } : {}), ...placeholder };
    }
    case 'checkbox': {
      const yes: PlainTextOption = { text: plain('Yes', LIMITS.optionText), value: 'true' };
      const checked = value === true || str === 'true';
      return { type: 'checkboxes', action_id: actionId, options: [yes], ...(checked ? { initial_options: [yes] } : {}) };
    }
    case 'text':
    case 'longText':
      break;
  }
  const max = Math.min(field.maxLength ?? LIMITS.textInputMax, LIMITS.textInputMax);
  return {
    type: 'plain_text_input',
    action_id: actionId,
    ...(field.type === 'longText' ? { multiline: true } : {}),
    max_length: max,
    ...(str !== undefined && str !== '' ? { initial_value: str.slice(0, max) } : {}),
    ...placeholder,
  };
}

/** Errors keyed by a name that is not a field of the form (shown above the fields). */
function generalErrors(form: FormSpec): string[] {
  const names = new Set(form.fields.map((f) => f.name));
  return Object.entries(form.errors ?? {})
    .filter(([k]) => !names.has(k))
    .map(([, v]) => v);
}

export function renderModal(form: FormSpec, meta: string): ModalView {
  const blocks: KnownBlock[] = [];
  const general = generalErrors(form);
  if (general.length > 0) blocks.push(context(`:warning: ${mrkdwn(general.join(' '))}`));
  for (const field of form.fields) {
    if (blocks.length >= LIMITS.viewBlocks) break;
    const error = form.errors?.[field.name];
    // A freshly opened view cannot carry inline errors; the hint shows them instead.
    const hint = [error ? `⚠ ${error}` : undefined, field.help].filter((s): s is string => s !== undefined && s !== '').join(' — ');
    blocks.push({
      type: 'input',
      block_id: field.name.slice(0, LIMITS.id),
      label: plain(field.label, LIMITS.inputLabel),
      element: fieldElement(field, form.values?.[field.name]),
      optional: !field.required,
      ...(hint !== '' ? { hint: plain(hint, LIMITS.hint) } : {}),
    });
  }
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK_ID,
    title: plain(form.title, LIMITS.modalTitle),
    submit: plain(form.submitLabel || 'Submit', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
    private_metadata: checkMeta(meta),
  };
}

// ---------------------------------------------------------------------------------------------
// Submissions

/** The subset of Slack's view state value we read. */
export interface ViewStateValue {
  type: string;
  value?: string | null;
  selected_date?: string | null;
  selected_time?: string | null;
  selected_date_time?: number | null;
  selected_user?: string | null;
  selected_users?: string[] | null;
  selected_option?: { value: string } | null;
  selected_options?: { value: string }[] | null;
  selected_conversation?: string | null;
  selected_conversations?: string[] | null;
  selected_channel?: string | null;
  selected_channels?: string[] | null;
}
export type ViewStateValues = Record<string, Record<string, ViewStateValue>>;
export type FormValues = Record<string, string | string[] | boolean | undefined>;

/** Canonical, platform-neutral mention of a Slack user. */
export function canonicalMention(teamId: string, userId: string): string {
  return `<@slack:${teamId}:${userId}>`;
}

function emptyToUndefined(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v === '' ? undefined : v;
}

function readValue(v: ViewStateValue, teamId: string, field: FormField | undefined): string | string[] | boolean | undefined {
  if (field?.type === 'checkbox' || (v.type === 'checkboxes' && field === undefined)) return (v.selected_options ?? []).length > 0;
  switch (v.type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return emptyToUndefined(v.selected_option?.value);
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return (v.selected_options ?? []).map((o) => o.value);
    case 'datepicker':
      return emptyToUndefined(v.selected_date);
    case 'timepicker':
      return emptyToUndefined(v.selected_time);
    case 'datetimepicker':
      return typeof v.selected_date_time === 'number' ? new Date(v.selected_date_time * 1000).toISOString() : undefined;
    case 'users_select': {
      const user = emptyToUndefined(v.selected_user);
      return user ? canonicalMention(teamId, user) : undefined;
    }
    case 'multi_users_select':
      return (v.selected_users ?? []).map((u) => canonicalMention(teamId, u));
    case 'conversations_select':
      return emptyToUndefined(v.selected_conversation);
    case 'channels_select':
      return emptyToUndefined(v.selected_channel);
    case 'multi_conversations_select':
      return v.selected_conversations ?? [];
    case 'multi_channels_select':
      return v.selected_channels ?? [];
    default:
      // plain_text_input, number_input, email_text_input, url_text_input
      return emptyToUndefined(v.value);
  }
}

/**
 * Turns a submitted view's state into form values keyed by field name (the block id). With
 * `fields`, every field gets a key (undefined when empty) and checkboxes read as booleans.
 */
export function readModalValues(values: ViewStateValues, teamId: string, fields?: FormField[]): FormValues {
  const byName = new Map((fields ?? []).map((f) => [f.name.slice(0, LIMITS.id), f]));
  const out: FormValues = {};
  for (const f of fields ?? []) out[f.name] = undefined;
  for (const [blockId, actions] of Object.entries(values)) {
    const field = byName.get(blockId);
    const state = actions[blockId] ?? Object.values(actions)[0];
    if (state === undefined) continue;
    out[field?.name ?? blockId] = readValue(state, teamId, field);
  }
  return out;
}

export function renderFieldErrors(errors: Record<string, string>): { response_action: 'errors'; errors: Record<string, string> } {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[k.slice(0, LIMITS.id)] = truncate(plainText(v), LIMITS.fieldText);
  return { response_action: 'errors', errors: out };
}
