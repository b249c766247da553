/**
 * The project's test guest (scripts/ci/qemu.sh builds it) repackaged as LinuxKit outputs, a
 * per-file VMS_HOME, and a sweep that kills every process started under a directory.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const guestDir =
  process.env.VMS_TEST_GUEST ?? join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');

export interface TestGuest {
  dir: string;
  bzImage: string;
  initrd: string;
  bootIso: string;
  idKey: string;
  cmdline: string;
  marker: string;
}

function load(): TestGuest | undefined {
  if (!existsSync(join(guestDir, 'manifest.json'))) return undefined;
  const m = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')) as Record<
    string,
    string
  >;
  const p = (f: string | undefined) => join(guestDir, f ?? '');
  return {
    dir: guestDir,
    bzImage: p(m.bzImage),
    initrd: p(m.initrd),
    bootIso: p(m.bootIso),
    idKey: p(m.sshKey),
    cmdline: m.cmdline ?? '',
    marker: m.readyMarker ?? 'GUEST-READY',
  };
}

export const guest = load();

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = ['qemu-system-x86_64', 'qemu-img', 'ssh', 'ssh-keygen'].filter((t) => !onPath(t));
/** Why the real-VM tests skip here, or undefined when they run. */
export const skipReason = missing.length
  ? `missing tools: ${missing.join(', ')} (run scripts/ci/qemu.sh)`
  : guest
    ? undefined
    : `no test guest at ${guestDir} (run scripts/ci/qemu.sh or set VMS_TEST_GUEST)`;
if (skipReason) console.warn(`[linuxkit tests] skipping real-VM tests: ${skipReason}`);

/** A fresh VMS_HOME for this test file (set in process.env, read lazily by the backend). */
export function useTempHome(prefix = 'vlk-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.env.VMS_HOME = home;
  return home;
}

/**
 * The guest as LinuxKit's kernel+initrd output in `dir`: `NAME-kernel` (the bzImage),
 * `NAME-initrd.img`, `NAME-cmdline`. Returns the prefix (what `linuxkit run` takes).
 */
export function kernelTriple(g: TestGuest, dir: string, name = 'guest'): string {
  const prefix = join(dir, name);
  symlinkSync(g.bzImage, `${prefix}-kernel`);
  symlinkSync(g.initrd, `${prefix}-initrd.img`);
  writeFileSync(`${prefix}-cmdline`, `${g.cmdline}\n`);
  return prefix;
}

/** Options every real test VM uses: TCG, 1 vCPU, 256 MiB, the guest's baked-in key. */
export function vmOptions(g: TestGuest, extra: Record<string, unknown> = {}) {
  return {
    accel: 'tcg',
    cpus: 1,
    memoryMiB: 256,
    restrictNetwork: true,
    readyMarker: g.marker,
    ssh: { privateKey: g.idKey },
    ...extra,
  };
}

/** PIDs of processes whose command line mentions `path`. */
export function processesUnder(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(path)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

/** Kills (SIGKILL) every process whose command line mentions `path`, then removes `path`. */
export function sweep(path: string): number {
  const pids = processesUnder(path);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(path, { recursive: true, force: true });
  return pids.length;
}
