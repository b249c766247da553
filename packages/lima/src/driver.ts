/**
 * The driver of one Lima instance, over limactl. limactl does the supervision itself (host agent
 * + VM driver processes), so this driver runs short commands and reads `limactl list --json`.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  AlreadyExistsError,
  type CapabilityNarrowing,
  CapabilityUnsupportedError,
  CommandFailedError,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type EngineEndpoint,
  type EngineRequest,
  type ExecIo,
  NotFoundError,
  type Observation,
  type ObservedState,
  type OpContext,
  OperationFailedError,
  type Properties,
  type SnapshotInfo,
  type StopRequest,
  VmsError,
} from '@vms/core';
import { createArgs, shellArgs, startArgs } from './argv.js';
import type { CallOptions, LimaCli } from './cli.js';
import { progressFromLog, recover, stopByStatus } from './lifecycle.js';
import type { LimaOptions } from './options.js';
import { type LimaInstance, parseLogLines, parseSnapshotList } from './parse.js';

/** Marker @vms leaves in the instance directory: it made this instance (and its labels). */
export const MARKER_FILE = 'vms.json';
/** Lima's own start timeout ends this much before our deadline, so lima reports first. */
const START_MARGIN_MS = 5_000;

export interface LimaMarker {
  labels: Record<string, string>;
  createdAt: string;
  template: string;
}

export class LimaDriver implements DriverV1 {
  readonly #cli: LimaCli;

  constructor(
    cli: LimaCli,
    readonly name: string,
    readonly options: LimaOptions,
  ) {
    this.#cli = cli;
  }

  async doCreate(ctx: OpContext): Promise<void> {
    const call = callOptions(ctx);
    // limactl create refuses an existing name itself (mapped to AlreadyExistsError below).
    const version = await this.#cli.version(call);
    ctx.progress(`creating from ${this.options.template}`);
    try {
      await this.#cli.run(createArgs(this.name, this.options, version), call);
      const created = await this.#cli.inspect(this.name, call);
      if (!created?.dir)
        throw new NotFoundError(`lima instance "${this.name}" is missing after limactl create`);
      writeMarker(created.dir, {
        labels: this.options.labels,
        createdAt: new Date().toISOString(),
        template: this.options.template,
      });
    } catch (error) {
      if (VmsError.hasCode(error, 'COMMAND_FAILED') && /already exists/i.test(error.message)) {
        throw new AlreadyExistsError(`lima instance "${this.name}" already exists`, {
          cause: error,
        });
      }
      // Nothing is left behind.
      await this.#forceDelete(ctx);
      throw error;
    }
  }

