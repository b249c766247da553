import { commonInstanceOptions, createInstance } from '@vms/core';
import { createMockBackend } from '@vms/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CliContext } from './context.js';
import { attachInstance, parseRef } from './instances.js';

const ctx = { settings: {} } as CliContext;

describe('instance handles', () => {
  it('parses BACKEND:NAME and NAME', () => {
    expect(parseRef('docker:web')).toEqual({ backend: 'docker', name: 'web' });
    expect(parseRef('web')).toEqual({ name: 'web' });
    expect(() => parseRef('docker:')).toThrow(/not an instance name/);
  });

  it('attaches with the options vms create remembered (VMS_HOME is a temp dir in tests)', async () => {
    const backend = createMockBackend({ name: 'remember' });
    const created = createInstance(backend, 'box', { image: 'alpine', memoryMiB: 256 });
    await created.create();
    try {
      const instance = await attachInstance(ctx, backend, 'box');
      expect(instance.options).toMatchObject({ image: 'alpine', memoryMiB: 256 });
    } finally {
      await created.delete();
    }
    expect((await attachInstance(ctx, backend, 'box')).options).toMatchObject({
      image: 'mock:latest',
    });
  });

  it('attaches without create-time options even when the schema requires some', async () => {
    const strict = commonInstanceOptions.extend({ image: z.string().min(1) });
    const refined = strict.superRefine(() => {});
    for (const optionsSchema of [strict, refined]) {
      const backend = { ...createMockBackend({ name: 'strict' }), optionsSchema };
      expect(() => createInstance(backend, 'box', {})).toThrow(/image/);
      const attached = await attachInstance(ctx, backend, 'box');
      expect(attached.id).toBe('strict:box');
      expect((await attached.inspect()).state.name).toBe('initial');
    }
  });
});
