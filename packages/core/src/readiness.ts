/**
 * Readiness strategies applied after a start, composable like testcontainers' wait strategies:
 * an exec probe, a random-nonce echo, a TCP port, a TCP/SSH banner, a log line, a custom check,
 * and `all` of them.
 * Polling strategies use `waitFor`'s capped backoff; `logLine` is event-driven. Every strategy
 * honours the deadline and the signal it is given (TimeoutError / AbortedError).
 */
import { connect } from 'node:net';
import { OperationFailedError, TimeoutError } from './errors.js';
import { randomHex } from './ids.js';
import { lazySchema, parseOptions } from './options.js';
import { abortReasonToError, deadlineSignal, fatal, isTimeoutReason, waitFor } from './wait.js';
import * as z from './zod.js';

export interface ReadinessTarget {
  /** Runs argv in the instance. */
  exec(
    argv: string[],
    ctx: { signal: AbortSignal },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Host address TCP probes connect to (default 127.0.0.1). */
  host?: string;
  /** Host port that forwards to a guest port, if any. */
  hostPort?(guestPort: number): number | undefined;
  /** Subscribes to the instance's output lines (logs / serial console); returns unsubscribe. */
  onLine?(listener: (line: string) => void): () => void;
}

export interface ReadinessContext {
  signal: AbortSignal;
  /** Epoch ms by which the strategy must have passed. */
  deadline: number;
}

export interface ReadinessStrategy {
  readonly description: string;
  wait(target: ReadinessTarget, ctx: ReadinessContext): Promise<void>;
}

const BACKOFF = { initialMs: 100, maxMs: 1000 };

const execOptionsSchema = lazySchema(() =>
  z
    .object({
      expectExitCode: z.number().int().optional(),
      expectStdout: z.union([z.string(), z.instanceof(RegExp)]).optional(),
      attemptTimeoutMs: z.number().positive().optional(),
    })
    .strict(),
);
export type ExecReadinessOptions = z.input<typeof execOptionsSchema>;

const argvSchema = lazySchema(() => z.array(z.string()).min(1, 'must name a command'));
const portSchema = lazySchema(() => z.number().int().min(1).max(65535));

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}

function exec(argv: string[], options: ExecReadinessOptions = {}): ReadinessStrategy {
  parseOptions(argvSchema(), argv, 'argv');
  const opts = parseOptions(execOptionsSchema(), options);
  const expectExitCode = opts.expectExitCode ?? 0;
  const description = `\`${argv.join(' ')}\` to exit ${expectExitCode}${
    opts.expectStdout === undefined ? '' : ` printing ${String(opts.expectStdout)}`
  }`;
  return {
    description,
    async wait(target, ctx) {
      await waitFor(
        async ({ signal }) => {
          const result = await target.exec(argv, { signal });
          if (result.exitCode !== expectExitCode) {
            const why = lastLine(result.stderr) || lastLine(result.stdout);
            throw new Error(`exit code ${result.exitCode}${why ? `: ${why}` : ''}`);
          }
          const expected = opts.expectStdout;
          if (expected === undefined) return true;
          const matched =
            typeof expected === 'string'
              ? result.stdout.includes(expected)
              : expected.test(result.stdout);
          if (!matched)
            throw new Error(`unexpected output: ${lastLine(result.stdout) || '(none)'}`);
          return true;
        },
        {
          description,
          deadline: ctx.deadline,
          signal: ctx.signal,
          backoff: BACKOFF,
          ...(opts.attemptTimeoutMs === undefined
            ? {}
            : { attemptTimeoutMs: opts.attemptTimeoutMs }),
        },
      );
    },
  };
}

/**
 * Echoes a fresh random nonce in the instance and checks it comes back: proves a real round trip
 * through the exec path (not a cached or replayed answer).
 */
function echoNonce(options: { attemptTimeoutMs?: number } = {}): ReadinessStrategy {
  const opts = parseOptions(execOptionsSchema().pick({ attemptTimeoutMs: true }), options);
  return {
    description: 'an echo round trip in the instance',
    async wait(target, ctx) {
      const nonce = `vms-ready-${randomHex(8)}`;
      await exec(['echo', nonce], { expectStdout: nonce, ...opts }).wait(target, ctx);
    },
  };
}

