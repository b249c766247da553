/**
 * The driver of one Colima profile, over the colima CLI (which drives Lima: the profile's VM is
 * the Lima instance `colima-NAME`). Colima has no create: `doCreate` runs `colima start` with the
 * options (creating and provisioning the VM) and then `colima stop`, so the instance is created
 * stopped as core expects; the first create costs a first boot.
 */
import { existsSync } from 'node:fs';
import {
  AlreadyExistsError,
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
  type OpContext,
  OperationFailedError,
  type Properties,
  type StopRequest,
} from '@vms/core';
import { callOptions, observedState, readMarker, writeMarker } from '../driver.js';
import { progressFromLog, recover, stopByStatus } from '../lifecycle.js';
import type { CallOptions } from '../logrus-tool.js';
import { parseLogLines } from '../parse.js';
import { colimaDeleteArgs, colimaSshArgs, colimaStartArgs, colimaStopArgs } from './argv.js';
import type { ColimaCli, ColimaInstance } from './cli.js';
import type { ColimaOptions } from './options.js';
import { colimaHomeDir, profileDir } from './paths.js';

/** Assumed for a development build that reports no version: the newest spellings. */
const UNKNOWN_VERSION = '999.0.0';

/** Go's os/exec ExitError for a signal, `signal: killed`, as an exit code (128 + number). */
const SIGNALS: Record<string, number> = {
  hangup: 1,
  interrupt: 2,
  quit: 3,
  aborted: 6,
  killed: 9,
  'segmentation fault': 11,
  'broken pipe': 13,
  terminated: 15,
};

/** colima's own diagnostics among the command's stderr: `time="…" level=… msg=…`. */
const LOG_LINE = /^time="[^"]*" level=(\w+) msg=/;

export class ColimaDriver implements DriverV1 {
  readonly #cli: ColimaCli;

  constructor(
    cli: ColimaCli,
    readonly name: string,
    readonly options: ColimaOptions,
  ) {
    this.#cli = cli;
  }

  /** `<colima home>/<profile>`: where colima keeps the profile, and @vms its marker. */
  get dir(): string {
    return profileDir(
      this.#cli.home ?? colimaHomeDir({ ...process.env, ...this.#cli.env }),
      this.name,
    );
  }

