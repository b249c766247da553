/**
 * Containers on the engine inside a VM (`createDocker({ engine: { vm } })`), with the VM side
 * played by core's in-memory mock backend plus a `doEngineEndpoint` that publishes this host's
 * engine on a socket of the VM's own, which lives only while the VM runs (as lima's and colima's
 * forwards do): the composition itself (start on demand, start: false, a deleted or stopped VM,
 * detect and list never booting the VM) on the real docker engine. The real-VM paths are in
 * @vms/qemu (SSH forward) and @vms/lima (lima and colima host sockets).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  type BackendV1,
  createInstance,
  type EngineRequest,
  type Instance,
  VmsError,
} from '@vms/core';
import { createMockBackend, type mockOptionsSchema, testRunLabels } from '@vms/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerSkipReason, sweepTestSuite, TEST_IMAGE } from './test-helpers.js';

const skip = dockerSkipReason();
if (skip) console.warn(`[skipped] docker on a VM's engine: ${skip}`);

const ENGINE = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', '');
const sockets = mkdtempSync(path.join(os.tmpdir(), 'vms-vm-engine-sock-'));

/** A VM's engine socket: relays to this host's engine while open; closing it drops every connection. */
function engineSocket(file: string) {
  const open = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ path: ENGINE, allowHalfOpen: true });
    open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', () => open.delete(client));
    upstream.on('error', close).on('close', () => open.delete(upstream));
  });
  const listening = new Promise<void>((resolve) => server.listen(file, resolve));
  return {
    listening,
    close() {
      server.close();
      for (const s of open) s.destroy();
    },
  };
}

function vmBackend() {
  const mock = createMockBackend({ name: 'vmock' });
  const asked: EngineRequest[] = [];
  const engines = new Map<string, ReturnType<typeof engineSocket>>();
  const down = (name: string) => {
    engines.get(name)?.close();
    engines.delete(name);
  };
  const backend: BackendV1<typeof mockOptionsSchema> = {
    ...mock,
    driver(name, options) {
      const d = mock.driver(name, options);
      return {
        ...d,
        async doStop(req) {
          down(name);
          return d.doStop(req);
        },
        async doDelete(ctx) {
          down(name);
          return d.doDelete(ctx);
        },
        async doEngineEndpoint(request) {
          asked.push(request);
          const file = path.join(sockets, `${name}.sock`);
          if (!engines.has(name)) {
            rmSync(file, { force: true });
            const e = engineSocket(file);
            engines.set(name, e);
            await e.listening;
          }
          return { host: `unix://${file}`, via: 'host-socket' };
        },
      };
    },
  };
  return { mock, backend, asked };
}

