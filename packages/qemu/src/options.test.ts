import { createInstance, parseOptions } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { createQemu } from './backend.js';
import { qemuOptionsSchema } from './options.js';

describe('qemu instance options', () => {
  it('needs a boot source and names the field', () => {
    expect(() => parseOptions(qemuOptionsSchema, {})).toThrow(
      expect.objectContaining({ field: 'kernel' }),
    );
  });

  it('checks that image paths are absolute, existing, readable files', () => {
    expect(() => parseOptions(qemuOptionsSchema, { kernel: '/nonexistent/vmlinux' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'kernel' }),
    );
    expect(() => parseOptions(qemuOptionsSchema, { disk: 'relative.qcow2' })).toThrow(
      expect.objectContaining({ field: 'disk' }),
    );
    expect(() => parseOptions(qemuOptionsSchema, { iso: '/' })).toThrow(
      expect.objectContaining({ field: 'iso' }),
    );
  });

  it('fills defaults and rejects what the backend cannot do', () => {
    const o = parseOptions(qemuOptionsSchema, { kernel: process.execPath });
    expect(o).toMatchObject({
      cpus: 1,
      memoryMiB: 512,
      ssh: { user: 'root', guestPort: 22 },
      seed: true,
      extraArgs: [],
    });
    // mounts need a capability qemu lacks: core refuses them when an instance is made.
    expect(() =>
      createInstance(createQemu(), 'x', {
        kernel: process.execPath,
        mounts: [{ source: '/a', target: '/b' }],
      }),
    ).toThrow(expect.objectContaining({ code: 'CAPABILITY_UNSUPPORTED', option: 'mounts' }));
    expect(() => parseOptions(qemuOptionsSchema, { disk: process.execPath, cmdline: 'x' })).toThrow(
      expect.objectContaining({ field: 'cmdline' }),
    );
    expect(() =>
      parseOptions(qemuOptionsSchema, { kernel: process.execPath, accel: 'hvf' }),
    ).toThrow(expect.objectContaining({ field: 'accel' }));
  });
});
