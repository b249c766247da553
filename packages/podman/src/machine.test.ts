/**
 * podman-machine against the fake `podman` (src/__fixtures__/fake-podman.mjs, following podman
 * 5.8.2 and 4.x): lifecycle, exact argv, both JSON shapes, and injected faults.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInstance, VmsError } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createPodmanMachine } from './machine.js';

const FAKE = fileURLToPath(new URL('./__fixtures__/fake-podman.mjs', import.meta.url));
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function setup(version = '5.8.2', extraEnv: Record<string, string> = {}) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'vms-fake-podman-'));
  homes.push(home);
  const log = path.join(home, 'calls.jsonl');
  const env = {
    FAKE_PODMAN_HOME: home,
    FAKE_PODMAN_LOG: log,
    FAKE_PODMAN_VERSION: version,
    ...extraEnv,
  };
  const backend = createPodmanMachine({ binary: FAKE, env });
  const calls = (): string[][] => {
    try {
      return readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]);
    } catch {
      return [];
    }
  };
  return { home, backend, calls, env };
}

async function codeOf(p: Promise<unknown>): Promise<VmsError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(VmsError.isInstance(error), `expected a VmsError, got ${String(error)}`).toBe(true);
  return error as VmsError;
}

describe('podman-machine on the fake podman 5.x', () => {
  it('walks init → start → exec → stop → rm -f with the exact argv', async () => {
    const { backend, calls } = setup('5.8.2');
    const vm = createInstance(backend, 'vmsm1', {
      cpus: 2,
      memoryMiB: 2048,
      diskGiB: 20,
      image: '/images/machine-os.qcow2',
    });
    await vm.create();
    expect(calls()).toContainEqual([
      'machine',
      'init',
      '--cpus',
      '2',
      '--memory',
      '2048',
      '--disk-size',
      '20',
      '--image',
      '/images/machine-os.qcow2',
      'vmsm1',
    ]);
    let seen = await vm.inspect();
    expect(seen.state.name).toBe('stopped');
    expect(seen.properties).toMatchObject({ cpus: 2, memoryMiB: 2048, diskGiB: 20 });
    expect(seen.properties.ssh).toMatchObject({ host: '127.0.0.1', user: 'core' });

    await vm.start();
    seen = await vm.inspect();
    expect(seen.state.name).toBe('running');

    const r = await vm.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    // argv survives the remote shell: podman joins the words for ssh.
    const q = await vm.exec(['printf', '%s|', 'a b', "it's", '$HOME', '']);
    expect(q.stdout).toBe("a b|it's|$HOME||");
    const e = await vm.exec(['sh', '-c', 'echo "$GREETING"; pwd'], {
      env: { GREETING: 'hi there' },
      cwd: '/tmp',
    });
    expect(e.stdout).toBe('hi there\n/tmp\n');
    const sshCall = calls().find((c) => c[1] === 'ssh');
    // Flags only before NAME; no `--` after it (SetInterspersed(false) would pass it on).
    expect(sshCall?.slice(0, 3)).toEqual(['machine', 'ssh', 'vmsm1']);
    expect(sshCall).not.toContain('--');

    const listed = await backend.list({ signal: AbortSignal.timeout(10_000) });
    expect(listed.find((m) => m.name === 'vmsm1')).toMatchObject({
      state: 'running',
      properties: { cpus: 2, memoryMiB: 2048, diskGiB: 20 },
    });

    expect((await vm.stop()).how).toBe('graceful');
    expect((await vm.inspect()).state.name).toBe('stopped');
    expect(await vm.delete()).toEqual({ existed: true });
    const rm = calls().filter((c) => c[1] === 'rm');
    expect(rm).toEqual([['machine', 'rm', '-f', 'vmsm1']]);
    expect((await vm.refresh()).state.name).toBe('deleted');
  });

  it('a timed-out exec ends the remote command too', async () => {
    const { backend } = setup('5.8.2');
    const vm = createInstance(backend, 'vmsm2', {});
    await vm.create();
    await vm.start();
    const marker = `1000.${process.pid}`;
    const error = await codeOf(vm.exec(['sleep', marker], { timeoutMs: 1_000 }));
    expect(error.code).toBe('TIMEOUT');
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps).not.toContain(`sleep ${marker}`);
    await vm.delete();
  });

  it('an existing name is ALREADY_EXISTS; an invalid one INVALID_OPTIONS', async () => {
    const { backend } = setup('5.8.2');
    const a = createInstance(backend, 'vmsm3', {});
    await a.create();
    const b = createInstance(backend, 'vmsm3', {});
    expect((await codeOf(b.create())).code).toBe('ALREADY_EXISTS');
    // The driver's own mapping of podman's "VM already exists" (core may catch it earlier).
    const ctx = {
      signal: AbortSignal.timeout(30_000),
      deadline: Date.now() + 30_000,
      progress: () => {},
      debug: () => {},
    };
    const exists = await codeOf(
      backend.driver('vmsm3', { ports: [], mounts: [], env: {}, labels: {} }).doCreate(ctx),
    );
    expect(exists.code).toBe('ALREADY_EXISTS');
    expect(exists.hint).toMatch(/machine rm -f vmsm3/);
    const long = await codeOf((async () => createInstance(backend, 'x'.repeat(31), {}).create())());
    expect(long.code).toBe('INVALID_OPTIONS');
    await a.delete();
  });

  it('exec on a stopped machine is refused with a typed error', async () => {
    const { backend } = setup('5.8.2');
    const vm = createInstance(backend, 'vmsm4', {});
    await vm.create();
    const error = await codeOf(vm.exec(['true']));
    expect(error.code).toBe('INVALID_TRANSITION');
    await vm.delete();
  });
});

describe('podman-machine on the fake podman 4.x', () => {
  it('uses --image-path and reads the 4.x inspect shape (State "" before the first start)', async () => {
    const { backend, calls } = setup('4.9.5');
    const vm = createInstance(backend, 'vmsm5', { image: '/images/fcos.qcow2', memoryMiB: 1024 });
    await vm.create();
    const init = calls().find((c) => c[1] === 'init');
    expect(init).toContain('--image-path');
    expect(init).not.toContain('--image');
    const seen = await vm.inspect();
    expect(seen.state.name).toBe('stopped');
    expect(seen.properties.memoryMiB).toBe(1024);
    expect(seen.properties.image).toBe('/images/fcos.qcow2');
    await vm.start();
    expect((await vm.inspect()).state.name).toBe('running');
    await vm.delete();
  });
});

describe('podman-machine faults', () => {
  it('a hanging `machine start` ends at the deadline with TIMEOUT', async () => {
    const { backend } = setup('5.8.2', { FAKE_PODMAN_FAULT: 'hang:start' });
    const vm = createInstance(backend, 'vmsm6', {});
    await vm.create();
    const error = await codeOf(vm.start({ timeoutMs: 1_500 }));
    expect(error.code).toBe('TIMEOUT');
    await vm.delete();
  });

  it('a crashing `machine inspect` is COMMAND_FAILED carrying the panic', async () => {
    const { backend } = setup('5.8.2', { FAKE_PODMAN_FAULT: 'crash:inspect' });
    const vm = createInstance(backend, 'vmsm7', {});
    const error = await codeOf(vm.refresh());
    expect(error.code).toBe('COMMAND_FAILED');
    expect(error.message).toMatch(/panic|exit code 2/);
  });

  it('malformed JSON from inspect and list is PROTOCOL_ERROR', async () => {
    const inspect = setup('5.8.2', { FAKE_PODMAN_FAULT: 'malformed:inspect' });
    const vm = createInstance(inspect.backend, 'vmsm8', {});
    expect((await codeOf(vm.refresh())).code).toBe('PROTOCOL_ERROR');
    const list = setup('5.8.2', { FAKE_PODMAN_FAULT: 'malformed:list' });
    expect((await codeOf(list.backend.list({ signal: AbortSignal.timeout(10_000) }))).code).toBe(
      'PROTOCOL_ERROR',
    );
  });

  it('running as root is reported as unavailable with a hint', async () => {
    const { backend } = setup('5.8.2', { FAKE_PODMAN_AS_ROOT: '1' });
    const detected = await backend.detect();
    expect(detected.available).toBe(false);
    expect(detected.reason).toMatch(/root/);
    // Whoever reports the result says "backend podman-machine is unavailable" once.
    expect(detected.reason).not.toMatch(/is unavailable/);
    expect(detected.hint).toMatch(/rootless|regular/);
  });

  it('a missing binary is unavailable with an install hint', async () => {
    const backend = createPodmanMachine({ binary: '/nonexistent/podman' });
    const detected = await backend.detect();
    expect(detected.available).toBe(false);
    expect(detected.reason).toBe('/nonexistent/podman not found');
    expect(detected.hint).toMatch(/install/);
  });
});
