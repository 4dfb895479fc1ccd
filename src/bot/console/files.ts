// Reply attachments on the console: written as files in one directory, under safe names, never
// overwriting anything, never left half-written under their final name.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ReplyAttachment } from '../../domain/reply';

/** What became of one attachment; the renderers show it, index.ts produces it. */
export type AttachmentOutcome =
  | { saved: true; /** absolute */ path: string; /** relative to the working directory when inside it */ shown: string; bytes: number }
  | { saved: false; /** the safe name it would have had */ name: string; dir: string; error: string; bytes: number };

/** Longest name we write, in UTF-8 bytes: room under the usual 255 for "-NN" and the temporary name. */
const MAX_NAME_BYTES = 200;

const EXTENSION_OF: Record<string, string> = {
  'text/csv': '.csv',
  'text/markdown': '.md',
  'text/plain': '.txt',
  'application/pdf': '.pdf',
  'application/xml': '.xml',
  'application/json': '.json',
  'image/png': '.png',
  'image/svg+xml': '.svg',
};

/** Control characters (C0, DEL, C1) and invisible or direction-changing ones that could disguise a name on a terminal. */
function unsafeChar(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0xfeff;
}

/** "report.csv" → ["report", ".csv"]; "x.pfif.xml" and "a.tar.gz" keep both parts as the extension. */
export function splitExtension(name: string): [string, string] {
  const m = /((?:\.[A-Za-z][A-Za-z0-9]{0,4})?\.[A-Za-z0-9]{1,8})$/.exec(name);
  if (!m || m.index === 0) return [name, ''];
  return [name.slice(0, m.index), m[1] as string];
}

function truncateBytes(s: string, max: number): string {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > max) out = Array.from(out).slice(0, -1).join('');
  return out;
}

/**
 * A file name that is safe to create in the output directory: no directories, no control or
 * invisible characters, no leading dot (hidden files, "." and ".."), no leading dash (read as an
 * option by shell commands), none of the characters Windows refuses, and not too long.
 */
export function safeFileName(raw: string, mimeType = ''): string {
  const visible = Array.from(raw.normalize('NFC'))
    .filter((ch) => !unsafeChar(ch.codePointAt(0) as number))
    .join('');
  const base = visible.split(/[/\\]/).filter((seg) => seg.trim() !== '' && seg !== '.' && seg !== '..').pop() ?? '';
  let name = base
    .replace(/[<>:"|?*]/g, '_')
    .replace(/^[\s.]+/, '')
    .replace(/[\s.]+$/, '')
    .replace(/^-/, '_');
  if (name === '') name = `attachment${EXTENSION_OF[mimeType.toLowerCase().split(';')[0]?.trim() ?? ''] ?? ''}`;
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    const [stem, ext] = splitExtension(name);
    name = truncateBytes(stem, Math.max(1, MAX_NAME_BYTES - Buffer.byteLength(ext, 'utf8'))) + ext;
    name = truncateBytes(name, MAX_NAME_BYTES);
  }
  return name;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'not a directory',
  EISDIR: 'a directory is in the way',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

function reasonOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known = err.code ? REASONS[err.code] : undefined;
  return known ? `${known} (${err.code})` : err.message || String(e);
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** link() is how we claim a name without overwriting; some file systems (FAT, some network shares) refuse it. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

async function isFree(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return false;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return true;
    throw e;
  }
}

/** Gives the finished temporary file its final name: `name`, else `stem-2.ext`, `stem-3.ext`… */
async function claimName(dir: string, name: string, tmp: string): Promise<string> {
  const [stem, ext] = splitExtension(name);
  let linkable = true;
  for (let n = 1; n <= 10_000; n++) {
    const candidate = path.join(dir, n === 1 ? name : `${stem}-${n}${ext}`);
    // safeFileName already guarantees this; checked again because the cost of a mistake is a file outside.
    if (path.dirname(candidate) !== dir) throw new Error(`refusing to write outside ${dir}`);
    if (linkable) {
      try {
        // Atomic and never replaces an existing entry (a file, a directory or a symbolic link).
        await fs.link(tmp, candidate);
        return candidate;
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'EEXIST') continue;
        if (!code || !NO_HARD_LINKS.has(code)) throw e;
        linkable = false;
      }
    }
    // Without hard links: check, then rename. Only a concurrent writer picking the same name in the
    // same instant could be overwritten.
    if (!(await isFree(candidate))) continue;
    await fs.rename(tmp, candidate);
    return candidate;
  }
  throw new Error(`${name} and 10000 numbered copies already exist`);
}

export function shownPath(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  const outside = rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  return outside ? p : rel;
}

/**
 * Writes one attachment into `dir` (created if missing). Never throws: a failure (permissions,
 * disk full) comes back as an outcome to show. The content goes to a hidden temporary file in the
 * same directory first, flushed to disk, then gets its final name; files are readable by their
 * owner only, since exports carry personal data.
 */
export async function saveAttachment(dir: string, a: Pick<ReplyAttachment, 'filename' | 'mimeType' | 'content'>, cwd = process.cwd()): Promise<AttachmentOutcome> {
  const root = path.resolve(cwd, dir);
  const name = safeFileName(a.filename, a.mimeType);
  const bytes = a.content.length;
  // Removed in every case: after link() it is a second name for the saved file, after rename() it is gone.
  let tmp: string | undefined;
  try {
    await fs.mkdir(root, { recursive: true }).catch((e: unknown) => {
      // The directory itself is an existing file.
      throw errnoOf(e) === 'EEXIST' ? Object.assign(new Error(`${root} is not a directory`), { code: 'ENOTDIR' }) : e;
    });
    tmp = path.join(root, `.duty-desk-${crypto.randomBytes(6).toString('hex')}.part`);
    const fh = await fs.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(a.content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const final = await claimName(root, name, tmp);
    return { saved: true, path: final, shown: shownPath(final, cwd), bytes };
  } catch (e) {
    return { saved: false, name, dir: shownPath(root, cwd), error: reasonOf(e), bytes };
  } finally {
    if (tmp) await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
