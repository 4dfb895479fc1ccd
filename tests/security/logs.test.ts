// Logs never contain personal data: a whole scenario through the real server (signed Slack
// requests over HTTP, the scheduler delivering to the loopback Slack fake) with every log line
// captured at debug level, then each line searched for each distinctive personal value of the
// citizens (names, passports, phones, emails, dates of birth, summaries, notes, locations, next of
// kin) and of the staff (emails, phones), as typed, normalised, lower- and upper-case. A hit fails
// with the line.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { testConfig } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';

const SECRET = 'logs-test-signing-secret';

/** Every personal value the scenario types, in the forms it may be stored or shown in. */
const PERSONAL = [
  // a person added by hand
  'Zebulon Quixotic', 'Zebulon', 'Quixotic', 'ZQ7788123', '+33 6 12 34 56 78', '+33612345678', '612345678', 'Zebulon.Q@Example.org', '1961-02-03',
  'Hotel Lumiere', 'Quentin Tarrant', 'Tarrant', '+44 20 7946 0555', '+442079460555', 'Broke his leg skiing', 'Clinic Marvelle', 'Fell near the lake',
  // a person imported from CSV
  'Xanthippe Marvolo', 'Xanthippe', 'Marvolo', 'XM5566778', '+44 7946 0001', '+4479460001', 'xanthippe@example.net', '1984-07-08',
  // a case
  'Yolanda Oldcase', 'Yolanda', 'Oldcase', 'YO1122334', '1955-12-24', 'Wilberforce', 'nok.yolanda@example.com', 'Held at the airport with a broken suitcase', 'broken suitcase',
  'Consul visited her in the holding area', 'holding area', 'Released without charge',
  // staff contact details
  'opal.ops.staff@example.gov', '+15550101777', 'pat.pager.staff@example.gov', '+15550102888',
];

function forms(v: string): string[] {
  return [...new Set([v, v.toLowerCase(), v.toUpperCase(), v.replace(/\s+/g, '')])];
}

