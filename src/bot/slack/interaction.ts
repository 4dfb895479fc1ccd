// Shared by the listeners: who is asking, the request id and its logger, and how a reply
// reaches the person (response_url, ephemeral, DM, modal).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { webApi } from '@slack/bolt';
import { z } from 'zod/v4';
import type { Caller, Origin } from '../../domain/invocation';
import { failure, type MessageReply, type Reply } from '../../domain/reply';
import type { Logger } from '../../logger';
import type { SlackDeps } from './deps';
import { LIMITS, canonicalMention, renderLoadingModal, renderMessage, renderMessageModal, renderModal } from './render';

export type WebClient = webApi.WebClient;

export interface SlackUser {
  teamId: string;
  userId: string;
  userName?: string;
}

export interface Interaction {
  requestId: string;
  log: Logger;
  user: SlackUser;
  caller: Caller;
  origin: Origin;
}

export function beginInteraction(deps: SlackDeps, kind: string, user: SlackUser, channelId?: string): Interaction {
  const requestId = randomUUID();
  return {
    requestId,
    log: deps.logger.child({ requestId, ref: shortRef(requestId), platform: 'slack', interaction: kind, slackUser: `${user.teamId}:${user.userId}` }),
    user,
    caller: {
      platform: 'slack',
      externalId: `${user.teamId}:${user.userId}`,
      ...(user.userName ? { displayName: user.userName } : {}),
    },
    origin: { ...(channelId ? { channelId } : {}), workspaceId: user.teamId },
  };
}

/**
 * Slash command text as the core expects it: user mentions (`<@U123|name>`, `<@U123>`) become
 * the canonical `<@slack:T:U123>`, and the `&amp;` `&lt;` `&gt;` Slack puts in place of what
 * was typed are undone (after the mentions, so a typed "<@U1>" stays plain text).
 */
export function fromSlackText(text: string, teamId: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (_m, id: string) => canonicalMention(teamId, id))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Keeps the member's DM reachable for proactive messages; never fails the interaction. */
export async function rememberMember(deps: SlackDeps, ix: Interaction): Promise<void> {
  try {
    // Someone who is not (yet) a member gets the core's polite refusal and leaves no row behind.
    if (deps.members && !(await deps.members.byIdentity('slack', ix.caller.externalId))) return;
    await deps.conversations.remember('slack', `member:${ix.user.teamId}:${ix.user.userId}`, {
      userId: ix.user.userId,
      teamId: ix.user.teamId,
    });
  } catch (err) {
    ix.log.warn({ err }, 'could not remember the Slack conversation');
  }
}

/** The ref is the request id's first 8 characters, as the dispatcher gives it: easy to read out. */
export function shortRef(requestId: string): string {
  return requestId.slice(0, 8);
}

export function somethingWentWrong(requestId: string): MessageReply {
  return failure('INTERNAL', `Something went wrong (ref ${shortRef(requestId)}).`);
}

