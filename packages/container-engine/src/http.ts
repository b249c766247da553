/**
 * A small HTTP client for the engine API over a unix socket (or plain tcp): keep-alive agent,
 * JSON requests, streamed responses and hijacked (upgraded) connections for exec/attach.
 * No dependency beyond Node's `http`.
 */
import type { Agent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { AbortedError, TimeoutError } from '@vms/core';

// `node:http` as Node's own module, not through an ES module import: on Node 22 and later the
// import's namespace reads every export, and the lazy ones (WebSocket, EventSource, …) load
// undici and tls — ~20 ms of every command that talks to an engine.
const http = process.getBuiltinModule('node:http');

export interface ApiEndpoint {
  /** Unix socket path, for unix:// hosts. */
  socketPath?: string;
  /** host + port, for tcp:// hosts. */
  hostname?: string;
  port?: number;
}

export interface CallOptions {
  signal: AbortSignal;
  deadline: number;
  body?: unknown;
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** Extra request headers (e.g. X-Registry-Auth). */
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** An error from the engine: HTTP status + the engine's message. */
export class EngineApiError extends Error {
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    readonly path: string,
  ) {
    super(`engine API ${path} returned ${status}: ${engineMessage}`);
    this.name = 'EngineApiError';
  }
}

/** The socket could not be reached (nothing listens, no such file, refused). */
export class EngineUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(`cannot reach the engine at ${endpoint}: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'EngineUnreachableError';
  }
}

export class ApiClient {
  private readonly agent: Agent;
  /**
   * The negotiated API version (`1.41`): every path is sent as `/v1.41/…`, so the engine answers
   * in that version's shapes and refuses nothing newer. Unset: unversioned paths (only `/_ping`).
   */
  apiVersion: string | undefined;
  constructor(
    readonly endpoint: ApiEndpoint,
    readonly display: string,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 8 });
  }

  close(): void {
    this.agent.destroy();
  }

  private baseOptions(
    method: string,
    path: string,
    query?: CallOptions['query'],
    extraHeaders?: Record<string, string>,
  ) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const item of v) qs.append(k, item);
      else if (v !== undefined) qs.set(k, String(v));
    }
    const versioned = this.apiVersion && path !== '/_ping' ? `/v${this.apiVersion}${path}` : path;
    const fullPath = qs.size ? `${versioned}?${qs}` : versioned;
    return {
      method,
      path: fullPath,
      headers: { Host: 'docker', ...extraHeaders } as Record<string, string>,
      // No TLS here, so no server name: left unset, Node's agent derives one from the Host header
      // with net.isIP(), whose first IPv6 check compiles a large regex (~4 ms of a CLI command).
      servername: '',
      ...(this.endpoint.socketPath
        ? { socketPath: this.endpoint.socketPath }
        : { hostname: this.endpoint.hostname, port: this.endpoint.port }),
    };
  }

  /** Sends a request and returns the whole response body. Throws EngineApiError on >= 400. */
  async call(method: string, path: string, opts: CallOptions): Promise<ApiResponse> {
    const res = await this.open(method, path, opts, this.agent);
    const text = await readAll(res, opts);
    if ((res.statusCode ?? 0) >= 400)
      throw new EngineApiError(res.statusCode ?? 0, engineMessage(text), path);
    return { status: res.statusCode ?? 0, headers: res.headers, text };
  }

  async json<T>(method: string, path: string, opts: CallOptions): Promise<T> {
    const { text } = await this.call(method, path, opts);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Opens a streamed response (events, logs, wait). The caller reads `res`; aborting `signal`
   * destroys the connection. Throws EngineApiError on >= 400.
   */
  async stream(method: string, path: string, opts: CallOptions): Promise<IncomingMessage> {
    // Streams hold their connection for long: keep them off the shared keep-alive pool.
    const res = await this.open(method, path, opts, false);
    if ((res.statusCode ?? 0) >= 400) {
      const text = await readAll(res, opts);
      throw new EngineApiError(res.statusCode ?? 0, engineMessage(text), path);
    }
    return res;
  }

  /** Opens a hijacked connection (exec start, attach): resolves with the raw duplex socket. */
  hijack(path: string, opts: CallOptions): Promise<{ socket: Duplex; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const base = this.baseOptions('POST', path, opts.query, opts.headers);
      const body = JSON.stringify(opts.body ?? {});
      const req = http.request({
        ...base,
        agent: false,
        headers: {
          ...base.headers,
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
          Connection: 'Upgrade',
          Upgrade: 'tcp',
        },
      });
      const cleanup = guard(opts, (err) => {
        req.destroy();
        reject(err);
      });
      req.on('upgrade', (_res, socket, head) => {
        cleanup();
        resolve({ socket, head });
      });
      req.on('response', (res) => {
        // Some engines answer 200 without upgrading: the body is then the raw stream.
        cleanup();
        if ((res.statusCode ?? 0) >= 400) {
          readAll(res, opts).then(
            (text) => reject(new EngineApiError(res.statusCode ?? 0, engineMessage(text), path)),
            reject,
          );
          return;
        }
        resolve({ socket: Duplex.from(res), head: Buffer.alloc(0) });
      });
      req.on('error', (err) => {
        cleanup();
        reject(this.wrapNetworkError(err));
      });
      req.end(body);
    });
  }

  private open(
    method: string,
    path: string,
    opts: CallOptions,
    agent: Agent | false,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const base = this.baseOptions(method, path, opts.query, opts.headers);
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const headers = { ...base.headers };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const req = http.request({ ...base, agent, headers });
      const cleanup = guard(opts, (err) => {
        req.destroy(err);
        reject(err);
      });
      req.on('response', (res) => {
        // The guard stays active while the body is read by the caller: re-arm it on the response.
        cleanup();
        const release = guard(opts, (err) => res.destroy(err));
        res.once('close', release);
        resolve(res);
      });
      req.on('error', (err) => {
        cleanup();
        reject(this.wrapNetworkError(err));
      });
      req.end(body);
    });
  }

  private wrapNetworkError(err: unknown): unknown {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH'].includes(code)) {
      return new EngineUnreachableError(this.display, err);
    }
    return err;
  }
}

/** Arms abort + deadline for one request; returns the disarm function. */
function guard(
  opts: { signal: AbortSignal; deadline: number },
  fail: (err: Error) => void,
): () => void {
  if (opts.signal.aborted) {
    queueMicrotask(() => fail(abortReason(opts.signal)));
    return () => {};
  }
  const onAbort = () => fail(abortReason(opts.signal));
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const ms = Math.max(0, opts.deadline - Date.now());
  // Streams without a deadline (events) get no timer: setTimeout cannot hold more than 2^31-1 ms.
  const timer =
    ms < 2 ** 31 - 1
      ? setTimeout(
          () => fail(new TimeoutError('engine API request timed out', { timeoutMs: ms })),
          ms,
        )
      : undefined;
  timer?.unref();
  return () => {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  };
}

export function abortReason(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  return new AbortedError();
}

async function readAll(res: IncomingMessage, _opts: CallOptions): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function engineMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string; cause?: string };
    return parsed.message ?? parsed.cause ?? text.trim();
  } catch {
    return text.trim();
  }
}

/**
 * Splits the engine's multiplexed stream (8-byte header: stream type, 3 zero bytes, big-endian
 * length) into stdout/stderr chunks. Used for exec and logs of containers without a TTY.
 */
export class StreamDemuxer {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly emit: (chunk: Buffer, stream: 'stdout' | 'stderr') => void) {}

  push(data: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    while (this.buffer.length >= 8) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < 8 + size) break;
      const type = this.buffer[0];
      const payload = this.buffer.subarray(8, 8 + size);
      this.buffer = this.buffer.subarray(8 + size);
      if (payload.length) this.emit(Buffer.from(payload), type === 2 ? 'stderr' : 'stdout');
    }
  }
}
