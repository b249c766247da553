/** Shared by the docker test files (not shipped: excluded from the build's public API). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cliVersions, TEST_IMAGE, testEngine } from '@vms/container-engine/testing';
import { waitFor } from '@vms/core';
import { readProcFile, removeTree } from '@vms/core/testing';

export { TEST_IMAGE };

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
/** `dockerSkipReason()`: why the real-engine tests cannot run here, or undefined when they can. */
export const { removeBehindBack, sweepTestSuite, unavailableReason: dockerSkipReason } = engine;

/** Every distinct docker CLI version on this machine (Docker CE's and Debian's 20.10, say). */
export const dockerClis = () => cliVersions('docker');

/** "engine 20.10.24, API 1.41": what the API-transport suites run against, for their names. */
export function dockerEngineLabel(): string {
  try {
    const v = execFileSync(
      'docker',
      ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'],
      { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 },
    ).trim();
    const [version, api] = v.split(' ');
    return `engine ${version}, API ${api}`;
  } catch {
    return 'engine unknown';
  }
}

/** Why a private dockerd cannot be started here (no dockerd, no unshare, not root). */
export function privateDockerdSkipReason(): string | undefined {
  const base = dockerSkipReason();
  if (base) return base;
  try {
    execFileSync('dockerd', ['--version'], { stdio: 'pipe' });
    execFileSync('setpriv', [...PRIVATE_NAMESPACES, 'true'], { stdio: 'pipe' });
    return process.getuid?.() === 0 ? undefined : 'starting a second dockerd needs root';
  } catch {
    return 'dockerd, setpriv or unshare --net --mount is not available';
  }
}

/**
 * How a private dockerd runs: killed when the test worker dies (`setpriv --pdeathsig`), in its own
 * network namespace (with --bridge=none dockerd deletes `docker0`: only the namespace's absent
 * one) and mount namespace (its overlay mounts never reach the host's, so removing its dir cannot
 * fail with EBUSY, as seen on a fresh machine).
 */
const PRIVATE_NAMESPACES = [
  '--pdeathsig',
  'KILL',
  '--',
  'unshare',
  '--net',
  '--mount',
  '--propagation',
  'private',
  '--',
];

/**
 * A dockerd of the test's own, never the shared host one: its own unix socket, data-root,
 * exec-root and pidfile under `dir`, no bridge and no iptables, in its own namespaces
 * (PRIVATE_NAMESPACES). The test image is copied in from the main engine. `kill()` SIGKILLs it (a crash),
 * `start()` brings it back on the same data.
 */
export interface PrivateDockerd {
  /** `unix://…/docker.sock` */
  host: string;
  dir: string;
  start(): Promise<void>;
  /** SIGKILL: the engine dies mid-whatever. */
  kill(): Promise<void>;
  /** SIGTERM and wait (afterAll). */
  stop(): Promise<void>;
  /** Runs the docker CLI against it. */
  cli(...args: string[]): string;
}

export function privateDockerd(dir: string): PrivateDockerd {
  const host = `unix://${dir}/docker.sock`;
  let proc: ChildProcess | undefined;
  const cli = (...args: string[]) =>
    execFileSync('docker', ['--host', host, ...args], { encoding: 'utf8', timeout: 60_000 });
  const waitExit = async (p: ChildProcess) => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => p.once('exit', r));
  };
  const self: PrivateDockerd = {
    host,
    dir,
    cli,
    async start() {
      proc = spawn(
        'setpriv',
        [
          ...PRIVATE_NAMESPACES,
          'dockerd',
          '--host',
          host,
          '--data-root',
          join(dir, 'root'),
          '--exec-root',
          join(dir, 'exec'),
          '--pidfile',
          join(dir, 'dockerd.pid'),
          '--bridge=none',
          '--iptables=false',
          '--ip-masq=false',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      proc.stderr?.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-4000);
      });
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          cli('version', '--format', '{{.Server.Version}}');
          break;
        } catch {
          if (proc.exitCode !== null || Date.now() > deadline)
            throw new Error(`private dockerd did not start: ${log}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      try {
        cli('image', 'inspect', TEST_IMAGE);
      } catch {
        const image = execFileSync('docker', ['save', TEST_IMAGE], {
          maxBuffer: 256 * 1024 * 1024,
        });
        execFileSync('docker', ['--host', host, 'load'], {
          input: image,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
      }
    },
    async kill() {
      if (!proc) return;
      // dockerd runs as the child of unshare: kill the daemon itself (and its shims die with it).
      const pid = Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      await waitExit(proc);
      // Its containerd and shims survive it: the whole engine goes, as in a host crash —
      // containerd, the shims and the containers' processes under them — and its runtime state
      // (exec-root) with it; the data-root stays for the restart.
      const doomed = engineProcesses(dir);
      for (const p of doomed) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await waitFor(async () => doomed.every((p) => !readProcFile(p, 'stat') || isZombie(p)), {
        description: 'the engine’s processes to exit',
        timeoutMs: 30_000,
      });
      removeTree(join(dir, 'exec'));
      rmSync(join(dir, 'docker.sock'), { force: true });
      rmSync(join(dir, 'dockerd.pid'), { force: true });
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const p = proc;
      p.kill('SIGTERM');
      await waitExit(p);
    },
  };
  return self;
}

const isZombie = (pid: number) => {
  const stat = readProcFile(pid, 'stat');
  return stat[stat.lastIndexOf(')') + 2] === 'Z';
};

/** The engine under `dir`: the non-Node processes whose argv names it, and all their descendants. */
function engineProcesses(dir: string): number[] {
  const parents = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = readProcFile(pid, 'stat');
    if (!stat) continue;
    parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    const argv = readProcFile(pid, 'cmdline').split('\0');
    if (argv.some((a) => a.includes(dir)) && !/(^|\/)node$/.test(argv[0] ?? '')) roots.push(pid);
  }
  const out = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}
