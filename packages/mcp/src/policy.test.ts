import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmsError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { globMatch, loadPolicy, normalizeImage, parsePolicy } from './policy.js';

const fail = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as VmsError;
  }
  throw new Error('did not throw');
};

describe('policy', () => {
  it('has safe defaults: no images, no host paths, network off, every cap set', () => {
    expect(parsePolicy({})).toEqual({
      images: [],
      templates: {},
      hostPaths: [],
      maxInstances: 4,
      maxCpus: 2,
      maxMemoryMiB: 2048,
      defaultCpus: 1,
      defaultMemoryMiB: 512,
      defaultExecTimeoutMs: 60_000,
      maxExecTimeoutMs: 600_000,
      maxOutputBytes: 1024 * 1024,
      maxFileBytes: 8 * 1024 * 1024,
      instanceLifetimeMs: 3_600_000,
      network: 'none',
      labels: {},
      warm: [],
    });
  });

  it('is strict: a misspelt or bad field is an INVALID_OPTIONS error naming it', () => {
    const typo = fail(() => parsePolicy({ maxInstance: 3 }));
    expect(VmsError.hasCode(typo, 'INVALID_OPTIONS')).toBe(true);
    expect(typo.message).toContain('maxInstance');
    expect(fail(() => parsePolicy({ maxCpus: -1 })).message).toMatch(
      /^invalid option policy\.maxCpus:/,
    );
    expect(fail(() => parsePolicy({ hostPaths: ['relative/dir'] })).message).toContain(
      'policy.hostPaths.0',
    );
    expect(fail(() => parsePolicy({ defaultCpus: 4, maxCpus: 2 })).message).toContain(
      'policy.defaultCpus',
    );
    expect(fail(() => parsePolicy({ warm: [{ template: 'nope' }] })).message).toContain(
      'policy.warm.0.template',
    );
    expect(
      fail(() => parsePolicy({ templates: { big: { backend: 'docker', options: { cpus: 8 } } } }))
        .message,
    ).toContain('policy.templates.big.options.cpus');
    expect(
      fail(() => parsePolicy({ templates: { t: { backend: 'docker', image: 'x' } } })).message,
    ).toContain('policy.templates.t');
  });

  it('loads a JSON file; flags replace its fields; file errors name the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vms-mcp-policy-'));
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ images: ['alpine:*'], maxInstances: 2 }));
    expect(await loadPolicy(file, { maxInstances: 3, images: undefined })).toMatchObject({
      images: ['alpine:*'],
      maxInstances: 3,
    });
    writeFileSync(file, JSON.stringify({ maxInstances: 0 }));
    await expect(loadPolicy(file)).rejects.toThrow(`invalid option ${file}.maxInstances`);
    writeFileSync(file, '{ nope');
    await expect(loadPolicy(file)).rejects.toThrow(/is not JSON/);
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'config',
    });
    writeFileSync(file, '[]');
    await expect(loadPolicy(file)).rejects.toThrow(/must hold a JSON object/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the README’s example policy', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```json id=mcp-policy\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(parsePolicy(JSON.parse(block as string))).toMatchObject({
      network: 'none',
      warm: [{ template: 'alpine', min: 2 }],
    });
  });

  it('matches images by pattern, a tagless image meaning :latest', () => {
    expect(globMatch('vms-test/*', 'vms-test/busybox:latest')).toBe(true);
    expect(globMatch('alpine:3.*', 'alpine:3.20')).toBe(true);
    expect(globMatch('alpine:3.*', 'alpine:latest')).toBe(false);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a.c', 'abc')).toBe(false);
    expect(normalizeImage('busybox')).toBe('busybox:latest');
    expect(normalizeImage('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(normalizeImage('x@sha256:ab')).toBe('x@sha256:ab');
  });
});
