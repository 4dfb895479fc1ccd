// Reply attachments on the console become files: safe names, no overwriting, failures reported.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runConsole } from '../../../src/bot/console';
import { safeFileName, saveAttachment, splitExtension } from '../../../src/bot/console/files';
import { parseConsoleFlags } from '../../../src/console';
import type { Core } from '../../../src/core';
import { message, type Reply, type ReplyAttachment } from '../../../src/domain/reply';
import type { Dispatcher } from '../../../src/handlers/ports';
import { projectRoot } from '../../../src/store/paths';
import { as, coreOn, manualClock, msg, TEST_DATA_KEY } from '../../helpers/core';
import { freshSqlite, type TestDb } from '../../helpers/db';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-console-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Every byte value, so a text-mode or encoding mistake shows. */
const BINARY = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

function attachment(filename: string, content: Buffer = BINARY, extra: Partial<ReplyAttachment> = {}): ReplyAttachment {
  return { filename, mimeType: 'image/png', content, ...extra };
}

/** The adapter is the unit here: a dispatcher that answers every command with the same reply. */
function fixed(reply: Reply): Dispatcher {
  return { dispatch: () => Promise.resolve(reply) } as unknown as Dispatcher;
}

async function run(dispatcher: Dispatcher, lines: string[], opts: { outDir?: string; json?: boolean } = {}): Promise<{ status: number; out: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d: Buffer) => (out += d.toString()));
  const done = runConsole({ dispatcher, input, output, interactive: false, json: opts.json ?? false, as: 'root', ...(opts.outDir !== undefined ? { outDir: opts.outDir } : {}) });
  input.end(lines.map((l) => `${l}\n`).join(''));
  const status = await done;
  return { status, out };
}

/** Files in a directory, without the hidden temporary ones (which must not be left behind either). */
function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

