/**
 * `Instance.engineEndpoint`: the two-layer model's VM side. The mock backend plus a
 * `doEngineEndpoint` that records what it was asked; the checks read the mock's world, not the
 * runtime's own report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstance } from './instance.js';
import type { BackendV1, EngineRequest } from './spec/v1.js';
import { createMockBackend, type mockOptionsSchema } from './testing/mock-backend.js';

const home = mkdtempSync(join(tmpdir(), 'vms-engine-test-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function withEngine() {
  const mock = createMockBackend({ name: 'vmock' });
  const asked: Array<{ name: string; request: EngineRequest; state: string | undefined }> = [];
  const backend: BackendV1<typeof mockOptionsSchema> = {
    ...mock,
    driver(name, options) {
      return {
        ...mock.driver(name, options),
        async doEngineEndpoint(request) {
          asked.push({ name, request, state: mock.world.get(name)?.state });
          return { host: `unix:///tmp/${name}/docker.sock`, via: 'host-socket' };
        },
      };
    },
  };
  return { mock, backend, asked };
}

describe('Instance.engineEndpoint', () => {
  it('returns the driver’s endpoint of a running instance', async () => {
    const { backend, asked } = withEngine();
    const vm = createInstance(backend, 'e1', {}, { home });
    await vm.create();
    await vm.start();
    expect(await vm.engineEndpoint({ kind: 'docker' })).toEqual({
      host: 'unix:///tmp/e1/docker.sock',
      via: 'host-socket',
    });
    expect(asked).toEqual([{ name: 'e1', request: { kind: 'docker' }, state: 'running' }]);
  });

  it('starts a stopped instance first, and resumes a suspended one', async () => {
    const { mock, backend, asked } = withEngine();
    const vm = createInstance(backend, 'e2', {}, { home });
    await vm.create();
    expect(mock.world.get('e2')?.state).toBe('stopped');
    await vm.engineEndpoint({ kind: 'podman' });
    expect(mock.world.get('e2')?.state).toBe('running');
    await vm.suspend();
    await vm.engineEndpoint({ kind: 'podman' });
    expect(mock.world.get('e2')?.state).toBe('running');
    expect(asked.map((a) => a.state)).toEqual(['running', 'running']);
  });

  it('with start: false, a stopped instance is INVALID_TRANSITION and stays stopped', async () => {
    const { mock, backend, asked } = withEngine();
    const vm = createInstance(backend, 'e3', {}, { home });
    await vm.create();
    await expect(vm.engineEndpoint({ kind: 'docker' }, { start: false })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      hint: expect.stringContaining('vms start vmock:e3'),
    });
    expect(mock.world.get('e3')?.state).toBe('stopped');
    expect(asked).toEqual([]);
  });

  it('an instance deleted behind the handle’s back is NOT_FOUND, at once', async () => {
    const { mock, backend } = withEngine();
    const vm = createInstance(backend, 'e4', {}, { home });
    await vm.create();
    await vm.start();
    mock.world.delete('e4');
    await expect(vm.engineEndpoint({ kind: 'docker' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'vmock:e4 does not exist',
    });
  });

  it('a broken instance is OPERATION_FAILED with its reason', async () => {
    const { mock, backend } = withEngine();
    const vm = createInstance(backend, 'e5', {}, { home });
    await vm.create();
    const record = mock.world.get('e5');
    if (!record) throw new Error('not created');
    record.state = 'broken';
    record.reason = 'disk gone';
    await expect(vm.engineEndpoint({ kind: 'docker' })).rejects.toMatchObject({
      code: 'OPERATION_FAILED',
      message: 'vmock:e5 is broken: disk gone',
    });
  });

  it('is CAPABILITY_UNSUPPORTED for a driver without doEngineEndpoint', async () => {
    const vm = createInstance(createMockBackend(), 'e6', {}, { home });
    await expect(vm.engineEndpoint({ kind: 'docker' })).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'engine',
    });
  });
});
