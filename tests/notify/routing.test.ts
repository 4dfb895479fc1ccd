// RoutingNotifier and the `deliver` job over both fakes: which platform a member or channel is
// reached on, fallbacks, threads, updates by copy, and the job's payload validation and
// idempotency.
import { Scheduler } from '../../src/jobs/scheduler';
import { DELIVER_KIND, enqueueDelivery, registerDelivery } from '../../src/notify/deliver';
import { message } from '../../src/domain/reply';
import { RoutingNotifier, type RoutingOptions } from '../../src/notify/routing';
import type { ChatCopy } from '../../src/notify/types';
import { systemMeta } from '../../src/store/store';
import { jobRow, ManualClock, quiet } from '../jobs/rig';
import { CHANNEL_CONVERSATION, notifyRig, REPLY, scriptedServer, type NotifyRig, type ScriptedServer } from './rig';

let rig: NotifyRig;
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
  rig.slack.off('chat.postMessage');
  rig.slack.reset();
  rig.connector.reset();
  front.script.length = 0;
});

function router(opts: Partial<RoutingOptions> = {}): RoutingNotifier {
  return new RoutingNotifier({ members: rig.store.members, slack: rig.slackNotifier(), teams: rig.teamsNotifier(), logger: quiet, ...opts });
}

const slackPosts = (): unknown[] => rig.slack.callsTo('chat.postMessage').map((c) => c.args.channel);
const teamsPosts = (): unknown[] => rig.connector.calls.filter((c) => c.method === 'POST').map((c) => c.conversationId);

