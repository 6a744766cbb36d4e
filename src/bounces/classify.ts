import type { DsnRecipient, Report } from './report.js';

/**
 * What a report means for one recipient:
 * - `hard`: the address is dead (no such user, no such domain, moved): the reader becomes bounced;
 * - `soft`: it may work later (a full mailbox, a server down, a delay): counted, bounced only after
 *   several within a window;
 * - `sender`: a refusal about the sender, not the address (blocked, spam, policy, authentication,
 *   reputation): reported loudly, never held against the reader; one blocklisting must not empty
 *   the list;
 * - `complaint`: the reader marked a message as spam (ARF): never mailed again;
 * - `auto-reply`, `not-report`: nothing to do.
 */
export type Kind = 'hard' | 'soft' | 'sender' | 'complaint' | 'auto-reply' | 'not-report';

export interface Verdict {
  kind: Kind;
  /** Enhanced status code (`5.1.1`) when the report gives or the text holds one. */
  status?: string;
  /** The SMTP reply code (`550`). */
  code?: string;
  /** The remote server's words, or why this is no bounce. */
  diagnostic?: string;
}

// The address is gone. Checked before the sender's faults: "550 5.7.1 user unknown" is about the user.
const DEAD =
  /\b(user|recipient|address|mailbox|account|userid)s? (is )?(unknown|not found|does not exist|doesn'?t exist|not exist|invalid|not listed)\b|\bunknown (user|recipient|address|local[- ]part|mailbox)|\bno such (user|address|account|mailbox|recipient|domain|person)|\binvalid (final delivery )?(recipient|mailbox|address|user|userid)|\b(mailbox|recipient) (not found|unavailable)|\bdoes not exist\b|\bdoesn'?t exist\b|\bno mailbox\b|\bunrouteable address|\bnot a valid (mailbox|recipient|user)|\b(host|domain) (or domain name )?(not found|unknown|is not reachable)|\bunknown (host|domain)|\bno mx\b|\bnxdomain\b|\bhas moved\b|\bnot our customer|\bbad destination (mailbox|system)|\bno longer (active|available|valid)|\baccount (has been )?(closed|terminated|removed|deleted)|\bundeliverable address|\bno valid recipients?\b|\bnon-?existent\b|\bnot listed in\b|\bdoesn'?t have an? [^ ]+ account|\bcould not be found\b|\bhost not found\b|\bnot exist\b|\bno smtp service|\bdoes not accept mail|\bnot accepting (network )?messages|\bno such user/i;
// It may work later.
const LATER =
  /\b(mailbox|inbox|mail ?box|account|user) (is )?(full|over ?quota)|\bquota\b|\bover ?quota|\binsufficient (system )?storage|\bstorage (limit|exceeded)|\bexceeded (the )?storage|\bout of storage|\btoo many messages|\btemporar(il)?y|\btry (again )?later|\bdeferred\b|\btimed? ?out\b|\bconnection (refused|reset|closed)|\bexpired\b|\bretry (time|timeout)|\bdelayed\b|\bgreylist|\bsuspend|\binactive\b|\b(disabled|deactivated|discontinued|locked)\b|\bname service error/i;
// The sender's fault, or the receiving side's policy about the sender, said plainly.
const SENDER =
  /\bblock(ed|list|listed)?\b|\bblacklist|\bdenylist|\bspam|\bjunk\b|\bpolicy\b|\breputation|\bdmarc\b|\bspf\b|\bdkim\b|\bauthenticat|\bnot (authorized|permitted|allowed)|\bunauthenticated|\bvirus|\bmalware|\brelay(ing)? (access )?(denied|not permitted)|\bopen relay|\btoo many (connections|recipients)|\brate limit|\brate-limit|\bptr\b|\breverse (dns|lookup)|\brdns\b|\bhelo\b|\bstarttls|\btls (is )?required|\brbl\b|\bspamhaus|\bbarracuda|\bcontent (rejected|refused|filter)|\bmessage (content )?rejected|\bbanned|\bprohibited|\bsecurity\b|\bsize (limit|exceeds)|\bmessage (is )?too (big|large)|\bexceeds (the )?(maximum|size|administrative)|\bmedia error|\bmailer error|\bsystem error|\bon hold|\bredundant\b/i;
// "Recipient address rejected" with no reason given: the address, as most servers mean it.
const REJECTED_ADDRESS = /\b(recipient )?address rejected\b/i;
// Refused, with no word of why: held against nobody.
const REFUSED = /\brefused\b|\brejected\b|\bfiltered\b|\bdenied\b/i;
const BOUNCE_SENDER = /mailer-daemon|postmaster|mail delivery (subsystem|system)|mail-daemon|mdaemon|microsoftexchange|bounce/i;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (status notification|failure|has failed|failed|problem)|returned mail|failure notice|mail delivery failed|non[- ]?remis|unzustellbar|not delivered|could not be delivered|returned to sender|delivery notification|mail system error|rejected|warning: message|delayed mail|message delivery/i;

export function classify(report: Report, recipient?: DsnRecipient): Verdict {
  if (report.feedback) {
    const type = report.feedback.type;
    if (type === 'not-spam') return { kind: 'not-report', diagnostic: 'a feedback report saying the message is not spam' };
    // A DMARC failure report (RFC 6591) is about the sending domain's authentication, not a reader.
    if (type === 'auth-failure') return { kind: 'sender', diagnostic: 'a DMARC failure report: the message failed authentication' };
    return { kind: 'complaint', diagnostic: `feedback type ${type}` };
  }
  const action = recipient?.action;
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return { kind: 'not-report', status: recipient?.status, diagnostic: `the report says ${action}` };
  const words = recipient?.diagnostic || errorLines(report.text);
  const bounce = Boolean(recipient) || report.reportType === 'delivery-status' || looksLikeBounce(report, words);
  // Some mail servers mark their bounces Auto-Submitted too: a bounce's shape wins.
  if (report.autoReply && !bounce) return { kind: 'auto-reply', diagnostic: 'an automatic reply (vacation, out of office)' };
  if (!bounce) return { kind: 'not-report', diagnostic: 'neither a delivery report nor a bounce' };
  const status = recipient?.status ?? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(words)?.[1];
  const code = /\b([245]\d\d)[ -]/.exec(words)?.[1] ?? /\b([245]\d\d)\b/.exec(words)?.[1];
  const verdict = (kind: Kind): Verdict => ({ kind, ...(status ? { status } : {}), ...(code ? { code } : {}), ...(words ? { diagnostic: words.slice(0, 500) } : {}) });
  const transient = status?.startsWith('4') || (!status && code?.startsWith('4')) || action === 'delayed';
  if (transient) return verdict('soft');
  if (status?.startsWith('2')) return { kind: 'not-report', status, diagnostic: 'the report says delivered' };
  // The sender's own address refused (5.1.7, 5.1.8) is about us, not the reader.
  if (status === '5.1.7' || status === '5.1.8' || /\bsender (address )?(rejected|unknown|invalid|domain)|\b(unknown|invalid) sender|\bdomain of sender/i.test(words)) return verdict('sender');
  // "User unknown" in answer to the message itself (DATA), not to its recipient (RCPT TO), is a
  // filter speaking, as is KDDI's "550 : User unknown" (no address before the colon).
  const phase = /\b(end of )?DATA\b(?! command\)? ?[:-]? ?rcpt)/.test(words) || /in reply to end of DATA command|after end of data|SMTP command DATA/i.test(report.text) ? 'data' : 'rcpt';
  if (DEAD.test(words) && phase === 'data') return verdict('sender');
  if (/\b550\s*:+\s*:?\s*user unknown/i.test(words)) return verdict('sender');
  const statusSubject = status && status !== '5.0.0' ? Number(status.split('.')[1]) : undefined;
  if (statusSubject === 7 && !/\binvalid recipient/i.test(words)) return verdict('sender');
  if (DEAD.test(words)) return verdict('hard');
  if (LATER.test(words)) return verdict('soft');
  if (SENDER.test(words)) return verdict('sender');
  if (REJECTED_ADDRESS.test(words)) return verdict('hard');
  if (REFUSED.test(words)) return verdict('sender');
  return verdict(byStatus(status, code));
}

