// Teams activities and cards from neutral replies, and what we read off incoming activities.
// Pure, and free of botbuilder at run time (types only): the notifier sends through a stored
// reference with it, and loading the Teams stack costs seconds that a Slack-only server saves.
import type { Activity, Attachment, ConversationReference, TaskModuleTaskInfo } from 'botbuilder';
import { MAX_SUMMARY } from '../../domain/case';
import type { FormSpec, MessageReply, Reply } from '../../domain/reply';
import { formatInZone } from '../../domain/time';
import { CARD_CONTENT_TYPE, renderFormCard, renderMessageCard, truncate, type AdaptiveCard } from './render';
import { stripHtml } from './text';

/** The message action "Log as case" (composeExtensions in the app manifest, scripts/teams-package.ts). */
export const LOG_AS_CASE_COMMAND_ID = 'logAsCase';
/** What it opens: the /case new form, the summary filled in from the message. */
export const LOG_AS_CASE_COMMAND = '/case new';
export const LOG_AS_CASE_TITLE = 'Log as case';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The tenant an activity claims to come from (`conversation.tenantId`, else `channelData.tenant.id`). */
export function tenantOf(activity: unknown): string | undefined {
  if (!isRecord(activity)) return undefined;
  const conversation = isRecord(activity.conversation) ? activity.conversation : undefined;
  const channelData = isRecord(activity.channelData) ? activity.channelData : undefined;
  const tenant = channelData && isRecord(channelData.tenant) ? channelData.tenant : undefined;
  return str(conversation?.tenantId) ?? str(tenant?.id);
}

export function isConversationReference(v: unknown): v is Partial<ConversationReference> {
  return isRecord(v) && typeof v.serviceUrl === 'string' && isRecord(v.conversation) && typeof v.conversation.id === 'string';
}

/** What botbuilder's CardFactory.adaptiveCard makes. */
export function adaptiveAttachment(card: AdaptiveCard): Attachment {
  return { contentType: CARD_CONTENT_TYPE, content: card };
}

export function cardFor(reply: Reply): AdaptiveCard {
  return reply.kind === 'form' ? renderFormCard(reply.form) : renderMessageCard(reply);
}

// ---- task modules (dialogs): no Action.Execute there

/** A form in a task module: submitted with Action.Submit, which Teams sends back as composeExtension/submitAction. */
export function formTask(form: FormSpec): TaskModuleTaskInfo {
  return { title: truncate(form.title, 64), card: adaptiveAttachment(renderFormCard(form, { submit: 'submit' })), width: 'medium', height: 'large' };
}

/** A message in a task module, without its buttons: they run through Action.Execute, which a dialog does not support. */
export function messageTask(reply: MessageReply, title = LOG_AS_CASE_TITLE): TaskModuleTaskInfo {
  const { buttons: _buttons, rows, ...rest } = reply;
  const bare: MessageReply = { ...rest, ...(rows ? { rows: rows.map(({ buttons: _rowButtons, ...row }) => row) } : {}) };
  return { title: truncate(title, 64), card: adaptiveAttachment(renderMessageCard(bare)), width: 'medium', height: 'small' };
}

/**
 * The case summary from the message a message action was used on (`value.messagePayload`): who
 * wrote it and when, its text (HTML → plain), and its link. Empty when the message has no text.
 */
export function summaryFromMessagePayload(payload: unknown, timeZone: string): string {
  if (!isRecord(payload)) return '';
  const body = isRecord(payload.body) ? payload.body : {};
  const content = str(body.content) ?? '';
  // Mentions (<at id="0">Name</at>) keep their name, like any other tag's text.
  const raw = body.contentType === 'text' ? content : stripHtml(content);
  const text = raw
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text === '') return '';
  const from = isRecord(payload.from) ? payload.from : {};
  const user = isRecord(from.user) ? from.user : {};
  const author = str(user.displayName)?.trim();
  const created = str(payload.createdDateTime);
  const at = created !== undefined && !Number.isNaN(Date.parse(created)) ? formatInZone(new Date(created), timeZone) : undefined;
  const head = ['Message', author ? `from ${author}` : undefined, at ? `at ${at}` : undefined].filter((s): s is string => s !== undefined).join(' ');
  const link = str(payload.linkToMessage);
  const linkLine = link !== undefined && /^https:\/\//.test(link) ? `\n\nLink: ${link}` : '';
  const whole = `${head}:\n${text}${linkLine}`;
  // The link matters less than the text: it goes first when the whole does not fit.
  return truncate(Array.from(whole).length <= MAX_SUMMARY ? whole : `${head}:\n${text}`, MAX_SUMMARY);
}

/**
 * A reply as a message activity. The plain-text fallback goes in `summary` (notifications, clients
 * without cards) and the card's `fallbackText`, not in `text`: Teams would show `text` above the card.
 */
export function activityFor(reply: Reply): Partial<Activity> {
  const card = cardFor(reply);
  const summary = reply.kind === 'form' ? reply.form.title : card.fallbackText;
  return { type: 'message', attachments: [adaptiveAttachment(card)], ...(summary ? { summary } : {}) };
}