describe('routing', () => {
  test('a member on both platforms gets Slack by default, Teams when Teams is preferred', async () => {
    expect(await router().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY)).toMatchObject({ ok: true });
    expect(slackPosts()).toEqual(['U0ALEE']);
    expect(teamsPosts()).toEqual([]);

    expect(await router({ prefer: ['teams'] }).send({ kind: 'member', memberId: rig.members.alee.id }, REPLY)).toMatchObject({ ok: true });
    expect(slackPosts()).toEqual(['U0ALEE']);
    expect(teamsPosts()).toEqual(['a:1on1-alee']);
  });

  test('a member on one platform gets that one', async () => {
    await router().send({ kind: 'member', memberId: rig.members.bo.id }, REPLY);
    await router({ prefer: ['teams'] }).send({ kind: 'member', memberId: rig.members.sam.id }, REPLY);
    expect(teamsPosts()).toEqual(['a:1on1-bo']);
    expect(slackPosts()).toEqual(['U0SAM']);
  });

  test('a definite failure on the preferred platform falls back to the other', async () => {
    rig.slack.on('chat.postMessage', () => ({ ok: false, error: 'user_not_found' }));
    expect(await router().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY)).toMatchObject({ ok: true });
    expect(teamsPosts()).toEqual(['a:1on1-alee']);
  });

  test('a retryable failure does not fall back: the retry goes to the preferred platform again', async () => {
    rig.slack.on('chat.postMessage', () => ({ ok: false, error: 'ratelimited' }));
    expect(await router().send({ kind: 'member', memberId: rig.members.alee.id }, REPLY)).toEqual({ ok: false, retryable: true, error: 'Slack error: ratelimited' });
    expect(teamsPosts()).toEqual([]);
  });

  test('an unknown outcome does not fall back either: the member may have the message already', async () => {
    front.script.push({ hang: true });
    const r = await router({ slack: rig.slackNotifier(`${front.url}api/`, 200) }).send({ kind: 'member', memberId: rig.members.alee.id }, REPLY);
    expect(r).toMatchObject({ ok: false, retryable: false, unknownOutcome: true });
    expect(teamsPosts()).toEqual([]);
  });

  test('every platform failing: the reasons of each', async () => {
    expect(await router({ prefer: ['slack'] }).send({ kind: 'member', memberId: rig.members.dan.id }, REPLY)).toEqual({
      ok: false,
      retryable: false,
      error: 'teams: @dan has not opened a chat with Duty Desk in Teams yet (no stored conversation reference)',
    });
  });

  test('no chat account, no connected platform, removed or unknown members: final, nothing sent', async () => {
    expect(await router().send({ kind: 'member', memberId: rig.members.cy.id }, REPLY)).toEqual({ ok: false, retryable: false, error: 'no chat account' });
    expect(await router({ teams: undefined }).send({ kind: 'member', memberId: rig.members.bo.id }, REPLY)).toEqual({
      ok: false,
      retryable: false,
      error: 'no chat account on a connected platform (@bo is on teams)',
    });
    expect(await router().send({ kind: 'member', memberId: 'nobody' }, REPLY)).toMatchObject({ ok: false, retryable: false });
    const gone = await rig.store.change(systemMeta('remove'), async (w) => {
      const m = await rig.store.members.create(w, { handle: 'gone', displayName: 'Gone', identities: [{ platform: 'slack', externalId: 'T1:U0GONE' }] }, null);
      return rig.store.members.remove(w, m, new Date());
    });
    expect(await router().send({ kind: 'member', memberId: gone.id }, REPLY)).toEqual({ ok: false, retryable: false, error: 'member @gone was removed' });
    expect(slackPosts()).toEqual([]);
    expect(teamsPosts()).toEqual([]);
  });

  test('channels go by their prefix', async () => {
    expect(await router().send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY)).toMatchObject({ ok: true });
    expect(await router().send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}` }, REPLY)).toMatchObject({ ok: true });
    expect(slackPosts()).toEqual(['C0DUTY']);
    expect(teamsPosts()).toEqual([CHANNEL_CONVERSATION]);
    expect(await router().send({ kind: 'channel', channel: 'email:ops@example.org' }, REPLY)).toMatchObject({ ok: false, retryable: false });
    expect(await router({ slack: undefined }).send({ kind: 'channel', channel: 'slack:C0DUTY' }, REPLY)).toEqual({ ok: false, retryable: false, error: 'Slack is not connected' });
  });

  test('a thread reply goes to the thread on either platform', async () => {
    const followUp = message({ text: 'Escalated to @bo', visibility: 'channel' });
    expect(await router().send({ kind: 'channel', channel: 'slack:C0DUTY', thread: '1700000000.000100' }, followUp)).toMatchObject({ ok: true });
    expect(await router().send({ kind: 'channel', channel: `teams:${CHANNEL_CONVERSATION}`, thread: 'root-1' }, followUp)).toMatchObject({ ok: true });
    expect(rig.slack.callsTo('chat.postMessage')[0]?.args).toMatchObject({ channel: 'C0DUTY', thread_ts: '1700000000.000100' });
    expect(teamsPosts()).toEqual([`${CHANNEL_CONVERSATION};messageid=root-1`]);
  });

  test('update goes to the platform of the copy; a platform that is off says so', async () => {
    const acked = message({ text: 'Acknowledged', visibility: 'direct' });
    const viaSlack = await router().send({ kind: 'member', memberId: rig.members.sam.id }, REPLY);
    const viaTeams = await router().send({ kind: 'member', memberId: rig.members.bo.id }, REPLY);
    const slackCopy = (viaSlack.ok ? viaSlack.copy : undefined) as ChatCopy;
    const teamsCopy = (viaTeams.ok ? viaTeams.copy : undefined) as ChatCopy;
    expect(slackCopy.platform).toBe('slack');
    expect(teamsCopy.platform).toBe('teams');
    expect(await router().update(slackCopy, acked)).toMatchObject({ ok: true, copy: slackCopy });
    expect(await router().update(teamsCopy, acked)).toMatchObject({ ok: true, copy: teamsCopy });
    expect(rig.slack.callsTo('chat.update').map((c) => [c.args.channel, c.args.ts])).toEqual([[slackCopy.conversation, slackCopy.messageId]]);
    expect(rig.connector.updates().map((c) => [c.conversationId, c.activityId])).toEqual([['a:1on1-bo', teamsCopy.messageId]]);
    expect(await router({ teams: undefined }).update(teamsCopy, acked)).toEqual({ ok: false, retryable: false, error: 'Teams is not connected' });
    expect(await router({ slack: undefined }).update(slackCopy, acked)).toEqual({ ok: false, retryable: false, error: 'Slack is not connected' });
  });
});

describe('the deliver job', () => {
  let clock: ManualClock;
  let scheduler: Scheduler;
  beforeEach(() => {
    clock = new ManualClock();
    scheduler = new Scheduler({ store: rig.store, logger: quiet, clock: clock.now });
    registerDelivery(scheduler, router());
  });

  test('sends once per key, and records the provider id and the copy', async () => {
    const to = { kind: 'member' as const, memberId: rig.members.bo.id };
    expect(await enqueueDelivery(scheduler, { key: 'handoff:1:bo', to, reply: REPLY })).toBe(true);
    expect(await enqueueDelivery(scheduler, { key: 'handoff:1:bo', to, reply: REPLY })).toBe(false);
    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduler.runDue()).toBe(0);
    expect(teamsPosts()).toEqual(['a:1on1-bo']);
    const row = await jobRow(rig.store, 'handoff:1:bo');
    expect(row).toMatchObject({ kind: DELIVER_KIND, status: 'done', attempts: 1 });
    const result = JSON.parse(row.result ?? '{}') as { providerId: string };
    expect(result).toEqual({ providerId: expect.stringMatching(/^fake-activity-/), copy: { platform: 'teams', conversation: expect.stringMatching(/^member:/), messageId: result.providerId } });
  });

  test('a thread in the payload reaches the platform', async () => {
    const to = { kind: 'channel' as const, channel: 'slack:C0DUTY', thread: '1700000000.000100' };
    await enqueueDelivery(scheduler, { key: 'page:1:thread', to, reply: REPLY });
    await scheduler.runDue();
    expect(await jobRow(rig.store, 'page:1:thread')).toMatchObject({ status: 'done' });
    expect(rig.slack.callsTo('chat.postMessage')[0]?.args).toMatchObject({ channel: 'C0DUTY', thread_ts: '1700000000.000100' });
    await scheduler.enqueue({ kind: DELIVER_KIND, key: 'bad-thread', dueAt: clock.now(), payload: { to: { ...to, thread: '' }, reply: REPLY } });
    await scheduler.runDue();
    expect(await jobRow(rig.store, 'bad-thread')).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^invalid deliver payload.*thread/s) });
  });

  test('waits for dueAt, and commits or rolls back with the change that made it', async () => {
    const to = { kind: 'channel' as const, channel: 'slack:C0DUTY' };
    await rig.store.change(systemMeta('reminder'), (w) => enqueueDelivery(scheduler, { key: 'reminder:kept', to, reply: REPLY, dueAt: clock.in(60_000) }, w.tx));
    await expect(
      rig.store.change(systemMeta('reminder'), async (w) => {
        await enqueueDelivery(scheduler, { key: 'reminder:lost', to, reply: REPLY }, w.tx);
        throw new Error('validation failed later');
      }),
    ).rejects.toThrow('validation failed later');
    expect(await scheduler.runDue()).toBe(0);
    clock.advance(60_000);
    expect(await scheduler.runDue()).toBe(1);
    expect(slackPosts()).toEqual(['C0DUTY']);
    expect(await rig.store.db.job.findUnique({ where: { idempotencyKey: 'reminder:lost' } })).toBeNull();
  });

  test('a member without a chat account fails the job at once', async () => {
    await enqueueDelivery(scheduler, { key: 'page:cy', to: { kind: 'member', memberId: rig.members.cy.id }, reply: REPLY });
    await scheduler.runDue();
    expect(await jobRow(rig.store, 'page:cy')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'no chat account' });
  });

  test('a payload that is not a delivery fails the job, naming the problem', async () => {
    await scheduler.enqueue({ kind: DELIVER_KIND, key: 'bad-payload', dueAt: clock.now(), payload: { to: { kind: 'pigeon' }, reply: { kind: 'message' } } });
    await scheduler.runDue();
    const row = await jobRow(rig.store, 'bad-payload');
    expect(row.status).toBe('failed');
    expect(row.lastError).toMatch(/^invalid deliver payload/);
    expect(row.lastError).toMatch(/to/);
  });

  test('replies with attachments are refused where they are made', () => {
    expect(() =>
      enqueueDelivery(scheduler, {
        key: 'with-file',
        to: { kind: 'channel', channel: 'slack:C0DUTY' },
        reply: { ...REPLY, attachments: [{ filename: 'a.csv', mimeType: 'text/csv', content: Buffer.from('a') }] },
      }),
    ).toThrow('attachments cannot be delivered yet');
  });
});