/** RFC 3463 classes, where the words say nothing plainer. */
function byStatus(status: string | undefined, code: string | undefined): Kind {
  if (status) {
    const [, subject, detail] = status.split('.').map(Number) as [number, number, number];
    if (subject === 1 && detail !== 7 && detail !== 8) return 'hard'; // addressing: bad mailbox, bad domain, moved
    if (subject === 4 && detail === 4) return 'hard'; // unable to route: no such domain
    if (subject === 7) return 'sender'; // security or policy
    return 'soft'; // mailbox full or disabled, system, network, protocol, content: not a dead address
  }
  if (code === '550' || code === '551' || code === '553') return 'hard';
  return 'soft';
}

function looksLikeBounce(report: Report, words: string): boolean {
  return (
    Boolean(report.failedRecipients.length) ||
    BOUNCE_SENDER.test(report.from) ||
    BOUNCE_SUBJECT.test(report.subject) ||
    /\b[45]\.\d{1,3}\.\d{1,3}\b/.test(words) ||
    (/\b5\d\d\b/.test(words) && DEAD.test(words))
  );
}

/** Where a plain-text bounce stops explaining and quotes the message it returns. */
const QUOTED = /^(-+ ?this is a copy of|-+ ?(original|returned|undelivered) message|original message follows|-+ ?below this line is a copy|-+ ?the header of the original message|content-type: message\/rfc822|received: from )/i;
const ERROR_LINE = /\b[45]\d\d\b|\b[45]\.\d{1,3}\.\d{1,3}\b/;

/**
 * The words of a plain-text bounce that carry the error: from the first line with a reply code or
 * a known phrase, a few lines on (servers fold their answer), before the quoted message.
 */
function errorLines(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (QUOTED.test(line.trim())) break;
    if (line.trim()) lines.push(line.trim());
  }
  const start = lines.findIndex((line) => ERROR_LINE.test(line) || DEAD.test(line) || LATER.test(line));
  const picked = start < 0 ? lines.slice(0, 8) : lines.slice(start, start + 4);
  return picked.join(' ').replace(/\s+/g, ' ').slice(0, 1000);
}
