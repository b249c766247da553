/**
 * The engine over its HTTP API (docker Engine API; podman's docker-compatible API): no process per
 * call. `cp` and the `extraCreateArgs` escape hatch go through the CLI engine.
 */

import { Readable } from 'node:stream';
import { TimeoutError } from '@vms/core';
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
import { OCI_START_FAILURE, startFailureExitCode } from './exec-start.js';
import { type ApiClient, abortReason, EngineApiError, StreamDemuxer } from './http.js';
import { parseImage, parseInspect, parseSummary } from './parse.js';
import { layerEventOf, lineSplitter, type PullMessage, pullErrorOf } from './pull.js';
import { type ImageReference, pullParams, registryOf } from './reference.js';
import { encodeRegistryAuth, type FoundAuth } from './registry-auth.js';

const enc = encodeURIComponent;

function labelFilter(labels: Record<string, string>): string | undefined {
  const list = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return list.length ? JSON.stringify({ label: list }) : undefined;
}

export class ApiEngine implements Engine {
  readonly transport = 'api' as const;
  constructor(
    private readonly client: ApiClient,
    /** For what the API path hands to the CLI (cp, extraCreateArgs). */
    private readonly cli: Engine,
    /** Registry credentials for a pull (the CLI transport's CLI reads its own). */
    private readonly auth: (ref: ImageReference, ctx: Ctx) => Promise<FoundAuth | undefined> = () =>
      Promise.resolve(undefined),
  ) {}

  close(): void {
    this.client.close();
    this.cli.close();
  }

  async version(ctx: Ctx): Promise<EngineVersion> {
    const v = await this.client.json<{ Version?: string; ApiVersion?: string }>(
      'GET',
      '/version',
      ctx,
    );
    return {
      version: v.Version ?? 'unknown',
      ...(v.ApiVersion ? { apiVersion: v.ApiVersion } : {}),
    };
  }

