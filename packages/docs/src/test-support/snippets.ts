/**
 * Running a README's code block as a user would: the block's text, with only the image and
 * paths substituted (each substitution must match, so a README edit that drops one is noticed),
 * written to a module under the test run's temp root and run by `node` in its own process. TS
 * blocks are compiled by esbuild first (types stripped; `await using` lowered for Node versions
 * that do not parse it); `plain: true` runs the text as a `.mjs` file untouched.
 *
 * Imports resolve as in a project that has the workspace packages installed: the snippets
 * directory has a `node_modules` link to this package's (where every `@vms` package is linked).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stop, transform } from 'esbuild';
import { expect } from 'vitest';

const DOCS_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** One literal the test replaces in a block: an image or a path (must occur in the block). */
export type Substitution = readonly [from: string, to: string];

export function substitute(code: string, substitutions: readonly Substitution[]): string {
  let out = code;
  for (const [from, to] of substitutions) {
    if (!out.includes(from))
      throw new Error(`the block no longer contains ${JSON.stringify(from)}`);
    out = out.split(from).join(to);
  }
  return out;
}

/** The directory snippets are written to (created on first use, with its node_modules link). */
export function snippetsDir(): string {
  const dir = join(tmpdir(), 'snippets');
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    symlinkSync(DOCS_MODULES, join(dir, 'node_modules'), 'dir');
  }
  return dir;
}

export interface SnippetOptions {
  /** File name stem (e.g. the block's id). */
  name: string;
  /** File name ending (default `.mjs`; `.test.mjs` for a block that is a vitest file). */
  extension?: string;
  /** Run the text as plain JavaScript (.mjs), not compiled. */
  plain?: boolean;
  /** Code put before the block (what the README's text around it defines, e.g. a key `pub`). */
  prelude?: string;
  /** Code put after the block (to use what it made, e.g. acquire from the pool it set up). */
  epilogue?: string;
  /** Extra environment (on top of this process's: the run's TMPDIR, VMS_HOME, …). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export interface SnippetResult {
  file: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Writes the module a block becomes and returns its path. */
export async function writeSnippet(code: string, options: SnippetOptions): Promise<string> {
  const source = [options.prelude, code, options.epilogue].filter(Boolean).join('\n');
  const file = join(
    snippetsDir(),
    `${options.name}-${randomBytes(3).toString('hex')}${options.extension ?? '.mjs'}`,
  );
  const js = options.plain
    ? source
    : (
        await transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'node20.19',
          sourcefile: `${options.name}.ts`,
        })
      ).code;
  // esbuild keeps a service process for later calls: end it (the next call starts another).
  if (!options.plain) await stop();
  writeFileSync(file, js);
  return file;
}

/** Runs a block in its own `node` process (this process's Node) and collects its output. */
export async function runSnippet(code: string, options: SnippetOptions): Promise<SnippetResult> {
  const file = await writeSnippet(code, options);
  const child = spawn(process.execPath, [file], {
    cwd: options.cwd ?? snippetsDir(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 170_000);
  const [code_, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { file, code: code_, signal, stdout, stderr };
}

/** The block ran to completion (exit 0); unless `stderr: true`, it wrote nothing on stderr. */
export function expectRan(r: SnippetResult, options: { stderr?: boolean } = {}): void {
  if (!options.stderr) expect(r.stderr, r.stderr).toBe('');
  expect(r.code, `exit ${r.code} (${r.signal}): ${r.stdout}${r.stderr}`).toBe(0);
}
