// Bot Framework activities as Teams sends them, and a way to post them over HTTP.
import crypto from 'node:crypto';

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const ADMIN_AAD = '00000000-0000-0000-0000-0000000000aa';
export const BOT_ID = '28:duty-desk-bot';

export interface Person {
  aad: string;
  name: string;
}

export const admin: Person = { aad: ADMIN_AAD, name: 'Ana Admin' };

export interface Where {
  conversationId?: string;
  conversationType?: 'personal' | 'groupChat' | 'channel';
  tenant?: string;
}

// Activities are open-ended JSON on the wire.
export type Json = Record<string, unknown>;

function envelope(serviceUrl: string, from: Person, where: Where = {}): Json {
  const tenant = where.tenant ?? TENANT;
  const conversationType = where.conversationType ?? 'personal';
  return {
    id: `act-${crypto.randomUUID()}`,
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl,
    from: { id: `29:${from.aad}`, name: from.name, aadObjectId: from.aad },
    recipient: { id: BOT_ID, name: 'Duty Desk' },
    conversation: {
      id: where.conversationId ?? `a:personal-${from.aad}`,
      conversationType,
      tenantId: tenant,
      ...(conversationType === 'channel' ? { isGroup: true } : {}),
    },
    channelData: { tenant: { id: tenant } },
    locale: 'en-GB',
  };
}

export function messageActivity(serviceUrl: string, from: Person, text: string, where: Where = {}, entities: Json[] = []): Json {
  return { ...envelope(serviceUrl, from, where), type: 'message', text, textFormat: 'plain', ...(entities.length ? { entities } : {}) };
}

export function botMention(): Json {
  return { type: 'mention', text: '<at>Duty Desk</at>', mentioned: { id: BOT_ID, name: 'Duty Desk' } };
}

export function personMention(p: Person): Json {
  return { type: 'mention', text: `<at>${p.name}</at>`, mentioned: { id: `29:${p.aad}`, name: p.name, aadObjectId: p.aad } };
}

export function actionActivity(serviceUrl: string, from: Person, verb: string, data: Json, where: Where = {}): Json {
  return {
    ...envelope(serviceUrl, from, where),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId: 'card-message-1',
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  };
}

export interface Posted {
  status: number;
  body: unknown;
}

export async function post(url: string, activity: Json, headers: Record<string, string> = {}): Promise<Posted> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(activity) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // plain-text answers (botbuilder's 401 message) stay strings
  }
  return { status: res.status, body };
}

// ---- reading cards back

export interface CardNode {
  type?: string;
  [key: string]: unknown;
}

/** Every element and action of a card, depth first. */
export function walk(node: unknown, out: CardNode[] = []): CardNode[] {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, out);
  } else if (typeof node === 'object' && node !== null) {
    const n = node as CardNode;
    if (typeof n.type === 'string') out.push(n);
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v, out);
  }
  return out;
}

export function cardOf(activityBody: Json): CardNode {
  const attachments = activityBody.attachments as Array<{ contentType: string; content: CardNode }> | undefined;
  const a = attachments?.[0];
  if (!a) throw new Error(`no attachment in ${JSON.stringify(activityBody).slice(0, 300)}`);
  expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
  return a.content;
}

export function texts(card: CardNode): string[] {
  return walk(card)
    .filter((n) => n.type === 'TextBlock')
    .map((n) => String(n.text));
}
