/**
 * Accelerator choice. `auto` probes whether KVM really runs a guest (on some hosts /dev/kvm
 * exists but guests hang): a tiny probe VM must show a guest-side sign of life within ~2 s.
 * With a kernel (direct kernel boot) the sign is the kernel's first serial output — the firmware
 * alone can run fine under KVM where a kernel hangs; without one it is SeaBIOS's banner on the
 * debug console.
 *
 * The probe never outlives its caller: it runs under core's `dieWithParent` supervision (killed
 * when the caller dies, even by SIGKILL), with a hard deadline, in a directory under
 * `<vmsHome>/tmp` that the next probe and every qemu delete sweep when its owner is gone.
 * Its verdict is cached in `<vmsHome>/cache/qemu-accel.json` per kernel release, QEMU binary
 * (path, size, mtime) and probe kernel, so later starts — in any process — do not probe again.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { type ProcessRunner, pidExists, vmsHome, writeFileAtomic } from '@vms/core';
import { optValue } from './argv.js';
import type { Accel } from './options.js';
import { findProcesses } from './process.js';
import { findTool } from './tools.js';

export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  /** Why: "requested", "/dev/kvm not accessible", "KVM probe passed in 120ms", ... */
  reason: string;
}

export interface AccelOptions {
  /** How long the probe VM has to show a sign of life (default 2000 ms). */
  probeMs?: number;
  /** Probe with this kernel (direct kernel boot) instead of the firmware alone. */
  kernel?: string;
  /** Where the cache and the probe's temp dirs live (default `vmsHome()`). */
  home?: string;
}

/** Probes in flight in this process (two starts at once probe once). */
const inFlight = new Map<string, Promise<AccelChoice>>();

const PROBE_PREFIX = 'kvm-probe-';
const CACHE_FILE = 'qemu-accel.json';

interface CacheFile {
  schemaVersion: 1;
  entries: Record<string, { accel: 'kvm' | 'tcg'; reason: string; at: string }>;
}

export function resolveAccel(
  requested: Accel,
  runner: ProcessRunner,
  binary: string,
  options: AccelOptions = {},
): Promise<AccelChoice> {
  if (requested !== 'auto') return Promise.resolve({ accel: requested, reason: 'requested' });
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return Promise.resolve({ accel: 'tcg', reason: '/dev/kvm not accessible' });
  }
  const home = options.home ?? vmsHome();
  const key = cacheKey(binary, options.kernel);
  const flight = `${home}\0${key}`;
  let choice = inFlight.get(flight);
  if (!choice) {
    choice = cachedOrProbe(runner, binary, home, key, options).finally(() =>
      inFlight.delete(flight),
    );
    inFlight.set(flight, choice);
  }
  return choice;
}

/** What the verdict depends on: the host kernel, the QEMU binary, and the probe kernel. */
function cacheKey(binary: string, kernel: string | undefined): string {
  const file = (path: string | undefined) => {
    if (!path) return '-';
    try {
      const s = statSync(path);
      return `${path}@${s.size}:${Math.trunc(s.mtimeMs)}`;
    } catch {
      return `${path}@?`;
    }
  };
  return [release(), file(findTool(binary) ?? binary), file(kernel)].join('|');
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<CacheFile>;
    if (parsed.schemaVersion === 1 && parsed.entries && typeof parsed.entries === 'object') {
      return { schemaVersion: 1, entries: Object.assign(Object.create(null), parsed.entries) };
    }
  } catch {
    // Missing, torn or foreign: probe again and rewrite it.
  }
  return { schemaVersion: 1, entries: Object.create(null) };
}

async function cachedOrProbe(
  runner: ProcessRunner,
  binary: string,
  home: string,
  key: string,
  options: AccelOptions,
): Promise<AccelChoice> {
  const file = join(home, 'cache', CACHE_FILE);
  const hit = (await readCache(file)).entries[key];
  if (hit && (hit.accel === 'kvm' || hit.accel === 'tcg') && typeof hit.reason === 'string') {
    return { accel: hit.accel, reason: `${hit.reason} (cached verdict of ${hit.at})` };
  }
  const choice = await probeKvm(runner, binary, home, options.probeMs ?? 2_000, options.kernel);
  if (choice.cacheable) {
    try {
      await mkdir(join(home, 'cache'), { recursive: true, mode: 0o700 });
      const current = await readCache(file);
      current.entries[key] = {
        accel: choice.accel,
        reason: choice.reason,
        at: new Date().toISOString(),
      };
      await writeFileAtomic(file, `${JSON.stringify(current, null, 2)}\n`);
    } catch {
      // A full disk or read-only home only costs the next start a probe.
    }
  }
  return { accel: choice.accel, reason: choice.reason };
}

/**
 * Removes probe directories whose owner process is gone, SIGKILLing any probe QEMU still
 * running from one (the owner died before its supervisor could). Never touches a live owner's.
 */
export async function sweepProbes(home = vmsHome()): Promise<void> {
  const dir = join(home, 'tmp');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(PROBE_PREFIX)) continue;
    const owner = Number.parseInt(name.slice(PROBE_PREFIX.length), 10);
    if (Number.isInteger(owner) && owner > 0 && pidExists(owner)) continue;
    const path = join(dir, name);
    for (const pid of findProcesses((argv) => argv.some((arg) => arg.includes(path)))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await rm(path, { recursive: true, force: true });
  }
}

async function probeKvm(
  runner: ProcessRunner,
  binary: string,
  home: string,
  probeMs: number,
  kernel: string | undefined,
): Promise<AccelChoice & { cacheable: boolean }> {
  await sweepProbes(home);
  const dir = join(home, 'tmp', `${PROBE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, 'probe.log');
  const started = Date.now();
  const common = [
    binary,
    '-accel',
    'kvm',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-chardev',
    `file,id=probe,path=${optValue(log)}`,
  ];
  const sign = kernel ? 'kernel output' : 'SeaBIOS';
  let child: ReturnType<ProcessRunner['spawn']>;
  try {
    child = runner.spawn(
      kernel
        ? [
            ...common,
            '-m',
            '128',
            '-serial',
            'chardev:probe',
            '-kernel',
            kernel,
            '-append',
            'console=ttyS0 panic=-1',
          ]
        : [...common, '-m', '32', '-device', 'isa-debugcon,iobase=0x402,chardev=probe'],
      { dieWithParent: true },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return {
      accel: 'tcg',
      reason: `KVM probe VM could not be spawned: ${(error as Error).message}`,
      cacheable: false,
    };
  }
  try {
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    while (Date.now() - started < probeMs && !exited) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (kernel ? text.length > 0 : text.includes('SeaBIOS')) {
        return {
          accel: 'kvm',
          reason: `KVM probe VM showed ${sign} in ${Date.now() - started}ms`,
          cacheable: true,
        };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return exited
      ? { accel: 'tcg', reason: 'KVM probe VM failed to start', cacheable: true }
      : {
          accel: 'tcg',
          reason: `KVM probe VM showed no ${sign} within ${probeMs}ms`,
          cacheable: true,
        };
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  }
}
