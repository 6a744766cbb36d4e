import type { Format } from './format.js';
import { parseBoolean, parseTime } from './row.js';

// Substack's "Export" on the subscribers page: email, active_subscription, expiry, plan, email_disabled,
// created_at (or subscription_created_at), first_payment_at and payment columns.
//
// active_subscription, expiry and plan are about a paid plan: a free reader, and a paid one whose plan
// lapsed, has active_subscription=false and still gets the newsletter. Only email_disabled=true says
// the reader turned email off. The paid columns stay as attributes, so paid readers can still be told
// apart: {{subscriber.attributes.active_subscription}}, {{subscriber.attributes.plan}}.
export const substackFormat: Format = {
  name: 'substack',
  title: 'Substack',
  emailColumns: ['email'],
  mapped: ['email', 'email disabled', 'created at', 'subscription created at', 'name'],
  detect: (columns) => columns.has('email') && (columns.has('email disabled') || columns.has('active subscription')),
  map(row) {
    const withdrawn = parseBoolean(row.get('email disabled')) === true ? 'substack: email disabled' : undefined;
    return {
      email: '',
      name: row.get('name'),
      status: withdrawn ? 'unsubscribed' : 'subscribed',
      attributes: row.rest(),
      consentSource: 'substack',
      consentAt: parseTime(row.first('subscription created at', 'created at')),
      withdrawnHow: withdrawn,
    };
  },
};
