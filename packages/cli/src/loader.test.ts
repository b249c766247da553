import { createMockBackend } from '@vms/core/testing';
import { describe, expect, it } from 'vitest';
import type { BackendSource } from './discovery.js';
import { extractBackends } from './loader.js';

const source: BackendSource = {
  specifier: 'vms-backend-x',
  kind: 'third-party',
  origin: 'test',
  expectedNames: [],
};

describe('extractBackends (the export convention)', () => {
  const a = createMockBackend({ name: 'a' });
  const b = createMockBackend({ name: 'b' });

  it('takes the default export: one backend or an array', () => {
    expect(extractBackends({ default: a, b }, source).map((x) => x.name)).toEqual(['a']);
    expect(extractBackends({ default: [a, b] }, source).map((x) => x.name)).toEqual(['a', 'b']);
  });

  it('else `backends`, else `backend`, else every named export that is a backend', () => {
    expect(extractBackends({ backends: [b], backend: a }, source).map((x) => x.name)).toEqual([
      'b',
    ]);
    expect(extractBackends({ backend: a }, source).map((x) => x.name)).toEqual(['a']);
    expect(
      extractBackends({ createA: () => a, docker: a, podman: b, schema: {} }, source).map(
        (x) => x.name,
      ),
    ).toEqual(['a', 'b']);
  });

  it('names what is wrong with a module that is not a v1 backend', () => {
    expect(() => extractBackends({ createA: () => a }, source)).toThrow(
      'vms-backend-x exports no vms backend',
    );
    expect(() =>
      extractBackends({ default: { ...a, specificationVersion: 'vms-backend-v2' } }, source),
    ).toThrow('vms-backend-x implements vms-backend-v2, but this vms supports vms-backend-v1');
    expect(() =>
      extractBackends(
        { default: { specificationVersion: 'vms-backend-v1', name: 'x', detect() {} } },
        source,
      ),
    ).toThrow('missing or wrong: capabilities, optionsSchema, list(), driver()');
  });
});
