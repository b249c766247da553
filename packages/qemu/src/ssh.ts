/**
 * Exec and copy over the OpenSSH client, argv only. The host key is pinned per instance
 * (StrictHostKeyChecking=yes against a known_hosts file written at boot, see host-keys.ts);
 * a command carries an id in its environment so that an abort or deadline kills it (and its
 * children) inside the guest through a second ssh call (no tty is allocated, so closing the
 * session alone would not end it).
 */
import { randomBytes } from 'node:crypto';
import {
  CommandFailedError,
  type ExecIo,
  type OpContext,
  type ProcessRunner,
  VmsError,
} from '@vms/core';
import { sshPath } from './paths.js';
import { shellJoin, shellQuote } from './quote.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  knownHosts: string;
  /** Name the host key is pinned under in knownHosts. */
  alias: string;
  /**
   * ssh's connection-sharing socket: sessions go over the master connection on it when one is
   * there (else ssh connects as usual); with `shareFor`, this connection becomes that master and
   * stays open that many seconds after its last session.
   */
  mux?: { path: string; shareFor?: number };
}

export function sshOptions(t: SshTarget, connectTimeoutS = 5): string[] {
  return [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `IdentityFile="${sshPath(t.privateKey)}"`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile="${sshPath(t.knownHosts)}"`,
    '-o',
    `HostKeyAlias=${t.alias}`,
    '-o',
    `ConnectTimeout=${connectTimeoutS}`,
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=6',
    ...(t.mux
      ? [
          '-o',
          `ControlPath="${sshPath(t.mux.path)}"`,
          '-o',
          t.mux.shareFor ? 'ControlMaster=yes' : 'ControlMaster=no',
          ...(t.mux.shareFor ? ['-o', `ControlPersist=${t.mux.shareFor}`] : []),
        ]
      : []),
  ];
}

export function sshArgv(
  t: SshTarget,
  remoteCommand: string,
  connectTimeoutS = 5,
  tty = false,
): string[] {
  return [
    'ssh',
    tty ? '-tt' : '-T',
    ...sshOptions(t, connectTimeoutS),
    '-p',
    String(t.port),
    `${t.user}@${t.host}`,
    '--',
    remoteCommand,
  ];
}

/**
 * The remote shell text that runs argv with env and cwd. The command is exec'd (no wrapper shell
 * stays behind) with `VMS_EXEC_ID=<id>` in its environment, which its children inherit: that is
 * how remoteKillScript finds every process of this exec.
 */
export function remoteScript(
  argv: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; id: string },
): string {
  const assignments = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const run = [`VMS_EXEC_ID=${shellQuote(opts.id)}`, ...assignments, 'exec', shellJoin(argv)].join(
    ' ',
  );
  return opts.cwd ? `cd ${shellQuote(opts.cwd)} || exit 126; ${run}` : run;
}

/** Kills (TERM) every process whose environment carries this exec's id (see remoteScript). */
export function remoteKillScript(id: string): string {
  // environ is NUL-separated: split it first (busybox grep stops at the first NUL).
  const marker = shellQuote(`VMS_EXEC_ID=${id}`);
  return (
    `for f in /proc/[0-9]*/environ; do ` +
    `if tr '\\0' '\\n' <"$f" 2>/dev/null | grep -qxF ${marker}; then ` +
    `p=\${f#/proc/}; kill -TERM \${p%/environ} 2>/dev/null; fi; done; true`
  );
}

/** ssh's own failures (as opposed to a remote command exiting 255). */
const SSH_FAILURE =
  /^(ssh: |kex_exchange_identification|Connection (closed|timed out|refused|reset)|Host key verification failed|.*Permission denied \(|banner exchange)/m;

export async function sshExec(
  runner: ProcessRunner,
  target: SshTarget,
  argv: string[],
  io: ExecIo,
  ctx: OpContext,
): Promise<{ exitCode: number }> {
  const id = randomBytes(8).toString('hex');
  const script = remoteScript(argv, {
    id,
    ...(io.env ? { env: io.env } : {}),
    ...(io.cwd ? { cwd: io.cwd } : {}),
  });
  const target2 = io.user ? { ...target, user: io.user } : target;
  // A terminal only when asked for (interactive use); -tt also makes the remote end die with us.
  const full = sshArgv(target2, script, 5, io.tty === true);
  try {
    const result = await runner.run(full, {
      signal: ctx.signal,
      deadline: ctx.deadline,
      okExitCodes: 'any',
      onStdout: io.onStdout,
      onStderr: io.onStderr,
      maxOutputBytes: 64 * 1024,
      killGraceMs: 500,
      ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
    });
    if (result.exitCode === 255 && SSH_FAILURE.test(result.stderr)) {
      throw new CommandFailedError(full, result, {
        message: `ssh to ${target.user}@${target.host}:${target.port} failed: ${result.stderr.trim().split('\n').pop()}`,
      });
    }
    return { exitCode: result.exitCode };
  } catch (error) {
    if (VmsError.hasCode(error, 'TIMEOUT') || VmsError.hasCode(error, 'ABORTED')) {
      // End the command in the guest too; bounded, and never masks the original error.
      await runner
        .run(sshArgv(target2, remoteKillScript(id), 3), {
          timeoutMs: 10_000,
          okExitCodes: 'any',
        })
        .catch(() => undefined);
    }
    throw error;
  }
}

/** One readiness attempt: `ssh … true`. Resolves true on success. */
export async function sshProbe(
  runner: ProcessRunner,
  target: SshTarget,
  signal: AbortSignal,
  timeoutMs: number,
) {
  const r = await runner.run(sshArgv(target, 'true', Math.max(1, Math.ceil(timeoutMs / 1000))), {
    signal,
    timeoutMs,
    okExitCodes: 'any',
    killGraceMs: 200,
  });
  if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `ssh exited ${r.exitCode}`);
  return true;
}

/** scp (SFTP protocol) between the host and the guest; `toGuest` picks the direction. */
export async function scpCopy(
  runner: ProcessRunner,
  target: SshTarget,
  hostPath: string,
  guestPath: string,
  toGuest: boolean,
  ctx: OpContext,
): Promise<void> {
  const remote = `${target.user}@${target.host}:${guestPath}`;
  const [from, to] = toGuest ? [hostPath, remote] : [remote, hostPath];
  await runner.run(
    ['scp', '-q', '-r', '-p', ...sshOptions(target), '-P', String(target.port), '--', from, to],
    {
      signal: ctx.signal,
      deadline: ctx.deadline,
    },
  );
}
