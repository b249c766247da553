#!/usr/bin/env node
/**
 * Diagnostic for `lifecycle.mjs` (not part of `pnpm bench`): the engine API requests one
 * create → start → exec → stop → delete makes, with @vms/docker and with testcontainers-node,
 * each with the time the engine took to answer (to the response headers; a streamed body such as
 * wait's comes later). Both talk to a logging unix-socket proxy in front of the engine
 * (`DOCKER_HOST`), after one warm-up lifecycle each (engine discovery is a one-time cost).
 *
 *   cd bench && node requests.mjs        # after `pnpm exec turbo run build`
 *
 * Env: VMS_TEST_IMAGE (default vms-test/busybox:latest); the engine's socket is
 * /var/run/docker.sock unless DOCKER_HOST names another unix socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const image = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const engineSocket = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock';
const run = `bench-req-${Math.random().toString(36).slice(2, 8)}`;
const labels = { 'dev.vms.test-run': run };
const dir = mkdtempSync(join(tmpdir(), 'vms-bench-requests-'));
const proxyPath = join(dir, 'engine.sock');

/** Requests seen, in order; `record` is switched on around the measured lifecycle only. */
const seen = [];
let record = false;
const proxy = net.createServer((client) => {
  const engine = net.connect(engineSocket);
  const pending = [];
  client.on('data', (data) => {
    const m = /^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/.exec(data.toString('latin1', 0, 4096));
    if (m && record) {
      const path = decodeURIComponent(m[2]).replace(/^\/v[\d.]+\//, '/');
      pending.push({ request: `${m[1]} ${path}`, at: performance.now() });
    } else if (m) pending.push(undefined);
    engine.write(data);
  });
  engine.on('data', (data) => {
    const m = /^HTTP\/1\.\d (\d{3})/.exec(data.toString('latin1', 0, 32));
    if (m && pending.length) {
      const p = pending.shift();
      if (p) seen.push({ ...p, status: m[1], ms: performance.now() - p.at });
    }
    client.write(data);
  });
  client.on('end', () => engine.end());
  engine.on('end', () => client.end());
  client.on('error', () => engine.destroy());
  engine.on('error', () => client.destroy());
});
await new Promise((resolve) => proxy.listen(proxyPath, resolve));
process.env.DOCKER_HOST = `unix://${proxyPath}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const { DEFAULT_COMMAND } = await import('@vms/container-engine');
const { createInstance } = await import('@vms/core');
const { createDocker } = await import('@vms/docker');
const { GenericContainer } = await import('testcontainers');
const backend = createDocker();

const lifecycles = {
  '@vms/docker': async (i) => {
    const vm = createInstance(backend, `vmsbench-${run}-lib-${i}`, { image, labels });
    await vm.create();
    await vm.start();
    await vm.exec(['true']);
    await vm.stop({ graceMs: 10_000 });
    await vm.delete();
  },
  'testcontainers 11': async (i) => {
    const c = await new GenericContainer(image)
      .withName(`vmsbench-${run}-tc-${i}`)
      .withCommand([...DEFAULT_COMMAND])
      .withLabels(labels)
      .start();
    await c.exec(['true']);
    await c.stop({ timeout: 10_000 });
  },
};

try {
  for (const [name, lifecycle] of Object.entries(lifecycles)) {
    await lifecycle('warm');
    seen.length = 0;
    record = true;
    const t0 = performance.now();
    await lifecycle(0);
    const total = performance.now() - t0;
    record = false;
    // A stream opened during the lifecycle may still be pending: count what answered.
    console.log(`\n${name}: ${seen.length} requests, ${total.toFixed(0)} ms`);
    for (const r of seen) {
      const id = r.request.replace(/[0-9a-f]{64}/g, 'ID').replace(/vmsbench-[\w-]+/g, 'X');
      console.log(`  ${r.ms.toFixed(1).padStart(7)} ms  ${r.status}  ${id}`);
    }
  }
} finally {
  await backend.close();
  proxy.close();
  rmSync(dir, { recursive: true, force: true });
}
