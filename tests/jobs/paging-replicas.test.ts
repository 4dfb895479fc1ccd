// Three real server processes on one PostgreSQL database share the paging work: 500 pages of
// three steps, over every channel (Slack DM, Teams chat, SMS, email), and every intended
// notification reaches its loopback fake exactly once.
import type { Core } from '../../src/core';
import { startBotConnectorFake, type BotConnectorFake, type ConnectorCall } from '../helpers/bot-connector-fake';
import { as, coreOn, msg } from '../helpers/core';
import { freshPostgres, pgAdminUrl, type TestDb } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { startSmsFake, type SmsFake, type SmsRecord } from '../helpers/sms-fake';
import { startSmtpFake, type SmtpFake, type SmtpMessage } from '../helpers/smtp-fake';
import { messageActivity, post } from '../bot/teams/activities';
import { killAll, pageNumberIn, ranBy, recordSlack, startServerChild, waitFor, type ServerChild, type SlackDm, type SlackRecorder } from './paging-rig';

const PAGES = 500;
/** Pages raised at once from the test process. */
const BATCH = 50;
const BEN_AAD = '00000000-0000-0000-0000-0000000000be';
const BEN_CHAT = 'a:ben-1to1';
const BEN_PHONE = '+442079460001';
const CYD_EMAIL = 'cyd@example.org';
const SLACK_USER = { ana: 'UANA', cyd: 'UCYD' } as const;

type Channel = 'slack' | 'teams' | 'sms' | 'email';
/** Who each step notifies, and how: ana by Slack; ben by Teams and SMS; cyd by Slack and email. */
const PLAN: { member: 'ana' | 'ben' | 'cyd'; step: number; channels: Channel[] }[] = [
  { member: 'ana', step: 0, channels: ['slack'] },
  { member: 'ben', step: 1, channels: ['teams', 'sms'] },
  { member: 'cyd', step: 2, channels: ['slack', 'email'] },
];
const PER_PAGE = PLAN.reduce((n, p) => n + p.channels.length, 0);

/** One page notification as a fake received it. */
interface Arrival {
  page: number;
  member: string;
  channel: Channel;
  at: number;
}

