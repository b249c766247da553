/**
 * The built `vms` against real docker through @vms/docker (linked into a temporary project).
 * Skipped, with the reason printed, when @vms/docker is not built, no engine answers, or the
 * test image (scripts/images/build-test-image.sh) is missing. Touches only its own container.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pullFixture, registrySkipReason } from '@vms/container-engine/testing';
import { testRunId, testRunLabels } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeProject,
  PACKAGES_DIR,
  type Project,
  ptyUnavailableReason,
  runVms,
  runVmsInPty,
} from './test-support/project.js';

const IMAGE = 'vms-test/busybox:latest';

function unavailableReason(): string | undefined {
  if (!existsSync(join(PACKAGES_DIR, 'docker', 'dist', 'index.js')))
    return '@vms/docker is not built';
  try {
    execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', IMAGE], {
      stdio: 'pipe',
      timeout: 30_000,
    });
  } catch (error) {
    return `docker engine or image ${IMAGE} unavailable: ${
      String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .split('\n')[0]
    }`;
  }
  return undefined;
}

const reason = unavailableReason();
if (reason) console.warn(`skipping the docker tests of @vms/cli: ${reason}`);

describe.skipIf(reason !== undefined)('vms against real docker', () => {
  let project: Project;
  const id = `docker:vmscli-${process.pid}-${Date.now().toString(36)}`;
  const vms = (args: string[], settings?: Parameters<typeof runVms>[2]) =>
    runVms(project, args, { timeoutMs: 120_000, ...settings });

  beforeAll(() => {
    project = makeProject({ workspace: ['docker'] });
  });
  afterAll(async () => {
    if (!project) return;
    await vms(['delete', id]);
    project.cleanup();
  });

  it('reports docker as available with its version', async () => {
    const r = await vms(['backends', '--json']);
    const docker = JSON.parse(r.stdout).backends.find(
      (b: { backend: string }) => b.backend === 'docker',
    );
    expect(docker).toMatchObject({ package: '@vms/docker', installed: true, available: true });
    expect(docker.toolVersion).toMatch(/^\d+\.\d+/);
  });

  it('create --start, exec (exit code, stdin), inspect, stop, delete', async () => {
    const create = await vms([
      'create',
      id,
      '--image',
      IMAGE,
      '--opt',
      'network=none',
      '--label',
      'suite=cli',
      '--label',
      `dev.vms.test-run=${testRunId()}`,
      '--start',
    ]);
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    const exec = await vms(['exec', id, '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(exec).toMatchObject({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    const cat = await vms(['exec', id, '--', 'cat'], { input: 'piped\n' });
    expect(cat).toMatchObject({ code: 0, stdout: 'piped\n' });
    const inspect = JSON.parse((await vms(['inspect', id, '--json'])).stdout);
    expect(inspect).toMatchObject({
      backend: 'docker',
      state: 'running',
      properties: { image: IMAGE },
    });
    expect(inspect.properties.labels.suite).toBe('cli');
    if (!ptyUnavailableReason()) {
      const shell = await runVmsInPty(project, ['shell', id], 'echo in-shell-$((1+2))\nexit 3\n');
      expect(shell.stdout).toContain('in-shell-3');
      expect(shell.code).toBe(3);
    }
    const suspend = await vms(['suspend', id, '--json']);
    expect(JSON.parse(suspend.stdout)).toMatchObject({ state: 'suspended' });
    const stop = await vms(['stop', id, '--json']);
    expect(JSON.parse(stop.stdout)).toMatchObject({ ok: true, state: 'stopped' });
    const del = await vms(['delete', id]);
    expect(del.code).toBe(0);
    expect((await vms(['list', '--json', '--backend', 'docker'])).stdout).not.toContain(`"${id}"`);
    expect((await vms(['start', id])).code).toBe(3);
  });

  // Start-up cost (issue 13): what Node loaded for a one-shot exec, seen from inside the process.
  it('a one-shot exec loads no undici/tls (node:http taken without an ES module namespace)', async () => {
    const quick = `${id}-quick`;
    const preload = join(project.dir, 'builtins-at-exit.cjs');
    const report = join(project.dir, 'builtins.json');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList)));\n`,
    );
    try {
      const labels = ['--label', `dev.vms.test-run=${testRunId()}`];
      const create = await vms([
        'create',
        quick,
        '--image',
        IMAGE,
        '--opt',
        'network=none',
        ...labels,
        '--start',
      ]);
      expect(create.code).toBe(0);
      const exec = await vms(['exec', quick, '--', 'true'], {
        env: { NODE_OPTIONS: `--require ${preload}` },
      });
      expect(exec).toMatchObject({ code: 0, stderr: '' });
      const loaded = JSON.parse(readFileSync(report, 'utf8')) as string[];
      expect(loaded).toContain('NativeModule _http_client'); // it did talk HTTP to the engine
      expect(loaded.filter((m) => /undici|NativeModule tls$|http2/.test(m))).toEqual([]);
    } finally {
      await vms(['delete', quick]);
    }
  });
});

// A user's `vms demo` runs a real image that pulls (alpine), never the project's CI test image.
// There is no public registry here, so the pull is refused (`pull=never`) and the error must name
// the image the demo chose; where alpine is already local the demo would just run: skipped.
function alpineIsLocal(): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', 'alpine'], { stdio: 'pipe', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
describe.skipIf(reason !== undefined)('vms demo on docker', () => {
  const labelled = ['--options-json', JSON.stringify({ labels: testRunLabels() })];
  it.skipIf(alpineIsLocal())(
    'uses alpine by default (not the test image), and says so',
    async () => {
      const project = makeProject({ workspace: ['docker'] });
      try {
        const r = await runVms(
          project,
          ['demo', '--backend', 'docker', '--opt', 'pull=never', ...labelled, '--json'],
          {
            timeoutMs: 120_000,
          },
        );
        const result = JSON.parse(r.stdout);
        expect(result).toMatchObject({ ok: false, backend: 'docker', image: 'alpine' });
        expect(result.error.code).toBe('NOT_FOUND');
        expect(result.error.message).toContain('alpine');
        expect(r.code).toBe(3);
        const text = await runVms(
          project,
          ['demo', '--backend', 'docker', '--opt', 'pull=never', ...labelled],
          {
            timeoutMs: 120_000,
          },
        );
        expect(text.stdout).toMatch(/^demo on docker: docker:vms-demo-\S+ \(image alpine\)$/m);
      } finally {
        project.cleanup();
      }
    },
  );

  it('runs the lifecycle on the image it is given (what scripts/quickstart.sh passes)', async () => {
    const project = makeProject({ workspace: ['docker'] });
    try {
      const r = await runVms(
        project,
        ['demo', '--backend', 'docker', '--image', IMAGE, ...labelled, '--json'],
        {
          timeoutMs: 180_000,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({ ok: true, backend: 'docker', image: IMAGE });
      expect(result.steps.map((s: { step: string }) => s.step)).toEqual([
        'create',
        'start',
        'exec',
        'suspend',
        'resume',
        'stop',
        'delete',
      ]);
      const left = execFileSync('docker', [
        'ps',
        '-aq',
        '--filter',
        `name=^${result.instance.split(':')[1]}$`,
      ]);
      expect(left.toString().trim()).toBe('');
    } finally {
      project.cleanup();
    }
  });
});

// `vms create` of an image the engine lacks pulls it from a local registry (this file starts and
// seeds it): two plain lines when stderr is piped, a progress bar on a terminal.
const pullSkip = reason ?? registrySkipReason();
describe.skipIf(pullSkip !== undefined)(
  'vms create pulls with progress (real docker, local registry)',
  () => {
    const fixture = pullFixture({ beforeAll, afterAll }, { engine: 'docker', image: IMAGE });
    let project: Project;
    const base = `docker:vmscli-pull-${process.pid}`;
    beforeAll(() => {
      project = makeProject({ workspace: ['docker'] });
    });
    afterAll(() => project?.cleanup());
    const create = (name: string) => [
      'create',
      name,
      '--image',
      fixture.refs.big,
      '--label',
      `dev.vms.test-run=${testRunId()}`,
      '--label',
      `dev.vms.test-suite=${fixture.run}`,
    ];
    const fresh = () => {
      const id = fixture.ids[fixture.refs.big];
      if (id) fixture.removeLocal(id);
      expect(fixture.localId(fixture.refs.big)).toBeUndefined();
    };

    it('piped: one line when the pull starts, one with its totals, no control codes', async () => {
      fresh();
      const r = await runVms(project, create(`${base}-piped`), { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /^pulling \S+\/big:1 …\npulled \S+\/big:1: 3\.0 MB\/3\.0 MB 2\/2 parts \(.+\)\n$/,
      );
      expect(r.stderr).not.toContain('\x1b');
      expect(fixture.localId(fixture.refs.big)).toBe(fixture.ids[fixture.refs.big]);
      expect((await runVms(project, ['delete', `${base}-piped`])).code).toBe(0);
    });

    it.skipIf(ptyUnavailableReason() !== undefined)('on a terminal: a progress bar', async () => {
      fresh();
      const r = await runVmsInPty(project, create(`${base}-tty`), '', 120_000);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/pulled \S+\/big:1 \[█{20}\] 3\.0 MB\/3\.0 MB 2\/2 parts/);
      expect((await runVms(project, ['delete', `${base}-tty`])).code).toBe(0);
    });
  },
);