describe.skipIf(skip !== undefined)('docker on the engine inside a VM instance', () => {
  const run = Math.random().toString(36).slice(2, 8);
  const home = mkdtempSync(path.join(os.tmpdir(), 'vms-vm-engine-'));
  const made: Instance[] = [];
  let n = 0;
  const inEngine = (name: string) =>
    execFileSync('docker', ['inspect', '--format', '{{.State.Status}}', name], {
      encoding: 'utf8',
    }).trim();
  const container = (backend: ReturnType<typeof createDocker>) => {
    n += 1;
    const c = createInstance(
      backend,
      `vmeng-${run}-${n}`,
      { image: TEST_IMAGE, labels: { ...testRunLabels(), 'dev.vms.test-suite': run } },
      { home },
    );
    made.push(c);
    return c;
  };

  afterAll(async () => {
    for (const c of made) await c.delete().catch(() => undefined);
    await sweepTestSuite(run);
    rmSync(home, { recursive: true, force: true });
    rmSync(sockets, { recursive: true, force: true });
  });

  it('runs, execs and deletes a container through the ordinary API, starting the VM on demand', async () => {
    const { mock, backend: vms, asked } = vmBackend();
    const vm = createInstance(vms, 'dev', {}, { home });
    await vm.create();
    expect(mock.world.get('dev')?.state).toBe('stopped');
    const docker = createDocker({ engine: { vm } });
    expect(docker.endpoint()).toBe('(the engine of vmock:dev)');
    const web = container(docker);
    await web.create();
    // The VM was started to reach its engine.
    expect(mock.world.get('dev')?.state).toBe('running');
    expect(asked).toEqual([{ kind: 'docker' }]);
    expect(docker.endpoint()).toBe(`unix://${path.join(sockets, 'dev.sock')}`);
    await web.start();
    const out = await web.exec(['echo', 'on-the-vm']);
    expect(out).toMatchObject({ exitCode: 0, stdout: 'on-the-vm\n' });
    // Observed in the engine itself, not through the backend.
    expect(inEngine(web.name)).toBe('running');
    // The endpoint is asked once, then kept while the engine answers.
    expect(asked).toHaveLength(1);
    expect((await web.delete()).existed).toBe(true);
    expect(() => execFileSync('docker', ['inspect', web.name], { stdio: 'pipe' })).toThrow();
    await docker.close();
  });

  it('a VM stopped behind the backend is asked again when its engine stops answering, and started', async () => {
    const { mock, backend: vms, asked } = vmBackend();
    const vm = createInstance(vms, 'restart', {}, { home });
    await vm.create();
    const docker = createDocker({ engine: { vm } });
    const web = container(docker);
    await web.create();
    await vm.stop();
    expect(mock.world.get('restart')?.state).toBe('stopped');
    await web.start();
    expect(mock.world.get('restart')?.state).toBe('running');
    expect(asked).toHaveLength(2);
    expect(inEngine(web.name)).toBe('running');
    await web.delete();
    await docker.close();
  });

  it('deleting the VM first: the next container op is BACKEND_UNAVAILABLE naming the VM, not a hang', async () => {
    const { backend: vms } = vmBackend();
    const vm = createInstance(vms, 'gone', {}, { home });
    await vm.create();
    await vm.start();
    const docker = createDocker({ engine: { vm } });
    const web = container(docker);
    await web.create();
    await vm.delete();
    const started = Date.now();
    const error = await web.start({ timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(VmsError.hasCode(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as VmsError).message).toBe(
      "backend docker is unavailable: its engine's VM vmock:gone is not usable: vmock:gone does not exist",
    );
    expect(VmsError.hasCode((error as Error).cause, 'NOT_FOUND')).toBe(true);
    // The container itself is untouched in the engine (it is the VM that is gone).
    execFileSync('docker', ['rm', '-f', web.name], { stdio: 'pipe' });
    await docker.close();
  });

  it('with start: false a stopped VM is not booted: BACKEND_UNAVAILABLE with the hint to start it', async () => {
    const { mock, backend: vms, asked } = vmBackend();
    const vm = createInstance(vms, 'cold', {}, { home });
    await vm.create();
    const docker = createDocker({ engine: { vm, start: false } });
    await expect(container(docker).create()).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      hint: 'start it first: vms start vmock:cold',
    });
    expect(mock.world.get('cold')?.state).toBe('stopped');
    expect(asked).toEqual([]);
  });

  it('detect and list never boot the VM', async () => {
    const { mock, backend: vms } = vmBackend();
    const vm = createInstance(vms, 'probe', {}, { home });
    await vm.create();
    const docker = createDocker({ engine: { vm } });
    const detected = await docker.detect();
    expect(detected).toMatchObject({ available: false });
    expect(detected.reason).toMatch(/vmock:probe .*not allowed in state stopped/);
    await expect(docker.list({ signal: AbortSignal.timeout(10_000) })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
    });
    expect(mock.world.get('probe')?.state).toBe('stopped');
    await vm.start();
    expect(await docker.detect()).toMatchObject({ available: true });
    await docker.close();
  });

  it('rejects a vm that is not an instance, and engine together with host', () => {
    expect(() => createDocker({ engine: { vm: {} as never } })).toThrow(
      /settings\.engine\.vm: must be an @vms Instance/,
    );
    const vm = createInstance(vmBackend().backend, 'x', {}, { home });
    expect(() => createDocker({ engine: { vm }, host: `unix://${ENGINE}` })).toThrow(
      /settings\.engine: an engine inside a VM cannot be combined with host or context/,
    );
    expect(() => createDocker({ engine: { vm, guestAddress: 'docker.sock' } })).toThrow(
      /settings\.engine\.guestAddress/,
    );
  });

  it('withEngine gives the same backend on the VM’s engine', async () => {
    const { backend: vms } = vmBackend();
    const vm = createInstance(vms, 'with', {}, { home });
    await vm.create();
    const docker = createDocker({ transport: 'cli' }).withEngine({ vm });
    const web = container(docker);
    await web.create();
    expect((await docker.engine()).transport).toBe('cli');
    await web.delete();
    await docker.close();
  });
});
