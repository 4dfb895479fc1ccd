// End to end over real HTTP: the Duty Desk server receives Teams activities on /api/messages and
// answers through a loopback Bot Connector fake.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { startServer, type RunningServer } from '../../../src/server';
import { startBotConnectorFake, type BotConnectorFake } from '../../helpers/bot-connector-fake';
import {
  actionActivity,
  admin,
  botMention,
  cardOf,
  messageActivity,
  personMention,
  post,
  texts,
  walk,
  ADMIN_AAD,
  TENANT,
  type CardNode,
  type Json,
  type Person,
} from './activities';

interface Harness {
  server: RunningServer;
  fake: BotConnectorFake;
  logs: string[];
  api: string;
  dir: string;
}

async function start(env: Record<string, string>): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-teams-'));
  const parsed = parseConfig({
    PORT: '0',
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    BOOTSTRAP_ADMINS: `teams:${ADMIN_AAD}`,
    LOG_LEVEL: 'info',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const server = await startServer(parsed.config, { logger: createLogger('info', sink) });
  const fake = await startBotConnectorFake();
  return { server, fake, logs, dir, api: `${server.url}/api/messages` };
}

async function stop(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.fake.close();
  await h.server.close();
  fs.rmSync(h.dir, { recursive: true, force: true });
}

function inputsOf(card: CardNode): CardNode[] {
  return walk(card).filter((n) => typeof n.type === 'string' && n.type.startsWith('Input.'));
}

function submitData(card: CardNode): Json {
  const submit = walk(card).find((n) => n.type === 'Action.Execute' && n.verb === 'duty.form');
  if (!submit) throw new Error('form card has no duty.form submit');
  return submit.data as Json;
}

/** The invoke response Teams expects for Action.Execute: a card that replaces the pressed one. */
function invokeCard(body: unknown): CardNode {
  const b = body as { statusCode: number; type: string; value: CardNode };
  expect(b.statusCode).toBe(200);
  expect(b.type).toBe('application/vnd.microsoft.card.adaptive');
  expect(b.value.type).toBe('AdaptiveCard');
  return b.value;
}

describe('Teams adapter, anonymous local mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start({ TEAMS_ANONYMOUS: '1' });
  });
  afterAll(() => stop(h));
  beforeEach(() => h.fake.reset());

  test('says once, at start, that anonymous Teams is for local testing only', () => {
    const warnings = h.logs.filter((l) => l.includes('local testing only') && (JSON.parse(l) as { level: number }).level === 40);
    expect(warnings).toHaveLength(1);
  });

  test('"duty help" in a 1:1 chat is answered with an Adaptive Card 1.5 listing commands', async () => {
    const activity = messageActivity(h.fake.url, admin, 'duty help');
    const r = await post(h.api, activity);
    expect(r.status).toBe(200);
    const [call] = await h.fake.waitFor((c) => c.body.type === 'message');
    expect(call?.method).toBe('POST');
    expect(call?.conversationId).toBe(`a:personal-${ADMIN_AAD}`);
    // A reply to the incoming activity.
    expect(call?.activityId).toBe(activity.id);
    const card = cardOf(call?.body as Json);
    expect(card.version).toBe('1.5');
    expect(card.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
    const all = texts(card).join('\n');
    expect(all).toContain('Duty Desk help');
    expect(all).toContain('/duty help');
    expect(all).toContain('/duty member add');
    expect(typeof call?.body.summary).toBe('string');
  });

  test.each(['/duty help', 'help', '<at>Duty Desk</at> duty help'])('"%s" is read as /duty help', async (text) => {
    const r = await post(h.api, messageActivity(h.fake.url, admin, text, {}, text.includes('<at>') ? [botMention()] : []));
    expect(r.status).toBe(200);
    const [call] = await h.fake.waitFor((c) => c.body.type === 'message');
    expect(texts(cardOf(call?.body as Json)).join('\n')).toContain('Duty Desk help');
  });

  test('stores the 1:1 conversation reference of the member for later proactive messages', async () => {
    await post(h.api, messageActivity(h.fake.url, admin, 'duty help'));
    const ref = (await h.server.core.conversations.recall('teams', `member:${ADMIN_AAD}`)) as Json;
    expect(ref).toMatchObject({
      serviceUrl: h.fake.url,
      channelId: 'msteams',
      conversation: { id: `a:personal-${ADMIN_AAD}` },
      user: { aadObjectId: ADMIN_AAD },
    });
  });

  test('a button (Action.Execute duty.command) answers with a card that replaces the pressed one', async () => {
    const r = await post(h.api, actionActivity(h.fake.url, admin, 'duty.command', { command: '/duty help' }));
    expect(r.status).toBe(200);
    const card = invokeCard(r.body);
    expect(texts(card).join('\n')).toContain('Duty Desk help');
    expect(h.fake.messages()).toHaveLength(0);
  });

  test('the member form: sent as a card, re-rendered with the error when a required field is missing, then accepted', async () => {
    await post(h.api, messageActivity(h.fake.url, admin, 'duty member add'));
    const [call] = await h.fake.waitFor((c) => c.body.type === 'message');
    const form = cardOf(call?.body as Json);
    const ids = inputsOf(form).map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining(['field.handle', 'field.name']));
    expect(inputsOf(form).find((i) => i.id === 'field.name')?.isRequired).toBe(true);
    const data = submitData(form);
    expect(data.command).toBe('duty member add');

    // What Teams posts: the action's data with the inputs merged in. "name" left empty.
    const missing = await post(h.api, actionActivity(h.fake.url, admin, 'duty.form', { ...data, 'field.handle': 'alee', 'field.name': '' }));
    expect(missing.status).toBe(200);
    const again = invokeCard(missing.body);
    const body = again.body as CardNode[];
    const nameAt = body.findIndex((n) => n.id === 'field.name');
    expect(nameAt).toBeGreaterThanOrEqual(0);
    const after = body.slice(nameAt + 1, nameAt + 3);
    expect(after.some((n) => n.type === 'TextBlock' && n.color === 'attention')).toBe(true);
    // What was typed is kept.
    expect(body.find((n) => n.id === 'field.handle')?.value).toBe('alee');

    const ok = await post(
      h.api,
      actionActivity(h.fake.url, admin, 'duty.form', { ...submitData(again), 'field.handle': 'alee', 'field.name': 'Ana Lee', 'field.roles': 'officer,leader' }),
    );
    expect(ok.status).toBe(200);
    const done = invokeCard(ok.body);
    expect(texts(done).join('\n')).toContain('Added @alee');
    expect(JSON.stringify(done)).not.toContain('"color":"attention"');
    expect(h.fake.messages()).toHaveLength(1);
  });

  test('a mention of another person becomes their Teams identity', async () => {
    const bob: Person = { aad: '00000000-0000-0000-0000-0000000000bb', name: 'Bob Bryant' };
    const text = '<at>Duty Desk</at> duty member add handle=bob name="Bob Bryant" teams=<at>Bob Bryant</at>';
    const r = await post(h.api, messageActivity(h.fake.url, admin, text, { conversationId: '19:ops@thread.tacv2', conversationType: 'channel' }, [botMention(), personMention(bob)]));
    expect(r.status).toBe(200);
    const [added] = await h.fake.waitFor((c) => c.body.type === 'message');
    expect(added?.conversationId).toBe('19:ops@thread.tacv2');
    expect(texts(cardOf(added?.body as Json)).join('\n')).toContain('Added @bob');

    // Bob is now a member: his own "duty me" is not refused.
    h.fake.reset();
    await post(h.api, messageActivity(h.fake.url, bob, 'duty me'));
    const [me] = await h.fake.waitFor((c) => c.body.type === 'message');
    const card = JSON.stringify(cardOf(me?.body as Json));
    expect(card).toContain('bob');
    expect(card).not.toContain('not registered');
  });

  test('a private answer asked for in a channel is never posted there, even with no 1:1 chat known', async () => {
    const olive: Person = { aad: '00000000-0000-0000-0000-0000000000dd', name: 'Olive Officer' };
    expect((await h.server.core.dispatcher.dispatch({ kind: 'command', text: `/duty member add handle=olive name="Olive Officer" teams=${olive.aad} roles=officer`, caller: { platform: 'teams', externalId: ADMIN_AAD }, origin: {}, requestId: 'r1' })).kind).toBe('message');
    const created = await h.server.core.dispatcher.dispatch({ kind: 'command', text: '/case new category=arrest priority=P2 name="Private Person" reporter=police summary="Held"', caller: { platform: 'teams', externalId: olive.aad }, origin: {}, requestId: 'r2' });
    const ref = /C-\d{4}-\d{5}/.exec(created.kind === 'message' ? (created.title ?? '') : '')?.[0];
    h.fake.reset();
    await post(h.api, messageActivity(h.fake.url, olive, `<at>Duty Desk</at> case show ${ref}`, { conversationId: '19:ops@thread.tacv2', conversationType: 'channel' }, [botMention()]));
    const [answer] = await h.fake.waitFor((c) => c.body.type === 'message');
    expect(answer?.conversationId).toBe('19:ops@thread.tacv2');
    const shown = JSON.stringify(answer?.body);
    expect(shown).toContain('That answer is private');
    expect(shown).not.toContain('Private Person');
  });

  test('an unregistered caller is told so, in a card styled as an error', async () => {
    const stranger: Person = { aad: '00000000-0000-0000-0000-0000000000cc', name: 'Stranger' };
    await post(h.api, messageActivity(h.fake.url, stranger, 'duty member list'));
    const [call] = await h.fake.waitFor((c) => c.body.type === 'message');
    const card = cardOf(call?.body as Json);
    expect(texts(card).join('\n')).toContain('not registered');
    expect(walk(card).some((n) => n.type === 'TextBlock' && n.color === 'attention')).toBe(true);
  });

  test('an unknown Action.Execute verb gets a card, not a failure', async () => {
    const r = await post(h.api, actionActivity(h.fake.url, admin, 'something.else', {}));
    expect(r.status).toBe(200);
    expect(texts(invokeCard(r.body)).join('\n')).toContain('out of date');
  });
});