  async inspect(name: string, ctx: Ctx): Promise<ContainerInfo | undefined> {
    try {
      return parseInspect(await this.client.json('GET', `/containers/${enc(name)}/json`, ctx));
    } catch (error) {
      if (error instanceof EngineApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(labels: Record<string, string>, ctx: Ctx): Promise<ContainerInfo[]> {
    const raw = await this.client.json<unknown[]>('GET', '/containers/json', {
      ...ctx,
      query: { all: 1, filters: labelFilter(labels) },
    });
    return (raw ?? []).map(parseSummary);
  }

  async create(spec: CreateSpec, ctx: Ctx): Promise<void> {
    if (spec.extraArgs.length) return this.cli.create(spec, ctx);
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const key = `${p.guestPort}/${p.protocol}`;
      exposed[key] = {};
      const list = bindings[key] ?? [];
      bindings[key] = list;
      list.push({
        HostIp: p.hostIp,
        HostPort: p.hostPort ? String(p.hostPort) : '',
      });
    }
    const body = {
      Image: spec.image,
      ...(spec.command.length ? { Cmd: spec.command } : {}),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
      ExposedPorts: exposed,
      HostConfig: {
        Init: spec.init,
        PortBindings: bindings,
        Binds: spec.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
        ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
        ...(spec.memoryMiB ? { Memory: spec.memoryMiB * 1024 * 1024 } : {}),
        ...(spec.network ? { NetworkMode: spec.network } : {}),
      },
    };
    await this.client.call('POST', '/containers/create', {
      ...ctx,
      body,
      query: { name: spec.name },
    });
  }

  async start(name: string, ctx: Ctx): Promise<void> {
    await this.client.call('POST', `/containers/${enc(name)}/start`, ctx);
  }

  async kill(name: string, signal: string, ctx: Ctx): Promise<void> {
    await this.client.call('POST', `/containers/${enc(name)}/kill`, { ...ctx, query: { signal } });
  }

  async wait(name: string, ctx: Ctx): Promise<number | undefined> {
    const r = await this.client.json<{ StatusCode?: number }>(
      'POST',
      `/containers/${enc(name)}/wait`,
      {
        ...ctx,
        query: { condition: 'not-running' },
      },
    );
    return r?.StatusCode;
  }

  async pause(name: string, ctx: Ctx): Promise<void> {
    await this.client.call('POST', `/containers/${enc(name)}/pause`, ctx);
  }

  async unpause(name: string, ctx: Ctx): Promise<void> {
    await this.client.call('POST', `/containers/${enc(name)}/unpause`, ctx);
  }

  async remove(name: string, ctx: Ctx): Promise<boolean> {
    try {
      await this.client.call('DELETE', `/containers/${enc(name)}`, {
        ...ctx,
        query: { force: 1, v: 1 },
      });
      return true;
    } catch (error) {
      if (error instanceof EngineApiError && error.status === 404) return false;
      throw error;
    }
  }

  async exec(name: string, spec: ExecSpec, ctx: Ctx): Promise<number> {
    const hasStdin = spec.stdin !== undefined;
    const created = await this.client.json<{ Id: string }>(
      'POST',
      `/containers/${enc(name)}/exec`,
      {
        ...ctx,
        body: {
          AttachStdin: hasStdin,
          AttachStdout: true,
          AttachStderr: true,
          Tty: spec.tty,
          Cmd: spec.argv,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          ...(spec.cwd ? { WorkingDir: spec.cwd } : {}),
          ...(spec.user ? { User: spec.user } : {}),
        },
      },
    );
    const { socket, head } = await this.client.hijack(`/exec/${created.Id}/start`, {
      ...ctx,
      body: { Detach: false, Tty: spec.tty },
    });
    // A command that cannot start yields one stdout frame with the runtime's message and no
    // output of its own: that frame goes to stderr and decides the exit code.
    let startFailure: string | undefined;
    let first = true;
    const demux = new StreamDemuxer((chunk, stream) => {
      if (first && stream === 'stdout' && OCI_START_FAILURE.test(chunk.toString('utf8'))) {
        startFailure = chunk.toString('utf8');
        spec.onStderr(chunk);
      } else if (stream === 'stderr') spec.onStderr(chunk);
      else spec.onStdout(chunk);
      first = false;
    });
    const onData = (data: Buffer) => (spec.tty ? spec.onStdout(data) : demux.push(data));
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        socket.destroy();
        reject(abortReason(ctx.signal));
      };
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () => {
          socket.destroy();
          reject(new TimeoutError('exec reached its deadline'));
        },
        Math.max(0, ctx.deadline - Date.now()),
      );
      timer.unref();
      const done = (err?: Error) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        err ? reject(err) : resolve();
      };
      if (head.length) onData(head);
      socket.on('data', onData);
      socket.once('end', () => done());
      socket.once('close', () => done());
      socket.once('error', (err) => done(err));
      if (hasStdin) {
        const input =
          typeof spec.stdin === 'string' || spec.stdin instanceof Uint8Array
            ? Readable.from([Buffer.from(spec.stdin as string | Uint8Array)])
            : (spec.stdin as NodeJS.ReadableStream);
        input.on('error', (err: Error) => done(err));
        input.pipe(socket, { end: true });
      }
    });
    const info = await this.client.json<{ ExitCode?: number | null; Running?: boolean }>(
      'GET',
      `/exec/${created.Id}/json`,
      ctx,
    );
    const exitCode = info.ExitCode ?? -1;
    return startFailure === undefined ? exitCode : startFailureExitCode(startFailure, exitCode);
  }

  async logs(
    name: string,
    opts: { follow: boolean; tail?: number },
    onData: (chunk: Buffer, stream: 'stdout' | 'stderr') => void,
    ctx: Ctx,
  ): Promise<void> {
    const info = await this.client.json<{ Config?: { Tty?: boolean } }>(
      'GET',
      `/containers/${enc(name)}/json`,
      ctx,
    );
    const res = await this.client.stream('GET', `/containers/${enc(name)}/logs`, {
      ...ctx,
      query: {
        stdout: 1,
        stderr: 1,
        follow: opts.follow ? 1 : 0,
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      },
    });
    const demux = new StreamDemuxer(onData);
    const tty = info.Config?.Tty === true;
    try {
      for await (const chunk of res)
        tty ? onData(chunk as Buffer, 'stdout') : demux.push(chunk as Buffer);
    } catch (error) {
      if (ctx.signal.aborted) return;
      throw error;
    }
  }

  async commit(name: string, ref: string, labels: Record<string, string>, ctx: Ctx): Promise<void> {
    const [repo, tag] = splitRef(ref);
    await this.client.call('POST', '/commit', {
      ...ctx,
      // Labels both as config (docker) and as LABEL changes (podman's compat API reads only these).
      query: {
        container: name,
        repo,
        tag,
        pause: 1,
        changes: Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
      },
      body: { Labels: labels },
    });
  }

  async images(labels: Record<string, string>, ctx: Ctx): Promise<ImageInfo[]> {
    const raw = await this.client.json<unknown[]>('GET', '/images/json', {
      ...ctx,
      query: { filters: labelFilter(labels) },
    });
    return (raw ?? []).map(parseImage);
  }

  async imageExists(ref: string, ctx: Ctx): Promise<boolean> {
    try {
      await this.client.call('GET', `/images/${enc(ref)}/json`, ctx);
      return true;
    } catch (error) {
      if (error instanceof EngineApiError && error.status === 404) return false;
      throw error;
    }
  }

  async pull(ref: ImageReference, spec: PullSpec, ctx: Ctx): Promise<void> {
    const found = await this.auth(ref, ctx);
    spec.debug?.('pull', {
      image: ref.raw,
      registry: registryOf(ref),
      credentials: found ? found.source : 'none (anonymous)',
    });
    const path = '/images/create';
    const res = await this.client.stream('POST', path, {
      ...ctx,
      query: pullParams(ref),
      ...(found ? { headers: { 'X-Registry-Auth': encodeRegistryAuth(found.auth) } } : {}),
    });
    // Errors after the stream began arrive as a message (docker) or as the last one (podman 4).
    let failure: string | undefined;
    const lines = lineSplitter((line) => {
      let message: PullMessage;
      try {
        message = JSON.parse(line) as PullMessage;
      } catch {
        return;
      }
      const error = pullErrorOf(message);
      if (error) failure = error;
      const event = layerEventOf(message);
      if (event) spec.onLayer(event);
    });
    for await (const chunk of res) lines.push(chunk as Buffer);
    lines.flush();
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    if (failure !== undefined) throw new EngineApiError(res.statusCode ?? 200, failure, path);
  }

  async removeImage(ref: string, ctx: Ctx): Promise<boolean> {
    try {
      await this.client.call('DELETE', `/images/${enc(ref)}`, { ...ctx, query: { force: 1 } });
      return true;
    } catch (error) {
      if (error instanceof EngineApiError && error.status === 404) return false;
      throw error;
    }
  }

  events(
    filter: EventFilter,
    onEvent: (event: EngineEvent) => void,
    signal: AbortSignal,
    onEnd?: (error?: Error) => void,
  ): void {
    const filters = JSON.stringify(eventFilters(filter));
    this.client
      .stream('GET', '/events', { signal, deadline: Number.MAX_SAFE_INTEGER, query: { filters } })
      .then(async (res) => {
        res.socket?.unref();
        const lines = eventLines(onEvent);
        for await (const chunk of res) lines.push(chunk as Buffer);
        lines.flush();
        if (!signal.aborted) onEnd?.();
      })
      .catch((error: unknown) => {
        // Aborted by unsubscribe, or the engine went away: the next op reconciles.
        if (!signal.aborted) onEnd?.(error instanceof Error ? error : new Error(String(error)));
      });
  }

  copyIn(name: string, hostPath: string, guestPath: string, ctx: Ctx): Promise<void> {
    return this.cli.copyIn(name, hostPath, guestPath, ctx);
  }

  copyOut(name: string, guestPath: string, hostPath: string, ctx: Ctx): Promise<void> {
    return this.cli.copyOut(name, guestPath, hostPath, ctx);
  }
}

/** "repo/name:tag" → ["repo/name", "tag"] (a port in the registry host is not a tag). */
export function splitRef(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}
