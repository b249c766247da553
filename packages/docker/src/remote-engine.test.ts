/**
 * Remote engines: a second dockerd, started by this file on its own unix socket (own data-root,
 * exec-root and pidfile; no bridge, no iptables; in its own network and mount namespaces),
 * reached through the `host` setting, DOCKER_HOST, a docker context and DOCKER_CONTEXT — over
 * both transports. Stopped and removed in afterAll.
 *
 * Its own mount namespace keeps its overlay and netns mounts out of the host's: they go when it
 * does, so removing its data-root cannot fail with EBUSY (seen on a fresh machine). It also dies
 * with the test worker (`setpriv --pdeathsig KILL`), and the teardown unmounts anything still
 * mounted under its dir before removing it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerSkipReason, mountsUnder, removeEngineDir, TEST_IMAGE } from './test-helpers.js';

function dockerdSkipReason(): string | undefined {
  const base = dockerSkipReason();
  if (base) return base;
  try {
    execFileSync('dockerd', ['--version'], { stdio: 'pipe' });
    execFileSync('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', ...NAMESPACES, 'true'], {
      stdio: 'pipe',
    });
    return process.getuid?.() === 0 ? undefined : 'starting a second dockerd needs root';
  } catch {
    return 'dockerd, setpriv or unshare --net --mount is not available';
  }
}

const NAMESPACES = ['--net', '--mount', '--propagation', 'private'];

const skip = dockerdSkipReason();
if (skip) console.warn(`[skipped] remote engine tests: ${skip}`);

describe.skipIf(skip !== undefined)('docker: a remote engine on its own socket', () => {
  // Made in beforeAll, so a skipped or filtered-out run leaves no dir behind.
  let dir = '';
  let host = '';
  let config = '';
  let dockerd: ChildProcess | undefined;
  const instances: Instance[] = [];
  const run = Math.random().toString(36).slice(2, 8);

  const remote = (args: string[]) =>
    execFileSync('docker', ['--host', host, ...args], { encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vms-d2-'));
    host = `unix://${dir}/docker.sock`;
    config = path.join(dir, 'config');
    // Its own network namespace: with --bridge=none dockerd deletes `docker0`, which must only
    // happen to the namespace's (absent) one, never to the main engine's bridge.
    dockerd = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        ...NAMESPACES,
        '--',
        'dockerd',
        '--host',
        host,
        '--data-root',
        path.join(dir, 'root'),
        '--exec-root',
        path.join(dir, 'exec'),
        '--pidfile',
        path.join(dir, 'dockerd.pid'),
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    dockerd.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 90_000;
    // Wait on the real condition: the new engine answers.
    for (;;) {
      try {
        remote(['version', '--format', '{{.Server.Version}}']);
        break;
      } catch {
        if (dockerd.exitCode !== null || Date.now() > deadline)
          throw new Error(`second dockerd did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // No registry: copy the test image over from the main engine.
    const image = execFileSync('docker', ['save', TEST_IMAGE], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync('docker', ['--host', host, 'load'], {
      input: image,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    execFileSync(
      'docker',
      ['--config', config, 'context', 'create', `vms-remote-${run}`, '--docker', `host=${host}`],
      {
        stdio: 'pipe',
      },
    );
  }, 180_000);

  afterAll(async () => {
    for (const vm of instances) await vm.delete().catch(() => undefined);
    if (dockerd && dockerd.exitCode === null && dockerd.signalCode === null) {
      const exited = new Promise((r) => dockerd?.once('exit', r));
      dockerd.kill('SIGTERM');
      // A dockerd that does not end on SIGTERM within its shutdown timeout is killed.
      const timer = setTimeout(() => dockerd?.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    }
    if (!dir) return;
    removeEngineDir(dir);
    // Observed, not trusted: nothing of it is left mounted or on disk.
    expect(mountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  const cases = [
    { how: 'host setting', settings: () => ({ host }) },
    { how: 'DOCKER_HOST', settings: () => ({ env: { DOCKER_HOST: host } }) },
    {
      how: 'context setting',
      settings: () => ({ context: `vms-remote-${run}`, env: { DOCKER_CONFIG: config } }),
    },
    {
      how: 'DOCKER_CONTEXT',
      settings: () => ({ env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: `vms-remote-${run}` } }),
    },
  ];
  for (const c of cases) {
    for (const transport of ['api', 'cli'] as const) {
      it(`reaches it through the ${c.how} (${transport})`, async () => {
        const backend = createDocker({ transport, ...c.settings() });
        expect(backend.endpoint()).toBe(host);
        expect((await backend.engine()).transport).toBe(transport);
        const name = `vmsremote-${run}-${transport}-${c.how.replace(/\W+/g, '').toLowerCase()}`;
        const vm = createInstance(backend, name, { image: TEST_IMAGE });
        instances.push(vm);
        await vm.create();
        await vm.start();
        expect((await vm.exec(['echo', 'remote'])).stdout).toBe('remote\n');
        // It lives in the second engine, not in the default one.
        expect(remote(['inspect', '--format', '{{.State.Status}}', name]).trim()).toBe('running');
        expect(() => execFileSync('docker', ['inspect', name], { stdio: 'pipe' })).toThrow();
        const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
        expect(listed.map((i) => i.name)).toContain(name);
        expect((await vm.delete()).existed).toBe(true);
        await backend.close();
      });
    }
  }

  it('a context that does not exist is NOT_FOUND with a hint', async () => {
    const backend = createDocker({ context: 'no-such-context', env: { DOCKER_CONFIG: config } });
    const vm = createInstance(backend, `vmsremote-${run}-nocontext`, { image: TEST_IMAGE });
    await expect(vm.create()).rejects.toMatchObject({
      code: 'NOT_FOUND',
      hint: expect.stringMatching(/context/),
    });
  });
});

describe.skipIf(process.getuid?.() !== 0)(
  'docker: removing an engine dir that still has mounts',
  () => {
    it('unmounts what is mounted under it (deepest first), then removes it', () => {
      // What a dockerd killed mid-way leaves in the host's namespace: its root bind-mounted onto
      // itself with a mount inside. A plain recursive rm fails with EBUSY on it.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-d2-teardown-'));
      const root = path.join(dir, 'root');
      mkdirSync(path.join(root, 'overlay2'), { recursive: true });
      execFileSync('mount', ['--bind', root, root]);
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(root, 'overlay2')]);
      expect(mountsUnder(dir)).toEqual([path.join(root, 'overlay2'), root]);
      removeEngineDir(dir);
      expect(mountsUnder(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    });
  },
);
