/**
 * The root README: its TypeScript example against real docker (compiled on any Node; and, on a
 * Node that parses `await using`, run untouched as a plain `.mjs` file), and its two commands,
 * which CI (`.ci/run`) runs in a fresh Debian root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import {
  inspectContainer,
  type ReadmeImages,
  readmeImagesSkipReason,
  serveReadmeImages,
} from './test-support/readme-images.js';
import { runSnippet, substitute } from './test-support/snippets.js';

/** Whether this Node parses `await using` (explicit resource management) without compiling. */
export function parsesAwaitUsing(): boolean {
  try {
    new Function('return async () => { await using x = null; }');
    return true;
  } catch {
    return false;
  }
}

const skip = readmeImagesSkipReason('docker');
if (skip) console.warn(`skipping the root README's docker example: ${skip}`);

describe.skipIf(skip !== undefined)('README.md: the example on real docker', () => {
  const block = readmeBlock('README.md', 'root-intro');
  let images: ReadmeImages;
  beforeAll(async () => {
    images = await serveReadmeImages('docker', ['alpine:3.20']);
  });
  afterAll(() => images?.close());
  const code = () => substitute(block.code, [['alpine:3.20', images.ref('alpine:3.20')]]);

  it('runs compiled (any Node): pulls the image, prints 0 42, and `await using` deletes the container', async () => {
    const r = await withReadmeNames(() => runSnippet(code(), { name: 'root-intro' }));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0 42\n');
    expect(r.code).toBe(0);
    expect(inspectContainer('docker', 'ci-job-1')).toBeUndefined();
  });

  it.skipIf(!parsesAwaitUsing())(
    `runs untouched as plain .mjs on a Node that parses await using (this is Node ${process.versions.node})`,
    async () => {
      const r = await withReadmeNames(() =>
        runSnippet(code(), { name: 'root-intro-native', plain: true }),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0 42\n');
      expect(r.code).toBe(0);
      expect(inspectContainer('docker', 'ci-job-1')).toBeUndefined();
    },
  );
});

describe('README.md: the two commands', () => {
  const ci = readFileSync(join(REPO, '.ci/run'), 'utf8');
  /** The commands `.ci/run` runs inside the fresh root (`in_root '…'`). */
  const inRoot = [...ci.matchAll(/^in_root '([^']*)'$/gm)].map((m) => m[1]);

  it('CI runs `quickstart` exactly as written, in a fresh Debian 12 root', () => {
    const command = readmeBlock('README.md', 'quickstart').code.trim();
    expect(inRoot).toContain(command);
  });

  it('CI runs `test` as written (on every Node version of the matrix)', () => {
    const command = readmeBlock('README.md', 'test').code.trim();
    expect(inRoot.some((c) => c === command || c?.startsWith(`${command} `))).toBe(true);
  });
});
