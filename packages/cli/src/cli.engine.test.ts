/**
 * `vms create docker:NAME --on colima:VM`: a container on the engine inside a VM, from the
 * built CLI, with @vms/docker and @vms/lima linked in and the fake colima (driving the fake
 * limactl) on PATH; the fake VM's docker socket relays to this host's engine, where the
 * container is observed and, labelled with the run, swept afterwards. Also: `vms backends`
 * lists colima with why it is unavailable when colima is not installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRunId } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  killProcessesUnder,
  makeProject,
  PACKAGES_DIR,
  type Project,
  runVms,
} from './test-support/project.js';

const IMAGE = 'vms-test/busybox:latest';

function unavailableReason(): string | undefined {
  for (const pkg of ['docker', 'lima']) {
    if (!existsSync(join(PACKAGES_DIR, pkg, 'dist', 'index.js'))) return `@vms/${pkg} is not built`;
  }
  try {
    execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', IMAGE], {
      stdio: 'pipe',
      timeout: 30_000,
    });
  } catch {
    return `docker engine or image ${IMAGE} unavailable`;
  }
  return undefined;
}

const reason = unavailableReason();
if (reason) console.warn(`skipping the --on tests of @vms/cli: ${reason}`);

/** @vms/lima's fake colima and fake limactl, as `colima`, `limactl` and `lima` in a bin dir. */
function fakeColima() {
  const root = mkdtempSync(join(tmpdir(), 'vms-cli-colima-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const fakes = join(PACKAGES_DIR, 'lima', 'test');
  symlinkSync(join(fakes, 'fake-colima.mjs'), join(bin, 'colima'));
  symlinkSync(join(fakes, 'fake-limactl.mjs'), join(bin, 'limactl'));
  symlinkSync(join(fakes, 'fake-limactl.mjs'), join(bin, 'lima'));
  mkdirSync(join(root, 'home'));
  return {
    home: join(root, 'home'),
    path: `${bin}:${process.env.PATH ?? ''}`,
    cleanup: () => {
      killProcessesUnder(root);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

describe.skipIf(reason !== undefined)('vms: containers on the engine inside a VM (--on)', () => {
  let project: Project;
  let fake: ReturnType<typeof fakeColima>;
  const run = `cli${process.pid}${Date.now().toString(36)}`;
  const suite = `dev.vms.test-suite=${run}`;
  const vm = `colima:eng${process.pid % 10000}`;
  const web = `docker:web-${run}`;
  const vms = (args: string[]) =>
    runVms(project, args, {
      timeoutMs: 180_000,
      env: { PATH: fake.path, COLIMA_HOME: fake.home },
    });

  beforeAll(() => {
    fake = fakeColima();
    project = makeProject({ workspace: ['docker', 'lima'] });
  });
  afterAll(async () => {
    await vms(['delete', vm]).catch(() => undefined);
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${suite}`], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'pipe' });
    fake?.cleanup();
    project?.cleanup();
  }, 180_000);

  it('lists colima as a backend of @vms/lima, available with its version', async () => {
    const rows = JSON.parse((await vms(['backends', '--json'])).stdout).backends as Array<
      Record<string, unknown>
    >;
    expect(rows.find((b) => b.backend === 'colima')).toMatchObject({
      package: '@vms/lima',
      installed: true,
      available: true,
      toolVersion: '0.8.4',
    });
  });

  it('create --on starts the VM for the container, later commands remember it, and a deleted VM is a clear error', async () => {
    const created = await vms([
      'create',
      vm,
      '--cpus',
      '1',
      '--memory',
      '1G',
      '--opt',
      'runtime=docker',
    ]);
    expect(created).toMatchObject({ code: 0 });
    const c = await vms([
      'create',
      web,
      '--on',
      vm,
      '--image',
      IMAGE,
      '--label',
      `dev.vms.test-run=${testRunId()}`,
      '--label',
      suite,
      '--start',
      '--json',
    ]);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ ok: true, state: 'running', on: vm });
    // No --on any more: the container's VM is remembered.
    const memory = join(
      String(project.env.VMS_HOME),
      'cli',
      'engine-hosts',
      'docker',
      `${web.slice('docker:'.length)}.json`,
    );
    expect(JSON.parse(readFileSync(memory, 'utf8'))).toEqual({ on: vm });
    expect(await vms(['exec', web, '--', 'echo', 'on-the-vm'])).toMatchObject({
      code: 0,
      stdout: 'on-the-vm\n',
    });
    const inspected = JSON.parse((await vms(['inspect', vm, '--json'])).stdout);
    expect(inspected.state).toBe('running');
    expect(
      execFileSync(
        'docker',
        ['inspect', '--format', '{{.State.Status}}', web.slice('docker:'.length)],
        {
          encoding: 'utf8',
        },
      ).trim(),
    ).toBe('running');

    expect((await vms(['delete', vm])).code).toBe(0);
    const after = await vms(['exec', web, '--', 'true']);
    expect(after.code).toBe(4);
    expect(after.stderr).toContain(`its engine's VM ${vm} is not usable: ${vm} does not exist`);
    const del = await vms(['delete', web]);
    expect(del).toMatchObject({ code: 0 });
    expect(del.stderr).toContain(`${web} went with its engine's VM ${vm}`);
    // Forgotten: a later docker:web is the host engine's again.
    expect(existsSync(memory)).toBe(false);
  });

  it('--on needs a container backend and a BACKEND:NAME', async () => {
    const r = await vms(['create', 'colima:x', '--on', vm]);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toContain('--on needs a container backend (docker, podman)');
    const bad = await vms(['create', 'docker:y', '--on', 'dev', '--image', IMAGE]);
    expect(bad.stderr).toContain('is not a VM instance');
  });
});

const limaBuilt = existsSync(join(PACKAGES_DIR, 'lima', 'dist', 'index.js'));
describe('vms backends without colima installed', () => {
  it.skipIf(!limaBuilt)('lists colima with why it is unavailable and what to install', async () => {
    const project = makeProject({ workspace: ['lima'] });
    try {
      const r = await runVms(project, ['backends', '--json'], { env: { PATH: '/usr/bin:/bin' } });
      const row = (JSON.parse(r.stdout).backends as Array<Record<string, unknown>>).find(
        (b) => b.backend === 'colima',
      );
      expect(row).toMatchObject({
        package: '@vms/lima',
        available: false,
        reason: 'colima not found on PATH',
        hint: expect.stringContaining('colima'),
      });
    } finally {
      project.cleanup();
    }
  });
});
