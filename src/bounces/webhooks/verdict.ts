import { classifyAnswer, type Kind, type Verdict } from '../classify.js';

/**
 * From what a provider says to a Verdict. The provider decides whether an address is dead: it
 * saw the remote server's answer, retried, and keeps its own suppression list. Where it passes on
 * the remote server's words, they are read by the same classifier as mailed reports, and may show
 * one thing more: that the refusal was about the sender (a blocklisting, a policy, the content),
 * which is never held against the reader, whatever the provider called it.
 */
export function verdict(kind: Kind, said: { status?: string; diagnostic?: string; /** false when the text is the provider's own explanation, not the server's words */ fromServer?: boolean } = {}): Verdict {
  const status = said.status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(said.status) ? said.status : undefined;
  const diagnostic = said.diagnostic?.replace(/^smtp;\s*/i, '').replace(/\s+/g, ' ').trim().slice(0, 500) || undefined;
  const words = said.fromServer === false ? undefined : diagnostic;
  let refined = kind;
  if ((kind === 'hard' || kind === 'soft') && (status || words) && classifyAnswer(status, words).kind === 'sender') refined = 'sender';
  const code = diagnostic ? /\b([245]\d\d)\b/.exec(diagnostic)?.[1] : undefined;
  return { kind: refined, ...(status ? { status } : {}), ...(code ? { code } : {}), ...(diagnostic ? { diagnostic } : {}) };
}

/** An event that changes nothing (a delivery, an open, a type digest does not act on), with why. */
export function nothing(why: string): Verdict {
  return { kind: 'not-report', diagnostic: why };
}

/**
 * Amazon SES's bounce types (bounceType, bounceSubType), which Resend reports too, as it sends
 * through SES:
 * - `Permanent` (General, NoEmail, Suppressed, OnAccountSuppressionList): hard. The last two mean
 *   SES did not even try, because the address bounced (or was put on the account's list) before:
 *   nothing will reach it through this account;
 * - `Transient` MailboxFull and General: soft (General includes servers that are down);
 * - `Transient` MessageTooLarge, ContentRejected, AttachmentRejected: sender, the message's fault;
 * - `Undetermined` (SES could not tell why): soft. One holds nothing against the reader; the same
 *   again and again within the window (softBounces) means the address does not take mail.
 */
export function amazonBounceKind(type: string | undefined, subType: string | undefined): Kind {
  const sub = (subType ?? '').toLowerCase();
  switch ((type ?? '').toLowerCase()) {
    case 'permanent':
      return 'hard';
    case 'transient':
      return sub === 'messagetoolarge' || sub === 'contentrejected' || sub === 'attachmentrejected' ? 'sender' : 'soft';
    default:
      return 'soft';
  }
}
