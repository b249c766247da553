import { createMockBackend } from '@vms/core/testing';
import { describe, expect, it } from 'vitest';
import type { CliContext } from './context.js';
import { buildCreateOptions, explainOptionsError } from './create-options.js';
import { makeInstance } from './instances.js';
import { UsageError } from './usage-error.js';

const backend = createMockBackend({ name: 'fake' });

describe('buildCreateOptions', () => {
  it('maps the common flags to the common options', () => {
    const options = buildCreateOptions(
      backend,
      {
        image: 'busybox',
        cpus: '2',
        memory: '2G',
        disk: '512M',
        port: ['8080:80', '127.0.0.1:5353:53/udp'],
        mount: ['./data:/data:ro', '/srv:/srv'],
        env: ['A=1', 'B=x=y'],
        label: ['team=infra'],
      },
      '/home/me/project',
    );
    expect(options).toEqual({
      image: 'busybox',
      cpus: 2,
      memoryMiB: 2048,
      diskGiB: 0.5,
      ports: [
        { guest: 80, host: 8080, hostIp: '127.0.0.1', protocol: 'tcp' },
        { guest: 53, host: 5353, hostIp: '127.0.0.1', protocol: 'udp' },
      ],
      mounts: [
        { source: '/home/me/project/data', target: '/data', readOnly: true },
        { source: '/srv', target: '/srv', readOnly: false },
      ],
      env: { A: '1', B: 'x=y' },
      labels: { team: 'infra' },
    });
  });

  it('--opt keeps strings for string fields, parses JSON otherwise, nests dotted keys; flags override --options-json', () => {
    const options = buildCreateOptions(
      backend,
      {
        'options-json': '{"image":"from-json","cpus":1,"labels":{"a":"b"}}',
        opt: ['image=123', 'cpus=4', 'userData.hostname=box'],
        label: ['c=d'],
      },
      '/',
    );
    expect(options).toEqual({
      image: '123',
      cpus: 4,
      labels: { a: 'b', c: 'd' },
      userData: { hostname: 'box' },
    });
  });

  it('--opt reads option types from the backend published JSON Schema, not zod internals', () => {
    // `image` is a string in the schema: kept as text; `cpus` a number: parsed as JSON.
    expect(buildCreateOptions(backend, { opt: ['image=007', 'cpus=2'] }, '/')).toEqual({
      image: '007',
      cpus: 2,
    });
  });

  it('leaves unknown keys to core, which names the closest valid option', () => {
    const options = buildCreateOptions(backend, { opt: ['kernel=/boot/vmlinuz'] }, '/');
    expect(() => makeInstance({ settings: {} } as CliContext, backend, 'x', options)).toThrow(
      'invalid option kernel: unknown option (did you mean ',
    );
    const explained = explainOptionsError(
      (() => {
        try {
          makeInstance({ settings: {} } as CliContext, backend, 'x', { imagee: 'busybox' });
        } catch (error) {
          return error;
        }
      })(),
      backend,
    );
    expect(explained).toMatchObject({
      message: 'invalid option imagee: unknown option (did you mean image?)',
      hint: expect.stringMatching(/^fake options: cpus, memoryMiB, .*, image/),
    });
  });

  it('refuses malformed flag values', () => {
    expect(() => buildCreateOptions(backend, { memory: 'much' }, '/')).toThrow(UsageError);
    expect(() => buildCreateOptions(backend, { mount: ['/only-one'] }, '/')).toThrow(
      /expected SRC:DST/,
    );
    expect(() => buildCreateOptions(backend, { env: ['NOEQUALS'] }, '/')).toThrow(
      /expected KEY=VALUE/,
    );
    expect(() => buildCreateOptions(backend, { 'options-json': '[1]' }, '/')).toThrow(
      /expected a JSON object/,
    );
    expect(() => buildCreateOptions(backend, { port: ['80:99999'] }, '/')).toThrow(/ports/);
  });
});

describe('buildCreateOptions: hostile keys (issue 14, item 5)', () => {
  it('refuses __proto__, constructor and prototype segments in --opt keys, naming the key', () => {
    for (const key of [
      '__proto__.polluted',
      'constructor.prototype.x',
      'userData.__proto__.x',
      'env.constructor',
      'a..b',
    ]) {
      expect(() => buildCreateOptions(backend, { opt: [`${key}=1`] }, '/')).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS', field: key }),
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('knows only own option names: toString, hasOwnProperty are not options (core refuses them)', () => {
    for (const key of ['toString', 'hasOwnProperty', 'valueOf']) {
      const options = buildCreateOptions(backend, { opt: [`${key}=1`] }, '/');
      expect(() => makeInstance({ settings: {} } as CliContext, backend, 'x', options)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS', field: key }),
      );
    }
  });

  it('an own "__proto__" key from --options-json stays an own key and is refused, never a prototype', () => {
    const options = buildCreateOptions(
      backend,
      { 'options-json': '{"__proto__":{"user":"nobody"}}' },
      '/',
    );
    expect(Object.hasOwn(options, '__proto__')).toBe(true);
    expect(() => makeInstance({ settings: {} } as CliContext, backend, 'x', options)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: '__proto__' }),
    );
  });

  it('builds null-prototype objects: nothing is inherited', () => {
    const options = buildCreateOptions(backend, { opt: ['userData.hostname=box'] }, '/');
    expect(Object.getPrototypeOf(options)).toBeNull();
    expect(Object.getPrototypeOf(options.userData)).toBeNull();
    expect('toString' in options).toBe(false);
  });
});
