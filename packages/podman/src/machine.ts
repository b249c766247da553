/**
 * Podman Machine VMs as @vms instances (backend `podman-machine`), over the `podman machine` CLI:
 * init / start / stop / rm -f / ssh / inspect / list. Never the interactive `rm` prompt (always
 * `-f`, stdin closed). Exec goes through `podman machine ssh NAME COMMAND`: podman hands the
 * arguments to ssh, which joins them for the remote shell, so argv is shell-quoted here.
 * `podman machine ssh` parses flags only before NAME (SetInterspersed(false)): a `--` after NAME
 * would reach the remote command, so none is passed.
 */
import { randomBytes } from 'node:crypto';
import { KILL_SCRIPT } from '@vms/container-engine';
import {
  AlreadyExistsError,
  BackendUnavailableError,
  type BackendV1,
  type Capabilities,
  CommandFailedError,
  commonInstanceOptions,
  createRunner,
  type DetectResult,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  detectTool,
  type ExecIo,
  InvalidOptionsError,
  type ListContext,
  type ListedInstance,
  NotFoundError,
  type Observation,
  type OpContext,
  OperationFailedError,
  type ProcessRunner,
  parseOptions,
  processRunnerSchema,
  type RunOptions,
  SPECIFICATION_VERSION,
  type StopRequest,
  shellQuote,
  VmsError,
} from '@vms/core';
import * as z from '@vms/core/zod';
import { parseMachineInspect, parseMachineList, parseMajorVersion } from './machine-parse.js';

export const machineOptionsSchema = commonInstanceOptions.extend({
  cpus: z.number().int().positive().max(1024).optional(),
  /** Disk image: path, URL or OCI reference (`--image` on 5.x, `--image-path` on 4.x). */
  image: z.string().min(1).optional(),
  /** Run containers in the machine as root. */
  rootful: z.boolean().optional(),
  /** User for exec (`podman machine ssh --username`), default the machine's (core). */
  sshUser: z.string().min(1).optional(),
});
export type MachineOptions = z.output<typeof machineOptionsSchema>;

export const machineSettingsSchema = z
  .object({
    binary: z.string().min(1).optional(),
    runner: processRunnerSchema.optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type PodmanMachineSettings = z.input<typeof machineSettingsSchema>;

/** podman's machine names: 30 characters at most (cmd/podman/machine/init.go). */
const MACHINE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,29}$/;

export const MACHINE_CAPABILITIES: Capabilities = {
  suspend: false,
  exec: true,
  logs: false,
  snapshot: false,
  copy: false,
  portForward: false,
  mounts: false,
};

/** POSIX-shell single quoting of one word (core's; exported here as before). */
export { shellQuote };

/** The remote command line for argv with env/cwd and the kill marker. */
export function remoteCommand(argv: string[], env: Record<string, string>, cwd?: string): string {
  const assignments = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`));
  const run = ['exec', 'env', ...assignments, ...argv.map(shellQuote)].join(' ');
  return cwd ? `cd ${shellQuote(cwd)} && ${run}` : run;
}

class MachineCli {
  private versionInfo: Promise<{ version: string; major: number }> | undefined;
  private runnerInstance: ProcessRunner | undefined;
  constructor(readonly settings: z.output<typeof machineSettingsSchema>) {}

  get binary() {
    return this.settings.binary ?? 'podman';
  }

  run(args: string[], ctx: { signal: AbortSignal; deadline: number }, extra: RunOptions = {}) {
    this.runnerInstance ??= this.settings.runner ?? createRunner();
    return this.runnerInstance
      .run([this.binary, ...args], {
        signal: ctx.signal,
        deadline: ctx.deadline,
        stdin: '',
        ...(this.settings.env ? { env: this.settings.env } : {}),
        ...extra,
      })
      .catch((error: unknown) => {
        throw classify(error);
      });
  }

  version(ctx: { signal: AbortSignal; deadline: number }) {
    if (!this.versionInfo) {
      const p = this.run(['--version'], ctx).then((r) => {
        const v = parseMajorVersion(r.stdout);
        if (!v)
          throw new OperationFailedError(
            `cannot parse \`${this.binary} --version\`: ${r.stdout.trim()}`,
          );
        return v;
      });
      this.versionInfo = p;
      p.catch(() => {
        if (this.versionInfo === p) this.versionInfo = undefined;
      });
    }
    return this.versionInfo;
  }
}

