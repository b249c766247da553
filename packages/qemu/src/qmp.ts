/**
 * A small QMP client: greeting + capabilities negotiation, commands matched to replies by id,
 * events as an emitter (events may arrive before a command's reply), QMP errors mapped to typed
 * errors, and a deadline on every call.
 */
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import {
  AbortedError,
  OperationFailedError,
  ProtocolError,
  TimeoutError,
  type VmsErrorOptions,
} from '@vms/core';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

function isTimestamp(value: unknown): value is NonNullable<QmpEvent['timestamp']> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).seconds === 'number' &&
    typeof (value as Record<string, unknown>).microseconds === 'number'
  );
}

export interface QmpCallOptions {
  signal?: AbortSignal;
  /** Relative deadline (default 10 s). */
  timeoutMs?: number;
}

/** A command QEMU answered with `{"error": {class, desc}}`. */
export class QmpCommandError extends OperationFailedError {
  readonly qmpClass: string;
  readonly command: string;
  constructor(command: string, qmpClass: string, desc: string, options: VmsErrorOptions = {}) {
    super(`QMP ${command} failed (${qmpClass}): ${desc}`, options);
    this.name = 'QmpCommandError';
    this.qmpClass = qmpClass;
    this.command = command;
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Runs `fn` with a signal aborted at the caller's abort or after `timeoutMs`, mapping either to
 * AbortedError / TimeoutError that name `what`.
 */
async function withDeadline<T>(
  what: string,
  options: QmpCallOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = AbortSignal.timeout(Math.max(0, timeoutMs));
  const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  if (signal.aborted) throw abortError(what, options.signal, timeoutMs);
  return await new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(what, options.signal, timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
    fn(signal).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function abortError(what: string, caller: AbortSignal | undefined, timeoutMs: number): Error {
  if (caller?.aborted) return new AbortedError(`aborted: ${what}`, { cause: caller.reason });
  return new TimeoutError(`timed out after ${timeoutMs}ms: ${what}`, { timeoutMs });
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  #buffer = '';
  #nextId = 1;
  #closed = false;
  /** The greeting's QEMU version, e.g. `{ major: 7, minor: 2, micro: 22 }`. */
  version: { major: number; minor: number; micro: number } | undefined;
  /** Resolves when the connection ends (QEMU quit, crashed, or close() was called). */
  readonly closed: Promise<void>;
  #greeting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;

  private constructor(socket: Socket) {
    super();
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      const end = () => {
        if (this.#closed) return;
        this.#closed = true;
        const error = new ProtocolError('QMP connection closed');
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
        this.#greeting?.reject(error);
        this.emit('close');
        resolve();
      };
      socket.on('close', end);
      socket.on('end', end);
      socket.on('error', end);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
  }

  /** Connects to a QMP unix socket and negotiates capabilities. */
  static async connect(path: string, options: QmpCallOptions = {}): Promise<QmpClient> {
    return withDeadline(`connecting to QMP at ${path}`, options, async (signal) => {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = createConnection({ path });
        const onAbort = () => s.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        s.once('connect', () => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        });
        s.once('error', (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(
            new ProtocolError(`cannot connect to QMP socket ${path}: ${e.message}`, { cause: e }),
          );
        });
      });
      const client = new QmpClient(socket);
      signal.addEventListener('abort', () => client.close(), { once: true });
      const greeting = (await new Promise<unknown>((resolve, reject) => {
        client.#greeting = { resolve, reject };
      })) as { QMP?: { version?: { qemu?: QmpClient['version'] } } };
      client.version = greeting.QMP?.version?.qemu;
      await client.execute('qmp_capabilities', undefined, { signal });
      return client;
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const nl = this.#buffer.indexOf('\n');
      if (nl < 0) return;
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      this.#fail(
        new ProtocolError(`QMP sent invalid JSON: ${line.slice(0, 200)}`, { cause: error }),
      );
      return;
    }
    if ('QMP' in message) {
      this.#greeting?.resolve(message);
      this.#greeting = undefined;
      return;
    }
    if (typeof message.event === 'string') {
      const { data, timestamp } = message;
      const event: QmpEvent = { event: message.event };
      if (typeof data === 'object' && data !== null) event.data = { ...data };
      if (isTimestamp(timestamp)) event.timestamp = timestamp;
      this.emit('event', event);
      return;
    }
    const id = message.id === undefined ? undefined : String(message.id);
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending || id === undefined) return; // a reply nobody waits for (timed out earlier)
    this.#pending.delete(id);
    if ('error' in message) {
      const err = (message.error ?? {}) as { class?: string; desc?: string };
      pending.reject(
        new QmpCommandError(
          pending.command,
          err.class ?? 'GenericError',
          err.desc ?? 'unknown error',
        ),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  #fail(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.close();
  }

  /** Sends a command and resolves with its `return` value. */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: QmpCallOptions = {},
  ): Promise<T> {
    return withDeadline(`QMP ${command}`, options, (signal) => {
      if (this.#closed)
        return Promise.reject(new ProtocolError(`QMP connection closed before ${command}`));
      const id = `vms-${this.#nextId++}`;
      const reply = new Promise<unknown>((resolve, reject) => {
        this.#pending.set(id, { command, resolve, reject });
      });
      signal.addEventListener('abort', () => this.#pending.delete(id), { once: true });
      this.#socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
      return reply as Promise<T>;
    });
  }

  /**
   * Runs an HMP command through `human-monitor-command`. HMP failures come back as text in a
   * successful reply; lines starting with "Error:" or "unknown command" are thrown as errors.
   */
  async hmp(commandLine: string, options: QmpCallOptions = {}): Promise<string> {
    const out = await this.execute<string>(
      'human-monitor-command',
      { 'command-line': commandLine },
      options,
    );
    const text = (out ?? '').replace(/\r\n/g, '\n');
    const failure = text
      .split('\n')
      .find((l) => /^(Error:|unknown command|Unknown command)/.test(l.trim()));
    if (failure)
      throw new QmpCommandError(`human-monitor-command ${commandLine}`, 'HmpError', failure.trim());
    return text;
  }

  /**
   * Resolves with the first event matching `match` from now on. Register before sending the
   * command that causes it: events can arrive before the command's reply.
   */
  waitEvent(
    match: string | ((e: QmpEvent) => boolean),
    options: QmpCallOptions = {},
  ): Promise<QmpEvent> {
    const test = typeof match === 'string' ? (e: QmpEvent) => e.event === match : match;
    const label = typeof match === 'string' ? match : 'a matching event';
    return withDeadline(`QMP event ${label}`, options, (signal) => {
      return new Promise<QmpEvent>((resolve, reject) => {
        const onEvent = (e: QmpEvent) => {
          if (!test(e)) return;
          cleanup();
          resolve(e);
        };
        const onClose = () => {
          cleanup();
          reject(new ProtocolError(`QMP connection closed while waiting for ${label}`));
        };
        const cleanup = () => {
          this.off('event', onEvent);
          this.off('close', onClose);
        };
        signal.addEventListener('abort', cleanup, { once: true });
        this.on('event', onEvent);
        this.on('close', onClose);
        if (this.#closed) onClose();
      });
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
