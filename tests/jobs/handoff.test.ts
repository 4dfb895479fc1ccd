// Handoffs end to end: the real server and scheduler, a controlled clock, and the Slack and
// Bot Connector fakes receiving the messages over the wire.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server';
import { startBotConnectorFake, type BotConnectorFake } from '../helpers/bot-connector-fake';
import { as, manualClock, msg, testConfig } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';
import { messageActivity, post } from '../bot/teams/activities';

const BOB_AAD = '00000000-0000-0000-0000-0000000000b0';

describe('handoffs', () => {
  let slack: SlackFake;
  let connector: BotConnectorFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-22T16:00:00Z');

  beforeAll(async () => {
    slack = await startSlackFake();
    connector = await startBotConnectorFake();
    dir = tempDir();
    server = await startServer(
      testConfig({
        DATABASE_URL: `file:${path.join(dir, 'h.db')}`,
        PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_API_URL: slack.apiUrl,
        TEAMS_ANONYMOUS: '1',
        BOOTSTRAP_ADMINS: 'console:root',
      }),
      { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now },
    );
    const root = as(server.core, 'root');
    expect(msg(await root.run('/duty member add handle=alee name="Ana Lee" slack=T1:U2 tz=Europe/Paris roles=officer')).ok).toBe(true);
    expect(msg(await root.run(`/duty member add handle=bob name="Bob Ray" teams=${BOB_AAD} roles=officer`)).ok).toBe(true);
    // Bob talks to the bot once in Teams: that stores where to reach him later.
    const hello = await post(`${server.url}/api/messages`, messageActivity(connector.url, { aad: BOB_AAD, name: 'Bob Ray' }, 'duty me', { conversationType: 'personal', conversationId: 'a:bob-1to1' }));
    expect(hello.status).toBeLessThan(300);
    await connector.waitFor((c) => c.conversationId === 'a:bob-1to1');
    connector.reset();
    expect(
      msg(await root.run('/duty roster new name="Night duty" members="@alee @bob" shift=1d handoff=18:00 tz=Europe/Paris start=2026-11-21 channel=slack:C9 backup=none'))
        .ok,
    ).toBe(true);
    // The duty log of Ana's shift goes into Bob's brief.
    expect(msg(await as(server.core, 'alee').run('/duty log Hospital in Nice called about J. Smith')).ok).toBe(true);
  });

  afterAll(async () => {
    await server.close();
    await slack.close();
    await connector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('at the handoff: DMs to both officers on their own platforms, the channel is told, each once', async () => {
    clock.set('2026-11-22T17:00:00Z'); // 18:00 in Paris
    const incoming = await connector.waitFor((c) => c.conversationId === 'a:bob-1to1', 1, 10_000);
    const card = JSON.stringify(incoming[0]?.body);
    expect(card).toContain('You are on duty: Night duty');
    expect(card).toContain('Hospital in Nice called about J. Smith');
    const out = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U2', 10_000);
    expect(JSON.stringify(out.args)).toContain('Off duty: Night duty');
    const channel = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C9', 10_000);
    expect(String(channel.args.text)).toMatch(/duty passes from Ana Lee \(@alee\) to Bob Ray \(@bob\)/);
    // The next handoff is planned; running the scheduler again sends nothing twice.
    await server.core.scheduler.runDue();
    await server.core.scheduler.runDue();
    // (Ana's reminder for tomorrow is due at this same instant: it may already be out too.)
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U2' && String(c.args.text).startsWith('Off duty'))).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C9')).toHaveLength(1);
    expect(connector.messages().filter((c) => c.conversationId === 'a:bob-1to1')).toHaveLength(1);
    const next = await server.core.store.db.job.findMany({ where: { kind: 'roster.handoff', status: 'pending' } });
    expect(next.map((j) => j.dueAt.toISOString())).toEqual(['2026-11-23T17:00:00.000Z']);
  });

  test('a reminder reaches the next officer before their shift', async () => {
    // Ana's next shift starts Monday 18:00 Paris; her reminder is due 24 hours before.
    clock.set('2026-11-22T17:00:30Z');
    await server.core.scheduler.runDue();
    const reminders = await server.core.store.db.job.findMany({ where: { kind: 'roster.reminder' } });
    expect(reminders.map((j) => j.dueAt.toISOString())).toContain('2026-11-22T17:00:00.000Z');
    const reminder = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U2' && JSON.stringify(c.args).includes('Reminder: Night duty'), 10_000);
    expect(JSON.stringify(reminder.args)).toContain('Mon 23 Nov 18:00 CET');
  });

  test('an edit applies from the next handoff: the old job is stale, the new plan hands over at the same moment', async () => {
    // Handoff moves to 19:00 while Bob is on duty (since Sunday 18:00). His shift stays; from
    // Monday 18:00 Ana takes over under the new rule, until Tuesday 19:00.
    const edit = msg(await as(server.core, 'root').run('/duty roster edit "Night duty" handoff=19:00'));
    expect(edit.text).toMatch(/apply from the next handoff, Mon 23 Nov 18:00 CET/);
    const slackBefore = slack.callsTo('chat.postMessage').length;
    clock.set('2026-11-23T17:00:00Z'); // Monday 18:00 Paris
    await server.core.scheduler.runDue();
    await server.core.scheduler.runDue();
    const jobsAtT = await server.core.store.db.job.findMany({ where: { kind: 'roster.handoff', dueAt: new Date('2026-11-23T17:00:00Z') } });
    expect(jobsAtT.map((j) => [j.idempotencyKey.split(':')[2], j.status, j.result]).sort()).toEqual([
      ['v1', 'done', JSON.stringify('stale')],
      ['v2', 'done', expect.stringContaining('incoming')],
    ]);
    const toAna = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U2' && JSON.stringify(c.args).includes('You are on duty: Night duty') && JSON.stringify(c.args).includes('Mon 23 Nov'), 10_000);
    expect(JSON.stringify(toAna.args)).toContain('From Mon 23 Nov 18:00 CET until Tue 24 Nov 19:00 CET');
    // Exactly one "on duty" message for that handoff.
    expect(slack.callsTo('chat.postMessage').slice(slackBefore).filter((c) => c.args.channel === 'U2' && JSON.stringify(c.args).includes('You are on duty'))).toHaveLength(1);
    const next = await server.core.store.db.job.findMany({ where: { kind: 'roster.handoff', status: 'pending' } });
    expect(next.map((j) => j.dueAt.toISOString())).toEqual(['2026-11-24T18:00:00.000Z']);
  });

  test('calendar feeds over HTTP: unknown and revoked addresses are 404, a live one is text/calendar', async () => {
    expect((await fetch(`${server.url}/calendar/nope.ics`)).status).toBe(404);
    expect((await fetch(`${server.url}/calendar/${'a'.repeat(32)}.ics`)).status).toBe(404);
    const r = msg(await as(server.core, 'alee').run('/duty calendar me'));
    const token = /\/calendar\/([A-Za-z0-9_-]+)\.ics/.exec(r.text ?? '')?.[1] as string;
    const res = await fetch(`${server.url}/calendar/${token}.ics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
    expect(await res.text()).toMatch(/^BEGIN:VCALENDAR/);
    msg(await as(server.core, 'alee').run('/duty calendar reset me'));
    expect((await fetch(`${server.url}/calendar/${token}.ics`)).status).toBe(404);
  });
});
