import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processesMentioning } from './processes.js';
import {
  beginTestRun,
  isTestRunLive,
  removeTree,
  sweepDeadTestRuns,
  sweepTestRun,
  testRunId,
  testRunLabels,
} from './test-run.js';

const IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';
/** Why no container can be made here (no docker engine or no test image), or undefined. */
function dockerSkipReason(): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe', timeout: 60_000 });
    return undefined;
  } catch {
    return `no docker engine answers or image ${IMAGE} is missing`;
  }
}
const noDocker = dockerSkipReason();
if (noDocker) console.warn(`[skipped] test-run sweeps of containers: ${noDocker}`);
const docker = (...args: string[]) =>
  execFileSync('docker', args, { stdio: 'pipe', timeout: 60_000 }).toString('utf8').trim();
/** A created (not started) container with these labels; its name. */
function containerLabelled(labels: Record<string, string>): string {
  const name = `vmst-core-${randomBytes(4).toString('hex')}`;
  const flags = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  docker('create', '--name', name, '--network', 'none', ...flags, IMAGE, 'true');
  return name;
}
const containerExists = (name: string) => docker('ps', '-aq', '--filter', `name=^${name}$`) !== '';

// Runs of this file live in their own runs dir, so the sweeps below see only them.
const runsDir = mkdtempSync(join(tmpdir(), 'runs-'));
const env = { VMS_TEST_RUNS_DIR: runsDir } as NodeJS.ProcessEnv;
const children: number[] = [];
afterAll(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A detached process that mentions `dir` in its environment (as a test's QEMU would). */
function startsUnder(dir: string): number {
  const child = spawn('sleep', ['600'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, TMPDIR: dir },
  });
  child.unref();
  children.push(child.pid as number);
  return child.pid as number;
}

/** A process that exits at once: its pid names a dead owner. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('test runs', () => {
  it('labels containers with the run id from VMS_TEST_RUN', () => {
    expect(testRunId({ VMS_TEST_RUN: 'vmst-0123abcd' })).toBe('vmst-0123abcd');
    expect(testRunLabels({ VMS_TEST_RUN: 'vmst-0123abcd' })).toEqual({
      'dev.vms.test-run': 'vmst-0123abcd',
    });
    const fresh: NodeJS.ProcessEnv = {};
    expect(testRunId(fresh)).toMatch(/^vmst-[0-9a-f]{8}$/);
    expect(testRunId(fresh)).toBe(fresh.VMS_TEST_RUN);
  });

  it('records the owner: a run lives exactly as long as its owner', async () => {
    const live = beginTestRun(process.pid, env);
    expect(live.root).toBe(join(runsDir, live.id));
    expect(JSON.parse(readFileSync(join(live.root, '.owner'), 'utf8')).pid).toBe(process.pid);
    expect(isTestRunLive(live.id, env)).toBe(true);
    const dead = beginTestRun(await deadPid(), env);
    expect(isTestRunLive(dead.id, env)).toBe(false);
    // A reused pid with another start time is not the owner.
    writeFileSync(join(live.root, '.owner'), JSON.stringify({ pid: process.pid, startTime: '1' }));
    expect(isTestRunLive(live.id, env)).toBe(false);
    sweepTestRun(live.id, env);
    sweepTestRun(dead.id, env);
  });

  it('sweeps a dead run: its processes are killed and its root is gone; a live run is left alone', async () => {
    const dead = beginTestRun(await deadPid(), env);
    const live = beginTestRun(process.pid, env);
    mkdirSync(join(dead.root, 'home', 'instances'), { recursive: true });
    const orphan = startsUnder(dead.root);
    const sibling = startsUnder(live.root);
    expect(processesMentioning(dead.root)).toContain(orphan);

    const reports = sweepDeadTestRuns(env);

    // (Containers of other dead runs on this machine's engines may be swept too.)
    const ids = reports.map((r) => r.id);
    expect(ids).toContain(dead.id);
    expect(ids).not.toContain(live.id);
    expect(reports.find((r) => r.id === dead.id)?.processes).toBe(1);
    expect(processesMentioning(dead.root)).toEqual([]);
    expect(existsSync(dead.root)).toBe(false);
    expect(processesMentioning(live.root)).toEqual([sibling]);
    expect(existsSync(live.root)).toBe(true);

    // Its owner sweeps a live run at its end.
    expect(sweepTestRun(live.id, env).processes).toBe(1);
    expect(processesMentioning(live.root)).toEqual([]);
    expect(existsSync(live.root)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'removes a tree with something mounted in it (a dead engine’s overlay: a plain rm fails with EBUSY)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tree-'));
      const source = mkdtempSync(join(tmpdir(), 'source-'));
      writeFileSync(join(source, 'keep'), 'not the tree’s to remove');
      mkdirSync(join(dir, 'root', 'overlay'), { recursive: true });
      execFileSync('mount', ['--bind', source, join(dir, 'root', 'overlay')]);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(join(dir, 'root', 'overlay'));

      expect(removeTree(dir).mounts).toBe(1);

      expect(existsSync(dir)).toBe(false);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
      // Unmounted before removing: what was mounted in is untouched.
      expect(readFileSync(join(source, 'keep'), 'utf8')).toBe('not the tree’s to remove');
    },
  );

  it('a run appears with its owner recorded: no root without .owner, no leftover of beginning', async () => {
    const live = beginTestRun(process.pid, env);
    expect(readdirSync(live.root)).toEqual(['.owner']);
    expect(readdirSync(runsDir).filter((e) => e.startsWith('.'))).toEqual([]);
    // A process that died while beginning a run leaves its half-made root under another name
    // (never judged as a run); the next sweep removes it.
    const half = join(runsDir, `.vmst-0123abcd.beginning-${await deadPid()}`);
    mkdirSync(half);
    sweepDeadTestRuns(env);
    expect(existsSync(half)).toBe(false);
    expect(existsSync(live.root)).toBe(true);
    sweepTestRun(live.id, env);
  });

  it.skipIf(noDocker !== undefined)(
    'leaves alone the containers of a live run whose root is in another runs dir (a shared engine)',
    () => {
      // This file's runs dir is not the current run's: the current run (the one running this
      // test, and every other package's tests beside it) is live, its root is elsewhere.
      const name = containerLabelled(testRunLabels());
      try {
        const reports = sweepDeadTestRuns(env);
        expect(reports.map((r) => r.id)).not.toContain(testRunId());
        expect(containerExists(name)).toBe(true);
      } finally {
        docker('rm', '-f', name);
      }
    },
  );

  it.skipIf(noDocker !== undefined)(
    'sweeps the containers of a dead run of its runs dir, and only then its root',
    async () => {
      const dead = beginTestRun(await deadPid(), env);
      const name = containerLabelled({ 'dev.vms.test-run': dead.id });
      try {
        const report = sweepDeadTestRuns(env).find((r) => r.id === dead.id);
        expect(report).toMatchObject({ containers: 1, remaining: 0, removedRoot: true });
        expect(containerExists(name)).toBe(false);
        expect(existsSync(dead.root)).toBe(false);
      } finally {
        if (containerExists(name)) docker('rm', '-f', name);
      }
    },
  );

  it.skipIf(noDocker !== undefined)(
    'removes the images labelled with the run, whatever their names (docker)',
    async () => {
      const dead = beginTestRun(await deadPid(), env);
      const container = containerLabelled({ 'dev.vms.test-run': dead.id });
      const image = `vmst-core-sweep-${randomBytes(4).toString('hex')}:x`;
      docker('commit', '--change', `LABEL dev.vms.test-run=${dead.id}`, container, image);
      const imageExists = (ref: string) => docker('images', '-q', ref) !== '';
      try {
        expect(imageExists(image)).toBe(true);

        const report = sweepTestRun(dead.id, env);

        expect(report).toMatchObject({ containers: 1, images: 1 });
        expect(imageExists(image)).toBe(false);
        expect(imageExists(IMAGE)).toBe(true);
      } finally {
        if (containerExists(container)) docker('rm', '-f', container);
        if (imageExists(image)) docker('rmi', '-f', image);
      }
    },
  );

  it('refuses to sweep what is not a run id', () => {
    expect(() => sweepTestRun('../etc', env)).toThrow(/not a test run id/);
  });
});
