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
import { createOverheadBench, installFakeTool } from '@vms/core/testing';
import { createLima } from '../dist/index.js';

const run = promisify(execFile);
const real = process.env.BENCH_REAL_LIMA === '1';
const root = fs.mkdtempSync(join(tmpdir(), 'vms-bench-lima-'));
const fake = real
  ? undefined
  : installFakeTool({
      name: 'lima',
      commands: { limactl: fileURLToPath(new URL('../test/fake-limactl.mjs', import.meta.url)) },
    });
const env = { ...process.env, ...(fake ? { LIMA_HOME: fake.home } : {}) };
process.env.VMS_HOME = join(root, 'vms');
const backend = createLima(fake ? { limaHome: fake.home } : {});
const limactl = (...args) => run('limactl', args, { env });
const bench = createOverheadBench();

const vm = createInstance(backend, `bench-${process.pid}`, {});
try {
  await bench.compare(
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
  await bench.compare(
    'inspect running instance (list --json NAME)',
    () => limactl('list', '--json', vm.name),
    () => vm.refresh(),
  );
  await bench.compare(
    'exec echo (limactl shell)',
    () => limactl('shell', '--tty=false', vm.name, 'echo', 'hi'),
    () => vm.exec(['echo', 'hi']),
  );
} finally {
  await vm.delete().catch(() => undefined);
  fake?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}
bench.print(`@vms/lima overhead vs raw ${real ? 'limactl' : 'fake-limactl'}`);
