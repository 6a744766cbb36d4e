import type { Format } from './format.js';
import { parseBoolean, parseTime } from './row.js';

// Substack's "Export" on the subscribers page: email, active_subscription, expiry, plan, email_disabled,
// created_at (or subscription_created_at), first_payment_at and payment columns.
export const substackFormat: Format = {
  name: 'substack',
  title: 'Substack',
  emailColumns: ['email'],
  mapped: ['email', 'active subscription', 'email disabled', 'created at', 'subscription created at', 'name'],
  detect: (columns) => columns.has('email') && (columns.has('email disabled') || columns.has('active subscription')),
  map(row) {
    const disabled = parseBoolean(row.get('email disabled'));
    const active = parseBoolean(row.get('active subscription'));
    const withdrawn = disabled === true ? 'substack: email disabled' : active === false ? 'substack: subscription not active' : undefined;
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
