// Pure renderers from the neutral reply model to Adaptive Cards 1.5 for Microsoft Teams, and the
// reader that turns a submitted card back into form values.
//
// Injection: every string of the reply model is text, whoever wrote it. Text Teams shows as
// markdown (TextBlocks, facts) goes through escapeCardText: no template binding, no date
// function, no link, image or mention can come from it. Everything else that carries reply text
// (plain properties, input values, choices, action data) goes through escapeTemplate, which an
// Adaptive Card template engine would otherwise expand; values that come back on submission are
// unescaped by readCardValues and readCardString, so what people typed is kept exactly.
import type { ButtonStyle, FormField, FormSpec, FormValue, MessageReply, ReplyAttachment, ReplyButton, ReplyField, ReplyRow } from '../../domain/reply';
// Sealed Slack markup (a channel link in an error) is shown here as its plain text.
import { plainTrusted } from '../slack/trusted';

export const CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const CARD_VERSION = '1.5';
export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** Action.Execute verb of buttons: data `{ command }`. */
export const VERB_COMMAND = 'duty.command';
/** Action.Execute verb of form submissions: data `{ command, context, types }` plus the inputs. */
export const VERB_FORM = 'duty.form';

/**
 * Teams rejects messages over about 28 KB including the activity envelope; the card gets this much
 * and rows beyond it become "…and N more". An inline image (a base64 data: URI) counts too: the
 * documented limit has moved (28, 40, 100 KB) and so has whether images count, and a 413 would
 * lose the whole message, so images only use what the text and rows leave of this budget.
 */
export const CARD_BUDGET_BYTES = 26 * 1024;

/** Inputs are named `field.<name>` so that a field called "command" cannot clobber the action data. */
export const INPUT_PREFIX = 'field.';

export interface CardElement {
  type: string;
  [key: string]: unknown;
}

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: CardElement[];
  actions?: CardElement[];
  fallbackText?: string;
  msteams?: { width: 'Full' };
  [key: string]: unknown;
}

export type CardValues = Record<string, string | string[] | boolean | undefined>;

// Limits on single strings, so that one huge value cannot crowd out the rest of the card.
const MAX_TITLE = 200;
const MAX_TEXT = 6000;
const MAX_ROW_TEXT = 1500;
const MAX_FACT_TITLE = 120;
const MAX_FACT_VALUE = 500;
const MAX_FACTS = 30;
const MAX_BUTTON_TITLE = 60;
// Teams shows a handful of actions in a row; the rest go to the "…" overflow menu.
const MAX_PRIMARY_ACTIONS = 5;

/** Cuts a string to `max` characters (by code point), ending with "…" when it was longer. */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * Template syntax made inert: a template binding "${name}" becomes "$\u200B{name}" and a date or
 * time function "{{DATE(…)}}" becomes "{\u200B{DATE(…)}}"; the zero-width space is invisible. A
 * zero-width space already after "$" or "{" gets one more, so that {@link unescapeTemplate} gives
 * back exactly the original (input values and action data come back to us).
 */
