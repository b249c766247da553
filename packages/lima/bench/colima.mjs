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
import { createOverheadBench, installFakeTool } from '@vms/core/testing';
import { createDocker } from '@vms/docker';
import { createColima } from '../dist/index.js';

const run = promisify(execFile);
const real = process.env.BENCH_REAL_COLIMA === '1';
const IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-colima-'));
const script = (file) => fileURLToPath(new URL(`../test/${file}`, import.meta.url));
const fake = real
  ? undefined
  : installFakeTool({
      name: 'colima',
      commands: {
        colima: script('fake-colima.mjs'),
        limactl: script('fake-limactl.mjs'),
        lima: script('fake-limactl.mjs'),
      },
    });
const env = { ...process.env, ...(fake ? { COLIMA_HOME: fake.home } : {}) };
process.env.VMS_HOME = join(root, 'vms');
const backend = createColima(fake ? { colimaHome: fake.home } : {});
const colima = (...args) => run('colima', args, { env });
const bench = createOverheadBench();

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
  await bench.compare(
    'inspect (colima list --json)',
    () => colima('list', '--json'),
    () => vm.refresh(),
  );
  await bench.compare(
    'exec echo (colima ssh)',
    () => colima('ssh', '--profile', vm.name, '--', 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
  // What asking the VM costs (paid once per engine, and again only when it stops answering).
  await bench.compare(
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
    await bench.compare(
      'container exec true: on the VM engine vs the same socket given as host',
      () => b.exec(['true']),
      () => a.exec(['true']),
      bench.n * 3,
    );
    await bench.compare(
      'container exec true: on the VM engine vs docker -H <socket> exec',
      () => run('docker', ['-H', socket, 'exec', b.name, 'true']),
      () => a.exec(['true']),
      bench.n * 3,
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
  fake?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}
bench.print(`@vms/lima colima overhead vs raw ${real ? 'colima' : 'fake-colima'}`);
