/**
 * Test runs: one id and one temporary root per run, so that everything a run creates can be
 * found and swept however the run ends (a failing package, Ctrl-C, a killed worker).
 *
 * - The id (`vmst-` + 8 hex) is `$VMS_TEST_RUN`; `scripts/test.sh` begins one run for a whole
 *   `pnpm test`, and `testRunGlobalSetup` (every package's vitest `globalSetup`) begins one
 *   when vitest runs on its own.
 * - The root is `<runs dir>/<id>` (`$VMS_TEST_RUNS_DIR`, default `/tmp`). The run exports it as
 *   `TMPDIR`, so every `mkdtemp(tmpdir())` of every test lands inside it and every process a
 *   test starts carries it in its environment.
 * - A file `.owner` in the root names the process the run belongs to (pid + start time). A run
 *   whose owner is gone is dead; the next run sweeps it. The root appears with its `.owner`
 *   already in it (made under another name, then renamed), so no sweeper ever sees a live run's
 *   root without its owner.
 * - Containers are labelled `dev.vms.test-run=<id>` (`testRunLabels()`). The engines are shared
 *   (with runs in other runs dirs, mount namespaces or machines): a sweep judges a run only by its
 *   root in its own runs dir, and leaves alone containers of runs whose root it cannot see.
 *
 * Sweeping a run: SIGKILL every process whose command line or environment mentions its root
 * (never the sweeper or its ancestors), remove its docker/podman containers and images (named
 * with its id, or labelled `dev.vms.test-run=<id>`), delete
 * network namespaces named after it, unmount whatever is mounted under its root, remove the root.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { processesMentioning, readProcFile } from './processes.js';

/** The label every container a test creates carries, with the run's id as its value. */
export const TEST_RUN_LABEL = 'dev.vms.test-run';
const ID_PATTERN = /^vmst-[0-9a-f]{8}$/;

export interface TestRun {
  id: string;
  /** The run's temporary root (its TMPDIR). */
  root: string;
}

/** Where run roots live: `$VMS_TEST_RUNS_DIR`, default `/tmp`. */
export function testRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VMS_TEST_RUNS_DIR || '/tmp';
}

/**
 * The current run's id: `$VMS_TEST_RUN`. Outside a run (a test file run by hand without the
 * global setup) a process-wide id is made up, so labels still group this process's resources.
 */
export function testRunId(env: NodeJS.ProcessEnv = process.env): string {
  const id = env.VMS_TEST_RUN;
  if (id) return id;
  env.VMS_TEST_RUN = `vmst-${randomBytes(4).toString('hex')}`;
  return env.VMS_TEST_RUN;
}

/** Labels for everything a test creates on a container engine: `{ 'dev.vms.test-run': id }`. */
export function testRunLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { [TEST_RUN_LABEL]: testRunId(env) };
}

/** `pid`'s start time in clock ticks since boot (`/proc/PID/stat` field 22), or undefined. */
function startTime(pid: number): string | undefined {
  const stat = readProcFile(pid, 'stat');
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Where a run's root is made before it appears under its id (never matched by ID_PATTERN). */
const BEGINNING_PATTERN = /^\.(vmst-[0-9a-f]{8})\.beginning-(\d+)$/;

/**
 * Begins a run owned by `ownerPid` (default this process): makes its root (0700) with the owner
 * recorded in it, in one step (see the module comment). Returns the run; does not touch
 * `process.env`.
 */
export function beginTestRun(ownerPid = process.pid, env = process.env): TestRun {
  const dir = testRunsDir(env);
  mkdirSync(dir, { recursive: true });
  const id = `vmst-${randomBytes(4).toString('hex')}`;
  const root = join(dir, id);
  const beginning = join(dir, `.${id}.beginning-${process.pid}`);
  mkdirSync(beginning, { mode: 0o700 });
  try {
    writeFileSync(
      join(beginning, '.owner'),
      `${JSON.stringify({ pid: ownerPid, startTime: startTime(ownerPid) ?? null })}\n`,
    );
    renameSync(beginning, root);
  } catch (error) {
    rmSync(beginning, { recursive: true, force: true });
    throw error;
  }
  return { id, root };
}

/** Whether the run's owner still lives (same pid and start time, not a zombie). */
export function isTestRunLive(id: string, env = process.env): boolean {
  let owner: { pid?: number; startTime?: string | null };
  try {
    owner = JSON.parse(readFileSync(join(testRunsDir(env), id, '.owner'), 'utf8'));
  } catch {
    return false;
  }
  if (typeof owner.pid !== 'number') return false;
  const stat = readProcFile(owner.pid, 'stat');
  if (!stat || stat[stat.lastIndexOf(')') + 2] === 'Z') return false;
  return owner.startTime == null || startTime(owner.pid) === owner.startTime;
}

/** This process and its ancestors: a sweep never signals them. */
function selfAndAncestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const stat = readProcFile(pid, 'stat');
    if (!stat) break;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return out;
}

function run(cmd: string, args: string[], timeout = 60_000): string | undefined {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout }).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

