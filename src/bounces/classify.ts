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
  /\b(user|recipient|address|mailbox|account|userid)s? (is )?(unknown|not found|does not exist|doesn'?t exist|not exist|invalid|not listed)\b|\bunknown (user|recipient|address|local[- ]part|mailbox)|\bno such (user|address|account|mailbox|recipient|domain|person)|\binvalid (final delivery )?(recipient|mailbox|user|userid)|\b(mailbox|recipient) (not found|unavailable)|\bdoes not exist\b|\bdoesn'?t exist\b|\bno mailbox\b|\bunrouteable address|\bnot a valid (mailbox|recipient|user)|\b(host|domain) (or domain name )?(not found|unknown|is not reachable)|\bunknown (host|domain)|\bno mx\b|\bnxdomain\b|\bhas moved\b|\bnot our customer|\bbad destination (mailbox|system)|\bno longer (active|available|valid)|\baccount (has been )?(closed|terminated|removed|deleted)|\bundeliverable address|\bno valid recipients?\b|\bnon-?existent\b|\bnot listed in\b|\bdoesn'?t have an? [^ ]+ account|\bcould not be found\b|\bhost not found\b|\bnot exist\b|\bno smtp service|\bdoes not accept mail|\bnot accepting (network )?messages|\bno such user/i;
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
// Appliances that filter mail on its way to the mailbox, whose refusals speak for the filter.
const FILTERING_GATEWAY = /\bmcafee\b|\bsurfcontrol\b|\bmxlogic\b|\bactivehunter\b|\bm-?filter\b|\bbarracuda\b|\bironport\b|\bmailfoundry\b|\bmail ?marshal\b/i;
// NTT docomo answers "Unknown user" for mail its domain filter refused.
const CARRIER_FILTER = /\bunknown user [^\s@]+@(?:[a-z0-9.-]*\.)?docomo\b/i;
const BOUNCE_SENDER = /mailer-daemon|postmaster|mail delivery (subsystem|system)|mail-daemon|mdaemon|microsoftexchange|bounce/i;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (status notification|failure|has failed|failed|problem)|returned mail|failure notice|mail delivery failed|non[- ]?remis|unzustellbar|not delivered|could not be delivered|returned to sender|delivery notification|mail system error|rejected|warning: message|delayed mail|message delivery/i;

/**
 * `address`: for a plain-text bounce about several recipients, the one to judge (the reader the
 * report's tag names): only the words about that address count.
 */
export function classify(report: Report, recipient?: DsnRecipient, address?: string): Verdict {
  if (report.feedback) {
    const type = report.feedback.type;
    if (type === 'not-spam') return { kind: 'not-report', diagnostic: 'a feedback report saying the message is not spam' };
    // A DMARC failure report (RFC 6591) is about the sending domain's authentication, not a reader.
    if (type === 'auth-failure') return { kind: 'sender', diagnostic: 'a DMARC failure report: the message failed authentication' };
    return { kind: 'complaint', diagnostic: `feedback type ${type}` };
  }
  const action = recipient?.action;
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return { kind: 'not-report', status: recipient?.status, diagnostic: `the report says ${action}` };
  const words = recipient?.diagnostic || errorLines(report.text, recipient?.address ?? address);
  const bounce = Boolean(recipient) || report.reportType === 'delivery-status' || looksLikeBounce(report, words);
  // Some mail servers mark their bounces Auto-Submitted too: a bounce's shape wins.
  if (report.autoReply && !bounce) return { kind: 'auto-reply', diagnostic: 'an automatic reply (vacation, out of office)' };
  if (!bounce) return { kind: 'not-report', diagnostic: 'neither a delivery report nor a bounce' };
  // A DSN's generic 5.0.0 says less than the code the server itself gave in its words.
  const given = recipient?.status && recipient.status !== '5.0.0' ? recipient.status : undefined;
  const status = given ?? /\b([245]\.\d{1,3}\.\d{1,3})\b(?![\s\S]*\b[245]\.[1-7]\.\d{1,3}\b)/.exec(words.replace(/\b5\.[01]\.0 - [^']*'?/g, ''))?.[1] ?? recipient?.status;
  const code = /\b([245]\d\d)[ -]/.exec(words)?.[1] ?? /\b([245]\d\d)\b/.exec(words)?.[1];
  const verdict = (kind: Kind): Verdict => ({ kind, ...(status ? { status } : {}), ...(code ? { code } : {}), ...(words ? { diagnostic: words.slice(0, 500) } : {}) });
  const transient = status?.startsWith('4') || (!status && code?.startsWith('4')) || action === 'delayed';
  if (transient) return verdict('soft');
  if (status?.startsWith('2')) return { kind: 'not-report', status, diagnostic: 'the report says delivered' };
  // The sender's own address refused (5.1.7, 5.1.8, an answer to MAIL FROM) is about us, not the reader.
  if (
    status === '5.1.7' ||
    status === '5.1.8' ||
    /\bsender (address )?(rejected|unknown|invalid|domain)|\b(unknown|invalid|unroutable) sender|\bdomain of sender|\bMAIL FROM:\s*<[^>]*>\s*<<<\s*5\d\d/i.test(words)
  ) {
    return verdict('sender');
  }
  // Google Groups cannot tell a missing group from one closed to us; a disabled or suspended
  // account, or a local delivery program failing, is not a dead address either.
  if (/may not exist, or you may not have permission/i.test(words)) return verdict('sender');
  if (/\baccount (is |has been )?(disabled|suspended)|\bprocmail:|couldn'?t create "/i.test(words)) return verdict('soft');
  // A full mailbox, and Postfix's "Host not found, try again", are not dead whatever else is said.
  if (/\b(mailbox|inbox) (is )?full\b|\bover ?quota\b|\bquota exceeded|, try again\b/i.test(words)) return verdict('soft');
  // "User unknown" in answer to the message itself (DATA), not to its recipient (RCPT TO), is a
  // filter speaking, as is KDDI's "550 : User unknown" (no address before the colon).
  const phase = /\b(end of )?DATA\b(?! command\)? ?[:-]? ?rcpt)/.test(words) || /in reply to end of DATA command|after end of data|SMTP command DATA/i.test(report.text) ? 'data' : 'rcpt';
  if (DEAD.test(words) && phase === 'data') return verdict('sender');
  if (/\b550\s*:+\s*:?\s*user unknown/i.test(words)) return verdict('sender');
  // Filtering gateways and the Japanese mobile carriers answer "user unknown" for mail their
  // filters refused: the address may well be alive.
  const addressing = status?.startsWith('5.1.');
  if (DEAD.test(words) && !addressing && (FILTERING_GATEWAY.test(`${report.headers}\n${report.text.slice(0, 4000)}`) || CARRIER_FILTER.test(words))) return verdict('sender');
  // A disabled mailbox (5.2.x) said as "user unknown", not in answer to the recipient: not dead.
  const toRecipient = /\bRCPT(_TO)?\b|does not like recipient/i.test(words) || /in reply to RCPT TO command/i.test(report.text);
  if (status?.startsWith('5.2.') && !toRecipient && !/\b(full|quota)\b/i.test(words)) return verdict('soft');
  const statusSubject = status && status !== '5.0.0' ? Number(status.split('.')[1]) : undefined;
  // Microsoft's servers refuse an address that does not exist with "Recipient address rejected: Access denied".
  if (/recipient address rejected: access denied/i.test(words)) return verdict('hard');
  if (statusSubject === 7 && !/\binvalid recipient/i.test(words)) return verdict('sender');
  if (statusSubject === 1 && !SENDER.test(words)) return verdict(byStatus(status, code));
  if (DEAD.test(words)) return verdict('hard');
  if (LATER.test(words)) return verdict('soft');
  if (SENDER.test(words)) return verdict('sender');
  if (REJECTED_ADDRESS.test(words)) return verdict('hard');
  if (REFUSED.test(words)) return verdict('sender');
  return verdict(byStatus(status, code));
}

/**
 * One recipient's status and the remote server's words, read as a DSN would give them: for a
 * provider's webhook, which reports the same facts without a report around them.
 */
export function classifyAnswer(status: string | undefined, diagnostic: string | undefined): Verdict {
  const report: Report = { id: '', from: '', subject: '', reportType: 'delivery-status', autoReply: false, recipients: [], failedRecipients: [], addresses: [], messageIds: [], text: '', headers: '' };
  return classify(report, { action: 'failed', status, diagnostic });
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
function errorLines(text: string, address?: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (QUOTED.test(line.trim())) break;
    if (line.trim()) lines.push(line.trim());
  }
  // Several recipients: from the line that names this one to the line that names another.
  const about = address ? lines.findIndex((line) => line.toLowerCase().includes(address.toLowerCase())) : -1;
  if (about >= 0) {
    const others = addressesIn(lines.slice(about + 1).join('\n')).filter((other) => other.toLowerCase() !== address!.toLowerCase());
    const end = lines.findIndex((line, index) => index > about && others.some((other) => line.toLowerCase().includes(other.toLowerCase())) && !line.toLowerCase().includes(address!.toLowerCase()));
    const scoped = lines.slice(about, end < 0 ? about + 6 : Math.min(end, about + 6));
    if (scoped.some((line) => ERROR_LINE.test(line) || DEAD.test(line) || LATER.test(line) || SENDER.test(line))) return scoped.join(' ').replace(/\s+/g, ' ').slice(0, 1000);
  }
  const start = lines.findIndex((line) => ERROR_LINE.test(line) || DEAD.test(line) || LATER.test(line));
  const picked = start < 0 ? lines.slice(0, 8) : lines.slice(start, start + 4);
  return picked.join(' ').replace(/\s+/g, ' ').slice(0, 1000);
}

function addressesIn(text: string): string[] {
  return [...text.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g)].map((match) => match[0]);
}

/**
 * The recipients a plain-text bounce names, in order: the addresses in its explanation (before the
 * quoted message), less the report's own sender and addressee.
 */
export function textRecipients(report: Report): string[] {
  const lines: string[] = [];
  for (const line of report.text.split(/\r?\n/)) {
    if (QUOTED.test(line.trim())) break;
    lines.push(line);
  }
  const own = new Set([...addressesIn(report.from), ...report.addresses].map((address) => address.toLowerCase()));
  const seen = new Set<string>();
  const found: string[] = [];
  for (const address of addressesIn(lines.join('\n'))) {
    const key = address.toLowerCase();
    if (own.has(key) || seen.has(key) || /^(postmaster|mailer-daemon)@/i.test(address)) continue;
    seen.add(key);
    found.push(address);
  }
  return found;
}
