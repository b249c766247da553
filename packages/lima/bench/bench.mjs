#!/usr/bin/env node
/**
 * Driver overhead against the raw tool, in one run: each case alternates N calls of the raw
 * limactl command with the same work through @vms (Instance over the lima backend), and prints
 * the ratio. It uses test/fake-limactl.mjs unless BENCH_REAL_LIMA=1 (then the real limactl on
 * PATH). Run `pnpm build` first.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { createLima } from '../dist/index.js';

const run = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 10);
const real = process.env.BENCH_REAL_LIMA === '1';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-lima-'));
const env = { ...process.env };
if (!real) {
  fs.mkdirSync(join(root, 'bin'));
  fs.symlinkSync(
    fileURLToPath(new URL('../test/fake-limactl.mjs', import.meta.url)),
    join(root, 'bin', 'limactl'),
  );
  env.PATH = `${join(root, 'bin')}:${env.PATH}`;
  env.LIMA_HOME = join(root, 'home');
  process.env.PATH = env.PATH;
}
process.env.VMS_HOME = join(root, 'vms');
const backend = createLima(real ? {} : { limaHome: env.LIMA_HOME });
const limactl = (...args) => run('limactl', args, { env });

async function timed(fn, i) {
  const started = process.hrtime.bigint();
  await fn(i);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const rows = [];
/** Warms both up once, then alternates raw and vms calls so that machine load hits both alike. */
async function bench(name, raw, vms) {
  await raw(-1);
  await vms(-1);
  let rawMs = 0;
  let vmsMs = 0;
  for (let i = 0; i < N; i++) {
    rawMs += await timed(raw, i);
    vmsMs += await timed(vms, i);
  }
  rows.push({
    case: name,
    'raw ms/op': (rawMs / N).toFixed(1),
    'vms ms/op': (vmsMs / N).toFixed(1),
    ratio: (vmsMs / rawMs).toFixed(2),
  });
}

const vm = createInstance(backend, `bench-${process.pid}`, {});
try {
  await bench(
    'create + delete',
    async (i) => {
      await limactl(
        'create',
        '--tty=false',
        '--name',
        `raw-${process.pid}-${i + 1}`,
        'template://default',
      );
      await limactl('delete', '--force', `raw-${process.pid}-${i + 1}`);
    },
    async (i) => {
      const v = createInstance(backend, `vms-${process.pid}-${i + 1}`, {});
      await v.create();
      await v.delete();
    },
  );
  await vm.create();
  await vm.start();
  await bench(
    'inspect running instance (list --json NAME)',
    () => limactl('list', '--json', vm.name),
    () => vm.refresh(),
  );
  await bench(
    'exec echo (limactl shell)',
    () => limactl('shell', '--tty=false', vm.name, 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
} finally {
  await vm.delete().catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(
  `@vms/lima overhead vs raw ${real ? 'limactl' : 'fake-limactl'} (N=${N}; ratio = vms / raw)`,
);
console.table(rows);
