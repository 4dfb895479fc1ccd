// ChannelProbe over the wire: whether the bot can post to a channel before anything is committed.
// Slack asks conversations.info (membership, archived, unknown channel, Slack unreachable); Teams
// looks for the stored conversation reference; RoutingNotifier goes by the prefix.
import { mrkdwn } from '../../src/bot/slack/render';
import { RoutingNotifier } from '../../src/notify/routing';
import { TeamsNotifier } from '../../src/notify/teams';
import { quiet } from '../jobs/rig';
import { CHANNEL_CONVERSATION, closedPort, notifyRig, scriptedServer, type NotifyRig, type ScriptedServer } from './rig';

let rig: NotifyRig;

/** The channel link is sealed markup (src/bot/slack/trusted.ts): live as Slack renders it. */
const sealedLinks = (r: { ok: boolean; error?: string }) => (r.error === undefined ? r : { ...r, error: mrkdwn(r.error) });
let front: ScriptedServer;

beforeAll(async () => {
  rig = await notifyRig();
  front = await scriptedServer(rig.slack.url);
});
afterAll(async () => {
  await front.close();
  await rig.close();
});
afterEach(() => {
  rig.slack.off('conversations.info');
  rig.slack.reset();
  rig.connector.reset();
  front.script.length = 0;
});

describe('Slack', () => {
  test('a channel the bot is in: ok, asked with conversations.info (form-encoded, as Slack reads it)', async () => {
    expect(await rig.slackNotifier().canPost('slack:C0LEAD')).toEqual({ ok: true });
    const [call, ...more] = rig.slack.callsTo('conversations.info');
    expect(more).toHaveLength(0);
    expect(call?.args).toEqual({ channel: 'C0LEAD' });
    expect(call?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  test('a DM with the bot: ok (an IM has no is_member)', async () => {
    rig.slack.on('conversations.info', (a) => ({ channel: { id: a.channel, is_im: true, user: 'U0SAM' } }));
    expect(await rig.slackNotifier().canPost('slack:DU0SAM')).toEqual({ ok: true });
  });

  test('a channel the bot is not in: says where and how to invite it', async () => {
    rig.slack.on('conversations.info', (a) => ({ channel: { id: a.channel, name: 'leadership', is_channel: true, is_member: false, is_archived: false } }));
    expect(sealedLinks(await rig.slackNotifier().canPost('slack:C0LEAD'))).toEqual({ ok: false, error: 'Duty Desk is not in <#C0LEAD|leadership>: invite it with /invite @Duty Desk' });
  });

  test('an archived channel is refused even with the bot in it', async () => {
    rig.slack.on('conversations.info', (a) => ({ channel: { id: a.channel, name: 'old-crisis', is_channel: true, is_member: true, is_archived: true } }));
    expect(sealedLinks(await rig.slackNotifier().canPost('slack:C0OLD'))).toEqual({ ok: false, error: '<#C0OLD|old-crisis> is archived: unarchive it or choose another channel' });
  });

  test('a channel Slack does not show the bot (unknown, or private without it)', async () => {
    rig.slack.on('conversations.info', () => ({ ok: false, error: 'channel_not_found' }));
    expect(await rig.slackNotifier().canPost('slack:C0NOPE')).toEqual({ ok: false, error: 'Slack has no channel C0NOPE that Duty Desk can see' });
  });

  test('other Slack errors are named', async () => {
    rig.slack.on('conversations.info', () => ({ ok: false, error: 'missing_scope' }));
    expect(await rig.slackNotifier().canPost('slack:C0LEAD')).toEqual({ ok: false, error: 'Slack would not say whether Duty Desk can post to channel C0LEAD: Slack error: missing_scope' });
  });

  test('Slack unreachable, or answering 503: not ok, saying Slack could not be asked', async () => {
    const down = await rig.slackNotifier(`http://127.0.0.1:${await closedPort()}/api/`).canPost('slack:C0LEAD');
    expect(down).toEqual({ ok: false, error: expect.stringMatching(/^could not reach Slack to check channel C0LEAD: connect ECONNREFUSED/) });
    front.script.push({ status: 503, body: { ok: false } });
    expect(await rig.slackNotifier(`${front.url}api/`).canPost('slack:C0LEAD')).toEqual({ ok: false, error: 'could not reach Slack to check channel C0LEAD: Slack answered HTTP 503' });
  });

  test('a channel that is not Slack is not asked about', async () => {
    expect(await rig.slackNotifier().canPost(`teams:${CHANNEL_CONVERSATION}`)).toMatchObject({ ok: false });
    expect(rig.slack.calls).toHaveLength(0);
  });
});

describe('Teams', () => {
  test('a conversation with a stored reference: ok, without calling the connector', async () => {
    expect(await rig.teamsNotifier().canPost(`teams:${CHANNEL_CONVERSATION}`)).toEqual({ ok: true });
    expect(rig.connector.calls).toHaveLength(0);
  });

  test('a conversation the app was never added to', async () => {
    expect(await rig.teamsNotifier().canPost('teams:19:elsewhere@thread.tacv2')).toEqual({
      ok: false,
      error: 'Duty Desk has not been added to Teams conversation 19:elsewhere@thread.tacv2 yet: add the app to that channel (or mention it there once)',
    });
    expect(await rig.teamsNotifier().canPost('slack:C0LEAD')).toMatchObject({ ok: false });
  });

  test('a store that cannot be read: not ok, saying so', async () => {
    const n = new TeamsNotifier({ adapter: rig.teams.adapter, botAppId: '', members: rig.store.members, conversations: { recall: () => Promise.reject(new Error('database is locked')) } });
    expect(await n.canPost(`teams:${CHANNEL_CONVERSATION}`)).toEqual({ ok: false, error: 'could not read the conversation reference: database is locked' });
  });
});

describe('routing', () => {
  const router = (opts: { slack?: boolean; teams?: boolean } = {}): RoutingNotifier =>
    new RoutingNotifier({
      members: rig.store.members,
      ...(opts.slack !== false ? { slack: rig.slackNotifier() } : {}),
      ...(opts.teams !== false ? { teams: rig.teamsNotifier() } : {}),
      logger: quiet,
    });

  test('each channel is asked of its platform', async () => {
    expect(await router().canPost('slack:C0LEAD')).toEqual({ ok: true });
    expect(await router().canPost(`teams:${CHANNEL_CONVERSATION}`)).toEqual({ ok: true });
    expect(rig.slack.callsTo('conversations.info').map((c) => c.args.channel)).toEqual(['C0LEAD']);
    expect(await router().canPost('teams:19:elsewhere@thread.tacv2')).toMatchObject({ ok: false, error: expect.stringMatching(/^Duty Desk has not been added to Teams conversation/) });
  });

  test('an unknown prefix, or a platform that is not connected, is not ok and says why', async () => {
    expect(await router().canPost('email:ops@example.org')).toEqual({ ok: false, error: 'unknown channel "email:ops@example.org": expected slack:<channel id> or teams:<conversation id>' });
    expect(await router({ slack: false }).canPost('slack:C0LEAD')).toEqual({ ok: false, error: 'Slack is not connected, so Duty Desk cannot post to slack:C0LEAD' });
    expect(await router({ teams: false }).canPost(`teams:${CHANNEL_CONVERSATION}`)).toEqual({ ok: false, error: `Teams is not connected, so Duty Desk cannot post to teams:${CHANNEL_CONVERSATION}` });
    expect(rig.slack.calls).toHaveLength(0);
  });
});
