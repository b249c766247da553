/**
 * Remote engines: a second dockerd, started by this file on its own unix socket (own data-root,
 * exec-root and pidfile; no bridge, no iptables; in its own network namespace), reached through the `host` setting, DOCKER_HOST,
 * a docker context and DOCKER_CONTEXT — over both transports. Stopped and removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { privateDockerd, privateDockerdSkipReason, TEST_IMAGE } from './test-helpers.js';

const skip = privateDockerdSkipReason();
if (skip) console.warn(`[skipped] remote engine tests: ${skip}`);

describe.skipIf(skip !== undefined)('docker: a remote engine on its own socket', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-d2-'));
  const engine = privateDockerd(dir);
  const host = engine.host;
  const config = path.join(dir, 'config');
  const instances: Instance[] = [];
  const run = Math.random().toString(36).slice(2, 8);

  const remote = (args: string[]) => engine.cli(...args);

  beforeAll(async () => {
    await engine.start();
    execFileSync(
      'docker',
      ['--config', config, 'context', 'create', `vms-remote-${run}`, '--docker', `host=${host}`],
      {
        stdio: 'pipe',
      },
    );
  }, 180_000);

  afterAll(async () => {
    for (const vm of instances) await vm.delete().catch(() => undefined);
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const cases = [
    { how: 'host setting', settings: () => ({ host }) },
    { how: 'DOCKER_HOST', settings: () => ({ env: { DOCKER_HOST: host } }) },
    {
      how: 'context setting',
      settings: () => ({ context: `vms-remote-${run}`, env: { DOCKER_CONFIG: config } }),
    },
    {
      how: 'DOCKER_CONTEXT',
      settings: () => ({ env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: `vms-remote-${run}` } }),
    },
  ];
  for (const c of cases) {
    for (const transport of ['api', 'cli'] as const) {
      it(`reaches it through the ${c.how} (${transport})`, async () => {
        const backend = createDocker({ transport, ...c.settings() });
        expect(backend.endpoint()).toBe(host);
        expect((await backend.engine()).transport).toBe(transport);
        const name = `vmsremote-${run}-${transport}-${c.how.replace(/\W+/g, '').toLowerCase()}`;
        const vm = createInstance(backend, name, { image: TEST_IMAGE });
        instances.push(vm);
        await vm.create();
        await vm.start();
        expect((await vm.exec(['echo', 'remote'])).stdout).toBe('remote\n');
        // It lives in the second engine, not in the default one.
        expect(remote(['inspect', '--format', '{{.State.Status}}', name]).trim()).toBe('running');
        expect(() => execFileSync('docker', ['inspect', name], { stdio: 'pipe' })).toThrow();
        const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
        expect(listed.map((i) => i.name)).toContain(name);
        expect((await vm.delete()).existed).toBe(true);
        await backend.close();
      });
    }
  }

  it('a context that does not exist is NOT_FOUND with a hint', async () => {
    const backend = createDocker({ context: 'no-such-context', env: { DOCKER_CONFIG: config } });
    const vm = createInstance(backend, `vmsremote-${run}-nocontext`, { image: TEST_IMAGE });
    await expect(vm.create()).rejects.toMatchObject({
      code: 'NOT_FOUND',
      hint: expect.stringMatching(/context/),
    });
  });
});
