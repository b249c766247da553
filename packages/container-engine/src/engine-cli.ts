/**
 * The engine through its CLI (`docker …` / `podman …`), one process per call, via core's
 * ProcessRunner. Used when no API socket answers (podman without `podman system service`, ssh://
 * hosts) or when asked for with `transport: 'cli'`.
 */
import type { ProcessRunner, RunOptions } from '@vms/core';
import {
  type ContainerInfo,
  type CreateSpec,
  type Ctx,
  type Engine,
  type EngineEvent,
  type EngineVersion,
  type EventFilter,
  type ExecSpec,
  eventFilters,
  eventLines,
  type ImageInfo,
  type PullSpec,
} from './engine.js';
import { isNotFound, NO_SUCH_CONTAINER, NO_SUCH_IMAGE } from './errors.js';
import { startFailureExitCode } from './exec-start.js';
import { parseImage, parseInspect, parseJsonOutput, parseVersion } from './parse.js';
import { dockerPullLine, lineSplitter, podmanPullLine } from './pull.js';
import type { ImageReference } from './reference.js';

export interface CliEngineOptions {
  runner: ProcessRunner;
  binary: string;
  /** Global flags selecting the engine: `-H URL`, `--context NAME`, `--url URL`. */
  globalArgs: string[];
  env?: Record<string, string | undefined>;
  /** podman: `--pull never` is spelled the same; docker ≥ 20.10 too. */
  isPodman: boolean;
}

export class CliEngine implements Engine {
  readonly transport = 'cli' as const;
  constructor(private readonly o: CliEngineOptions) {}

  close(): void {}

  private run(args: string[], ctx: Ctx, extra: RunOptions = {}) {
    return this.o.runner.run([this.o.binary, ...this.o.globalArgs, ...args], {
      signal: ctx.signal,
      deadline: ctx.deadline,
      ...(this.o.env ? { env: this.o.env } : {}),
      ...extra,
    });
  }

  async version(ctx: Ctx): Promise<EngineVersion> {
    // The template, not `--format json`: docker 20.10's CLI prints the word "json" for that.
    const r = await this.run(['version', '--format', '{{json .}}'], ctx);
    return parseVersion(JSON.parse(r.stdout));
  }

  async inspect(name: string, ctx: Ctx): Promise<ContainerInfo | undefined> {
    const r = await this.run(['container', 'inspect', name], ctx, { okExitCodes: 'any' });
    if (r.exitCode !== 0) {
      if (NO_SUCH_CONTAINER.test(r.stderr)) return undefined;
      await this.run(['container', 'inspect', name], ctx); // re-run to throw the typed error
    }
    const [first] = parseJsonOutput(r.stdout);
    return first === undefined ? undefined : parseInspect(first);
  }

  async list(labels: Record<string, string>, ctx: Ctx): Promise<ContainerInfo[]> {
    const filters = Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
    const ids = (await this.run(['ps', '-a', '-q', '--no-trunc', ...filters], ctx)).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (!ids.length) return [];
    // A container removed between ps and inspect makes inspect exit non-zero but still print the rest.
    const r = await this.run(['container', 'inspect', ...ids], ctx, { okExitCodes: 'any' });
    return parseJsonOutput(r.stdout || '[]').map(parseInspect);
  }

