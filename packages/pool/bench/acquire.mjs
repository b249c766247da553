// `pnpm bench`: time to acquire from a warm pool vs a cold create+start of the same instance,
// on docker (and on qemu when the test guest is there), with the raw tool as a baseline in the
// same run. Needs `pnpm build` first (imports dist). Medians in ms; ratios are what to read.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { createPool, prunePool } from '@vms/pool';
import { recordRatio } from '../../../scripts/bench/record.mjs';

const run = promisify(execFile);
// Locks and qemu state of the benchmark live in a throw-away home.
const home = mkdtempSync(join(tmpdir(), 'vms-pool-bench-'));
process.env.VMS_HOME ??= home;
const IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const COLD = Number(process.env.BENCH_COLD ?? 5);
const WARM = Number(process.env.BENCH_WARM ?? 30);
// No network for both sides: the comparison is about the lifecycle, not the engine's bridge.
const DOCKER_OPTIONS = { image: IMAGE, network: 'none' };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(3)}×`;

/** The target: a warm acquire with the default check ≤ 0.05× a cold create+start. */
function recordPool(backendName, warmMs, coldMs) {
  recordRatio({
    id: `pool-${backendName}`,
    label: `${backendName} warm acquire / cold create+start (default health check)`,
    ratio: warmMs / coldMs,
    target: 0.05,
    detail: `${ms(warmMs)} vs ${ms(coldMs)}`,
  });
}

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Cold create+start of a fresh instance with @vms (the instance is deleted after, untimed). */
async function cold(backend, prefix, options, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const vm = createInstance(backend, `${prefix}-cold-${process.pid}-${i}`, options);
    try {
      samples.push(
        await time(async () => {
          await vm.create();
          await vm.start();
        }),
      );
    } finally {
      await vm.delete();
    }
  }
  return median(samples);
}

/** Acquire from a warm pool (min 2, reuse: the pool is warm on every acquire), per health check. */
async function warm(backend, prefix, options, healthCheck, n, extra = {}) {
  const pool = createPool({
    backend,
    namePrefix: prefix,
    options,
    min: 2,
    max: 2,
    recycle: 'reuse',
    healthCheck,
    ...extra,
  });
  try {
    await pool.ready({ timeoutMs: 600_000 });
    const samples = [];
    for (let i = 0; i < n; i++) {
      await pool.ready({ timeoutMs: 600_000 }); // measure warm hits only
      let lease;
      samples.push(await time(async () => (lease = await pool.acquire())));
      await lease.release();
    }
    const stats = pool.stats();
    return { median: median(samples), p90: stats.acquireLatencyMs?.p90 ?? Number.NaN };
  } finally {
    await pool.close();
  }
}

async function benchDocker() {
  try {
    await run('docker', ['image', 'inspect', IMAGE], { timeout: 30_000 });
  } catch {
    console.log(`docker: skipped (no engine or no ${IMAGE}; run scripts/ci/containers.sh)`);
    recordRatio({
      id: 'pool-docker',
      label: 'docker warm acquire / cold',
      skipped: `no engine or no ${IMAGE}`,
    });
    return;
  }
  const { createDocker } = await import('@vms/docker');
  const backend = createDocker();
  const prefix = 'vmspoolbench';
  await prunePool({ backend, namePrefix: prefix, options: DOCKER_OPTIONS, includeLive: true });

  const raw = [];
  const rawExec = [];
  for (let i = 0; i < COLD; i++) {
    const name = `${prefix}-raw-${process.pid}-${i}`;
    raw.push(
      await time(async () => {
        await run('docker', [
          'create',
          '--init',
          '--network',
          'none',
          '--name',
          name,
          IMAGE,
          'sh',
          '-c',
          'trap "exit 0" TERM; while :; do sleep 86400 & wait $!; done',
        ]);
        await run('docker', ['start', name]);
      }),
    );
    if (i === 0) {
      // The default readiness check is one exec: the raw tool's cost of the same.
      for (let j = 0; j < COLD; j++)
        rawExec.push(await time(() => run('docker', ['exec', name, 'true'])));
    }
    await run('docker', ['rm', '-f', name]);
  }
  const rawMs = median(raw);
  const coldMs = await cold(backend, prefix, DOCKER_OPTIONS, COLD);
  console.log(`docker (${IMAGE}), medians; cold n=${COLD}, warm n=${WARM}`);
  console.log(`  raw docker create+start (CLI)      ${ms(rawMs)}`);
  console.log(`  @vms create+start (cold)           ${ms(coldMs)}   ${ratio(coldMs, rawMs)} raw`);
  console.log(
    `  raw docker exec true (CLI)         ${ms(median(rawExec))}   (the cost of the default check, by hand)`,
  );
  for (const check of ['auto', 'state', 'none']) {
    const w = await warm(backend, prefix, DOCKER_OPTIONS, check, WARM);
    if (check === 'auto') recordPool('docker', w.median, coldMs);
    console.log(
      `  warm acquire, healthCheck=${check.padEnd(5)}    ${ms(w.median)}   ${ratio(w.median, coldMs)} cold   ${ratio(w.median, rawMs)} raw   (p90 ${ms(w.p90)})`,
    );
  }
}

async function benchQemu() {
  const dir =
    process.env.VMS_TEST_GUEST ??
    join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');
  if (!existsSync(join(dir, 'manifest.json'))) {
    console.log(`qemu: skipped (no test guest at ${dir}; run scripts/ci/qemu.sh)`);
    recordRatio({ id: 'pool-qemu', label: 'qemu warm acquire / cold', skipped: 'no test guest' });
    return;
  }
  let createQemu;
  try {
    ({ createQemu } = await import('@vms/qemu'));
  } catch {
    console.log('qemu: skipped (@vms/qemu is not built)');
    return;
  }
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  // TCG unless told otherwise: /dev/kvm can exist and still fail (nested virtualisation).
  const accel = process.env.BENCH_QEMU_ACCEL ?? 'tcg';
  const options = {
    kernel: join(dir, m.kernel),
    initrd: join(dir, m.initrd),
    cmdline: m.cmdline,
    readyMarker: m.readyMarker,
    accel,
    memoryMiB: 256,
    restrictNetwork: true,
  };
  const backend = createQemu();
  const prefix = 'vmspoolbenchq';
  const n = Math.max(1, Math.min(COLD, 3));
  const coldMs = await cold(backend, prefix, options, n);
  console.log(
    `qemu (test guest, initramfs, ${accel}), medians; cold n=${n}, warm n=${Math.min(WARM, 10)}`,
  );
  console.log(`  @vms create+start (cold)           ${ms(coldMs)}`);
  for (const check of ['auto', 'state']) {
    const w = await warm(backend, prefix, options, check, Math.min(WARM, 10), {
      healthCheckTimeoutMs: 60_000,
    });
    if (check === 'auto') recordPool('qemu', w.median, coldMs);
    console.log(
      `  warm acquire, healthCheck=${check.padEnd(5)}    ${ms(w.median)}   ${ratio(w.median, coldMs)} cold   (p90 ${ms(w.p90)})`,
    );
  }
}

try {
  await benchDocker();
  await benchQemu();
} finally {
  rmSync(home, { recursive: true, force: true });
}
