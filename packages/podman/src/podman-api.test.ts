import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import { podmanSkipReason, removeBehindBack, TEST_IMAGE } from './test-helpers.js';

// Podman's API exists only while `podman system service` runs: this file starts one on its own
// socket, runs the shared suite over the API, and stops it afterwards.
const skip = podmanSkipReason();
const socket = path.join(os.tmpdir(), `vms-podman-api-${process.pid}.sock`);
let service: ChildProcess | undefined;

function answers(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

if (skip) {
  console.warn(`[skipped] podman (api) tests: ${skip}`);
  describe.skip(`podman (api): ${skip}`, () => {});
} else {
  beforeAll(async () => {
    rmSync(socket, { force: true });
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    service.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const deadline = Date.now() + 60_000;
    // Wait on the real condition: the socket answers /_ping.
    while (!(existsSync(socket) && (await answers()))) {
      if (service.exitCode !== null) throw new Error(`podman system service exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`podman system service did not answer: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service?.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(socket, { force: true });
  }, 60_000);

  runContainerSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'podman (api)',
      transport: 'api',
      backend: () => createPodman({ transport: 'api', host: `unix://${socket}` }),
      deadBackend: () =>
        createPodman({ transport: 'api', host: 'unix:///tmp/vms-nothing-listens-here.sock' }),
      image: TEST_IMAGE,
      removeBehindBack,
      prefix: 'vmspa',
    },
  );
}
