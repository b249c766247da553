import { describe, expect, it } from 'vitest';
import { checkReference, parseReference, pullParams, registryOf } from './reference.js';

describe('image references', () => {
  it('parses registry, path, tag and digest as the engines do', () => {
    expect(parseReference('nginx')).toEqual({ raw: 'nginx', path: 'nginx' });
    expect(parseReference('node:20-alpine')).toMatchObject({ path: 'node', tag: '20-alpine' });
    expect(parseReference('team/app:1.0')).toMatchObject({ path: 'team/app', tag: '1.0' });
    expect(parseReference('localhost/app')).toMatchObject({ domain: 'localhost', path: 'app' });
    expect(parseReference('127.0.0.1:5000/vms-test/busybox:r1')).toMatchObject({
      domain: '127.0.0.1:5000',
      path: 'vms-test/busybox',
      tag: 'r1',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`ghcr.io/o/r:v1@${digest}`)).toMatchObject({
      domain: 'ghcr.io',
      path: 'o/r',
      tag: 'v1',
      digest,
    });
    expect(parseReference('[::1]:5000/x')).toMatchObject({ domain: '[::1]:5000', path: 'x' });
    expect(parseReference('vms-snapshot/web-1:s1')).toMatchObject({ path: 'vms-snapshot/web-1' });
  });

  it('rejects what the engines reject', () => {
    for (const bad of [
      '',
      'Nginx',
      'nginx:bad tag',
      'nginx::1',
      'a//b',
      '-x',
      'x@sha256:12',
      `${'a'.repeat(256)}`,
    ]) {
      expect(parseReference(bad), bad).toBeUndefined();
    }
  });

  it('a bad reference is INVALID_OPTIONS naming image, saying why, with a hint', () => {
    const fail = (raw: string) => {
      try {
        checkReference(raw);
      } catch (e) {
        return e as { code: string; field: string; message: string; hint?: string };
      }
      throw new Error(`accepted ${raw}`);
    };
    expect(fail('Nginx:latest')).toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'image',
      message: expect.stringMatching(/must be lowercase/),
      hint: expect.stringMatching(/lowercase/),
    });
    expect(fail('nginx:a b').message).toMatch(/spaces/);
    expect(fail('nginx::1').message).toMatch(/expected \[registry/);
  });

  it('names the registry a reference is pulled from and the API pull parameters', () => {
    expect(registryOf(checkReference('nginx'))).toBe('docker.io');
    expect(registryOf(checkReference('localhost:5000/a/b'))).toBe('localhost:5000');
    expect(pullParams(checkReference('nginx'))).toEqual({ fromImage: 'nginx', tag: 'latest' });
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(pullParams(checkReference(`r.io/x:1@${digest}`))).toEqual({
      fromImage: 'r.io/x',
      tag: digest,
    });
  });
});
