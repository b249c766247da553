/**
 * The Instance runtime: what users hold. It wraps a backend's Driver and implements, once for
 * every backend, the state table, per-instance serialisation, the cross-process lock, deadlines
 * and abort, rollback of half-done work, error wrapping and typed events.
 */
import { join } from 'node:path';
import type * as z4 from 'zod/v4/core';
import {
  assertDriverMatchesCapabilities,
  checkOptionCapabilities,
  type EffectiveCapabilities,
  effectiveCapabilities,
  requireCapability,
} from './capabilities.js';
import {
  AlreadyExistsError,
  CapabilityUnsupportedError,
  InvalidOptionsError,
  InvalidTransitionError,
  NotFoundError,
  OperationFailedError,
  toVmsError,
  VmsError,
} from './errors.js';
import { type InstanceEvents, type ProgressDetail, TypedEmitter } from './events.js';
import { acquireLock, type LockHandle } from './lock.js';
import { parseInstanceOptions, parseRecordedOptions, validateInstanceName } from './options.js';
import type { ReadinessStrategy, ReadinessTarget } from './readiness.js';
import { readInstanceRecord, removeInstanceRecord, writeInstanceRecord } from './records.js';
import type {
  BackendV1,
  Capabilities,
  Capability,
  DriverV1,
  EngineEndpoint,
  EngineRequest,
  GuestExit,
  Observation,
  OpContext,
  OpName,
  Properties,
  SnapshotInfo,
} from './spec/v1.js';
import { type Action, type InstanceState, type StateName, transition } from './states.js';
import { vmsHome } from './store.js';
import { abortReasonToError, type DeadlineSignal, deadlineSignal } from './wait.js';

/** Default deadlines per operation, in ms. Backends may override; callers override per call. */
export const DEFAULT_TIMEOUTS: Readonly<Record<OpName, number>> = {
  create: 300_000,
  start: 300_000,
  stop: 120_000,
  suspend: 60_000,
  resume: 60_000,
  delete: 120_000,
  refresh: 30_000,
  exec: 3_600_000,
  inspect: 30_000,
  logs: 3_600_000,
  snapshot: 300_000,
  copy: 600_000,
  engine: 60_000,
};

/** How long a driver gets to settle after its signal aborted before core stops waiting for it. */
const SETTLE_GRACE_MS = 2_000;
/** Deadline of the clean-up work after a failure (rollback, observe), not tied to the caller's signal. */
const RECOVERY_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_GRACE_MS = 10_000;
const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

export interface InstanceSettings {
  /** Per-op deadlines in ms, over the backend's and core's defaults. */
  timeouts?: Partial<Record<OpName, number>>;
  /** Root of the runtime's own files: locks and instance records (default `vmsHome()`). */
  home?: string;
  /** Directory of the cross-process locks (default `<home>/locks`). */
  lockDir?: string;
  /**
   * How long a mutating op waits for another process's lock. Default (and cap): the op's own
   * deadline, which covers waiting for the lock, reconciling and the work itself.
   */
  lockTimeoutMs?: number;
  /** Readiness strategies that must pass before `start()` returns (after the driver's own). */
  readiness?: ReadinessStrategy | ReadinessStrategy[];
  /** Check reality with doInspect before each mutating op (default true). */
  reconcile?: boolean;
  /**
   * Follow changes made behind the runtime's back while the instance runs (the driver's `watch`,
   * e.g. an engine event stream), emitting `drift` (default true). One-shot callers that do a
   * single op and exit (the `vms` command) turn it off: the next op reconciles anyway.
   */
  watch?: boolean;
  /** Debug log sink (commands, protocol messages). Default: stderr when VMS_DEBUG=1. */
  debug?: (message: string, data?: Record<string, unknown>) => void;
}

export interface OpOptions {
  signal?: AbortSignal;
  /** Deadline of the whole op: waiting for the lock, reconciling and the work (default per op). */
  timeoutMs?: number;
  /** Receives the current step of a long operation. */
  onProgress?: (step: string, elapsedMs: number, detail?: ProgressDetail) => void;
}

export interface StopOptions extends OpOptions {
  /** How long the guest may take to shut down before it is forced (default 10 s). */
  graceMs?: number;
  /** Skip the graceful phase. */
  force?: boolean;
}

export interface StopResult {
  /** How the instance came to be stopped. */
  how: 'graceful' | 'forced' | 'already-stopped';
  /** How the guest process ended, when the backend knows (the seeds' `runErr`). */
  guestExit?: GuestExit;
  /** The graceful attempt's error when it failed and a forced stop then worked (the seeds' `stopErr`). */
  gracefulError?: VmsError;
}

export interface DeleteResult {
  /** False when there was nothing to delete. */
  existed: boolean;
}

export interface RefreshResult {
  state: InstanceState;
  properties: Properties;
  /** Set when reality differed from what the runtime believed. */
  drift?: { expected: InstanceState; observed: InstanceState };
}

export interface ExecOptions extends OpOptions {
  /** Bytes for the command's stdin, then end-of-file (default: empty stdin). */
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  /** Extra environment for this command (names: letters, digits, `_`, not starting with a digit). */
  env?: Record<string, string>;
  /** Absolute working directory in the guest. */
  cwd?: string;
  /** User (name or uid) to run as. */
  user?: string;
  /** Allocate a terminal. */
  tty?: boolean;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Bytes of each stream kept in the result (default 16 MiB); streaming callbacks get everything. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when output beyond maxOutputBytes was dropped from the result. */
  truncated: boolean;
  durationMs: number;
}

