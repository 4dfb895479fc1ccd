// Where a reply goes for each visibility, with a real Web API client against the fake.
import pino from 'pino';
import { webApi } from '@slack/bolt';
import { message } from '../../../src/domain/reply';
import { sendMessage } from '../../../src/bot/slack/interaction';
import { startSlackFake, type SlackFake } from '../../helpers/slack-fake';

let slack: SlackFake;
let client: webApi.WebClient;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  slack = await startSlackFake();
  client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl });
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const user = { teamId: 'T1', userId: 'U1' };

describe('sendMessage', () => {
  it('answers the caller through the response_url when there is one', async () => {
    const url = slack.responseUrl();
    await sendMessage({ client, user, channelId: 'C1', responseUrl: url, replaceOriginal: false }, message({ text: 'hi' }), log);
    const post = await slack.waitForResponse((r) => url.endsWith(r.id));
    expect(post.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'hi' });
  });

  it('posts ephemerally in the channel without a response_url, and in the DM from a DM', async () => {
    await sendMessage({ client, user, channelId: 'C1' }, message({ text: 'hi' }), log);
    expect((await slack.waitForCall('chat.postEphemeral')).args).toMatchObject({ channel: 'C1', user: 'U1' });
    await sendMessage({ client, user, channelId: 'D1' }, message({ text: 'hi' }), log);
    expect((await slack.waitForCall('chat.postMessage')).args).toMatchObject({ channel: 'U1' });
  });

  it('posts channel replies in channel and direct replies to the user', async () => {
    const url = slack.responseUrl();
    await sendMessage({ client, user, channelId: 'C1', responseUrl: url }, message({ text: 'all', visibility: 'channel' }), log);
    expect((await slack.waitForResponse((r) => url.endsWith(r.id))).body.response_type).toBe('in_channel');
    await sendMessage({ client, user, channelId: 'C1' }, message({ text: 'all', visibility: 'channel' }), log);
    expect((await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C1')).args.text).toBe('all');
    await sendMessage({ client, user, channelId: 'C1', responseUrl: url }, message({ text: 'me', visibility: 'direct' }), log);
    expect((await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'U1')).args.text).toBe('me');
  });

  it('uploads attachments into the DM with the caller', async () => {
    const reply = message({ text: 'Export', attachments: [{ filename: 'members.csv', mimeType: 'text/csv', content: Buffer.from('handle\nalee\n'), title: 'Members' }] });
    await sendMessage({ client, user, channelId: 'C1', responseUrl: slack.responseUrl() }, reply, log);
    const done = await slack.waitForCall('files.completeUploadExternal');
    expect(done.args.channel_id).toBe('DU1');
    expect(slack.callsTo('conversations.open')[0]?.args.users).toBe('U1');
    expect(slack.uploads).toHaveLength(1);
    expect(slack.uploads[0]?.content.toString('utf8')).toBe('handle\nalee\n');
  });
});
