/**
 * @vms/linuxkit against the raw tools, in one run (needs the test guest from scripts/ci/qemu.sh
 * and a built package):
 *
 * 1. Boot to first exec of the test guest packaged as a LinuxKit kernel+initrd output, under TCG:
 *    @vms/linuxkit (create + start + exec) vs @vms/qemu on the same files (the layer's cost) vs
 *    raw QEMU (the same command line from @vms/qemu's qemuArgv, then an `ssh true` poll loop).
 *    Rounds alternate so machine load hits all three alike.
 * 2. Image-format detection: resolveImage (magic bytes) vs `qemu-img info` per artifact.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { createQemu, qemuArgv } from '@vms/qemu';
import { createLinuxkit, resolveImage } from '../dist/index.js';

const run = promisify(execFile);
const guestDir =
  process.env.VMS_TEST_GUEST ?? join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');
if (!existsSync(join(guestDir, 'manifest.json'))) {
  console.log(`bench skipped: no test guest at ${guestDir} (run scripts/ci/qemu.sh)`);
  process.exit(0);
}
const m = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const home = mkdtempSync(join(tmpdir(), 'vlk-bench-'));
process.env.VMS_HOME = home;
const key = join(guestDir, m.sshKey);
const prefix = join(home, 'guest');
symlinkSync(join(guestDir, m.bzImage), `${prefix}-kernel`);
symlinkSync(join(guestDir, m.initrd), `${prefix}-initrd.img`);
writeFileSync(`${prefix}-cmdline`, `${m.cmdline}\n`);
const common = {
  accel: 'tcg',
  cpus: 1,
  memoryMiB: 256,
  restrictNetwork: true,
  readyMarker: m.readyMarker,
  ssh: { privateKey: key },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

async function viaBackend(backend, name, options) {
  const vm = createInstance(backend, name, options);
  const t0 = performance.now();
  await vm.create();
  await vm.start();
  await vm.exec(['true']);
  const t = performance.now() - t0;
  await vm.delete();
  return t;
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function raw(i) {
  const dir = mkdtempSync(join(home, `raw-${i}-`));
  const port = await freePort();
  const argv = qemuArgv({
    binary: 'qemu-system-x86_64',
    accel: 'tcg',
    cpus: 1,
    memoryMiB: 256,
    pidFile: join(dir, 'qemu.pid'),
    qmpSocket: join(dir, 'qmp.sock'),
    consoleLog: join(dir, 'console.log'),
    kernel: `${prefix}-kernel`,
    initrd: `${prefix}-initrd.img`,
    cmdline: m.cmdline,
    forwards: [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port, guestPort: 22 }],
    restrictNetwork: true,
    extraArgs: [],
  });
  const t0 = performance.now();
  await run(argv[0], argv.slice(1));
  const ssh = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'];
  ssh.push('-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=2');
  ssh.push('-i', key, '-p', String(port), 'root@127.0.0.1', 'true');
  const deadline = t0 + 300_000;
  for (;;) {
    try {
      await run('ssh', ssh, { timeout: 5_000 });
      break;
    } catch {
      if (performance.now() > deadline) throw new Error('raw QEMU: no SSH within 300 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const t = performance.now() - t0;
  process.kill(Number(readFileSync(join(dir, 'qemu.pid'), 'utf8')), 'SIGKILL');
  return t;
}

async function timeEach(fn, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

try {
  const lk = createLinuxkit();
  const qemu = createQemu();
  const results = { linuxkit: [], qemu: [], raw: [] };
  for (let i = 0; i < ROUNDS; i++) {
    results.raw.push(await raw(i));
    results.qemu.push(
      await viaBackend(qemu, `q-${i}`, {
        ...common,
        kernel: `${prefix}-kernel`,
        initrd: `${prefix}-initrd.img`,
        cmdline: m.cmdline,
        seed: false,
      }),
    );
    results.linuxkit.push(await viaBackend(lk, `lk-${i}`, { ...common, image: prefix }));
  }
  const [l, q, r] = [median(results.linuxkit), median(results.qemu), median(results.raw)];
  console.log(`boot to first exec, kernel+initrd output, TCG, median of ${ROUNDS}:`);
  console.log(`  raw QEMU + ssh poll   ${ms(r)}`);
  console.log(`  @vms/qemu             ${ms(q)}   ratio vs raw ${(q / r).toFixed(2)}`);
  console.log(
    `  @vms/linuxkit         ${ms(l)}   ratio vs raw ${(l / r).toFixed(2)}, vs @vms/qemu ${(l / q).toFixed(2)}`,
  );

  console.log('image-format detection, mean of 20 calls:');
  for (const [label, path, probe] of [
    ['kernel+initrd', prefix, `${prefix}-kernel`],
    ['iso-bios', join(guestDir, m.bootIso), join(guestDir, m.bootIso)],
    ['qcow2', join(guestDir, m.rootDisk), join(guestDir, m.rootDisk)],
  ]) {
    const ours = await timeEach(() => resolveImage(path), 20);
    const tool = await timeEach(() => run('qemu-img', ['info', '--output=json', probe]), 20);
    console.log(
      `  ${label.padEnd(14)} resolveImage ${ours.toFixed(2)} ms   qemu-img info ${tool.toFixed(2)} ms   ratio ${(ours / tool).toFixed(3)}`,
    );
  }
} finally {
  // Anything still running from this bench (its command line names `home`) dies with it.
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home))
        process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  rmSync(home, { recursive: true, force: true });
}
