/**
 * The versioned contract between @vms/core and a backend: `vms-backend-v1`.
 *
 * A backend author implements `BackendV1` and `DriverV1`. Everything else (the state machine,
 * locking, deadlines, abort, rollback, error wrapping, events) lives in core's `Instance`
 * runtime, so a driver only does the work of each verb against its tool.
 */
import type { z } from 'zod';
import type { ProgressDetail } from './events.js';

export const SPECIFICATION_VERSION = 'vms-backend-v1' as const;
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/** What a backend can do beyond create/start/stop/delete/inspect. Checked by core before a call. */
export interface Capabilities {
  suspend: boolean;
  exec: boolean;
  logs: boolean;
  snapshot: boolean;
  copy: boolean;
  portForward: boolean;
  mounts: boolean;
}

export type Capability = keyof Capabilities;

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

export interface ExecIo {
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Allocate a terminal (interactive shells). */
  tty?: boolean;
  /** Core always provides these; drivers call them as output arrives. */
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
}

export interface DriverExecResult {
  exitCode: number;
}

export interface LogsRequest extends OpContext {
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

/** One instance's driver. Verbs are named `do*` so users call `Instance` methods instead. */
export interface DriverV1 {
  /** Creates the instance (stopped). Throws AlreadyExistsError when it exists. */
  doCreate(ctx: OpContext): Promise<void>;
  /** Starts a stopped instance and returns when it is ready. */
  doStart(ctx: OpContext): Promise<void>;
  /** Stops the instance (graceful for `timeoutMs`, then forced); handles a suspended one. */
  doStop(req: StopRequest): Promise<DriverStopOutcome>;
  doSuspend(ctx: OpContext): Promise<void>;
  doResume(ctx: OpContext): Promise<void>;
  /** Removes the instance whatever its state (force-stopping it). Returns whether it existed. */
  doDelete(ctx: OpContext): Promise<{ existed: boolean }>;
  /** The real state and properties; `{ state: 'absent' }` when the tool does not know it. */
  doInspect(ctx: OpContext): Promise<Observation>;
  /** Runs argv in the instance. On abort, the process inside the instance must end too. */
  doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult>;
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
   * Optional: tells core when the instance changes behind its back (a VM process exits, a
   * container dies). Returns an unsubscribe function. Core calls it while the instance runs.
   */
  watch?(onChange: (observation: Observation) => void): () => void;
}

export interface BackendV1<Options = unknown> {
  readonly specificationVersion: SpecificationVersion;
  /** Short name used in `backend:name`, e.g. "docker". */
  readonly name: string;
  readonly capabilities: Capabilities;
  /** zod schema of the instance options; core validates with it before `driver()` is called. */
  readonly optionsSchema: z.ZodType<Options>;
  /** Default deadlines for this backend's ops, in ms (core has its own defaults). */
  readonly defaultTimeouts?: Partial<Record<OpName, number>>;
  /** Whether the tool is installed and usable. Never throws. */
  detect(ctx?: { signal?: AbortSignal }): Promise<DetectResult>;
  list(ctx: ListContext): Promise<ListedInstance[]>;
  /** No I/O: returns a driver bound to one instance. `options` are already validated. */
  driver(name: string, options: Options): DriverV1;
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

/** Infers a backend's options type. */
export type BackendOptions<B> = B extends BackendV1<infer O> ? O : never;

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
    typeof b.optionsSchema === 'object'
  );
}
