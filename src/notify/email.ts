// Email delivery over SMTP (nodemailer's pooled transport, from SMTP_URL). A send is at most
// once: a connection lost after the message body started going out leaves the outcome unknown.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as Nodemailer from 'nodemailer';
import type { MessageReply } from '../domain/reply';
import { notDelivered, outcomeUnknown, type DeliveryResult } from './types';

export interface EmailNotifierOptions {
  /** SMTP_URL: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465. */
  url: string;
  /** EMAIL_FROM. Default "Duty Desk <duty-desk@<SMTP host>>". */
  from?: string;
  /** Limit on connecting, the greeting and each wait for the server. Default 30 s. */
  timeoutMs?: number;
  /** Pooled connections. Default 5. */
  maxConnections?: number;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const SUBJECT_MAX = 150;

/** Failures that mean the server will not take this message, whatever the moment. */
const FINAL_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'EMAXRECIPIENTS', 'EREQUIRETLS']);

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Escaped, with line breaks kept. */
function htmlText(s: string): string {
  return escapeHtml(s).replace(/\r?\n/g, '<br>\n');
}

/** Email cannot press buttons: each becomes the command to type instead. */
function buttonLine(b: { label: string; command: string }): string {
  return `To ${b.label.toLowerCase()}: ${b.command}`;
}

/** A reply as an email: the same content as in chat, buttons as commands to type. Pure. */
export function renderEmail(reply: MessageReply): RenderedEmail {
  const firstLine = reply.text?.split('\n').find((l) => l.trim() !== '');
  const subject = cut(oneLine(reply.fallback ?? reply.title ?? firstLine ?? reply.error?.message ?? 'Duty Desk'), SUBJECT_MAX);

  const text: string[] = [];
  const html: string[] = [];
  const block = (t: string[], h: string): void => {
    if (text.length) text.push('');
    text.push(...t);
    html.push(h);
  };
  if (reply.title) block([reply.title], `<h2>${escapeHtml(reply.title)}</h2>`);
  if (reply.text) block([reply.text], `<p>${htmlText(reply.text)}</p>`);
  else if (reply.error) block([reply.error.message], `<p>${htmlText(reply.error.message)}</p>`);
  if (reply.fields?.length) {
    block(
      reply.fields.map((f) => `${f.label}: ${f.value}`),
      `<table>\n${reply.fields.map((f) => `<tr><th align="left">${escapeHtml(f.label)}</th><td>${htmlText(f.value)}</td></tr>`).join('\n')}\n</table>`,
    );
  }
  for (const row of reply.rows ?? []) {
    const lines = [row.text, ...(row.fields ?? []).map((f) => `  ${f.label}: ${f.value}`), ...(row.buttons ?? []).map((b) => `  ${buttonLine(b)}`)];
    const details = [...(row.fields ?? []).map((f) => `${escapeHtml(f.label)}: ${htmlText(f.value)}`), ...(row.buttons ?? []).map((b) => `${escapeHtml(`To ${b.label.toLowerCase()}:`)} <code>${escapeHtml(b.command)}</code>`)];
    block(lines, `<p>${htmlText(row.text)}${details.map((d) => `<br>\n&nbsp;&nbsp;${d}`).join('')}</p>`);
  }
  if (reply.buttons?.length) {
    block(
      reply.buttons.map(buttonLine),
      `<p>${reply.buttons.map((b) => `${escapeHtml(`To ${b.label.toLowerCase()}:`)} <code>${escapeHtml(b.command)}</code>`).join('<br>\n')}</p>`,
    );
  }
  if (!text.length) block([subject], `<p>${escapeHtml(subject)}</p>`);
  return { subject, text: `${text.join('\n')}\n`, html: `<!doctype html>\n<html><body>\n${html.join('\n')}\n</body></html>\n` };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * A nodemailer error as a delivery result. An SMTP reply decides when there is one (4xx: not
 * accepted this time; 5xx: refused). Otherwise the connection failed: before the message body
 * went out nothing was delivered, after it the server may have taken the message.
 */
export function classifyEmailError(err: unknown, bodyStarted: boolean): DeliveryResult {
  const message = err instanceof Error ? err.message : String(err);
  const code = isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
  const responseCode = isRecord(err) && typeof err.responseCode === 'number' ? err.responseCode : undefined;
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) return notDelivered(`SMTP server deferred the message: ${message}`, true);
  if (responseCode !== undefined && responseCode >= 500) return notDelivered(`SMTP server refused the message: ${message}`);
  if (code !== undefined && FINAL_CODES.has(code)) return notDelivered(`email not sent: ${message}`);
  if (bodyStarted) return outcomeUnknown(`SMTP connection lost while sending the message: ${message}`);
  return notDelivered(`could not reach the SMTP server: ${message}`, true);
}

/** "Duty Desk <duty-desk@example.org>" → "example.org". */
function domainOf(from: string): string {
  return /@([^\s>]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

export class EmailNotifier {
  readonly from: string;
  private readonly transport;
  private readonly domain: string;
  /** Per message id: the message stream the transport reads, once it exists. */
  private readonly inFlight = new Map<string, { stream?: Readable }>();

  constructor(opts: EmailNotifierOptions) {
    const host = new URL(opts.url).hostname;
    this.from = opts.from ?? `Duty Desk <duty-desk@${host}>`;
    this.domain = domainOf(this.from);
    const timeout = opts.timeoutMs ?? 30_000;
    // Loaded only when SMTP is set up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deferred load, typed by the cast
    const { createTransport } = require('nodemailer') as typeof Nodemailer;
    this.transport = createTransport({
      url: opts.url,
      pool: true,
      maxConnections: opts.maxConnections ?? 5,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    // The transport pipes the message stream into the connection only once the server has
    // accepted DATA (354). Until then the stream is unread, and nothing can have been delivered:
    // the same test nodemailer's pool uses before it requeues a message.
    this.transport.use('stream', (mail, done) => {
      const tracker = this.inFlight.get(mail.message.messageId());
      if (tracker) {
        mail.message.processFunc((input) => {
          tracker.stream = input;
          return input;
        });
      }
      done();
    });
  }

  async send(address: string, reply: MessageReply): Promise<DeliveryResult> {
    const { subject, text, html } = renderEmail(reply);
    const messageId = `<${randomUUID()}@${this.domain}>`;
    const tracker: { stream?: Readable } = {};
    this.inFlight.set(messageId, tracker);
    try {
      const info = await this.transport.sendMail({ from: this.from, to: address, subject, text, html, messageId });
      return { ok: true, providerId: info.messageId || messageId };
    } catch (err) {
      return classifyEmailError(err, tracker.stream?.readableDidRead === true);
    } finally {
      this.inFlight.delete(messageId);
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    this.transport.close();
  }
}
