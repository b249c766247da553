/**
 * One lazily opened engine per backend: resolves the endpoint, picks the transport (`auto`: the
 * API when its socket answers `/_ping`, else the CLI) and caches the choice. No I/O until first use.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { BackendUnavailableError, createRunner, type ProcessRunner } from '@vms/core';
import { negotiateApiVersion } from './api-version.js';
import type { ContainerDialect } from './dialect.js';
import { fromHost, type ResolvedEndpoint, resolveEndpoint } from './endpoint.js';
import type { Ctx, Engine } from './engine.js';
import { ApiEngine } from './engine-api.js';
import { CliEngine } from './engine-cli.js';
import { resolveEngineSource } from './engine-source.js';
import { isUnreachable } from './errors.js';
import { EventHub } from './event-hub.js';
import { ApiClient } from './http.js';
import type { ImageReference } from './reference.js';
import { type FoundAuth, findRegistryAuth } from './registry-auth.js';
import type { ContainerSettings } from './settings.js';

export class Connection {
  private engine: Promise<Engine> | undefined;
  private resolved: ResolvedEndpoint | undefined;
  /** The VM's engine could not be reached: ask the VM again before the next call. */
  private stale = false;
  private runnerInstance: ProcessRunner | undefined;
  /** The engine's event stream, shared by every container being watched. */
  readonly events = new EventHub(this);

  constructor(
    readonly dialect: ContainerDialect,
    readonly settings: ContainerSettings,
  ) {}

  get binary(): string {
    return this.settings.binary ?? this.dialect.binary;
  }

  /**
   * The resolved endpoint (reads env and the context store; no process, no network). For an
   * engine inside a VM: the last endpoint the VM gave, or a placeholder naming the VM.
   */
  endpoint(): ResolvedEndpoint {
    const vm = this.settings.engine?.vm;
    if (vm) return this.resolved ?? { host: `(the engine of ${vm.id})`, source: 'vm', cliArgs: [] };
    this.resolved ??= resolveEndpoint(this.dialect, this.settings);
    return this.resolved;
  }

  /**
   * For an engine inside a VM: asks the VM where it is (starting the VM unless `start` is false)
   * and reopens the engine on what it says. A VM that is gone fails here, naming the VM.
   */
  private async followVm(ctx: Ctx, start: boolean): Promise<void> {
    const source = this.settings.engine;
    if (!source) return;
    const ep = await resolveEngineSource(source, this.dialect, ctx, start);
    this.stale = false;
    await this.closeEngine();
    this.resolved = fromHost(ep.host, 'vm', this.dialect.hostFlag(ep.host));
  }

  /**
   * Runs `fn` on the engine. For an engine inside a VM the endpoint is asked of the VM once and
   * kept; when the engine then cannot be reached (the socket is gone or refuses: the VM stopped,
   * was deleted, or its forward ended) the VM is asked again — its own error names it, or it is
   * started again — and `fn` is retried once on what it says (nothing reached the engine).
   */
  async use<T>(
    ctx: Ctx,
    fn: (engine: Engine) => Promise<T>,
    options: { start?: boolean } = {},
  ): Promise<T> {
    const engine = await this.get(ctx, options);
    try {
      return await fn(engine);
    } catch (error) {
      if (!this.settings.engine || !isUnreachable(error)) throw error;
      this.stale = true;
      return fn(await this.get(ctx, options));
    }
  }

  runner(): ProcessRunner {
    this.runnerInstance ??= this.settings.runner ?? createRunner();
    return this.runnerInstance;
  }

  /** Registry credentials for an API pull, from the files the dialect's CLI reads. */
  registryAuth(ref: ImageReference, ctx: Ctx): Promise<FoundAuth | undefined> {
    return findRegistryAuth(ref, {
      kind: this.dialect.name === 'podman' ? 'podman' : 'docker',
      env: { ...process.env, ...this.settings.env },
      runner: this.runner(),
      ctx,
    });
  }

  cli(): CliEngine {
    const env = { ...this.dialect.cliEnv?.(), ...this.settings.env };
    return new CliEngine({
      runner: this.runner(),
      binary: this.binary,
      globalArgs: this.endpoint().cliArgs,
      ...(Object.keys(env).length ? { env } : {}),
      isPodman: this.dialect.name === 'podman',
    });
  }

  /**
   * The engine, opening it on first use. With an engine inside a VM, the VM is consulted first
   * (`start: false` for probes such as detect and list, which must not boot a VM).
   */
  async get(ctx: Ctx, options: { start?: boolean } = {}): Promise<Engine> {
    if (this.settings.engine && (!this.resolved || this.stale))
      await this.followVm(ctx, options.start ?? this.settings.engine.start);
    return this.cached(ctx);
  }

  private cached(ctx: Ctx): Promise<Engine> {
    if (!this.engine) {
      const p = this.open(ctx);
      this.engine = p;
      // A failed open (engine down) is retried on the next call.
      p.catch(() => {
        if (this.engine === p) this.engine = undefined;
      });
    }
    return this.engine;
  }

  private async open(ctx: Ctx): Promise<Engine> {
    const ep = this.endpoint();
    const transport = this.settings.transport;
    if (transport === 'cli') return this.cli();
    if (!ep.api) {
      if (transport === 'api') {
        throw new BackendUnavailableError(this.dialect.name, `no HTTP API for ${ep.host}`, {
          hint: "use transport 'cli' (or 'auto') for ssh:// hosts",
        });
      }
      return this.cli();
    }
    const client = new ApiClient(ep.api, ep.host);
    let announced: string | undefined;
    try {
      const ping = await client.call('GET', '/_ping', {
        ...ctx,
        deadline: Math.min(ctx.deadline, Date.now() + 5_000),
      });
      const header = ping.headers['api-version'];
      announced = Array.isArray(header) ? header[0] : header;
    } catch (error) {
      client.close();
      if (transport === 'api') throw error;
      // Nothing answers on the socket: the CLI may still reach the engine (podman without its
      // service), or report the engine as down with its own words.
      return this.cli();
    }
    try {
      if (!announced) {
        const v = await client.json<{ ApiVersion?: string }>('GET', '/version', ctx);
        announced = v?.ApiVersion;
      }
      client.apiVersion = negotiateApiVersion(announced, this.dialect.name);
    } catch (error) {
      client.close();
      throw error;
    }
    return new ApiEngine(client, this.cli(), (ref, c) => this.registryAuth(ref, c));
  }

  /** Ends the shared event stream and closes keep-alive connections. */
  async close(): Promise<void> {
    this.events.close();
    await this.closeEngine();
  }

  private async closeEngine(): Promise<void> {
    const e = this.engine;
    this.engine = undefined;
    if (e) (await e.catch(() => undefined))?.close();
  }

  /** The CLI binary's path on PATH, without spawning it; undefined when missing. */
  findBinary(): string | undefined {
    const bin = this.binary;
    const env = { ...process.env, ...this.settings.env };
    const candidates = bin.includes('/')
      ? [bin]
      : (env.PATH ?? '')
          .split(path.delimiter)
          .filter(Boolean)
          .map((d) => path.join(d, bin));
    for (const c of candidates) {
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        // next
      }
    }
    return undefined;
  }
}
