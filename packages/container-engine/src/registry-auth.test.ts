import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRunner } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReference } from './reference.js';
import { authFiles, encodeRegistryAuth, findRegistryAuth } from './registry-auth.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runner = createRunner();
const ctx = () => ({ signal: AbortSignal.timeout(30_000), deadline: Date.now() + 30_000 });
const b64 = (s: string) => Buffer.from(s).toString('base64');

function write(file: string, content: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(content));
  return file;
}

// A real credential helper (the protocol: server on stdin, JSON on stdout, exit 1 when unknown).
const bin = path.join(dir, 'bin');
mkdirSync(bin);
const helper = path.join(bin, 'docker-credential-vmstest');
writeFileSync(
  helper,
  `#!/bin/sh
[ "$1" = get ] || exit 2
read server
case "$server" in
  helped.example:5000) echo '{"ServerURL":"helped.example:5000","Username":"hana","Secret":"from-helper"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"tok-123"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"hub","Username":"hubby","Secret":"hub-secret"}' ;;
  *) echo "credentials not found in native keychain" >&2; exit 1 ;;
esac
`,
);
chmodSync(helper, 0o755);
const PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;

describe('registry credentials for API pulls', () => {
  const dockerDir = path.join(dir, 'docker');
  write(path.join(dockerDir, 'config.json'), {
    auths: {
      '127.0.0.1:5000': { auth: b64('alice:s3cr:et') },
      'https://legacy.example/v1/': { auth: b64('leg:acy') },
      'ided.example': { identitytoken: 'id-tok' },
      __proto__: { auth: b64('evil:evil') },
    },
    credHelpers: { 'helped.example:5000': 'vmstest', 'token.example': 'vmstest' },
    credsStore: 'vmstest',
  });
  const find = (
    image: string,
    env: Record<string, string | undefined>,
    kind: 'docker' | 'podman' = 'docker',
  ) => findRegistryAuth(checkReference(image), { kind, env: { PATH, ...env }, runner, ctx: ctx() });

  it('reads docker config.json auths (user:password, keys as URLs, identity tokens)', async () => {
    const env = { DOCKER_CONFIG: dockerDir };
    expect((await find('127.0.0.1:5000/a/b:1', env))?.auth).toEqual({
      username: 'alice',
      password: 's3cr:et',
      serveraddress: '127.0.0.1:5000',
    });
    expect((await find('legacy.example/x', env))?.auth).toMatchObject({
      username: 'leg',
      password: 'acy',
    });
    expect((await find('ided.example/x', env))?.auth).toEqual({
      identitytoken: 'id-tok',
      serveraddress: 'ided.example',
    });
  });

  it('runs credHelpers and credsStore as docker-credential-<name> get (argv only)', async () => {
    const env = { DOCKER_CONFIG: dockerDir };
    const helped = await find('helped.example:5000/app', env);
    expect(helped?.auth).toEqual({
      username: 'hana',
      password: 'from-helper',
      serveraddress: 'helped.example:5000',
    });
    expect(helped?.source).toMatch(/credHelpers: docker-credential-vmstest/);
    expect((await find('token.example/app', env))?.auth).toEqual({
      identitytoken: 'tok-123',
      serveraddress: 'token.example',
    });
    // Docker Hub goes through credsStore with its v1 URL as the server.
    const hub = await find('nginx:alpine', env);
    expect(hub?.auth).toMatchObject({
      username: 'hubby',
      serveraddress: 'https://index.docker.io/v1/',
    });
    expect(hub?.source).toMatch(/credsStore/);
    // A registry the helper does not know: anonymous.
    expect(await find('unknown.example/x', env)).toBeUndefined();
  });

  it('follows podman: REGISTRY_AUTH_FILE alone, else auth.json locations, then docker config', async () => {
    const runtime = path.join(dir, 'run');
    const configHome = path.join(dir, 'xdg');
    expect(
      authFiles('podman', { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: configHome, HOME: dir }),
    ).toEqual([
      path.join(runtime, 'containers', 'auth.json'),
      path.join(configHome, 'containers', 'auth.json'),
      path.join(dir, '.docker', 'config.json'),
    ]);
    write(path.join(configHome, 'containers', 'auth.json'), {
      auths: {
        'quay.example/team': { auth: b64('team:pw') },
        'quay.example': { auth: b64('any:pw') },
      },
    });
    const env = { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: configHome, HOME: dir };
    // Namespaced keys match their repositories first (a podman extension).
    expect((await find('quay.example/team/app', env, 'podman'))?.auth).toMatchObject({
      username: 'team',
    });
    expect((await find('quay.example/other/app', env, 'podman'))?.auth).toMatchObject({
      username: 'any',
    });
    const only = write(path.join(dir, 'only.json'), { auths: {} });
    expect(
      await find('quay.example/team/app', { ...env, REGISTRY_AUTH_FILE: only }, 'podman'),
    ).toBeUndefined();
  });

  it('encodes X-Registry-Auth as URL-safe base64 JSON', () => {
    const header = encodeRegistryAuth({ username: 'a', password: '??>>', serveraddress: 'r:1' });
    expect(header).not.toMatch(/[+/]/);
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString();
    expect(JSON.parse(json)).toEqual({ username: 'a', password: '??>>', serveraddress: 'r:1' });
  });
});