export interface EngineEndpointOptions extends OpOptions {
  /**
   * Start a stopped instance (resume a suspended one) before asking for its engine (default
   * true). With `false` a stopped instance is INVALID_TRANSITION with a hint to start it.
   */
  start?: boolean;
}

export interface LogsOptions extends OpOptions {
  follow?: boolean;
  tail?: number;
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

/** Serialises the ops of one instance within this process, across Instance objects. */
const queues = new Map<string, Promise<unknown>>();

function enqueue<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

function now(): string {
  return new Date().toISOString();
}

function envDebug(message: string, data?: Record<string, unknown>): void {
  if (process.env.VMS_DEBUG === '1' || process.env.VMS_DEBUG === 'true') {
    process.stderr.write(`[vms] ${message}${data ? ` ${JSON.stringify(data)}` : ''}\n`);
  }
}

/** Maps what a driver observed to a runtime state; `absent` depends on what came before. */
export function stateFromObservation(observation: Observation, before: StateName): InstanceState {
  const reason = observation.reason;
  switch (observation.state) {
    case 'absent':
      return { name: before === 'initial' || before === 'creating' ? 'initial' : 'deleted' };
    case 'broken':
      return { name: 'broken', reason: reason ?? 'the backend reports the instance as broken' };
    default:
      return reason ? { name: observation.state, reason } : { name: observation.state };
  }
}

function sameState(a: InstanceState, b: InstanceState): boolean {
  return a.name === b.name;
}

type Deadline = DeadlineSignal;

/**
 * When the deadline's time has passed but its timer has not fired yet (a step with its own,
 * equal timer lost the race under load), waits for it: the failure is then the op's TIMEOUT.
 */
async function settlePassedDeadline(deadline: Deadline): Promise<void> {
  if (deadline.signal.aborted || Date.now() < deadline.deadline) return;
  await new Promise<void>((resolve) =>
    deadline.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

function makeDeadline(timeoutMs: number, signal?: AbortSignal): Deadline {
  return deadlineSignal({ timeoutMs, ...(signal ? { signal } : {}) });
}

/**
 * Awaits `work`, but once `signal` aborts gives it only SETTLE_GRACE_MS more to settle; a driver
 * that ignores its signal cannot hold the instance past its deadline.
 */
async function settleWithin<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (!signal.aborted) {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const first = await Promise.race([work, aborted]);
      if (first !== 'aborted') return first as T;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(signal.reason), SETTLE_GRACE_MS);
  });
  try {
    return await Promise.race([work, grace]);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns whatever an op threw into the error the caller sees: TIMEOUT / ABORTED when the op's signal fired. */
function wrapError(error: unknown, deadline: Deadline, what: string, id: string): VmsError {
  const wrapped =
    deadline.signal.aborted &&
    !VmsError.hasCode(error, 'TIMEOUT') &&
    !VmsError.hasCode(error, 'ABORTED')
      ? abortReasonToError(deadline.signal, what)
      : toVmsError(error, `${what} failed`);
  wrapped.instance ??= id;
  return wrapped;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks exec's argv and io options before anything runs, naming the bad field. */
function validateExec(argv: unknown, options: ExecOptions): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
    throw new InvalidOptionsError([
      { path: 'argv', message: 'must be a non-empty array of strings' },
    ]);
  }
  if (
    options.cwd !== undefined &&
    (typeof options.cwd !== 'string' || !options.cwd.startsWith('/'))
  )
    throw new InvalidOptionsError([
      {
        path: 'cwd',
        message: `must be an absolute path in the guest, got ${JSON.stringify(options.cwd)}`,
      },
    ]);
  if (options.user !== undefined && (typeof options.user !== 'string' || options.user === ''))
    throw new InvalidOptionsError([{ path: 'user', message: 'must be a non-empty string' }]);
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (!ENV_NAME.test(key) || typeof value !== 'string')
      throw new InvalidOptionsError([
        { path: `env.${key}`, message: 'must be a variable name mapped to a string' },
      ]);
  }
}

/** What a hint says to do about an action that is not legal in `state`. */
function hintFor(action: string, state: string, id: string): string | undefined {
  if (state === 'initial' || state === 'deleted') return `create it first: vms create ${id}`;
  if (state === 'suspended') return `resume it first: vms resume ${id}`;
  if (state === 'stopped' && action !== 'start') return `start it first: vms start ${id}`;
  if (state === 'broken') return `see vms inspect ${id}; stop or delete it`;
  return undefined;
}

/** How an Instance came to be: see `createInstance` and `openInstance`. */
export interface InstanceInit<O> {
  backend: BackendV1;
  name: string;
  /** The parsed options (undefined when attached without them: see `BackendV1.attach`). */
  options: O;
  driver: DriverV1;
  /** Where the options came from; `attach`: they are unknown (the instance cannot be created). */
  optionsFrom: OptionsSource;
  settings?: InstanceSettings | undefined;
}

