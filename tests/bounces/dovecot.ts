/**
 * A real IMAP server for the tests: Debian's Dovecot (dovecot-imapd), started on 127.0.0.1 on a
 * free port with a configuration of its own in a temporary folder (nothing of the machine's
 * /etc/dovecot is read), and stopped after the suite. Each test takes an account of its own, with an
 * empty Maildir. Where Dovecot is missing the suite skips with a message; under CI (which installs
 * it) that is a failure instead.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll } from 'vitest';
import { freePort, installed, startDaemon, type Daemon } from '../daemon.js';

export const DOVECOT = '/usr/sbin/dovecot';

export function dovecotAvailable(): boolean {
  return installed([DOVECOT], 'dovecot-imapd', 'IMAP tests');
}

export interface Dovecot {
  port: number;
  /** A new user with an empty mailbox. */
  account(): Account;
  /** What Dovecot logged so far (logins, disconnections and why). */
  log(): string;
  stop(): Promise<void>;
}

export interface Account {
  user: string;
  password: string;
  /** The bounce mailbox as `digest bounces fetch` is told of it: DIGEST_BOUNCE_IMAP_URL, no password. */
  url: string;
  /** A logged-in client of our own, to put messages in and look at what digest left. */
  client(): Promise<ImapFlow>;
}

/** A Dovecot started before a suite's tests and stopped after them; the suite reads it through the getter. */
export function dovecotForSuite(): () => Dovecot {
  let dovecot: Dovecot | undefined;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(() => dovecot?.stop());
  return () => dovecot!;
}

/**
 * The template tried on Debian 12's Dovecot 2.3.19. Any user name logs in with the one password
 * (a static passdb), each with a Maildir of its own (the static userdb's home): a new name is a new,
 * empty mailbox, with no file to rewrite and reload. Refused logins are answered at once, not after 2 s.
 */
const CONFIG = `instance_name = digest-test-@PORT@
base_dir = @DIR@/run
state_dir = @DIR@/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
log_path = /dev/stderr
default_internal_user = @USER@
default_internal_group = @GROUP@
default_login_user = @USER@
passdb {
  driver = static
  args = password=@PASSWORD@
}
userdb {
  driver = static
  args = uid=@USER@ gid=@GROUP@ home=@DIR@/mail/%n
}
mail_location = maildir:~/Maildir
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = @PORT@
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-urlauth-login {
  chroot =
}
`;

// No spaces: the static passdb's arguments are split on them.
const PASSWORD = 'the-bounce-mailbox-password';

export async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'digest-dovecot-'));
  const port = await freePort();
  // imap-login refuses to run as root, and the userdb may not hand out uid 0: as root, the whole
  // instance runs as nobody, in a folder nobody owns.
  const root = process.getuid?.() === 0;
  const runAs = root ? { uid: 65534, gid: 65534, user: 'nobody', group: groupName(65534) } : { uid: undefined, gid: undefined, user: userInfo().username, group: groupName(process.getgid!()) };
  const config = CONFIG.replaceAll('@DIR@', dir).replaceAll('@PORT@', String(port)).replaceAll('@USER@', runAs.user).replaceAll('@GROUP@', runAs.group).replaceAll('@PASSWORD@', PASSWORD);
  writeFileSync(join(dir, 'dovecot.conf'), config);
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub));
  if (root) chownTree(dir, 65534, 65534);
  chmodSync(dir, 0o755);

  const daemon = startDaemon(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { uid: runAs.uid, gid: runAs.gid });

  const stop = async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const client = (user: string, pass: string) => async () => {
    const imap = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false, disableAutoIdle: true });
    imap.on('error', () => {});
    await imap.connect();
    return imap;
  };

  try {
    await ready(client('probe', PASSWORD), daemon);
  } catch (error) {
    await stop();
    throw error;
  }
  let accounts = 0;
  const account = (): Account => {
    const user = `bounces${++accounts}`;
    return { user, password: PASSWORD, url: `imap://${user}@127.0.0.1:${port}/INBOX`, client: client(user, PASSWORD) };
  };
  return { port, account, log: daemon.log, stop };
}

/** Ready when a login works: the first connections may be told the auth process is still starting. */
async function ready(client: () => Promise<ImapFlow>, daemon: Daemon): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`dovecot exited:\n${daemon.log()}`);
    try {
      const imap = await client();
      await imap.logout();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`dovecot did not accept a login within 15 s (${(error as Error).message}):\n${daemon.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[2] === String(gid));
  if (!line) throw new Error(`no group with gid ${gid} in /etc/group`);
  return line.split(':')[0]!;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) chownTree(join(path, entry.name), uid, gid);
    else chownSync(join(path, entry.name), uid, gid);
  }
}
