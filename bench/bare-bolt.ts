// The baseline for bench/slack-ack: a Bolt app on the same receiver that only acks /duty.
import { App, ExpressReceiver } from '@slack/bolt';
import express from 'express';

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
const receiver = new ExpressReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', app, endpoints: '/slack/events' });
const bolt = new App({
  receiver,
  authorize: async () => ({ botToken: process.env.SLACK_BOT_TOKEN ?? '', botUserId: 'UBOT', botId: 'BBOT' }),
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? '' },
});
bolt.command('/duty', async ({ ack }) => {
  await ack();
});
app.listen(Number(process.env.PORT), '127.0.0.1');
