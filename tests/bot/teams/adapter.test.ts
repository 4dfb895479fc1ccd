// The Teams adapter on its own express app, with a scripted core behind the Dispatcher port:
// what it hands to the core, and how it behaves when the core is slow or the turn fails.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { createTeams, type TeamsRuntime } from '../../../src/bot/teams';
import { messageText, toCommandText } from '../../../src/bot/teams/text';
import { parseConfig } from '../../../src/config';
import type { Invocation } from '../../../src/domain/invocation';
import { message, type Reply } from '../../../src/domain/reply';
import type { ConversationStore, Dispatcher, Preview } from '../../../src/handlers/ports';
import { startBotConnectorFake, type BotConnectorFake } from '../../helpers/bot-connector-fake';
import { actionActivity, admin, botMention, cardOf, messageActivity, personMention, post, texts, BOT_ID, ADMIN_AAD, TENANT, type Json } from './activities';

const KNOWN = ['duty help', 'duty me', 'duty member add', 'duty member list', 'case new'];

function preview(text: string): Preview {
  const t = text.replace(/^\//, '').toLowerCase();
  const command = KNOWN.find((k) => t === k || t.startsWith(`${k} `));
  return { ...(command ? { command } : {}), mayOpenForm: false };
}

class ScriptedDispatcher implements Dispatcher {
  seen: Invocation[] = [];
  answer: (inv: Invocation) => Promise<Reply> = async (inv) => message({ title: 'ok', text: inv.kind === 'command' ? inv.text : inv.command });
  previewThrows = false;
  async dispatch(inv: Invocation): Promise<Reply> {
    this.seen.push(inv);
    return this.answer(inv);
  }
  preview(text: string): Preview {
    if (this.previewThrows) throw new Error('boom');
    return preview(text);
  }
}

class MemoryConversations implements ConversationStore {
  readonly refs = new Map<string, unknown>();
  async remember(platform: 'slack' | 'teams', key: string, reference: unknown): Promise<void> {
    this.refs.set(`${platform}/${key}`, reference);
  }
  async recall(platform: 'slack' | 'teams', key: string): Promise<unknown> {
    return this.refs.get(`${platform}/${key}`);
  }
}

interface Rig {
  api: string;
  fake: BotConnectorFake;
  dispatcher: ScriptedDispatcher;
  conversations: MemoryConversations;
  teams: TeamsRuntime;
  close(): Promise<void>;
}

async function rig(env: Record<string, string> = {}): Promise<Rig> {
  const parsed = parseConfig({ TEAMS_ANONYMOUS: '1', LOG_LEVEL: 'silent', ...env });
  if (!parsed.ok) throw new Error(parsed.error);
  const dispatcher = new ScriptedDispatcher();
  const conversations = new MemoryConversations();
  const teams = createTeams({ config: parsed.config, dispatcher, conversations, logger: pino({ level: 'silent' }), invokeDeadlineMs: 150, messageDeadlineMs: 300 });
  const app = express();
  app.post('/api/messages', (req, res) => {
    void teams.handle(req, res);
  });
  const server: http.Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const fake = await startBotConnectorFake();
  return {
    api: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`,
    fake,
    dispatcher,
    conversations,
    teams,
    async close() {
      await fake.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

describe('message text', () => {
  test('the bot mention and HTML go, other mentions become <@teams:…>', () => {
    const bob = { aad: '0000AAAA-0000-0000-0000-0000000000BB', name: 'Bob B' };
    const a = messageActivity('http://x/', admin, '<p><at>Duty Desk</at>&nbsp;duty member add handle=bob teams=<at>Bob B</at> note=&quot;a &amp; b&quot;</p>', {}, [
      botMention(),
      personMention(bob),
    ]);
    expect(messageText(a as never)).toBe('duty member add handle=bob teams=<@teams:0000aaaa-0000-0000-0000-0000000000bb> note="a & b"');
  });

  test('a mention without an object id keeps the name; one without an entity keeps its text', () => {
    const a = {
      text: 'ping <at>Carol</at> and <at>Dan</at>',
      recipient: { id: BOT_ID, name: 'Duty Desk' },
      entities: [{ type: 'mention', text: '<at>Carol</at>', mentioned: { id: '29:carol', name: 'Carol' } }],
    };
    expect(messageText(a as never)).toBe('ping @Carol and Dan');
  });

  test('line breaks survive; typed angle brackets are not tags', () => {
    expect(messageText({ text: 'a<br>b&lt;c&gt;', recipient: { id: BOT_ID, name: '' } } as never)).toBe('a\nb<c>');
  });

  test.each([
    ['', '/duty help'],
    ['help', '/duty help'],
    ['duty help', '/duty help'],
    ['/duty help', '/duty help'],
    ['member list', '/duty member list'],
    ['case new summary=x', '/case new summary=x'],
    ['/case new', '/case new'],
    ['frobnicate', '/frobnicate'],
  ])('"%s" → "%s"', (typed, command) => {
    expect(toCommandText(typed, preview)).toBe(command);
  });
});

describe('Teams adapter with a scripted core', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(() => r.close());

  test('hands the core who, where and what, with a fresh request id per activity', async () => {
    const bob = { aad: '00000000-0000-0000-0000-0000000000bb', name: 'Bob' };
    const channel = { conversationId: '19:ops@thread.tacv2;messageid=1', conversationType: 'channel' as const };
    await post(r.api, messageActivity(r.fake.url, admin, '<at>Duty Desk</at> member list <at>Bob</at>', channel, [botMention(), personMention(bob)]));
    await post(r.api, messageActivity(r.fake.url, admin, 'duty me', channel));
    expect(r.dispatcher.seen).toHaveLength(2);
    const [first, second] = r.dispatcher.seen;
    expect(first).toMatchObject({
      kind: 'command',
      text: `/duty member list <@teams:${bob.aad}>`,
      caller: { platform: 'teams', externalId: ADMIN_AAD, displayName: 'Ana Admin' },
      origin: { channelId: channel.conversationId, workspaceId: TENANT },
    });
    expect(first?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first?.requestId).not.toBe(second?.requestId);
    // A channel reference is kept by conversation, never as the member's 1:1 chat.
    expect(r.conversations.refs.has(`teams/conversation:${channel.conversationId}`)).toBe(true);
    expect(r.conversations.refs.has(`teams/member:${ADMIN_AAD}`)).toBe(false);
  });

  test('an invoke whose command is slow answers in time, and the result follows in the chat', async () => {
    r.dispatcher.answer = async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      return message({ title: 'Slow result' });
    };
    const started = Date.now();
    const res = await post(r.api, actionActivity(r.fake.url, admin, 'duty.command', { command: '/duty me' }));
    expect(Date.now() - started).toBeLessThan(550);
    expect(res.status).toBe(200);
    expect(texts((res.body as { value: Json }).value).join(' ')).toContain('Still working');
    const [late] = await r.fake.waitFor((c) => c.body.type === 'message', 1, 3000);
    expect(late?.conversationId).toBe(`a:personal-${ADMIN_AAD}`);
    expect(texts(cardOf(late?.body as Json))).toContain('Slow result');
  });

  test('a direct reply asked for in a channel goes to the 1:1 chat when one is known', async () => {
    await post(r.api, messageActivity(r.fake.url, admin, 'duty help'));
    await r.fake.waitFor((c) => c.body.type === 'message');
    r.fake.reset();
    r.dispatcher.answer = async () => message({ title: 'Private', visibility: 'direct' });
    await post(r.api, messageActivity(r.fake.url, admin, 'duty me', { conversationId: '19:ops@thread.tacv2', conversationType: 'channel' }));
    const calls = await r.fake.waitFor((c) => c.body.type === 'message', 2);
    const personal = calls.find((c) => c.conversationId === `a:personal-${ADMIN_AAD}`);
    const inChannel = calls.find((c) => c.conversationId === '19:ops@thread.tacv2');
    expect(texts(cardOf(personal?.body as Json))).toContain('Private');
    expect(texts(cardOf(inChannel?.body as Json)).join(' ')).toContain('1:1 chat');
  });

  test('installing the bot stores the reference and says hello', async () => {
    const a = messageActivity(r.fake.url, admin, '');
    delete a.text;
    const res = await post(r.api, { ...a, type: 'conversationUpdate', membersAdded: [{ id: BOT_ID }] });
    expect(res.status).toBe(200);
    const [hello] = await r.fake.waitFor((c) => c.body.type === 'message');
    expect(texts(cardOf(hello?.body as Json)).join(' ')).toContain('duty help');
    expect(r.conversations.refs.get(`teams/member:${ADMIN_AAD}`)).toMatchObject({ serviceUrl: r.fake.url });
  });

  test('an unexpected error in a turn is logged and answered with a reference', async () => {
    r.dispatcher.previewThrows = true;
    const res = await post(r.api, messageActivity(r.fake.url, admin, 'duty me'));
    expect(res.status).toBe(200);
    const [call] = await r.fake.waitFor((c) => c.body.type === 'message');
    expect(call?.body.text).toMatch(/^Something went wrong \(ref [0-9a-f]{8}\)$/);
  });

  test('proactive delivery to a stored reference', async () => {
    await post(r.api, messageActivity(r.fake.url, admin, 'duty help'));
    r.fake.reset();
    const ref = r.conversations.refs.get(`teams/member:${ADMIN_AAD}`);
    const id = await r.teams.deliver(ref, message({ title: 'You are paged' }));
    expect(id).toMatch(/^fake-activity-/);
    const [call] = r.fake.messages();
    expect(call?.conversationId).toBe(`a:personal-${ADMIN_AAD}`);
    expect(texts(cardOf(call?.body as Json))).toContain('You are paged');
    await expect(r.teams.deliver({ nope: true }, message({ title: 'x' }))).rejects.toThrow('not a Teams conversation reference');
  });

  test('a body that is not JSON is refused', async () => {
    const res = await fetch(r.api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(res.status).toBe(400);
    expect(r.fake.calls).toHaveLength(0);
  });
});
