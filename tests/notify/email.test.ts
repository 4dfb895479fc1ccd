// EmailNotifier over a real SMTP conversation with the loopback fake: what arrives, and how each
// failure is classified (4xx deferred, 5xx refused, a connection lost after the data: unknown).
import net from 'node:net';
import { message } from '../../src/domain/reply';
import { EmailNotifier, classifyEmailError, renderEmail } from '../../src/notify/email';
import { startSmtpFake, type SmtpFake } from '../helpers/smtp-fake';
import { REPLY } from './rig';

let smtp: SmtpFake;
const notifiers: EmailNotifier[] = [];

function notifier(opts: { timeoutMs?: number; url?: string; from?: string } = {}): EmailNotifier {
  const n = new EmailNotifier({ url: opts.url ?? smtp.url, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.from ? { from: opts.from } : {}) });
  notifiers.push(n);
  return n;
}

beforeAll(async () => {
  smtp = await startSmtpFake();
});
afterAll(() => smtp.close());
afterEach(() => {
  for (const n of notifiers.splice(0)) n.close();
  smtp.reset();
});

test('a reply arrives as a text and HTML email from Duty Desk, buttons as commands to type', async () => {
  const r = await notifier().send('alee@example.org', REPLY);
  const [mail] = await smtp.waitFor(1);
  expect(mail?.from).toBe('duty-desk@127.0.0.1');
  expect(mail?.to).toEqual(['alee@example.org']);
  expect(mail?.headers.from).toBe('Duty Desk <duty-desk@127.0.0.1>');
  expect(mail?.subject).toBe('Handoff');
  expect(mail?.text.replace(/\r\n/g, '\n')).toBe(['Handoff', '', 'You are on duty from 18:00.', '', 'Roster: Consular', '', 'To acknowledge: /duty ack 42', ''].join('\n'));
  expect(mail?.html).toContain('<h2>Handoff</h2>');
  expect(mail?.html).toContain('To acknowledge: <code>/duty ack 42</code>');
  expect(r).toEqual({ ok: true, providerId: mail?.headers['message-id'] });
  expect(r.ok && r.providerId).toMatch(/^<[0-9a-f-]+@127\.0\.0\.1>$/);
});

test('EMAIL_FROM is the sender; a non-ASCII subject survives the trip', async () => {
  const reply = message({ title: 'Relève de garde — Sévérine', text: 'Über 18:00 “quoted” <b>not html</b>', visibility: 'direct' });
  expect(await notifier({ from: 'Consular Duty <duty@mission.example>' }).send('bo@example.org', reply)).toMatchObject({ ok: true });
  const [mail] = await smtp.waitFor(1);
  expect(mail?.from).toBe('duty@mission.example');
  expect(mail?.subject).toBe('Relève de garde — Sévérine');
  expect(mail?.text).toContain('Über 18:00 “quoted” <b>not html</b>');
  expect(mail?.html).toContain('Über 18:00 “quoted” &lt;b&gt;not html&lt;/b&gt;');
});

test('many sends share the pool and each arrives once', async () => {
  const n = notifier();
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => n.send(`m${i}@example.org`, message({ title: `Page ${i}`, visibility: 'direct' }))));
  expect(results.every((r) => r.ok)).toBe(true);
  await smtp.waitFor(20);
  expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}@example.org`).sort());
});

test('RCPT refused with 451: retryable, nothing delivered', async () => {
  smtp.rejectRecipient('busy@example.org', 451);
  const r = await notifier().send('busy@example.org', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: true });
  expect(r.ok ? '' : r.error).toMatch(/^SMTP server deferred the message: .*451/);
  expect(smtp.received).toHaveLength(0);
});

test('RCPT refused with 550: final', async () => {
  smtp.rejectRecipient('nobody@example.org', 550);
  const r = await notifier().send('nobody@example.org', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: false });
  expect(r.ok ? '' : r.error).toMatch(/^SMTP server refused the message: .*550/);
  expect(r.ok || r.unknownOutcome).toBeFalsy();
});

test('the data answered 452 is retryable, 554 final; the next message goes through on the same pool', async () => {
  const n = notifier();
  smtp.afterData({ code: 452, message: 'insufficient storage' }, { code: 554, message: 'spam' });
  expect(await n.send('a@example.org', REPLY)).toMatchObject({ ok: false, retryable: true });
  expect(await n.send('a@example.org', REPLY)).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/554/) });
  expect(await n.send('a@example.org', REPLY)).toMatchObject({ ok: true });
  expect(smtp.received).toHaveLength(3);
  expect(smtp.messages).toHaveLength(1);
});

test('the connection dropped after the data: outcome unknown, not retryable', async () => {
  smtp.afterData('drop');
  const r = await notifier().send('alee@example.org', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: false, unknownOutcome: true });
  expect(r.ok ? '' : r.error).toMatch(/outcome unknown/);
  // The server had the whole message: resending could deliver it twice.
  expect(smtp.received).toHaveLength(1);
});

test('no answer after the data: outcome unknown once the timeout passes', async () => {
  smtp.afterData('hang');
  const started = Date.now();
  const r = await notifier({ timeoutMs: 300 }).send('alee@example.org', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: false, unknownOutcome: true });
  expect(r.ok ? '' : r.error).toMatch(/outcome unknown/);
  expect(Date.now() - started).toBeLessThan(5000);
});

test('no server: retryable, nothing was sent', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const r = await notifier({ url: `smtp://127.0.0.1:${port}` }).send('alee@example.org', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: true });
  expect(r.ok ? '' : r.error).toMatch(/^could not reach the SMTP server/);
});

