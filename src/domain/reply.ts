// The platform-neutral reply model. Use cases return these; the Slack, Teams and console
// renderers are pure functions of them.

export type Visibility =
  /** only the person who ran the command (Slack ephemeral, Teams reply in the 1:1 chat) */
  | 'caller'
  /** everyone in the conversation the command came from */
  | 'channel'
  /** a direct message to the caller */
  | 'direct';

export interface ReplyField {
  label: string;
  value: string;
}

export type ButtonStyle = 'primary' | 'danger' | 'default';

/**
 * A button runs a command as the person who presses it, through the same parser and role
 * check as typed commands: `command` is the full text, e.g. "/page ack 42".
 */
export interface ReplyButton {
  label: string;
  command: string;
  style?: ButtonStyle;
  /** Asks "are you sure?" before running. */
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export interface ReplyRow {
  text: string;
  fields?: ReplyField[];
  buttons?: ReplyButton[];
}

export interface ReplyAttachment {
  filename: string;
  mimeType: string;
  content: Buffer;
  title?: string;
  /** Text equivalent for screen readers and clients that do not show the file. */
  altText?: string;
}

export interface ReplyError {
  /** Stable, machine-readable code, e.g. "UNKNOWN_COMMAND". */
  code: string;
  /** One human sentence. */
  message: string;
  /** Per-field messages for forms and inline arguments. */
  fields?: Record<string, string>;
}

export interface MessageReply {
  kind: 'message';
  /** false when the command did not do what was asked (console exit status, error styling). */
  ok: boolean;
  title?: string;
  text?: string;
  fields?: ReplyField[];
  rows?: ReplyRow[];
  buttons?: ReplyButton[];
  visibility: Visibility;
  attachments?: ReplyAttachment[];
  error?: ReplyError;
  /** A short plain-text summary for notifications and clients that show no rich content. */
  fallback?: string;
}

export type FieldType =
  | 'text'
  | 'longText'
  | 'number'
  | 'select'
  | 'multiSelect'
  | 'date'
  | 'dateTime'
  | 'user'
  | 'checkbox';

export interface FormOption {
  value: string;
  label: string;
}

export interface FormField {
  /** The same name as the inline `key=value` argument. */
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  help?: string;
  placeholder?: string;
  options?: FormOption[];
  maxLength?: number;
}

export type FormValue = string | string[] | boolean;

export interface FormSpec {
  /** Command key the submission goes to, e.g. "duty member add". */
  command: string;
  title: string;
  submitLabel: string;
  fields: FormField[];
  /** Values to show when the form opens (pre-filled or from a rejected submission). */
  values?: Record<string, FormValue>;
  /** Messages beside fields after a rejected submission. */
  errors?: Record<string, string>;
  /** Opaque arguments carried to the submission, e.g. the id of the record being edited. */
  context?: string;
}

export interface FormReply {
  kind: 'form';
  form: FormSpec;
}

export type Reply = MessageReply | FormReply;

export function message(partial: Omit<MessageReply, 'kind' | 'ok' | 'visibility'> & Partial<Pick<MessageReply, 'ok' | 'visibility'>>): MessageReply {
  return { kind: 'message', ok: true, visibility: 'caller', ...partial };
}

export function failure(code: string, text: string, fields?: Record<string, string>): MessageReply {
  return {
    kind: 'message',
    ok: false,
    visibility: 'caller',
    text,
    error: { code, message: text, ...(fields ? { fields } : {}) },
  };
}
