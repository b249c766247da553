/**
 * An in-memory backend with fault injection, for testing the runtime, the conformance suite,
 * pools and CLIs without any tool installed. Instances live in a `world` shared by every driver
 * of one backend object, so several Instance handles see the same reality.
 */
import { z } from 'zod';
import {
  AbortedError,
  AlreadyExistsError,
  NotFoundError,
  OperationFailedError,
} from '../errors.js';
import { commonInstanceOptions } from '../options.js';
import {
  type BackendV1,
  type Capabilities,
  type DriverV1,
  type ExecIo,
  type ListedInstance,
  type Observation,
  type ObservedState,
  type OpContext,
  type SnapshotInfo,
  SPECIFICATION_VERSION,
} from '../spec.js';

export const mockOptionsSchema = commonInstanceOptions.extend({
  image: z.string().min(1).default('mock:latest'),
});
export type MockOptions = z.input<typeof mockOptionsSchema>;

export type MockVerb =
  | 'create'
  | 'start'
  | 'stop'
  | 'suspend'
  | 'resume'
  | 'delete'
  | 'inspect'
  | 'exec'
  | 'list'
  | 'detect'
  | 'logs';

export interface MockFault {
  verb: MockVerb;
  /**
   * `fail`: throw without changing anything. `hang`: never finish (until aborted, or never with
   * `ignoreSignal`). `crash`: the instance dies half-way (left `broken`, or `stopped` for start)
   * and the verb throws.
   */
  kind: 'fail' | 'hang' | 'crash';
  /** Only for this instance (default: any). */
  name?: string;
  /** How many calls it hits (default 1; Infinity for all). */
  times?: number;
  ignoreSignal?: boolean;
  message?: string;
}

export interface MockInstanceRecord {
  name: string;
  state: ObservedState;
  reason?: string;
  options: z.output<typeof mockOptionsSchema>;
  createdAt: string;
  files: Map<string, string>;
  snapshots: Map<string, { files: Map<string, string>; createdAt: string }>;
  logs: string[];
  /** Exec'd processes still running (by id), so tests can see an exec ended inside the guest. */
  processes: Set<string>;
}

export interface MockCall {
  verb: MockVerb;
  name?: string;
  argv?: string[];
}

export interface MockBackend extends BackendV1<MockOptions> {
  readonly world: Map<string, MockInstanceRecord>;
  readonly calls: MockCall[];
  inject(fault: MockFault): void;
  clearFaults(): void;
  /** Changes an instance behind the runtime's back (its process died, someone removed it). */
  setBehindBack(name: string, state: ObservedState, reason?: string): void;
}

