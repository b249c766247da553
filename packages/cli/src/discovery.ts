/**
 * Which backends exist for this invocation, found without importing any of them:
 *
 * 1. first-party packages (`@vms/docker`, `@vms/podman`, …) installed in the project (cwd and
 *    its ancestors), next to the CLI, or globally — or bundled into `vms-all`;
 * 2. backends named in `vms.config.json` (cwd, then the project root), in
 *    `$XDG_CONFIG_HOME/vms/config.json` (default `~/.config/vms/config.json`), in the project's
 *    package.json (`"vms": { "backends": [...] }`), or in `$VMS_BACKENDS` (comma-separated);
 *    entries are package names or paths of modules (relative to the file naming them);
 * 3. the project's dependencies named `vms-backend-*` or `@scope/vms-backend-*`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { BACKEND_PACKAGE_PATTERN, FIRST_PARTY } from './first-party.js';

import {
  findPackage,
  findProjectManifest,
  globalNodeModules,
  type InstalledPackage,
  nodeModulesChain,
} from './package-resolve.js';
import { UsageError } from './usage-error.js';

export { BACKEND_PACKAGE_PATTERN, FIRST_PARTY };

/** Loaders of backends compiled into a bundled CLI, by package name. */
export type BuiltinBackends = Record<string, () => Promise<unknown>>;

export interface BackendSource {
  /** Package name, or the absolute path of a module. */
  specifier: string;
  kind: 'first-party' | 'third-party' | 'file';
  /** Where it was named: "first-party", "bundled", a config file path, "package.json", "dependencies", "VMS_BACKENDS". */
  origin: string;
  /** Backend names it is expected to provide (first-party: known; `vms-backend-foo`: "foo"). */
  expectedNames: readonly string[];
  /** Where it is installed; undefined when it is not. */
  installed?: InstalledPackage;
  /** The bundled loader (vms-all). */
  builtin?: () => Promise<unknown>;
}

export interface DiscoverySettings {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Directory of the running CLI (its dist/), to find packages installed next to it. */
  cliDir: string;
  execPath: string;
  builtins?: BuiltinBackends;
}

const configSchema = lazySchema(() =>
  z.object({ backends: z.array(z.string().min(1, 'must not be empty')).default([]) }).passthrough(),
);

function readConfig(file: string, pick: (json: unknown) => unknown = (j) => j): string[] {
  let json: unknown;
  try {
    json = pick(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
      'fix or remove the file',
    );
  }
  if (json === undefined) return [];
  const result = configSchema().safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(
      `invalid ${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      'expected { "backends": ["vms-backend-foo", "./local-backend.mjs"] }',
    );
  }
  return result.data.backends;
}

function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier);
}

function expectedNamesOf(specifier: string): string[] {
  const m = /vms-backend-([\w.-]+)$/.exec(specifier);
  return m?.[1] ? [m[1]] : [];
}

/** Every backend source of this invocation, first-party first, deduplicated. */
export function discoverBackends(settings: DiscoverySettings): BackendSource[] {
  const { cwd, env } = settings;
  const project = findProjectManifest(cwd);
  const projectDirs = nodeModulesChain(cwd);
  const searchDirs = [
    ...projectDirs,
    ...nodeModulesChain(settings.cliDir),
    ...globalNodeModules(env, settings.execPath),
  ].filter((d, i, all) => all.indexOf(d) === i);

  const sources: BackendSource[] = [];
  const seen = new Set<string>();
  const add = (source: BackendSource) => {
    if (seen.has(source.specifier)) return;
    seen.add(source.specifier);
    sources.push(source);
  };

  for (const { pkg, names } of FIRST_PARTY) {
    const builtin = settings.builtins?.[pkg];
    if (builtin) {
      add({
        specifier: pkg,
        kind: 'first-party',
        origin: 'bundled',
        expectedNames: names,
        builtin,
      });
      continue;
    }
    const installed = findPackage(pkg, searchDirs);
    add({
      specifier: pkg,
      kind: 'first-party',
      origin: 'first-party',
      expectedNames: names,
      ...(installed ? { installed } : {}),
    });
  }

  const named: Array<{ specifier: string; origin: string; baseDir: string }> = [];
  for (const entry of (env.VMS_BACKENDS ?? '').split(',')) {
    if (entry.trim()) named.push({ specifier: entry.trim(), origin: 'VMS_BACKENDS', baseDir: cwd });
  }
  const configFiles = [join(cwd, 'vms.config.json')];
  if (project && resolve(project.dir) !== resolve(cwd))
    configFiles.push(join(project.dir, 'vms.config.json'));
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  configFiles.push(join(configHome, 'vms', 'config.json'));
  for (const file of configFiles) {
    if (!existsSync(file)) continue;
    for (const specifier of readConfig(file))
      named.push({ specifier, origin: file, baseDir: dirname(file) });
  }
  if (project) {
    const file = join(project.dir, 'package.json');
    for (const specifier of readConfig(file, (j) => (j as { vms?: unknown }).vms)) {
      named.push({ specifier, origin: `${file}#vms.backends`, baseDir: project.dir });
    }
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      const deps = project.manifest[field];
      if (!deps || typeof deps !== 'object') continue;
      for (const name of Object.keys(deps)) {
        if (BACKEND_PACKAGE_PATTERN.test(name))
          named.push({ specifier: name, origin: 'dependencies', baseDir: project.dir });
      }
    }
  }

  for (const { specifier, origin, baseDir } of named) {
    if (isPath(specifier)) {
      const file = resolve(baseDir, specifier);
      add({
        specifier: file,
        kind: 'file',
        origin,
        expectedNames: expectedNamesOf(file.replace(/\.[cm]?js$/, '')),
        ...(existsSync(file) ? { installed: localModule(file) } : {}),
      });
      continue;
    }
    const firstParty = FIRST_PARTY.find((f) => f.pkg === specifier);
    if (firstParty) continue; // already listed above
    const installed = findPackage(specifier, [...nodeModulesChain(baseDir), ...searchDirs]);
    add({
      specifier,
      kind: 'third-party',
      origin,
      expectedNames: expectedNamesOf(specifier),
      ...(installed ? { installed } : {}),
    });
  }
  return sources;
}

/**
 * A module named by path: a file, or a directory (a package: its package.json's exports/main,
 * else its index.js), since Node's ESM loader does not import directories.
 */
function localModule(path: string): InstalledPackage {
  if (!statSync(path).isDirectory())
    return { name: path, dir: dirname(path), entry: path, version: undefined };
  const found = findPackage(basename(path), [dirname(path)]);
  return found
    ? { ...found, name: path }
    : { name: path, dir: path, entry: join(path, 'index.js'), version: undefined };
}

/** What to run to install a source that is missing. */
export function installHint(source: Pick<BackendSource, 'specifier' | 'kind'>): string {
  if (source.kind === 'file') return `create ${source.specifier} or fix the path in your config`;
  return `npm install ${source.specifier}`;
}
