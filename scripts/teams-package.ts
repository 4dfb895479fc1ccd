// Builds the Microsoft Teams app package (appPackage/build/duty-desk-teams.zip): manifest.json
// and the two icons, drawn here so that no binary needs to be kept in the repository.
// Usage: TEAMS_APP_ID=<bot app id> [PUBLIC_BASE_URL=https://…] npm run teams:package
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import JSZip from 'jszip';
import { PNG } from 'pngjs';

export const MANIFEST_SCHEMA = 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json';
export const MANIFEST_VERSION = '1.17';
export const PACKAGE_FILE = 'duty-desk-teams.zip';
export const ACCENT = '#1F4E79';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export interface ManifestCommand {
  title: string;
  description: string;
}

/** What Teams suggests when people type in the compose box; the text sent is the title. */
export const PERSONAL_COMMANDS: ManifestCommand[] = [
  { title: 'duty help', description: 'List the commands you may run' },
  { title: 'duty me', description: 'Your profile and roles' },
  { title: 'duty member list', description: 'Who is registered, by role' },
  { title: 'duty member add', description: 'Register a member (opens a form)' },
  { title: 'duty role list', description: 'Who holds which role' },
  { title: 'duty now', description: 'Who is on duty now' },
  { title: 'duty schedule', description: 'The coming shifts' },
  { title: 'case new', description: 'Log an urgent consular case (form)' },
  { title: 'case list', description: 'Open cases, most urgent first' },
  { title: 'page list', description: 'Open pages' },
];

export const TEAM_COMMANDS: ManifestCommand[] = [
  { title: 'duty help', description: 'List the commands you may run' },
  { title: 'duty member list', description: 'Who is registered, by role' },
  { title: 'duty now', description: 'Who is on duty now' },
  { title: 'case new', description: 'Log an urgent consular case (form)' },
];

/** A message extension command. Only action commands on a message, with a dialog fetched from the bot. */
export interface ComposeExtensionCommand {
  id: string;
  type: 'action';
  title: string;
  description: string;
  context: Array<'message' | 'compose' | 'commandBox'>;
  fetchTask: boolean;
}

/**
 * "Log as case" in a message's "…" menu (More actions): the bot answers composeExtension/fetchTask
 * with the /case new form and composeExtension/submitAction with the result (src/bot/teams/index.ts).
 */
export const COMPOSE_EXTENSION_COMMANDS: ComposeExtensionCommand[] = [
  { id: 'logAsCase', type: 'action', title: 'Log as case', description: 'Log this message as a consular case', context: ['message'], fetchTask: true },
];

export interface ManifestOptions {
  /** The Azure Bot's Microsoft App ID (a GUID). */
  botId: string;
  /** The Teams app id; defaults to the bot id so that it stays stable between builds. */
  appId?: string;
  /** Semantic version of the app package, e.g. "0.1.0". */
  version: string;
  /** Public HTTPS address of the server, for validDomains and the developer links. */
  publicBaseUrl?: string;
}

// The manifest is JSON; its shape is Microsoft's schema.
export type Manifest = Record<string, unknown>;

function httpsBase(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  return u.protocol === 'https:' ? u.origin : undefined;
}

