/**
 * Postmark's bounce and spam complaint webhooks as documented
 * (https://postmarkapp.com/developer/webhooks/bounce-webhook, …/spam-complaint-webhook): a JSON
 * record per event, authenticated only by the basic auth credentials written into the webhook URL.
 */
export const POSTMARK_USER = 'postmark';
export const POSTMARK_PASSWORD = 'a-long-random-webhook-password-0193';

let serial = 4323372036854775000n;

export function basicAuth(user = POSTMARK_USER, password = POSTMARK_PASSWORD): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** A bounce record; ID is a 64-bit integer, written as a JSON number as Postmark writes it. */
export function postmarkBounce(options: { email: string; type?: string; typeCode?: number; details?: string; id?: bigint; recordType?: string; messageId?: string }): string {
  const id = options.id ?? ++serial;
  const type = options.type ?? 'HardBounce';
  const record = {
    RecordType: options.recordType ?? 'Bounce',
    MessageStream: 'broadcast',
    ID: '__ID__',
    Type: type,
    TypeCode: options.typeCode ?? 1,
    Name: type === 'HardBounce' ? 'Hard bounce' : type,
    Tag: '',
    MessageID: options.messageId ?? 'a8c1040e-db1c-4e18-ac79-bc5f64c7ce2c',
    Metadata: {},
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: options.details ?? "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    Email: options.email,
    From: 'news@gazette.example',
    BouncedAt: new Date().toISOString(),
    DumpAvailable: false,
    Inactive: true,
    CanActivate: true,
    Subject: 'Bridge reopens',
  };
  return JSON.stringify(record).replace('"__ID__"', id.toString());
}

export function postmarkComplaint(email: string, id?: bigint): string {
  return postmarkBounce({ email, recordType: 'SpamComplaint', type: 'SpamComplaint', typeCode: 100001, details: 'Test spam complaint details', id });
}

export function postmarkDelivery(email: string): string {
  return JSON.stringify({ RecordType: 'Delivery', ServerID: 23, MessageStream: 'broadcast', MessageID: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817', Recipient: email, Tag: '', DeliveredAt: new Date().toISOString(), Details: 'Test delivery webhook details', Metadata: {} });
}
