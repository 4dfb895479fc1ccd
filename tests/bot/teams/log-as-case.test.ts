// The "Log as case" message action end to end over HTTP: composeExtension/fetchTask opens the
// /case new form in a dialog with the summary from the message, composeExtension/submitAction logs
// the case (or shows the form again with the errors), and the result goes to the 1:1 chat.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { startServer, type RunningServer } from '../../../src/server';
import { startBotConnectorFake, type BotConnectorFake } from '../../helpers/bot-connector-fake';
import { as, msg } from '../../helpers/core';
import { cardOf, messageActivity, post, texts, walk, ADMIN_AAD, type CardNode, type Json, type Person } from './activities';

const officer: Person = { aad: '00000000-0000-0000-0000-00000000000f', name: 'Olga Officer' };
/** Also an officer, who never opened a 1:1 chat with the bot. */
const quiet: Person = { aad: '00000000-0000-0000-0000-0000000000f2', name: 'Quentin Quiet' };
const stranger: Person = { aad: '00000000-0000-0000-0000-0000000000cc', name: 'Stranger' };
const CHANNEL = { conversationId: '19:ops@thread.tacv2;messageid=1767262200000', conversationType: 'channel' as const };

let server: RunningServer;
let fake: BotConnectorFake;
let dir: string;
let api: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duty-desk-teams-case-'));
  const parsed = parseConfig({
    PORT: '0',
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    BOOTSTRAP_ADMINS: `teams:${ADMIN_AAD}`,
    TEAMS_ANONYMOUS: '1',
    LOG_LEVEL: 'silent',
  });
  if (!parsed.ok) throw new Error(parsed.error);
  server = await startServer(parsed.config, { logger: createLogger('silent') });
  fake = await startBotConnectorFake();
  api = `${server.url}/api/messages`;
  const admin = as(server.core, ADMIN_AAD, 'teams');
  expect(msg(await admin.run(`/duty member add handle=olga name="Olga Officer" teams=${officer.aad} roles=officer`)).ok).toBe(true);
  expect(msg(await admin.run(`/duty member add handle=quentin name="Quentin Quiet" teams=${quiet.aad} roles=officer`)).ok).toBe(true);
});

