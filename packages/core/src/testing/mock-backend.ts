/**
 * An in-memory backend with fault injection, for testing the runtime, the conformance suite,
 * pools and CLIs without any tool installed. Instances live in a `world` shared by every driver
 * of one backend object, so several Instance handles see the same reality.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
} from '../spec/v1.js';
import * as z from '../zod.js';
import type { WorldObserver, WorldState } from './conformance/types.js';

export const mockOptionsSchema = commonInstanceOptions.extend({
  image: z.string().min(1).default('mock:latest'),
});
/** What a user writes. */
export type MockOptionsInput = z.input<typeof mockOptionsSchema>;
/** What the mock's driver receives. */
export type MockOptions = z.output<typeof mockOptionsSchema>;

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
  options: MockOptions;
  createdAt: string;
  files: Map<string, string>;
  snapshots: Map<string, { files: Map<string, string>; createdAt: string }>;
  logs: string[];
  /** Exec'd processes still running (id → command line), so tests can see an exec ended inside. */
  processes: Map<string, string>;
}

export interface MockCall {
  verb: MockVerb;
  name?: string;
  argv?: string[];
}

export interface MockBackend extends BackendV1<typeof mockOptionsSchema> {
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
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms)
      : undefined;
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

  function driver(instance: string, parsed: MockOptions): DriverV1 {
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
          processes: new Map(),
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
        // Following ends only when the op's signal aborts (its deadline, or the caller).
        if (req.follow) await abortable(Number.POSITIVE_INFINITY, req.signal);
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
    optionsSchema: mockOptionsSchema,
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

/** Splits a tiny shell script into commands (`;`), words (quotes kept together) and `>&2`. */
function parseScript(script: string): { words: string[]; toStderr: boolean }[] {
  return script
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const words: string[] = [];
      for (const m of part.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g))
        words.push(m[1] ?? m[2] ?? m[3] ?? '');
      const toStderr = words.at(-1) === '>&2';
      return { words: toStderr ? words.slice(0, -1) : words, toStderr };
    });
}

/** Where a guest path lands on the host through a mount, if it does. */
function mounted(
  r: MockInstanceRecord,
  path: string,
): { host: string; readOnly: boolean } | undefined {
  for (const m of r.options.mounts) {
    if (path.startsWith(`${m.target}/`))
      return { host: join(m.source, path.slice(m.target.length + 1)), readOnly: m.readOnly };
  }
  return undefined;
}

/**
 * A tiny command interpreter standing in for a guest, enough for the conformance suite: echo,
 * cat, tee, true, false, sleep N, env, pwd, id -un, tty, ps, `sh -c` over `;`-separated simple
 * commands (with `>&2` and `exit N`); files live in memory, or on the host under a mount; a
 * missing command exits 127.
 */
async function runMockCommand(
  r: MockInstanceRecord,
  argv: string[],
  io: ExecIo,
  ctx: OpContext,
): Promise<{ exitCode: number }> {
  const id = `${Date.now()}-${Math.random()}`;
  r.processes.set(id, argv.join(' '));
  try {
    return await runOne(r, argv, io, ctx, (text) => io.onStdout(Buffer.from(text)));
  } finally {
    r.processes.delete(id);
  }
}

async function runOne(
  r: MockInstanceRecord,
  argv: string[],
  io: ExecIo,
  ctx: OpContext,
  out: (text: string) => void,
): Promise<{ exitCode: number }> {
  const [cmd, ...args] = argv;
  const err = (text: string) => io.onStderr(Buffer.from(text));
  const stdinText = async (): Promise<string> => {
    const stdin = io.stdin;
    if (stdin === undefined) return '';
    if (typeof stdin === 'string') return stdin;
    if (stdin instanceof Uint8Array) return Buffer.from(stdin).toString('utf8');
    const chunks: Buffer[] = [];
    for await (const c of stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks).toString('utf8');
  };
  const readFile = (path: string): string | undefined => {
    const m = mounted(r, path);
    if (!m) return r.files.get(path);
    try {
      return readFileSync(m.host, 'utf8');
    } catch {
      return undefined;
    }
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
    case 'tty':
      out(io.tty ? '/dev/pts/0\n' : 'not a tty\n');
      return { exitCode: io.tty ? 0 : 1 };
    case 'env':
      for (const [k, v] of Object.entries({ ...r.options.env, ...io.env })) out(`${k}=${v}\n`);
      return { exitCode: 0 };
    case 'ps':
      out('COMMAND\n');
      for (const line of r.processes.values()) out(`${line}\n`);
      return { exitCode: 0 };
    case 'tee': {
      const text = await stdinText();
      const path = args[0];
      if (path) {
        const m = mounted(r, path);
        if (m?.readOnly) {
          err(`tee: ${path}: Read-only file system\n`);
          return { exitCode: 1 };
        }
        if (m) writeFileSync(m.host, text);
        else r.files.set(path, text);
      }
      out(text);
      return { exitCode: 0 };
    }
    case 'cat': {
      if (args[0] === undefined) {
        out(await stdinText());
        return { exitCode: 0 };
      }
      const content = readFile(args[0]);
      if (content === undefined) {
        err(`cat: ${args[0]}: No such file or directory\n`);
        return { exitCode: 1 };
      }
      out(content);
      return { exitCode: 0 };
    }
    case 'sleep': {
      const id = `${Date.now()}-${Math.random()}`;
      r.processes.set(id, argv.join(' '));
      try {
        await abortable(Number(args[0] ?? '0') * 1000, ctx.signal);
        return { exitCode: 0 };
      } finally {
        r.processes.delete(id);
      }
    }
    case 'sh': {
      if (args[0] !== '-c' || args[1] === undefined) {
        err('sh: the mock runs only sh -c SCRIPT\n');
        return { exitCode: 2 };
      }
      let last = 0;
      for (const { words, toStderr } of parseScript(args[1])) {
        if (words[0] === 'exit') return { exitCode: Number(words[1] ?? last) };
        const print = toStderr ? err : out;
        last = (await runOne(r, words, io, ctx, print)).exitCode;
      }
      return { exitCode: last };
    }
    default:
      err(`${cmd}: command not found\n`);
      return { exitCode: 127 };
  }
}

/** The mock's world as the conformance suite's observer sees it (never through a driver). */
export function mockObserver(mock: MockBackend): WorldObserver {
  return {
    async state(name): Promise<WorldState> {
      const r = mock.world.get(name);
      if (!r) return 'absent';
      return r.state === 'broken' ? 'stopped' : r.state;
    },
    async processes(name, text) {
      const r = mock.world.get(name);
      return r ? [...r.processes.values()].filter((line) => line.includes(text)).length : 0;
    },
  };
}
