/**
 * podman on the engine inside a VM: the same `engine: { vm }` input as docker (shared through
 * @vms/container-engine), asking the VM for its podman engine. The VM here is a stand-in that
 * records what it is asked and has no engine (the docker tests run the whole path).
 */
import { createInstance, type EngineRequest, NotFoundError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { createPodman } from './index.js';

describe('podman on a VM’s engine', () => {
  it('asks the VM for its podman engine, and a VM that is gone is BACKEND_UNAVAILABLE naming it', async () => {
    const asked: EngineRequest[] = [];
    const vm = {
      id: 'lima:pod',
      async engineEndpoint(request: EngineRequest): Promise<never> {
        asked.push(request);
        throw new NotFoundError('lima:pod does not exist');
      },
    };
    const podman = createPodman({ engine: { vm } });
    expect(podman.endpoint()).toBe('(the engine of lima:pod)');
    await expect(
      createInstance(podman, 'web', { image: 'busybox' }).create(),
    ).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message:
        "backend podman is unavailable: its engine's VM lima:pod is not usable: lima:pod does not exist",
    });
    expect(asked[0]).toEqual({ kind: 'podman' });
    const sock = createPodman({
      engine: { vm, guestAddress: '/run/user/1000/podman/podman.sock' },
    });
    await sock.detect();
    expect(asked.at(-1)).toEqual({
      kind: 'podman',
      guestAddress: '/run/user/1000/podman/podman.sock',
    });
  });
});
