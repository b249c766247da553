/**
 * The fault-injection harness backends' `src/faults.test.ts` share: seeded randomness (the seed
 * printed with any failure and in the closing line), a temp root per fault run inside the test
 * run's root (so the test run's sweep removes it however the run ends; see test-run.ts), the
 * fault kinds (kill our own process at a random point, corrupt or truncate a file, fill a
 * disk), and the closing tally: `fault points: N, seeds: …`.
 *
 * `VMS_FAULT_SEED=N` replays a run; `VMS_FAULT_SOAK=1` multiplies the rounds (a longer soak).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeTree } from './test-run.js';

/** A small deterministic PRNG (mulberry32). */
export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}

export interface FaultRun {
  /** The fault run's tag: its `dev.vms.test-suite` label value and part of its names. */
  readonly run: string;
  /** The run's temp root (VMS_HOMEs, fake tools, data dirs all live under it). */
  readonly root: string;
  /** Base seed: fault point i uses seed + i. */
  readonly seed: number;
  /** Rounds per fault kind: 1, or more with VMS_FAULT_SOAK=1. */
  readonly rounds: number;
  readonly soak: boolean;
  /**
   * Runs one fault point with its own seeded Rng; a failure is rethrown with the backend, the
   * fault and the seed to replay it (`VMS_FAULT_SEED=…`).
   */
  point<T>(fault: string, body: (rng: Rng) => Promise<T>): Promise<T>;
  /**
   * Registers a sweep run after every fault point, passed or failed (in a `finally`): whatever a
   * failed point left (instances, processes) is removed before the next one, so one failure
   * reports one failure instead of cascading. A sweep that fails fails a point that passed; after
   * a failed point it is only reported (the point's own error is the one thrown).
   */
  afterEachPoint(sweep: () => unknown | Promise<unknown>): void;
  /** The closing line: `fault points: N, seeds: A..B` (and the fault kinds). */
  summary(): string;
  /** Kills every process that mentions the root, unmounts what is mounted under it, removes it. */
  sweep(): void;
}

/**
 * Starts a fault run for `backend`: a fresh temp root (under the test run's TMPDIR), and the seed
 * from VMS_FAULT_SEED or a random one.
 */
