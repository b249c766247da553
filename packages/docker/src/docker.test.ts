import { createInstance, type ProcessRunner, VmsError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { createDocker, docker } from './index.js';

const explodingRunner: ProcessRunner = {
  run: () => {
    throw new Error('no process may run');
  },
  spawn: () => {
    throw new Error('no process may run');
  },
};

describe('@vms/docker without an engine', () => {
  it('constructs with no I/O and declares the v1 contract', () => {
    const backend = createDocker({ runner: explodingRunner, host: 'unix:///nonexistent.sock' });
    expect(backend.name).toBe('docker');
    expect(backend.specificationVersion).toBe('vms-backend-v1');
    expect(backend.capabilities).toMatchObject({
      suspend: true,
      exec: true,
      logs: true,
      snapshot: true,
      copy: true,
    });
    backend.driver('x', backend.optionsSchema.parse({ image: 'img' }));
    expect(docker.name).toBe('docker');
  });

  it('validates settings and options with errors naming the field', async () => {
    const bad = (() => {
      try {
        createDocker({ transport: 'telepathy' as 'api' });
      } catch (e) {
        return e;
      }
    })();
    expect(VmsError.hasCode(bad, 'INVALID_OPTIONS') && bad.message).toMatch(/settings\.transport/);
    // Core validates options when the instance is made (or at create, whichever it does first).
    const noImage = async () =>
      // @ts-expect-error: image is required
      createInstance(createDocker({ runner: explodingRunner }), 'noimage', {}).create();
    await expect(noImage()).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'image' });
  });

  it('rejects names the engine would refuse', () => {
    expect(createDocker().validateName?.('bad name')).toMatch(/not a valid container name/);
    expect(createDocker().validateName?.('good-name_1.2')).toBeUndefined();
  });
});
