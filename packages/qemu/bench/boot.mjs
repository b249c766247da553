/**
 * Boot-to-exec-ready of the test guest under TCG: @vms/qemu (start() + first exec) against the
 * raw baseline (the same QEMU command line plus an ssh poll loop, bench/raw-boot.sh), alternating,
 * plus the readiness detection latency: from the serial marker appearing (the guest's sshd
 * listens) to start() returning; and the stock-image path (`hostKey: 'scan'`, no marker: keyscan
 * + SSH probe). Needs the test guest (scripts/ci/qemu.sh) and a built package.
 */
import { execFile } from 'node:child_process';
import { readFileSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInstance } from '@vms/core';
import { recordRatio } from '../../../scripts/bench/record.mjs';
import { createQemu, qemuArgv } from '../dist/index.js';
import { loadTestGuest, sweep, testGuestDir, useTempHome } from '../dist/testing.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const guest = loadTestGuest();
if (!guest) {
  console.log(`bench skipped: no test guest at ${testGuestDir()} (run scripts/ci/qemu.sh)`);
  recordRatio({ id: 'P7', label: 'qemu: saved state / cold boot', skipped: 'no test guest' });
  process.exit(0);
}
const m = { readyMarker: guest.marker };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const home = useTempHome('vq-bench-');
const backend = createQemu();
const options = {
  kernel: guest.vmlinux,
  initrd: guest.initrd,
  cmdline: guest.cmdline,
  accel: 'tcg',
  memoryMiB: 256,
  cpus: 1,
  restrictNetwork: true,
  readyMarker: m.readyMarker,
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Resolves with the time the marker line shows up in the console log (inotify, no polling delay). */
function markerTime(path, offset) {
  return new Promise((resolve) => {
    const check = () => {
      try {
        if (readFileSync(path).subarray(offset).includes(m.readyMarker)) {
          w.close();
          resolve(performance.now());
        }
      } catch {}
    };
    const w = watch(dirname(path), check);
    check();
  });
}

async function ours(i) {
  const vm = createInstance(backend, `bench-${i}`, options);
  await vm.create();
  const consoleLog = join(home, 'state', 'qemu', `bench-${i}`, 'console.log');
  const marker = markerTime(consoleLog, 0);
  const t0 = performance.now();
  await vm.start();
  const started = performance.now();
  await vm.exec(['true']);
  const t1 = performance.now();
  const seen = await marker;
  await vm.delete();
  return { total: t1 - t0, latency: started - seen, afterMarker: t1 - seen };
}

/** The stock-image path: no marker, host key learned by ssh-keyscan, then an SSH probe. */
function scan(i) {
  return startToFirstExec(
    createInstance(backend, `scan-${i}`, { ...options, readyMarker: undefined, hostKey: 'scan' }),
  );
}

/** Start from the saved state: a clone of the template (made untimed), start + first exec. */
function restored(i) {
  return startToFirstExec(createInstance(backend, `clone-${i}`, { from: { template: 'bench' } }));
}

/** Creates the instance (untimed), times start + first exec, deletes it. */
async function startToFirstExec(vm) {
  await vm.create();
  const t0 = performance.now();
  await vm.start();
  await vm.exec(['true']);
  const t1 = performance.now();
  await vm.delete();
  return { total: t1 - t0 };
}

async function raw(i) {
  // Same files and command line as @vms/qemu would use (its own overlay-free initramfs boot).
  const vm = createInstance(backend, `raw-${i}`, options);
  await vm.create();
  const dir = join(home, 'state', 'qemu', `raw-${i}`);
  const { createServer } = await import('node:net');
  const port = await new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
  const argv = qemuArgv({
    binary: 'qemu-system-x86_64',
    accel: 'tcg',
    cpus: 1,
    memoryMiB: 256,
    pidFile: join(dir, 'qemu.pid'),
    qmpSocket: join(dir, 'qmp.sock'),
    consoleLog: join(dir, 'console.log'),
    kernel: options.kernel,
    initrd: options.initrd,
    cmdline: options.cmdline,
    seedIso: join(dir, 'seed.iso'),
    forwards: [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port, guestPort: 22 }],
    restrictNetwork: true,
    extraArgs: [],
  });
  const marker = markerTime(join(dir, 'console.log'), 0);
  const { stdout } = await run('bash', [
    join(here, 'raw-boot.sh'),
    String(port),
    join(dir, 'id_ed25519'),
    '--',
    ...argv,
  ]);
  const t1 = performance.now();
  const seen = await marker;
  const pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await vm.delete();
  return { total: Number(stdout.trim()), afterMarker: t1 - seen };
}

try {
  const o = [];
  const r = [];
  const sc = [];
  const rs = [];
  // The saved state the clones start from: the same guest booted once and saved (untimed).
  const saveStarted = performance.now();
  await backend.templates.save('bench', options);
  const saveMs = performance.now() - saveStarted;
  for (let i = 0; i < ROUNDS; i++) {
    r.push(await raw(i));
    o.push(await ours(i));
    sc.push(await scan(i));
    rs.push(await restored(i));
    console.log(
      `round ${i + 1}: raw ${r[i].total} ms (${Math.round(r[i].afterMarker)} ms after the marker), ` +
        `@vms/qemu ${Math.round(o[i].total)} ms (${Math.round(o[i].afterMarker)} ms after the marker; readiness latency ${Math.round(o[i].latency)} ms), ` +
        `hostKey scan ${Math.round(sc[i].total)} ms, from the saved state ${Math.round(rs[i].total)} ms`,
    );
  }
  const rawMed = median(r.map((x) => x.total));
  const oursMed = median(o.map((x) => x.total));
  console.log(
    `\nboot-to-exec-ready (TCG, ${ROUNDS} rounds, medians): raw ${rawMed} ms, @vms/qemu ${Math.round(oursMed)} ms, ratio ${(oursMed / rawMed).toFixed(3)} (target <= 1.05)`,
  );
  console.log(
    `  after the guest's ready marker (library + ssh, without the guest's boot noise): raw ${Math.round(median(r.map((x) => x.afterMarker)))} ms, @vms/qemu ${Math.round(median(o.map((x) => x.afterMarker)))} ms`,
  );
  const scanMed = median(sc.map((x) => x.total));
  console.log(
    `stock-image path (hostKey 'scan', no marker; keyscan + SSH probe): ${Math.round(scanMed)} ms, ratio to raw ${(scanMed / rawMed).toFixed(3)}`,
  );
  console.log(
    `readiness detection latency (serial marker -> start() returned): median ${Math.round(median(o.map((x) => x.latency)))} ms (target <= 50 ms)`,
  );
  const restoredMed = median(rs.map((x) => x.total));
  console.log(
    `start from a saved state to first exec (P7): ${Math.round(restoredMed)} ms vs a cold boot ${Math.round(oursMed)} ms, ratio ${(restoredMed / oursMed).toFixed(3)} (target <= 0.2; saving the template took ${Math.round(saveMs)} ms, once)`,
  );
  recordRatio({
    id: 'P7',
    label: 'qemu: saved state → first exec / cold boot → first exec',
    ratio: restoredMed / oursMed,
    target: 0.2,
    detail: `${Math.round(restoredMed)} ms vs ${Math.round(oursMed)} ms (TCG, ${ROUNDS} rounds)`,
  });
} finally {
  await backend.templates.delete('bench').catch(() => {});
  sweep(home);
}
