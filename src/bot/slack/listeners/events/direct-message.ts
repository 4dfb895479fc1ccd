// Messages typed to the bot (DM or @mention): remember the person and point to the commands.
// Commands typed in the DM run; a file uploaded there with a command as its message ("crisis
// import NPL-EQ") is downloaded (./files) and handed to that command.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { failure } from '../../../../domain/reply';
import type { InvocationFile } from '../../../../domain/invocation';
import type { SlackDeps } from '../../deps';
import { NO_FILES_SCOPE, SlackFileError, downloadSlackFiles, fileNameOf, type SlackFileRef } from '../../files';
import { beginInteraction, failInteraction, fromSlackText, rememberMember, type Interaction, type WebClient } from '../../interaction';
import { renderMessage } from '../../render';

const HINT = 'I work through slash commands. Type `/duty help` to see what you can do.';
const FILE_HINT = 'To use a file, send the file with a command, e.g. crisis import NPL-EQ (upload it here with the command as its message).';

/**
 * "ack 42", "page ack 42", "/page show 42" typed in the DM run as commands; forms need the slash
 * command, except with a file: the file is the content the form would ask for.
 */
function commandIn(text: string, preview: SlackDeps['dispatcher']['preview'], withFiles: boolean): string | null {
  const t = text.trim();
  if (!t) return null;
  const asCommand = t.startsWith('/') ? t : `/${t}`;
  const p = preview(asCommand);
  return p.command && (withFiles || !p.mayOpenForm) ? asCommand : null;
}

function fileRefs(files: unknown): SlackFileRef[] {
  if (!Array.isArray(files)) return [];
  return files.filter((f): f is SlackFileRef => typeof f === 'object' && f !== null && typeof (f as { id?: unknown }).id === 'string');
}

/** Event payloads may carry only the file id (`file_access: "check_file_info"`): ask files.info for the rest. */
async function withDetails(client: WebClient, file: SlackFileRef): Promise<SlackFileRef> {
  if (file.url_private_download || file.url_private) return file;
  try {
    const r = await client.files.info({ file: file.id });
    return r.file ? { ...file, ...(r.file as Partial<SlackFileRef>), id: file.id } : file;
  } catch (err) {
    const code = (err as { data?: { error?: unknown } }).data?.error;
    const name = fileNameOf(file);
    if (code === 'missing_scope') throw new SlackFileError('no_scope', name, `Could not download ${name}: ${NO_FILES_SCOPE}.`, { cause: err });
    throw new SlackFileError('not_downloadable', name, `Could not download ${name}: Slack would not describe it (${typeof code === 'string' ? code : 'error'}).`, { cause: err });
  }
}

/** The files of a DM, downloaded; on a failure the member is told why and nothing runs. */
async function download(ix: Interaction, client: WebClient, token: string | undefined, channel: string, refs: SlackFileRef[]): Promise<InvocationFile[] | null> {
  try {
    if (!token) throw new Error('no bot token to download files with');
    const detailed: SlackFileRef[] = [];
    for (const f of refs) detailed.push(await withDetails(client, f));
    return await downloadSlackFiles(detailed, { token });
  } catch (err) {
    if (!(err instanceof SlackFileError)) throw err;
    ix.log.warn({ err, problem: err.problem, file: err.fileName }, 'could not download a file sent to the bot');
    await client.chat.postMessage({ channel, ...renderMessage(failure('FILE_DOWNLOAD', `${err.message} Nothing was run.`)) });
    return null;
  }
}

export function directMessage(deps: SlackDeps) {
  return async ({ event, body, client, context }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'message'>): Promise<void> => {
    // Edits, joins and bot posts (our own included) are not someone talking to us; a file shared
    // with a message is.
    if (event.subtype !== undefined && event.subtype !== 'file_share') return;
    if (event.channel_type !== 'im' || (event as { bot_id?: unknown }).bot_id !== undefined) return;
    if (context.botUserId !== undefined && event.user === context.botUserId) return;
    const refs = fileRefs(event.files);
    const ix = beginInteraction(deps, refs.length ? 'dm-file' : 'dm', { teamId: body.team_id, userId: event.user }, event.channel);
    await rememberMember(deps, ix);
    const text = commandIn(typeof event.text === 'string' ? event.text : '', (t) => deps.dispatcher.preview(t), refs.length > 0);
    if (!text) {
      await client.chat.postMessage({ channel: event.channel, text: refs.length ? FILE_HINT : HINT });
      return;
    }
    try {
      let files: InvocationFile[] | undefined;
      if (refs.length) {
        const got = await download(ix, client, context.botToken ?? deps.config.SLACK_BOT_TOKEN, event.channel, refs);
        if (!got) return;
        files = got;
      }
      const reply = await deps.dispatcher.dispatch({
        kind: 'command',
        text: fromSlackText(text, body.team_id),
        caller: ix.caller,
        origin: ix.origin,
        requestId: ix.requestId,
        ...(files ? { files } : {}),
      });
      if (reply.kind !== 'message') return;
      await client.chat.postMessage({ channel: event.channel, ...renderMessage(reply), unfurl_links: false });
    } catch (err) {
      await failInteraction(ix, err, async (r) => void (await client.chat.postMessage({ channel: event.channel, ...renderMessage(r) })));
    }
  };
}

export function appMention(deps: SlackDeps) {
  return async ({ event, body, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_mention'>): Promise<void> => {
    if (event.user === undefined || event.bot_id !== undefined) return;
    const ix = beginInteraction(deps, 'mention', { teamId: body.team_id, userId: event.user }, event.channel);
    await rememberMember(deps, ix);
    await client.chat.postEphemeral({ channel: event.channel, user: event.user, text: HINT });
  };
}
