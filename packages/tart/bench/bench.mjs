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
import { createOverheadBench, installFakeTool } from '@vms/core/testing';
import { createTart } from '../dist/index.js';

const run = promisify(execFile);
const real = process.env.BENCH_REAL_TART === '1';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-tart-'));
const fake = real
  ? undefined
  : installFakeTool({
      name: 'tart',
      commands: { tart: fileURLToPath(new URL('../test/fake-tart.mjs', import.meta.url)) },
    });
const env = { ...process.env, ...(fake ? { TART_HOME: fake.home } : {}) };
process.env.VMS_HOME = join(root, 'vms');
const image = real
  ? (process.env.BENCH_TART_IMAGE ?? 'ghcr.io/cirruslabs/ubuntu:latest')
  : 'ghcr.io/cirruslabs/ubuntu:latest';
const backend = createTart(fake ? { tartHome: fake.home, stateDir: join(root, 'state') } : {});
const tart = (...args) => run('tart', args, { env });
const bench = createOverheadBench();

const vm = createInstance(backend, `bench-${process.pid}`, {
  source: image,
  readiness: { maxPollIntervalMs: 100 },
});
try {
  await bench.compare(
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
  await bench.compare(
    'inspect running VM (get [+ ip])',
    () => tart('get', vm.name, '--format', 'json'),
    () => vm.refresh(),
  );
  await bench.compare(
    'exec echo',
    () => tart('exec', vm.name, 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
} finally {
  await vm.delete().catch(() => undefined);
  fake?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}
bench.print(`@vms/tart overhead vs raw ${real ? 'tart' : 'fake-tart'}`);