/**
 * Where an Instance's options came from: `input` (createInstance), `record` (what @vms recorded
 * at create), `attach` (unknown: the backend's attach driver), `defaults` (the schema's, `{}`).
 */
export type OptionsSource = 'input' | 'record' | 'attach' | 'defaults';

/**
 * One instance of a backend, as users hold it. `O` is the type of its parsed options
 * (`z.output` of the backend's schema). Make one with `createInstance` or `openInstance`.
 */
export class Instance<O = unknown> extends TypedEmitter<InstanceEvents> {
  readonly backend: BackendV1;
  readonly name: string;
  /** `backend:name`, the id users type. */
  readonly id: string;
  /** The parsed options (what the driver got). */
  readonly options: O;
  /** Where the options came from (see `OptionsSource`). */
  readonly optionsFrom: OptionsSource;
  readonly #driver: DriverV1;
  readonly #settings: InstanceSettings;
  #state: InstanceState = { name: 'initial' };
  #last: Observation | undefined;
  #createdHere = false;
  #unwatch: (() => void) | undefined;
  #busy = 0;
  /** A refresh confirming a change the watch reported is queued. */
  #driftCheck = false;

  /** Use `createInstance` / `openInstance`. */
  constructor(init: InstanceInit<O>) {
    super();
    this.backend = init.backend;
    this.name = init.name;
    this.id = `${init.backend.name}:${init.name}`;
    this.options = init.options;
    this.#driver = init.driver;
    this.optionsFrom = init.optionsFrom;
    this.#settings = init.settings ?? {};
    assertDriverMatchesCapabilities(init.backend, init.driver);
  }

  /** The state the runtime believes; `refresh()` reconciles it with reality. */
  get state(): InstanceState {
    return this.#state;
  }

