/**
 * The versioned contract between @vms/core and a backend: `vms-backend-v1`.
 *
 * A backend author implements `BackendV1` and `DriverV1`. Everything else (the state machine,
 * locking, deadlines, abort, rollback, error wrapping, capability checks, events) lives in core's
 * `Instance` runtime, so a driver only does the work of each verb against its tool.
 *
 * This module has no runtime dependencies: its only import is a type import of zod's core types,
 * so `@vms/core/spec` can be compiled against without loading anything.
 */
import type * as z4 from 'zod/v4/core';

export const SPECIFICATION_VERSION = 'vms-backend-v1' as const;
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/**
 * What a backend can do beyond create/start/stop/delete/inspect. Core checks them before every
 * call (verbs) and when an instance is made (options): a missing one is a
 * `CapabilityUnsupportedError` (code `CAPABILITY_UNSUPPORTED`) naming it. A backend's flags are a
 * ceiling; a driver may narrow them per instance with `DriverV1.capabilities`.
 */
export interface Capabilities {
  /** `suspend()` / `resume()`: needs `doSuspend` and `doResume`. */
  suspend: boolean;
  /** `exec()`: needs `doExec`. */
  exec: boolean;
  /** `logs()`: needs `doLogs`. */
  logs: boolean;
  /** `snapshots.*`: needs `doSnapshotCreate`, `doSnapshotRestore`, `doSnapshotList`, `doSnapshotDelete`. */
  snapshot: boolean;
  /** `copyIn()` / `copyOut()`: needs `doCopyIn` and `doCopyOut`. */
  copy: boolean;
  /** The common option `ports` (host → guest port forwards). */
  portForward: boolean;
  /** The common option `mounts` (host directories in the guest). */
  mounts: boolean;
}

export type Capability = keyof Capabilities;

/** Every capability, in a stable order. */
export const CAPABILITY_NAMES: readonly Capability[] = [
  'suspend',
  'exec',
  'logs',
  'snapshot',
  'copy',
  'portForward',
  'mounts',
];

/** The driver methods a capability requires: a `true` flag without them is a broken backend. */
export const CAPABILITY_METHODS: Readonly<Record<Capability, readonly (keyof DriverV1)[]>> = {
  suspend: ['doSuspend', 'doResume'],
  exec: ['doExec'],
  logs: ['doLogs'],
  snapshot: ['doSnapshotCreate', 'doSnapshotRestore', 'doSnapshotList', 'doSnapshotDelete'],
  copy: ['doCopyIn', 'doCopyOut'],
  portForward: [],
  mounts: [],
};

/** The common options that need a capability when they are not empty. */
export const OPTION_CAPABILITIES: Readonly<Record<'ports' | 'mounts', Capability>> = {
  ports: 'portForward',
  mounts: 'mounts',
};

/**
 * A driver's per-instance narrowing of the backend's capabilities: `false`, or a string saying
 * why (shown to the user), turns a capability off for this instance; `true` or a missing key
 * keeps the backend's flag. A driver cannot turn on what its backend lacks.
 */
export type CapabilityNarrowing = Partial<Record<Capability, boolean | string>>;

/** The states a driver can observe in its tool. `absent`: the tool does not know the instance. */
export type ObservedState = 'absent' | 'stopped' | 'running' | 'suspended' | 'broken';

export interface PortMapping {
  /** Host address the port is bound to (127.0.0.1 unless the user asked otherwise). */
  hostIp: string;
  hostPort: number;
  guestPort: number;
  protocol: 'tcp' | 'udp';
}

/** What an instance looks like from outside. Every field is optional: backends fill what they know. */
export interface Properties {
  /** The address to reach the guest at, when it has one. */
  ip?: string;
  ips?: string[];
  /** Port forwards in effect (a running instance with `ports` must report them). */
  ports?: PortMapping[];
  cpus?: number;
  memoryMiB?: number;
  diskGiB?: number;
  image?: string;
  os?: string;
  createdAt?: string;
  labels?: Record<string, string>;
  ssh?: { host: string; port: number; user: string };
  /** Backend-specific extras, JSON-serialisable. */
  extra?: Record<string, unknown>;
}

