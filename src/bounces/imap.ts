import { ImapFlow, type MailboxLockObject } from 'imapflow';
import { UserError } from '../errors.js';
import type { ImapSettings } from './imap-url.js';
import { MAX_REPORT_BYTES } from './report.js';
import type { ReportSource } from './sources.js';

/** How a processed message is put aside: moved to PROCESSED_FOLDER, or flagged where it is. */
export type Mark = 'move' | 'flag';

export const PROCESSED_FOLDER = 'digest-processed';
export const PROCESSED_KEYWORD = '$DigestProcessed';

export interface BounceMailbox {
  /** Every message not yet processed, oldest first, as `imap:<mailbox>/<uid>`. */
  messages(): AsyncGenerator<ReportSource>;
  /** Puts one message aside once the ledger has applied it; nothing on a dry run. */
  processed(source: ReportSource): Promise<void>;
  /** How many messages were put aside. */
  readonly marked: number;
  close(): Promise<void>;
}

/**
 * The bounce mailbox as a source of reports for processReports (index.ts). A message is put aside
 * only when processReports says the ledger has applied it, so a crash in between leaves it to be
 * read again, which the ledger makes harmless (each report is kept once, by its Message-ID).
 *
 * Unprocessed means without the PROCESSED_KEYWORD, in both modes, not unseen: a person who opens
 * the mailbox in a mail client marks messages seen, and they must still be read.
 */
export async function openBounceMailbox(settings: ImapSettings, options: { mailbox?: string; mark: Mark; dryRun?: boolean }): Promise<BounceMailbox> {
  const mailbox = options.mailbox ?? settings.mailbox ?? 'INBOX';
  const { mark, dryRun } = options;
  if (mark === 'move' && mailbox === PROCESSED_FOLDER) {
    throw new UserError(`--mailbox ${mailbox} is where processed messages are moved to: read another folder, or use --mark flag`, { code: 'imap-mailbox-processed' });
  }
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    doSTARTTLS: settings.startTls,
    auth: { user: settings.user, pass: settings.password },
    // Its default logger writes to stdout, where --json prints its one document.
    logger: false,
    // One run reads and leaves; IDLE between two commands would only add round trips.
    disableAutoIdle: true,
    connectionTimeout: 30_000,
  });
  // A dropped connection is also emitted as an event; the command that was waiting rejects with it.
  client.on('error', () => {});
  const fail = (error: unknown, doing: string) => explain(error, settings, mailbox, doing);

  await client.connect().catch((error) => fail(error, 'connect'));
  let lock: MailboxLockObject;
  try {
    // A dry run opens the folder read-only (EXAMINE), so not even the \Seen flag can change.
    lock = await client.getMailboxLock(mailbox, { readOnly: Boolean(dryRun) }).catch((error) => fail(error, 'open'));
    if (mark === 'flag' && !dryRun && !canKeep(client.mailbox ? client.mailbox.permanentFlags : undefined)) {
      throw new UserError(`the folder ${mailbox} on ${settings.shown} cannot keep the keyword ${PROCESSED_KEYWORD}: use --mark move`, { code: 'imap-no-keywords' });
    }
  } catch (error) {
    await client.logout().catch(() => client.close());
    throw error;
  }

  const uids = new Map<string, number>();
  let marked = 0;
  // Made when the first message is to go there: a run that reads nothing changes nothing.
  let folderMade = false;
  return {
    get marked() {
      return marked;
    },
    async *messages() {
      const found = (await client.search({ unKeyword: PROCESSED_KEYWORD }, { uid: true }).catch((error) => fail(error, 'search'))) || [];
      if (!found.length) return;
      // Sizes first, in one command: a message far too large to be a report is never downloaded.
      const sizes = new Map<number, number>();
      for (const message of await client.fetchAll(found, { uid: true, size: true }, { uid: true }).catch((error) => fail(error, 'fetch'))) sizes.set(message.uid, message.size ?? 0);
      for (const uid of found) {
        const source = `imap:${mailbox}/${uid}`;
        const size = sizes.get(uid);
        // Gone since the search (expunged by another client): nothing to read or to mark.
        if (size === undefined) continue;
        uids.set(source, uid);
        if (size > MAX_REPORT_BYTES) {
          yield { source, tooLarge: size };
          continue;
        }
        // One message at a time, and no command while imapflow is still reading a FETCH answer:
        // the consumer's processed() runs between two of these.
        const message = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true }).catch((error) => fail(error, 'fetch'));
        if (!message || !message.source) continue;
        yield { source, raw: message.source };
      }
    },
    async processed(source) {
      const uid = uids.get(source.source);
      if (dryRun || uid === undefined) return;
      if (mark === 'move' && !folderMade) {
        await client.mailboxCreate(PROCESSED_FOLDER).catch((error) => fail(error, `create the folder ${PROCESSED_FOLDER}`));
        folderMade = true;
      }
      if (mark === 'move') await client.messageMove(String(uid), PROCESSED_FOLDER, { uid: true }).catch((error) => fail(error, `move ${source.source} to ${PROCESSED_FOLDER}`));
      else await client.messageFlagsAdd(String(uid), ['\\Seen', PROCESSED_KEYWORD], { uid: true }).catch((error) => fail(error, `flag ${source.source}`));
      uids.delete(source.source);
      marked++;
    },
    async close() {
      lock.release();
      await client.logout().catch(() => client.close());
    },
  };
}

/** Whether new keywords may be set in the open folder: `\*` in its PERMANENTFLAGS, or ours already. */
function canKeep(permanentFlags: Set<string> | undefined): boolean {
  return Boolean(permanentFlags && (permanentFlags.has('\\*') || permanentFlags.has(PROCESSED_KEYWORD)));
}

/**
 * What went wrong, in one line naming the server (never the password): a login refused, nothing
 * listening, no TLS where it is required, a folder that is not there. Anything else is said with
 * the server's own words.
 */
function explain(error: unknown, settings: ImapSettings, mailbox: string, doing: string): never {
  const failure = error as { code?: string; authenticationFailed?: boolean; tlsFailed?: boolean; mailboxMissing?: boolean; responseText?: string; message?: string };
  const server = `the IMAP server ${settings.shown}`;
  const said = (failure.responseText || failure.message || String(error)).replace(/\s+/g, ' ').trim();
  if (failure.authenticationFailed) {
    throw new UserError(`${server} refused the login for ${settings.user}${failure.responseText ? ` (${said})` : ''}: check the user in DIGEST_BOUNCE_IMAP_URL and the password`, { code: 'imap-login-refused', cause: error });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ETIMEDOUT'].includes(failure.code ?? '')) {
    throw new UserError(`cannot reach ${server}: ${failure.code === 'ECONNREFUSED' ? 'nothing is listening there' : said}`, { code: 'imap-unreachable', cause: error });
  }
  if (failure.tlsFailed || /STARTTLS|certificate|TLS|SSL/i.test(said)) {
    throw new UserError(`cannot open a TLS connection to ${server} (${said}); imap:// to another machine requires STARTTLS, imaps:// TLS from the start`, { code: 'imap-tls', cause: error });
  }
  if (failure.mailboxMissing) throw new UserError(`${server} has no folder ${mailbox} (--mailbox)`, { code: 'imap-mailbox-missing', cause: error });
  throw new UserError(`${server} failed to ${doing}: ${said}`, { code: 'imap-failed', cause: error });
}