  async doCreate(ctx: OpContext): Promise<void> {
    const call = callOptions(ctx);
    if (await this.#cli.inspect(this.name, call)) {
      throw new AlreadyExistsError(`colima profile "${this.name}" already exists`);
    }
    const args = colimaStartArgs(this.name, this.options, await this.#version(call));
    try {
      ctx.progress('creating (colima start)');
      await this.#start(args, ctx);
      writeMarker(this.dir, {
        labels: this.options.labels,
        createdAt: new Date().toISOString(),
        template: `runtime ${this.options.runtime}`,
      });
      ctx.progress('stopping after create');
      await this.#cli.run(colimaStopArgs(this.name, false), call);
    } catch (error) {
      // Nothing is left behind: no VM, no profile directory.
      await recover(ctx, 'clean-up after failed create', (o) =>
        this.#cli.run(colimaDeleteArgs(this.name), o),
      );
      throw error;
    }
  }

  async doStart(ctx: OpContext): Promise<void> {
    const instance = await this.#require(ctx);
    if (instance.status === 'Running') return;
    const args = colimaStartArgs(this.name, this.options, await this.#version(callOptions(ctx)));
    ctx.progress('starting');
    try {
      await this.#start(args, ctx);
    } catch (error) {
      // A failed start leaves no host agent or VM process behind.
      await recover(ctx, 'force stop after failed start', (o) =>
        this.#cli.run(colimaStopArgs(this.name, true), o),
      );
      throw error;
    }
  }

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    // colima stops the runtime first, then Lima the guest.
    const instance = await this.#require(req);
    return stopByStatus(req, instance.status, (force, o) =>
      this.#cli.run(colimaStopArgs(this.name, force), o),
    );
  }

  doSuspend(): Promise<void> {
    return Promise.reject(
      new CapabilityUnsupportedError('suspend', 'colima', {
        hint: 'colima cannot suspend a VM; stop it instead',
      }),
    );
  }

  doResume(): Promise<void> {
    return this.doSuspend();
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    const existed = (await this.#cli.inspect(this.name, callOptions(ctx))) !== undefined;
    // --force: no prompt; colima stops a running VM, deletes it and the profile's directory.
    await this.#cli.run(colimaDeleteArgs(this.name), callOptions(ctx));
    return { existed };
  }

  async doInspect(ctx: OpContext): Promise<Observation> {
    const instance = await this.#cli.inspect(this.name, callOptions(ctx));
    if (!instance) return { state: 'absent' };
    return { ...observedState(instance), properties: this.#properties(instance) };
  }

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    const args = colimaSshArgs(this.name, argv, {
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
      ...(io.env && Object.keys(io.env).length > 0 ? { env: io.env } : {}),
      ...(io.user === undefined ? {} : { user: io.user }),
    });
    const stderr = new LogLineFilter(io.onStderr);
    const result = await this.#cli.run(args, {
      ...callOptions(ctx),
      ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
      onStdout: io.onStdout,
      onStderr: (chunk) => stderr.feed(chunk),
      okExitCodes: 'any',
      maxOutputBytes: 64 * 1024,
    });
    stderr.end();
    if (result.exitCode === 0) return { exitCode: 0 };
    // colima ssh reports the command's exit code N as `level=fatal msg="exit status N"`, exit 1.
    const fatal = stderr.fatal;
    const code = fatal === undefined ? undefined : /^exit status (\d+)$/.exec(fatal)?.[1];
    if (code !== undefined) return { exitCode: Number(code) };
    const signal = fatal === undefined ? undefined : /^signal: (.+)$/.exec(fatal)?.[1];
    if (signal !== undefined && SIGNALS[signal] !== undefined) {
      return { exitCode: 128 + (SIGNALS[signal] as number) };
    }
    throw new CommandFailedError(this.#cli.argv(args), result, {
      message: `colima ssh failed (exit code ${result.exitCode})${fatal ? `: ${fatal}` : ''}`,
    });
  }

  /**
   * The docker socket colima publishes on the host (`<colima home>/<profile>/docker.sock`, from
   * `colima status`). Only the docker runtime has one; colima has no podman runtime.
   */
  async doEngineEndpoint(request: EngineRequest, ctx: OpContext): Promise<EngineEndpoint> {
    if (request.kind !== 'docker') {
      throw new CapabilityUnsupportedError(`a ${request.kind} engine`, 'colima', {
        hint: 'colima runs docker, containerd or incus in its VM; use a docker backend',
      });
    }
    const status = await this.#cli.status(this.name, callOptions(ctx));
    if (!status) {
      throw new OperationFailedError(`colima:${this.name} is not running`, {
        hint: `vms start colima:${this.name}`,
      });
    }
    if (status.runtime !== undefined && status.runtime.replace(/\+k3s$/, '') !== 'docker') {
      throw new OperationFailedError(
        `colima:${this.name} runs ${status.runtime}, which has no docker socket`,
        { hint: 'create the instance with runtime: docker' },
      );
    }
    const host = status.dockerSocket ?? `unix://${this.dir}/docker.sock`;
    const path = host.replace(/^unix:\/\//, '');
    if (host.startsWith('unix://') && !existsSync(path)) {
      throw new OperationFailedError(
        `colima:${this.name} reports its docker socket at ${path}, but there is none`,
        { hint: `restart it: vms stop colima:${this.name} && vms start colima:${this.name}` },
      );
    }
    return { host, via: 'host-socket' };
  }

  async #version(call: CallOptions): Promise<string> {
    return (await this.#cli.version(call)) ?? UNKNOWN_VERSION;
  }

  async #start(args: string[], ctx: OpContext): Promise<void> {
    await this.#cli.run(args, { ...callOptions(ctx), onStderr: progressFromLog(ctx) });
  }

  async #require(ctx: CallOptions): Promise<ColimaInstance> {
    const instance = await this.#cli.inspect(this.name, callOptions(ctx));
    if (!instance) throw new NotFoundError(`colima profile "${this.name}" does not exist`);
    return instance;
  }

  #properties(instance: ColimaInstance): Properties {
    return colimaProperties(instance, this.dir);
  }
}

export function colimaProperties(instance: ColimaInstance, dir: string): Properties {
  const marker = readMarker(dir);
  return {
    ip: instance.address ?? '127.0.0.1',
    ...(instance.cpus === undefined ? {} : { cpus: instance.cpus }),
    ...(instance.memoryBytes === undefined
      ? {}
      : { memoryMiB: Math.round(instance.memoryBytes / 2 ** 20) }),
    ...(instance.diskBytes === undefined ? {} : { diskGiB: instance.diskBytes / 2 ** 30 }),
    os: 'Linux',
    ...(marker ? { labels: marker.labels, createdAt: marker.createdAt } : {}),
    extra: {
      status: instance.status,
      profileDir: dir,
      ...(instance.arch ? { arch: instance.arch } : {}),
      ...(instance.runtime ? { runtime: instance.runtime } : {}),
    },
  };
}

/**
 * Passes a command's stderr through line by line, holding back colima's own log lines (its
 * `exit status N` report in particular) and remembering the last fatal message.
 */
class LogLineFilter {
  fatal: string | undefined;
  #partial = '';

  constructor(private readonly forward: (chunk: Buffer) => void) {}

  feed(chunk: Buffer): void {
    const text = this.#partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    const kept = lines.filter((line) => this.#keep(line));
    if (kept.length > 0) this.forward(Buffer.from(`${kept.join('\n')}\n`));
  }

  end(): void {
    if (this.#partial && this.#keep(this.#partial)) this.forward(Buffer.from(this.#partial));
    this.#partial = '';
  }

  #keep(line: string): boolean {
    if (!LOG_LINE.test(line)) return true;
    const parsed = parseLogLines(line)[0];
    if (parsed?.level === 'fatal') this.fatal = parsed.msg;
    return false;
  }
}
