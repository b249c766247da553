#!/usr/bin/env node
/**
 * `pnpm bench` (after `pnpm build`): the lifecycle of N containers (default 20) —
 * create → start → exec `true` → stop → delete — three ways, on the same engine and image:
 *
 *   - @vms/docker (the library, 4 at a time, its defaults: `--init`, labels, API transport);
 *   - the docker CLI, one container after the other (the shell loop people write);
 *   - testcontainers-node 11 (GenericContainer → exec → stop), 4 at a time like @vms (the
 *     target's comparison), and one after the other as a test file would; its defaults, except
 *     Ryuk, which needs an image from Docker Hub.
 *
 * Rounds alternate the order so machine load hits all three alike; medians of the rounds.
 * Targets: @vms ≤ 0.5× the CLI loop and ≤ 0.6× testcontainers. Env: VMS_TEST_IMAGE (default
 * vms-test/busybox:latest), BENCH_CONTAINERS (20), BENCH_ROUNDS (3).
 *
 * One more contender to read the targets against, the engine's floor: the fewest API requests
 * that do the same work (create with init, start, exec create/start/inspect, kill, wait, remove),
 * straight on the socket, 4 at a time — what no client can go below on this engine and machine.
 * Recorded as a reference ratio (floor / testcontainers, no target), printed with each
 * contender's own CPU time.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { DEFAULT_COMMAND } from '@vms/container-engine';
import { createInstance } from '@vms/core';
import { createDocker } from '@vms/docker';
import { recordRatio } from '../scripts/bench/record.mjs';

const image = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const count = Number(process.env.BENCH_CONTAINERS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 4;
const run = `bench-${Math.random().toString(36).slice(2, 8)}`;
const LABEL_KEY = 'dev.vms.test-run';
const docker = (args) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  docker(['image', 'inspect', image]);
} catch {
  const why = `docker or the image ${image} is unavailable (scripts/ci/containers.sh)`;
  console.log(`lifecycle bench skipped: ${why}`);
  recordRatio({
    id: 'lifecycle-cli',
    label: `${count} containers: @vms / docker CLI loop`,
    skipped: why,
  });
  recordRatio({
    id: 'lifecycle-tc',
    label: `${count} containers: @vms / testcontainers`,
    skipped: why,
  });
  recordRatio({
    id: 'lifecycle-floor',
    label: `${count} containers: engine floor / testcontainers`,
    skipped: why,
  });
  process.exit(0);
}

// No Ryuk (its image comes from Docker Hub); everything is removed by the bench itself.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
const { GenericContainer } = await import('testcontainers');

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function eachLimited(items, limit, fn) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const backend = createDocker();
const labels = { [LABEL_KEY]: run };

/** One request to the engine's unix socket (the floor only); resolves with the body. */
const floorAgent = new http.Agent({ keepAlive: true });
function engineRequest(method, path, body) {
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice('unix://'.length)
    : '/var/run/docker.sock';
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path: `/v1.41${path}`,
        agent: floorAgent,
        headers: body ? { 'Content-Type': 'application/json' } : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode >= 400) reject(new Error(`${method} ${path}: ${text}`));
          else resolve(text);
        });
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const contenders = {
  '@vms/docker': (round, i) => async () => {
    const vm = createInstance(backend, `vmsbench-${run}-${round}-lib-${i}`, { image, labels });
    await vm.create();
    await vm.start();
    await vm.exec(['true']);
    await vm.stop({ graceMs: 10_000 });
    await vm.delete();
  },
  testcontainers: (round, i) => async () => {
    const c = await new GenericContainer(image)
      .withName(`vmsbench-${run}-${round}-tc-${i}`)
      .withCommand([...DEFAULT_COMMAND])
      .withLabels(labels)
      .start();
    await c.exec(['true']);
    await c.stop({ timeout: 10_000 });
  },
  'engine floor': (round, i) => async () => {
    const name = `vmsbench-${run}-${round}-floor-${i}`;
    const spec = {
      Image: image,
      Cmd: [...DEFAULT_COMMAND],
      Labels: labels,
      HostConfig: { Init: true },
    };
    await engineRequest('POST', `/containers/create?name=${name}`, spec);
    await engineRequest('POST', `/containers/${name}/start`);
    const exec = { Cmd: ['true'], AttachStdout: true, AttachStderr: true };
    const { Id } = JSON.parse(await engineRequest('POST', `/containers/${name}/exec`, exec));
    await engineRequest('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
    await engineRequest('GET', `/exec/${Id}/json`);
    await engineRequest('POST', `/containers/${name}/kill?signal=SIGTERM`);
    await engineRequest('POST', `/containers/${name}/wait?condition=not-running`);
    await engineRequest('DELETE', `/containers/${name}?force=1&v=1`);
  },
};

async function once(name, round) {
  const indices = Array.from({ length: count }, (_, i) => i);
  if (name === 'testcontainers, sequential') {
    return time(async () => {
      for (const i of indices) await contenders.testcontainers(`${round}s`, i)();
    });
  }
  if (name === 'docker CLI') {
    return time(async () => {
      for (const i of indices) {
        const c = `vmsbench-${run}-${round}-cli-${i}`;
        docker([
          'create',
          '--init',
          '--label',
          `${LABEL_KEY}=${run}`,
          '--name',
          c,
          image,
          ...DEFAULT_COMMAND,
        ]);
        docker(['start', c]);
        docker(['exec', c, 'true']);
        docker(['stop', c]);
        docker(['rm', c]);
      }
    });
  }
  const make = contenders[name];
  return time(() => eachLimited(indices, CONCURRENCY, (i) => make(round, i)()));
}

function sweep() {
  const ids = docker(['ps', '-aq', '--filter', `label=${LABEL_KEY}=${run}`])
    .split('\n')
    .filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
}

const names = [
  '@vms/docker',
  'docker CLI',
  'testcontainers',
  'testcontainers, sequential',
  'engine floor',
];
const samples = Object.fromEntries(names.map((n) => [n, []]));
/** CPU time of this process per contender (the CLI loop's work is in its child processes). */
const cpu = Object.fromEntries(names.map((n) => [n, []]));
try {
  // Warm-up: each side's first container pays one-time costs (engine discovery, connections).
  await contenders['@vms/docker']('warm', 0)();
  await contenders.testcontainers('warm', 0)();
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, k) => names[(k + round) % names.length]);
    for (const name of order) {
      const cpu0 = process.cpuUsage();
      samples[name].push(await once(name, round));
      const used = process.cpuUsage(cpu0);
      cpu[name].push((used.user + used.system) / 1000);
    }
    console.log(
      `round ${round + 1}: ${names.map((n) => `${n} ${samples[n][round].toFixed(0)} ms`).join(', ')}`,
    );
  }
} finally {
  sweep();
  await backend.close();
  floorAgent.destroy();
}

