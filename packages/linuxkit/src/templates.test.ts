// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template text with ${VAR} references is the subject under test
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTemplateCatalog, defaultUserTemplatesDir } from './templates.js';

const root = mkdtempSync(join(tmpdir(), 'vlk-templates-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const userDir = join(root, 'user');
mkdirSync(userDir);
writeFileSync(
  join(userDir, 'web.yaml'),
  '# My web server\nkernel:\n  cmdline: "${CMDLINE:-console=ttyS0}"\nfiles:\n  - contents: "${GREETING}"\n',
);
writeFileSync(join(userDir, 'sshd.yml'), '# my own sshd\nkernel: {}\n');
writeFileSync(join(userDir, 'notes.txt'), 'not a template');
writeFileSync(join(userDir, 'bad name!.yml'), '# unreachable\n');

describe('template catalog', () => {
  const builtins = createTemplateCatalog({ userDir: join(root, 'none') });
  const both = createTemplateCatalog({ userDir });

  it('ships sshd and docker templates that need SSH_KEY', async () => {
    const list = await builtins.list();
    expect(list.map((t) => [t.name, t.source])).toEqual([
      ['docker', 'builtin'],
      ['sshd', 'builtin'],
    ]);
    for (const t of list) {
      expect(t.description).toMatch(/SSH|Docker/);
      expect(t.variables.required).toEqual(['SSH_KEY']);
      expect(t.variables.optional).toHaveProperty('HOSTNAME');
    }
  });

  it('renders a built-in: values inserted, defaults applied, comments kept', async () => {
    const yaml = await builtins.render('sshd', { SSH_KEY: 'ssh-ed25519 AAAA test' });
    expect(yaml).toContain('contents: "ssh-ed25519 AAAA test"');
    expect(yaml).toContain('contents: "linuxkit-sshd"');
    expect(yaml).toContain('image: linuxkit/kernel:');
    expect(yaml).toContain('#   SSH_KEY    (required)');
    expect(yaml).not.toMatch(/^[^#\n]*\$\{/m);
  });

  it('reports the missing variables of a render', async () => {
    await expect(builtins.render('docker')).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      issues: [{ path: 'vars.SSH_KEY' }],
    });
    await expect(builtins.render('sshd', { 'bad-name': 'x' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'vars.bad-name',
    });
  });

  it('adds the user directory (.yml and .yaml); a user template replaces a built-in', async () => {
    const list = await both.list();
    expect(list.map((t) => [t.name, t.source])).toEqual([
      ['docker', 'builtin'],
      ['sshd', 'user'],
      ['web', 'user'],
    ]);
    const web = await both.show('web');
    expect(web).toMatchObject({ description: 'My web server', path: join(userDir, 'web.yaml') });
    expect(web.variables).toEqual({
      required: ['GREETING'],
      optional: { CMDLINE: 'console=ttyS0' },
    });
    expect(await both.render('web', { GREETING: 'hi ${CMDLINE}' })).toContain(
      'contents: "hi ${CMDLINE}"',
    );
  });

  it('says which templates exist when one is unknown, and validates the name', async () => {
    await expect(both.show('nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      hint: expect.stringContaining('docker, sshd, web'),
    });
    await expect(both.show('../etc/passwd')).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'template.name',
    });
  });

  it('defaults the user directory to XDG_CONFIG_HOME, else ~/.config', () => {
    const saved = process.env.XDG_CONFIG_HOME;
    try {
      process.env.XDG_CONFIG_HOME = '/x/config';
      expect(defaultUserTemplatesDir()).toBe('/x/config/vms/linuxkit/templates');
      process.env.XDG_CONFIG_HOME = 'relative';
      expect(defaultUserTemplatesDir()).toMatch(/\/\.config\/vms\/linuxkit\/templates$/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});
