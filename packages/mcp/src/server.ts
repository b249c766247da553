/**
 * `createVmsMcpServer`: the MCP side. Each connection (a stdio client, an HTTP session) gets its
 * own SDK `Server` and its own `Session` of instances; the policy, the warm pools and the
 * instance cap are shared. A connection that closes (the client went away, or asked to end the
 * session) deletes its instances; `close()` ends every connection the same way.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { AbortedError, type BackendV1, type InstanceSettings, toVmsError } from '@vms/core';
import { type Policy, type PolicyInput, parsePolicy } from './policy.js';
import { ServerCore } from './server-core.js';
import { Session } from './session.js';
import { newSessionId } from './sessions.js';
import { inputJsonSchema, ToolFailure, toolError, toolResult } from './tool.js';
import { TOOLS } from './tools/index.js';

export interface VmsMcpServerOptions {
  /** The backends agents may use (the policy narrows them further). The server never discovers any. */
  backends: readonly BackendV1[];
  /** What agents may do; validated (strict). Default: the safe defaults of the README. */
  policy?: PolicyInput;
  /** Where session records are kept (default `vmsHome()`): `vms prune` reads them there. */
  home?: string;
  /** Settings of every instance the server makes (deadlines, debug sink). */
  instanceSettings?: InstanceSettings;
  /** Diagnostics (sessions opening and closing, background errors). Never stdout in stdio mode. */
  log?: (line: string) => void;
  /** Name and version the server reports to clients. */
  name?: string;
  version?: string;
}

export interface ConnectedSession {
  /** The session id: instances are named `mcp-<id>-<name>` and labelled `dev.vms.mcp-session=<id>`. */
  readonly id: string;
  /** Resolves once the connection closed and the session's instances are deleted. */
  readonly closed: Promise<void>;
  /** Closes the connection (aborting running tool calls) and deletes the session's instances. */
  close(): Promise<void>;
}

const INSTRUCTIONS =
  'Sandboxes for running code: containers and VMs on this machine. Start with list_backends (what can be created, and the limits), then create_instance, exec, write_file/read_file, logs, delete_instance. Instances belong to this session and are deleted when it ends or their lifetime is over. A refused request says which policy rule refused it (error code POLICY_REFUSED, field rule).';

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

interface Live {
  session: Session;
  server: Server;
  closed: Promise<void>;
}

export class VmsMcpServer {
  readonly policy: Policy;
  readonly #core: ServerCore;
  readonly #info: { name: string; version: string };
  readonly #live = new Set<Live>();
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: VmsMcpServerOptions) {
    this.policy = parsePolicy(options.policy ?? {});
    this.#core = new ServerCore({
      backends: options.backends,
      policy: this.policy,
      ...(options.home ? { home: options.home } : {}),
      ...(options.instanceSettings ? { instanceSettings: options.instanceSettings } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.#info = { name: options.name ?? 'vms', version: options.version ?? '0.0.0' };
  }

  /** Ids of the sessions connected now. */
  get sessions(): string[] {
    return [...this.#live].map((l) => l.session.id);
  }

  /** Starts the warm pools of the policy (also done by the first connect). */
  start(): Promise<void> {
    this.#started ??= this.#core.startPools();
    return this.#started;
  }

  /** Serves one client over `transport` (any SDK server transport). */
  async connect(transport: Transport, kind: 'stdio' | 'http' = 'stdio'): Promise<ConnectedSession> {
    if (this.#closing) throw new AbortedError('the MCP server is closing');
    await this.start();
    const session = new Session(this.#core, newSessionId(), kind);
    await session.record();
    const server = new Server(this.#info, {
      capabilities: { tools: {} },
      instructions: INSTRUCTIONS,
    });
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: TOOLS.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: inputJsonSchema(t),
        annotations: t.annotations,
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      session.track(this.#call(session, request, extra.signal, (n) => extra.sendNotification(n))),
    );
    server.onerror = (error) => this.#core.log(`session ${session.id}: ${error.message}`);
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const live: Live = { session, server, closed };
    server.onclose = () => {
      // The SDK has aborted the running tool calls; now the instances go.
      void session.close().finally(() => {
        this.#live.delete(live);
        resolveClosed();
      });
    };
    this.#live.add(live);
    await server.connect(transport);
    this.#core.log(`session ${session.id} connected (${kind})`);
    return {
      id: session.id,
      closed,
      close: async () => {
        await server.close();
        await closed;
      },
    };
  }

  /**
   * Serves one client on stdin/stdout until it disconnects (stdin ends or stdout breaks); then its
   * instances are deleted and the promise resolves.
   */
  async serveStdio(
    streams: { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream } = {},
  ): Promise<void> {
    const stdin = streams.stdin ?? process.stdin;
    const stdout = streams.stdout ?? process.stdout;
    const transport = new StdioServerTransport(
      stdin as typeof process.stdin,
      stdout as typeof process.stdout,
    );
    const connected = await this.connect(transport, 'stdio');
    const hangUp = () => void transport.close();
    stdin.once('end', hangUp);
    stdin.once('close', hangUp);
    stdout.once('error', hangUp);
    try {
      await connected.closed;
    } finally {
      stdin.off('end', hangUp);
      stdin.off('close', hangUp);
      stdout.off('error', hangUp);
    }
  }

  /** Ends every connection (deleting their instances), closes the warm pools. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const live = [...this.#live];
      await Promise.allSettled(live.map((l) => l.server.close()));
      await Promise.allSettled(live.map((l) => l.closed));
      await this.#started?.catch(() => {});
      await this.#core.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #call(
    session: Session,
    request: CallToolRequest,
    signal: AbortSignal,
    notify: (n: ServerNotification) => Promise<void>,
  ): Promise<CallToolResult> {
    const tool = BY_NAME.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    const token = request.params._meta?.progressToken;
    let step = 0;
    const progress = (message: string) => {
      if (token === undefined) return;
      step++;
      notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: step, message },
      }).catch(() => {});
    };
    try {
      return toolResult(await tool.call(request.params.arguments, session, { signal, progress }));
    } catch (error) {
      if (error instanceof ToolFailure) return toolError(error.error, error.data);
      if (!(error instanceof Error) || !('code' in error)) {
        this.#core.log(
          `session ${session.id}: ${request.params.name}: ${toVmsError(error).message}`,
        );
      }
      return toolError(error);
    }
  }
}

/** An MCP server over `backends` under `policy`; connect clients with serveStdio, serveHttp or connect. */
export function createVmsMcpServer(options: VmsMcpServerOptions): VmsMcpServer {
  return new VmsMcpServer(options);
}
