/**
 * A dockerd of the test's own, never the shared host one (used by @vms/docker's remote-engine and
 * fault tests and by @vms/qemu's engine-forward test): its own unix socket, data-root, exec-root
 * and pidfile under a directory, killed when the test worker dies, in its own network and mount
 * namespaces. Images it needs are copied in from the main engine (no registry is reachable).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@vms/core';
import { readProcFile, removeTree } from '@vms/core/testing';
import { TEST_IMAGE } from './test-engine.js';

/** Why a private dockerd cannot be started here (no dockerd, no unshare, not root). */
export function privateDockerdSkipReason(): string | undefined {
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
  /** The socket path. */
  socket: string;
  dir: string;
  start(): Promise<void>;
  /** SIGKILL: the engine dies mid-whatever. */
  kill(): Promise<void>;
  /** SIGTERM and wait (afterAll). */
  stop(): Promise<void>;
  /** Runs the docker CLI against it. */
  cli(...args: string[]): string;
}

/** A private dockerd under `dir` (not started); `images` are copied in at start (default the test image). */
export function privateDockerd(dir: string, images: string[] = [TEST_IMAGE]): PrivateDockerd {
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  let proc: ChildProcess | undefined;
  const cli = (...args: string[]) =>
    execFileSync('docker', ['--host', host, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const waitExit = async (p: ChildProcess) => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => p.once('exit', r));
  };
  const self: PrivateDockerd = {
    host,
    socket,
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
      for (const image of images) {
        try {
          cli('image', 'inspect', image);
        } catch {
          const archive = execFileSync('docker', ['save', image], {
            maxBuffer: 256 * 1024 * 1024,
          });
          execFileSync('docker', ['--host', host, 'load'], {
            input: archive,
            stdio: ['pipe', 'ignore', 'pipe'],
          });
        }
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
      rmSync(socket, { force: true });
      rmSync(join(dir, 'dockerd.pid'), { force: true });
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const p = proc;
      p.kill('SIGTERM');
      await waitExit(p);
      // dockerd ends its containerd on the way out; whatever of the engine is still there a
      // little later (a shim, a container process) is killed, so nothing outlives the test.
      const gone = () => engineProcesses(dir).every((q) => !readProcFile(q, 'stat') || isZombie(q));
      await waitFor(async () => gone(), {
        description: 'the engine’s processes to exit',
        timeoutMs: 10_000,
      }).catch(() => {
        for (const q of engineProcesses(dir)) {
          try {
            process.kill(q, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      });
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
