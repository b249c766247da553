/**
 * Property tests of what users type (issue 14): `--opt` keys and values, labels, env and names,
 * through the option builder (many runs) and through the built `vms` (a few dozen runs, each a
 * process). Hostile keys, control characters and huge values are either accepted and arrive
 * literally, or refused with exit 2 / INVALID_OPTIONS and a one-line error naming the field.
 */

import { createMockBackend } from '@vms/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCreateOptions } from './create-options.js';
import { makeProject, type Project, runVms } from './test-support/project.js';
import { UsageError } from './usage-error.js';

const backend = createMockBackend({ name: 'fake' });
const segment = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'image',
    'userData',
    'labels',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('{"a":1}', '[1,2]', 'null', '1e999', '"quoted"', 'x'.repeat(50_000)),
);

describe('fuzz: --opt keys and values', () => {
  it('builds literally or refuses naming the key', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), value, (path, raw) => {
        const key = path.join('.');
        fc.pre(!key.includes('=')); // KEY=VALUE splits at the first "=": not a key
        try {
          const options = buildCreateOptions(backend, { opt: [`${key}=${raw}`] }, '/');
          // Accepted: the value is at exactly that path of own properties.
          let node: unknown = options;
          for (const k of path) {
            expect(Object.hasOwn(node as object, k)).toBe(true);
            node = (node as Record<string, unknown>)[k];
          }
          if (key === 'image') expect(node).toBe(raw);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        } catch (error) {
          if (error instanceof UsageError) {
            expect(error.message.split('\n')).toHaveLength(1);
            return;
          }
          expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
          expect((error as { field: string }).field).toMatch(
            new RegExp(`^${reEscape(path[0] ?? '')}`),
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('fuzz: through the built vms', () => {
  let project: Project;
  beforeAll(() => {
    project = makeProject({ fixtures: ['vms-backend-fake'] });
  });
  afterAll(() => project?.cleanup());

  it('labels and env arrive literally or exit 2 with one line naming the field', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        async (key, val) => {
          fc.pre(!key.includes('=') && !key.startsWith('-'));
          const name = `fz-${++n}`;
          const r = await runVms(project, [
            'create',
            `fake:${name}`,
            '-l',
            `${key}=${val}`,
            '--json',
          ]);
          if (r.code === 0) {
            const info = await runVms(project, ['inspect', `fake:${name}`, '--json']);
            expect(JSON.parse(info.stdout).properties.labels).toMatchObject({ [key]: val });
            expect((await runVms(project, ['delete', `fake:${name}`])).code).toBe(0);
          } else {
            expect(r.code).toBe(2);
            expect(JSON.parse(r.stdout).error.message).toMatch(/labels/);
            expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 180_000);

  it('hostile --opt keys and names exit 2 with one line, never a stack or a pollution', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('__proto__.x', 'constructor.prototype.x', 'prototype', 'a..b', 'toString'),
        // An argv string cannot hold a NUL byte (the OS ends it there): no user can type one.
        fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\0')),
        async (key, val) => {
          const r = await runVms(project, ['create', 'fake:hostile', '--opt', `${key}=${val}`]);
          expect(r.code).toBe(2);
          expect(r.stderr).toMatch(/^error: invalid option /);
          expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
        },
      ),
      { numRuns: 10 },
    );
  }, 120_000);
});
