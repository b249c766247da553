import { type BackendV1, commonInstanceOptions, createInstance } from '@vms/core';
import { createMockBackend } from '@vms/core/testing';
import * as z from '@vms/core/zod';
import { describe, expect, it } from 'vitest';
import type { CliContext } from './context.js';
import { attachInstance, parseRef } from './instances.js';

const ctx = { settings: {} } as CliContext;

describe('instance handles', () => {
  it('parses BACKEND:NAME and NAME', () => {
    expect(parseRef('docker:web')).toEqual({ backend: 'docker', name: 'web' });
    expect(parseRef('web')).toEqual({ name: 'web' });
    expect(() => parseRef('docker:')).toThrow(/not an instance name/);
  });

  it('attaches with the options vms create recorded (VMS_HOME is a temp dir in tests)', async () => {
    const backend = createMockBackend({ name: 'remember' });
    const created = createInstance(backend, 'box', { image: 'alpine', memoryMiB: 256 });
    await created.create();
    try {
      const instance = await attachInstance(ctx, backend, 'box');
      expect(instance.optionsFrom).toBe('record');
      expect(instance.options).toMatchObject({ image: 'alpine', memoryMiB: 256 });
    } finally {
      await created.delete();
    }
    const after = await attachInstance(ctx, backend, 'box');
    expect(after.optionsFrom).toBe('defaults');
    expect(after.options).toMatchObject({ image: 'mock:latest' });
  });

  it('attaches to an instance vms did not create through the backend attach driver, never by relaxing its schema', async () => {
    const mock = createMockBackend({ name: 'strict' });
    const required = commonInstanceOptions.extend({ image: z.string().min(1) });
    const strict: BackendV1<typeof required> = {
      ...mock,
      optionsSchema: required,
      driver: (name, options) => mock.driver(name, mock.optionsSchema.parse(options)),
    };
    await expect(attachInstance(ctx, strict, 'box')).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      hint: expect.stringMatching(/no record of strict:box/),
    });
    const attaching: BackendV1<typeof required> = {
      ...strict,
      attach: (name) => mock.driver(name, mock.optionsSchema.parse({})),
    };
    const attached = await attachInstance(ctx, attaching, 'box');
    expect(attached.optionsFrom).toBe('attach');
    expect(attached.id).toBe('strict:box');
    expect((await attached.inspect()).state.name).toBe('initial');
  });
});
