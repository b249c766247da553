/**
 * End-to-end harness: a throw-away project with the built `vms` and the chosen packages
 * installed (as npm would lay them out), the real `vms mcp` spawned in it, and the MCP SDK's own
 * client talking to it over stdio or Streamable HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeProject, type Project } from '../../../cli/src/test-support/project.js';

export {
  acceptsConnections,
  type Project,
  runVms,
  until,
} from '../../../cli/src/test-support/project.js';

/** A project with `@vms/cli`, `@vms/mcp` and the given backend packages (e.g. `docker`). */
export function mcpProject(backends: string[]): Project {
  return makeProject({ workspace: [...backends, 'mcp'] });
}

/** Writes a policy file into the project; returns its path. */
export function writePolicy(
  project: Project,
  name: string,
  policy: Record<string, unknown>,
): string {
  const file = join(project.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(policy, null, 2));
  return file;
}

function envOf(project: Project, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...project.env, ...extra }))
    if (v !== undefined) env[k] = v;
  return env;
}

export interface StdioServer {
  client: Client;
  transport: StdioClientTransport;
  /** PID of the `vms mcp` process. */
  pid: number;
  stderr: () => string;
}

/** Spawns `vms mcp ARGS` and connects the SDK client to it over stdio. */
export async function connectStdio(project: Project, args: string[]): Promise<StdioServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [project.bin, 'mcp', ...args],
    cwd: project.dir,
    env: envOf(project),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const client = new Client({ name: 'vms-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error('vms mcp did not start');
  return { client, transport, pid, stderr: () => stderr };
}

export interface HttpServer {
  child: ChildProcess;
  url: string;
  token: string;
  stderr: () => string;
  /** Resolves with the exit code when the server exits. */
  exited: Promise<number | null>;
}

/** Spawns `vms mcp --http --json ARGS` and waits for its `listening` record. */
export function startHttp(project: Project, args: string[]): Promise<HttpServer> {
  const child = spawn(process.execPath, [project.bin, 'mcp', '--http', '--json', ...args], {
    cwd: project.dir,
    env: envOf(project),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        const record = JSON.parse(line) as { url: string; token: string };
        resolve({ child, url: record.url, token: record.token, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => reject(new Error(`vms mcp --http exited (${code}): ${stderr}`)));
  });
}

/** An SDK client connected to the HTTP server with its token. */
export async function connectHttp(server: {
  url: string;
  token: string;
}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { Authorization: `Bearer ${server.token}` } },
  });
  const client = new Client({ name: 'vms-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/**
 * A client in its own process (client-child.mjs) that creates an instance and starts `exec`;
 * `kill()` SIGKILLs that client, so the server sees its stdin close and no signal.
 */
export function childClient(
  project: Project,
  args: string[],
  create: Record<string, unknown>,
  execArgs: Record<string, unknown>,
): Promise<{ serverPid: number; id: string; kill: () => void }> {
  const script = fileURLToPath(new URL('./client-child.mjs', import.meta.url));
  const spec = {
    args: [project.bin, 'mcp', ...args],
    cwd: project.dir,
    env: envOf(project),
    create,
    exec: execArgs,
  };
  const child = spawn(process.execPath, [script, JSON.stringify(spec)], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        const { pid, id } = JSON.parse(line) as { pid: number; id: string };
        resolve({ serverPid: pid, id, kill: () => child.kill('SIGKILL') });
      }
    });
    child.once('exit', (code) => reject(new Error(`the client exited early (${code}): ${stderr}`)));
  });
}

export interface Called {
  result: CallToolResult;
  data: Record<string, unknown>;
  text: string;
}

/** Calls a tool; returns the result with its structured content and text. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: Parameters<Client['callTool']>[2] = {},
): Promise<Called> {
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 600_000,
    ...options,
  })) as CallToolResult;
  const first = result.content[0];
  return {
    result,
    data: (result.structuredContent ?? {}) as Record<string, unknown>,
    text: first && first.type === 'text' ? first.text : '',
  };
}

/** The `error` of a tool error result (throws when the call did not fail). */
export function toolErrorOf(called: Called): {
  code: string;
  message: string;
  hint?: string;
  rule?: string;
  field?: string;
} {
  if (called.result.isError !== true) throw new Error(`expected a tool error, got: ${called.text}`);
  return called.data.error as {
    code: string;
    message: string;
    hint?: string;
    rule?: string;
    field?: string;
  };
}
