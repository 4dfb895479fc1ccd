// Files a member uploads to the bot's DM, fetched from Slack with the bot token: url_private_download
// (else url_private), size-capped before and while reading, time-limited, redirects followed only
// to http(s), and Slack's HTML sign-in page (what a token without files:read gets) told apart.
import { MAX_INVOCATION_FILE_BYTES, type InvocationFile } from '../../domain/invocation';

/** The part of a Slack file object (message event `files[]`, files.info) a download needs. */
export interface SlackFileRef {
  id: string;
  name?: string | null;
  title?: string | null;
  mimetype?: string;
  size?: number;
  mode?: string;
  is_external?: boolean;
  url_private_download?: string;
  url_private?: string;
}

export type SlackFileProblem = 'too_large' | 'no_scope' | 'not_downloadable' | 'http' | 'timeout' | 'redirect' | 'network';

/** A file that could not be fetched; `message` is meant for the member. */
export class SlackFileError extends Error {
  constructor(
    readonly problem: SlackFileProblem,
    readonly fileName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SlackFileError';
  }
}

export interface DownloadOptions {
  /** The bot token (xoxb-…), sent as `Authorization: Bearer`. */
  token: string;
  /** Per file; MAX_INVOCATION_FILE_BYTES unless smaller. */
  maxBytes?: number;
  /** The whole download, redirects included. */
  timeoutMs?: number;
  maxRedirects?: number;
}

export const DOWNLOAD_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
export const NO_FILES_SCOPE = 'the bot cannot read files: add the files:read scope to the Slack app and reinstall it';

/** The name to show and store: no directories, no control characters, not too long. */
export function fileNameOf(file: SlackFileRef): string {
  for (const candidate of [file.name, file.title]) {
    const base = (candidate ?? '').split(/[\\/]/).pop() ?? '';
    // eslint-disable-next-line no-control-regex
    const clean = Array.from(base.replace(/[\u0000-\u001f\u007f]/g, '').trim()).slice(0, 200).join('');
    if (clean !== '' && clean !== '.' && clean !== '..') return clean;
  }
  return `file-${file.id}`;
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

function tooLarge(name: string, bytes: number | undefined, limit: number): SlackFileError {
  const size = bytes === undefined ? 'over' : `${megabytes(bytes)}, over`;
  return new SlackFileError('too_large', name, `${name} is too large (${size} the ${megabytes(limit)} limit); split it and send the parts one by one.`);
}

/** The token goes where Slack pointed us, and on redirects only to that origin or Slack's own hosts. */
function mayCarryToken(target: URL, first: URL): boolean {
  if (target.origin === first.origin) return true;
  return target.protocol === 'https:' && /(^|\.)(slack\.com|slack-gov\.com)$/i.test(target.hostname);
}

function httpUrl(raw: string, name: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SlackFileError('not_downloadable', name, `Could not download ${name}: Slack gave no usable address for it.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SlackFileError('redirect', name, `Could not download ${name}: its address is not http(s).`);
  return u;
}

async function readCapped(res: Response, name: string, limit: number, onTooLarge: () => void): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      onTooLarge();
      await reader.cancel().catch(() => undefined);
      throw tooLarge(name, undefined, limit);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}

/** Downloads one file; throws SlackFileError with a message for the member. */
export async function downloadSlackFile(file: SlackFileRef, options: DownloadOptions): Promise<InvocationFile> {
  const name = fileNameOf(file);
  const limit = Math.min(options.maxBytes ?? MAX_INVOCATION_FILE_BYTES, MAX_INVOCATION_FILE_BYTES);
  const timeoutMs = options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  if (file.is_external || file.mode === 'external') {
    throw new SlackFileError('not_downloadable', name, `${name} is a link to a file stored outside Slack; upload the file itself.`);
  }
  if (typeof file.size === 'number' && file.size > limit) throw tooLarge(name, file.size, limit);
  const raw = file.url_private_download ?? file.url_private;
  if (!raw) throw new SlackFileError('not_downloadable', name, `Could not download ${name}: Slack gave no download address for it.`);

  const first = httpUrl(raw, name);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  timer.unref();
  try {
    let url = first;
    let res: Response;
    for (let hops = 0; ; hops++) {
      res = await fetch(url, {
        redirect: 'manual',
        signal: controller.signal,
        headers: mayCarryToken(url, first) ? { Authorization: `Bearer ${options.token}` } : {},
      });
      if (res.status < 300 || res.status >= 400 || res.status === 304) break;
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      if (!location) throw new SlackFileError('http', name, `Could not download ${name}: Slack answered ${res.status} without saying where to.`);
      if (hops >= (options.maxRedirects ?? MAX_REDIRECTS)) throw new SlackFileError('redirect', name, `Could not download ${name}: too many redirects.`);
      url = httpUrl(new URL(location, url).toString(), name);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const why = res.status === 403 || res.status === 401 ? ' (the bot may not see this file)' : res.status === 404 ? ' (the file is gone)' : '';
      throw new SlackFileError('http', name, `Could not download ${name}: Slack answered ${res.status}${why}.`);
    }
    const contentType = res.headers.get('content-type') ?? '';
    // Without files:read Slack answers 200 with its sign-in page instead of the file.
    if (/^\s*text\/html\b/i.test(contentType) && !/^text\/html\b/i.test(file.mimetype ?? '')) {
      await res.body?.cancel().catch(() => undefined);
      throw new SlackFileError('no_scope', name, `Could not download ${name}: ${NO_FILES_SCOPE}.`);
    }
    const declared = Number(res.headers.get('content-length') ?? '');
    if (Number.isFinite(declared) && declared > limit) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(name, declared, limit);
    }
    const content = await readCapped(res, name, limit, () => controller.abort());
    return { name, content, ...(file.mimetype ? { mimeType: file.mimetype } : {}) };
  } catch (err) {
    if (err instanceof SlackFileError) throw err;
    if (timedOut) throw new SlackFileError('timeout', name, `Could not download ${name}: Slack did not send it within ${Math.round(timeoutMs / 1000)} seconds.`, { cause: err });
    const why = err instanceof Error ? ((err.cause as { code?: unknown } | undefined)?.code ?? err.message) : String(err);
    throw new SlackFileError('network', name, `Could not download ${name}: ${String(why)}.`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** Downloads files one after the other; together they stay within MAX_INVOCATION_FILE_BYTES. */
export async function downloadSlackFiles(files: readonly SlackFileRef[], options: DownloadOptions): Promise<InvocationFile[]> {
  const budget = Math.min(options.maxBytes ?? MAX_INVOCATION_FILE_BYTES, MAX_INVOCATION_FILE_BYTES);
  const out: InvocationFile[] = [];
  let used = 0;
  for (const file of files) {
    const left = budget - used;
    if (left <= 0 || (typeof file.size === 'number' && file.size > left && file.size <= budget)) {
      throw new SlackFileError('too_large', fileNameOf(file), `Together the files are over the ${megabytes(budget)} limit; send them one by one.`);
    }
    let got: InvocationFile;
    try {
      got = await downloadSlackFile(file, { ...options, maxBytes: left });
    } catch (err) {
      if (err instanceof SlackFileError && err.problem === 'too_large' && used > 0) {
        throw new SlackFileError('too_large', err.fileName, `Together the files are over the ${megabytes(budget)} limit; send them one by one.`, { cause: err });
      }
      throw err;
    }
    used += got.content.length;
    out.push(got);
  }
  return out;
}