/** Connects once to host:port; resolves on accept, rejects on error or abort. */
function tryConnect(host: string, port: number, signal: AbortSignal): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    const done = () => signal.removeEventListener('abort', onAbort);
    socket.once('connect', () => {
      done();
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error) => {
      done();
      socket.destroy();
      reject(error);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const tcpOptionsSchema = lazySchema(() =>
  z
    .object({
      /** Address to connect to (default: the target's host, else 127.0.0.1). */
      host: z.string().min(1).optional(),
      /** The port is a guest port: connect to the host port that forwards to it. */
      guest: z.boolean().optional(),
    })
    .strict(),
);

/** The host port to connect to for `port` (a guest port when `guest`), or a (fatal) error. */
function resolvePort(target: ReadinessTarget, port: number, guest: boolean | undefined): number {
  if (!guest) return port;
  if (!target.hostPort) {
    throw fatal(
      new OperationFailedError(
        `cannot wait for guest port ${port}: the instance forwards no ports`,
      ),
    );
  }
  const mapped = target.hostPort(port);
  if (mapped === undefined) throw new Error(`no host port forwards guest port ${port} yet`);
  return mapped;
}

/**
 * Waits until a TCP port accepts connections. Beware: QEMU's user-mode `hostfwd` (slirp) accepts
 * on the host before the guest listens; use `tcpBanner`/`sshBanner` there.
 */
function tcpPort(port: number, options: z.input<typeof tcpOptionsSchema> = {}): ReadinessStrategy {
  parseOptions(portSchema(), port, 'port');
  const opts = parseOptions(tcpOptionsSchema(), options);
  const description = `${opts.guest ? 'guest ' : ''}TCP port ${port} to accept connections`;
  return {
    description,
    async wait(target, ctx) {
      await waitFor(
        async ({ signal }) =>
          tryConnect(
            opts.host ?? target.host ?? '127.0.0.1',
            resolvePort(target, port, opts.guest),
            signal,
          ),
        { description, deadline: ctx.deadline, signal: ctx.signal, backoff: BACKOFF },
      );
    },
  };
}

/** Connects once and resolves when what the server sends first matches `expect`. */
function readBanner(
  host: string,
  port: number,
  matches: (text: string) => boolean,
  signal: AbortSignal,
): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    const finish = (error?: unknown) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve(true);
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (matches(received)) finish();
      else if (received.length > 4096)
        finish(new Error(`unexpected banner: ${received.slice(0, 80)}`));
    });
    socket.once('end', () =>
      finish(
        new Error(
          `connection closed before a banner${received ? ` (got ${received.slice(0, 80)})` : ''}`,
        ),
      ),
    );
    socket.once('error', (error) => finish(error));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const bannerOptionsSchema = lazySchema(() =>
  tcpOptionsSchema()
    .extend({
      /** What the server's first bytes must match (default /^SSH-/). */
      expect: z.union([z.string().min(1), z.instanceof(RegExp)]).optional(),
      /** How long one connection may wait for the banner before retrying (default 1000 ms). */
      attemptTimeoutMs: z.number().positive().optional(),
    })
    .strict(),
);
export type BannerReadinessOptions = z.input<typeof bannerOptionsSchema>;

/**
 * Waits until a TCP server on `port` sends a banner matching `expect`: proves the service itself
 * answers, not just a port forwarder. Short attempts (1 s) retry a SYN the forwarder dropped.
 */
