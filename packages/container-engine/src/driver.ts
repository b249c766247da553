/**
 * The DriverV1 of one container, over either transport. Core's Instance runtime owns the state
 * machine, locks and rollback; this file only does each verb against the engine.
 */
import {
  type CapabilityNarrowing,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type ExecIo,
  InvalidOptionsError,
  type LogsRequest,
  NotFoundError,
  type Observation,
  type OpContext,
  OperationFailedError,
  type Properties,
  randomHex,
  type SnapshotInfo,
  type StopRequest,
  uniqueToken,
  validateInstanceName,
} from '@vms/core';
import type { Connection } from './connection.js';
import { mapState } from './dialect.js';
import type { ContainerInfo, CreateSpec, Ctx, Engine } from './engine.js';
import {
  engineText,
  INIT_MISSING,
  isNoSuchImage,
  isNotRunning,
  mapEngineError,
  mapPullError,
} from './errors.js';
import { killExecInside } from './exec-kill.js';
import {
  LABEL_CREATE_ID,
  LABEL_CREATED,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_SNAPSHOT,
  LABEL_SNAPSHOT_OF,
  ownerLabel,
} from './labels.js';
import { type ContainerOptions, DEFAULT_COMMAND } from './options.js';
import { PullTracker } from './pull.js';
import { checkReference, type ImageReference } from './reference.js';

const SNAPSHOT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SNAPSHOT_REPO = 'vms-snapshot/';
/** How long what doInspect saw may stand in for a fresh inspect at the start of the next op. */
const SEEN_FRESH_MS = 1_000;

export class ContainerDriver implements DriverV1 {
  /**
   * What this driver's last doInspect saw. Core reconciles (doInspect) under the instance's lock
   * right before every mutating op, so stop and delete start from that observation instead of
   * asking the engine a second time. Taken once; any other engine call forgets it.
   */
  private seen: { info: ContainerInfo | undefined; at: number } | undefined;
  /** Mutating calls in flight: their own events are theirs to reconcile, not the watch's. */
  private busy = 0;

  /**
   * `options` is undefined for a container @vms did not create (or whose record is gone): it can
   * be started, stopped, exec'd into and deleted; not created or restored from a snapshot.
   */
  constructor(
    private readonly conn: Connection,
    readonly name: string,
    private readonly options: ContainerOptions | undefined,
  ) {}

  capabilities(): CapabilityNarrowing {
    return this.options
      ? {}
      : { snapshot: 'the options of a container @vms did not create are unknown' };
  }

  private async call<T>(op: string, ctx: Ctx, fn: (engine: Engine) => Promise<T>): Promise<T> {
    this.seen = undefined;
    try {
      return await this.conn.use(ctx, fn);
    } catch (error) {
      throw mapEngineError(error, {
        dialect: this.conn.dialect,
        name: this.name,
        op,
        endpoint: this.conn.endpoint().host,
        ...(this.options ? { image: this.options.image } : {}),
      });
    }
  }

  /** What the op's reconcile saw a moment ago (once), or undefined when it is not fresh. */
  private takeSeen(): { info: ContainerInfo | undefined } | undefined {
    const seen = this.seen;
    this.seen = undefined;
    return seen && Date.now() - seen.at < SEEN_FRESH_MS ? seen : undefined;
  }

