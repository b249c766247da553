/**
 * The API transport negotiates the engine API version and sends every request versioned: a
 * recording proxy in front of the real engine's socket sees what the library sends.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInstance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerSkipReason, TEST_IMAGE } from './test-helpers.js';

const skip = dockerSkipReason();
if (skip) console.warn(`[skipped] docker API version tests: ${skip}`);

describe.skipIf(skip !== undefined)(
  'docker (api): version negotiation with the real engine',
  () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-apiver-'));
    const socket = path.join(dir, 'proxy.sock');
    const requests: string[] = [];
    let proxy: net.Server;
    const engineApi = execFileSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], {
      encoding: 'utf8',
    }).trim();

    beforeAll(async () => {
      proxy = net.createServer((client) => {
        const upstream = net.connect('/var/run/docker.sock');
        let head = '';
        client.on('data', (chunk: Buffer) => {
          head = (head + chunk.toString('latin1')).slice(-8192);
          for (const m of head.matchAll(/^(GET|POST|DELETE|PUT|HEAD) (\S+) HTTP\/1\.1\r$/gm))
            requests.push(`${m[1]} ${m[2]}`);
          head = head.slice(head.lastIndexOf('\n') + 1);
        });
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end);
        upstream.on('error', end);
      });
      await new Promise<void>((resolve) => proxy.listen(socket, resolve));
    });

    afterAll(async () => {
      await new Promise((resolve) => proxy.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it(`speaks the engine's API version (${engineApi}) on every request but /_ping`, async () => {
      const backend = createDocker({ transport: 'api', host: `unix://${socket}` });
      const vm = createInstance(backend, `vmsapiver-${process.pid}`, {
        image: TEST_IMAGE,
        labels: { 'dev.vms.test-run': `apiver-${process.pid}` },
      });
      try {
        await vm.create();
        await vm.start();
        expect((await vm.exec(['echo', 'ok'])).stdout).toBe('ok\n');
      } finally {
        await vm.delete();
        await backend.close();
      }
      expect(requests[0]).toBe('GET /_ping');
      const rest = requests.slice(1);
      expect(rest.length).toBeGreaterThan(5);
      expect(rest.filter((r) => !r.split(' ')[1]?.startsWith(`/v${engineApi}/`))).toEqual([]);
    });
  },
);