/** The manifest for the given bot: pure, so it can be tested without files. */
export function buildManifest(opts: ManifestOptions): Manifest {
  if (!GUID.test(opts.botId)) throw new Error(`TEAMS_APP_ID: expected a GUID (the Azure Bot's Microsoft App ID), got "${opts.botId}"`);
  const appId = opts.appId ?? opts.botId;
  if (!GUID.test(appId)) throw new Error(`app id: expected a GUID, got "${appId}"`);
  if (!SEMVER.test(opts.version)) throw new Error(`version: expected MAJOR.MINOR.PATCH, got "${opts.version}"`);
  const base = httpsBase(opts.publicBaseUrl);
  // Teams requires HTTPS developer links; without a public address they point at a placeholder.
  const site = base ?? 'https://www.example.com';
  const domains = opts.publicBaseUrl && URL.canParse(opts.publicBaseUrl) ? [new URL(opts.publicBaseUrl).host] : [];
  return {
    $schema: MANIFEST_SCHEMA,
    manifestVersion: MANIFEST_VERSION,
    version: opts.version,
    id: appId.toLowerCase(),
    developer: {
      name: 'Duty Desk',
      websiteUrl: site,
      privacyUrl: `${site}/privacy`,
      termsOfUseUrl: `${site}/terms`,
    },
    name: { short: 'Duty Desk', full: 'Duty Desk: consular duty and crisis desk' },
    description: {
      short: 'On-call duty, paging and consular cases for embassy duty officers.',
      full:
        'Duty Desk helps consular duty officers and crisis cells: who is on duty, paging with acknowledgement, ' +
        'consular cases and crisis registrations, from chat. Type "duty help" to see the commands you may run.',
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: ACCENT,
    bots: [
      {
        botId: opts.botId.toLowerCase(),
        scopes: ['personal', 'team', 'groupChat'],
        // Files uploaded in the 1:1 chat (e.g. "crisis import CODE" with a CSV) arrive as download links.
        supportsFiles: true,
        isNotificationOnly: false,
        commandLists: [
          { scopes: ['personal'], commands: PERSONAL_COMMANDS },
          { scopes: ['team', 'groupChat'], commands: TEAM_COMMANDS },
        ],
      },
    ],
    // The same bot: a message extension is powered by a bot's messaging endpoint.
    composeExtensions: [{ botId: opts.botId.toLowerCase(), commands: COMPOSE_EXTENSION_COMMANDS }],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains: domains,
  };
}

/** Checks the limits Teams enforces on upload, so a bad package fails here rather than in the admin centre. */
export function manifestProblems(m: Manifest): string[] {
  const problems: string[] = [];
  const bots = m.bots as Array<{ commandLists: Array<{ commands: ManifestCommand[] }> }>;
  for (const list of bots[0]?.commandLists ?? []) {
    if (list.commands.length > 10) problems.push('a command list has more than 10 commands');
    for (const c of list.commands) {
      if (c.title.length > 32) problems.push(`command title over 32 characters: ${c.title}`);
      if (c.description.length > 128) problems.push(`command description over 128 characters: ${c.title}`);
    }
  }
  const extensions = (m.composeExtensions ?? []) as Array<{ botId: string; commands: ComposeExtensionCommand[] }>;
  if (extensions.length > 1) problems.push('more than one compose extension');
  const botIds = new Set((m.bots as Array<{ botId: string }>).map((b) => b.botId));
  for (const ext of extensions) {
    if (!botIds.has(ext.botId)) problems.push(`compose extension bot ${ext.botId} is not the app's bot`);
    if (ext.commands.length === 0) problems.push('a compose extension has no commands');
    if (ext.commands.length > 10) problems.push('a compose extension has more than 10 commands');
    const ids = new Set<string>();
    for (const c of ext.commands) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.id)) problems.push(`compose extension command id must be 1-64 letters, digits, _ or -: ${c.id}`);
      if (ids.has(c.id)) problems.push(`compose extension command id used twice: ${c.id}`);
      ids.add(c.id);
      if (c.title.length > 32) problems.push(`compose extension command title over 32 characters: ${c.title}`);
      if (c.description.length > 128) problems.push(`compose extension command description over 128 characters: ${c.title}`);
      if (c.context.length === 0 || c.context.length > 3 || c.context.some((x) => !['message', 'compose', 'commandBox'].includes(x))) {
        problems.push(`compose extension command context must be message, compose or commandBox: ${c.title}`);
      }
      // Without fetchTask an action command needs static parameters, which these do not have.
      if (c.type === 'action' && !c.fetchTask) problems.push(`action command without fetchTask needs parameters: ${c.title}`);
    }
  }
  const name = m.name as { short: string; full: string };
  const description = m.description as { short: string; full: string };
  if (name.short.length > 30) problems.push('name.short over 30 characters');
  if (name.full.length > 100) problems.push('name.full over 100 characters');
  if (description.short.length > 80) problems.push('description.short over 80 characters');
  if (description.full.length > 4000) problems.push('description.full over 4000 characters');
  return problems;
}