const ROOT_REFUSED = /cannot run command .* as root/i;
const DOES_NOT_EXIST = /VM does not exist|not exist/i;

function classify(error: unknown): unknown {
  if (VmsError.hasCode(error, 'COMMAND_FAILED') && ROOT_REFUSED.test(error.stderrTail)) {
    return new BackendUnavailableError('podman-machine', 'podman machine cannot run as root', {
      cause: error,
      hint: 'run as a regular (rootless) user; use `--rootful` in the machine for root containers',
    });
  }
  return error;
}

class PodmanMachineDriver implements DriverV1 {
  constructor(
    private readonly cli: MachineCli,
    readonly name: string,
    private readonly options: MachineOptions,
  ) {}

  private async inspect(ctx: OpContext) {
    const r = await this.cli.run(['machine', 'inspect', this.name], ctx, { okExitCodes: 'any' });
    if (r.exitCode !== 0) {
      if (DOES_NOT_EXIST.test(r.stderr)) return undefined;
      throw classify(new CommandFailedError(r.argv, r));
    }
    return parseMachineInspect(r.stdout);
  }

  async doCreate(ctx: OpContext): Promise<void> {
    if (!MACHINE_NAME.test(this.name)) {
      throw new InvalidOptionsError([
        {
          path: 'name',
          message: `machine name "${this.name}" must be 30 characters or less (letters, digits, "_", ".", "-")`,
        },
      ]);
    }
    const { major } = await this.cli.version(ctx);
    const o = this.options;
    const args = ['machine', 'init'];
    if (o.cpus) args.push('--cpus', String(o.cpus));
    if (o.memoryMiB) args.push('--memory', String(o.memoryMiB));
    if (o.diskGiB) args.push('--disk-size', String(Math.ceil(o.diskGiB)));
    if (o.image) args.push(major >= 5 ? '--image' : '--image-path', o.image);
    if (o.rootful) args.push('--rootful');
    args.push(this.name);
    try {
      await this.cli.run(args, ctx);
    } catch (error) {
      if (VmsError.hasCode(error, 'COMMAND_FAILED') && /already exists/i.test(error.stderrTail)) {
        throw new AlreadyExistsError(`podman machine ${this.name} already exists`, {
          cause: error,
          hint: `pick another name, or remove it: ${this.cli.binary} machine rm -f ${this.name}`,
        });
      }
      // A half-made machine (init failed after registering it) is removed.
      await this.cli
        .run(
          ['machine', 'rm', '-f', this.name],
          { signal: AbortSignal.timeout(60_000), deadline: Date.now() + 60_000 },
          { okExitCodes: 'any' },
        )
        .catch(() => undefined);
      throw error;
    }
  }

