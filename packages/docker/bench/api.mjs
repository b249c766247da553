#!/usr/bin/env node
/**
 * `pnpm bench` (after `pnpm build`): @vms/docker against the raw docker CLI, in one run, on the
 * same engine. Prints per-operation times and ratios (library / CLI; lower is better):
 *   1. state query: in-process over the API vs `docker inspect` (target ≤ 0.1×)
 *   2. exec `true`: in-process over the API vs `docker exec` (target ≤ 0.9×)
 * The lifecycle of 20 containers against the CLI loop and testcontainers is in bench/ (repo root).
 * Env: VMS_TEST_IMAGE (default vms-test/busybox:latest).
 */
import { execFileSync } from 'node:child_process';
import { createInstance } from '@vms/core';
import { createDocker } from '../dist/index.js';

const image = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const run = Math.random().toString(36).slice(2, 8);
const label = `dev.vms.test-run=bench-${run}`;
const docker = (args) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function perOp(n, fn) {
  await fn(); // warm-up
  return (
    (await time(async () => {
      for (let i = 0; i < n; i++) await fn();
    })) / n
  );
}

function sweep() {
  const ids = docker(['ps', '-aq', '--filter', `label=${label}`])
    .split('\n')
    .filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
}

const rows = [];
const report = (name, lib, cli, target) =>
  rows.push({
    name,
    lib: lib.toFixed(1),
    cli: cli.toFixed(1),
    ratio: (lib / cli).toFixed(3),
    target,
  });

try {
  const backend = createDocker({ transport: 'api' });
  const probe = createInstance(backend, `vmsbench-${run}-probe`, {
    image,
    labels: { 'dev.vms.test-run': `bench-${run}` },
  });
  await probe.create();
  await probe.start();

  // 1. state query
  const lib1 = await perOp(200, () => probe.refresh());
  const cli1 = await perOp(20, () => docker(['inspect', probe.name]));
  report('state query (ms/op)', lib1, cli1, '≤ 0.1');

  // 2. exec true
  const lib2 = await perOp(30, () => probe.exec(['true']));
  const cli2 = await perOp(15, () => docker(['exec', probe.name, 'true']));
  report('exec true (ms/op)', lib2, cli2, '≤ 0.9');
  await probe.delete();

  await backend.close();
} finally {
  sweep();
}

console.log('\n@vms/docker vs docker CLI (same engine, same run)\n');
console.table(
  rows.map((r) => ({
    benchmark: r.name,
    '@vms/docker': r.lib,
    'docker CLI': r.cli,
    ratio: r.ratio,
    target: r.target,
  })),
);
