/**
 * Which engine to talk to, resolved like the docker CLI does (cli/command/cli.go
 * resolveContextName): host setting > context setting > DOCKER_HOST > DOCKER_CONTEXT >
 * currentContext in config.json > the default socket. Contexts are read from the context store
 * (~/.docker/contexts/meta/<sha256(name)>/meta.json) without spawning the CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidOptionsError, NotFoundError } from '@vms/core';
import type { ContainerDialect } from './dialect.js';
import type { ApiEndpoint } from './http.js';
import type { ContainerSettings } from './settings.js';

export interface ResolvedEndpoint {
  /** The engine URL, e.g. unix:///var/run/docker.sock. */
  host: string;
  /** Where it came from, for messages. */
  source: 'setting' | 'context' | 'env' | 'default' | 'vm';
  /** Address for the HTTP API; undefined for ssh:// (CLI only). */
  api?: ApiEndpoint;
  /** Global CLI flags that select the same engine. */
  cliArgs: string[];
}

type Env = Record<string, string | undefined>;

export function resolveEndpoint(
  dialect: ContainerDialect,
  settings: ContainerSettings,
): ResolvedEndpoint {
  const env: Env = { ...process.env, ...settings.env };
  if (settings.host) return fromHost(settings.host, 'setting', dialect.hostFlag(settings.host));
  if (settings.context) {
    if (!dialect.contexts) {
      throw new InvalidOptionsError([
        { path: 'context', message: `${dialect.name} has no docker contexts; use host` },
      ]);
    }
    const host = contextHost(settings.context, env);
    return fromHost(host, 'context', ['--context', settings.context]);
  }
  for (const name of dialect.hostEnv) {
    const value = env[name];
    if (value) return fromHost(value, 'env', dialect.contexts ? [] : dialect.hostFlag(value));
  }
  if (dialect.contexts) {
    const current = env.DOCKER_CONTEXT || currentContext(env);
    if (current && current !== 'default') return fromHost(contextHost(current, env), 'context', []);
  }
  const sockets = dialect.defaultSockets.map((s) =>
    s.replace('$XDG_RUNTIME_DIR', env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`),
  );
  const socket = sockets.find((s) => existsSync(s)) ?? sockets[0] ?? '/var/run/docker.sock';
  return fromHost(`unix://${socket}`, 'default', []);
}

export function fromHost(
  host: string,
  source: ResolvedEndpoint['source'],
  cliArgs: string[],
): ResolvedEndpoint {
  const url = parseHost(host);
  return { host, source, cliArgs, ...(url ? { api: url } : {}) };
}

export function parseHost(host: string): ApiEndpoint | undefined {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    return { hostname: u.hostname, port: Number(u.port || 2375) };
  }
  return undefined;
}

function configDir(env: Env): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

function currentContext(env: Env): string | undefined {
  try {
    const config = JSON.parse(readFileSync(path.join(configDir(env), 'config.json'), 'utf8')) as {
      currentContext?: string;
    };
    return config.currentContext || undefined;
  } catch {
    return undefined;
  }
}

/** The docker endpoint of a context from the context store. */
export function contextHost(name: string, env: Env): string {
  if (name === 'default') return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  const digest = process
    .getBuiltinModule('node:crypto')
    .createHash('sha256')
    .update(name)
    .digest('hex');
  const file = path.join(configDir(env), 'contexts', 'meta', digest, 'meta.json');
  let meta: { Endpoints?: { docker?: { Host?: string } } };
  try {
    meta = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new NotFoundError(`docker context ${JSON.stringify(name)} not found`, {
      cause,
      hint: 'list contexts with `docker context ls`; create one with `docker context create NAME --docker host=URL`',
    });
  }
  const host = meta.Endpoints?.docker?.Host;
  if (!host)
    throw new NotFoundError(`docker context ${JSON.stringify(name)} has no docker endpoint`);
  return host;
}
