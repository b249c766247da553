/**
 * Property tests of public input through the library API (issue 14): instance names, option
 * keys and values, paths, env and exec argv — hostile keys (`__proto__`, `constructor`), control
 * characters, huge values. Each is either accepted and arrives literally, or refused with
 * INVALID_OPTIONS naming the field. Seeded by fast-check (its seed is printed on failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VmsError } from './errors.js';
import { createInstance } from './instance.js';
import { commonInstanceOptions, parseOptions, validateInstanceName } from './options.js';
import { createMockBackend } from './testing/mock-backend.js';

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''];
/** Strings with control characters, non-ASCII, hostile keys and (sometimes) huge lengths. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...HOSTILE_KEYS),
  fc.string({
    unit: fc.constantFrom('a', '\n', '\u0000', '\u001b', 'é', '"', '$', '%'),
    maxLength: 20,
  }),
  fc.constant('x'.repeat(100_000)),
);

/** Runs `fn`; returns undefined when it succeeded, else the INVALID_OPTIONS error it threw. */
function outcome<T>(fn: () => T): { ok: T } | { error: VmsError } {
  try {
    return { ok: fn() };
  } catch (error) {
    expect(VmsError.hasCode(error, 'INVALID_OPTIONS'), String(error)).toBe(true);
    return { error: error as VmsError };
  }
}

describe('fuzz: library input is accepted literally or refused naming the field', () => {
  it('instance names', () => {
    const mock = createMockBackend();
    fc.assert(
      fc.property(text, (name) => {
        const r = outcome(() => createInstance(mock, name));
        if ('ok' in r) {
          expect(r.ok.name).toBe(name);
          expect(validateInstanceName(name)).toBe(name);
        } else expect((r.error as { field?: string }).field).toBe('name');
      }),
      { numRuns: 300 },
    );
  });

  it('env and label keys and values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text, text), { maxLength: 5 }),
        fc.constantFrom('env', 'labels'),
        (pairs, field) => {
          // As JSON.parse builds them: every key an own property, "__proto__" included.
          const input = JSON.parse(JSON.stringify(Object.fromEntries(pairs))) as Record<
            string,
            string
          >;
          const r = outcome(() => parseOptions(commonInstanceOptions, { [field]: input }));
          if ('ok' in r) {
            const got = r.ok[field as 'env' | 'labels'];
            expect(Object.entries(got)).toEqual(Object.entries(input));
            expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
          } else {
            expect((r.error as { field?: string }).field).toMatch(new RegExp(`^${field}(\\.|$)`));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mount paths and port specs', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: -5, max: 70_000 }), (source, target, port) => {
        const r = outcome(() =>
          parseOptions(commonInstanceOptions, {
            mounts: [{ source, target }],
            ports: [{ guest: port }],
          }),
        );
        if ('ok' in r) {
          expect(r.ok.mounts[0]).toMatchObject({ source, target });
          expect(r.ok.ports[0]?.guest).toBe(port);
        } else expect((r.error as { field?: string }).field).toMatch(/^(mounts|ports)\.0\./);
      }),
      { numRuns: 300 },
    );
  });

  it('unknown and hostile top-level keys never change what the options hold', () => {
    fc.assert(
      fc.property(fc.constantFrom(...HOSTILE_KEYS, 'polluted'), text, (key, value) => {
        const input = JSON.parse(JSON.stringify({ [key]: { user: value }, cpus: 1 })) as object;
        const r = outcome(() => parseOptions(commonInstanceOptions, input));
        if ('ok' in r) {
          expect(Object.keys(r.ok)).not.toContain('__proto__');
          expect((r.ok as Record<string, unknown>).user).toBeUndefined();
          expect(({} as Record<string, unknown>).user).toBeUndefined();
        } else {
          // The common options are strict: an unknown key is refused, naming that key.
          expect((r.error as { field?: string }).field).toBe(key);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('exec argv arrives literally (control characters, quotes, huge)', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, 'fuzz-exec');
    await vm.create();
    await vm.start();
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), async (argv) => {
        const before = mock.calls.length;
        await vm.exec(argv).catch(() => undefined);
        const call = mock.calls.slice(before).find((c) => c.verb === 'exec');
        expect(call?.argv).toEqual(argv);
      }),
      { numRuns: 100 },
    );
    await expect(vm.exec([])).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'argv' });
    await vm.delete();
  });
});
