import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';
import { onTerminal } from '../pty.js';

describe('digest init', () => {
  it('scaffolds a project whose starter issue checks clean and builds', async () => {
    const root = tempProject({}, null);
    const init = await runCli(['init', 'paper', '--name', 'The "Quoted": Paper', '--address', '9 Elm St, Oakford'], { cwd: root });
    expect(init.code).toBe(0);
    const project = join(root, 'paper');
    expect(readFileSync(join(project, 'digest.config.yaml'), 'utf8')).toContain('name: "The \\"Quoted\\": Paper"');
    expect(readdirSync(join(project, 'issues'))).toEqual([expect.stringMatching(/^\d{4}-\d{2}-\d{2}-first-issue\.md$/)]);

    const check = await runCli(['check', '--strict'], { cwd: project });
    expect(check.stdout).toMatch(/0 errors, 0 warnings/);
    expect(check.code).toBe(0);
    const build = await runCli(['build'], { cwd: project });
    expect(build.code).toBe(0);
    const [slug] = readdirSync(join(project, 'build'));
    expect(readFileSync(join(project, 'build', slug!, 'email.html'), 'utf8')).toContain('The &quot;Quoted&quot;: Paper');
  });

  it('copies the default template for editing with --copy-template', async () => {
    const root = tempProject({}, null);
    expect((await runCli(['init', '--copy-template'], { cwd: root })).code).toBe(0);
    expect(existsSync(join(root, 'templates', 'default', 'layout.mjml.hbs'))).toBe(true);
    expect(existsSync(join(root, 'templates', 'default', 'partials', 'footer.mjml.hbs'))).toBe(true);
  });

  it('refuses to overwrite an existing project', async () => {
    const root = tempProject();
    const result = await runCli(['init'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('digest: digest.config.yaml already exists: use --force to overwrite it\n');
  });

  it('asks for each setting on a terminal, offering defaults and asking again after a bad answer', async () => {
    const root = tempProject({}, null);
    const result = await onTerminal(['init', 'asked', '--address', '3 Mill Road, Brookfield'], {
      cwd: root,
      answers: [
        ['Newsletter name [My Newsletter]: ', 'The Brookfield Bulletin'],
        ['From (Name <address>)', 'Bulletin'],
        ['needs an email address', 'Brookfield Bulletin <desk@bulletin.example>'],
        ['Language of the issues', ''],
        ['Where web versions will be published', 'https://bulletin.example/issues'],
        ['Copy the default template', 'y'],
      ],
    });
    expect(result.code).toBe(0);
    expect(result.output).not.toContain('Postal address');
    const config = readFileSync(join(root, 'asked', 'digest.config.yaml'), 'utf8');
    expect(config).toContain('name: "The Brookfield Bulletin"');
    expect(config).toContain('from: "Brookfield Bulletin <desk@bulletin.example>"');
    expect(config).toContain('address: "3 Mill Road, Brookfield"');
    expect(config).toContain('language: "en"');
    expect(config).toContain('baseUrl: "https://bulletin.example/issues"');
    expect(existsSync(join(root, 'asked', 'templates', 'default', 'layout.mjml.hbs'))).toBe(true);
  }, 30_000);

  it('asks nothing on a terminal with --yes', async () => {
    const root = tempProject({}, null);
    const result = await onTerminal(['init', '--yes'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.output).not.toContain('Newsletter name');
    expect(readFileSync(join(root, 'digest.config.yaml'), 'utf8')).toContain('name: "My Newsletter"');
  }, 30_000);
});