  createArgs(spec: CreateSpec): string[] {
    const args = ['create', '--name', spec.name, '--pull', 'never'];
    if (spec.init) args.push('--init');
    for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    for (const p of spec.ports) {
      args.push(
        '--publish',
        `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort || ''}:${p.guestPort}/${p.protocol}`,
      );
    }
    for (const m of spec.mounts)
      args.push('--volume', `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    if (spec.cpus) args.push('--cpus', String(spec.cpus));
    if (spec.memoryMiB) args.push('--memory', `${spec.memoryMiB}m`);
    if (spec.user) args.push('--user', spec.user);
    if (spec.workdir) args.push('--workdir', spec.workdir);
    if (spec.network) args.push('--network', spec.network);
    args.push(...spec.extraArgs, spec.image, ...spec.command);
    return args;
  }

  async create(spec: CreateSpec, ctx: Ctx): Promise<void> {
    await this.run(this.createArgs(spec), ctx);
  }

  async start(name: string, ctx: Ctx): Promise<void> {
    await this.run(['start', name], ctx);
  }

  async kill(name: string, signal: string, ctx: Ctx): Promise<void> {
    await this.run(['kill', '--signal', signal, name], ctx);
  }

  async wait(name: string, ctx: Ctx): Promise<number | undefined> {
    const r = await this.run(['wait', name], ctx);
    const code = Number.parseInt(r.stdout.trim().split('\n').pop() ?? '', 10);
    return Number.isNaN(code) ? undefined : code;
  }

  async pause(name: string, ctx: Ctx): Promise<void> {
    await this.run(['pause', name], ctx);
  }

  async unpause(name: string, ctx: Ctx): Promise<void> {
    await this.run(['unpause', name], ctx);
  }

  async remove(name: string, ctx: Ctx): Promise<boolean> {
    // `rm -f` of a missing container exits 0 on new CLIs and 1 on old ones: ask first.
    if (!(await this.inspect(name, ctx))) return false;
    try {
      await this.run(['rm', '--force', '--volumes', name], ctx);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async exec(name: string, spec: ExecSpec, ctx: Ctx): Promise<number> {
    const args = ['exec'];
    if (spec.stdin !== undefined) args.push('--interactive');
    if (spec.tty) args.push('--tty');
    if (spec.cwd) args.push('--workdir', spec.cwd);
    if (spec.user) args.push('--user', spec.user);
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    args.push(name, ...spec.argv);
    const r = await this.run(args, ctx, {
      okExitCodes: 'any',
      ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
      onStdout: spec.onStdout,
      onStderr: spec.onStderr,
      maxOutputBytes: 64 * 1024,
    });
    return startFailureExitCode(r.stderr, r.exitCode);
  }

  async logs(
    name: string,
    opts: { follow: boolean; tail?: number },
    onData: (chunk: Buffer, stream: 'stdout' | 'stderr') => void,
    ctx: Ctx,
  ): Promise<void> {
    const args = ['logs'];
    if (opts.follow) args.push('--follow');
    if (opts.tail !== undefined) args.push('--tail', String(opts.tail));
    try {
      await this.run([...args, name], ctx, {
        onStdout: (c) => onData(c, 'stdout'),
        onStderr: (c) => onData(c, 'stderr'),
        maxOutputBytes: 64 * 1024,
      });
    } catch (error) {
      if (opts.follow && ctx.signal.aborted) return;
      throw error;
    }
  }

  async commit(name: string, ref: string, labels: Record<string, string>, ctx: Ctx): Promise<void> {
    const changes = Object.entries(labels).flatMap(([k, v]) => [
      '--change',
      `LABEL ${k}=${JSON.stringify(v)}`,
    ]);
    await this.run(['commit', ...changes, name, ref], ctx);
  }

  async images(labels: Record<string, string>, ctx: Ctx): Promise<ImageInfo[]> {
    const filters = Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
    const ids = (await this.run(['images', '-q', '--no-trunc', ...filters], ctx)).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    const r = await this.run(['image', 'inspect', ...unique], ctx, { okExitCodes: 'any' });
    return parseJsonOutput(r.stdout || '[]').map(parseImage);
  }

  async imageExists(ref: string, ctx: Ctx): Promise<boolean> {
    const args = ['image', 'inspect', '--format', '{{.Id}}', ref];
    const r = await this.run(args, ctx, { okExitCodes: 'any' });
    if (r.exitCode === 0) return true;
    if (NO_SUCH_IMAGE.test(r.stderr)) return false;
    await this.run(args, ctx); // re-run to throw the typed error (engine down, …)
    return false;
  }

  async pull(ref: ImageReference, spec: PullSpec, ctx: Ctx): Promise<void> {
    // Not on a terminal, docker prints `<layer>: <status>` lines on stdout and podman
    // `Copying blob …` lines on stderr; the CLI reads its own credentials.
    const parse = this.o.isPodman ? podmanPullLine : dockerPullLine;
    const onLine = (line: string) => {
      const event = parse(line);
      if (event) spec.onLayer(event);
    };
    const out = lineSplitter(onLine);
    const err = lineSplitter(onLine);
    spec.debug?.('pull', { image: ref.raw, credentials: `read by the ${this.o.binary} CLI` });
    await this.run(['pull', ref.raw], ctx, {
      onStdout: out.push,
      onStderr: err.push,
      maxOutputBytes: 64 * 1024,
    });
    out.flush();
    err.flush();
  }

  async removeImage(ref: string, ctx: Ctx): Promise<boolean> {
    // `rmi -f` of a missing image exits 0 on some versions: ask first.
    const probe = await this.run(['image', 'inspect', '--format', '{{.Id}}', ref], ctx, {
      okExitCodes: 'any',
    });
    if (probe.exitCode !== 0) return false;
    await this.run(['image', 'rm', '--force', ref], ctx);
    return true;
  }

  events(
    filter: EventFilter,
    onEvent: (event: EngineEvent) => void,
    signal: AbortSignal,
    onEnd?: (error?: Error) => void,
  ): void {
    if (signal.aborted) return;
    const filters = Object.entries(eventFilters(filter)).flatMap(([key, values]) =>
      values.flatMap((v) => ['--filter', `${key}=${v}`]),
    );
    const lines = eventLines(onEvent);
    // Long-lived and unref'd: a watcher must not keep the caller's process alive.
    const child = this.o.runner.spawn(
      [this.o.binary, ...this.o.globalArgs, 'events', ...filters, '--format', '{{json .}}'],
      {
        unref: true,
        ...(this.o.env ? { env: this.o.env } : {}),
        onStdout: lines.push,
      },
    );
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    void child.exited.then(
      () => {
        signal.removeEventListener('abort', stop);
        if (!signal.aborted) onEnd?.();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', stop);
        if (!signal.aborted) onEnd?.(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  async copyIn(name: string, hostPath: string, guestPath: string, ctx: Ctx): Promise<void> {
    await this.run(['cp', hostPath, `${name}:${guestPath}`], ctx);
  }

  async copyOut(name: string, guestPath: string, hostPath: string, ctx: Ctx): Promise<void> {
    await this.run(['cp', `${name}:${guestPath}`, hostPath], ctx);
  }
}