describe('safe file names', () => {
  test.each([
    ['../../etc/passwd', 'passwd'],
    ['/abs/x.csv', 'x.csv'],
    ['C:\\Users\\x\\report.pdf', 'report.pdf'],
    ['evil\nname\r.csv', 'evilname.csv'],
    ['a\u202egnp.exe', 'agnp.exe'],
    ['..', 'attachment.png'],
    ['../', 'attachment.png'],
    ['.hidden', 'hidden'],
    ['-rf.csv', '_rf.csv'],
    ['what?<>.csv', 'what___.csv'],
    ['CON.csv', '_CON.csv'],
    ['', 'attachment.png'],
    ['sitrep-npl-eq-4.pdf', 'sitrep-npl-eq-4.pdf'],
  ])('%j → %j', (raw, safe) => {
    expect(safeFileName(raw, 'image/png')).toBe(safe);
  });

  test('long names are cut, keeping the extension', () => {
    const name = safeFileName(`${'é'.repeat(300)}.csv`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.csv')).toBe(true);
  });

  test('the number goes before the extension, compound ones included', () => {
    expect(splitExtension('hty-people-2025-03-01.pfif.xml')).toEqual(['hty-people-2025-03-01', '.pfif.xml']);
    expect(splitExtension('report v1.2.pdf')).toEqual(['report v1.2', '.pdf']);
    expect(splitExtension('README')).toEqual(['README', '']);
  });
});

describe('console attachments as files', () => {
  test('written with their exact bytes; a second run does not overwrite but adds -2', async () => {
    const dir = tmpDir();
    const reply = message({ title: 'Chart', attachments: [attachment('chart.png', BINARY, { altText: 'Cases per day' })] });
    const first = await run(fixed(reply), ['/case report'], { outDir: dir });
    const second = await run(fixed(reply), ['/case report'], { outDir: dir });
    expect(first.status).toBe(0);
    expect(second.status).toBe(0);
    expect(listing(dir)).toEqual(['chart-2.png', 'chart.png']);
    expect(fs.readFileSync(path.join(dir, 'chart.png')).equals(BINARY)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'chart-2.png')).equals(BINARY)).toBe(true);
    expect(first.out).toContain(`Saved ${path.join(dir, 'chart.png')} (512 B): Cases per day`);
    expect(second.out).toContain(`Saved ${path.join(dir, 'chart-2.png')} (512 B): Cases per day`);
  });

  test('two attachments of one reply with the same name both survive; the directory is created', async () => {
    const dir = path.join(tmpDir(), 'new', 'nested');
    const a = Buffer.from('first\n');
    const b = Buffer.from('second\n');
    const { status } = await run(fixed(message({ attachments: [attachment('x.pfif.xml', a), attachment('x.pfif.xml', b)] })), ['/x'], { outDir: dir });
    expect(status).toBe(0);
    expect(listing(dir)).toEqual(['x-2.pfif.xml', 'x.pfif.xml']);
    expect(fs.readFileSync(path.join(dir, 'x.pfif.xml'), 'utf8')).toBe('first\n');
    expect(fs.readFileSync(path.join(dir, 'x-2.pfif.xml'), 'utf8')).toBe('second\n');
  });

  test('hostile file names stay inside the directory', async () => {
    const parent = tmpDir();
    const dir = path.join(parent, 'out');
    const names = ['../../etc/passwd', '../escape.csv', '/abs/x.csv', 'new\nline.csv', '..', '.'];
    const { status, out } = await run(fixed(message({ attachments: names.map((n) => attachment(n)) })), ['/x'], { outDir: dir });
    expect(status).toBe(0);
    expect(listing(parent)).toEqual(['out']);
    expect(listing(dir)).toEqual(['attachment-2.png', 'attachment.png', 'escape.csv', 'newline.csv', 'passwd', 'x.csv']);
    for (const f of listing(dir)) expect(fs.readFileSync(path.join(dir, f)).equals(BINARY)).toBe(true);
    expect(out).not.toContain('new\nline');
  });

  test('an existing symbolic link is never written through', async () => {
    const dir = tmpDir();
    const target = path.join(tmpDir(), 'target.csv');
    fs.writeFileSync(target, 'keep me');
    fs.symlinkSync(target, path.join(dir, 'data.csv'));
    expect((await run(fixed(message({ attachments: [attachment('data.csv')] })), ['/x'], { outDir: dir })).status).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
    expect(fs.readFileSync(path.join(dir, 'data-2.csv')).equals(BINARY)).toBe(true);
  });

  test('a directory that cannot be written: a clear line, exit status 1, and the next command still runs', async () => {
    const parent = tmpDir();
    fs.writeFileSync(path.join(parent, 'a-file'), '');
    const dir = path.join(parent, 'a-file', 'out');
    let n = 0;
    const dispatcher = {
      dispatch: () => Promise.resolve(++n === 1 ? message({ attachments: [attachment('../report.csv')] }) : message({ text: 'Next command ran' })),
    } as unknown as Dispatcher;
    const { status, out } = await run(dispatcher, ['/export', '/duty help'], { outDir: dir });
    expect(status).toBe(1);
    expect(out).toContain(`✗ Could not save report.csv in ${dir}: not a directory (ENOTDIR)`);
    expect(out).toContain('Next command ran');
  });

  // Root writes anywhere: permissions can only be tested as an ordinary user.
  (process.getuid?.() === 0 ? test.skip : test)('a read-only directory: permission denied, nothing left behind', async () => {
    const dir = tmpDir();
    fs.chmodSync(dir, 0o500);
    try {
      const { status, out } = await run(fixed(message({ attachments: [attachment('r.csv')] })), ['/x'], { outDir: dir });
      expect(status).toBe(1);
      expect(out).toContain('permission denied (EACCES)');
      expect(listing(dir)).toEqual([]);
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });

  test('saved files are readable by their owner only, and no temporary file is left', async () => {
    const dir = tmpDir();
    const r = await saveAttachment(dir, attachment('p.csv'));
    expect(r).toMatchObject({ saved: true, path: path.join(dir, 'p.csv'), bytes: 512 });
    expect(fs.statSync(path.join(dir, 'p.csv')).mode & 0o777).toBe(0o600);
    expect(listing(dir)).toEqual(['p.csv']);
  });

  test('on a file system without hard links: check then rename, still no overwrite', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fat.csv'), 'older');
    const link = jest.spyOn(fsp, 'link').mockRejectedValue(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }));
    try {
      const r = await saveAttachment(dir, attachment('fat.csv'));
      expect(r).toMatchObject({ saved: true, path: path.join(dir, 'fat-2.csv') });
      expect(link).toHaveBeenCalled();
    } finally {
      link.mockRestore();
    }
    expect(fs.readFileSync(path.join(dir, 'fat.csv'), 'utf8')).toBe('older');
    expect(fs.readFileSync(path.join(dir, 'fat-2.csv')).equals(BINARY)).toBe(true);
    expect(listing(dir)).toEqual(['fat-2.csv', 'fat.csv']);
  });

  test('disk full while finishing: reported, the temporary file removed, nothing under the final name', async () => {
    const dir = tmpDir();
    const link = jest.spyOn(fsp, 'link').mockRejectedValue(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    try {
      const { status, out } = await run(fixed(message({ attachments: [attachment('full.csv')] })), ['/x'], { outDir: dir });
      expect(status).toBe(1);
      expect(out).toContain(`✗ Could not save full.csv in ${dir}: no space left on the disk (ENOSPC)`);
    } finally {
      link.mockRestore();
    }
    expect(listing(dir)).toEqual([]);
  });

  test('--json lists name, type, size and path, not the content', async () => {
    const dir = tmpDir();
    const big = Buffer.alloc(300_000, 7);
    const reply = message({ title: 'Export', attachments: [attachment('big.csv', big, { mimeType: 'text/csv', title: 'Big (CSV)', altText: 'rows' })] });
    const { status, out } = await run(fixed(reply), ['/x'], { outDir: dir, json: true });
    expect(status).toBe(0);
    expect(out.length).toBeLessThan(1000);
    const line = JSON.parse(out) as { ok: boolean; attachments: unknown[] };
    expect(line.ok).toBe(true);
    expect(line.attachments).toEqual([{ filename: 'big.csv', mimeType: 'text/csv', bytes: 300_000, title: 'Big (CSV)', altText: 'rows', path: path.join(dir, 'big.csv') }]);
    expect(fs.readFileSync(path.join(dir, 'big.csv')).equals(big)).toBe(true);
  });

  test('--json with a failed save gives the reason instead of a path', async () => {
    const parent = tmpDir();
    fs.writeFileSync(path.join(parent, 'f'), '');
    const { status, out } = await run(fixed(message({ attachments: [attachment('a.png')] })), ['/x'], { outDir: path.join(parent, 'f'), json: true });
    expect(status).toBe(1);
    expect((JSON.parse(out) as { attachments: unknown[] }).attachments).toEqual([
      { filename: 'a.png', mimeType: 'image/png', bytes: 512, error: 'not a directory (ENOTDIR)' },
    ]);
  });

  test('without --out the files go to the working directory, shown by their relative name', async () => {
    const dir = tmpDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { out } = await run(fixed(message({ attachments: [attachment('sitrep-npl-eq-4.pdf', Buffer.alloc(12_595), { altText: 'SITREP 4' })] })), ['/x']);
      expect(out).toContain('Saved sitrep-npl-eq-4.pdf (12.3 KB): SITREP 4');
    } finally {
      process.chdir(cwd);
    }
    expect(listing(dir)).toEqual(['sitrep-npl-eq-4.pdf']);
  });
});