  async doStart(ctx: OpContext): Promise<void> {
    try {
      await this.cli.run(['machine', 'start', this.name], ctx);
    } catch (error) {
      if (VmsError.hasCode(error, 'COMMAND_FAILED')) {
        if (/already running/i.test(error.stderrTail) && !/only one VM/i.test(error.stderrTail))
          return;
        if (/only one VM can be active/i.test(error.stderrTail)) {
          throw new OperationFailedError(
            `another podman machine is running: ${lastLine(error.stderrTail)}`,
            {
              cause: error,
              hint: 'stop the other machine first: podman machine stop OTHER',
            },
          );
        }
        if (DOES_NOT_EXIST.test(error.stderrTail))
          throw new NotFoundError(`podman machine ${this.name} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    const before = await this.inspect(req);
    if (!before) throw new NotFoundError(`podman machine ${this.name} does not exist`);
    if (before.state === 'stopped') return { how: 'already-stopped' };
    // `podman machine stop` has no timeout flag: it asks the guest to power off and waits.
    await this.cli.run(['machine', 'stop', this.name], req);
    return { how: req.force ? 'forced' : 'graceful' };
  }

  async doSuspend(): Promise<void> {
    throw new OperationFailedError('podman machines cannot be suspended');
  }

  async doResume(): Promise<void> {
    throw new OperationFailedError('podman machines cannot be suspended');
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    const existed = (await this.inspect(ctx)) !== undefined;
    if (existed) await this.cli.run(['machine', 'rm', '-f', this.name], ctx);
    return { existed };
  }

  async doInspect(ctx: OpContext): Promise<Observation> {
    const m = await this.inspect(ctx);
    if (!m) return { state: 'absent' };
    return {
      state: m.state,
      properties: m.properties,
      ...(m.state === 'broken' ? { reason: `podman reports state ${m.rawState}` } : {}),
    };
  }

  private sshArgs(command: string, user?: string): string[] {
    return ['machine', 'ssh', ...(user ? ['--username', user] : []), this.name, command];
  }

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    const marker = randomBytes(12).toString('hex');
    const command = remoteCommand(argv, { ...io.env, VMS_EXEC_ID: marker }, io.cwd);
    const user = io.user ?? this.options.sshUser;
    try {
      const r = await this.cli.run(this.sshArgs(command, user), ctx, {
        okExitCodes: 'any',
        stdin: io.stdin ?? '',
        onStdout: io.onStdout,
        onStderr: io.onStderr,
        maxOutputBytes: 64 * 1024,
      });
      if (r.exitCode === 125 && /^Error: /m.test(r.stderr)) {
        const text = lastLine(r.stderr);
        if (/not running/i.test(text)) {
          throw new OperationFailedError(`podman machine ${this.name} is not running`, {
            hint: `start it: podman machine start ${this.name}`,
          });
        }
        if (DOES_NOT_EXIST.test(text))
          throw new NotFoundError(`podman machine ${this.name} does not exist`);
        throw new CommandFailedError(r.argv, r);
      }
      return { exitCode: r.exitCode };
    } catch (error) {
      if (VmsError.isInstance(error) && (error.code === 'TIMEOUT' || error.code === 'ABORTED')) {
        // Killing the ssh client does not end the remote command: end it by its marker.
        const kill = ['sh', '-c', KILL_SCRIPT, 'vms-exec-kill', marker].map(shellQuote).join(' ');
        await this.cli
          .run(
            this.sshArgs(kill, user),
            { signal: AbortSignal.timeout(20_000), deadline: Date.now() + 20_000 },
            { okExitCodes: 'any' },
          )
          .catch(() => undefined);
      }
      throw error;
    }
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

export interface PodmanMachineBackend extends BackendV1<typeof machineOptionsSchema> {
  driver(name: string, options: MachineOptions): PodmanMachineDriver;
}

/** A `podman-machine` backend: Podman Machine VMs as instances. Construction does no I/O. */
export function createPodmanMachine(
  settingsInput: PodmanMachineSettings = {},
): PodmanMachineBackend {
  const cli = new MachineCli(parseOptions(machineSettingsSchema, settingsInput, 'settings'));
  const ctxOf = (signal?: AbortSignal, ms = 30_000) => ({
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms),
    deadline: Date.now() + ms,
  });
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'podman-machine',
    capabilities: MACHINE_CAPABILITIES,
    optionsSchema: machineOptionsSchema,
    defaultTimeouts: { create: 900_000, start: 600_000, stop: 180_000, delete: 120_000 },

    detect(ctx = {}): Promise<DetectResult> {
      return detectTool({
        toolPath: cli.binary,
        probe: async () => {
          const { version } = await cli.version(ctxOf(ctx.signal));
          await cli.run(['machine', 'list', '--format', 'json'], ctxOf(ctx.signal));
          return version;
        },
        installHint: 'install podman: apt-get install podman',
        failureHint: 'run `podman machine list` to see what fails',
      });
    },

    async list(ctx: ListContext): Promise<ListedInstance[]> {
      const r = await cli.run(['machine', 'list', '--format', 'json'], ctxOf(ctx.signal));
      // Machines carry no labels: every machine is listed and treated as manageable.
      return parseMachineList(r.stdout).map((m) => ({
        name: m.name,
        state: m.state,
        managed: true,
        properties: m.properties,
      }));
    },

    driver(name: string, options: MachineOptions) {
      return new PodmanMachineDriver(cli, name, options);
    },

    validateName(name: string) {
      return MACHINE_NAME.test(name)
        ? undefined
        : `machine name "${name}" must be 30 characters or less (letters, digits, "_", ".", "-")`;
    },
  };
}

/** The default podman-machine backend (no I/O until used). */
export const podmanMachine: PodmanMachineBackend = createPodmanMachine();