(pgAdminUrl ? describe : describe.skip)('paging on three replicas [postgresql]', () => {
  let db: TestDb;
  let slack: SlackFake;
  let rec: SlackRecorder;
  let connector: BotConnectorFake;
  let sms: SmsFake;
  let smtp: SmtpFake;
  let core: Core;
  const children: ServerChild[] = [];
  let stamper: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    db = await freshPostgres();
    [slack, connector, sms, smtp] = await Promise.all([startSlackFake(), startBotConnectorFake(), startSmsFake(), startSmtpFake()]);
    rec = recordSlack(slack);
  });

  afterAll(async () => {
    clearInterval(stamper);
    await killAll(children);
    await core?.close();
    await Promise.all([slack.close(), connector.close(), sms.close(), smtp.close()]);
    await db.drop();
  });

  /**
   * The page notifications the fakes have received (verification codes and replies left out),
   * read incrementally: poll() is cheap enough to run every few milliseconds. The fakes other than
   * Slack keep no time, so the first poll that sees a message stamps it.
   */
  function collector(): { got: Arrival[]; poll(): Arrival[] } {
    const got: Arrival[] = [];
    const at = { slack: 0, teams: 0, sms: 0, email: 0 };
    const add = (page: number | undefined, member: string, channel: Channel, time: number): void => {
      if (page !== undefined) got.push({ page, member, channel, at: time });
    };
    return {
      got,
      poll() {
        const now = Date.now();
        for (; at.slack < rec.dms.length; at.slack++) {
          const d = rec.dms[at.slack] as SlackDm;
          add(d.page, d.user === SLACK_USER.ana ? 'ana' : d.user === SLACK_USER.cyd ? 'cyd' : d.user, 'slack', d.at);
        }
        for (; at.teams < connector.calls.length; at.teams++) {
          const c = connector.calls[at.teams] as ConnectorCall;
          if (c.body.type === 'message') add(pageNumberIn(JSON.stringify(c.body)), c.conversationId === BEN_CHAT ? 'ben' : String(c.conversationId), 'teams', now);
        }
        for (; at.sms < sms.messages.length; at.sms++) {
          const m = sms.messages[at.sms] as SmsRecord;
          add(pageNumberIn(m.body), m.to === BEN_PHONE ? 'ben' : m.to, 'sms', now);
        }
        for (; at.email < smtp.messages.length; at.email++) {
          const m = smtp.messages[at.email] as SmtpMessage;
          add(pageNumberIn(m.subject), m.to.join(',') === CYD_EMAIL ? 'cyd' : m.to.join(','), 'email', now);
        }
        return got;
      },
    };
  }

  test('500 pages of three steps over Slack, Teams, SMS and email: each notification arrives exactly once', async () => {
    const env = {
      DATABASE_URL: db.url,
      SLACK_BOT_TOKEN: 'xoxb-replicas',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: slack.apiUrl,
      TEAMS_ANONYMOUS: '1',
      SMS_WEBHOOK_URL: sms.url,
      SMS_FROM: '+15550000000',
      SMTP_URL: smtp.url,
    };
    // All three start at once on the empty database: they race to migrate it.
    const started = Date.now();
    children.push(...(await Promise.all(['r1', 'r2', 'r3'].map((name) => startServerChild(name, env, 45_000)))));
    console.log(`three replicas ready in ${Date.now() - started} ms`);

    core = await coreOn(db, { SMS_WEBHOOK_URL: sms.url, SMS_FROM: '+15550000000', SMTP_URL: smtp.url });
    const root = as(core, 'root');
    for (const line of [
      `/duty member add handle=ana name="Ana Ames" slack=T1:${SLACK_USER.ana} roles=officer`,
      `/duty member add handle=ben name="Ben Berg" teams=${BEN_AAD} roles=officer`,
      `/duty member add handle=cyd name="Cyd Cole" slack=T1:${SLACK_USER.cyd} roles=officer`,
      '/page policy new name="Replicas" steps="@ana 1s; @ben 1s; @cyd 1s" repeat=0',
    ]) {
      expect(msg(await root.run(line)).ok).toBe(true);
    }

    // Ben talks to the bot once (through the second replica), which stores his chat's reference.
    const hello = await post(`${(children[1] as ServerChild).url}/api/messages`, messageActivity(connector.url, { aad: BEN_AAD, name: 'Ben Berg' }, 'duty me', { conversationType: 'personal', conversationId: BEN_CHAT }));
    expect(hello.status).toBeLessThan(300);
    await connector.waitFor((c) => c.conversationId === BEN_CHAT, 1, 10_000);
    expect(await core.store.db.conversationRef.count({ where: { platform: 'teams' } })).toBeGreaterThanOrEqual(1);

    // With any contact method set, only those are used: chat goes in explicitly.
    async function verified(handle: string, kind: 'sms' | 'email', address: string): Promise<void> {
      const me = as(core, handle);
      expect(msg(await me.run('/duty contact add chat')).ok).toBe(true);
      expect(msg(await me.run(`/duty contact add ${kind} ${address}`)).ok).toBe(true);
      const member = await core.store.members.byHandle(handle);
      const contact = (await core.store.pages.contacts(member?.id ?? '')).find((c) => c.kind === kind);
      const job = await core.store.db.job.findFirst({ where: { kind: 'contact-code', payload: { contains: contact?.id ?? '-' } } });
      // The code as its owner reads it in the message the job sends.
      const code = /code is (\d{6})/.exec(job?.payload ?? '')?.[1];
      expect(code).toBeDefined();
      expect(msg(await me.run(`/duty contact verify 2 ${code ?? ''}`)).title).toBe('Verified');
    }
    await verified('ben', 'sms', BEN_PHONE);
    await verified('cyd', 'email', CYD_EMAIL);

    const received = collector();
    // Stamps arrivals as they come, also while pages are still being raised.
    stamper = setInterval(() => received.poll(), 10);
    const t0 = Date.now();
    for (let i = 0; i < PAGES; i += BATCH) {
      const replies = await Promise.all(Array.from({ length: Math.min(BATCH, PAGES - i) }, (_, k) => root.run(`/page Replicas Replica load ${i + k + 1}`)));
      for (const r of replies) expect(msg(r).ok).toBe(true);
    }
    console.log(`${PAGES} pages raised in ${Date.now() - t0} ms`);

    const expected = PAGES * PER_PAGE;
    const openJobs = (): Promise<number> => core.store.db.job.count({ where: { idempotencyKey: { startsWith: 'page:' }, status: { in: ['pending', 'running'] } } });
    // Done when every message is in and no page job is left that could send another.
    const got = await waitFor(
      async () => {
        const a = received.poll();
        return a.length >= expected && (await openJobs()) === 0 ? a : undefined;
      },
      45_000,
      `${expected} notifications`,
    )
      .catch(async (err: unknown) => {
        const a = received.poll();
        const byStatus = await core.store.db.pageNotification.groupBy({ by: ['status'], _count: { _all: true } });
        const odd = await core.store.db.pageNotification.findMany({ where: { status: { not: 'sent' } }, take: 5 });
        const warnings = children.flatMap((c) => c.stderr.join('').split('\n').filter((l) => /unknown|lost|stopped|timeout|lease/i.test(l)).slice(0, 5).map((l) => `${c.name}: ${l.slice(0, 400)}`));
        throw new Error(`${String(err)}; received ${a.length}, open jobs ${await openJobs()}, notifications ${JSON.stringify(byStatus)}; not sent: ${JSON.stringify(odd)}; replica warnings: ${warnings.join(' | ')}`);
      })
      .finally(() => clearInterval(stamper));

    // Exactly once per page, member and channel.
    const counts = new Map<string, number>();
    for (const a of got) counts.set(`${a.page}|${a.member}|${a.channel}`, (counts.get(`${a.page}|${a.member}|${a.channel}`) ?? 0) + 1);
    const wrong: string[] = [];
    for (let page = 1; page <= PAGES; page++) {
      for (const p of PLAN) {
        for (const ch of p.channels) {
          const k = `${page}|${p.member}|${ch}`;
          const n = counts.get(k) ?? 0;
          if (n !== 1) wrong.push(`${k}: ${n}`);
          counts.delete(k);
        }
      }
    }
    expect(wrong).toEqual([]);
    // Nothing that was not intended.
    expect([...counts.keys()]).toEqual([]);
    expect(got).toHaveLength(expected);

    const statuses = await core.store.db.pageNotification.groupBy({ by: ['status'], _count: { _all: true } });
    expect(statuses.map((s) => [s.status, s._count._all])).toEqual([['sent', expected]]);
    expect(await core.store.db.pageEvent.count({ where: { type: { in: ['failed', 'unknown', 'unreachable'] } } })).toBe(0);
    // The verification codes went out once each as well.
    expect(sms.messages.filter((m) => m.body.includes('verification code')).map((m) => m.to)).toEqual([BEN_PHONE]);
    expect(smtp.messages.filter((m) => m.subject.includes('verification code')).map((m) => m.to)).toEqual([[CYD_EMAIL]]);

    // The work was shared: each replica ran steps and sends.
    const jobs = await core.store.db.job.findMany({ where: { kind: { in: ['page-step', 'page-send'] } }, select: { kind: true, status: true, lockedBy: true } });
    expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
    const share = children.map((c) => jobs.filter((j) => ranBy(c, j.lockedBy)).length);
    console.log(`jobs run per replica: ${share.join(', ')} (of ${jobs.length})`);
    for (const n of share) expect(n).toBeGreaterThan(0);
    expect(share.reduce((a, b) => a + b, 0)).toBe(jobs.length);

    // Timing: from the first step due to the last notification in, and each one's lateness.
    const pages = await core.store.db.page.findMany({ select: { number: true, triggeredAt: true } });
    const triggered = new Map(pages.map((p) => [p.number, p.triggeredAt.getTime()]));
    const stepOf = new Map<string, number>(PLAN.map((p) => [p.member, p.step]));
    const late = got.map((a) => a.at - ((triggered.get(a.page) ?? NaN) + (stepOf.get(a.member) ?? NaN) * 1000)).sort((a, b) => a - b);
    const firstDue = Math.min(...triggered.values());
    const last = Math.max(...got.map((a) => a.at));
    const pct = (q: number): number => late[Math.min(late.length - 1, Math.floor(q * late.length))] as number;
    console.log(
      `${expected} notifications: first step due → last received ${last - firstDue} ms; lateness after due p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${late[late.length - 1]} ms`,
    );
    // Never before its step was due.
    expect(late[0]).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