afterAll(async () => {
  await fake?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => fake.reset());

const messagePayload = {
  id: '1767262200000',
  createdDateTime: '2026-01-01T10:10:00.000Z',
  linkToMessage: 'https://teams.microsoft.com/l/message/19:ops@thread.tacv2/1767262200000',
  body: { contentType: 'html', content: '<p>Citizen <b>arrested</b> &amp; held</p>' },
  from: { user: { id: 'someone', displayName: 'Ana' } },
};

function invoke(from: Person, name: string, value: Json): Json {
  const { text: _text, textFormat: _format, ...envelope } = messageActivity(fake.url, from, '', CHANNEL);
  return { ...envelope, type: 'invoke', name, value };
}

function fetchTask(from: Person): Json {
  return invoke(from, 'composeExtension/fetchTask', { commandId: 'logAsCase', commandContext: 'message', context: { theme: 'default' }, messagePayload });
}

function submitAction(from: Person, data: Json): Json {
  return invoke(from, 'composeExtension/submitAction', { commandId: 'logAsCase', commandContext: 'message', context: { theme: 'default' }, messagePayload, data });
}

interface TaskInfo {
  title?: string;
  width?: string;
  height?: string;
  card: { contentType: string; content: CardNode };
}

/** The dialog Teams is asked to show: `{ task: { type: 'continue', value: TaskInfo } }`. */
function taskCard(body: unknown): { info: TaskInfo; card: CardNode } {
  const task = (body as { task?: { type: string; value: TaskInfo } }).task;
  expect(task?.type).toBe('continue');
  const info = task?.value as TaskInfo;
  expect(info.card.contentType).toBe('application/vnd.microsoft.card.adaptive');
  return { info, card: info.card.content };
}

function inputs(card: CardNode): Map<unknown, CardNode> {
  return new Map(walk(card).filter((n) => String(n.type).startsWith('Input.')).map((n) => [n.id, n]));
}

function submitOf(card: CardNode): CardNode {
  const actions = walk(card).filter((n) => String(n.type).startsWith('Action.'));
  expect(actions).toHaveLength(1);
  expect(actions[0]?.type).toBe('Action.Submit');
  return actions[0] as CardNode;
}

const filled = {
  'field.category': 'arrest',
  'field.priority': 'P1',
  'field.name': 'John Smith',
  'field.reporter': 'police',
};

describe('"Log as case" message action', () => {
  test('fetchTask opens the case form in a dialog, the summary filled in from the message, submitted with Action.Submit', async () => {
    const r = await post(api, fetchTask(officer));
    expect(r.status).toBe(200);
    const { info, card } = taskCard(r.body);
    expect(info.title).toBe('Log a case');
    expect(info.height).toBe('large');
    const fields = inputs(card);
    const summary = String(fields.get('field.summary')?.value);
    expect(summary).toContain('Citizen arrested & held');
    expect(summary).toMatch(/^Message from Ana at 2026-01-01 10:10 UTC:\n/);
    expect(summary).toContain('Link: https://teams.microsoft.com/l/message/');
    expect(fields.get('field.name')?.value).toBeUndefined();
    expect(fields.get('field.category')?.type).toBe('Input.ChoiceSet');
    // No Action.Execute anywhere: a dialog does not support it.
    expect(walk(card).some((n) => n.type === 'Action.Execute')).toBe(false);
    expect(submitOf(card).data).toMatchObject({ command: 'case new', verb: 'duty.form' });
    // The message action's conversation is not the member's 1:1 chat, nor one to remember.
    await expect(server.core.conversations.recall('teams', `member:${officer.aad}`)).resolves.toBeUndefined();
    await expect(server.core.conversations.recall('teams', `conversation:${CHANNEL.conversationId}`)).resolves.toBeUndefined();
    expect(fake.messages()).toHaveLength(0);
  });

  test('an unregistered person is told so in the dialog', async () => {
    const r = await post(api, fetchTask(stranger));
    expect(r.status).toBe(200);
    const { card } = taskCard(r.body);
    expect(texts(card).join('\n')).toContain('not registered');
    expect(walk(card).some((n) => String(n.type).startsWith('Action.'))).toBe(false);
  });

  test('a submission without the name comes back as the form, the error beside the field and what was typed kept', async () => {
    const { card: form } = taskCard((await post(api, fetchTask(officer))).body);
    const data = submitOf(form).data as Json;
    const summary = String(inputs(form).get('field.summary')?.value);
    const r = await post(api, submitAction(officer, { ...data, ...filled, 'field.name': '', 'field.summary': summary }));
    expect(r.status).toBe(200);
    const { card } = taskCard(r.body);
    const body = card.body as CardNode[];
    const at = body.findIndex((n) => n.id === 'field.name');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(body.slice(at + 1, at + 3).some((n) => n.type === 'TextBlock' && n.color === 'attention')).toBe(true);
    expect(body.find((n) => n.id === 'field.category')?.value).toBe('arrest');
    expect(String(body.find((n) => n.id === 'field.summary')?.value)).toContain('Citizen arrested & held');
    submitOf(card);
    expect((await server.core.store.cases.list({}, 'newest', 5)).total).toBe(0);
  });

  test('a complete submission logs the case, closes the dialog and sends the case to the 1:1 chat', async () => {
    // The officer's 1:1 chat with the bot becomes known when they write in it.
    await post(api, messageActivity(fake.url, officer, 'duty me'));
    await fake.waitFor((c) => c.body.type === 'message');
    fake.reset();

    const { card: form } = taskCard((await post(api, fetchTask(officer))).body);
    const summary = String(inputs(form).get('field.summary')?.value);
    const r = await post(api, submitAction(officer, { ...(submitOf(form).data as Json), ...filled, 'field.summary': summary }));
    expect(r.status).toBe(200);
    // No task: the dialog closes.
    expect((r.body as { task?: unknown } | undefined)?.task).toBeUndefined();

    const { rows } = await server.core.store.cases.list({}, 'newest', 5);
    expect(rows).toHaveLength(1);
    const [created] = rows;
    expect(created).toMatchObject({ category: 'arrest', priority: 'P1', reporter: 'police' });
    expect(JSON.stringify(created)).toContain('Citizen arrested & held');

    const [sent] = await fake.waitFor((c) => c.body.type === 'message');
    expect(sent?.conversationId).toBe(`a:personal-${officer.aad}`);
    expect(texts(cardOf(sent?.body as Json)).join('\n')).toMatch(/Case C-\d{4}-\d{5} logged/);
    // Nothing in the channel the message came from.
    expect(fake.messages().filter((c) => c.channel === '19:ops@thread.tacv2')).toHaveLength(0);
  });

  test('without a known 1:1 chat the result stays in the dialog, without buttons', async () => {
    const { card: form } = taskCard((await post(api, fetchTask(quiet))).body);
    const summary = String(inputs(form).get('field.summary')?.value);
    const r = await post(api, submitAction(quiet, { ...(submitOf(form).data as Json), ...filled, 'field.name': 'Jane Roe', 'field.summary': summary }));
    expect(r.status).toBe(200);
    const { card } = taskCard(r.body);
    expect(texts(card).join('\n')).toMatch(/Case C-\d{4}-\d{5} logged/);
    expect(walk(card).some((n) => String(n.type).startsWith('Action.'))).toBe(false);
    expect(fake.messages()).toHaveLength(0);
  });
});