  /** Runs a mutating call, during which the watch leaves the container's events to it. */
  private async mutating<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
    }
  }

  /** The creation options; an attached container's are unknown (core never creates it). */
  private created(): ContainerOptions {
    if (this.options) return this.options;
    throw new InvalidOptionsError([{ path: '(options)', message: 'unknown for this container' }], {
      hint: `the options of ${this.name} are unknown (@vms did not create it): create it anew with options`,
    });
  }

  createSpec(image?: string): CreateSpec {
    const o = this.created();
    return {
      name: this.name,
      image: image ?? o.image,
      command: o.command ?? [...DEFAULT_COMMAND],
      env: o.env,
      labels: {
        ...o.labels,
        [LABEL_MANAGED]: 'true',
        [LABEL_OWNER]: ownerLabel(),
        [LABEL_CREATED]: new Date().toISOString(),
        [LABEL_CREATE_ID]: randomHex(8),
      },
      ports: o.ports.map((p) => ({
        hostIp: p.hostIp,
        hostPort: p.host ?? 0,
        guestPort: p.guest,
        protocol: p.protocol,
      })),
      mounts: o.mounts,
      ...(o.cpus ? { cpus: o.cpus } : {}),
      ...(o.memoryMiB ? { memoryMiB: o.memoryMiB } : {}),
      ...(o.user ? { user: o.user } : {}),
      ...(o.workdir ? { workdir: o.workdir } : {}),
      ...(o.network ? { network: o.network } : {}),
      init: o.init,
      extraArgs: o.extraCreateArgs,
    };
  }

  async doCreate(ctx: OpContext): Promise<void> {
    validateInstanceName(this.name);
    const o = this.created();
    const ref = checkReference(o.image);
    await this.mutating(async () => {
      // pull 'missing': create straight away; only the engine's "no such image" pulls first.
      if (o.pull === 'missing' && (await this.createFrom(this.createSpec(), ctx, true))) return;
      await this.call('create', ctx, (engine) => this.ensureImage(engine, ref, o.pull, ctx));
      await this.createFrom(this.createSpec(), ctx);
    });
  }

  /** Applies the pull policy: pulls when asked to (`always`) or when the engine lacks the image. */
  private async ensureImage(
    engine: Engine,
    ref: ImageReference,
    policy: ContainerOptions['pull'],
    ctx: OpContext,
  ): Promise<void> {
    if (policy === 'never') return;
    if (policy === 'missing' && (await engine.imageExists(ref.raw, ctx))) {
      ctx.debug('image present: not pulling', { image: ref.raw });
      return;
    }
    const tracker = new PullTracker(ref.raw, ctx.progress);
    tracker.begin();
    try {
      await engine.pull(ref, { onLayer: (e) => tracker.push(e), debug: ctx.debug }, ctx);
    } catch (error) {
      throw mapPullError(error, {
        dialect: this.conn.dialect,
        ref,
        instance: `${this.conn.dialect.name}:${this.name}`,
      });
    }
    tracker.end();
  }

  /**
   * Creates from `spec`; on failure removes what this call made (matched by its create id).
   * `unlessImageMissing`: resolves false, having made nothing, when the API engine lacks the image
   * (the CLI would pull it by itself, without our progress and errors: there, false at once).
   */
  private async createFrom(
    spec: CreateSpec,
    ctx: OpContext,
    unlessImageMissing = false,
  ): Promise<boolean> {
    return this.call('create', ctx, async (engine) => {
      if (unlessImageMissing && (engine.transport !== 'api' || spec.extraArgs.length)) return false;
      try {
        ctx.debug('create', { transport: engine.transport, image: spec.image });
        await engine.create(spec, ctx);
        return true;
      } catch (error) {
        if (unlessImageMissing && isNoSuchImage(error)) {
          ctx.debug('the engine lacks the image', { image: spec.image });
          return false;
        }
        if (spec.init && INIT_MISSING.test(engineText(error))) {
          ctx.debug('the engine has no init binary: creating without --init');
          await this.removeIfOurs(engine, spec, ctx);
          await engine.create({ ...spec, init: false }, ctx);
          return true;
        }
        await this.removeIfOurs(engine, spec, ctx);
        throw error;
      }
    });
  }

  private async removeIfOurs(engine: Engine, spec: CreateSpec, ctx: Ctx): Promise<void> {
    const cleanup = { signal: AbortSignal.timeout(30_000), deadline: Date.now() + 30_000 };
    try {
      const info = await engine.inspect(spec.name, cleanup);
      if (info && info.labels[LABEL_CREATE_ID] === spec.labels[LABEL_CREATE_ID]) {
        await engine.remove(spec.name, cleanup);
      }
    } catch {
      // Best effort: the original error is what the caller needs.
    }
    void ctx;
  }

  async doStart(ctx: OpContext): Promise<void> {
    await this.mutating(() => this.start(ctx));
  }

  private async start(ctx: OpContext): Promise<void> {
    await this.call('start', ctx, async (engine) => {
      await engine.start(this.name, ctx);
      // `start` returns once the engine has started the process; confirm it is still running.
      const info = await engine.inspect(this.name, ctx);
      if (!info) throw new NotFoundError(`container ${this.name} disappeared while starting`);
      const state = mapState(this.conn.dialect, info.status);
      if (state !== 'running') {
        let tail = '';
        await engine
          .logs(
            this.name,
            { follow: false, tail: 20 },
            (c) => {
              tail += c.toString('utf8');
            },
            ctx,
          )
          .catch(() => undefined);
        throw new OperationFailedError(
          `container ${this.name} exited right after start${info.exitCode !== undefined ? ` with code ${info.exitCode}` : ''}${info.error ? `: ${info.error}` : ''}`,
          {
            hint: tail.trim()
              ? `last output: ${tail.trim().split('\n').slice(-5).join(' | ')}`
              : 'check the image command; the default keeps the container alive',
          },
        );
      }
    });
  }

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    const seen = this.takeSeen();
    return this.mutating(() =>
      this.call('stop', req, async (engine) => {
        const before = seen ? seen.info : await engine.inspect(this.name, req);
        if (!before) throw new NotFoundError(`container ${this.name} does not exist`);
        const state = mapState(this.conn.dialect, before.status);
        if (state !== 'running' && state !== 'suspended') {
          return { how: 'already-stopped', ...exitOf(before.exitCode, before.error) };
        }
        if (before.status === 'paused') await ignoreNotRunning(engine.unpause(this.name, req));
        let how: DriverStopOutcome['how'] = 'forced';
        // The exit code, from the engine's wait (or the inspect that found it stopped).
        let exit: { code: number | undefined; error?: string } | undefined;
        if (!req.force && req.timeoutMs > 0) {
          await ignoreNotRunning(engine.kill(this.name, before.stopSignal ?? 'SIGTERM', req));
          // Engine-side wait (no polling), bounded by the graceful timeout in ms.
          const graceDeadline = Math.min(req.deadline, Date.now() + req.timeoutMs);
          const grace = AbortSignal.any([
            req.signal,
            AbortSignal.timeout(Math.max(1, graceDeadline - Date.now())),
          ]);
          exit = await engine
            .wait(this.name, { signal: grace, deadline: graceDeadline })
            .then((code) => ({ code }))
            .catch((error) => {
              if (req.signal.aborted) throw error;
              return undefined;
            });
          if (!exit) {
            // The engine's wait may lag (podman polls): ask reality before forcing.
            const now = await engine.inspect(this.name, req);
            if (!now || !['running', 'suspended'].includes(mapState(this.conn.dialect, now.status)))
              exit = { code: now?.exitCode, ...(now?.error ? { error: now.error } : {}) };
          }
          if (exit) how = 'graceful';
        }
        if (how === 'forced') {
          await ignoreNotRunning(engine.kill(this.name, 'SIGKILL', req));
          exit = { code: await engine.wait(this.name, req) };
        }
        if (exit?.code !== undefined) return { how, ...exitOf(exit.code, exit.error) };
        const after = await engine.inspect(this.name, req);
        return { how, ...(after ? exitOf(after.exitCode, after.error) : {}) };
      }),
    );
  }

  async doSuspend(ctx: OpContext): Promise<void> {
    await this.mutating(() => this.call('suspend', ctx, (engine) => engine.pause(this.name, ctx)));
  }

  async doResume(ctx: OpContext): Promise<void> {
    await this.mutating(() => this.call('resume', ctx, (engine) => engine.unpause(this.name, ctx)));
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    const seen = this.takeSeen();
    return this.mutating(() =>
      this.call('delete', ctx, async (engine) => {
        const existed = await engine.remove(this.name, ctx);
        // Snapshot images untagged while this container used them are garbage now. Only a
        // container made from a snapshot (a restore) can have used one: the image of any other
        // container needs no search (a container not seen, or of unknown image, does).
        const image = seen?.info?.image;
        if (image && !shortRef(image).startsWith(SNAPSHOT_REPO)) return { existed };
        const images = await engine.images({ [LABEL_SNAPSHOT_OF]: this.name }, ctx);
        for (const found of images.filter(
          (i) => i.tags.length === 0 || i.tags.every((t) => t.includes('<none>')),
        )) {
          await engine.removeImage(found.id, ctx).catch(() => false);
        }
        return { existed };
      }),
    );
  }

  async doInspect(ctx: OpContext): Promise<Observation> {
    return this.call('inspect', ctx, async (engine) => {
      const info = await engine.inspect(this.name, ctx);
      this.seen = { info, at: Date.now() };
      if (!info) return { state: 'absent' };
      return observe(this.conn.dialect, info);
    });
  }

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    if (!argv.length)
      throw new InvalidOptionsError([{ path: 'argv', message: 'must not be empty' }]);
    const marker = uniqueToken();
    return this.call('exec', ctx, async (engine) => {
      try {
        const exitCode = await engine.exec(
          this.name,
          {
            argv,
            env: { ...io.env, VMS_EXEC_ID: marker },
            ...(io.cwd ? { cwd: io.cwd } : {}),
            ...(io.user ? { user: io.user } : {}),
            tty: io.tty ?? false,
            ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
            onStdout: io.onStdout,
            onStderr: io.onStderr,
          },
          ctx,
        );
        return { exitCode };
      } catch (error) {
        // The engine has no exec-kill call: end the process inside the container too.
        if (ctx.signal.aborted || Date.now() >= ctx.deadline || isTimeoutLike(error)) {
          await killExecInside(engine, this.name, marker, ctx.debug);
        }
        throw error;
      }
    });
  }

  async doLogs(req: LogsRequest): Promise<void> {
    await this.call('logs', req, (engine) =>
      engine.logs(
        this.name,
        { follow: req.follow, ...(req.tail !== undefined ? { tail: req.tail } : {}) },
        req.onData,
        req,
      ),
    );
  }

  private snapshotRef(snapshot: string): string {
    if (!SNAPSHOT_NAME.test(snapshot)) {
      throw new InvalidOptionsError([
        {
          path: 'snapshot',
          message: `${JSON.stringify(snapshot)} is not a valid snapshot name (an image tag)`,
        },
      ]);
    }
    return `${SNAPSHOT_REPO}${this.name.toLowerCase()}:${snapshot}`;
  }

  async doSnapshotCreate(snapshot: string, ctx: OpContext): Promise<void> {
    const ref = this.snapshotRef(snapshot);
    await this.call('snapshot', ctx, (engine) =>
      engine.commit(
        this.name,
        ref,
        { [LABEL_SNAPSHOT_OF]: this.name, [LABEL_SNAPSHOT]: snapshot, [LABEL_MANAGED]: 'true' },
        ctx,
      ),
    );
  }

  async doSnapshotList(ctx: OpContext): Promise<SnapshotInfo[]> {
    return this.call('snapshot', ctx, async (engine) => {
      const images = await engine.images({ [LABEL_SNAPSHOT_OF]: this.name }, ctx);
      // An image whose tag was removed lingers while a container still uses it: not a snapshot.
      const prefix = this.snapshotRef('x').slice(0, -1);
      return images
        .filter((i) => i.tags.some((t) => shortRef(t).startsWith(prefix)))
        .map((i) => ({
          name: i.labels[LABEL_SNAPSHOT] ?? i.tags[0] ?? i.id,
          ...(i.createdAt ? { createdAt: i.createdAt } : {}),
          ...(i.sizeBytes !== undefined ? { sizeBytes: i.sizeBytes } : {}),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async doSnapshotDelete(snapshot: string, ctx: OpContext): Promise<void> {
    const ref = this.snapshotRef(snapshot);
    await this.call('snapshot', ctx, async (engine) => {
      if (!(await engine.removeImage(ref, ctx)))
        throw new NotFoundError(`snapshot ${snapshot} of ${this.name} does not exist`);
    });
  }

  /**
   * Restore recreates the container from the committed image (same options, same name): the
   * filesystem comes back; processes restart (a container snapshot holds no memory). A running
   * container is started again.
   */
  async doSnapshotRestore(snapshot: string, ctx: OpContext): Promise<void> {
    await this.mutating(() => this.restore(snapshot, ctx));
  }

  private async restore(snapshot: string, ctx: OpContext): Promise<void> {
    const ref = this.snapshotRef(snapshot);
    const wasRunning = await this.call('snapshot', ctx, async (engine) => {
      const images = await engine.images({ [LABEL_SNAPSHOT_OF]: this.name }, ctx);
      if (!images.some((i) => i.tags.some((t) => shortRef(t) === ref)))
        throw new NotFoundError(`snapshot ${snapshot} of ${this.name} does not exist`);
      const info = await engine.inspect(this.name, ctx);
      await engine.remove(this.name, ctx);
      return info ? mapState(this.conn.dialect, info.status) !== 'stopped' : false;
    });
    await this.createFrom(this.createSpec(ref), ctx);
    if (wasRunning) await this.start(ctx);
  }

  /**
   * Tells core when the container changes behind its back (dies, is paused or removed): the
   * engine's event stream (one per connection, shared) for this container, each event confirmed
   * with an inspect — one at a time, the last after the last event. Events while a mutating call
   * of this driver runs are not confirmed: core ignores what the watch says during an op, which
   * reconciles itself.
   */
  watch(onChange: (observation: Observation) => void): () => void {
    let closed = false;
    let confirming = false;
    let again = false;
    const confirm = (): void => {
      if (confirming) {
        again = true;
        return;
      }
      confirming = true;
      const ctx = { signal: AbortSignal.timeout(30_000), deadline: Date.now() + 30_000 };
      this.conn
        .get(ctx, { start: false })
        .then((engine) => engine.inspect(this.name, ctx))
        .then((info) => {
          if (!closed) onChange(info ? observe(this.conn.dialect, info) : { state: 'absent' });
        })
        .catch(() => undefined)
        .finally(() => {
          confirming = false;
          if (again && !closed) {
            again = false;
            confirm();
          }
        });
    };
    const unwatch = this.conn.events.watch(this.name, () => {
      if (!closed && this.busy === 0) confirm();
    });
    return () => {
      closed = true;
      unwatch();
    };
  }

  async doCopyIn(hostPath: string, guestPath: string, ctx: OpContext): Promise<void> {
    await this.call('copy', ctx, (engine) => engine.copyIn(this.name, hostPath, guestPath, ctx));
  }

  async doCopyOut(guestPath: string, hostPath: string, ctx: OpContext): Promise<void> {
    await this.call('copy', ctx, (engine) => engine.copyOut(this.name, guestPath, hostPath, ctx));
  }
}

/** Drops the registry podman adds to local names (localhost/, docker.io/ through its compat API). */
function shortRef(tag: string): string {
  return tag.replace(/^(localhost|docker\.io)\//, '');
}

function exitOf(
  exitCode: number | undefined,
  error: string | undefined,
): Pick<DriverStopOutcome, 'guestExit'> {
  if (exitCode === undefined) return {};
  return {
    guestExit: {
      exitCode,
      ...(exitCode > 128 ? { signal: signalName(exitCode - 128) } : {}),
      ...(error ? { message: error } : {}),
    },
  };
}

function signalName(n: number): string {
  return (
    { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' }[n] ??
    `signal ${n}`
  );
}

async function ignoreNotRunning(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (!isNotRunning(error)) throw error;
  }
}

function isTimeoutLike(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === 'TIMEOUT' || code === 'ABORTED';
}

/** Maps an engine's view of a container to core's Observation. */
export function observe(dialect: Connection['dialect'], info: ContainerInfo): Observation {
  const state = mapState(dialect, info.status);
  const properties: Properties = {
    ips: info.ips,
    ports: info.ports,
    labels: info.labels,
    extra: { id: info.id, status: info.status },
  };
  if (info.ips[0]) properties.ip = info.ips[0];
  if (info.image) properties.image = info.image;
  if (info.createdAt) properties.createdAt = info.createdAt;
  if (info.cpus) properties.cpus = info.cpus;
  if (info.memoryMiB) properties.memoryMiB = info.memoryMiB;
  // A stopped container's last exit is a property, not a reason: the state is simply stopped.
  if (
    state === 'stopped' &&
    info.exitCode !== undefined &&
    info.status !== 'created' &&
    info.status !== 'configured'
  ) {
    properties.extra = {
      ...properties.extra,
      exitCode: info.exitCode,
      ...(info.oomKilled ? { oomKilled: true } : {}),
    };
  }
  const obs: Observation = { state, properties };
  if (state === 'broken') {
    obs.reason = `engine reports status ${info.status}${info.error ? `: ${info.error}` : ''}`;
  }
  return obs;
}
