// The "Log as case" message shortcut (declared in manifest.json): opens the /case new form with
// the summary filled in from the message. The person checks it and submits; nothing is saved until then.
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { MAX_SUMMARY } from '../../../../domain/case';
import { formatInZone } from '../../../../domain/time';
import type { SlackDeps } from '../../deps';
import { replayedElsewhere } from '../../gate';
import {
  beginInteraction,
  deliver,
  failInteraction,
  fromSlackText,
  openPlaceholder,
  rememberMember,
  tellSurface,
  type Surface,
} from '../../interaction';
import { LIMITS, canonicalMention, truncate } from '../../render';

export const LOG_AS_CASE_CALLBACK_ID = 'log_as_case';
export const LOG_AS_CASE_COMMAND = '/case new';

/** The case summary a Slack text input can hold: the core allows more than Slack shows. */
const SUMMARY_MAX = Math.min(MAX_SUMMARY, LIMITS.textInputMax);

/**
 * Slack message markup as plain text: `<#C1|duty>` → "#duty", `<https://x|label>` → "label (https://x)",
 * `<!here>` → "@here"; user mentions and entities are left to fromSlackText.
 */
function plainLinks(text: string): string {
  return text
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, name?: string) => name || '@group')
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<((?:https?|mailto):[^|>]+)\|([^>]*)>/g, (_m, url: string, label: string) => (label && label !== url ? `${label} (${url})` : url))
    .replace(/<((?:https?|mailto):[^>]+)>/g, '$1');
}

/** "1712345678.000100" → the instant, if it is one. */
function tsToDate(ts: string | undefined): Date | undefined {
  const seconds = ts !== undefined ? Number(ts) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
}

/**
 * The summary to start the form with: who wrote the message, where and when, then its text, and
 * its permalink when Slack sent one.
 */
export function summaryFromMessage(shortcut: MessageShortcut, teamId: string, timeZone: string): string {
  const m = shortcut.message;
  const author = typeof m.user === 'string' && m.user !== '' ? canonicalMention(teamId, m.user) : typeof m.username === 'string' ? String(m.username) : undefined;
  const where = shortcut.channel.name && !shortcut.channel.name.startsWith('directmessage') ? `#${shortcut.channel.name}` : undefined;
  const at = tsToDate(m.ts ?? shortcut.message_ts);
  const head = ['Message', author ? `from ${author}` : undefined, where ? `in ${where}` : undefined, at ? `at ${formatInZone(at, timeZone)}` : undefined]
    .filter((s): s is string => s !== undefined)
    .join(' ');
  const text = fromSlackText(plainLinks(m.text ?? ''), teamId).trim();
  const permalink = typeof m.permalink === 'string' && /^https:\/\//.test(m.permalink) ? `\n\nLink: ${String(m.permalink)}` : '';
  // The link matters less than the text: it goes first when the whole does not fit.
  const whole = `${head}:\n${text || '(no text)'}${permalink}`;
  return truncate(whole.length <= SUMMARY_MAX ? whole : `${head}:\n${text}`, SUMMARY_MAX);
}

export function logAsCase(deps: SlackDeps) {
  return async ({ ack, shortcut, client, context }: AllMiddlewareArgs & SlackShortcutMiddlewareArgs<MessageShortcut>): Promise<void> => {
    await ack();
    if (await replayedElsewhere(context)) return;
    // As for slash commands: let other acks out first; the trigger id is still used well within its 3 s.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const teamId = shortcut.user.team_id ?? shortcut.team?.id ?? '';
    const ix = beginInteraction(deps, 'shortcut', { teamId, userId: shortcut.user.id, userName: shortcut.user.name }, shortcut.channel.id);
    const surface: Surface = {
      client,
      user: ix.user,
      triggerId: shortcut.trigger_id,
      ...(shortcut.channel.id ? { channelId: shortcut.channel.id } : {}),
      ...(shortcut.response_url ? { responseUrl: shortcut.response_url } : {}),
    };
    try {
      // Before anything slow: the trigger id expires 3 seconds after the click. Every answer
      // (the form, or why not) shows in this modal.
      const viewId = await openPlaceholder(surface, ix);
      if (viewId) surface.viewId = viewId;
      await rememberMember(deps, ix);
      ix.log.info({ callbackId: shortcut.callback_id }, 'message shortcut');
      const summary = summaryFromMessage(shortcut, teamId, deps.config.MISSION_TIMEZONE);
      const reply = await deps.dispatcher.dispatch({
        kind: 'command',
        text: LOG_AS_CASE_COMMAND,
        prefill: { summary },
        caller: ix.caller,
        origin: ix.origin,
        requestId: ix.requestId,
      });
      await deliver(surface, reply, ix);
    } catch (err) {
      await failInteraction(ix, err, (r) => tellSurface(surface, r, ix));
    }
  };
}
