import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CONFIG_FILE, loadConfig, type ResolvedConfig } from './config.js';
import { signupForm } from './signup/form.js';
import { UserError } from './errors.js';
import { writeFileAtomic } from './fs.js';
import { builtinTemplates } from './render/template.js';
import { labelsFor } from './render/labels.js';

export interface InitOptions {
  name: string;
  from: string;
  address: string;
  language: string;
  baseUrl: string;
  copyTemplate: boolean;
  force: boolean;
  /** Today, as YYYY-MM-DD: the starter issue's date. */
  today: string;
}

/** Scaffolds a newsletter project; refuses to overwrite one unless forced. Returns what it wrote. */
export async function initProject(folder: string, options: InitOptions): Promise<string[]> {
  const root = resolve(folder);
  const config = join(root, CONFIG_FILE);
  if (existsSync(config) && !options.force) {
    throw new UserError(`${relative(process.cwd(), config) || CONFIG_FILE} already exists: use --force to overwrite it`, { code: 'exists' });
  }
  await mkdir(join(root, 'issues'), { recursive: true });
  const written: string[] = [];
  const write = async (path: string, text: string) => {
    await writeFileAtomic(path, text);
    written.push(path);
  };

  await write(config, configText(options));
  const starter = join(root, 'issues', `${options.today}-first-issue.md`);
  if (!existsSync(starter) || options.force) await write(starter, starterIssue(options));
  // The sign-up form to paste into the publisher's own site, from the config just written.
  const writtenConfig = await loadConfig({ path: config });
  const snippet = join(root, 'subscribe-form.html');
  if (!existsSync(snippet) || options.force) await write(snippet, formSnippet(writtenConfig));
  const ignore = join(root, '.gitignore');
  if (!existsSync(ignore)) await write(ignore, 'node_modules/\nbuild/\noutbox/\n*.db\n*.db-wal\n*.db-shm\n');
  if (options.copyTemplate) {
    const target = join(root, 'templates', 'default');
    if (existsSync(target) && !options.force) throw new UserError(`${relative(process.cwd(), target)} already exists: use --force to replace it`, { code: 'exists' });
    await cp(join(builtinTemplates, 'default'), target, { recursive: true, force: true });
    written.push(target);
  }
  return written;
}

/** Values go in as JSON strings, which are valid YAML: a colon or quote in a name cannot break the file. */
function configText(o: InitOptions): string {
  const q = (value: string) => JSON.stringify(value);
  return `# digest settings. Environment variables override some of them (DIGEST_FROM, DIGEST_BASE_URL).
name: ${q(o.name)}
# tagline: "A line under the name in the masthead"
from: ${q(o.from)}
# The postal address printed in every issue's footer: required by law for bulk mail in many countries.
address: ${q(o.address)}
# The issues' language: the template's words, the dates and the direction (rtl for ar, he, fa…).
language: ${q(o.language)}
# Where the web versions of issues are published; "view in browser" links point here.
baseUrl: ${q(o.baseUrl)}
# subscribeUrl: "https://…"   (the subscribe box's button; default: baseUrl, or <baseUrl>/subscribe with signup on)
# Readers sign themselves up at <baseUrl>/subscribe, served by digest serve, and confirm by email
# (double opt-in). subscribe-form.html holds the same form to paste into your own site.
# signup:
#   enabled: true
#   consent: "Send me this newsletter by email. I can unsubscribe at any time."
#   consentVersion: "1"       (recorded with each sign-up; change it when the text changes)
#   tags: [weekly]            (given to every confirmed reader)
#   welcome: issues/welcome.md  (an issue sent to each reader once they confirm)
#   allowedOrigins: ["https://example.org"]  (pages that may post JSON; forms may post from anywhere)
brand:
  color: "#1d4ed8"
  accent: "#b45309"
# testAddresses: ["you@example.org"]
`;
}

function starterIssue(o: InitOptions): string {
  return `---
title: Our first issue
date: ${o.today}
subject: "${o.name.replace(/"/g, "'")}: our first issue"
preheader: What to expect from us every week, and the three stories worth your time.
author: The editors
---
Hello, {{default subscriber.first_name "there"}}. This is where the editor's note goes: a few
sentences on what this week's issue holds.

- The bullet list before the first section is the issue's summary
- Each \`##\` heading below starts a section

## The first story

Write in Markdown: **bold**, _italic_, [links](https://example.org), lists and quotes.

::related[A card pointing to a related story]{href="https://example.org/story" summary="One line on why it matters."}

:::callout[Support our work]
A highlighted box, for appeals and announcements.

::button[Become a member]{href="https://example.org/support"}
:::

## The second story

Run \`digest check\` to lint this issue and \`digest build\` to turn it into email.
`;
}

/** A page fragment to paste where readers should sign up; it posts to digest serve's /subscribe. */
function formSnippet(config: ResolvedConfig): string {
  const action = `${(config.baseUrl ?? 'https://example.org/newsletter').replace(/\/+$/, '')}/subscribe`;
  return `<!-- The ${config.name.replace(/--/g, '-')} sign-up form, written by digest init. Paste it into any page.
     It posts to digest serve (signup.enabled: true in digest.config.yaml), which mails a link to
     confirm: nobody is subscribed until they press its button. The hidden "website" field catches
     bots; keep it. Style it with the .digest-signup class. -->
${signupForm({ action, consent: config.signup.consent, button: labelsFor(config.language, config.labels).subscribeButton }, '')}
`;
}
