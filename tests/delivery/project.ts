import { fixture, runCli, tempProject } from '../helpers.js';

/** What the sending tests share: a project with the complete sample issue, a list, and the command. */
export const SECRET = 'a test secret that is certainly long enough';

export const config = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
unsubscribeUrl: https://gazette.example/u
unsubscribeMailto: leave@gazette.example
`;

export const readers = `email,name,status,tags
ana@example.org,Ana Lima,subscribed,local
"bo@example.org","Bo ""Bobby"" Berg",subscribed,local
cy@example.org,,subscribed,local
dee@example.org,Dee Park,unsubscribed,local
Ana@Example.org,Ana again,subscribed,local
`;

/** A project with the complete sample issue and a list of five rows, four mailable (one twice). */
export function project(extra: Record<string, string> = {}) {
  return tempProject({ 'issues/week.md': fixture('issues', 'complete.md'), 'readers.csv': readers, ...extra }, config);
}

export function send(root: string, args: string[], env: Record<string, string> = {}) {
  return runCli(['send', ...args, '--yes', '--json'], { cwd: root, env: { DIGEST_SECRET: SECRET, ...env } });
}

