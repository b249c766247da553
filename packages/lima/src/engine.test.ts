/**
 * Containers on the engine inside a lima or colima VM, through the ordinary docker backend:
 * `createDocker({ engine: { vm } })`. The VMs are the fakes' (fake-colima driving fake-limactl);
 * their docker socket forward relays, as a guest sharing this host's filesystem would, to this
 * host's docker engine, where the containers are observed directly (`docker inspect`), labelled
 * with the run and swept afterwards.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TEST_IMAGE, TEST_SUITE_LABEL, testEngine } from '@vms/container-engine/testing';
import { createInstance, type Instance, VmsError } from '@vms/core';
import { testRunLabels } from '@vms/core/testing';
import { createDocker } from '@vms/docker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeColima, installFakeColima } from '../test/fake-colima.js';
import { createColima, createLima } from './index.js';

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
const skip = engine.unavailableReason();
if (skip) console.warn(`[skipped] containers on a lima/colima VM's engine: ${skip}`);

const HOST_SOCKET = '/var/run/docker.sock';

describe.skipIf(skip !== undefined)("docker on a lima or colima VM's engine (fakes)", () => {
  const run = Math.random().toString(36).slice(2, 8);
  let fake: FakeColima;
  const vms: Instance[] = [];
  let n = 0;

  beforeAll(() => {
    fake = installFakeColima();
    process.env.VMS_HOME = join(fake.root, 'vms-home');
  });

  afterAll(async () => {
    for (const vm of vms) await vm.delete({ timeoutMs: 60_000 }).catch(() => undefined);
    await engine.sweepTestSuite(run);
    fake.cleanup();
  }, 180_000);

  const container = (docker: ReturnType<typeof createDocker>) => {
    n += 1;
    return createInstance(docker, `vmeng-${run}-${n}`, {
      image: TEST_IMAGE,
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
    });
  };
  const inEngine = (name: string) =>
    execFileSync('docker', ['inspect', '--format', '{{.State.Status}}', name], {
      encoding: 'utf8',
    }).trim();

  it('colima: a container runs, execs and is deleted on the VM’s docker socket; the stopped VM is started for it', async () => {
    const colima = createColima({ colimaHome: fake.home });
    const vm = createInstance(colima, `eng${run}`, { runtime: 'docker' });
    vms.push(vm);
    await vm.create();
    expect((await vm.refresh()).state.name).toBe('stopped');
    const docker = createDocker({ engine: { vm } });
    const web = container(docker);
    await web.create();
    expect(vm.state.name).toBe('running');
    // The endpoint is colima's socket in the profile directory, not the host's.
    expect(docker.endpoint()).toBe(`unix://${join(fake.home, vm.name, 'docker.sock')}`);
    expect(fs.statSync(join(fake.home, vm.name, 'docker.sock')).isSocket()).toBe(true);
    await web.start();
    expect(await web.exec(['echo', 'on-colima'])).toMatchObject({
      exitCode: 0,
      stdout: 'on-colima\n',
    });
    expect(inEngine(web.name)).toBe('running');
    expect((await web.delete()).existed).toBe(true);
    expect(() => execFileSync('docker', ['inspect', web.name], { stdio: 'pipe' })).toThrow();

    // Deleting the VM first: the next container op fails at once with a typed error naming it.
    const db = container(docker);
    await db.create();
    await vm.delete();
    const started = Date.now();
    const error = await db.start({ timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(VmsError.hasCode(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toBe(
      `backend docker is unavailable: its engine's VM colima:${vm.name} is not usable: colima:${vm.name} does not exist`,
    );
    await docker.close();
  });

  it('colima before 0.8.1 (no status --json): the socket comes from the status log lines', async () => {
    for (const version of ['0.8.0', '0.6.10']) {
      fake.setFaults({ version });
      const colima = createColima({ colimaHome: fake.home });
      const vm = createInstance(colima, `old${run}${version.replaceAll('.', '')}`, {
        runtime: 'docker',
      });
      vms.push(vm);
      await vm.create();
      const endpoint = await vm.engineEndpoint({ kind: 'docker' });
      expect(endpoint).toEqual({
        host: `unix://${join(fake.home, vm.name, 'docker.sock')}`,
        via: 'host-socket',
      });
      expect(
        fake
          .calls()
          .filter((c) => c[0] === 'status')
          .at(-1),
      ).toEqual(['status', '--profile', vm.name, '--extended']);
      await vm.delete();
    }
    fake.setFaults({});
  });

  it('colima with the containerd runtime has no docker engine: a clear error', async () => {
    const colima = createColima({ colimaHome: fake.home });
    const vm = createInstance(colima, `ctd${run}`, { runtime: 'containerd' });
    vms.push(vm);
    await vm.create();
    await expect(vm.engineEndpoint({ kind: 'docker' })).rejects.toMatchObject({
      code: 'OPERATION_FAILED',
      message: `colima:${vm.name} runs containerd, which has no docker socket`,
    });
    await expect(vm.engineEndpoint({ kind: 'podman' })).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
    });
    await vm.delete();
  });

  it('lima: the docker socket its portForwards publish; without one, a hint to add it', async () => {
    const lima = createLima({ limaHome: fake.limaHome });
    const hostSocket = join(fake.root, `lima-${run}`, 'docker.sock');
    const vm = createInstance(lima, `limaeng${run}`, {
      set: [`.portForwards += [${JSON.stringify({ guestSocket: HOST_SOCKET, hostSocket })}]`],
    });
    vms.push(vm);
    await vm.create();
    const docker = createDocker({ engine: { vm } });
    const web = container(docker);
    await web.create();
    await web.start();
    expect(docker.endpoint()).toBe(`unix://${hostSocket}`);
    expect((await web.exec(['echo', 'on-lima'])).stdout).toBe('on-lima\n');
    expect(inEngine(web.name)).toBe('running');
    await web.delete();
    await docker.close();
    await vm.delete();

    const bare = createInstance(lima, `limabare${run}`, {});
    vms.push(bare);
    await bare.create();
    await expect(bare.engineEndpoint({ kind: 'podman' })).rejects.toMatchObject({
      code: 'OPERATION_FAILED',
      message: `lima:${bare.name} forwards no podman socket to the host`,
      hint: expect.stringContaining("template: 'podman'"),
    });
    await bare.delete();
  });
});