export interface Observation {
  state: ObservedState;
  /** Why the state is what it is, e.g. "qemu exited with signal SIGKILL". */
  reason?: string;
  properties?: Properties;
}

export interface DetectResult {
  available: boolean;
  /** Version of the underlying tool, e.g. "28.2.2". */
  version?: string;
  /** Path of the tool that was found. */
  toolPath?: string;
  /** Why it is unavailable. */
  reason?: string;
  /** What the user can do about it, e.g. "apt-get install qemu-system-x86". */
  hint?: string;
}

export interface ListedInstance {
  name: string;
  state: ObservedState;
  reason?: string;
  /** True when @vms created it (labelled / in our state store). */
  managed: boolean;
  properties?: Properties;
}

/**
 * Optional structured detail of a progress step, for work that can be measured (bytes of an image
 * pull, files of a copy). Every field is optional: a step may carry only some of them.
 */
export interface ProgressDetail {
  /** What `current` and `total` count. */
  unit?: 'bytes' | 'items';
  /** Done so far. */
  current?: number;
  /** Expected in all, when known (it may grow as more of the work becomes known). */
  total?: number;
  /** The part of the work this update is about, e.g. one image layer's id. */
  item?: string;
  /** Parts finished and parts known so far, e.g. image layers pulled of the image's layers. */
  parts?: { done: number; total: number };
}

/** Reports the current step; `detail` adds measurable progress (bytes, layers) when known. */
export type ProgressReporter = (step: string, detail?: ProgressDetail) => void;

/** Passed by core to every driver verb. */
export interface OpContext {
  /** Aborted at the op's deadline or when the caller aborts. Drivers must honour it. */
  signal: AbortSignal;
  /** Epoch milliseconds at which the op times out. */
  deadline: number;
  /** Report the current step of a long operation ("waiting for SSH"). */
  progress: ProgressReporter;
  /** Debug logging (commands run, protocol messages). */
  debug: (message: string, data?: Record<string, unknown>) => void;
}

export interface ListContext {
  signal: AbortSignal;
  /** Also list instances @vms did not create (for backends that label theirs). */
  all?: boolean;
}

export interface StopRequest extends OpContext {
  /** How long the guest may take to shut down gracefully before it is forced. */
  timeoutMs: number;
  /** Skip the graceful phase. */
  force: boolean;
}

export interface GuestExit {
  exitCode?: number;
  signal?: string;
  /** Message from the tool or the guest's process, e.g. the stderr tail of `tart run`. */
  message?: string;
}

export interface DriverStopOutcome {
  /** `graceful`: the guest shut down by itself; `forced`: it was killed; `already-stopped`. */
  how: 'graceful' | 'forced' | 'already-stopped';
  /** How the guest (container process, VM process) ended, when the backend knows. */
  guestExit?: GuestExit;
}

/**
 * How `doExec` runs a command. Core validates these before the call: `cwd` is absolute, `env`
 * names are valid variable names, `user` is not empty.
 */
export interface ExecIo {
  /** Bytes for the command's stdin, then end-of-file. Without it, stdin is empty (EOF at once). */
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  /** Added to the instance's environment for this command only (wins over the instance's `env`). */
  env?: Record<string, string>;
  /** Absolute working directory in the guest; default: the instance's own (its `workdir`, or `/`). */
  cwd?: string;
  /** User (name or uid) the command runs as; default: the instance's default user. */
  user?: string;
  /** Allocate a terminal (interactive shells): the command sees a TTY on stdin/stdout. */
  tty?: boolean;
  /** Core always provides these; drivers call them as output arrives. */
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
}

/**
 * The command's exit code. A command that cannot be found exits 127 (126: found but not
 * executable), as in a shell: `doExec` does not throw for it. A command killed by a signal exits
 * 128 + the signal number.
 */
export interface DriverExecResult {
  exitCode: number;
}