  get #home(): string {
    return this.#settings.home ?? vmsHome();
  }

  /**
   * What this instance can do: the backend's capabilities, narrowed by its driver for this
   * instance (from its options and the last observation).
   */
  get capabilities(): Capabilities {
    return this.#effective().capabilities;
  }

  #effective(): EffectiveCapabilities {
    return effectiveCapabilities(this.backend, this.#driver, this.#last);
  }

  /** Refuses options whose capability this instance lacks (`ports`, `mounts`). */
  checkOptions(): void {
    checkOptionCapabilities(this.options, this.#effective(), this.backend.name, this.id);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Creates the instance (stopped). A failed create removes what it made. */
  async create(options: OpOptions = {}): Promise<void> {
    if (this.optionsFrom === 'attach') {
      return Promise.reject(
        new InvalidOptionsError(
          [{ path: '(options)', message: `the options of ${this.id} are unknown` }],
          {
            instance: this.id,
            hint: `create it with createInstance(backend, name, options) (vms create ${this.id} …)`,
          },
        ),
      );
    }
    await this.#mutate('create', options, async (ctx) => {
      await this.#driver.doCreate(ctx);
      this.#createdHere = true;
      // Remembered so another process can attach with openInstance(backend, name) alone.
      await writeInstanceRecord(this.#home, {
        backend: this.backend.name,
        name: this.name,
        options: this.options,
        createdAt: new Date().toISOString(),
      });
    });
  }

  /** Starts (or resumes) the instance and returns when it is ready. A failed start is force-stopped. */
  async start(options: OpOptions = {}): Promise<void> {
    await this.#mutate('start', options, async (ctx, from) => {
      if (from.name === 'suspended') await this.#verb('suspend', 'doResume')(ctx);
      else await this.#driver.doStart(ctx);
      await this.#awaitReadiness(ctx);
    });
  }

  /** Stops the instance: graceful for `graceMs`, then forced. Stop on stopped is a no-op. */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    const graceMs = options.graceMs ?? DEFAULT_STOP_GRACE_MS;
    return this.#mutate<StopResult>(
      'stop',
      options,
      async (ctx) => {
        if (options.force) {
          const out = await this.#driver.doStop({ ...ctx, timeoutMs: 0, force: true });
          return { how: out.how, ...(out.guestExit ? { guestExit: out.guestExit } : {}) };
        }
        try {
          const out = await this.#driver.doStop({ ...ctx, timeoutMs: graceMs, force: false });
          return { how: out.how, ...(out.guestExit ? { guestExit: out.guestExit } : {}) };
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          const gracefulError = toVmsError(error);
          ctx.progress('graceful stop failed, forcing');
          const out = await this.#driver.doStop({ ...ctx, timeoutMs: 0, force: true });
          return {
            how: 'forced',
            gracefulError,
            ...(out.guestExit ? { guestExit: out.guestExit } : {}),
          };
        }
      },
      () => ({ how: 'already-stopped' }),
    );
  }

  async suspend(options: OpOptions = {}): Promise<void> {
    const doSuspend = this.#verb('suspend', 'doSuspend');
    await this.#mutate('suspend', options, (ctx) => doSuspend(ctx));
  }

  async resume(options: OpOptions = {}): Promise<void> {
    const doResume = this.#verb('suspend', 'doResume');
    await this.#mutate('resume', options, (ctx) => doResume(ctx));
  }

  /** Deletes the instance from any settled state (stopping it first). Delete of an absent one is a no-op. */
  async delete(options: OpOptions = {}): Promise<DeleteResult> {
    return this.#mutate<DeleteResult>(
      'delete',
      options,
      async (ctx) => {
        const out = await this.#driver.doDelete(ctx);
        this.#createdHere = false;
        await removeInstanceRecord(this.#home, this.backend.name, this.name);
        return { existed: out.existed };
      },
      async () => {
        // The backend does not know it, but what a killed create or a torn record left behind
        // (files, a process) may still be there: the driver's delete sweeps it.
        const out = await this.#run('delete', options, (ctx) => this.#driver.doDelete(ctx));
        await removeInstanceRecord(this.#home, this.backend.name, this.name);
        return { existed: out.existed };
      },
    );
  }

  /** Reconciles the runtime's state with reality; reports drift. */
  async refresh(options: OpOptions = {}): Promise<RefreshResult> {
    return enqueue(this.id, () => this.#refreshNow(options));
  }

  // ---- non-mutating ----------------------------------------------------------------------

  /**
   * Runs argv in the instance (never through a shell). Resolves with the exit code, also a
   * non-zero one (127: command not found). A timeout or abort ends the command inside the
   * instance too, and rejects with TIMEOUT / ABORTED.
   */
  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const doExec = this.#verb('exec', 'doExec');
    validateExec(argv, options);
    if (this.#state.name !== 'running')
      await this.refresh({ ...(options.signal ? { signal: options.signal } : {}) });
    if (this.#state.name !== 'running') {
      const hint = hintFor('exec', this.#state.name, this.id);
      throw new InvalidTransitionError('exec', this.#state.name, {
        instance: this.id,
        ...(hint ? { hint } : {}),
      });
    }
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const out = {
      stdout: [] as Buffer[],
      stderr: [] as Buffer[],
      sizes: { stdout: 0, stderr: 0 },
      truncated: false,
    };
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const room = max - out.sizes[stream];
      if (room > 0) {
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        out[stream].push(kept);
        out.sizes[stream] += kept.length;
      }
      if (chunk.length > room) out.truncated = true;
      this.emit('output', { instance: this.id, stream, chunk, source: 'exec' });
      (stream === 'stdout' ? options.onStdout : options.onStderr)?.(chunk);
    };
    const started = Date.now();
    const result = await this.#run('exec', options, (ctx) =>
      doExec(
        argv,
        {
          ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
          ...(options.env ? { env: options.env } : {}),
          ...(options.cwd ? { cwd: options.cwd } : {}),
          ...(options.user ? { user: options.user } : {}),
          ...(options.tty ? { tty: options.tty } : {}),
          onStdout: collect('stdout'),
          onStderr: collect('stderr'),
        },
        ctx,
      ),
    );
    return {
      exitCode: result.exitCode,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
      truncated: out.truncated,
      durationMs: Date.now() - started,
    };
  }

  /** The real state and properties, straight from the backend (updates the runtime's state). */
  async inspect(
    options: OpOptions = {},
  ): Promise<{ state: InstanceState; properties: Properties }> {
    const r = await this.refresh(options);
    return { state: r.state, properties: r.properties };
  }

  /**
   * The instance's own output. With `follow`, keeps streaming until the deadline (rejects with
   * TIMEOUT) or the caller's abort (ABORTED), however the driver ends its stream then.
   */
  async logs(options: LogsOptions = {}): Promise<void> {
    const doLogs = this.#verb('logs', 'doLogs');
    await this.#run('logs', options, async (ctx) => {
      await doLogs({
        ...ctx,
        follow: options.follow ?? false,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        onData: (chunk, stream) => {
          this.emit('output', { instance: this.id, stream, chunk, source: 'logs' });
          options.onData?.(chunk, stream);
        },
      });
      if (options.follow && ctx.signal.aborted) throw ctx.signal.reason;
    });
  }

  /** Snapshots (capability `snapshot`). Serialised with the lifecycle ops. */
  readonly snapshots = {
    create: (name: string, options: OpOptions = {}): Promise<void> =>
      this.#snapshotOp(options, name, (ctx) =>
        this.#verb('snapshot', 'doSnapshotCreate')(name, ctx),
      ),
    restore: (name: string, options: OpOptions = {}): Promise<void> =>
      this.#snapshotOp(options, name, (ctx) =>
        this.#verb('snapshot', 'doSnapshotRestore')(name, ctx),
      ),
    delete: (name: string, options: OpOptions = {}): Promise<void> =>
      this.#snapshotOp(options, name, (ctx) =>
        this.#verb('snapshot', 'doSnapshotDelete')(name, ctx),
      ),
    list: (options: OpOptions = {}): Promise<SnapshotInfo[]> =>
      this.#snapshotOp(options, undefined, (ctx) => this.#verb('snapshot', 'doSnapshotList')(ctx)),
  };

  async copyIn(hostPath: string, guestPath: string, options: OpOptions = {}): Promise<void> {
    const doCopyIn = this.#verb('copy', 'doCopyIn');
    await this.#run('copy', options, (ctx) => doCopyIn(hostPath, guestPath, ctx));
  }

  async copyOut(guestPath: string, hostPath: string, options: OpOptions = {}): Promise<void> {
    const doCopyOut = this.#verb('copy', 'doCopyOut');
    await this.#run('copy', options, (ctx) => doCopyOut(guestPath, hostPath, ctx));
  }

  /**
   * Where the container engine inside this instance can be reached from the host (capability of
   * backends whose driver has `doEngineEndpoint`: lima, colima, qemu). A stopped instance is
   * started first unless `start: false`; one that does not exist is NOT_FOUND, a broken one
   * OPERATION_FAILED. Serialised with the lifecycle ops and taken under the instance's lock, so a
   * forward the driver sets up is made once even across processes.
   */
  async engineEndpoint(
    request: EngineRequest,
    options: EngineEndpointOptions = {},
  ): Promise<EngineEndpoint> {
    const doEngine = this.#driver.doEngineEndpoint;
    if (!doEngine) {
      throw new CapabilityUnsupportedError('engine', this.backend.name, {
        instance: this.id,
        hint: `${this.backend.name} instances do not expose a container engine`,
      });
    }
    const { start, ...op } = options;
    await this.refresh(op.signal ? { signal: op.signal } : {});
    if (start !== false && (this.#state.name === 'stopped' || this.#state.name === 'suspended')) {
      await this.start(op);
    }
    const state = this.#state;
    if (state.name === 'initial' || state.name === 'deleted') {
      throw new NotFoundError(`${this.id} does not exist`, {
        instance: this.id,
        hint: `create it (vms create ${this.id}) or pick another instance`,
      });
    }
    if (state.name === 'broken') {
      throw new OperationFailedError(`${this.id} is broken: ${state.reason}`, {
        instance: this.id,
        hint: `see vms inspect ${this.id}; vms delete ${this.id} removes it`,
      });
    }
    if (state.name !== 'running') {
      throw new InvalidTransitionError('engine', state.name, {
        instance: this.id,
        hint: `start it first: vms start ${this.id}`,
      });
    }
    return enqueue(this.id, async () => {
      const deadline = makeDeadline(this.#timeout('engine', op), op.signal);
      try {
        const lock = await this.#lockWithin(deadline, `engine of ${this.id}`);
        try {
          return await this.#runWithin('engine', deadline, op, (ctx) =>
            doEngine.call(this.#driver, request, ctx),
          );
        } finally {
          await lock.release();
        }
      } finally {
        deadline.dispose();
      }
    });
  }

  /**
   * `await using vm = createInstance(...)`: deletes the instance if this object created it and it
   * still exists; an instance attached with openInstance is left as it is.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopWatching();
    if (this.#createdHere && this.#state.name !== 'deleted' && this.#state.name !== 'initial') {
      await this.delete();
    }
  }

  // ---- machinery -------------------------------------------------------------------------

  /**
   * The driver method behind a capability, bound to the driver, after checking the capability
   * (CapabilityUnsupportedError naming it when this instance lacks it).
   */
  #verb<K extends VerbKey>(capability: Capability, key: K): NonNullable<DriverV1[K]> {
    requireCapability(this.#effective(), capability, this.backend.name, this.id);
    const fn = this.#driver[key];
    if (typeof fn !== 'function') {
      // Unreachable for drivers checked at construction; kept for drivers that change later.
      assertDriverMatchesCapabilities(this.backend, this.#driver);
    }
    return (fn as (...args: unknown[]) => unknown).bind(this.#driver) as NonNullable<DriverV1[K]>;
  }

  #snapshotOp<T>(
    options: OpOptions,
    name: string | undefined,
    body: (ctx: OpContext) => Promise<T>,
  ): Promise<T> {
    try {
      requireCapability(this.#effective(), 'snapshot', this.backend.name, this.id);
      if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(name)) {
        throw new InvalidOptionsError([
          { path: 'snapshot', message: `${JSON.stringify(name)} is not a valid snapshot name` },
        ]);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return enqueue(this.id, async () => {
      const deadline = makeDeadline(this.#timeout('snapshot', options), options.signal);
      try {
        const lock = await this.#lockWithin(deadline, `snapshot of ${this.id}`);
        try {
          return await this.#runWithin('snapshot', deadline, options, body);
        } finally {
          await lock.release();
        }
      } finally {
        deadline.dispose();
      }
    });
  }

  #timeout(op: OpName, options: OpOptions): number {
    return (
      options.timeoutMs ??
      this.#settings.timeouts?.[op] ??
      this.backend.defaultTimeouts?.[op] ??
      DEFAULT_TIMEOUTS[op]
    );
  }

  #context(
    action: string,
    deadline: Deadline,
    options: OpOptions,
    started = Date.now(),
  ): OpContext {
    const debug = this.#settings.debug ?? envDebug;
    return {
      signal: deadline.signal,
      deadline: deadline.deadline,
      progress: (step, detail) => {
        const elapsedMs = Date.now() - started;
        this.emit('progress', {
          instance: this.id,
          action,
          step,
          elapsedMs,
          ...(detail ? { detail } : {}),
        });
        options.onProgress?.(step, elapsedMs, detail);
      },
      debug: (message, data) => debug(`${this.id}: ${message}`, data),
    };
  }

  /** Runs one driver call with a deadline, abort and settle grace; wraps errors. */
  async #run<T>(op: OpName, options: OpOptions, body: (ctx: OpContext) => Promise<T>): Promise<T> {
    const deadline = makeDeadline(this.#timeout(op, options), options.signal);
    try {
      return await this.#runWithin(op, deadline, options, body);
    } finally {
      deadline.dispose();
    }
  }

  async #runWithin<T>(
    op: string,
    deadline: Deadline,
    options: OpOptions,
    body: (ctx: OpContext) => Promise<T>,
  ): Promise<T> {
    try {
      if (deadline.signal.aborted) throw deadline.signal.reason;
      return await settleWithin(body(this.#context(op, deadline, options)), deadline.signal);
    } catch (error) {
      throw wrapError(error, deadline, `${op} of ${this.id}`, this.id);
    }
  }

  #setState(to: InstanceState, action?: Action): void {
    const from = this.#state;
    this.#state = to;
    // Only a change of state name is an event; a new reason alone is just kept.
    if (from.name === to.name) return;
    this.emit('state', { instance: this.id, from, to, ...(action ? { action } : {}), at: now() });
    if (to.name === 'running') this.#startWatching();
    else if (
      to.name !== 'suspending' &&
      to.name !== 'suspended' &&
      to.name !== 'resuming' &&
      to.name !== 'stopping'
    ) {
      this.#stopWatching();
    }
  }

  #startWatching(): void {
    if (this.#unwatch || !this.#driver.watch || this.#settings.watch === false) return;
    this.#unwatch = this.#driver.watch((observation) => {
      if (this.#busy > 0) return; // an op in flight owns the state; it reconciles itself
      const observed = stateFromObservation(observation, this.#state.name);
      if (sameState(observed, this.#state)) {
        this.#last = observation;
        return;
      }
      // What the watch reports may have been seen before an op of this process that has ended
      // since (a `pause` event confirmed after the resume): it is a hint. A refresh queued behind
      // this instance's ops looks again and reports the drift, if there still is one.
      this.#confirmDrift();
    });
  }

  /** One refresh at a time confirms what the watch reported (see #startWatching). */
  #confirmDrift(): void {
    if (this.#driftCheck) return;
    this.#driftCheck = true;
    void enqueue(this.id, async () => {
      this.#driftCheck = false; // what the watch reports from now on needs another look
      if (this.#unwatch) await this.#refreshNow({}).catch(() => undefined);
    });
  }

  #stopWatching(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  /**
   * Takes the cross-process lock within the op's deadline (or `lockTimeoutMs`, when shorter).
   * Another process holding it past then: LOCKED; the deadline passing with nobody holding it
   * (a 1 ms timeout): TIMEOUT of the op.
   */
  async #lockWithin(deadline: Deadline, what: string): Promise<LockHandle> {
    const dir = this.#settings.lockDir ?? join(this.#home, 'locks');
    const remaining = Math.max(0, deadline.deadline - Date.now());
    try {
      return await acquireLock(join(dir, this.backend.name, `${this.name}.lock`), {
        timeoutMs: Math.min(this.#settings.lockTimeoutMs ?? remaining, remaining),
        signal: deadline.signal,
        description: `lock of ${this.id}`,
      });
    } catch (error) {
      // The lock's wait and the op's deadline end at the same instant; under load the lock's
      // timer can fire first. A deadline already past is the op's TIMEOUT: let its timer land.
      if (!VmsError.hasCode(error, 'LOCKED')) await settlePassedDeadline(deadline);
      if (VmsError.hasCode(error, 'LOCKED') || !deadline.signal.aborted) {
        const e = toVmsError(error);
        e.instance ??= this.id;
        throw e;
      }
      // The op's own deadline (or the caller's abort) ended the wait, nobody holding the lock.
      const e = abortReasonToError(deadline.signal, what);
      e.instance = this.id;
      throw e;
    }
  }

  async #observe(ctx: OpContext): Promise<Observation> {
    const observation = await this.#driver.doInspect(ctx);
    this.#last = observation;
    return observation;
  }

  /** Observes reality with a fresh deadline (used after failures, when the op's signal is spent). */
  async #observeAfterFailure(before: StateName): Promise<InstanceState | undefined> {
    const deadline = makeDeadline(Math.min(RECOVERY_TIMEOUT_MS, this.#timeout('refresh', {})));
    try {
      const observation = await settleWithin(
        this.#observe(this.#context('observe', deadline, {})),
        deadline.signal,
      );
      return stateFromObservation(observation, before);
    } catch {
      return undefined;
    } finally {
      deadline.dispose();
    }
  }

  async #refreshNow(options: OpOptions): Promise<RefreshResult> {
    const observation = await this.#run('refresh', options, (ctx) => this.#observe(ctx));
    return this.#applyObservation(observation);
  }

  #applyObservation(observation: Observation): RefreshResult {
    const expected = this.#state;
    const observed = stateFromObservation(observation, expected.name);
    const drift = !sameState(expected, observed);
    if (drift) this.emit('drift', { instance: this.id, expected, observed, at: now() });
    this.#setState(observed, 'refresh');
    return {
      state: this.#state,
      properties: observation.properties ?? {},
      ...(drift ? { drift: { expected, observed } } : {}),
    };
  }

  /** Rollback after a failed op: failed create → delete; failed start → force stop. */
  async #rollback(action: Action, from: InstanceState): Promise<void> {
    if (action !== 'create' && !(action === 'start' && from.name === 'stopped')) return;
    const deadline = makeDeadline(RECOVERY_TIMEOUT_MS);
    const ctx = this.#context(`rollback ${action}`, deadline, {});
    try {
      const undo: Promise<unknown> =
        action === 'create'
          ? this.#driver.doDelete(ctx)
          : this.#driver.doStop({ ...ctx, timeoutMs: 0, force: true });
      await settleWithin(undo, deadline.signal);
    } catch (error) {
      ctx.debug('rollback failed', { error: String(error) });
    } finally {
      deadline.dispose();
    }
  }

  /**
   * The one path of every mutating action: queue; then, under one deadline, lock, reconcile,
   * check the table, run the driver; then success state, or rollback + observe + failure state.
   */
  async #mutate<T>(
    action: Exclude<Action, 'refresh'>,
    options: OpOptions,
    body: (ctx: OpContext, from: InstanceState) => Promise<T>,
    onNoop?: () => T | Promise<T>,
  ): Promise<T> {
    return enqueue(this.id, async () => {
      this.#busy++;
      const started = Date.now();
      const what = `${action} of ${this.id}`;
      this.emit('op', { instance: this.id, action, phase: 'begin' });
      const deadline = makeDeadline(this.#timeout(action, options), options.signal);
      let lock: LockHandle | undefined;
      try {
        lock = await this.#lockWithin(deadline, what);
        if (this.#settings.reconcile !== false) {
          const refreshMs = Math.min(this.#timeout('refresh', {}), deadline.deadline - Date.now());
          const reconcile = makeDeadline(Math.max(0, refreshMs), deadline.signal);
          try {
            const observation = await this.#runWithin('refresh', reconcile, options, (ctx) =>
              this.#observe(ctx),
            ).catch(async (error: unknown) => {
              // The reconcile's deadline is a slice of the op's: when the op's has passed, that
              // is what ended it (the reconcile's own TIMEOUT would name the wrong step).
              await settlePassedDeadline(deadline);
              if (!deadline.signal.aborted) throw error;
              const e = abortReasonToError(deadline.signal, what);
              e.instance = this.id;
              throw e;
            });
            this.#applyObservation(observation);
          } catch (error) {
            // Delete works from any state: when reality cannot be observed (a corrupt record),
            // the instance is broken and the driver's delete removes whatever is there.
            if (
              action !== 'delete' ||
              deadline.signal.aborted ||
              VmsError.hasCode(error, 'ABORTED')
            )
              throw error;
            this.#setState(
              { name: 'broken', reason: `cannot observe: ${toVmsError(error).message}` },
              'refresh',
            );
          } finally {
            reconcile.dispose();
          }
        }
        const from = this.#state;
        const cell = transition(from.name, action);
        if (!cell.legal) {
          if (action === 'create') {
            throw new AlreadyExistsError(`${this.id} already exists (state ${from.name})`, {
              instance: this.id,
              hint: `delete it first (vms delete ${this.id}) or pick another name`,
            });
          }
          const hint = hintFor(action, from.name, this.id);
          throw new InvalidTransitionError(action, from.name, {
            instance: this.id,
            ...(hint ? { hint } : {}),
          });
        }
        let result: T;
        if (cell.noop) {
          result = onNoop ? await onNoop() : (undefined as T);
        } else {
          const ctx = this.#context(action, deadline, options, started);
          this.#setState({ name: cell.via }, action);
          try {
            result = await settleWithin(body(ctx, from), deadline.signal);
            this.#setState({ name: cell.success as StateName }, action);
          } catch (error) {
            const wrapped = wrapError(error, deadline, what, this.id);
            await this.#rollback(action, from);
            const observed = await this.#observeAfterFailure(from.name);
            const fallback: InstanceState =
              cell.failure === 'previous'
                ? from
                : { name: 'broken', reason: `${action} failed: ${wrapped.message}` };
            this.#setState(observed ?? fallback, action);
            throw wrapped;
          }
        }
        this.emit('op', {
          instance: this.id,
          action,
          phase: 'end',
          ok: true,
          durationMs: Date.now() - started,
        });
        return result;
      } catch (error) {
        const wrapped = toVmsError(error);
        wrapped.instance ??= this.id;
        this.emit('op', {
          instance: this.id,
          action,
          phase: 'end',
          ok: false,
          durationMs: Date.now() - started,
          error: wrapped,
        });
        throw wrapped;
      } finally {
        deadline.dispose();
        this.#busy--;
        await lock?.release();
      }
    });
  }

  async #awaitReadiness(ctx: OpContext): Promise<void> {
    const strategies = this.#settings.readiness;
    if (!strategies) return;
    const list = Array.isArray(strategies) ? strategies : [strategies];
    const target = this.#readinessTarget();
    for (const strategy of list) {
      ctx.progress(`waiting for ${strategy.description}`);
      await strategy.wait(target, { signal: ctx.signal, deadline: ctx.deadline });
    }
  }

  #readinessTarget(): ReadinessTarget {
    return {
      exec: async (argv: string[], { signal }: { signal: AbortSignal }) => {
        const doExec = this.#verb('exec', 'doExec');
        const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        const deadline = makeDeadline(this.#timeout('exec', {}), signal);
        try {
          const r = await settleWithin(
            doExec(
              argv,
              { onStdout: (c) => chunks.stdout.push(c), onStderr: (c) => chunks.stderr.push(c) },
              this.#context('readiness', deadline, {}),
            ),
            deadline.signal,
          );
          return {
            exitCode: r.exitCode,
            stdout: Buffer.concat(chunks.stdout).toString('utf8'),
            stderr: Buffer.concat(chunks.stderr).toString('utf8'),
          };
        } finally {
          deadline.dispose();
        }
      },
    };
  }
}

