/**
 * Containers on the engine inside a qemu VM, forwarded over SSH, with the real test guest.
 *
 * The test guest (busybox + dropbear 2022.83) has no container engine, so the engine is a
 * private dockerd on this host in its own network namespace (never the shared one). This file
 * relays that dockerd's unix socket to 127.0.0.1:PORT; the guest reaches it at 10.0.2.2:PORT
 * (slirp's address of the host). `createDocker({ engine: { vm, guestAddress: 'tcp://10.0.2.2:PORT' } })`
 * makes @vms forward a local unix socket into the guest over SSH (`ssh -L sock:10.0.2.2:PORT`),
 * so every engine call travels host → ssh → dropbear in the guest → slirp → relay → dockerd.
 * The default remote, the guest's /var/run/docker.sock, needs an SSH server that forwards to
 * unix sockets (OpenSSH); dropbear 2022.83 refuses, and that refusal is tested as the clear error
 * users get.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type PrivateDockerd,
  privateDockerd,
  privateDockerdSkipReason,
  TEST_IMAGE,
  testEngine,
} from '@vms/container-engine/testing';
import { createInstance, type Instance, VmsError, waitFor } from '@vms/core';
import { testRunLabels } from '@vms/core/testing';
import { createDocker } from '@vms/docker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  guest,
  guestOptions,
  processesUnder,
  skipReason,
  sweep,
  useTempHome,
} from '../test/guest.js';
import { createQemu } from './backend.js';
import { forwardArgv, forwardPaths, forwardTarget } from './engine-forward.js';
import { readCmdline } from './process.js';

describe('the SSH forward command', () => {
  it('forwards a local unix socket to a guest socket path or to HOST:PORT as the guest sees it', () => {
    const target = {
      host: '127.0.0.1',
      port: 2222,
      user: 'root',
      privateKey: '/k',
      knownHosts: '/kh',
      alias: 'vms-dev',
    };
    const argv = forwardArgv(target, '/d/engine-docker.sock', '/var/run/docker.sock');
    expect(argv.slice(0, 2)).toEqual(['ssh', '-nNT']);
    expect(argv.slice(-5)).toEqual([
      '-p',
      '2222',
      '-L',
      '/d/engine-docker.sock:/var/run/docker.sock',
      'root@127.0.0.1',
    ]);
    expect(argv).toEqual(
      expect.arrayContaining(['ExitOnForwardFailure=yes', 'StrictHostKeyChecking=yes']),
    );
    expect(forwardTarget('tcp://10.0.2.2:2375')).toBe('10.0.2.2:2375');
    expect(forwardPaths('/d', 'podman').socket).toBe('/d/engine-podman.sock');
    expect(forwardPaths(`/${'x'.repeat(120)}`, 'docker').socket).toMatch(
      new RegExp(`^${tmpdir()}/vms-qemu-[0-9a-f]{20}-docker\\.sock$`),
    );
  });
});

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
const reason = skipReason ?? engine.unavailableReason() ?? privateDockerdSkipReason();
if (reason) console.warn(`[skipped] qemu engine forward: ${reason}`);

describe.skipIf(reason !== undefined)(
  'qemu: docker on the engine inside the VM, over SSH (TCG)',
  () => {
    const run = Math.random().toString(36).slice(2, 8);
    const backend = createQemu();
    let home = '';
    let d: PrivateDockerd;
    let relay: net.Server;
    let port = 0;
    let relayed = 0;
    const vms: Instance[] = [];

    beforeAll(async () => {
      home = useTempHome('vq-eng-');
      d = privateDockerd(mkdtempSync(join(tmpdir(), 'vms-qemu-d2-')));
      await d.start();
      relay = net.createServer((client) => {
        relayed += 1;
        const upstream = net.connect(d.socket);
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close);
        upstream.on('error', close);
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      port = (relay.address() as net.AddressInfo).port;
    }, 300_000);

    afterAll(async () => {
      for (const vm of vms) await vm.delete({ timeoutMs: 60_000 }).catch(() => undefined);
      if (home) sweep(home);
      relay?.close();
      await d?.stop();
      if (d) rmSync(d.dir, { recursive: true, force: true });
    }, 300_000);

    const vmOptions = () => guestOptions(guest!, { restrictNetwork: false });
    const container = (docker: ReturnType<typeof createDocker>, n: number) =>
      createInstance(docker, `vqeng-${run}-${n}`, {
        image: TEST_IMAGE,
        labels: testRunLabels(),
      });
    const forwards = (dir: string) =>
      processesUnder(dir).filter((pid) => readCmdline(pid)?.[0] === 'ssh');

    it('runs, execs and deletes a container through the guest; starts the stopped VM; the forward is reused and ends with the VM', async () => {
      const vm = createInstance(backend, `eng${run}`, vmOptions());
      vms.push(vm);
      await vm.create();
      const docker = createDocker({ engine: { vm, guestAddress: `tcp://10.0.2.2:${port}` } });
      const web = container(docker, 1);
      await web.create();
      // The VM was booted for it, and the engine is the forward's socket in the instance dir.
      expect(vm.state.name).toBe('running');
      const dir = String((await vm.inspect()).properties.extra?.instanceDir);
      expect(docker.endpoint()).toBe(`unix://${forwardPaths(dir, 'docker').socket}`);
      const [pid, ...more] = forwards(dir);
      expect(more).toEqual([]);
      expect(readCmdline(pid!)).toEqual(
        expect.arrayContaining(['-L', `${forwardPaths(dir, 'docker').socket}:10.0.2.2:${port}`]),
      );
      await web.start();
      expect(await web.exec(['echo', 'through-the-guest'])).toMatchObject({
        exitCode: 0,
        stdout: 'through-the-guest\n',
      });
      // Observed in the private engine itself; the relay saw the guest's connections.
      expect(d.cli('inspect', '--format', '{{.State.Status}}', web.name).trim()).toBe('running');
      expect(relayed).toBeGreaterThan(0);
      expect(() => execFileSync('docker', ['inspect', web.name], { stdio: 'pipe' })).toThrow();
      expect((await web.delete()).existed).toBe(true);
      expect(d.cli('ps', '-aq', '--filter', `name=${web.name}`).trim()).toBe('');

      // Reused: the same ssh process serves the next call.
      await vm.engineEndpoint({ kind: 'docker', guestAddress: `tcp://10.0.2.2:${port}` });
      expect(forwards(dir)).toEqual([pid]);
      // Stopping the VM ends the forward: no ssh left, no socket.
      await vm.stop();
      await waitFor(async () => forwards(dir).length === 0, {
        description: 'the forward to end',
        timeoutMs: 10_000,
      });
      expect(existsSync(forwardPaths(dir, 'docker').socket)).toBe(false);

      // The default remote (/var/run/docker.sock): dropbear has no unix-socket forwarding.
      await vm.start();
      const error = await vm.engineEndpoint({ kind: 'docker' }).catch((e: unknown) => e);
      expect(VmsError.hasCode(error, 'OPERATION_FAILED')).toBe(true);
      expect((error as Error).message).toBe(
        `the SSH server of qemu:${vm.name} did not forward to /var/run/docker.sock: open failed: unknown channel type`,
      );
      expect((error as VmsError).hint).toMatch(/dropbear before 2024\.84 does not/);
      expect(forwards(dir)).toEqual([]);
      await docker.close();
    });

    it('deleting the VM first: the next container op is BACKEND_UNAVAILABLE at once, and no ssh is left', async () => {
      const vm = createInstance(backend, `gone${run}`, vmOptions());
      vms.push(vm);
      await vm.create();
      await vm.start();
      const dir = String((await vm.inspect()).properties.extra?.instanceDir);
      const docker = createDocker({ engine: { vm, guestAddress: `tcp://10.0.2.2:${port}` } });
      const web = container(docker, 2);
      await web.create();
      expect(forwards(dir)).toHaveLength(1);
      await vm.delete();
      expect(forwards(dir)).toEqual([]);
      const started = Date.now();
      const error = await web.start({ timeoutMs: 120_000 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error).toMatchObject({
        code: 'BACKEND_UNAVAILABLE',
        message: `backend docker is unavailable: its engine's VM qemu:${vm.name} is not usable: qemu:${vm.name} does not exist`,
      });
      // The container is still in the engine (only its VM is gone): remove it there.
      d.cli('rm', '-f', web.name);
      await docker.close();
    });
  },
);
