/**
 * Finds installed packages without importing them: a walk over node_modules directories (the
 * project's, the CLI's own, the global one) and a small resolver of `exports`/`main`, so that
 * `vms backends` can report what is installed without loading any backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface InstalledPackage {
  name: string;
  dir: string;
  /** Absolute path of the ES module to import. */
  entry: string;
  version: string | undefined;
}

/** `dir/node_modules` and every ancestor's, nearest first. */
export function nodeModulesChain(from: string): string[] {
  const dirs: string[] = [];
  let dir = resolve(from);
  for (;;) {
    if (basename(dir) !== 'node_modules') dirs.push(join(dir, 'node_modules'));
    const parent = dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/**
 * The global node_modules, computed (not `npm root -g`, which costs ~200 ms): `$npm_config_prefix`
 * or the prefix Node was installed under (`<prefix>/bin/node` → `<prefix>/lib/node_modules`).
 */
export function globalNodeModules(env: NodeJS.ProcessEnv, execPath: string): string[] {
  const dirs: string[] = [];
  const prefix = env.npm_config_prefix ?? env.NPM_CONFIG_PREFIX;
  if (prefix) dirs.push(join(prefix, 'lib', 'node_modules'));
  const nodePrefix = dirname(dirname(execPath));
  dirs.push(join(nodePrefix, 'lib', 'node_modules'));
  for (const p of (env.NODE_PATH ?? '').split(':')) if (p) dirs.push(p);
  return [...new Set(dirs)];
}

const CONDITIONS = ['node', 'import', 'default'];

function pickTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const picked = pickTarget(t);
      if (picked) return picked;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (CONDITIONS.includes(condition)) {
        const picked = pickTarget(value);
        if (picked) return picked;
      }
    }
  }
  return undefined;
}

/** The file `import(name)` loads, from a package.json's `exports` (the "." entry) or `main`. */
export function packageEntry(dir: string, manifest: Record<string, unknown>): string {
  const exportsField = manifest.exports;
  let target: string | undefined;
  if (exportsField !== undefined) {
    const isSubpathMap =
      exportsField !== null &&
      typeof exportsField === 'object' &&
      !Array.isArray(exportsField) &&
      Object.keys(exportsField).some((k) => k.startsWith('.'));
    target = pickTarget(
      isSubpathMap ? (exportsField as Record<string, unknown>)['.'] : exportsField,
    );
  }
  target ??= typeof manifest.main === 'string' ? manifest.main : 'index.js';
  return resolve(dir, target);
}

function readManifest(file: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The first installation of `name` in `searchDirs` (node_modules directories), or undefined. */
export function findPackage(
  name: string,
  searchDirs: readonly string[],
): InstalledPackage | undefined {
  for (const base of searchDirs) {
    const dir = join(base, name);
    const manifestFile = join(dir, 'package.json');
    if (!existsSync(manifestFile)) continue;
    const manifest = readManifest(manifestFile);
    if (!manifest) continue;
    return {
      name,
      dir,
      entry: packageEntry(dir, manifest),
      version: typeof manifest.version === 'string' ? manifest.version : undefined,
    };
  }
  return undefined;
}

/** The nearest package.json at or above `from` (the user's project), or undefined. */
export function findProjectManifest(
  from: string,
): { dir: string; manifest: Record<string, unknown> } | undefined {
  let dir = resolve(from);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = readManifest(file);
      if (manifest) return { dir, manifest };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
