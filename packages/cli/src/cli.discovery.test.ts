/**
 * How the built `vms` finds backends: nothing installed (exit 4 and what to install), config
 * files, package.json, the naming convention, and backends made for another contract version or
 * malformed ones.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeJson, snapshotText } from './test-support/normalize.js';
import { FIXTURES_DIR, makeProject, type Project, runVms } from './test-support/project.js';

const projects: Project[] = [];
const project = (settings?: Parameters<typeof makeProject>[0]) => {
  const p = makeProject(settings);
  projects.push(p);
  return p;
};
afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup();
});

describe('backend discovery', () => {
  it('with no backend installed, says what to install and exits 4', async () => {
    const p = project();
    const list = await runVms(p, ['list']);
    expect(list.code).toBe(4);
    expect(list.stderr).toBe(
      'error: no vms backend is installed\nhint: install one, e.g. npm install @vms/docker (or @vms/podman, @vms/qemu); see vms backends\n',
    );
    const start = await runVms(p, ['start', 'qemu:dev']);
    expect(start.code).toBe(4);
    expect(start.stderr).toBe(
      'error: backend qemu is unavailable: @vms/qemu is not installed\nhint: npm install @vms/qemu\n',
    );
    const unknown = await runVms(p, ['start', 'nosuch:dev']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/hint: install one \(npm install vms-backend-nosuch\)/);
    const backends = await runVms(p, ['backends', '--json']);
    expect(backends.code).toBe(0);
    await expect(snapshotText(normalizeJson(backends.stdout, p))).toMatchFileSnapshot(
      '__snapshots__/backends-none.json.snap',
    );
  });

  it('finds a vms-backend-* dependency of the project and reports its package version, capabilities and options schema', async () => {
    const p = project({ fixtures: ['vms-backend-fake'] });
    const r = await runVms(p, ['backends', '--json']);
    const fake = JSON.parse(r.stdout).backends.find(
      (b: { backend: string }) => b.backend === 'fake',
    );
    const { options, capabilities, ...rest } = fake;
    expect(rest).toEqual({
      backend: 'fake',
      package: 'vms-backend-fake',
      packageVersion: '1.2.3',
      source: 'dependencies',
      installed: true,
      available: true,
      toolVersion: '1.0.0-mock',
    });
    expect(capabilities).toMatchObject({ suspend: true, exec: true, copy: false });
    // The input side of the backend's zod schema (defaults optional), closed to unknown keys.
    expect(options).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { image: { type: 'string', default: 'mock:latest' } },
    });
    expect(options.required ?? []).not.toContain('image');
  });

  it('reports an unavailable tool with its reason and hint', async () => {
    const p = project({ fixtures: ['vms-backend-fake'] });
    const r = await runVms(p, ['backends'], { env: { FAKE_AVAILABLE: '0' } });
    expect(r.stdout).toMatch(
      /^fake\s+vms-backend-fake\s+1\.2\.3\s+-\s+-\s+mock tool not installed\s+install the mock tool$/m,
    );
    const list = await runVms(p, ['list'], { env: { FAKE_AVAILABLE: '0' } });
    expect(list.code).toBe(4);
    expect(list.stderr).toMatch(/no installed backend is available/);
  });

  it('loads backends named in vms.config.json (paths relative to it), ~/.config/vms/config.json and package.json', async () => {
    const p = project();
    // Not a dependency: only the config files name these.
    const lib = join(p.dir, 'lib');
    cpSync(join(FIXTURES_DIR, 'vms-backend-fake'), join(lib, 'fake-one'), { recursive: true });
    writeFileSync(
      join(p.dir, 'vms.config.json'),
      JSON.stringify({ backends: ['./lib/fake-one/index.mjs'] }),
    );
    cpSync(join(FIXTURES_DIR, 'vms-backend-fake'), join(p.dir, 'node_modules', 'fake-two'), {
      recursive: true,
    });
    writeFileSync(
      join(p.dir, 'node_modules', 'fake-two', 'package.json'),
      JSON.stringify({
        name: 'fake-two',
        version: '2.0.0',
        type: 'module',
        main: 'index.mjs',
        fakeBackendName: 'two',
      }),
    );
    mkdirSync(join(p.home, '.config', 'vms'), { recursive: true });
    writeFileSync(
      join(p.home, '.config', 'vms', 'config.json'),
      JSON.stringify({ backends: ['fake-two'] }),
    );
    cpSync(join(FIXTURES_DIR, 'vms-backend-fake'), join(p.dir, 'node_modules', 'fake-three'), {
      recursive: true,
    });
    writeFileSync(
      join(p.dir, 'node_modules', 'fake-three', 'package.json'),
      JSON.stringify({
        name: 'fake-three',
        version: '3.0.0',
        type: 'module',
        main: 'index.mjs',
        fakeBackendName: 'three',
      }),
    );
    // A directory by path: its package.json says which module to load.
    cpSync(join(FIXTURES_DIR, 'vms-backend-fake'), join(lib, 'fake-four'), { recursive: true });
    writeFileSync(
      join(lib, 'fake-four', 'package.json'),
      JSON.stringify({
        name: 'fake-four',
        type: 'module',
        main: 'index.mjs',
        fakeBackendName: 'four',
      }),
    );
    writeFileSync(
      join(p.dir, 'package.json'),
      JSON.stringify({
        name: 'user-project',
        vms: { backends: ['fake-three', './lib/fake-four'] },
      }),
    );
    // Core must resolve from the copied fixture in lib/.
    mkdirSync(join(lib, 'node_modules'), { recursive: true });
    const r = await runVms(p, ['backends', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).backends.filter((b: { installed: boolean }) => b.installed);
    expect(rows.map((b: { backend: string; source: string }) => [b.backend, b.source])).toEqual([
      ['fake', join(p.dir, 'vms.config.json')],
      ['two', join(p.home, '.config', 'vms', 'config.json')],
      ['three', `${join(p.dir, 'package.json')}#vms.backends`],
      ['four', `${join(p.dir, 'package.json')}#vms.backends`],
    ]);
    expect((await runVms(p, ['create', 'four:x'])).code).toBe(0);
    expect((await runVms(p, ['create', 'two:x'])).code).toBe(0);
    expect((await runVms(p, ['list', '--json'])).stdout).toContain('"two:x"');
  });

  it('a backend for another contract version or a malformed one: a clear error, exit 4, others still work', async () => {
    const p = project({ fixtures: ['vms-backend-fake', 'vms-backend-v2', 'vms-backend-broken'] });
    const v2 = await runVms(p, ['start', 'v2:x']);
    expect(v2.code).toBe(4);
    expect(v2.stderr).toBe(
      'error: vms-backend-v2 implements vms-backend-v2, but this vms supports vms-backend-v1\n' +
        'hint: upgrade @vms/cli (npm install @vms/cli@latest), or install a version of vms-backend-v2 made for vms-backend-v1\n',
    );
    const broken = await runVms(p, ['list', '--backend', 'broken']);
    expect(broken.code).toBe(4);
    expect(broken.stderr).toMatch(
      /^error: vms-backend-broken exports a malformed vms-backend-v1 backend \(missing or wrong: list\(\), driver\(\)\)/,
    );
    const backends = await runVms(p, ['backends', '--json']);
    const rows = JSON.parse(backends.stdout).backends as Array<{
      backend: string;
      available: boolean;
      reason?: string;
    }>;
    expect(rows.find((b) => b.backend === 'v2')?.reason).toMatch(/implements vms-backend-v2/);
    expect(rows.find((b) => b.backend === 'fake')?.available).toBe(true);
    expect((await runVms(p, ['list'])).code).toBe(0);
  });

  it('an invalid config file is a usage error naming the file and field', async () => {
    const p = project({ fixtures: ['vms-backend-fake'] });
    writeFileSync(join(p.dir, 'vms.config.json'), JSON.stringify({ backends: [42] }));
    const r = await runVms(p, ['list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: invalid ${join(p.dir, 'vms.config.json')}: backends.0:`);
  });
});
