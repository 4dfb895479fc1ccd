// Files sent to the bot in a Teams 1:1 chat: the message carries a pre-authenticated, short-lived
// download link per file (`application/vnd.microsoft.teams.file.download.info`, needs
// `supportsFiles: true` on the bot in the app manifest). Files posted in channels and group chats
// only arrive as links that need Microsoft Graph; we tell people to use the 1:1 chat instead.
import type { Activity, Attachment } from 'botbuilder';
import { MAX_INVOCATION_FILE_BYTES, type InvocationFile } from '../../domain/invocation';

/** A file uploaded to the bot in a personal chat. */
export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
/** How Teams shows a file shared in a channel or group chat (a SharePoint link that needs Graph). */
const FILE_REFERENCE = 'reference';

export const DOWNLOAD_TIMEOUT_MS = 30_000;

/** A file the message offers for download. */
export interface TeamsFileOffer {
  name: string;
  downloadUrl: string;
  fileType?: string;
}

export type DownloadResult = { ok: true; files: InvocationFile[] } | { ok: false; reason: 'bad_url' | 'too_large' | 'timeout' | 'http' | 'network'; message: string };

export interface DownloadOptions {
  /** Largest total size of the files together. Default MAX_INVOCATION_FILE_BYTES. */
  maxBytes?: number;
  /** Per file. Default 30 s. */
  timeoutMs?: number;
  /** Plain http links: only in anonymous local mode (Teams' own links are https). */
  allowHttp?: boolean;
  fetch?: typeof fetch;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MIME_BY_TYPE: Record<string, string> = {
  csv: 'text/csv',
  txt: 'text/plain',
  tsv: 'text/tab-separated-values',
  xml: 'application/xml',
  pfif: 'application/xml',
  json: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

/** A file name safe to show and store: no directories, no control characters, not too long. */
export function safeFileName(name: string | undefined, fileType: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = Array.from(base.replace(/[\u0000-\u001f\u007f]/g, '').trim()).slice(0, 200).join('');
  if (clean !== '' && clean !== '.' && clean !== '..') return clean;
  const ext = fileType && /^[a-z0-9]{1,10}$/i.test(fileType) ? `.${fileType.toLowerCase()}` : '';
  return `file${ext}`;
}

/** The files uploaded with a message (personal chat): download.info attachments only, not cards or inline images. */
export function fileOffers(activity: Pick<Activity, 'attachments'>): TeamsFileOffer[] {
  const out: TeamsFileOffer[] = [];
  for (const att of activity.attachments ?? []) {
    if (!isRecord(att) || att.contentType !== FILE_DOWNLOAD_INFO || !isRecord(att.content)) continue;
    const fileType = typeof att.content.fileType === 'string' ? att.content.fileType : undefined;
    const downloadUrl = typeof att.content.downloadUrl === 'string' ? att.content.downloadUrl : '';
    out.push({ name: safeFileName(typeof att.name === 'string' ? att.name : undefined, fileType), downloadUrl, ...(fileType ? { fileType } : {}) });
  }
  return out;
}

/** True when the message carries files in any form Teams uses (download info in 1:1 chats, references elsewhere). */
export function hasFiles(activity: Pick<Activity, 'attachments'>): boolean {
  return (activity.attachments ?? []).some((att: Attachment) => att.contentType === FILE_DOWNLOAD_INFO || att.contentType === FILE_REFERENCE);
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

function mimeOf(offer: TeamsFileOffer, header: string | null): string | undefined {
  const byType = offer.fileType ? MIME_BY_TYPE[offer.fileType.toLowerCase()] : undefined;
  if (byType) return byType;
  const fromHeader = header?.split(';')[0]?.trim().toLowerCase();
  return fromHeader && fromHeader !== 'application/octet-stream' ? fromHeader : undefined;
}

class TooLarge extends Error {}

async function downloadOne(
  offer: TeamsFileOffer,
  maxBytes: number,
  opts: Required<Pick<DownloadOptions, 'timeoutMs' | 'allowHttp' | 'fetch'>>,
): Promise<{ ok: true; file: InvocationFile } | Extract<DownloadResult, { ok: false }>> {
  let url: URL;
  try {
    url = new URL(offer.downloadUrl);
  } catch {
    return { ok: false, reason: 'bad_url', message: `Teams gave no usable download link for ${offer.name}. Please send it again.` };
  }
  if (url.protocol !== 'https:' && !(opts.allowHttp && url.protocol === 'http:')) {
    return { ok: false, reason: 'bad_url', message: `Teams gave no usable download link for ${offer.name}. Please send it again.` };
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const tooLarge = `${offer.name} is larger than ${megabytes(maxBytes)}, the limit for files sent to Duty Desk.`;
  try {
    // The link is pre-authenticated: no bearer token (and none of ours should go to it).
    const res = await opts.fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: 'http', message: `Could not download ${offer.name} from Teams (HTTP ${res.status}). Please send it again.` };
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: 'too_large', message: tooLarge };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new TooLarge();
        }
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    }
    const mimeType = mimeOf(offer, res.headers.get('content-type'));
    return { ok: true, file: { name: offer.name, content: Buffer.concat(chunks, size), ...(mimeType ? { mimeType } : {}) } };
  } catch (err) {
    if (err instanceof TooLarge) return { ok: false, reason: 'too_large', message: tooLarge };
    if (timedOut) {
      return { ok: false, reason: 'timeout', message: `Downloading ${offer.name} from Teams took longer than ${Math.round(opts.timeoutMs / 1000)} s. Please try again.` };
    }
    return { ok: false, reason: 'network', message: `Could not download ${offer.name} from Teams. Please send it again.` };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Downloads the files one after the other, within `maxBytes` together (enforced while reading,
 * not trusted to Content-Length) and `timeoutMs` each. The first failure ends it.
 */
export async function downloadFiles(offers: readonly TeamsFileOffer[], options: DownloadOptions = {}): Promise<DownloadResult> {
  const maxBytes = options.maxBytes ?? MAX_INVOCATION_FILE_BYTES;
  const opts = { timeoutMs: options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS, allowHttp: options.allowHttp ?? false, fetch: options.fetch ?? fetch };
  const files: InvocationFile[] = [];
  let used = 0;
  for (const offer of offers) {
    const r = await downloadOne(offer, maxBytes - used, opts);
    if (!r.ok) {
      if (r.reason === 'too_large' && files.length > 0) {
        return { ok: false, reason: 'too_large', message: `The files sent together are larger than ${megabytes(maxBytes)}, the limit for files sent to Duty Desk.` };
      }
      return r;
    }
    files.push(r.file);
    used += r.file.content.length;
  }
  return { ok: true, files };
}