  async doStart(ctx: OpContext): Promise<void> {
    const instance = await this.#require(ctx);
    if (instance.status === 'Running') return;
    const seconds = (ctx.deadline - Date.now() - START_MARGIN_MS) / 1000;
    ctx.progress('starting');
    try {
      await this.#cli.run(startArgs(this.name, this.options, seconds), {
        ...callOptions(ctx),
        onStderr: progressFromLog(ctx),
      });
    } catch (error) {
      // A failed start leaves no host agent or VM process behind.
      await recover(ctx, 'force stop after failed start', (o) =>
        this.#cli.run(['stop', '--force', this.name], o),
      );
      throw error;
    }
  }

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    const instance = await this.#require(req);
    return stopByStatus(req, instance.status, (force, o) =>
      this.#cli.run(force ? ['stop', '--force', this.name] : ['stop', this.name], o),
    );
  }

  /**
   * Lima implements snapshots only for vmType qemu: off for instances of another vmType (from
   * the options, or from what lima reports of an existing instance).
   */
  capabilities(last: Observation | undefined): CapabilityNarrowing {
    const observed = last?.properties?.extra?.vmType;
    const vmType = typeof observed === 'string' ? observed : this.options.vmType;
    return vmType && vmType !== 'qemu'
      ? { snapshot: `lima implements snapshots only for vmType qemu; ${this.name} uses ${vmType}` }
      : {};
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    // --force stops a running instance first; a missing one is a warning and exit 0.
    const result = await this.#cli.run(['delete', '--force', this.name], callOptions(ctx));
    const missing = parseLogLines(result.stderr).some((l) =>
      /Ignoring non-existent instance/i.test(l.msg),
    );
    return { existed: !missing };
  }

  async doInspect(ctx: OpContext): Promise<Observation> {
    const instance = await this.#cli.inspect(this.name, callOptions(ctx));
    if (!instance) return { state: 'absent' };
    return { ...observedState(instance), properties: properties(instance) };
  }

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    const args = shellArgs(this.name, argv, {
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
      ...(io.env && Object.keys(io.env).length > 0 ? { env: io.env } : {}),
      ...(io.user === undefined ? {} : { user: io.user }),
    });
    const result = await this.#cli.run(args, {
      ...callOptions(ctx),
      ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
      onStdout: io.onStdout,
      onStderr: io.onStderr,
      okExitCodes: 'any',
      maxOutputBytes: 64 * 1024,
    });
    // The remote exit code passes through; limactl's own failures are fatal log lines (exit 1).
    if (result.exitCode === 1 && parseLogLines(result.stderr).some((l) => l.level === 'fatal')) {
      throw new CommandFailedError(this.#cli.argv(args), result);
    }
    return { exitCode: result.exitCode };
  }

  async doCopyIn(hostPath: string, guestPath: string, ctx: OpContext): Promise<void> {
    await this.#cli.run(['copy', '-r', hostPath, `${this.name}:${guestPath}`], callOptions(ctx));
  }

  async doCopyOut(guestPath: string, hostPath: string, ctx: OpContext): Promise<void> {
    await this.#cli.run(['copy', '-r', `${this.name}:${guestPath}`, hostPath], callOptions(ctx));
  }

  async doSnapshotCreate(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshot(ctx, ['create', this.name, '--tag', name]);
  }

  async doSnapshotRestore(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshot(ctx, ['apply', this.name, '--tag', name]);
  }

  async doSnapshotDelete(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshot(ctx, ['delete', this.name, '--tag', name]);
  }

  async doSnapshotList(ctx: OpContext): Promise<SnapshotInfo[]> {
    const out = await this.#snapshot(ctx, ['list', this.name]);
    return parseSnapshotList(out).map((s) => ({
      name: s.tag,
      ...(s.createdAt ? { createdAt: s.createdAt } : {}),
    }));
  }

  /**
   * The engine socket lima forwards to the host: a `portForwards` rule whose guestSocket is the
   * engine's (`…/docker.sock`, `…/podman.sock`), as lima's docker and podman templates have.
   */
  async doEngineEndpoint(request: EngineRequest, ctx: OpContext): Promise<EngineEndpoint> {
    const instance = await this.#require(ctx);
    const socket = request.kind === 'docker' ? /(^|\/)docker\.sock$/ : /(^|\/)podman\.sock$/;
    const rule = instance.socketForwards.find((r) => socket.test(r.guestSocket));
    if (!rule) {
      throw new OperationFailedError(
        `lima:${this.name} forwards no ${request.kind} socket to the host`,
        {
          hint: `create it from lima's ${request.kind} template (template: '${request.kind}'), or add a socket forward with set: '.portForwards += [{"guestSocket": "/var/run/${request.kind}.sock", "hostSocket": "{{.Dir}}/sock/${request.kind}.sock"}]'`,
        },
      );
    }
    if (!fs.existsSync(rule.hostSocket)) {
      throw new OperationFailedError(
        `lima:${this.name} forwards ${rule.guestSocket} to ${rule.hostSocket}, but there is no socket there`,
        {
          hint: `is the ${request.kind} engine running in the guest? vms exec lima:${this.name} -- ls -l ${rule.guestSocket}`,
        },
      );
    }
    return { host: `unix://${rule.hostSocket}`, via: 'host-socket' };
  }

  /** Snapshots exist only for the qemu driver (vz, krunkit, wsl2: "unimplemented"). */
  async #snapshot(ctx: OpContext, args: string[]): Promise<string> {
    const instance = await this.#require(ctx);
    const vmType = instance.vmType ?? 'qemu';
    if (vmType !== 'qemu') {
      throw new CapabilityUnsupportedError('snapshot', 'lima', {
        hint: `lima implements snapshots only for vmType qemu; instance "${this.name}" uses ${vmType}`,
      });
    }
    const result = await this.#cli.run(['snapshot', ...args], callOptions(ctx));
    return result.stdout;
  }

  async #require(ctx: CallOptions): Promise<LimaInstance> {
    const instance = await this.#cli.inspect(this.name, callOptions(ctx));
    if (!instance) throw new NotFoundError(`lima instance "${this.name}" does not exist`);
    return instance;
  }

  async #forceDelete(ctx: OpContext): Promise<void> {
    await recover(ctx, 'clean-up after failed create', (o) =>
      this.#cli.run(['delete', '--force', this.name], o),
    );
  }
}