describe('a real export through the console', () => {
  let db: TestDb;
  let core: Core;
  beforeAll(async () => {
    db = await freshSqlite();
    core = await coreOn(db, {}, manualClock('2025-03-01T10:00:00Z').now);
    expect(msg(await as(core, 'root').run('/crisis open name="Export test" code=EXP region=Nepal')).ok).toBe(true);
  });
  afterAll(async () => {
    await core.close();
    await db.drop();
  });

  test('/crisis export writes the CSV the command produced, twice without overwriting', async () => {
    const dir = tmpDir();
    const { status, out } = await run(core.dispatcher, ['/crisis export EXP csv', '/crisis export EXP csv'], { outDir: dir });
    expect(status).toBe(0);
    expect(out).toContain(`Saved ${path.join(dir, 'exp-people-2025-03-01.csv')}`);
    expect(listing(dir)).toEqual(['exp-people-2025-03-01-2.csv', 'exp-people-2025-03-01.csv']);
    const expected = msg(await as(core, 'root').run('/crisis export EXP csv')).attachments?.[0]?.content;
    expect(expected).toBeDefined();
    expect(fs.readFileSync(path.join(dir, 'exp-people-2025-03-01.csv')).equals(expected as Buffer)).toBe(true);
  });
});

describe('the --out flag', () => {
  test('parsed in both spellings; a missing value is refused', () => {
    expect(parseConsoleFlags(['--out', 'exports'])).toMatchObject({ out: 'exports' });
    expect(parseConsoleFlags(['--out=exports', '--json'])).toMatchObject({ out: 'exports', json: true });
    expect(parseConsoleFlags(['--out'])).toBe('--out needs a directory');
    expect(parseConsoleFlags([])).not.toHaveProperty('out');
  });

  test('the console entry point writes into the --out directory', async () => {
    const db = await freshSqlite();
    try {
      const dir = path.join(tmpDir(), 'exports');
      const root = projectRoot();
      const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['src/console.ts', '--out', dir], {
        cwd: root,
        input: '/crisis open name="Piped" code=PIP region=Nepal\n/crisis export PIP pfif\n',
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: '', BOOTSTRAP_ADMINS: '', DATA_ENCRYPTION_KEY: TEST_DATA_KEY },
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const files = listing(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^pip-people-\d{4}-\d{2}-\d{2}\.pfif\.xml$/);
      expect(r.stdout).toContain(`Saved ${path.join(dir, files[0] as string)}`);
      expect(fs.readFileSync(path.join(dir, files[0] as string), 'utf8')).toContain('<pfif:pfif');
    } finally {
      await db.drop();
    }
  });
});
