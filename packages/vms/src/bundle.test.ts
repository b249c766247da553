/**
 * The bundled `vms-all`, installed alone into a temporary project (no node_modules beside it):
 * every first-party backend is inside, loaded lazily; and it runs the lifecycle on real docker
 * when an engine and the test image are there.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testRunId } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeProject,
  nodePosingAs,
  type Project,
  runVms,
} from '../../cli/src/test-support/project.js';
import { serveAndProbe } from '../../cli/src/test-support/ui.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const BUNDLED = Object.keys(
  JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')).devDependencies,
)
  // Backends only: the CLI, the MCP server and the dashboard are bundled too; core is the tests' kit.
  .filter(
    (name) =>
      name.startsWith('@vms/') && !['@vms/cli', '@vms/mcp', '@vms/ui', '@vms/core'].includes(name),
  )
  .sort();

let project: Project;
beforeAll(() => {
  project = makeProject({
    cliPackage: {
      dir: PACKAGE_DIR,
      name: '@vms/vms',
      bin: 'dist/bin.js',
      deps: [],
      extraDirs: ['templates', 'web'],
    },
  });
});
afterAll(() => project?.cleanup());

describe('vms-all (bundled)', () => {
  it('is self-contained: dist holds only JS, and nothing is installed beside it', () => {
    expect(readdirSync(join(project.dir, 'node_modules'))).toEqual(['@vms']);
    expect(readdirSync(join(PACKAGE_DIR, 'dist')).every((f) => f.endsWith('.js'))).toBe(true);
  });

  it('ships the built-in templates @vms/linuxkit reads next to its code', () => {
    const linuxkit = join(PACKAGE_DIR, 'node_modules', '@vms', 'linuxkit', 'templates');
    const installed = join(project.dir, 'node_modules', '@vms', 'vms', 'templates');
    expect(readdirSync(installed).sort()).toEqual(readdirSync(linuxkit).sort());
    expect(readdirSync(installed).length).toBeGreaterThan(0);
  });

  it('bundles the dashboard: vms-all ui serves its page from the files shipped beside it', async () => {
    const { result, probe } = await serveAndProbe(project, ['--backend-timeout', '20s']);
    expect(probe).toMatchObject({ login: 303, page: 200, script: 200 });
    expect(result.code).toBe(130); // Ctrl-C: interrupted
  }, 90_000);

  it('--version prints its package version', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
    expect(await runVms(project, ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('on a Node outside engines (Node 18 stood in for by a preload): exit 4 with the range', async () => {
    const r = await runVms(project, ['list'], { env: nodePosingAs(project, '18.20.4') });
    const { engines } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
    expect(r).toMatchObject({ code: 4, stdout: '' });
    expect(r.stderr.split('\n')[0]).toBe(
      `error: vms-all needs Node ${engines.node}; this is Node 18.20.4 (${process.execPath})`,
    );
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
  });

  it('lists every bundled backend as installed', async () => {
    const r = await runVms(project, ['backends', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).backends as Array<{
      package: string;
      source: string;
      installed: boolean;
    }>;
    const bundled = [
      ...new Set(rows.filter((b) => b.source === 'bundled' && b.installed).map((b) => b.package)),
    ].sort();
    expect(bundled).toEqual(BUNDLED);
    // @vms/lima brings two backends: lima and its colima flavour.
    expect(
      rows
        .filter((b) => b.package === '@vms/lima')
        .map((b) => (b as { backend?: string }).backend)
        .sort(),
    ).toEqual(['colima', 'lima']);
  });
});

function dockerReason(): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', 'vms-test/busybox:latest'], {
      stdio: 'pipe',
      timeout: 30_000,
    });
    return undefined;
  } catch (error) {
    return `docker or the test image is unavailable: ${
      String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .split('\n')[0]
    }`;
  }
}
const reason = dockerReason();
if (reason) console.warn(`skipping the docker test of vms-all: ${reason}`);

describe.skipIf(reason !== undefined)('vms-all against real docker', () => {
  const id = `docker:vmsall-${process.pid}-${Date.now().toString(36)}`;
  afterAll(async () => {
    await runVms(project, ['delete', id]);
  });

  it('create --start, exec, delete', async () => {
    const create = await runVms(
      project,
      [
        'create',
        id,
        '--image',
        'vms-test/busybox:latest',
        '--opt',
        'network=none',
        '--label',
        `dev.vms.test-run=${testRunId()}`,
        '--start',
      ],
      {
        timeoutMs: 120_000,
      },
    );
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    expect(
      await runVms(project, ['exec', id, '--', 'sh', '-c', 'echo bundled; exit 5']),
    ).toMatchObject({
      code: 5,
      stdout: 'bundled\n',
    });
    expect((await runVms(project, ['delete', id])).code).toBe(0);
  });
});
