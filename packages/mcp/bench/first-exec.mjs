// `pnpm bench`: time from `create_instance` to the first `exec` result through MCP (the SDK's
// client over stdio, talking to a spawned `vms-all mcp`), with and without a warm pool, on docker
// (and on qemu when the test guest is there). Baselines in the same run: the raw `docker run` +
// `docker exec`, and @vms/core in-process (create + start + exec, no MCP). Needs `pnpm build`.
// Medians in ms; the ratios are what to read.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createInstance } from '@vms/core';
import { docker } from '@vms/docker';
import { loadTestGuest, sweep, testGuestSkipReason } from '@vms/qemu/testing';

const exec = promisify(execFile);
const VMS_ALL = fileURLToPath(new URL('../../vms/dist/bin.js', import.meta.url));
const IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUN = `bench-${process.pid}`;
const LABEL = `dev.vms.test-run=${RUN}`;
const home = mkdtempSync(join(tmpdir(), 'vms-mcp-bench-'));
process.env.VMS_HOME = home;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(0).padStart(6)} ms`;

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function policyFile(name, policy) {
  const file = join(home, `${name}.json`);
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

async function connect(policy) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [VMS_ALL, 'mcp', '--config', policy],
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? home, VMS_HOME: home },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'vms-mcp-bench', version: '1' });
  await client.connect(transport);
  return client;
}

async function callTool(client, name, args) {
  const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
  if (r.isError) throw new Error(`${name}: ${r.content[0]?.text}`);
  return r.structuredContent;
}

/** create_instance → first exec result, per round (the delete after each round is untimed). */
async function throughMcp(client, createArgs, rounds, beforeRound = async () => {}) {
  const samples = [];
  const creates = [];
  for (let i = 0; i < rounds; i++) {
    await beforeRound(i);
    const name = `b${i}`;
    samples.push(
      await time(async () => {
        creates.push(
          await time(() => callTool(client, 'create_instance', { name, ...createArgs })),
        );
        await callTool(client, 'exec', { instance: name, command: ['true'] });
      }),
    );
    await callTool(client, 'delete_instance', { instance: name });
  }
  console.log(`  create_instance alone: ${fmt(median(creates))} (${JSON.stringify(createArgs)})`);
  return median(samples);
}

/** How many of the pool's instances are up (docker ps, by name and run label). */
async function warmContainers() {
  const { stdout } = await exec('docker', [
    'ps',
    '--filter',
    `label=${LABEL}`,
    '--format',
    '{{.Names}}',
  ]);
  return stdout.split('\n').filter((n) => /^mcp-[0-9a-f]{8}-w0-/.test(n)).length;
}

async function until(check, what, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rows = [];
try {
  // --- docker ---------------------------------------------------------------------------------
  const raw = [];
  for (let i = 0; i < ROUNDS; i++) {
    const name = `vms-mcp-bench-${process.pid}-${i}`;
    raw.push(
      await time(async () => {
        await exec('docker', [
          'run',
          '-d',
          '--init',
          '--network',
          'none',
          '--label',
          LABEL,
          '--name',
          name,
          IMAGE,
          'sleep',
          '3600',
        ]);
        await exec('docker', ['exec', name, 'true']);
      }),
    );
    await exec('docker', ['rm', '-f', name]);
  }
  const rawMs = median(raw);
  rows.push(['docker run -d + docker exec (raw CLI)', rawMs]);

  const core = [];
  for (let i = 0; i < ROUNDS; i++) {
    const vm = createInstance(docker, `vms-mcp-bench-core-${process.pid}-${i}`, {
      image: IMAGE,
      network: 'none',
      labels: { 'dev.vms.test-run': RUN },
    });
    core.push(
      await time(async () => {
        await vm.create();
        await vm.start();
        await vm.exec(['true']);
      }),
    );
    await vm.delete();
  }
  rows.push(['@vms/core in-process (no MCP)', median(core)]);

  const coldClient = await connect(
    policyFile('cold', { images: ['vms-test/*'], labels: { 'dev.vms.test-run': RUN } }),
  );
  rows.push([
    'MCP create_instance → exec, cold',
    await throughMcp(coldClient, { image: IMAGE }, ROUNDS),
  ]);
  await coldClient.close();

  const warmClient = await connect(
    policyFile('warm', {
      templates: { box: { backend: 'docker', options: { image: IMAGE } } },
      warm: [{ template: 'box', min: 2, max: 3 }],
      labels: { 'dev.vms.test-run': RUN },
    }),
  );
  // Each round starts with the pool refilled (2 warm), so every create is served warm.
  rows.push([
    'MCP create_instance → exec, warm pool',
    await throughMcp(warmClient, { template: 'box' }, ROUNDS, () =>
      until(async () => (await warmContainers()) >= 2, 'the pool to refill'),
    ),
  ]);
  await warmClient.close();

  // --- qemu (the test guest), one round each: boots are long and the machine is shared -------
  const guest = testGuestSkipReason() ? undefined : loadTestGuest();
  if (guest) {
    const template = {
      backend: 'qemu',
      options: {
        kernel: guest.vmlinux,
        initrd: guest.initrd,
        cmdline: guest.cmdline,
        readyMarker: guest.marker,
        memoryMiB: 256,
      },
    };
    const q = await connect(policyFile('qcold', { templates: { guest: template } }));
    rows.push([
      'qemu: MCP create_instance → exec, cold',
      await throughMcp(q, { template: 'guest' }, 1),
    ]);
    await q.close();
    const qw = await connect(
      policyFile('qwarm', {
        templates: { guest: template },
        warm: [{ template: 'guest', min: 1 }],
      }),
    );
    // The pool's VM starts in the background (booted, or resumed from the pool's saved state):
    // time the create only once it is up, i.e. its SSH host key is pinned (known_hosts).
    const booted = () =>
      readdir(join(home, 'state', 'qemu'))
        .then((names) =>
          names.some((n) => existsSync(join(home, 'state', 'qemu', n, 'known_hosts'))),
        )
        .catch(() => false);
    await until(booted, 'the warm VM to boot');
    rows.push([
      'qemu: MCP create_instance → exec, warm pool',
      await throughMcp(qw, { template: 'guest' }, 1),
    ]);
    await qw.close();
  } else {
    console.log(`(qemu skipped: ${testGuestSkipReason()})`);
  }
} finally {
  const { stdout } = await exec('docker', ['ps', '-aq', '--filter', `label=${LABEL}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', ...ids]);
  if (existsSync(home)) sweep(home);
  rmSync(home, { recursive: true, force: true });
}

const base = rows[0][1];
console.log(
  `\ncreate → first exec result (median of ${ROUNDS} on docker; ratio to the raw docker CLI)\n`,
);
for (const [what, ms] of rows)
  console.log(`${what.padEnd(46)} ${fmt(ms)}   ${(ms / base).toFixed(2)}×`);
