import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { buildManifest, buildPackage, manifestProblems, run, MANIFEST_SCHEMA, PACKAGE_FILE } from '../../scripts/teams-package';

const BOT = '3f2a7c1e-9b4d-4e8a-a1b2-c3d4e5f60718';

function png(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

describe('Teams app manifest', () => {
  test('v1.17, with the bot in personal, team and group chat scopes', () => {
    const m = buildManifest({ botId: BOT, version: '0.1.0', publicBaseUrl: 'https://duty.example.org/base' });
    expect(m).toMatchObject({
      $schema: MANIFEST_SCHEMA,
      manifestVersion: '1.17',
      version: '0.1.0',
      id: BOT,
      icons: { color: 'color.png', outline: 'outline.png' },
      validDomains: ['duty.example.org'],
      developer: { websiteUrl: 'https://duty.example.org', privacyUrl: 'https://duty.example.org/privacy' },
    });
    const bot = (m.bots as Array<Record<string, unknown>>)[0];
    expect(bot).toMatchObject({ botId: BOT, scopes: ['personal', 'team', 'groupChat'] });
    const lists = bot?.commandLists as Array<{ scopes: string[]; commands: Array<{ title: string }> }>;
    expect(lists.flatMap((l) => l.scopes).sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(lists[0]?.commands.map((c) => c.title)).toEqual(expect.arrayContaining(['duty help', 'duty me', 'duty member list', 'duty now']));
    expect(manifestProblems(m)).toEqual([]);
    // The "Log as case" message action, served by the same bot.
    expect(m.composeExtensions).toEqual([
      expect.objectContaining({ botId: BOT, commands: [expect.objectContaining({ id: 'logAsCase', type: 'action', context: ['message'], fetchTask: true })] }),
    ]);
  });

  test('without a public address: no valid domains, placeholder HTTPS developer links', () => {
    const m = buildManifest({ botId: BOT.toUpperCase(), version: '1.2.3' });
    expect(m.id).toBe(BOT);
    expect(m.validDomains).toEqual([]);
    expect((m.developer as { websiteUrl: string }).websiteUrl).toMatch(/^https:\/\//);
  });

  test('the bot id must be a GUID and the version semantic', () => {
    expect(() => buildManifest({ botId: 'not-a-guid', version: '0.1.0' })).toThrow(/^TEAMS_APP_ID: expected a GUID/);
    expect(() => buildManifest({ botId: BOT, version: '0.1' })).toThrow(/version/);
  });
});

describe('Teams app package', () => {
  test('a zip with the manifest and two PNG icons of the right sizes', async () => {
    const zip = await JSZip.loadAsync(await buildPackage({ botId: BOT, version: '0.1.0' }));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as Record<string, unknown>;
    expect(manifest.manifestVersion).toBe('1.17');

    const color = png(await zip.file('color.png')!.async('nodebuffer'));
    expect([color.width, color.height]).toEqual([192, 192]);
    // Opaque, and the mark is there (some white, some accent).
    const alphas = new Set<number>();
    let white = 0;
    for (let i = 0; i < color.data.length; i += 4) {
      alphas.add(color.data[i + 3] as number);
      if (color.data[i] === 255 && color.data[i + 1] === 255 && color.data[i + 2] === 255) white++;
    }
    expect([...alphas]).toEqual([255]);
    expect(white).toBeGreaterThan(192 * 192 * 0.05);
    expect(white).toBeLessThan(192 * 192 * 0.5);

    const outline = png(await zip.file('outline.png')!.async('nodebuffer'));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    // White on transparent only.
    let on = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      expect(a === 0 || (a === 255 && r === 255 && g === 255 && b === 255)).toBe(true);
      if (a === 255) on++;
    }
    expect(on).toBeGreaterThan(32 * 32 * 0.05);
    expect(on).toBeLessThan(32 * 32 * 0.6);
  });

  test('the same input gives the same archive', async () => {
    const a = await buildPackage({ botId: BOT, version: '0.1.0' });
    const b = await buildPackage({ botId: BOT, version: '0.1.0' });
    expect(a.equals(b)).toBe(true);
  });

  test('run() writes appPackage/build/duty-desk-teams.zip, and names TEAMS_APP_ID when it is missing', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-pkg-'));
    try {
      fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'duty-desk', version: '0.3.1' }));
      const missing = await run({}, root);
      expect(missing).toEqual({ ok: false, error: expect.stringMatching(/^TEAMS_APP_ID: required/) });
      if (!missing.ok) expect(missing.error).not.toContain('\n');

      const r = await run({ TEAMS_APP_ID: BOT, PUBLIC_BASE_URL: 'https://duty.example.org' }, root);
      expect(r).toEqual({ ok: true, file: path.join(root, 'appPackage', 'build', PACKAGE_FILE) });
      const zip = await JSZip.loadAsync(fs.readFileSync(path.join(root, 'appPackage', 'build', PACKAGE_FILE)));
      const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as Record<string, unknown>;
      expect(manifest).toMatchObject({ version: '0.3.1', validDomains: ['duty.example.org'] });

      expect(await run({ TEAMS_APP_ID: 'abc' }, root)).toEqual({ ok: false, error: expect.stringMatching(/^TEAMS_APP_ID: expected a GUID/) });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
