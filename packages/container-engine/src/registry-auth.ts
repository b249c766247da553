/**
 * Registry credentials for pulls over the engine API, read where the CLIs read them (the CLI
 * transport leaves this to the CLI itself):
 *
 * - docker: `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`).
 * - podman (containers/image `pkg/docker/config`): `$REGISTRY_AUTH_FILE` alone when set, else
 *   `$XDG_RUNTIME_DIR/containers/auth.json` (`/run/containers/<uid>/auth.json` without it),
 *   `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…`), then docker's config.json.
 *
 * In each file, in order: `credHelpers[registry]`, the `auths` entry (`auth` = base64
 * `user:password`, or `identitytoken`; podman also matches `registry/namespace` keys), then
 * `credsStore`. A helper runs as `docker-credential-<name> get` with the server on stdin (argv
 * only, through core's runner). The result goes to the engine as the `X-Registry-Auth` header.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ProcessRunner, VmsError } from '@vms/core';
import type { ImageReference } from './reference.js';
import { registryOf } from './reference.js';

type Env = Record<string, string | undefined>;

/** The engine's AuthConfig (moby `api/types/registry.AuthConfig`). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** Where credentials were found, for debug logs (never the secret). */
export interface FoundAuth {
  auth: RegistryAuth;
  source: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; identitytoken?: string } | undefined>;
  credHelpers?: Record<string, string | undefined>;
  credsStore?: string;
}

/** The key Docker Hub's credentials are stored under by `docker login`. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The files to read, in order, for an engine of `kind`. */
export function authFiles(kind: 'docker' | 'podman', env: Env): string[] {
  const home = env.HOME || os.homedir();
  const dockerConfig = path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json');
  if (kind === 'docker') return [dockerConfig];
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const runtime = env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')
    : `/run/containers/${process.getuid?.() ?? 0}/auth.json`;
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [runtime, path.join(configHome, 'containers', 'auth.json'), dockerConfig];
}

function normaliseHost(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0] ?? '';
  return HUB_ALIASES.has(host) ? 'docker.io' : host;
}

function readAuthFile(file: string): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as AuthFile) : undefined;
  } catch {
    return undefined;
  }
}

/** Own-property lookup in a parsed JSON object (user keys never reach the prototype). */
function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The `auths` entry for `ref`: exact keys first (podman: `registry/ns/repo`, `registry/ns`), then any key naming the host. */
function fromAuths(file: AuthFile, ref: ImageReference, server: string): RegistryAuth | undefined {
  const auths = file.auths && typeof file.auths === 'object' ? file.auths : undefined;
  if (!auths) return undefined;
  const registry = registryOf(ref);
  const parts = `${registry}/${ref.path}`.split('/');
  const exact = parts.map((_, i) => parts.slice(0, parts.length - i).join('/'));
  const keys = [
    ...exact,
    ...Object.keys(auths).filter((k) => normaliseHost(k) === normaliseHost(registry)),
  ];
  for (const key of keys) {
    const entry = own(auths, key);
    if (!entry || typeof entry !== 'object') continue;
    if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
      return { identitytoken: entry.identitytoken, serveraddress: server };
    }
    if (typeof entry.auth !== 'string' || !entry.auth) continue;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) continue;
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1).replace(/\0+$/, ''),
      serveraddress: server,
    };
  }
  return undefined;
}

/** Runs `docker-credential-<helper> get`; undefined when the helper has nothing for `server`. */
async function fromHelper(
  helper: string,
  server: string,
  runner: ProcessRunner,
  ctx: { signal: AbortSignal; deadline: number },
  env: Env,
): Promise<RegistryAuth | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) return undefined;
  let stdout: string;
  try {
    const r = await runner.run([`docker-credential-${helper}`, 'get'], {
      stdin: server,
      signal: ctx.signal,
      deadline: Math.min(ctx.deadline, Date.now() + 30_000),
      env,
    });
    stdout = r.stdout;
  } catch (error) {
    // "credentials not found in native keychain" (exit 1), or the helper is not installed.
    if (
      VmsError.isInstance(error) &&
      (error.code === 'COMMAND_FAILED' || error.code === 'BACKEND_UNAVAILABLE')
    )
      return undefined;
    throw error;
  }
  try {
    const c = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
    if (typeof c.Secret !== 'string' || !c.Secret) return undefined;
    // A username of "<token>" marks an identity token (docker-credential-helpers).
    if (c.Username === '<token>') return { identitytoken: c.Secret, serveraddress: server };
    return {
      ...(typeof c.Username === 'string' ? { username: c.Username } : {}),
      password: c.Secret,
      serveraddress: server,
    };
  } catch {
    return undefined;
  }
}

/**
 * The credentials for pulling `ref`, or undefined (an anonymous pull). Unreadable files and
 * helpers without an entry are skipped, as the CLIs do.
 */
export async function findRegistryAuth(
  ref: ImageReference,
  o: {
    kind: 'docker' | 'podman';
    env: Env;
    runner: ProcessRunner;
    ctx: { signal: AbortSignal; deadline: number };
  },
): Promise<FoundAuth | undefined> {
  const registry = registryOf(ref);
  const host = normaliseHost(registry);
  // Docker Hub's helper / auths key is its v1 URL; any other registry goes by host[:port].
  const server = host === 'docker.io' ? DOCKER_HUB_KEY : registry;
  for (const file of authFiles(o.kind, o.env)) {
    const config = readAuthFile(file);
    if (!config) continue;
    const helpers =
      config.credHelpers && typeof config.credHelpers === 'object' ? config.credHelpers : undefined;
    const helper = own(helpers, registry) ?? own(helpers, server);
    if (typeof helper === 'string' && helper) {
      const auth = await fromHelper(helper, server, o.runner, o.ctx, o.env);
      if (auth) return { auth, source: `${file} (credHelpers: docker-credential-${helper})` };
      continue;
    }
    const auth = fromAuths(config, ref, server);
    if (auth) return { auth, source: `${file} (auths)` };
    if (typeof config.credsStore === 'string' && config.credsStore) {
      const stored = await fromHelper(config.credsStore, server, o.runner, o.ctx, o.env);
      if (stored)
        return {
          auth: stored,
          source: `${file} (credsStore: docker-credential-${config.credsStore})`,
        };
    }
  }
  return undefined;
}

/** The `X-Registry-Auth` header value: URL-safe base64 (with padding) of the AuthConfig JSON. */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth), 'utf8')
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}
