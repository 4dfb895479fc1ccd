// The crisis channel and its board over the Slack fake: "channel=new" creates the channel (a taken
// name gets -2), invites the opener, links it and posts the board there, pinned; changes update
// the board in place, at most once a 10-second window; /crisis edit links another channel.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server';
import { as, manualClock, msg, testConfig } from '../helpers/core';
import { tempDir } from '../helpers/db';
import { startSlackFake, type SlackFake } from '../helpers/slack-fake';

describe('crisis channel and board [server, sqlite]', () => {
  let slack: SlackFake;
  let server: RunningServer;
  let dir: string;
  const clock = manualClock('2026-11-22T06:00:00Z');
  const cara = () => as(server.core, 'T1:U5', 'slack');

  async function at(iso: string): Promise<void> {
    clock.set(iso);
    for (let i = 0; i < 5; i++) await server.core.scheduler.runDue();
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    dir = tempDir();
    server = await startServer(
      testConfig({ DATABASE_URL: `file:${path.join(dir, 'c.db')}`, PORT: '0', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: slack.apiUrl, BOOTSTRAP_ADMINS: 'console:root' }),
      { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), clock: clock.now },
    );
    expect(msg(await as(server.core, 'root').run('/duty member add handle=cara name="Cara Cell" slack=T1:U5 roles=crisis')).ok).toBe(true);
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('channel=new creates the channel, invites the opener, and pins the board there', async () => {
    let tries = 0;
    slack.on('conversations.create', (args) => (++tries === 1 ? { ok: false, error: 'name_taken' } : { ok: true, channel: { id: 'C900', name: String(args.name) } }));
    const r = msg(await cara().run('/crisis open name="Nepal earthquake" code=NPL-EQ region=Nepal channel=new'));
    expect(r.ok).toBe(true);
    expect(r.text).toContain('Creating the crisis channel');
    await at('2026-11-22T06:00:00Z');
    const created = await slack.waitForCall('conversations.create', (c) => c.args.name === 'crisis-npl-eq-2', 5000);
    expect(created).toBeDefined();
    const invite = await slack.waitForCall('conversations.invite', () => true, 5000);
    expect(invite.args).toMatchObject({ channel: 'C900', users: 'U5' });
    // The job links the channel after Slack answers: wait for its commit, not just for the call.
    for (let i = 0; i < 100 && (await server.core.store.crises.byCode('NPL-EQ'))?.channel !== 'slack:C900'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await server.core.store.crises.byCode('NPL-EQ'))?.channel).toBe('slack:C900');
    // The board: posted in the new channel at the end of its 10-second window, then pinned.
    await at('2026-11-22T06:00:10Z');
    const board = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C900', 5000);
    expect(JSON.stringify(board.args)).toContain('NPL-EQ Nepal earthquake: 0 people');
    const pin = await slack.waitForCall('pins.add', () => true, 5000);
    expect(pin.args.channel).toBe('C900');
  });

  test('a burst of changes updates the board in place, once per 10-second window', async () => {
    slack.reset();
    for (let i = 0; i < 5; i++) expect(msg(await cara().run(`/person add name="Person Number${i}" crisis=NPL-EQ`)).ok).toBe(true);
    await at('2026-11-22T06:00:20Z');
    await slack.waitForCall('chat.update', () => true, 5000);
    await at('2026-11-22T06:00:25Z');
    const updates = slack.callsTo('chat.update');
    expect(updates).toHaveLength(1);
    expect(JSON.stringify(updates[0]?.args)).toContain('5 people, 5 unaccounted');
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C900')).toHaveLength(0);
  });

  test('/crisis edit links another channel; the board is posted there', async () => {
    slack.reset();
    const r = msg(await cara().run('/crisis edit NPL-EQ channel=slack:C777 description="M7.8 near Gorkha"'));
    expect(r.ok).toBe(true);
    await at('2026-11-22T06:00:40Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C777', 5000);
    expect(msg(await cara().run('/crisis edit NPL-EQ')).error?.code).toBe('INVALID_INPUT');
    expect(msg(await cara().run('/crisis edit NPL-EQ channel=banana')).error?.code).toBe('INVALID_INPUT');
  });

  test('a board job finding another job\'s fresh claim posts nothing; a stale claim is taken over', async () => {
    const crisis = (await server.core.store.crises.byCode('NPL-EQ'))!;
    const claim = (at: string) => server.core.store.transaction((tx) => tx.crisis.update({ where: { id: crisis.id }, data: { boardMessage: JSON.stringify({ claim: 'other-job', at: Date.parse(at) }) } }));
    slack.reset();
    await claim('2026-11-22T06:01:00Z');
    expect(msg(await cara().run('/person add name="Claimed Board" crisis=NPL-EQ')).ok).toBe(true);
    await at('2026-11-22T06:01:10Z');
    await at('2026-11-22T06:01:12Z');
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C777')).toHaveLength(0);
    // The claiming job died long ago: the next board job posts.
    await claim('2026-11-22T05:00:00Z');
    expect(msg(await cara().run('/person add name="Stale Claim" crisis=NPL-EQ')).ok).toBe(true);
    await at('2026-11-22T06:01:20Z');
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C777', 5000);
    expect(JSON.parse((await server.core.store.crises.byId(crisis.id))?.boardMessage ?? '{}')).toMatchObject({ platform: 'slack', conversation: 'C777' });
  });
});
