import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerDialect } from './dialect.js';
import { CONTAINER_STATES } from './dialect.js';
import { resolveEndpoint } from './endpoint.js';
import { containerSettingsSchema } from './settings.js';

const dockerLike: ContainerDialect = {
  name: 'docker',
  binary: 'docker',
  states: CONTAINER_STATES,
  defaultSockets: ['/nonexistent/docker.sock'],
  hostEnv: ['DOCKER_HOST'],
  contexts: true,
  hostFlag: (h) => ['--host', h],
  unavailableHint: 'start it',
  installHint: 'install it',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-endpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeContext(name: string, host: string) {
  const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(meta, { recursive: true });
  writeFileSync(
    path.join(meta, 'meta.json'),
    JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }),
  );
}

const settings = (input: Record<string, unknown>) => containerSettingsSchema.parse(input);

describe('endpoint resolution (docker CLI precedence)', () => {
  writeContext('ctx-a', 'unix:///run/a.sock');
  writeContext('ctx-b', 'tcp://10.0.0.1:2375');
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ currentContext: 'ctx-b' }));

  it('host setting wins and is passed to the CLI', () => {
    const ep = resolveEndpoint(
      dockerLike,
      settings({ host: 'unix:///x.sock', env: { DOCKER_HOST: 'tcp://y:1' } }),
    );
    expect(ep).toMatchObject({
      host: 'unix:///x.sock',
      source: 'setting',
      cliArgs: ['--host', 'unix:///x.sock'],
      api: { socketPath: '/x.sock' },
    });
  });

  it('context setting reads the context store', () => {
    const ep = resolveEndpoint(
      dockerLike,
      settings({ context: 'ctx-a', env: { DOCKER_CONFIG: dir } }),
    );
    expect(ep).toMatchObject({
      host: 'unix:///run/a.sock',
      source: 'context',
      cliArgs: ['--context', 'ctx-a'],
    });
  });

  it('DOCKER_HOST beats DOCKER_CONTEXT and the current context', () => {
    const ep = resolveEndpoint(
      dockerLike,
      settings({
        env: { DOCKER_CONFIG: dir, DOCKER_HOST: 'tcp://h:2376', DOCKER_CONTEXT: 'ctx-a' },
      }),
    );
    expect(ep).toMatchObject({
      host: 'tcp://h:2376',
      source: 'env',
      api: { hostname: 'h', port: 2376 },
    });
  });

  it('DOCKER_CONTEXT beats currentContext, which beats the default socket', () => {
    expect(
      resolveEndpoint(
        dockerLike,
        settings({ env: { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'ctx-a' } }),
      ).host,
    ).toBe('unix:///run/a.sock');
    expect(resolveEndpoint(dockerLike, settings({ env: { DOCKER_CONFIG: dir } })).host).toBe(
      'tcp://10.0.0.1:2375',
    );
    const empty = mkdtempSync(path.join(dir, 'empty-'));
    expect(resolveEndpoint(dockerLike, settings({ env: { DOCKER_CONFIG: empty } })).host).toBe(
      'unix:///nonexistent/docker.sock',
    );
  });

  it('ssh hosts have no API address (CLI only); invalid settings name the field', () => {
    expect(resolveEndpoint(dockerLike, settings({ host: 'ssh://me@box' })).api).toBeUndefined();
    const bad = containerSettingsSchema.safeParse({ host: 'docker.sock' });
    expect(bad.success).toBe(false);
    const both = containerSettingsSchema.safeParse({ host: 'unix:///a', context: 'b' });
    expect(both.error?.issues[0]?.path).toEqual(['context']);
  });
});