test('a server that closes before its greeting: retryable', async () => {
  const rude = net.createServer((sock) => sock.destroy());
  await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
  try {
    const r = await notifier({ url: `smtp://127.0.0.1:${(rude.address() as net.AddressInfo).port}` }).send('alee@example.org', REPLY);
    expect(r).toMatchObject({ ok: false, retryable: true });
  } finally {
    await new Promise<void>((resolve) => rude.close(() => resolve()));
  }
});

test('an address that is not one: final', async () => {
  const r = await notifier().send('not an address', REPLY);
  expect(r).toMatchObject({ ok: false, retryable: false });
});

describe('classifying nodemailer errors', () => {
  const err = (props: Record<string, unknown>): Error => Object.assign(new Error('x'), props);
  test.each([
    [{ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }, false, true],
    [{ code: 'EAUTH', responseCode: 454 }, false, true],
    [{ code: 'EENVELOPE', responseCode: 550 }, false, false],
    [{ code: 'EAUTH', responseCode: 535 }, false, false],
    [{ code: 'EAUTH', command: 'API' }, false, false],
    [{ code: 'EENVELOPE', command: 'API' }, false, false],
    [{ code: 'ESOCKET', command: 'CONN', originalCode: 'ECONNREFUSED' }, false, true],
    [{ code: 'EDNS', command: 'CONN' }, false, true],
    [{ code: 'ETIMEDOUT', command: 'CONN' }, false, true],
    [{ code: 'ECONNECTION', command: 'CONN' }, false, true],
    [{ code: 'ETIMEDOUT', command: 'CONN' }, true, false],
    [{ code: 'ECONNECTION', command: 'CONN' }, true, false],
    [{ code: 'EMESSAGE', responseCode: 451, command: 'DATA' }, true, true],
  ])('%o (body started: %s) → retryable: %s', (props, bodyStarted, retryable) => {
    const r = classifyEmailError(err(props), bodyStarted);
    expect(r).toMatchObject({ ok: false, retryable });
    if (bodyStarted && !retryable) expect(r).toMatchObject({ unknownOutcome: true });
  });
});

describe('renderEmail', () => {
  test('subject: the fallback, else the title, on one line and at most 150 characters', () => {
    expect(renderEmail(message({ fallback: 'Page: flood in Tema', title: 'Page', visibility: 'direct' })).subject).toBe('Page: flood in Tema');
    expect(renderEmail(message({ title: 'Line one\nline two', visibility: 'direct' })).subject).toBe('Line one line two');
    const long = renderEmail(message({ title: 'x'.repeat(400), visibility: 'direct' })).subject;
    expect(long).toHaveLength(150);
    expect(long.endsWith('…')).toBe(true);
    expect(renderEmail(message({ text: '\nFirst words\nmore', visibility: 'direct' })).subject).toBe('First words');
  });

  test('rows with their fields and buttons; everything escaped in the HTML', () => {
    const r = renderEmail(
      message({
        title: 'Open pages <2>',
        rows: [{ text: 'Page 42 & co', fields: [{ label: 'Since', value: '18:02' }], buttons: [{ label: 'Ack', command: '/duty ack 42' }] }],
        buttons: [{ label: 'Resolve "all"', command: '/duty resolve <all>' }],
        visibility: 'direct',
      }),
    );
    expect(r.text).toBe(['Open pages <2>', '', 'Page 42 & co', '  Since: 18:02', '  To ack: /duty ack 42', '', 'To resolve "all": /duty resolve <all>', ''].join('\n'));
    expect(r.html).toContain('<h2>Open pages &lt;2&gt;</h2>');
    expect(r.html).toContain('Page 42 &amp; co');
    expect(r.html).toContain('To resolve &quot;all&quot;: <code>/duty resolve &lt;all&gt;</code>');
    expect(r.html).not.toMatch(/<all>|<2>/);
  });
});