const lib = median(samples['@vms/docker']);
const cli = median(samples['docker CLI']);
const tc = median(samples.testcontainers);
const tcSeq = median(samples['testcontainers, sequential']);
console.log(`\n${count} containers create→start→exec→stop→delete, medians of ${rounds} rounds:`);
console.log(`  @vms/docker (${CONCURRENCY} at a time)     ${lib.toFixed(0)} ms`);
console.log(
  `  docker CLI loop (sequential)     ${cli.toFixed(0)} ms   @vms/CLI ${(lib / cli).toFixed(3)}× (target ≤ 0.5)`,
);
console.log(
  `  testcontainers (${CONCURRENCY} at a time)  ${tc.toFixed(0)} ms   @vms/testcontainers ${(lib / tc).toFixed(3)}× (target ≤ 0.6)`,
);
console.log(
  `  testcontainers (sequential)      ${tcSeq.toFixed(0)} ms   @vms/testcontainers ${(lib / tcSeq).toFixed(3)}×`,
);
const floor = median(samples['engine floor']);
console.log(
  `  engine floor (${CONCURRENCY} at a time)    ${floor.toFixed(0)} ms   @vms/floor ${(lib / floor).toFixed(3)}×, floor/testcontainers ${(floor / tc).toFixed(3)}×, floor/CLI loop ${(floor / cli).toFixed(3)}×`,
);
console.log('  CPU time of this process, medians:');
for (const n of names) console.log(`    ${n.padEnd(28)} ${median(cpu[n]).toFixed(0)} ms`);
recordRatio({
  id: 'lifecycle-cli',
  label: `${count} containers: @vms / docker CLI loop`,
  ratio: lib / cli,
  target: 0.5,
  detail: `${lib.toFixed(0)} ms vs ${cli.toFixed(0)} ms`,
});
recordRatio({
  id: 'lifecycle-tc',
  label: `${count} containers: @vms / testcontainers 11`,
  ratio: lib / tc,
  target: 0.6,
  detail: `${lib.toFixed(0)} ms vs ${tc.toFixed(0)} ms, both ${CONCURRENCY} at a time (testcontainers one at a time: ${tcSeq.toFixed(0)} ms, ${(lib / tcSeq).toFixed(3)}×)`,
});
recordRatio({
  id: 'lifecycle-floor',
  label: `${count} containers: engine floor / testcontainers 11`,
  ratio: floor / tc,
  detail: `the fewest raw API requests, ${CONCURRENCY} at a time: ${floor.toFixed(0)} ms; floor / CLI loop ${(floor / cli).toFixed(3)}×; @vms / floor ${(lib / floor).toFixed(3)}×`,
});
