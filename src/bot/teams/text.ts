// What a Teams message says, as a command: the bot's @mention and HTML removed, other people's
// mentions rewritten to the canonical <@teams:AADOBJECTID>, and a bare "help" read as /duty help.
import type { Activity } from 'botbuilder';
import type { Preview } from '../../handlers/ports';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isGuid(s: string | undefined): s is string {
  return typeof s === 'string' && GUID.test(s);
}

/** Teams user ids: AAD object ids are GUIDs, compared lowercase; other ids are kept as sent. */
export function normalizeUserId(id: string): string {
  return isGuid(id) ? id.toLowerCase() : id;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function replaceFirst(haystack: string, needle: string, replacement: string): string {
  const i = haystack.indexOf(needle);
  return i < 0 ? haystack : haystack.slice(0, i) + replacement + haystack.slice(i + needle.length);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return safeCodePoint(parseInt(name.slice(2), 16), whole);
    if (name.startsWith('#')) return safeCodePoint(parseInt(name.slice(1), 10), whole);
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function safeCodePoint(n: number, whole: string): string {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
}

/** Removes HTML tags Teams may send (keeping line breaks) and decodes entities. `<@teams:…>` is not a tag. */
export function stripHtml(s: string): string {
  const withBreaks = s.replace(/<br\s*\/?>/gi, '\n').replace(/<\/(p|div|li)>/gi, '\n');
  return decodeEntities(withBreaks.replace(/<\/?[a-zA-Z][^>]*>/g, ''));
}

/**
 * The text of a message activity with mentions resolved: the bot's own mention goes, a person's
 * becomes `<@teams:AADOBJECTID>` (or `@Name` when Teams gave no object id).
 */
export function messageText(activity: Pick<Activity, 'text' | 'entities' | 'recipient'>): string {
  let text = activity.text ?? '';
  const botId = activity.recipient?.id;
  for (const entity of activity.entities ?? []) {
    if (!isRecord(entity) || entity.type !== 'mention') continue;
    const mentionText = typeof entity.text === 'string' ? entity.text : undefined;
    const mentioned = isRecord(entity.mentioned) ? entity.mentioned : undefined;
    if (!mentionText || !mentioned) continue;
    if (botId !== undefined && mentioned.id === botId) {
      text = text.split(mentionText).join(' ');
      continue;
    }
    const aad = typeof mentioned.aadObjectId === 'string' ? mentioned.aadObjectId : undefined;
    const name = typeof mentioned.name === 'string' ? mentioned.name : stripHtml(mentionText);
    text = replaceFirst(text, mentionText, isGuid(aad) ? `<@teams:${aad.toLowerCase()}>` : `@${name}`);
  }
  // Mentions without an entity: keep the name only.
  text = text.replace(/<at>(.*?)<\/at>/gi, '$1');
  return stripHtml(text)
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .trim();
}

/**
 * Turns what was typed into a command text: "/case new" stays, "duty help" and "case new" gain
 * the slash, and a bare "help" or "member list" is read under /duty. An empty message asks for help.
 */
export function toCommandText(text: string, preview: (text: string) => Preview): string {
  const t = text.trim();
  if (t === '') return '/duty help';
  if (t.startsWith('/')) return t;
  if (preview(`/${t}`).command) return `/${t}`;
  if (preview(`/duty ${t}`).command) return `/duty ${t}`;
  // Let the dispatcher explain what is wrong with the text as typed.
  return `/${t}`;
}