/** Mount points at or under `root`, deepest first (`/proc/self/mountinfo`, octal escapes decoded). */
export function mountsUnder(root: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export interface SweepReport {
  id: string;
  processes: number;
  containers: number;
  images: number;
  netns: number;
  mounts: number;
  /** Containers of the run still there after the sweep (its root is kept for the next one). */
  remaining: number;
  removedRoot: boolean;
}

/** Container engines' CLIs present here (docker, podman). */
function engines(): string[] {
  return ['docker', 'podman'].filter((bin) => run(bin, ['--version'], 10_000) !== undefined);
}

/** Removes every trace of run `id`. Safe to call on a live run only by its owner (at its end). */
export function sweepTestRun(id: string, env = process.env): SweepReport {
  if (!ID_PATTERN.test(id)) throw new Error(`not a test run id: ${JSON.stringify(id)}`);
  const root = join(testRunsDir(env), id);
  const report: SweepReport = {
    id,
    processes: 0,
    containers: 0,
    images: 0,
    netns: 0,
    mounts: 0,
    remaining: 0,
    removedRoot: false,
  };
  // Processes first (they may hold mounts and containers of an engine they run).
  report.processes = killUnder(root);
  for (const bin of engines()) {
    const listed = runContainers(bin, id);
    if (listed?.length) {
      run(bin, ['rm', '-f', '-v', ...listed], 120_000);
      const left = runContainers(bin, id) ?? listed;
      report.containers += listed.length - left.length;
      report.remaining += left.length;
    }
    const images = (run(bin, ['images', '--format', '{{.Repository}}:{{.Tag}}']) ?? '')
      .split('\n')
      .filter((ref) => ref.includes(id));
    if (images.length && run(bin, ['rmi', '-f', ...images], 120_000) !== undefined)
      report.images += images.length;
    // Images labelled with the run (whatever their names: e.g. a README's image name seeded
    // into a local registry and pulled), with every tag they have.
    const labelled = [
      ...new Set(
        (run(bin, ['images', '-q', '--filter', `label=${TEST_RUN_LABEL}=${id}`]) ?? '')
          .split('\n')
          .filter(Boolean),
      ),
    ];
    if (labelled.length && run(bin, ['rmi', '-f', ...labelled], 120_000) !== undefined)
      report.images += labelled.length;
  }
  for (const line of (run('ip', ['netns', 'list'], 10_000) ?? '').split('\n')) {
    const name = line.split(' ')[0];
    if (name?.includes(id) && run('ip', ['netns', 'delete', name], 10_000) !== undefined)
      report.netns += 1;
  }
  if (report.remaining === 0) {
    report.mounts = removeTree(root).mounts;
  } else if (existsSync(root)) {
    // Containers of the run are left on an engine that answers: the root and its owner record
    // stay (the rest goes), so the next run's sweep knows the run and tries again. A sweep never
    // judges a run it has no root of.
    for (const entry of readdirSync(root)) {
      if (entry !== '.owner') report.mounts += removeTree(join(root, entry)).mounts;
    }
  }
  report.removedRoot = !existsSync(root);
  return report;
}

/** Ids of the containers labelled with run `id`, or undefined when the engine does not answer. */
function runContainers(bin: string, id: string): string[] | undefined {
  const out = run(bin, ['ps', '-aq', '--filter', `label=${TEST_RUN_LABEL}=${id}`]);
  return out?.split('\n').filter(Boolean);
}

/**
 * SIGKILLs every process whose command line or environment mentions `dir` (twice: a killed
 * supervisor may have been about to start another), never this process or its ancestors.
 * Returns how many were signalled.
 */
function killUnder(dir: string): number {
  const spare = selfAndAncestors();
  const killed = new Set<number>();
  for (let round = 0; round < 2; round++) {
    for (const pid of processesMentioning(dir)) {
      if (spare.has(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // gone already
      }
    }
  }
  return killed.size;
}

/**
 * Removes a directory tree a test made, with whatever runs or is mounted in it: kills the
 * processes that mention it, unmounts what is mounted under it (a private engine's overlays, a
 * small disk; deepest first, lazily), then removes it.
 */
export function removeTree(dir: string): { processes: number; mounts: number } {
  const processes = killUnder(dir);
  let mounts = 0;
  for (const point of mountsUnder(dir)) {
    if (run('umount', ['-l', point], 10_000) !== undefined) mounts += 1;
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  return { processes, mounts };
}

/**
 * Sweeps every run of this runs dir whose owner is gone (its processes, its containers on every
 * engine, its root), and what a run that died while beginning left. A run is judged only by its
 * root here: containers labelled with a run this runs dir has no root of belong to a run this
 * process cannot judge (another runs dir, mount namespace or machine sharing the engine) and are
 * left alone.
 */
export function sweepDeadTestRuns(env = process.env): SweepReport[] {
  const dir = testRunsDir(env);
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    // no runs dir yet
  }
  for (const entry of entries) {
    const beginning = BEGINNING_PATTERN.exec(entry);
    if (beginning && !readProcFile(Number(beginning[2]), 'stat'))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return entries
    .filter((entry) => ID_PATTERN.test(entry) && !isTestRunLive(entry, env))
    .map((id) => sweepTestRun(id, env));
}

/** One line for a sweep, or undefined when it found nothing. */
export function describeSweep(r: SweepReport): string | undefined {
  const parts = [
    r.processes && `${r.processes} processes`,
    r.containers && `${r.containers} containers`,
    r.images && `${r.images} images`,
    r.netns && `${r.netns} network namespaces`,
    r.mounts && `${r.mounts} mounts`,
  ].filter(Boolean);
  const kept = r.remaining
    ? `; ${r.remaining} containers could not be removed (its root is kept for the next sweep)`
    : '';
  if (!parts.length && !kept) return undefined;
  return `swept test run ${r.id}: ${parts.join(', ') || 'nothing'}${kept}`;
}