export function startFaultRun(backend: string, env: NodeJS.ProcessEnv = process.env): FaultRun {
  const seed = env.VMS_FAULT_SEED
    ? Number(env.VMS_FAULT_SEED)
    : Math.floor(Math.random() * 2 ** 31);
  const soak = env.VMS_FAULT_SOAK === '1';
  const root = mkdtempSync(join(tmpdir(), `faults-${backend}-`));
  const run = `${backend}-${root.slice(-6).toLowerCase()}`;
  const kinds = new Map<string, number>();
  const sweeps: Array<() => unknown | Promise<unknown>> = [];
  let points = 0;
  return {
    run,
    root,
    seed,
    soak,
    rounds: soak ? 10 : 1,
    async point(fault, body) {
      const pointSeed = seed + points;
      points++;
      kinds.set(fault, (kinds.get(fault) ?? 0) + 1);
      const where = `${backend} fault "${fault}"`;
      const replay = `seed ${pointSeed} (replay: VMS_FAULT_SEED=${seed})`;
      let failed = false;
      try {
        return await body(createRng(pointSeed));
      } catch (error) {
        failed = true;
        const wrapped = new Error(`${where} failed with ${replay}: ${messageOf(error)}`, {
          cause: error,
        });
        process.stderr.write(`${wrapped.message}\n`);
        throw wrapped;
      } finally {
        for (const sweep of sweeps) {
          try {
            await sweep();
          } catch (error) {
            const wrapped = new Error(
              `${where}: the sweep after it failed with ${replay}: ${messageOf(error)}`,
              { cause: error },
            );
            process.stderr.write(`${wrapped.message}\n`);
            // biome-ignore lint/correctness/noUnsafeFinally: a failed sweep fails a point that passed
            if (!failed) throw wrapped;
          }
        }
      }
    },
    afterEachPoint(sweep) {
      sweeps.push(sweep);
    },
    summary() {
      const last = seed + Math.max(points - 1, 0);
      const detail = [...kinds].map(([k, n]) => `${k} ×${n}`).join(', ');
      return `${backend}: fault points: ${points}, seeds: ${seed}..${last} (${detail})`;
    },
    sweep() {
      removeTree(root);
    },
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** How a file of ours is damaged. */
export type Corruption = 'truncate' | 'empty' | 'garbage' | 'remove';
export const CORRUPTIONS: readonly Corruption[] = ['truncate', 'empty', 'garbage', 'remove'];

/** Damages `path` as `how` says (truncate: at a random offset; garbage: random bytes). */
export function corruptFile(path: string, how: Corruption, rng: Rng): void {
  if (!existsSync(path)) return;
  if (how === 'remove') {
    rmSync(path, { force: true });
    return;
  }
  if (how === 'empty') {
    writeFileSync(path, '');
    return;
  }
  if (how === 'truncate') {
    const data = readFileSync(path);
    writeFileSync(path, data.subarray(0, rng.int(Math.max(data.length, 1))));
    return;
  }
  const junk = Buffer.alloc(1 + rng.int(64));
  for (let i = 0; i < junk.length; i++) junk[i] = rng.int(256);
  writeFileSync(path, junk);
}

/** Every file under `dir` (relative paths, sorted), for "nothing left" checks. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(d, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      let isDir = false;
      try {
        isDir = statSync(full).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(full, rel);
      else out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}

/**
 * A small tmpfs mounted at `dir` (root only), to fill the state directory's disk. `unmount` it
 * in afterAll (a lazy unmount: it works while files are open).
 */
export function mountSmallDisk(dir: string, sizeKiB: number): { unmount(): void } {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir], {
    stdio: 'pipe',
  });
  return {
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    },
  };
}

/** Why a small disk cannot be mounted here (not root, no mount), or undefined when it can. */
export function smallDiskUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'vms-faults-probe-'));
  try {
    mountSmallDisk(probe, 64).unmount();
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Fills the filesystem holding `dir` with a file until it is full (ENOSPC); returns the file. */
export function fillDisk(dir: string): string {
  const file = join(dir, '.fill');
  const chunk = Buffer.alloc(4096, 0x61);
  const fd = openSync(file, 'w');
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // full
  } finally {
    closeSync(fd);
  }
  return file;
}

/** The script `runFaultWorker` runs (built: packages/core/dist/testing/fault-worker.js). */
export const FAULT_WORKER = fileURLToPath(
  new URL('../../dist/testing/fault-worker.js', import.meta.url),
);

/** What a fault worker does: one instance of one backend, a list of verbs in order. */
export interface FaultWorkerPlan {
  /** File URL or path of the module exporting the backend. */
  module: string;
  /** Name of the export: a backend object, or a factory called with `settings`. */
  export: string;
  settings?: Record<string, unknown>;
  name: string;
  options?: Record<string, unknown>;
  /** VMS_HOME of the worker. */
  home: string;
  ops: Array<'create' | 'start' | 'stop' | 'suspend' | 'resume' | 'delete' | 'snapshot' | 'exec'>;
}

export interface FaultWorker {
  child: ChildProcess;
  /** Lines the worker printed so far (`begin OP`, `end OP`, `error OP CODE message`). */
  lines: string[];
  /** Resolves at exit with the code / signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a worker process running `plan` (SIGKILL it to inject "our process died"). */
export function runFaultWorker(plan: FaultWorkerPlan, env: NodeJS.ProcessEnv = {}): FaultWorker {
  const child = spawn(process.execPath, [FAULT_WORKER, JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, VMS_HOME: plan.home },
  });
  const lines: string[] = [];
  let buffer = '';
  child.stdout?.on('data', (c: Buffer) => {
    buffer += c.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, exited };
}
