/**
 * `vms mcp`: serves the discovered backends to AI agents over the Model Context Protocol, through
 * `@vms/mcp` (loaded only here, like a backend: installed next to the CLI, in the project or
 * globally, or bundled into vms-all). stdio by default; `--http` serves Streamable HTTP on
 * 127.0.0.1 with a bearer token. `loadMcpSessions` is what `vms prune` uses to tell live MCP
 * sessions from leftovers (without loading the MCP SDK).
 */
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BackendV1, lazySchema, VmsError } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import type { CliContext, CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { countFlag, durationFlag, validateFlags } from './flags.js';
import {
  findPackage,
  globalNodeModules,
  nodeModulesChain,
  packageEntry,
} from './package-resolve.js';
import { parseSizeMiB } from './units.js';

const PACKAGE = '@vms/mcp';

/** The part of `@vms/mcp` the CLI uses (checked when loaded: the CLI does not depend on it). */
interface McpServer {
  serveStdio(): Promise<void>;
  close(): Promise<void>;
}
interface McpModule {
  createVmsMcpServer(options: {
    backends: readonly BackendV1[];
    policy?: Record<string, unknown>;
    instanceSettings?: CliContext['settings'];
    log?: (line: string) => void;
    name?: string;
    version?: string;
  }): McpServer;
  loadPolicy(
    file: string | undefined,
    overrides: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  serveHttp(
    server: McpServer,
    options: { port?: number; token?: string },
  ): Promise<{ url: string; token: string; close(): Promise<void> }>;
}

/** The part of `@vms/mcp/sessions` prune uses. */
export interface McpSessionsModule {
  listSessions(
    home: string,
  ): Promise<Array<{ id: string; alive: boolean; pid: number; kind: string }>>;
  sessionOf(instance: {
    name: string;
    properties?: { labels?: Record<string, string> };
  }): string | undefined;
  removeSessionRecord(home: string, id: string): Promise<void>;
}

function hasFunctions<T>(mod: unknown, names: string[]): mod is T {
  return (
    typeof mod === 'object' &&
    mod !== null &&
    names.every((n) => typeof (mod as Record<string, unknown>)[n] === 'function')
  );
}

/** Imports `@vms/mcp` (or a subpath of it): bundled, or installed where backends are found. */
async function importMcp(ctx: CliContext, subpath: '.' | './sessions'): Promise<unknown> {
  const specifier = subpath === '.' ? PACKAGE : `${PACKAGE}/sessions`;
  const builtin = ctx.builtins?.[specifier];
  if (builtin) return builtin();
  const cliDir = dirname(fileURLToPath(import.meta.url));
  const installed = findPackage(PACKAGE, [
    ...nodeModulesChain(ctx.cwd),
    ...nodeModulesChain(cliDir),
    ...globalNodeModules(ctx.env, process.execPath),
  ]);
  if (!installed) return undefined;
  let entry = installed.entry;
  if (subpath !== '.') {
    const { readFileSync } = await import('node:fs');
    const manifest = JSON.parse(readFileSync(`${installed.dir}/package.json`, 'utf8')) as {
      exports?: Record<string, unknown>;
    };
    const target = manifest.exports?.[subpath];
    if (target === undefined) return undefined;
    entry = packageEntry(installed.dir, { exports: target });
  }
  return import(pathToFileURL(entry).href);
}

/** `@vms/mcp/sessions`, or undefined when @vms/mcp is not installed (then no MCP session can exist). */
export async function loadMcpSessions(ctx: CliContext): Promise<McpSessionsModule | undefined> {
  try {
    const mod = await importMcp(ctx, './sessions');
    return hasFunctions<McpSessionsModule>(mod, [
      'listSessions',
      'sessionOf',
      'removeSessionRecord',
    ])
      ? mod
      : undefined;
  } catch {
    return undefined;
  }
}

const list = () => z.union([z.array(z.string().min(1)), z.string().min(1)]).optional();
const size = (flag: string) =>
  z.string().transform((text, zctx) => {
    const mib = parseSizeMiB(text, 'M');
    if (mib === undefined) {
      zctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(text)} is not a size like 512K, 64M or 1G`,
      });
      return z.NEVER;
    }
    return flag === 'memory' ? Math.round(mib) : Math.round(mib * 1024 * 1024);
  });

const flagsSchema = lazySchema(() =>
  z.object({
    config: z.string().min(1).optional(),
    http: z.boolean().optional(),
    port: countFlag().pipe(z.number().int().min(0).max(65535)).optional(),
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    backend: list(),
    image: list(),
    'host-path': list(),
    'max-instances': countFlag().pipe(z.number().int().min(1)).optional(),
    'max-cpus': z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a number')
      .transform(Number)
      .optional(),
    'max-memory': size('memory').optional(),
    'max-exec-time': durationFlag().optional(),
    'max-output': size('bytes').optional(),
    'max-file': size('bytes').optional(),
    lifetime: durationFlag().optional(),
    network: z.enum(['none', 'allow']).optional(),
    warm: list(),
    'check-config': z.boolean().optional(),
  }),
);

const arr = (v: string | string[] | undefined) => (v === undefined ? undefined : [v].flat());

/** Policy fields given as flags (they replace the config file's). */
function overrides(f: z.output<ReturnType<typeof flagsSchema>>): Record<string, unknown> {
  const warm = arr(f.warm)?.map((w) => {
    const [template, min] = w.split('=');
    return { template, ...(min !== undefined ? { min: Number(min) } : {}) };
  });
  return {
    backends: arr(f.backend),
    images: arr(f.image),
    hostPaths: arr(f['host-path']),
    maxInstances: f['max-instances'],
    maxCpus: f['max-cpus'],
    maxMemoryMiB: f['max-memory'],
    maxExecTimeoutMs: f['max-exec-time'],
    maxOutputBytes: f['max-output'],
    maxFileBytes: f['max-file'],
    instanceLifetimeMs: f.lifetime,
    network: f.network,
    warm,
  };
}

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('mcp', args.positionals, 0, 0, '');
  const flags = validateFlags('mcp', flagsSchema, args.values);
  const mod = await importMcp(ctx, '.');
  if (mod === undefined) {
    throw new VmsError('BACKEND_UNAVAILABLE', `vms mcp needs ${PACKAGE}, which is not installed`, {
      hint: `npm install -g ${PACKAGE} (next to @vms/cli), or use vms-all (@vms/vms)`,
    });
  }
  if (!hasFunctions<McpModule>(mod, ['createVmsMcpServer', 'loadPolicy', 'serveHttp'])) {
    throw new VmsError('BACKEND_UNAVAILABLE', `${PACKAGE} does not export what this vms needs`, {
      hint: `install versions that match: npm install -g @vms/cli@latest ${PACKAGE}@latest`,
    });
  }
  const policy = await mod.loadPolicy(flags.config, overrides(flags));
  if (flags['check-config']) {
    if (ctx.json) ctx.out.result('mcp', { ok: true, policy });
    else ctx.out.line(JSON.stringify(policy, null, 2));
    return EXIT.ok;
  }
  const loaded = await ctx.registry.loadAll();
  for (const l of loaded) if (l.error) ctx.out.warn(`${l.source.specifier}: ${l.error.message}`);
  const backends = loaded.flatMap((l) => l.backends);
  const server = mod.createVmsMcpServer({
    backends,
    policy,
    instanceSettings: ctx.settings,
    log: (line) => ctx.out.note(`vms mcp: ${line}`),
    name: 'vms',
    version: ctx.version,
  });
  const onAbort = () => void server.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!flags.http) {
      ctx.out.note(
        `vms mcp: serving ${backends.map((b) => b.name).join(', ') || 'no backends'} on stdio`,
      );
      await Promise.race([server.serveStdio(), aborted(ctx.signal)]);
      await server.close();
      // The client closed stdin: the session ended as it should (0). A signal: 130.
      return ctx.signal.aborted ? EXIT.interrupted : EXIT.ok;
    }
    const token = flags.token ?? ctx.env.VMS_MCP_TOKEN;
    const http = await mod.serveHttp(server, {
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(token ? { token } : {}),
    });
    if (ctx.json) ctx.out.record({ type: 'listening', url: http.url, token: http.token });
    else {
      ctx.out.note(`vms mcp: listening on ${http.url}`);
      if (!token) ctx.out.note(`vms mcp: bearer token: ${http.token}`);
    }
    await aborted(ctx.signal);
    await http.close();
    await server.close();
    return EXIT.interrupted;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
};