/**
 * Running/Stopped/Broken (and WSL2's extra states) → core's observed states; `reason` only when
 * broken (spread it into an Observation as it is).
 */
export function observedState(instance: { status: string; errors?: string[] }): {
  state: ObservedState;
  reason?: string;
} {
  const errors = (instance.errors ?? []).join('; ');
  switch (instance.status) {
    case 'Running':
      return { state: 'running' };
    case 'Stopped':
    case 'Uninitialized':
      return { state: 'stopped' };
    case 'Broken':
      return { state: 'broken', reason: errors || 'lima reports the instance as Broken' };
    default:
      return {
        state: 'broken',
        reason: `lima reports status ${JSON.stringify(instance.status)}${errors ? `: ${errors}` : ''}`,
      };
  }
}

export function properties(instance: LimaInstance): Properties {
  const marker = instance.dir ? readMarker(instance.dir) : undefined;
  const host = instance.sshAddress ?? '127.0.0.1';
  return {
    ip: host,
    ...(instance.cpus === undefined ? {} : { cpus: instance.cpus }),
    ...(instance.memoryBytes === undefined
      ? {}
      : { memoryMiB: Math.round(instance.memoryBytes / 2 ** 20) }),
    ...(instance.diskBytes === undefined ? {} : { diskGiB: instance.diskBytes / 2 ** 30 }),
    ...(instance.image === undefined ? {} : { image: instance.image }),
    ...(instance.os === undefined ? {} : { os: instance.os }),
    ...(instance.sshLocalPort
      ? {
          ssh: {
            host,
            port: instance.sshLocalPort,
            user: instance.user ?? process.env.USER ?? 'lima',
          },
        }
      : {}),
    ...(marker ? { labels: marker.labels, createdAt: marker.createdAt } : {}),
    extra: {
      status: instance.status,
      ...(instance.vmType ? { vmType: instance.vmType } : {}),
      ...(instance.arch ? { arch: instance.arch } : {}),
      ...(instance.dir ? { dir: instance.dir } : {}),
      ...(instance.sshConfigFile ? { sshConfigFile: instance.sshConfigFile } : {}),
      ...(instance.hostAgentPid ? { hostAgentPid: instance.hostAgentPid } : {}),
      ...(instance.driverPid ? { driverPid: instance.driverPid } : {}),
      ...(instance.limaVersion ? { limaVersion: instance.limaVersion } : {}),
      ...(instance.errors.length > 0 ? { errors: instance.errors } : {}),
    },
  };
}

export function readMarker(dir: string): LimaMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(dir, MARKER_FILE), 'utf8')) as LimaMarker;
  } catch {
    return undefined;
  }
}

export function writeMarker(dir: string, marker: LimaMarker): void {
  const file = join(dir, MARKER_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(marker, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function callOptions(ctx: CallOptions): CallOptions {
  return {
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.deadline === undefined ? {} : { deadline: ctx.deadline }),
  };
}
