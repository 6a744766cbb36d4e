/**
 * Resend's webhooks as documented (https://resend.com/docs/webhooks/introduction), delivered and
 * signed by Svix (https://docs.svix.com/receiving/verifying-payloads/how-manual): `svix-signature`
 * is `v1,<base64 HMAC-SHA256 of "svix-id.svix-timestamp.body">`, keyed with the base64 after
 * `whsec_` in the secret.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export const RESEND_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

export function svixHeaders(body: string, options: { id?: string; timestamp?: number; secret?: string } = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomBytes(12).toString('base64url')}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from((options.secret ?? RESEND_SECRET).slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': timestamp, 'svix-signature': `v1,${signature}` };
}

function email(type: string, to: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: { created_at: new Date().toISOString(), email_id: randomUUID(), message_id: `<${randomUUID()}@email.amazonses.com>`, from: 'Test Gazette <news@gazette.example>', to: [to], subject: 'Bridge reopens', ...extra },
  });
}

export function resendBounced(to: string, bounce: { type?: string; subType?: string; message?: string } = {}): string {
  return email('email.bounced', to, {
    bounce: {
      type: bounce.type ?? 'Permanent',
      subType: bounce.subType ?? 'General',
      message:
        bounce.message ??
        "The recipient's email provider sent a hard bounce message, but didn't specify the reason for the hard bounce. We recommend removing the recipient's email address from your mailing list. Sending messages to addresses that produce hard bounces can have a negative impact on your reputation as a sender.",
    },
  });
}

export function resendComplained(to: string): string {
  return email('email.complained', to);
}

export function resendDelivered(to: string): string {
  return email('email.delivered', to);
}