export interface MockBackendSettings {
  name?: string;
  capabilities?: Partial<Capabilities>;
  /** Simulated work per verb, in ms (default 0: resolves on the next tick). */
  delayMs?: number;
  /** Whether the tool is "installed". */
  available?: boolean;
}

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new AbortedError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new AbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createMockBackend(settings: MockBackendSettings = {}): MockBackend {
  const name = settings.name ?? 'mock';
  const world = new Map<string, MockInstanceRecord>();
  const calls: MockCall[] = [];
  let faults: MockFault[] = [];
  const delay = settings.delayMs ?? 0;
  const capabilities: Capabilities = {
    suspend: true,
    exec: true,
    logs: true,
    snapshot: true,
    copy: false,
    portForward: true,
    mounts: true,
    ...settings.capabilities,
  };

  /** Applies an injected fault for this call, if any. Returns true when the verb must crash. */
  async function checkFault(
    verb: MockVerb,
    instance: string | undefined,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const fault = faults.find(
      (f) => f.verb === verb && (f.name === undefined || f.name === instance),
    );
    if (!fault) return false;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults = faults.filter((f) => f !== fault);
    if (fault.kind === 'fail')
      throw new OperationFailedError(fault.message ?? `injected ${verb} failure`);
    if (fault.kind === 'hang') {
      if (fault.ignoreSignal || !signal) await new Promise<never>(() => {});
      await new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    return true;
  }

  function record(instance: string): MockInstanceRecord {
    const r = world.get(instance);
    if (!r) throw new NotFoundError(`${name}:${instance} does not exist`);
    return r;
  }

  async function step(verb: MockVerb, instance: string, ctx: OpContext): Promise<boolean> {
    calls.push({ verb, name: instance });
    const crash = await checkFault(verb, instance, ctx.signal);
    if (delay > 0) await abortable(delay, ctx.signal);
    else await Promise.resolve();
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new AbortedError();
    return crash;
  }

  const watchers = new Map<string, Set<(o: Observation) => void>>();
  function notify(instance: string): void {
    const r = world.get(instance);
    const observation: Observation = r
      ? { state: r.state, ...(r.reason ? { reason: r.reason } : {}) }
      : { state: 'absent' };
    for (const w of watchers.get(instance) ?? []) w(observation);
  }

  function driver(instance: string, options: MockOptions): DriverV1 {
    const parsed = mockOptionsSchema.parse(options);
    const d: DriverV1 = {
      async doCreate(ctx) {
        const crash = await step('create', instance, ctx);
        if (world.has(instance)) throw new AlreadyExistsError(`${name}:${instance} already exists`);
        world.set(instance, {
          name: instance,
          state: crash ? 'broken' : 'stopped',
          ...(crash ? { reason: 'crashed during create' } : {}),
          options: parsed,
          createdAt: new Date().toISOString(),
          files: new Map(),
          snapshots: new Map(),
          logs: [],
          processes: new Set(),
        });
        if (crash) throw new OperationFailedError('injected crash during create');
      },
      async doStart(ctx) {
        const crash = await step('start', instance, ctx);
        const r = record(instance);
        if (crash) {
          r.state = 'stopped';
          r.reason = 'crashed during start';
          throw new OperationFailedError('injected crash during start: guest exited with code 1');
        }
        r.state = 'running';
        delete r.reason;
        r.logs.push(`${instance} booted`);
      },
      async doStop(req) {
        const crash = await step('stop', instance, req);
        const r = record(instance);
        if (crash) {
          r.state = 'broken';
          r.reason = 'crashed during stop';
          throw new OperationFailedError('injected crash during stop');
        }
        if (r.state === 'stopped') return { how: 'already-stopped' };
        r.state = 'stopped';
        r.processes.clear();
        return {
          how: req.force ? 'forced' : 'graceful',
          guestExit: { exitCode: req.force ? 137 : 0 },
        };
      },
      async doSuspend(ctx) {
        const crash = await step('suspend', instance, ctx);
        const r = record(instance);
        if (crash) {
          r.state = 'broken';
          r.reason = 'crashed during suspend';
          throw new OperationFailedError('injected crash during suspend');
        }
        r.state = 'suspended';
      },
      async doResume(ctx) {
        const crash = await step('resume', instance, ctx);
        const r = record(instance);
        if (crash) {
          r.state = 'broken';
          r.reason = 'crashed during resume';
          throw new OperationFailedError('injected crash during resume');
        }
        r.state = 'running';
      },
      async doDelete(ctx) {
        const crash = await step('delete', instance, ctx);
        if (crash) {
          const r = world.get(instance);
          if (r) {
            r.state = 'broken';
            r.reason = 'crashed during delete';
          }
          throw new OperationFailedError('injected crash during delete');
        }
        return { existed: world.delete(instance) };
      },
      async doInspect(ctx) {
        await step('inspect', instance, ctx);
        const r = world.get(instance);
        if (!r) return { state: 'absent' };
        return {
          state: r.state,
          ...(r.reason ? { reason: r.reason } : {}),
          properties: {
            image: r.options.image,
            createdAt: r.createdAt,
            labels: r.options.labels,
            ...(r.state === 'running' ? { ip: '192.0.2.10' } : {}),
            ...(r.options.cpus ? { cpus: r.options.cpus } : {}),
            ...(r.options.memoryMiB ? { memoryMiB: r.options.memoryMiB } : {}),
          },
        };
      },
      async doExec(argv, io, ctx) {
        calls.push({ verb: 'exec', name: instance, argv });
        await checkFault('exec', instance, ctx.signal);
        const r = record(instance);
        if (r.state !== 'running')
          throw new OperationFailedError(`${name}:${instance} is not running`);
        return runMockCommand(r, argv, io, ctx);
      },
      async doLogs(req) {
        await step('logs', instance, req);
        const r = record(instance);
        for (const line of r.logs) req.onData(Buffer.from(`${line}\n`), 'stdout');
      },
      async doSnapshotCreate(snapshot, ctx) {
        await step('exec', instance, ctx);
        const r = record(instance);
        r.snapshots.set(snapshot, { files: new Map(r.files), createdAt: new Date().toISOString() });
      },
      async doSnapshotRestore(snapshot, ctx) {
        await step('exec', instance, ctx);
        const r = record(instance);
        const s = r.snapshots.get(snapshot);
        if (!s)
          throw new NotFoundError(`snapshot ${snapshot} of ${name}:${instance} does not exist`);
        r.files = new Map(s.files);
      },
      async doSnapshotList(ctx): Promise<SnapshotInfo[]> {
        await step('exec', instance, ctx);
        return [...record(instance).snapshots].map(([n, s]) => ({
          name: n,
          createdAt: s.createdAt,
        }));
      },
      async doSnapshotDelete(snapshot, ctx) {
        await step('exec', instance, ctx);
        if (!record(instance).snapshots.delete(snapshot)) {
          throw new NotFoundError(`snapshot ${snapshot} of ${name}:${instance} does not exist`);
        }
      },
      watch(onChange) {
        const set = watchers.get(instance) ?? new Set();
        set.add(onChange);
        watchers.set(instance, set);
        return () => set.delete(onChange);
      },
    };
    return d;
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    capabilities,
    optionsSchema: mockOptionsSchema as unknown as z.ZodType<MockOptions>,
    world,
    calls,
    inject(fault) {
      faults.push({ ...fault });
    },
    clearFaults() {
      faults = [];
    },
    setBehindBack(instance, state, reason) {
      if (state === 'absent') world.delete(instance);
      else {
        const r = record(instance);
        r.state = state;
        if (reason) r.reason = reason;
        else delete r.reason;
      }
      notify(instance);
    },
    async detect() {
      calls.push({ verb: 'detect' });
      if (settings.available === false) {
        return {
          available: false,
          reason: 'mock tool not installed',
          hint: 'install the mock tool',
        };
      }
      return { available: true, version: '1.0.0-mock' };
    },
    async list(ctx): Promise<ListedInstance[]> {
      calls.push({ verb: 'list' });
      await checkFault('list', undefined, ctx.signal);
      return [...world.values()].map((r) => ({
        name: r.name,
        state: r.state,
        managed: true,
        ...(r.reason ? { reason: r.reason } : {}),
      }));
    },
    driver,
  };
}

/**
 * A tiny command interpreter standing in for a guest: echo, cat, true, false, sleep N, env,
 * pwd, id -un, `sh -c "exit N"`, `sh -c "echo …"`, write/read files (`tee PATH`, `cat PATH`).
 */
async function runMockCommand(
  r: MockInstanceRecord,
  argv: string[],
  io: ExecIo,
  ctx: OpContext,
): Promise<{ exitCode: number }> {
  const [cmd, ...args] = argv;
  const out = (text: string) => io.onStdout(Buffer.from(text));
  const stdinText = async (): Promise<string> => {
    const s = io.stdin;
    if (s === undefined) return '';
    if (typeof s === 'string') return s;
    if (s instanceof Uint8Array) return Buffer.from(s).toString('utf8');
    const chunks: Buffer[] = [];
    for await (const c of s as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks).toString('utf8');
  };
  switch (cmd) {
    case 'true':
      return { exitCode: 0 };
    case 'false':
      return { exitCode: 1 };
    case 'echo':
      out(`${args.join(' ')}\n`);
      return { exitCode: 0 };
    case 'pwd':
      out(`${io.cwd ?? '/'}\n`);
      return { exitCode: 0 };
    case 'id':
      out(`${io.user ?? 'root'}\n`);
      return { exitCode: 0 };
    case 'env':
      for (const [k, v] of Object.entries({ ...r.options.env, ...io.env })) out(`${k}=${v}\n`);
      return { exitCode: 0 };
    case 'tee': {
      const text = await stdinText();
      if (args[0]) r.files.set(args[0], text);
      out(text);
      return { exitCode: 0 };
    }
    case 'cat': {
      if (args[0] === undefined) {
        out(await stdinText());
        return { exitCode: 0 };
      }
      const content = r.files.get(args[0]);
      if (content === undefined) {
        io.onStderr(Buffer.from(`cat: ${args[0]}: No such file or directory\n`));
        return { exitCode: 1 };
      }
      out(content);
      return { exitCode: 0 };
    }
    case 'sleep': {
      const id = `${Date.now()}-${Math.random()}`;
      r.processes.add(id);
      try {
        await abortable(Number(args[0] ?? '0') * 1000, ctx.signal);
        return { exitCode: 0 };
      } finally {
        r.processes.delete(id);
      }
    }
    case 'sh': {
      const script = args[0] === '-c' ? (args[1] ?? '') : '';
      const exit = /^\s*exit\s+(\d+)\s*$/.exec(script);
      if (exit) return { exitCode: Number(exit[1]) };
      const echo = /^\s*echo\s+(.*?)\s*(?:;\s*exit\s+(\d+))?\s*$/.exec(script);
      if (echo) {
        out(`${echo[1]}\n`);
        return { exitCode: Number(echo[2] ?? 0) };
      }
      io.onStderr(Buffer.from(`sh: mock cannot run: ${script}\n`));
      return { exitCode: 2 };
    }
    default:
      io.onStderr(Buffer.from(`${cmd}: command not found\n`));
      return { exitCode: 127 };
  }
}