export function escapeTemplate(s: string): string {
  return s.replace(/([${])(?=[{\u200B])/g, '$1\u200B');
}

/** Reply text for a plain-text property (fallbackText, altText): sealed Slack markup as its text, templates inert. */
function plainProperty(s: string): string {
  return escapeTemplate(plainTrusted(s));
}

/** Undoes {@link escapeTemplate}: a value submitted from a card, as it was before rendering. */
export function unescapeTemplate(s: string): string {
  return s.replace(/([${])\u200B/g, '$1');
}

/**
 * Makes user text inert in a card: `${…}` must not be expanded by Adaptive Card templating,
 * `{{DATE(…)}}` not formatted, and markdown links, images, autolinks and `<at>` mentions must not
 * be created from it. A zero-width space breaks each construct while leaving the visible text
 * unchanged. Markdown emphasis and lists are left alone: they change how text looks, not what it does.
 */
export function escapeCardText(s: string): string {
  return (
    escapeTemplate(plainTrusted(s))
      // Inline links and images "[t](u)", reference links "[t][r]" and definitions "[r]: u".
      .replace(/\](?=[(:[])/g, ']\u200B')
      // Autolinks "<https://…>", "<mailto:…>" and "<at>Name</at>" mentions.
      .replace(/</g, '<\u200B')
  );
}

function text(s: string, max: number): string {
  return escapeCardText(truncate(s, max));
}

function byteSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function emptyCard(): AdaptiveCard {
  return { type: 'AdaptiveCard', $schema: CARD_SCHEMA, version: CARD_VERSION, body: [], msteams: { width: 'Full' } };
}

function actionStyle(style: ButtonStyle | undefined): string | undefined {
  if (style === 'primary') return 'positive';
  if (style === 'danger') return 'destructive';
  return undefined;
}

/** A button runs its command through Action.Execute; "are you sure?" opens an inline ShowCard first. */
export function renderButton(button: ReplyButton): CardElement {
  const title = text(button.label, MAX_BUTTON_TITLE);
  const style = actionStyle(button.style);
  const execute: CardElement = {
    type: 'Action.Execute',
    title,
    verb: VERB_COMMAND,
    // Data, not display, but a template engine would bind it all the same.
    data: { command: escapeTemplate(button.command) },
    ...(style ? { style } : {}),
  };
  if (!button.confirm) return execute;
  // Adaptive Cards have no confirm dialog; a ShowCard asks in place and pressing the button again closes it.
  const c = button.confirm;
  return {
    type: 'Action.ShowCard',
    title,
    ...(style ? { style } : {}),
    card: {
      type: 'AdaptiveCard',
      body: [
        { type: 'TextBlock', text: text(c.title, MAX_TITLE), weight: 'bolder', wrap: true },
        { type: 'TextBlock', text: text(c.text, MAX_TEXT), wrap: true },
      ],
      actions: [{ ...execute, title: text(c.confirm, MAX_BUTTON_TITLE) }],
    },
  };
}

function renderActions(buttons: ReplyButton[]): CardElement[] {
  return buttons.map((b, i) => (i < MAX_PRIMARY_ACTIONS ? renderButton(b) : { ...renderButton(b), mode: 'secondary' }));
}

function factSet(fields: ReplyField[]): CardElement {
  const facts = fields.slice(0, MAX_FACTS).map((f) => ({ title: text(f.label, MAX_FACT_TITLE), value: text(f.value, MAX_FACT_VALUE) }));
  if (fields.length > MAX_FACTS) facts.push({ title: '…', value: `and ${fields.length - MAX_FACTS} more` });
  return { type: 'FactSet', facts };
}

/**
 * Text as TextBlocks, one per line: Adaptive Card markdown joins single newlines into a space, and
 * a blank line becomes extra spacing instead of an empty block.
 */
function textBlocks(s: string, max: number, extra: Record<string, unknown> = {}): CardElement[] {
  const out: CardElement[] = [];
  let gap = false;
  for (const line of truncate(s, max).split(/\r?\n/)) {
    if (line.trim() === '') {
      gap = true;
      continue;
    }
    const spacing = out.length === 0 ? {} : { spacing: gap ? 'Medium' : 'None' };
    out.push({ type: 'TextBlock', text: escapeCardText(line), wrap: true, ...spacing, ...extra });
    gap = false;
  }
  return out;
}

function renderRow(row: ReplyRow): CardElement {
  const items: CardElement[] = textBlocks(row.text, MAX_ROW_TEXT);
  if (row.fields && row.fields.length > 0) items.push({ ...factSet(row.fields), spacing: 'Small' });
  if (row.buttons && row.buttons.length > 0) items.push({ type: 'ActionSet', actions: renderActions(row.buttons) });
  if (items.length === 0) items.push({ type: 'TextBlock', text: ' ', wrap: true });
  return { type: 'Container', separator: true, spacing: 'Medium', items };
}

function moreRows(n: number): CardElement {
  return { type: 'TextBlock', text: `…and ${n} more`, isSubtle: true, wrap: true, separator: true };
}

// Room kept for the "…and N more" line.
const MORE_RESERVE = 400;

/** Image types a card shows inline, by MIME type, with the type of their data: URI. */
const INLINE_IMAGE_TYPES: Record<string, string> = { 'image/png': 'image/png', 'image/jpeg': 'image/jpeg', 'image/jpg': 'image/jpeg' };

function inlineImageType(a: ReplyAttachment): string | undefined {
  return INLINE_IMAGE_TYPES[(a.mimeType.split(';')[0] ?? '').trim().toLowerCase()];
}

/** An attachment as a text line: a card cannot carry files, so it says what there was. */
function attachmentLine(a: ReplyAttachment, note?: string): CardElement {
  const what = a.title ?? a.filename;
  return { type: 'TextBlock', text: text(`📎 ${what}${a.altText ? ` — ${a.altText}` : ''}${note ? ` (${note})` : ''}`, MAX_ROW_TEXT), wrap: true, isSubtle: true };
}

/** An image attachment as an Image with a data: URI, or undefined when it alone would exceed the budget. */
function attachmentImage(a: ReplyAttachment, type: string): CardElement | undefined {
  // Base64 grows by a third: no need to encode what cannot fit.
  if (Math.ceil(a.content.length / 3) * 4 > CARD_BUDGET_BYTES) return undefined;
  const alt = a.altText ?? a.title ?? a.filename;
  return { type: 'Image', url: `data:${type};base64,${a.content.toString('base64')}`, altText: plainProperty(truncate(alt, MAX_ROW_TEXT)), msTeams: { allowExpand: true } };
}

const IMAGE_TOO_LARGE = 'image too large to show in Teams';

/** Where an image attachment's text line sits in the card body, to become the image if it fits. */
interface ImageSlot {
  at: number;
  attachment: ReplyAttachment;
  type: string;
}

/** The card without its rows, with the main text cut to `maxText` characters, and its image slots. */
function messageHead(reply: MessageReply, maxText: number): { card: AdaptiveCard; slots: ImageSlot[] } {
  const card = emptyCard();
  const slots: ImageSlot[] = [];
  const attention = !reply.ok || reply.error !== undefined;
  const color = attention ? { color: 'attention' } : {};
  const body = reply.text ?? (reply.error && !reply.title ? reply.error.message : undefined);
  if (reply.title) {
    card.body.push({ type: 'TextBlock', text: text(reply.title, MAX_TITLE), weight: 'bolder', size: 'Medium', wrap: true, ...color });
  }
  if (body) card.body.push(...textBlocks(body, maxText, color));
  for (const [name, msg] of Object.entries(reply.error?.fields ?? {})) {
    card.body.push({ type: 'TextBlock', text: text(`${name}: ${msg}`, MAX_ROW_TEXT), wrap: true, color: 'attention', size: 'Small' });
  }
  if (reply.fields && reply.fields.length > 0) card.body.push(factSet(reply.fields));
  for (const a of reply.attachments ?? []) {
    const type = inlineImageType(a);
    // An image starts as its longest form, the "too large" line, so that showing it never
    // pushes the card over the budget the rows were fitted to.
    if (type) slots.push({ at: card.body.length, attachment: a, type });
    card.body.push(attachmentLine(a, type ? IMAGE_TOO_LARGE : undefined));
  }
  if (reply.buttons && reply.buttons.length > 0) card.actions = renderActions(reply.buttons);
  const fallback = reply.fallback ?? [reply.title, body].filter(Boolean).join(' — ');
  if (fallback) card.fallbackText = plainProperty(truncate(fallback, 500));
  if (card.body.length === 0) card.body.push({ type: 'TextBlock', text: attention ? 'Something went wrong.' : 'Done.', wrap: true, ...color });
  return { card, slots };
}

/**
 * A MessageReply as an Adaptive Card: title, text, facts, attachments, rows (trimmed to fit),
 * buttons. PNG and JPEG attachments are shown inline when the whole card still fits the budget;
 * otherwise their line says so, and the message text is the fallback (a SITREP's table).
 */
export function renderMessageCard(reply: MessageReply): AdaptiveCard {
  // A very long text alone could exceed the budget: shorten it until the card without rows fits.
  let maxText = MAX_TEXT;
  let { card, slots } = messageHead(reply, maxText);
  while (byteSize(card) > CARD_BUDGET_BYTES - MORE_RESERVE && maxText > 200) {
    maxText = Math.floor(maxText * 0.7);
    ({ card, slots } = messageHead(reply, maxText));
  }
  const rows = reply.rows ?? [];
  let used = byteSize(card);
  let shown = 0;
  for (const row of rows) {
    const el = renderRow(row);
    const size = byteSize(el) + 1;
    if (used + size > CARD_BUDGET_BYTES - MORE_RESERVE) break;
    card.body.push(el);
    used += size;
    shown++;
  }
  if (shown < rows.length) card.body.push(moreRows(rows.length - shown));
  // Text and rows come first: an image only repeats figures the text has, so it takes what is left.
  for (const slot of slots) {
    const image = attachmentImage(slot.attachment, slot.type);
    if (!image) continue;
    const line = card.body[slot.at] as CardElement;
    card.body[slot.at] = image;
    if (byteSize(card) > CARD_BUDGET_BYTES) card.body[slot.at] = line;
  }
  return card;
}

// ---------------------------------------------------------------------------------------------
// Forms

function inputId(name: string): string {
  return `${INPUT_PREFIX}${name}`;
}

function stringValue(v: FormValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v;
}

/** Splits "2026-03-01T14:30", "2026-03-01 14:30" or "2026-03-01" into date and time inputs. */
export function splitDateTime(v: string | undefined): { date?: string; time?: string } {
  if (!v) return {};
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?/.exec(v.trim());
  if (!m) return {};
  return { date: m[1], ...(m[2] ? { time: m[2] } : {}) };
}

function common(field: FormField, error: string | undefined): Record<string, unknown> {
  return {
    id: inputId(field.name),
    label: text(field.label, MAX_FACT_TITLE),
    isRequired: field.required,
    // Shown by the client when a required input is empty or after a rejected submission.
    ...(error || field.required ? { errorMessage: text(error ?? `${field.label} is required`, 200) } : {}),
  };
}

function renderInputs(field: FormField, value: FormValue | undefined, error: string | undefined): CardElement[] {
  const base = common(field, error);
  const placeholder = field.placeholder ? { placeholder: text(field.placeholder, 100) } : {};
  const maxLength = field.maxLength ? { maxLength: field.maxLength } : {};
  const sv = stringValue(value);
  // Input values and choice values come back on submission: escaped so, and unescaped by readCardValues.
  const initial = sv !== undefined && sv !== '' ? { value: escapeTemplate(sv) } : {};
  const choices = (field.options ?? []).map((o) => ({ title: text(o.label, 100), value: escapeTemplate(o.value) }));
  switch (field.type) {
    case 'text':
      return [{ type: 'Input.Text', ...base, ...placeholder, ...maxLength, ...initial }];
    case 'longText':
      return [{ type: 'Input.Text', ...base, isMultiline: true, ...placeholder, ...maxLength, ...initial }];
    case 'number': {
      const n = sv !== undefined && sv.trim() !== '' ? Number(sv) : NaN;
      return [{ type: 'Input.Number', ...base, ...placeholder, ...(Number.isFinite(n) ? { value: n } : {}) }];
    }
    case 'select':
      return [{ type: 'Input.ChoiceSet', ...base, style: 'compact', choices, ...placeholder, ...initial }];
    case 'multiSelect':
      return [
        { type: 'Input.ChoiceSet', ...base, isMultiSelect: true, style: choices.length <= 5 ? 'expanded' : 'compact', choices, ...initial },
      ];
    case 'date': {
      const { date } = splitDateTime(sv);
      return [{ type: 'Input.Date', ...base, ...(date ? { value: date } : {}) }];
    }
    case 'dateTime': {
      const { date, time } = splitDateTime(sv);
      return [
        {
          type: 'ColumnSet',
          columns: [
            {
              type: 'Column',
              width: 'stretch',
              items: [{ type: 'Input.Date', ...base, id: inputId(`${field.name}_date`), ...(date ? { value: date } : {}) }],
            },
            {
              type: 'Column',
              width: 'stretch',
              items: [
                {
                  type: 'Input.Time',
                  ...base,
                  id: inputId(`${field.name}_time`),
                  label: 'Time',
                  ...(time ? { value: time } : {}),
                },
              ],
            },
          ],
        },
      ];
    }
    case 'user':
      // A people picker would hand back AAD ids; a handle goes through the same parser as typed commands.
      return [{ type: 'Input.Text', ...base, placeholder: text(field.placeholder ?? '@handle', 100), ...maxLength, ...initial }];
    case 'checkbox':
      return [
        {
          type: 'Input.Toggle',
          ...base,
          title: text(field.label, MAX_FACT_TITLE),
          valueOn: 'true',
          valueOff: 'false',
          value: value === true || sv === 'true' ? 'true' : 'false',
        },
      ];
  }
}

export interface FormCardOptions {
  /**
   * How the form is submitted. 'execute' (the default): Action.Execute with verb VERB_FORM, for
   * cards in a conversation. 'submit': Action.Submit carrying the same data plus `verb`, for task
   * modules (dialogs), which do not support Action.Execute.
   */
  submit?: 'execute' | 'submit';
}

/** A FormSpec as an Adaptive Card: one input per field, errors beside fields, an Action.Execute (or Action.Submit) submit. */
export function renderFormCard(form: FormSpec, options: FormCardOptions = {}): AdaptiveCard {
  const card = emptyCard();
  card.body.push({ type: 'TextBlock', text: text(form.title, MAX_TITLE), weight: 'bolder', size: 'Medium', wrap: true });
  const errors = form.errors ?? {};
  const names = new Set(form.fields.map((f) => f.name));
  // Errors that belong to no field (e.g. a conflict) go at the top.
  for (const [name, msg] of Object.entries(errors)) {
    if (!names.has(name)) card.body.push({ type: 'TextBlock', text: text(msg, MAX_ROW_TEXT), wrap: true, color: 'attention' });
  }
  const types: Record<string, string> = {};
  for (const field of form.fields) {
    types[field.name] = field.type;
    const error = errors[field.name];
    card.body.push(...renderInputs(field, form.values?.[field.name], error));
    if (field.help) card.body.push({ type: 'TextBlock', text: text(field.help, MAX_ROW_TEXT), isSubtle: true, size: 'Small', wrap: true, spacing: 'None' });
    if (error) card.body.push({ type: 'TextBlock', text: text(error, MAX_ROW_TEXT), color: 'attention', size: 'Small', wrap: true, spacing: 'None' });
  }
  const data = { command: escapeTemplate(form.command), ...(form.context !== undefined ? { context: escapeTemplate(form.context) } : {}), types };
  const title = text(form.submitLabel, MAX_BUTTON_TITLE);
  card.actions = [
    options.submit === 'submit'
      ? // The data is merged with the inputs as they are (hence the field. prefix); the verb says what it is.
        { type: 'Action.Submit', title, style: 'positive', data: { ...data, verb: VERB_FORM } }
      : { type: 'Action.Execute', title, verb: VERB_FORM, style: 'positive', data },
  ];
  card.fallbackText = plainProperty(truncate(form.title, 200));
  return card;
}

// ---------------------------------------------------------------------------------------------
// Reading a submission

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return unescapeTemplate(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A string of a submitted card's data (`command`, `context`) as it was before rendering. */
export function readCardString(v: unknown): string | undefined {
  return typeof v === 'string' ? unescapeTemplate(v) : undefined;
}

/**
 * The field values of a submitted form card (`action.data`): inputs named `field.<name>`,
 * converted by the field types the card carried (multi-select "a,b" → ["a","b"], toggle → boolean,
 * `<name>_date` + `<name>_time` → "YYYY-MM-DDTHH:MM"). Empty inputs are undefined.
 */
export function readCardValues(data: unknown): CardValues {
  const out: CardValues = {};
  if (!isRecord(data)) return out;
  const types: Record<string, string> = {};
  if (isRecord(data.types)) {
    for (const [k, v] of Object.entries(data.types)) if (typeof v === 'string') types[k] = v;
  }
  const raw: Record<string, string | undefined> = {};
  for (const [key, v] of Object.entries(data)) {
    if (!key.startsWith(INPUT_PREFIX)) continue;
    const s = asString(v);
    raw[key.slice(INPUT_PREFIX.length)] = s === undefined || s.trim() === '' ? undefined : s;
  }
  const consumed = new Set<string>();
  // Date + time pairs, whether or not the card said the type.
  for (const key of Object.keys(raw)) {
    const m = /^(.+)_date$/.exec(key);
    if (!m) continue;
    const name = m[1] as string;
    if (types[name] !== 'dateTime' && !(`${name}_time` in raw)) continue;
    const date = raw[key];
    const time = raw[`${name}_time`];
    out[name] = date ? (time ? `${date}T${time}` : date) : undefined;
    consumed.add(key);
    consumed.add(`${name}_time`);
  }
  for (const [name, v] of Object.entries(raw)) {
    if (consumed.has(name)) continue;
    const type = types[name];
    if (type === 'multiSelect') {
      out[name] = v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    } else if (type === 'checkbox') {
      out[name] = v === undefined ? false : v === 'true';
    } else {
      out[name] = v;
    }
  }
  // A toggle the client left out entirely still means "unchecked".
  for (const [name, type] of Object.entries(types)) {
    if (type === 'checkbox' && !(name in out)) out[name] = false;
  }
  return out;
}