type VerbKey =
  | 'doSuspend'
  | 'doResume'
  | 'doExec'
  | 'doLogs'
  | 'doSnapshotCreate'
  | 'doSnapshotRestore'
  | 'doSnapshotList'
  | 'doSnapshotDelete'
  | 'doCopyIn'
  | 'doCopyOut';

/** The settings argument, optional; and the options argument too when `{}` is valid input. */
type CreateArgs<S extends z4.$ZodType> =
  Record<string, never> extends z4.input<S>
    ? [options?: NoInfer<z4.input<S>>, settings?: InstanceSettings]
    : [options: NoInfer<z4.input<S>>, settings?: InstanceSettings];

/**
 * A handle on instance `name` of `backend`, in state `initial` (nothing is created yet; no I/O).
 * `options` is what the backend's schema accepts (`z.input`): a misspelt or missing option does
 * not compile, and at run time every option is validated (unknown keys too) and every common
 * option checked against the backend's capabilities, before anything runs.
 *
 * Dynamic callers (a CLI, a server taking JSON) hold the backend as `BackendV1` (any schema):
 * then `options` is `unknown`, validated at run time with the same errors (INVALID_OPTIONS naming
 * the field and, for an unknown key, the closest valid one; CAPABILITY_UNSUPPORTED).
 */