describe('Teams adapter security', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await stop(h);
    h = undefined;
  });

  test('without credentials and without TEAMS_ANONYMOUS every activity gets 401 and nothing is sent', async () => {
    h = await start({});
    const r = await post(h.api, messageActivity(h.fake.url, admin, 'duty help'));
    expect(r.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.fake.calls).toHaveLength(0);
  });

  test('with an app id and password, an activity without an Authorization header gets 401 from botbuilder', async () => {
    h = await start({ TEAMS_APP_ID: '22222222-3333-4444-5555-666666666666', TEAMS_APP_PASSWORD: 'not-a-real-secret' });
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined); // botbuilder prints the rejection
    try {
      const r = await post(h.api, messageActivity(h.fake.url, admin, 'duty help'));
      expect(r.status).toBe(401);
    } finally {
      errors.mockRestore();
    }
    expect(h.fake.calls).toHaveLength(0);
    expect(h.logs.some((l) => l.includes('local testing only'))).toBe(false);
  });

  test('TEAMS_TENANT_ID turns away activities from another tenant before any handler runs', async () => {
    h = await start({ TEAMS_ANONYMOUS: '1', TEAMS_TENANT_ID: TENANT });
    const other = await post(h.api, messageActivity(h.fake.url, admin, 'duty help', { tenant: '99999999-9999-9999-9999-999999999999' }));
    expect(other.status).toBe(403);
    const noTenant = messageActivity(h.fake.url, admin, 'duty help');
    delete (noTenant.conversation as Json).tenantId;
    delete noTenant.channelData;
    expect((await post(h.api, noTenant)).status).toBe(403);
    expect(h.fake.calls).toHaveLength(0);
    expect(await h.server.core.conversations.recall('teams', `member:${ADMIN_AAD}`)).toBeUndefined();

    const same = await post(h.api, messageActivity(h.fake.url, admin, 'duty help', { tenant: TENANT.toUpperCase() }));
    expect(same.status).toBe(200);
    await h.fake.waitFor((c) => c.body.type === 'message');
  });
});