/** Thrown out of a listener after the user was told; Bolt's error handler logs it. */
export class SlackInteractionError extends Error {
  constructor(
    readonly requestId: string,
    override readonly cause: unknown,
  ) {
    super(`Slack interaction ${requestId} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SlackInteractionError';
  }
}

// ---------------------------------------------------------------------------------------------
// Modal metadata

const metaSchema = z.object({
  command: z.string(),
  context: z.string().optional(),
  channelId: z.string().optional(),
  responseUrl: z.string().optional(),
});
export type FormMeta = z.infer<typeof metaSchema>;

/** JSON for `private_metadata`; the response URL is dropped first if it does not fit. */
export function encodeMeta(meta: FormMeta): string {
  const json = JSON.stringify(meta);
  if (json.length <= LIMITS.privateMetadata) return json;
  const { responseUrl: _dropped, ...rest } = meta;
  const shorter = JSON.stringify(rest);
  if (shorter.length <= LIMITS.privateMetadata) return shorter;
  throw new RangeError(`form context for "${meta.command}" is too long for a Slack modal (${shorter.length} characters)`);
}

export function decodeMeta(text: string): FormMeta | undefined {
  try {
    const r = metaSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Delivery

export interface MessageTarget {
  client: WebClient;
  user: SlackUser;
  /** The conversation the interaction came from, if any. */
  channelId?: string;
  /** Slack's response_url for this interaction (slash command, message button). */
  responseUrl?: string;
  /** Buttons: answer beside the original message instead of replacing it. */
  replaceOriginal?: false;
}

// Kept-alive connections to Slack's hooks. node:http rather than fetch: fetch's web streams cost
// close to a millisecond of CPU a reply, which competes with the 3-second acks of others.
// An idle connection is dropped after 4 s, before the usual 5 s of servers' keep-alive: one reused
// just as the server closes it would fail (below, such a failure is tried once more).
const agentOptions = { keepAlive: true, maxSockets: 32, timeout: 4_000 };
const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

async function postToResponseUrl(url: string, payload: Record<string, unknown>): Promise<void> {
  try {
    await postOnceToResponseUrl(url, payload);
  } catch (err) {
    // Node's advice for keep-alive: a reused connection reset before any answer was closed by the
    // server while idle, and the request never read; a second try (on a new one) is safe.
    if (!(err instanceof ReusedSocketReset)) throw err;
    await postOnceToResponseUrl(url, payload);
  }
}

class ReusedSocketReset extends Error {}

async function postOnceToResponseUrl(url: string, payload: Record<string, unknown>): Promise<void> {
  const u = new URL(url);
  const body = JSON.stringify(payload);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') throw new Error('response_url is not an http(s) URL');
  const status = await new Promise<number>((resolve, reject) => {
    let answered = false;
    const req = (secure ? https : http).request(
      u,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        answered = true;
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('response_url timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(!answered && req.reusedSocket && err.code === 'ECONNRESET' ? new ReusedSocketReset(err.message) : err);
    });
    req.end(body);
  });
  if (status < 200 || status >= 300) throw new Error(`response_url answered ${status}`);
}

async function directMessage(target: MessageTarget, rendered: ReturnType<typeof renderMessage>): Promise<void> {
  // Posting to a user id delivers into the app's DM with them.
  await target.client.chat.postMessage({ channel: target.user.userId, text: rendered.text, blocks: rendered.blocks });
}

/** The conversation for files: the origin channel, or the DM with the caller. */
async function fileChannel(target: MessageTarget, reply: MessageReply): Promise<string | undefined> {
  if (reply.visibility === 'channel' && target.channelId) return target.channelId;
  const im = await target.client.conversations.open({ users: target.user.userId });
  return im.channel?.id;
}

async function uploadAttachments(target: MessageTarget, reply: MessageReply, log: Logger): Promise<void> {
  if (!reply.attachments || reply.attachments.length === 0) return;
  try {
    const channel = await fileChannel(target, reply);
    if (!channel) return;
    await target.client.filesUploadV2({
      channel_id: channel,
      file_uploads: reply.attachments.map((a) => ({
        file: a.content,
        filename: a.filename,
        ...(a.title ? { title: a.title } : {}),
        ...(a.altText ? { alt_text: a.altText } : {}),
      })),
    });
  } catch (err) {
    log.warn({ err }, 'could not upload the reply attachments to Slack');
  }
}

/** Sends a message reply where its visibility says. */
export async function sendMessage(target: MessageTarget, reply: MessageReply, log: Logger): Promise<void> {
  const rendered = renderMessage(reply);
  const viaUrl = (responseType: 'ephemeral' | 'in_channel') =>
    postToResponseUrl(target.responseUrl as string, {
      response_type: responseType,
      ...(target.replaceOriginal === false ? { replace_original: false } : {}),
      text: rendered.text,
      blocks: rendered.blocks,
    });
  switch (reply.visibility) {
    case 'direct':
      await directMessage(target, rendered);
      break;
    case 'channel':
      if (target.responseUrl) await viaUrl('in_channel');
      else if (target.channelId) await target.client.chat.postMessage({ channel: target.channelId, text: rendered.text, blocks: rendered.blocks });
      else await directMessage(target, rendered);
      break;
    case 'caller':
      if (target.responseUrl) await viaUrl('ephemeral');
      else if (target.channelId && !target.channelId.startsWith('D')) {
        await target.client.chat.postEphemeral({ channel: target.channelId, user: target.user.userId, text: rendered.text, blocks: rendered.blocks });
      } else await directMessage(target, rendered);
      break;
  }
  await uploadAttachments(target, reply, log);
}

/** Where a reply to a slash command or a button goes. */
export interface Surface extends MessageTarget {
  triggerId: string;
  /** The placeholder modal opened before dispatching, if any. */
  viewId?: string;
  /** The click came from inside a modal: new views stack on it (views.push). */
  inModal?: boolean;
  /** No conversation to answer in (Home tab, modal): message replies show in a modal. */
  answerInModal?: boolean;
}

/** Opens the placeholder at once: `trigger_id` lasts 3 seconds and works only once. */
export async function openPlaceholder(surface: Surface, ix: Interaction): Promise<string | undefined> {
  try {
    const args = { trigger_id: surface.triggerId, view: renderLoadingModal() };
    const res = surface.inModal ? await surface.client.views.push(args) : await surface.client.views.open(args);
    return res.view?.id;
  } catch (err) {
    ix.log.warn({ err }, 'could not open the placeholder modal');
    return undefined;
  }
}

export async function deliver(surface: Surface, reply: Reply, ix: Interaction): Promise<void> {
  if (reply.kind === 'form') {
    const meta = encodeMeta({
      command: reply.form.command,
      ...(reply.form.context !== undefined ? { context: reply.form.context } : {}),
      ...(surface.channelId ? { channelId: surface.channelId } : {}),
      ...(surface.responseUrl ? { responseUrl: surface.responseUrl } : {}),
    });
    const view = renderModal(reply.form, meta);
    if (surface.viewId) {
      await surface.client.views.update({ view_id: surface.viewId, view });
      return;
    }
    try {
      const args = { trigger_id: surface.triggerId, view };
      if (surface.inModal) await surface.client.views.push(args);
      else await surface.client.views.open(args);
    } catch (err) {
      // Most likely the trigger expired; say so rather than fail silently.
      ix.log.warn({ err }, 'could not open the form modal');
      await sendMessage(surface, failure('FORM_UNAVAILABLE', `Could not open the "${reply.form.title}" form in time. Please try again.`), ix.log);
    }
    return;
  }
  if (surface.viewId) {
    await surface.client.views.update({ view_id: surface.viewId, view: renderMessageModal(reply) });
    // The modal shows the answer to the caller; others still need their copy.
    if (reply.visibility !== 'caller') await sendMessage(surface, reply, ix.log);
    return;
  }
  if (surface.answerInModal) {
    // A button in the Home tab or a modal: answer where the person is looking.
    try {
      const args = { trigger_id: surface.triggerId, view: renderMessageModal(reply) };
      if (surface.inModal) await surface.client.views.push(args);
      else await surface.client.views.open(args);
      if (reply.visibility !== 'caller') await sendMessage(surface, reply, ix.log);
      return;
    } catch (err) {
      ix.log.warn({ err }, 'could not show the answer in a modal; sending it as a message');
    }
  }
  await sendMessage(surface, reply, ix.log);
}

/** For failures: the modal if there is one, else (or if that fails too) a message. */
export async function tellSurface(surface: Surface, reply: MessageReply, ix: Interaction): Promise<void> {
  try {
    await deliver(surface, reply, ix);
  } catch (err) {
    if (!surface.viewId && !surface.answerInModal) throw err;
    ix.log.warn({ err }, 'could not show the failure in the modal');
    const { viewId: _viewId, inModal: _inModal, answerInModal: _answerInModal, ...plainTarget } = surface;
    await sendMessage(plainTarget, reply, ix.log);
  }
}

/** Tells the person something broke (best effort), then hands the error to Bolt's handler. */
export async function failInteraction(ix: Interaction, err: unknown, tell: (reply: MessageReply) => Promise<void>): Promise<never> {
  try {
    await tell(somethingWentWrong(ix.requestId));
  } catch (tellErr) {
    ix.log.warn({ err: tellErr }, 'could not tell the user about the failure');
  }
  throw new SlackInteractionError(ix.requestId, err);
}
