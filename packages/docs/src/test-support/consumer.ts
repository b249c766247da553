/**
 * A user's TypeScript project outside the monorepo: `npm install` of the packed `@vms` packages
 * (from the private scope registry; everything else from npm), a tsconfig made by `tsc --init`
 * (the compiler's own defaults for a new project: `types: []`, `exactOptionalPropertyTypes`, …),
 * then `tsc --noEmit` over its files.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../readme-blocks.js';
import type { PackRegistry } from './npm-registry.js';

const run = promisify(execFile);

export interface ConsumerProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Writes a file of the project (path relative to it). */
  write(path: string, text: string): void;
  /** `npm install` of the project's dependencies (extra npm flags, e.g. --legacy-peer-deps). */
  install(...flags: string[]): Promise<void>;
  /**
   * `tsc --init` (with `flags`, e.g. `--skipLibCheck false`), then `tsc --noEmit -p .`, with the
   * monorepo's TypeScript: its diagnostics, one per line.
   */
  typecheck(...flags: string[]): Promise<string[]>;
}

const TSC = join(REPO, 'node_modules', '.bin', 'tsc');

export function consumerProject(
  registry: PackRegistry,
  dependencies: Record<string, string>,
): ConsumerProject {
  const npm = registry.npmEnv();
  const dir = join(npm.dir, 'project');
  mkdirSync(dir);
  const { npm_config_prefix: _globalOnly, ...env } = npm.env;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    'package.json',
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  return {
    dir,
    env,
    write,
    async install(...flags) {
      await run('npm', ['install', '--no-package-lock', ...flags], {
        cwd: dir,
        env,
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      });
    },
    async typecheck(...flags) {
      rmSync(join(dir, 'tsconfig.json'), { force: true });
      await run(TSC, ['--init', ...flags], { cwd: dir, env, timeout: 60_000 });
      try {
        await run(TSC, ['--noEmit', '-p', '.', '--pretty', 'false'], {
          cwd: dir,
          env,
          timeout: 300_000,
          maxBuffer: 64 * 1024 * 1024,
        });
        return [];
      } catch (error) {
        const out = String((error as { stdout?: string }).stdout ?? '');
        const lines = out.split('\n').filter((l) => /error TS\d+/.test(l));
        if (!lines.length) throw error;
        return lines;
      }
    },
  };
}