function tcpBanner(port: number, options: BannerReadinessOptions = {}): ReadinessStrategy {
  parseOptions(portSchema(), port, 'port');
  const opts = parseOptions(bannerOptionsSchema(), options);
  const expect = opts.expect ?? /^SSH-/;
  const matches = (text: string) =>
    typeof expect === 'string' ? text.includes(expect) : expect.test(text);
  const description = `${opts.guest ? 'guest ' : ''}TCP port ${port} to send a banner matching ${String(expect)}`;
  return {
    description,
    async wait(target, ctx) {
      await waitFor(
        async ({ signal }) =>
          readBanner(
            opts.host ?? target.host ?? '127.0.0.1',
            resolvePort(target, port, opts.guest),
            matches,
            signal,
          ),
        {
          description,
          deadline: ctx.deadline,
          signal: ctx.signal,
          backoff: BACKOFF,
          attemptTimeoutMs: opts.attemptTimeoutMs ?? 1000,
        },
      );
    },
  };
}

/** `tcpBanner` for an SSH server: waits for its `SSH-2.0-…` greeting. */
function sshBanner(
  port: number,
  options: Omit<BannerReadinessOptions, 'expect'> = {},
): ReadinessStrategy {
  return tcpBanner(port, { ...options, expect: /^SSH-\d/ });
}

const logLineOptionsSchema = lazySchema(() =>
  z.object({ times: z.number().int().positive().optional() }).strict(),
);

/**
 * Waits, event-driven, until `times` (default 1) output lines match `pattern` (a substring or a
 * RegExp). Needs a target with `onLine`; lines printed before `wait` subscribed are not seen.
 */
function logLine(
  pattern: string | RegExp,
  options: z.input<typeof logLineOptionsSchema> = {},
): ReadinessStrategy {
  parseOptions(z.union([z.string().min(1), z.instanceof(RegExp)]), pattern, 'pattern');
  const times = parseOptions(logLineOptionsSchema(), options).times ?? 1;
  const description = `output line matching ${String(pattern)}${times > 1 ? ` ${times} times` : ''}`;
  const matches = (line: string) =>
    typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
  return {
    description,
    async wait(target, ctx) {
      if (!target.onLine) {
        throw new OperationFailedError(
          `cannot wait for ${description}: this instance provides no output lines (logs or console)`,
          { hint: 'use readiness.exec or readiness.tcpPort instead' },
        );
      }
      const limit = deadlineSignal({ deadline: ctx.deadline, signal: ctx.signal });
      let seen = 0;
      let unsubscribe: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            const error = abortReasonToError(limit.signal, `waiting for ${description}`);
            reject(
              isTimeoutReason(limit.signal.reason)
                ? new TimeoutError(`${error.message} (seen ${seen} of ${times})`, {
                    cause: limit.signal.reason,
                  })
                : error,
            );
          };
          if (limit.signal.aborted) {
            onAbort();
            return;
          }
          limit.signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = target.onLine!((line) => {
            if (!matches(line)) return;
            seen++;
            if (seen >= times) {
              limit.signal.removeEventListener('abort', onAbort);
              resolve();
            }
          });
        });
      } finally {
        unsubscribe?.();
        limit.dispose();
      }
    },
  };
}

/** Polls `fn` (with capped backoff) until it returns true. */
function custom(
  description: string,
  fn: (target: ReadinessTarget, ctx: ReadinessContext) => Promise<boolean>,
): ReadinessStrategy {
  parseOptions(z.string().min(1), description, 'description');
  return {
    description,
    async wait(target, ctx) {
      await waitFor(async ({ signal }) => fn(target, { signal, deadline: ctx.deadline }), {
        description,
        deadline: ctx.deadline,
        signal: ctx.signal,
        backoff: BACKOFF,
      });
    },
  };
}

/** Runs strategies in parallel; passes when all pass. The first failure stops the others. */
function all(...strategies: ReadinessStrategy[]): ReadinessStrategy {
  return {
    description: strategies.map((s) => s.description).join(' and '),
    async wait(target, ctx) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(ctx.signal.reason);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.all(
          strategies.map((strategy) =>
            strategy
              .wait(target, { signal: controller.signal, deadline: ctx.deadline })
              .catch((error: unknown) => {
                controller.abort(error);
                throw error;
              }),
          ),
        );
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** The readiness strategies. Pass them to an Instance (`readiness`) or call `wait` yourself. */
export const readiness = { exec, echoNonce, tcpPort, tcpBanner, sshBanner, logLine, custom, all };