export interface LogsRequest extends OpContext {
  /** Keep streaming until `signal` aborts (core aborts it at the deadline or on the caller's abort). */
  follow: boolean;
  /** Only lines after this many from the end, when the backend can. */
  tail?: number;
  onData: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

/** A container engine that runs inside a VM instance (the devx two-layer model). */
export type EngineKind = 'docker' | 'podman';

export interface EngineRequest {
  kind: EngineKind;
  /**
   * Where the engine listens inside the guest, for backends that forward it themselves (qemu):
   * an absolute unix socket path (default: the kind's usual socket) or `tcp://HOST:PORT` as the
   * guest sees it. Backends whose tool publishes the engine on the host (lima, colima) ignore it.
   */
  guestAddress?: string;
}

export interface EngineEndpoint {
  /** The engine's URL on this host: `unix:///path` or `tcp://127.0.0.1:PORT`. */
  host: string;
  /** `host-socket`: the VM's tool keeps it (lima, colima); `ssh-forward`: @vms forwards it over SSH. */
  via: 'host-socket' | 'ssh-forward';
}

export interface SnapshotInfo {
  name: string;
  createdAt?: string;
  sizeBytes?: number;
}

/**
 * One instance's driver. Verbs are named `do*` so users call `Instance` methods instead. The
 * optional verbs are required by the capability that names them (`CAPABILITY_METHODS`).
 */
export interface DriverV1 {
  /** Creates the instance (stopped). Throws AlreadyExistsError when it exists. */
  doCreate(ctx: OpContext): Promise<void>;
  /** Starts a stopped instance and returns when it is ready. */
  doStart(ctx: OpContext): Promise<void>;
  /**
   * Stops the instance (graceful for `timeoutMs`, then forced); also a suspended one. Returns
   * only when nothing of the instance runs any more (no process, no paused VM).
   */
  doStop(req: StopRequest): Promise<DriverStopOutcome>;
  /** Capability `suspend`: pauses a running instance. */
  doSuspend?(ctx: OpContext): Promise<void>;
  /** Capability `suspend`: continues a suspended instance. */
  doResume?(ctx: OpContext): Promise<void>;
  /** Removes the instance whatever its state (force-stopping it). Returns whether it existed. */
  doDelete(ctx: OpContext): Promise<{ existed: boolean }>;
  /** The real state and properties; `{ state: 'absent' }` when the tool does not know it. */
  doInspect(ctx: OpContext): Promise<Observation>;
  /**
   * Capability `exec`: runs argv (never through a shell) in the running instance. On abort, the
   * command and everything it started inside the instance must end too.
   */
  doExec?(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult>;
  /** Capability `logs`: the instance's own output (console, main process). */
  doLogs?(req: LogsRequest): Promise<void>;
  doSnapshotCreate?(name: string, ctx: OpContext): Promise<void>;
  doSnapshotRestore?(name: string, ctx: OpContext): Promise<void>;
  doSnapshotList?(ctx: OpContext): Promise<SnapshotInfo[]>;
  doSnapshotDelete?(name: string, ctx: OpContext): Promise<void>;
  doCopyIn?(hostPath: string, guestPath: string, ctx: OpContext): Promise<void>;
  doCopyOut?(guestPath: string, hostPath: string, ctx: OpContext): Promise<void>;
  /**
   * Optional: where the container engine inside this running instance can be reached from the
   * host (a socket the tool publishes, or a forward the driver sets up and keeps until stop).
   * Core calls it only while the instance runs. Without it, `Instance.engineEndpoint` is
   * `CAPABILITY_UNSUPPORTED`.
   */
  doEngineEndpoint?(request: EngineRequest, ctx: OpContext): Promise<EngineEndpoint>;
  /**
   * Optional: narrows the backend's capabilities for this instance, from its options and the last
   * observation (undefined before the first). E.g. tart suspends macOS guests only.
   */
  capabilities?(last: Observation | undefined): CapabilityNarrowing;
  /**
   * Optional: tells core when the instance changes behind its back (a VM process exits, a
   * container dies). Returns an unsubscribe function. Core calls it while the instance runs.
   */
  watch?(onChange: (observation: Observation) => void): () => void;
}

/**
 * A backend. `S` is its options schema (zod 4): users write `z.input<S>`, the driver receives
 * `z.output<S>`. Core validates every user input with it (unknown keys are refused).
 */
export interface BackendV1<S extends z4.$ZodType = z4.$ZodType> {
  readonly specificationVersion: SpecificationVersion;
  /** Short name used in `backend:name`, e.g. "docker". Lowercase letters, digits, "-", "_". */
  readonly name: string;
  readonly capabilities: Capabilities;
  /** zod 4 schema of the instance options; core parses user input with it before `driver()`. */
  readonly optionsSchema: S;
  /** Default deadlines for this backend's ops, in ms (core has its own defaults). */
  readonly defaultTimeouts?: Partial<Record<OpName, number>>;
  /** Whether the tool is installed and usable. Never throws. */
  detect(ctx?: { signal?: AbortSignal }): Promise<DetectResult>;
  list(ctx: ListContext): Promise<ListedInstance[]>;
  /** No I/O: returns a driver bound to one instance, with its parsed options. */
  driver(name: string, options: z4.output<S>): DriverV1;
  /**
   * Optional, no I/O: a driver for an instance that exists but whose options @vms does not know
   * (made by another tool, or its record is gone or no longer valid). Core never calls its
   * `doCreate`; verbs that need the creation options may throw. Without it, such an instance can
   * be opened only when `{}` is valid options.
   */
  attach?(name: string): DriverV1;
  /** Optional: checks an instance name for this backend; return a message when invalid. */
  validateName?(name: string): string | undefined;
  /**
   * Optional: tells when any instance of this backend may have changed, whichever process
   * changed it (created, started, stopped, paused, removed), from the tool's own event stream
   * (e.g. the docker engine's events). `onChange` gets the instance name; the caller lists or
   * inspects to learn what changed. `onEnd` is called once if the stream ends by itself (the
   * tool went away): the caller may re-subscribe. Returns an unsubscribe function. Backends
   * whose tool has no event stream leave it out; callers then poll `list()`.
   */
  watchInstances?(listener: InstancesListener): () => void;
  /**
   * Optional: starting from a saved state (a booted instance's memory and disk, saved once).
   * Pools use it when present: one save, then every member starts from it.
   */
  readonly savedStates?: SavedStatesV1;
}

/** A backend's saved states (see `BackendV1.savedStates`). */
export interface SavedStatesV1 {
  /**
   * Boots an instance with `options` (this backend's instance options), waits until it is
   * ready, saves its running state as `name` and returns the options that start new instances
   * from it (each on its own disk, with its own identity).
   */
  save(
    name: string,
    options: Record<string, unknown>,
    ctx?: { signal?: AbortSignal; timeoutMs?: number; onProgress?: (step: string) => void },
  ): Promise<{ name: string; options: Record<string, unknown> }>;
  /** Names of the saved states. */
  list(): Promise<string[]>;
  /** Deletes a saved state; refused while instances started from it exist. */
  delete(name: string): Promise<void>;
}

export interface InstancesListener {
  onChange(name: string): void;
  onEnd?(error?: Error): void;
}

export type OpName =
  | 'create'
  | 'start'
  | 'stop'
  | 'suspend'
  | 'resume'
  | 'delete'
  | 'refresh'
  | 'exec'
  | 'inspect'
  | 'logs'
  | 'snapshot'
  | 'copy'
  | 'engine';

/** The options schema of a backend type. */
export type BackendSchema<B> = B extends BackendV1<infer S> ? S : never;
/** What a user writes as a backend's options (`createInstance(backend, name, options)`). */
export type BackendOptionsInput<B> = z4.input<BackendSchema<B>>;
/** What a backend's driver receives (the parsed options). */
export type BackendOptions<B> = z4.output<BackendSchema<B>>;

/** Whether `value` has the shape of a `vms-backend-v1` backend (no I/O, no schema parsing). */
export function isBackendV1(value: unknown): value is BackendV1 {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return (
    b.specificationVersion === SPECIFICATION_VERSION &&
    typeof b.name === 'string' &&
    typeof b.capabilities === 'object' &&
    b.capabilities !== null &&
    typeof b.detect === 'function' &&
    typeof b.list === 'function' &&
    typeof b.driver === 'function' &&
    typeof b.optionsSchema === 'object' &&
    b.optionsSchema !== null
  );
}
