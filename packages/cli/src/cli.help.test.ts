/** Help, version and completion of the built `vms`. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';
import { CLI_DIR, makeProject, type Project, runVms } from './test-support/project.js';

let project: Project;
beforeAll(() => {
  project = makeProject();
});
afterAll(() => project?.cleanup());

describe('help, version, completion', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8'));
    expect(await runVms(project, ['--version'])).toMatchObject({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    });
    expect((await runVms(project, ['-V'])).stdout).toBe(`${version}\n`);
  });

  it('vms with no command prints help and exits 2; --help exits 0', async () => {
    const bare = await runVms(project, []);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/^Usage: vms <command> \[flags\]$/m);
    const help = await runVms(project, ['--help']);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c.name}\\s`, 'm'));
    expect(help.stdout).toContain(
      'Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 backend unavailable',
    );
  });

  it('every command has help with usage and examples, via help CMD and CMD --help', async () => {
    for (const c of COMMANDS) {
      const a = await runVms(project, ['help', c.name]);
      expect(a.code, c.name).toBe(0);
      if (['create', 'exec', 'list'].includes(c.name)) {
        expect((await runVms(project, [c.name, '--help'])).stdout).toBe(a.stdout);
      }
      expect(a.stdout).toContain(`Usage: ${c.usage}`);
      expect(a.stdout).toContain(`Examples:\n  ${c.examples[0]}`);
    }
    expect((await runVms(project, ['help', 'nosuch'])).code).toBe(2);
  });

  it('prints completion scripts that the shells accept', async () => {
    const bash = await runVms(project, ['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -F _vms vms');
    const file = join(project.dir, 'vms.bash');
    writeFileSync(file, bash.stdout);
    execFileSync('bash', ['-n', file]);
    // Completing "vms cr" offers create.
    const offered = execFileSync(
      'bash',
      ['-c', `source ${file}; COMP_WORDS=(vms cr); COMP_CWORD=1; _vms; echo "\${COMPREPLY[@]}"`],
      {
        encoding: 'utf8',
      },
    );
    expect(offered.trim()).toBe('create');
    const flags = execFileSync(
      'bash',
      [
        '-c',
        `source ${file}; COMP_WORDS=(vms stop --gr); COMP_CWORD=2; _vms; echo "\${COMPREPLY[@]}"`,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(flags.trim()).toBe('--grace');
    const zsh = await runVms(project, ['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef vms$/m);
    const fish = await runVms(project, ['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c vms -n '__fish_use_subcommand' -a 'create'");
    expect((await runVms(project, ['completion', 'powershell'])).code).toBe(2);
  });
});