export function createInstance<S extends z4.$ZodType>(
  backend: BackendV1<S>,
  name: string,
  ...[options, settings]: CreateArgs<S>
): Instance<z4.output<S>> {
  validateName(backend, name);
  const parsed = parseInstanceOptions(backend.optionsSchema, options ?? {});
  const instance = new Instance<z4.output<S>>({
    backend,
    name,
    options: parsed,
    driver: backend.driver(name, parsed),
    optionsFrom: 'input',
    settings,
  });
  instance.checkOptions();
  return instance;
}

function validateName(backend: BackendV1, name: string): void {
  validateInstanceName(name);
  const custom = backend.validateName?.(name);
  if (custom) throw new InvalidOptionsError([{ path: 'name', message: custom }]);
}

/**
 * Attaches to an existing instance by (backend, name), with the options it was created with:
 * those @vms recorded at `create` (by any process on this machine, same `home`); when there is no
 * valid record, the backend's `attach` driver (options unknown: the instance can be operated on,
 * not created); else the schema's defaults (`{}`). `instance.optionsFrom` says which. Then
 * reconciles the state with reality (`refresh`; skip it with `refresh: false`). There is no option
 * input, so it works the same for dynamic callers. Throws INVALID_OPTIONS, with a hint, when none
 * of the three applies.
 */
