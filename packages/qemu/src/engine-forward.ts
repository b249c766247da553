/**
 * The container engine inside a qemu guest, reached from the host over SSH: a detached
 * `ssh -nNT -L LOCAL.sock:REMOTE` (the OpenSSH client, through the instance's pinned host key and
 * key, as exec uses) bound to a unix socket in the instance directory. REMOTE is the engine's
 * socket in the guest (`/var/run/docker.sock`: the guest's SSH server must forward to unix
 * sockets, as OpenSSH's does) or `HOST:PORT` as the guest sees it. The forward outlives the call
 * (and the process: a later CLI call reuses it) and is ended when the VM stops or is deleted;
 * its PID is only signalled when /proc proves it is ours (argv holds the socket path, start time
 * recorded).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EngineKind,
  fatal,
  type OpContext,
  OperationFailedError,
  type ProcessRunner,
  processStartTime,
  waitFor,
} from '@vms/core';
import { isOurProcess, signalIfOurs } from './process.js';
import { type SshTarget, sshOptions } from './ssh.js';

/** Where each engine listens in a guest by default. */
export const DEFAULT_GUEST_SOCKETS: Record<EngineKind, string> = {
  docker: '/var/run/docker.sock',
  podman: '/run/podman/podman.sock',
};

const KINDS: EngineKind[] = ['docker', 'podman'];
const MAX_SOCKET_PATH = 100;
/** How long the first forwarded connection may take to answer the probe. */
const PROBE_MS = 15_000;

export interface ForwardRecord {
  kind: EngineKind;
  pid: number;
  startTime?: number;
  /** The `-L` argument (`SOCKET:TARGET`): a whole argv element only this ssh has. */
  marker: string;
  socket: string;
  remote: string;
  /** The boot the forward belongs to (`Launch.startedAt`). */
  boot: string;
}

export function forwardPaths(dir: string, kind: EngineKind) {
  let socket = join(dir, `engine-${kind}.sock`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const id = createHash('sha256').update(dir).digest('hex').slice(0, 20);
    socket = join(tmpdir(), `vms-qemu-${id}-${kind}.sock`);
  }
  return {
    socket,
    record: join(dir, `engine-${kind}.json`),
    log: join(dir, `engine-${kind}.log`),
  };
}

/** `tcp://HOST:PORT` → `HOST:PORT`; a socket path stays as it is (ssh -L's two target forms). */
export function forwardTarget(remote: string): string {
  return remote.startsWith('tcp://') ? remote.slice('tcp://'.length) : remote;
}

/** ssh's `-L` argument: the local socket, then the target in the guest. */
export function forwardSpec(socket: string, remote: string): string {
  return `${socket}:${forwardTarget(remote)}`;
}

export function forwardArgv(target: SshTarget, socket: string, remote: string): string[] {
  return [
    'ssh',
    '-nNT',
    // Before sshOptions' LogLevel=ERROR (ssh keeps the first value): a refused channel is
    // logged at INFO ("channel N: open failed: …"), and that line is the reason users need.
    '-o',
    'LogLevel=INFO',
    ...sshOptions(target),
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'StreamLocalBindUnlink=yes',
    '-o',
    'StreamLocalBindMask=0177',
    '-p',
    String(target.port),
    '-L',
    forwardSpec(socket, remote),
    `${target.user}@${target.host}`,
  ];
}

function readRecord(file: string): ForwardRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ForwardRecord;
  } catch {
    return undefined;
  }
}

function identity(record: ForwardRecord) {
  return {
    pid: record.pid,
    marker: record.marker,
    ...(record.startTime === undefined ? {} : { startTime: record.startTime }),
  };
}

function alive(record: ForwardRecord): boolean {
  return isOurProcess(identity(record));
}

/**
 * Ends the instance's forwards (at stop and delete): the ssh processes (SIGTERM, SIGKILL after
 * 2 s), then their sockets and records.
 */
export async function closeEngineForwards(dir: string): Promise<void> {
  for (const kind of KINDS) {
    const paths = forwardPaths(dir, kind);
    const record = readRecord(paths.record);
    if (record && signalIfOurs(identity(record), 'SIGTERM')) {
      await waitFor(async () => !alive(record), {
        description: `the ${kind} engine forward (pid ${record.pid}) to exit`,
        timeoutMs: 2_000,
        backoff: { initialMs: 10, maxMs: 100 },
      }).catch(() => signalIfOurs(identity(record), 'SIGKILL'));
    }
    rmSync(paths.socket, { force: true });
    rmSync(paths.record, { force: true });
  }
}

export interface ForwardRequest {
  dir: string;
  kind: EngineKind;
  remote: string;
  boot: string;
  target: SshTarget;
  /** `qemu:NAME`, for messages. */
  id: string;
}

