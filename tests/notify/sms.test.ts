// SmsNotifier over the wire to the loopback provider fake (form fields, basic auth, how each
// answer is classified), and the inbound webhook helpers: Twilio's signature and TwiML.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { message } from '../../src/domain/reply';
import { SmsNotifier, renderSms, twilioSignature, twimlMessage, verifyTwilioSignature } from '../../src/notify/sms';
import { postInboundSms, startSmsFake, type SmsFake } from '../helpers/sms-fake';
import { REPLY } from './rig';

let sms: SmsFake;
const notifiers: SmsNotifier[] = [];

function notifier(opts: { url?: string; timeoutMs?: number } = {}): SmsNotifier {
  const n = new SmsNotifier({ url: opts.url ?? sms.url, from: '+15550000001', ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  notifiers.push(n);
  return n;
}

beforeAll(async () => {
  sms = await startSmsFake();
});
afterAll(() => sms.close());
afterEach(() => {
  for (const n of notifiers.splice(0)) n.close();
  sms.reset();
});

describe('sending', () => {
  test('a form POST of To, From and Body with basic auth from the URL; the sid is the provider id', async () => {
    const r = await notifier().send('+233201234567', REPLY);
    const [sent] = await sms.waitFor(1);
    expect(sent).toMatchObject({ to: '+233201234567', from: '+15550000001', body: 'Handoff: You are on duty from 18:00.' });
    expect(r).toEqual({ ok: true, providerId: sent?.sid });
    const [req] = sms.requests;
    expect(req).toMatchObject({ user: sms.user, password: sms.password, contentType: 'application/x-www-form-urlencoded', accept: 'application/json' });
    // The credentials went in the header, not in the request line.
    expect(req?.path).toBe(new URL(sms.baseUrl).pathname);
  });

  test('keep-alive: many sends, each once', async () => {
    const n = notifier();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => n.send(`+1555000${String(i).padStart(4, '0')}`, message({ fallback: `page ${i}`, visibility: 'direct' }))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sms.messages.map((m) => m.body).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `page ${i}`).sort());
  });

  test('wrong credentials: a final failure with the provider message', async () => {
    const wrong = new URL(sms.url);
    wrong.password = 'nope';
    expect(await notifier({ url: wrong.toString() }).send('+15551234567', REPLY)).toEqual({ ok: false, retryable: false, error: 'SMS provider answered HTTP 401: Authenticate' });
  });

  test('429 is retryable after Retry-After', async () => {
    sms.script({ status: 429, headers: { 'Retry-After': '12' }, body: { code: 20429, message: 'Too Many Requests' } });
    expect(await notifier().send('+15551234567', REPLY)).toEqual({ ok: false, retryable: true, retryAfterMs: 12_000, error: 'SMS provider answered HTTP 429 (rate limit)' });
    expect(sms.messages).toHaveLength(0);
  });

  test('503 is retryable; another 5xx leaves the outcome unknown', async () => {
    sms.script({ status: 503, body: {} }, { status: 500, body: { message: 'oops' } }, { status: 502 });
    const n = notifier();
    expect(await n.send('+15551234567', REPLY)).toMatchObject({ ok: false, retryable: true, error: 'SMS provider answered HTTP 503' });
    for (const status of [500, 502]) {
      const r = await n.send('+15551234567', REPLY);
      expect(r).toMatchObject({ ok: false, retryable: false, unknownOutcome: true });
      expect(r.ok ? '' : r.error).toBe(`SMS provider answered HTTP ${status}: outcome unknown, not resent`);
    }
  });

  test("400 is final, and names the provider's reason", async () => {
    sms.script({ status: 400, body: { code: 21211, message: "The 'To' number +1555 is not a valid phone number.", status: 400 } });
    expect(await notifier().send('+1555', REPLY)).toEqual({ ok: false, retryable: false, error: "SMS provider answered HTTP 400: The 'To' number +1555 is not a valid phone number." });
  });

  test('no answer within the timeout: outcome unknown, not retryable', async () => {
    sms.script('hang');
    const started = Date.now();
    const r = await notifier({ timeoutMs: 300 }).send('+15551234567', REPLY);
    expect(r).toEqual({ ok: false, retryable: false, unknownOutcome: true, error: 'SMS provider: timed out after 300 ms: outcome unknown, not resent' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(sms.requests).toHaveLength(1);
  });

  test('no provider listening: retryable, nothing was sent', async () => {
    const s = http.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const r = await notifier({ url: `http://u:p@127.0.0.1:${port}/Messages.json` }).send('+15551234567', REPLY);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.ok ? '' : r.error).toMatch(/^could not reach the SMS provider/);
  });
});

describe('renderSms', () => {
  test('the fallback, else title and text, on one line', () => {
    expect(renderSms(message({ fallback: 'PAGE 42: flood', title: 'ignored', visibility: 'direct' }))).toBe('PAGE 42: flood');
    expect(renderSms(message({ title: 'Page', text: 'Flood in\n\nTema  district', visibility: 'direct' }))).toBe('Page: Flood in Tema district');
    expect(renderSms(message({ text: 'only text', visibility: 'direct' }))).toBe('only text');
    expect(renderSms(message({ visibility: 'direct' }))).toBe('Duty Desk');
  });

  test('at most 320 characters, cut with an ellipsis and never inside an emoji', () => {
    const long = renderSms(message({ text: 'word '.repeat(100), visibility: 'direct' }));
    expect(long.length).toBeLessThanOrEqual(320);
    expect(long.endsWith('…')).toBe(true);
    const emoji = renderSms(message({ text: '🚨'.repeat(400), visibility: 'direct' }));
    expect(Array.from(emoji)).toHaveLength(320);
    expect(emoji).toBe(`${'🚨'.repeat(319)}…`);
  });
});

describe('inbound webhook helpers', () => {
  // Twilio's documented example: auth token 12345, this URL and these parameters. The docs have
  // shown it with two sets of phone numbers over the years; both signatures are Twilio's.
  const URL_ = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  test.each([
    ['+14158675309', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
    ['+12349013030', '0/KCTR6DLpKmkAf8muzZqo1nDgQ='],
  ])("Twilio's documented example (caller %s)", (caller, signature) => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: caller, Digits: '1234', From: caller, To: '+18005551212' };
    expect(twilioSignature('12345', URL_, params)).toBe(signature);
    // Parameter order does not matter: they are sorted by name.
    const reversed = Object.fromEntries(Object.entries(params).reverse());
    expect(verifyTwilioSignature('12345', URL_, reversed, signature)).toBe(true);
    expect(verifyTwilioSignature('12345', URL_, { ...params, Digits: '9999' }, signature)).toBe(false);
    expect(verifyTwilioSignature('54321', URL_, params, signature)).toBe(false);
    expect(verifyTwilioSignature('12345', `${URL_}&baz=3`, params, signature)).toBe(false);
    expect(verifyTwilioSignature('12345', URL_, params, undefined)).toBe(false);
    expect(verifyTwilioSignature('12345', URL_, params, 'short')).toBe(false);
    expect(verifyTwilioSignature('', URL_, params, signature)).toBe(false);
    // Signed with the default port, checked without it (and the other way round).
    expect(verifyTwilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params, signature)).toBe(true);
    const withPort = twilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params);
    expect(verifyTwilioSignature('12345', URL_, params, withPort)).toBe(true);
    expect(verifyTwilioSignature('12345', 'https://mycompany.com:8443/myapp.php?foo=1&bar=2', params, signature)).toBe(false);
  });

  test('TwiML replies are escaped XML', () => {
    const xml = twimlMessage('Ack <42> & "done" it\'s');
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Ack &lt;42&gt; &amp; &quot;done&quot; it&apos;s</Message></Response>');
    expect(new XMLParser().parse(xml)).toMatchObject({ Response: { Message: 'Ack <42> & "done" it\'s' } });
    expect(twimlMessage()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  });

  test('a signed inbound SMS from the fake passes verification; a forged one does not', async () => {
    const token = 'inbound-token';
    const seen: boolean[] = [];
    // What the bot's POST /sms/inbound will do with the helpers.
    const bot = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        const ok = verifyTwilioSignature(token, `https://duty.example/sms/inbound`, params, req.headers['x-twilio-signature'] as string | undefined);
        seen.push(ok);
        res.writeHead(ok ? 200 : 403, { 'content-type': 'text/xml' });
        res.end(ok ? twimlMessage(`Got: ${params.Body ?? ''}`) : '');
      });
    });
    await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
    try {
      const local = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/sms/inbound`;
      const params = { From: '+233201234567', To: '+15550000001', Body: 'ACK 42 <now>', MessageSid: 'SM1' };
      const good = await postInboundSms(local, token, params, { signedUrl: 'https://duty.example/sms/inbound' });
      expect(good).toEqual({ status: 200, contentType: 'text/xml', body: twimlMessage('Got: ACK 42 <now>') });
      expect((await postInboundSms(local, 'wrong-token', params, { signedUrl: 'https://duty.example/sms/inbound' })).status).toBe(403);
      expect((await postInboundSms(local, token, params, { signature: null })).status).toBe(403);
      expect(seen).toEqual([true, false, false]);
    } finally {
      await new Promise<void>((resolve) => bot.close(() => resolve()));
    }
  });
});
