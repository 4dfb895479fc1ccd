// Slack markup the code itself builds (a mention of a member it resolved, a link to a channel it
// checked), kept apart from user text.
//
// Reply text is text: the renderers escape all of it, so "<!channel>", "<@U1>", "<#C1>" or
// "<https://x|click>" typed by anyone (a name, a note, an imported file, a Teams message, the
// canonical "<@slack:T:U>" typed by hand) shows as typed and pings or links nothing. Markup that is
// meant to be live travels inside the text as a token sealed with a key drawn when the process
// starts. No input can know the key, so no input can forge a token; the Slack renderer lets
// through only tokens with this key and of two shapes (a user mention, a channel link), never a
// broadcast (<!channel>, <!here>, <!subteam^…>) or a labelled URL. A token shown anywhere else (the
// Teams and console renderers), or by a Slack renderer in another process (text stored and shown
// later), becomes its plain text: "@Ana Lee", "#duty".
import { randomBytes } from 'node:crypto';

// Unicode noncharacters: reserved for a program's internal use, never meaningful in text.
const OPEN = '\uFDD0';
const MID = '\uFDD1';
const CLOSE = '\uFDD2';
const MARKERS = /[\uFDD0-\uFDD2]/g;
const TOKEN = /\uFDD0([^\uFDD0-\uFDD2]*)\uFDD1([^\uFDD0-\uFDD2]*)\uFDD1([^\uFDD0-\uFDD2]*)\uFDD2/g;

/** Drawn once per process; it never leaves the process in rendered output. */
const KEY = randomBytes(12).toString('base64url');

/** The only markup a token may carry. */
const USER_MENTION = /^<@[UW][A-Z0-9]{1,30}>$/;
const CHANNEL_LINK = /^<#[CG][A-Z0-9]{1,30}(?:\|[a-z0-9_-]{1,80})?>$/;

const USER_ID = /^[UW][A-Z0-9]{1,30}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{1,30}$/;

function seal(markup: string, plain: string): string {
  return `${OPEN}${KEY}${MID}${markup}${MID}${plain.replace(MARKERS, '')}${CLOSE}`;
}

/**
 * A live mention of a Slack user the code resolved; `name` is what other renderers show ("@name").
 * Anything that is not a Slack user id gives plain text.
 */
export function slackMention(userId: string, name?: string): string {
  const shown = `@${name ?? userId}`;
  return USER_ID.test(userId) ? seal(`<@${userId}>`, shown) : shown.replace(MARKERS, '');
}

/**
 * A live link to a Slack channel the code checked; `name` (Slack's channel name) is shown by other
 * renderers ("#duty"), and by Slack when the viewer cannot see the channel.
 */
export function slackChannelLink(channelId: string, name?: string): string {
  const label = name !== undefined && /^[a-z0-9_-]{1,80}$/.test(name) ? name : undefined;
  const shown = `#${label ?? channelId}`;
  if (!CHANNEL_ID.test(channelId)) return shown.replace(MARKERS, '');
  return seal(label ? `<#${channelId}|${label}>` : `<#${channelId}>`, shown);
}

export type TextPart = { text: string } | { markup: string };

/**
 * Text cut into plain runs (to be escaped) and live markup: only tokens sealed by this process,
 * carrying one of the allowed shapes. Any other token is plain text; stray markers are dropped.
 */
export function trustedParts(text: string): TextPart[] {
  if (!text.includes(OPEN)) return [{ text: text.replace(MARKERS, '') }];
  const parts: TextPart[] = [];
  let at = 0;
  let plain = '';
  for (const m of text.matchAll(TOKEN)) {
    const [whole, key, markup, shown] = m as unknown as [string, string, string, string];
    plain += text.slice(at, m.index).replace(MARKERS, '');
    at = m.index + whole.length;
    if (key === KEY && (USER_MENTION.test(markup) || CHANNEL_LINK.test(markup))) {
      if (plain !== '') parts.push({ text: plain });
      plain = '';
      parts.push({ markup });
    } else {
      plain += shown;
    }
  }
  plain += text.slice(at).replace(MARKERS, '');
  if (plain !== '') parts.push({ text: plain });
  return parts;
}

/** Text with every token as its plain text, for renderers that show no Slack markup (and never the key). */
export function plainTrusted(text: string): string {
  if (!text.includes(OPEN)) return text.includes(MID) || text.includes(CLOSE) ? text.replace(MARKERS, '') : text;
  return text.replace(TOKEN, (_m, _key: string, _markup: string, shown: string) => shown).replace(MARKERS, '');
}
