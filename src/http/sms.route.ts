// POST /sms/inbound: replies to pages, forwarded by a Twilio-compatible provider. Signed with
// SMS_AUTH_TOKEN (X-Twilio-Signature over PUBLIC_BASE_URL + path); unsigned requests are refused.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { answerSms } from '../handlers/page/sms-reply';
import type { PagingDeps } from '../handlers/page/page.service';
import type { Logger } from '../logger';
import { twimlMessage, verifyTwilioSignature, type WebhookParams } from '../notify/sms';

export interface SmsRouteOptions {
  authToken?: string;
  /** The public base URL the provider posts to (the signature covers it). */
  publicBaseUrl?: string;
  clock: () => Date;
}

export function smsInboundRoute(deps: PagingDeps, logger: Logger, opts: SmsRouteOptions): express.RequestHandler[] {
  const log = logger.child({ component: 'sms-inbound' });
  return [
    express.urlencoded({ extended: false, limit: '64kb' }),
    (req, res) => {
      if (!opts.authToken) {
        log.warn('an inbound SMS arrived but SMS_AUTH_TOKEN is not set; refused');
        res.status(403).type('text/plain').send('inbound SMS is not enabled\n');
        return;
      }
      const params = (req.body ?? {}) as WebhookParams;
      const base = opts.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      const url = `${base.replace(/\/$/, '')}${req.originalUrl}`;
      if (!verifyTwilioSignature(opts.authToken, url, params, req.get('x-twilio-signature'))) {
        log.warn('an inbound SMS with a bad signature was refused');
        res.status(403).type('text/plain').send('bad signature\n');
        return;
      }
      const from = typeof params.From === 'string' ? params.From : '';
      const body = typeof params.Body === 'string' ? params.Body : '';
      const requestId = randomUUID();
      void answerSms(deps, from, body, requestId, opts.clock())
        .then((text) => {
          // The number and the text are personal data: not logged.
          log.info({ requestId }, 'inbound SMS answered');
          res.type('text/xml').send(twimlMessage(text));
        })
        .catch((err: unknown) => {
          log.error({ err, requestId }, 'inbound SMS failed');
          res.type('text/xml').send(twimlMessage(`Duty Desk could not process that (ref ${requestId.slice(0, 8)}). Answer in Slack or Teams.`));
        });
    },
  ];
}