// ---- icons

/** The mark: a bold "D" in the unit square (x, y in 0..1). */
function inMark(x: number, y: number): boolean {
  const stem = x >= 0.28 && x <= 0.41 && y >= 0.22 && y <= 0.78;
  const d = Math.hypot(x - 0.41, y - 0.5);
  const bowl = x >= 0.41 && d >= 0.15 && d <= 0.28;
  return stem || bowl;
}

function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** 192×192, opaque: the white mark on the accent colour, smoothed by 4×4 supersampling. */
export function colorIcon(): Buffer {
  const size = 192;
  const png = new PNG({ width: size, height: size });
  const [r, g, b] = hexRgb(ACCENT);
  const ss = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) if (inMark((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size)) hits++;
      const a = hits / (ss * ss);
      const i = (y * size + x) * 4;
      png.data[i] = Math.round(r + (255 - r) * a);
      png.data[i + 1] = Math.round(g + (255 - g) * a);
      png.data[i + 2] = Math.round(b + (255 - b) * a);
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** 32×32: Teams wants pure white on full transparency, so no smoothing. */
export function outlineIcon(): Buffer {
  const size = 32;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = inMark((x + 0.5) / size, (y + 0.5) / size);
      const i = (y * size + x) * 4;
      png.data[i] = 255;
      png.data[i + 1] = 255;
      png.data[i + 2] = 255;
      png.data[i + 3] = on ? 255 : 0;
    }
  }
  return PNG.sync.write(png);
}

export async function buildPackage(opts: ManifestOptions): Promise<Buffer> {
  const manifest = buildManifest(opts);
  const problems = manifestProblems(manifest);
  if (problems.length) throw new Error(`manifest: ${problems.join('; ')}`);
  const zip = new JSZip();
  // A fixed date keeps the archive identical from one build to the next.
  const date = new Date('2026-01-01T00:00:00Z');
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date });
  zip.file('color.png', colorIcon(), { date });
  zip.file('outline.png', outlineIcon(), { date });
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** The project root: the nearest directory above `from` with our package.json. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'duty-desk') return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export type RunResult = { ok: true; file: string } | { ok: false; error: string };

/** Reads the environment and writes the package; errors are one line. */
export async function run(env: Record<string, string | undefined>, root: string = projectRoot()): Promise<RunResult> {
  const botId = env.TEAMS_APP_ID?.trim();
  if (!botId) return { ok: false, error: "TEAMS_APP_ID: required (the Azure Bot's Microsoft App ID); set it in the environment or .env" };
  const publicBaseUrl = env.PUBLIC_BASE_URL?.trim() || undefined;
  if (publicBaseUrl && !URL.canParse(publicBaseUrl)) return { ok: false, error: `PUBLIC_BASE_URL: expected a URL, got "${publicBaseUrl}"` };
  const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  try {
    const zip = await buildPackage({ botId, version, ...(publicBaseUrl ? { publicBaseUrl } : {}) });
    const dir = path.join(root, 'appPackage', 'build');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, PACKAGE_FILE);
    fs.writeFileSync(file, zip);
    return { ok: true, file };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

if (require.main === module) {
  const root = projectRoot();
  dotenv.config({ path: path.join(root, '.env'), quiet: true });
  void run(process.env, root).then((r) => {
    if (r.ok) {
      console.log(`Teams app package written to ${path.relative(process.cwd(), r.file) || r.file}`);
    } else {
      console.error(r.error);
      process.exitCode = 1;
    }
  });
}
