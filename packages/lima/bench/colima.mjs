#!/usr/bin/env node
/**
 * Colima driver overhead against the raw tool, and containers on a VM's engine against the same
 * engine reached directly, in one run (ratios = vms / raw; calls alternate so machine load hits
 * both alike). Uses test/fake-colima.mjs (driving test/fake-limactl.mjs) unless
 * BENCH_REAL_COLIMA=1. The engine cases need docker and vms-test/busybox:latest (skipped
 * otherwise). Run `pnpm build` first.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { createDocker } from '@vms/docker';
import { createColima } from '../dist/index.js';

const run = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 10);
const real = process.env.BENCH_REAL_COLIMA === '1';
const IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-colima-'));
const env = { ...process.env };
if (!real) {
  const bin = join(root, 'bin');
  fs.mkdirSync(bin);
  const fake = (file) => fileURLToPath(new URL(`../test/${file}`, import.meta.url));
  fs.symlinkSync(fake('fake-colima.mjs'), join(bin, 'colima'));
  fs.symlinkSync(fake('fake-limactl.mjs'), join(bin, 'limactl'));
  fs.symlinkSync(fake('fake-limactl.mjs'), join(bin, 'lima'));
  env.PATH = `${bin}:${env.PATH}`;
  env.COLIMA_HOME = join(root, 'home');
  fs.mkdirSync(env.COLIMA_HOME);
  process.env.PATH = env.PATH;
}
process.env.VMS_HOME = join(root, 'vms');
const backend = createColima(real ? {} : { colimaHome: env.COLIMA_HOME });
const colima = (...args) => run('colima', args, { env });

async function timed(fn, i) {
  const started = process.hrtime.bigint();
  await fn(i);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const rows = [];
async function bench(name, raw, vms, n = N) {
  await raw(-1);
  await vms(-1);
  let rawMs = 0;
  let vmsMs = 0;
  for (let i = 0; i < n; i++) {
    rawMs += await timed(raw, i);
    vmsMs += await timed(vms, i);
  }
  rows.push({
    case: name,
    'raw ms/op': (rawMs / n).toFixed(1),
    'vms ms/op': (vmsMs / n).toFixed(1),
    ratio: (vmsMs / rawMs).toFixed(2),
  });
}

function engineSkipReason() {
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe' });
    return undefined;
  } catch {
    return `docker or ${IMAGE} unavailable`;
  }
}

const vm = createInstance(backend, `bench${process.pid}`, { runtime: 'docker' });
const suite = `bench-colima-${process.pid}`;
try {
  await vm.create();
  await vm.start();
  await bench(
    'inspect (colima list --json)',
    () => colima('list', '--json'),
    () => vm.refresh(),
  );
  await bench(
    'exec echo (colima ssh)',
    () => colima('ssh', '--profile', vm.name, '--', 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
  // What asking the VM costs (paid once per engine, and again only when it stops answering).
  await bench(
    'engine endpoint (refresh + status) vs colima status --json',
    () => colima('status', '--profile', vm.name, '--json'),
    () => vm.engineEndpoint({ kind: 'docker' }),
  );
  const skip = engineSkipReason();
  if (skip) {
    console.log(`engine cases skipped: ${skip}`);
  } else {
    const socket = (await vm.engineEndpoint({ kind: 'docker' })).host;
    const onVm = createDocker({ engine: { vm }, transport: 'api' });
    const direct = createDocker({ host: socket, transport: 'api' });
    const a = createInstance(onVm, `bench-vm-${process.pid}`, {
      image: IMAGE,
      labels: { 'dev.vms.test-run': suite },
    });
    const b = createInstance(direct, `bench-direct-${process.pid}`, {
      image: IMAGE,
      labels: { 'dev.vms.test-run': suite },
    });
    await a.create();
    await a.start();
    await b.create();
    await b.start();
    await bench(
      'container exec true: on the VM engine vs the same socket given as host',
      () => b.exec(['true']),
      () => a.exec(['true']),
      N * 3,
    );
    await bench(
      'container exec true: on the VM engine vs docker -H <socket> exec',
      () => run('docker', ['-H', socket, 'exec', b.name, 'true']),
      () => a.exec(['true']),
      N * 3,
    );
    await a.delete();
    await b.delete();
    await onVm.close();
    await direct.close();
  }
} finally {
  await vm.delete().catch(() => undefined);
  try {
    const ids = execFileSync(
      'docker',
      ['ps', '-aq', '--filter', `label=dev.vms.test-run=${suite}`],
      {
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'pipe' });
  } catch {}
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(
  `@vms/lima colima overhead vs raw ${real ? 'colima' : 'fake-colima'} (N=${N}; ratio = vms / raw)`,
);
console.table(rows);