export async function openInstance<S extends z4.$ZodType>(
  backend: BackendV1<S>,
  name: string,
  settings: InstanceSettings & OpOptions & { refresh?: boolean } = {},
): Promise<Instance<z4.output<S> | undefined>> {
  validateName(backend, name);
  const id = `${backend.name}:${name}`;
  const make = (options: z4.output<S> | undefined, driver: DriverV1, optionsFrom: OptionsSource) =>
    new Instance<z4.output<S> | undefined>({
      backend,
      name,
      options,
      driver,
      optionsFrom,
      settings,
    });
  let instance: Instance<z4.output<S> | undefined> | undefined;
  let recordError: unknown;
  // An unreadable (corrupt, truncated) record counts as an invalid one: attach without it.
  const record = await readInstanceRecord(settings.home ?? vmsHome(), backend.name, name).catch(
    (error: unknown) => {
      if (!VmsError.hasCode(error, 'PROTOCOL_ERROR')) throw error;
      recordError = error;
      return undefined;
    },
  );
  if (record) {
    try {
      const parsed = parseRecordedOptions(backend.optionsSchema, record.options);
      instance = make(parsed, backend.driver(name, parsed), 'record');
    } catch (error) {
      recordError = error;
    }
  }
  if (!instance && backend.attach) instance = make(undefined, backend.attach(name), 'attach');
  if (!instance) {
    let parsed: z4.output<S>;
    try {
      parsed = parseInstanceOptions(backend.optionsSchema, {});
    } catch (error) {
      if (recordError !== undefined && !record) throw recordError; // unreadable: nothing else to go on
      const first = recordError ?? error;
      throw new InvalidOptionsError(
        VmsError.hasCode(first, 'INVALID_OPTIONS')
          ? first.issues
          : [{ path: '(options)', message: toVmsError(first).message }],
        {
          cause: first,
          instance: id,
          hint: record
            ? `the options ${id} was created with no longer validate: pass valid ones with createInstance(backend, name, options)`
            : `@vms has no record of ${id} on this machine (not created here): pass its options with createInstance(backend, name, options)`,
        },
      );
    }
    instance = make(parsed, backend.driver(name, parsed), 'defaults');
  }
  if (settings.refresh !== false) await instance.refresh(settings);
  return instance;
}
