#!/usr/bin/env node
/**
 * Driver overhead against the raw tool, in one run: each case times N calls of the raw tart
 * command against the same work through @vms (Instance over the tart backend), and prints the
 * ratio. It uses test/fake-tart.mjs unless BENCH_REAL_TART=1 (then the real tart on PATH and
 * BENCH_TART_IMAGE). Run `pnpm build` first.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { createTart } from '../dist/index.js';

const run = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 10);
const real = process.env.BENCH_REAL_TART === '1';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-tart-'));
const env = { ...process.env };
if (!real) {
  fs.mkdirSync(join(root, 'bin'));
  fs.symlinkSync(
    fileURLToPath(new URL('../test/fake-tart.mjs', import.meta.url)),
    join(root, 'bin', 'tart'),
  );
  env.PATH = `${join(root, 'bin')}:${env.PATH}`;
  env.TART_HOME = join(root, 'home');
  process.env.PATH = env.PATH;
}
process.env.VMS_HOME = join(root, 'vms');
const image = real
  ? (process.env.BENCH_TART_IMAGE ?? 'ghcr.io/cirruslabs/ubuntu:latest')
  : 'ghcr.io/cirruslabs/ubuntu:latest';
const backend = createTart(real ? {} : { tartHome: env.TART_HOME, stateDir: join(root, 'state') });
const tart = (...args) => run('tart', args, { env });

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

const vm = createInstance(backend, `bench-${process.pid}`, {
  source: image,
  readiness: { maxPollIntervalMs: 100 },
});
try {
  await bench(
    'create + delete (clone, delete)',
    async (i) => {
      await tart('clone', image, `raw-${process.pid}-${i + 1}`);
      await tart('delete', `raw-${process.pid}-${i + 1}`);
    },
    async (i) => {
      const v = createInstance(backend, `vms-${process.pid}-${i + 1}`, { source: image });
      await v.create();
      await v.delete();
    },
  );
  await vm.create();
  await vm.start();
  await bench(
    'inspect running VM (get [+ ip])',
    () => tart('get', vm.name, '--format', 'json'),
    () => vm.refresh(),
  );
  await bench(
    'exec echo',
    () => tart('exec', vm.name, 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
} finally {
  await vm.delete().catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(`@vms/tart overhead vs raw ${real ? 'tart' : 'fake-tart'} (N=${N}; ratio = vms / raw)`);
console.table(rows);