/** The forward's socket, reusing a live one of this boot to the same remote, else a new one. */
export async function engineForward(
  runner: ProcessRunner,
  req: ForwardRequest,
  ctx: OpContext,
): Promise<string> {
  const paths = forwardPaths(req.dir, req.kind);
  const current = readRecord(paths.record);
  if (
    current &&
    current.remote === req.remote &&
    current.boot === req.boot &&
    alive(current) &&
    existsSync(current.socket)
  ) {
    return current.socket;
  }
  if (current) signalIfOurs(identity(current), 'SIGTERM');
  rmSync(paths.socket, { force: true });
  rmSync(paths.log, { force: true });
  ctx.progress(`forwarding ${req.remote} in the guest to ${paths.socket} over SSH`);
  const child = runner.spawn(forwardArgv(req.target, paths.socket, req.remote), {
    detached: true,
    logFile: paths.log,
  });
  const record: ForwardRecord = {
    kind: req.kind,
    pid: child.pid,
    ...(processStartTime(child.pid) === null
      ? {}
      : { startTime: processStartTime(child.pid) as number }),
    marker: forwardSpec(paths.socket, req.remote),
    socket: paths.socket,
    remote: req.remote,
    boot: req.boot,
  };
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  /** Ends this ssh before the error is thrown: SIGTERM, then SIGKILL if it lingers. */
  const stop = async () => {
    child.kill('SIGTERM');
    const gone = await Promise.race([
      child.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    if (!gone) {
      child.kill('SIGKILL');
      await child.exited;
    }
    rmSync(paths.socket, { force: true });
  };
  try {
    await waitFor(
      async () => {
        if (existsSync(paths.socket)) return true;
        if (exited) throw fatal(new OperationFailedError(sshFailure(req, paths.log)));
        return false;
      },
      {
        description: `the SSH forward of ${req.id}'s ${req.kind} engine`,
        deadline: ctx.deadline,
        signal: ctx.signal,
        backoff: { initialMs: 20, maxMs: 250 },
      },
    );
    // The listener exists once ssh is logged in; whether the guest's server forwards (and the
    // engine answers) shows only on a connection: one engine ping proves the whole path.
    await probe(paths.socket, req, paths.log, ctx);
    await writeFile(paths.record, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    return paths.socket;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `GET /_ping` through the forward: an HTTP answer means the guest forwarded and an engine answered. */
async function probe(
  socket: string,
  req: ForwardRequest,
  log: string,
  ctx: Pick<OpContext, 'signal'>,
): Promise<void> {
  const answer = await new Promise<string>((resolve) => {
    const conn = net.connect(socket);
    let data = '';
    const done = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', done);
      conn.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, PROBE_MS);
    ctx.signal.addEventListener('abort', done, { once: true });
    conn.on('connect', () =>
      conn.write('GET /_ping HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n'),
    );
    conn.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done();
    });
    conn.on('error', done);
    conn.on('close', done);
  });
  if (/^HTTP\/1\.[01] 2\d\d/.test(answer)) return;
  // ssh logs the refusal as it closes the connection: give the line a moment to land.
  const refused = await waitFor(
    async () =>
      readLog(log)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /open failed|connect failed|administratively prohibited/i.test(l))
        .pop(),
    { description: 'the forward’s log', timeoutMs: 2_000, backoff: { initialMs: 20, maxMs: 100 } },
  ).catch(() => undefined);
  if (refused) {
    throw new OperationFailedError(
      `the SSH server of ${req.id} did not forward to ${req.remote}: ${refused.replace(/^channel \d+: /, '').replace(/:\s*$/, '')}`,
      {
        hint: req.remote.startsWith('/')
          ? 'is the engine running in the guest, and does its SSH server forward to unix sockets (OpenSSH does, dropbear before 2024.84 does not)? engine.guestAddress may name a tcp://HOST:PORT the guest reaches instead'
          : `is the engine listening on ${forwardTarget(req.remote)} as the guest sees it?`,
      },
    );
  }
  throw new OperationFailedError(
    `the ${req.kind} engine at ${req.remote} in ${req.id} did not answer a ping through the SSH forward${answer ? `: ${JSON.stringify(answer.split('\r\n')[0])}` : ''}`,
    { hint: `check the engine in the guest: vms exec ${req.id} -- ls -l ${req.remote}` },
  );
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function sshFailure(req: ForwardRequest, log: string): string {
  const last = readLog(log).trim().split('\n').pop()?.trim();
  return `the SSH forward of ${req.id}'s ${req.kind} engine exited${last ? `: ${last}` : ''}`;
}