describe('logs hold no personal data after a full scenario', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(line);
      done();
    },
  });
  const interactions = (): number => lines.filter((l) => l.includes('"msg":"interaction"')).length;

  async function waitFor(ok: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** A slash command as Slack sends it, signed; resolves once the dispatcher has answered it. */
  async function slash(user: string, command: string, text: string): Promise<void> {
    const before = interactions();
    const body = new URLSearchParams({
      token: 'legacy',
      team_id: 'T1',
      team_domain: 'mission',
      channel_id: 'C1',
      channel_name: 'duty',
      user_id: user,
      user_name: user.toLowerCase(),
      command,
      text,
      api_app_id: 'A1',
      is_enterprise_install: 'false',
      response_url: slack.responseUrl(),
      trigger_id: `trigger-${crypto.randomUUID()}`,
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${crypto.createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const r = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': signature },
      body,
    });
    expect(r.status).toBe(200);
    await waitFor(() => interactions() > before, `the answer to ${command} ${text.slice(0, 30)}`);
    await settled();
  }

  /**
   * Until the Web API calls made for the answers have ended (their start and end are logged at
   * debug): a call still running at close would be retried by the Slack client for minutes.
   */
  async function settled(): Promise<void> {
    const count = (m: RegExp): number => lines.filter((l) => m.test(l)).length;
    for (let quiet = 0; quiet < 3; ) {
      const starts = count(/"msg":"apiCall\('[^']+'\) start"/);
      await new Promise((r) => setTimeout(r, 20));
      quiet = starts === count(/"msg":"apiCall\('[^']+'\) end"/) && starts === count(/"msg":"apiCall\('[^']+'\) start"/) ? quiet + 1 : 0;
    }
  }

  /** Until no job is due or running: deliveries, the import, the board, the SITREP sends. */
  async function drain(): Promise<void> {
    const db = server.core.store.db;
    await waitFor(async () => (await db.job.count({ where: { OR: [{ status: 'running' }, { status: 'pending', dueAt: { lte: new Date() } }] } })) === 0, 'the jobs to finish');
    await settled();
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    const config = testConfig({
      DATABASE_URL: `file:${path.join(dir, 'logs.db')}`,
      PORT: '0',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      BOOTSTRAP_ADMINS: 'slack:T1:U1',
      MISSION_TIMEZONE: 'Europe/Paris',
      LOG_LEVEL: 'debug',
    });
    server = await startServer(config, { logger: createLogger('debug', sink), scheduler: { pollMs: 20 } });
  });

  afterAll(async () => {
    await server?.close();
    await slack?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('register, open a crisis, add and import people, a case, a page, a SITREP, exports, retention: no log line names anyone', async () => {
    await slash('U1', '/duty', 'member add handle=ops name="Opal Ops" slack=U2 roles=admin,crisis,officer,leader email=opal.ops.staff@example.gov phone="+1 555 0101 777"');
    await slash('U1', '/duty', 'member add handle=pat name="Pat Pager" slack=U3 roles=officer email=pat.pager.staff@example.gov phone="+1 555 0102 888"');
    await slash('U2', '/crisis', 'open name="Quake Zone" code=QZ-EQ region="Quake valley" channel=slack:C77 leadership=slack:C78');
    await slash('U2', '/person', 'add crisis=QZ-EQ name="Zebulon Quixotic" dob=1961-02-03 passport=ZQ7788123 phone="+33 6 12 34 56 78" email=Zebulon.Q@Example.org location="Hotel Lumiere" nok_name="Quentin Tarrant" nok_phone="+44 20 7946 0555" description="Broke his leg skiing" needs=medical');
    await slash('U2', '/crisis', 'import QZ-EQ data="Full name,Passport number,Phone,Email,Date of birth\nXanthippe Marvolo,XM5566778,+44 7946 0001,xanthippe@example.net,1984-07-08\nZebulon Quixotic,ZQ7788123,+33 6 12 34 56 78,,1961-02-03"');
    await drain();
    const zeb = await server.core.store.db.person.findFirstOrThrow({ where: { crisis: { code: 'QZ-EQ' } }, orderBy: { number: 'asc' } });
    await slash('U2', '/person', 'find quixotic zebulon');
    await slash('U2', '/person', 'find ZQ7788123');
    await slash('U2', '/person', 'find xanthippe@example.net');
    await slash('U2', '/person', `status ${zeb.number} injured "Fell near the lake" location="Clinic Marvelle"`);
    await slash('U2', '/person', `contact ${zeb.number} reached`);
    await slash('U2', '/person', `show ${zeb.number}`);
    await slash('U2', '/crisis', 'duplicates QZ-EQ');
    await slash('U2', '/crisis', 'board QZ-EQ');
    await slash('U2', '/case', 'new category=detention priority=p1 name="Yolanda Oldcase" reporter=police summary="Held at the airport with a broken suitcase" passport=YO1122334 dob=1955-12-24 nok_name="Wilberforce Oldcase" nok_email=nok.yolanda@example.com city=Lyon crisis=QZ-EQ');
    const ref = (await server.core.store.db.case.findFirstOrThrow()).ref;
    await slash('U2', '/case', `note ${ref} "Consul visited her in the holding area"`);
    await slash('U2', '/case', `show ${ref}`);
    await slash('U2', '/page', '@pat "Call the consul about the airport case" severity=high');
    await slash('U2', '/sitrep', 'QZ-EQ');
    await slash('U2', '/sitrep', `edit QZ-EQ incidents="Yolanda Oldcase detained" named=${ref}`);
    await slash('U2', '/sitrep', 'publish QZ-EQ');
    await slash('U2', '/crisis', 'export QZ-EQ csv');
    await slash('U2', '/duty', `export-person ${zeb.number}`);
    await slash('U2', '/duty', `export-person ${ref}`);
    await slash('U2', '/case', `close ${ref} outcome="Released without charge"`);
    await slash('U2', '/duty', 'retention');
    await slash('U2', '/duty', 'audit');
    // A mistyped command with personal data in it, and one that fails validation.
    await slash('U2', '/person', 'fnd Zebulon Quixotic');
    await slash('U2', '/person', 'add crisis=QZ-EQ name="Zebulon Quixotic" dob=1961-99-99 email=Zebulon.Q@Example');
    await drain();

    // The scenario ran: commands answered, messages and files reached the Slack fake, the page was sent.
    expect(interactions()).toBe(28);
    expect(slack.callsTo('chat.postMessage').length).toBeGreaterThan(5);
    expect(slack.uploads.length).toBeGreaterThanOrEqual(2);
    expect(await server.core.store.db.person.count()).toBe(3);
    expect(await server.core.store.db.page.count()).toBe(1);
    expect(lines.some((l) => l.includes('"level":20'))).toBe(true);

    const hits: string[] = [];
    for (const line of lines) {
      for (const v of PERSONAL) {
        for (const f of forms(v)) {
          if (line.includes(f)) hits.push(`${JSON.stringify(f)} in: ${line.slice(0, 600)}`);
        }
      }
    }
    expect(hits).toEqual([]);
  });

  test('what the logger removes: library payloads in messages, PostgreSQL details of errors', () => {
    const out: string[] = [];
    const log = createLogger('debug', new Writable({ write: (c: Buffer, _e, done) => (out.push(c.toString('utf8')), done()) }));
    log.debug('http request body: {"channel":"D1","text":"Zebulon Quixotic"}');
    log.debug('ack() call begins (body: Zebulon Quixotic)');
    log.debug('Received a message on the WebSocket: [{"payload":{"text":"Zebulon"}}]');
    log.info({ people: 2 }, 'personal data erased under the retention period');
    const err = Object.assign(new Error('duplicate key value violates unique constraint "Person_email_key"'), { code: '23505', detail: 'Key (email)=(zebulon.q@example.org) already exists.' });
    log.error({ err }, 'unexpected error while handling an interaction');
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; err?: { detail?: string; code?: string } });
    expect(lines.map((l) => l.msg)).toEqual([
      'http request body: [payload not logged]',
      'ack() call begins [payload not logged]',
      'Received a message on the WebSocket: [payload not logged]',
      'personal data erased under the retention period',
      'unexpected error while handling an interaction',
    ]);
    expect(lines[4]?.err).toMatchObject({ code: '23505', detail: '[redacted]' });
    expect(out.join('')).not.toMatch(/zebulon/i);
  });
});
