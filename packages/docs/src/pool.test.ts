/**
 * The pool README's blocks on real docker (the pool's image served by a local registry under
 * the README's name): the main example as written; the events block on a pool made as the
 * README's first block makes it; `prunePool` after a process that died with its pool open.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import {
  type ReadmeImages,
  readmeImagesSkipReason,
  serveReadmeImages,
} from './test-support/readme-images.js';
import { expectRan, runSnippet, substitute } from './test-support/snippets.js';

const skip = readmeImagesSkipReason('docker');
if (skip) console.warn(`skipping the pool README blocks: ${skip}`);

const README = 'packages/pool/README.md';

describe.skipIf(skip !== undefined)(`${README} (real docker)`, () => {
  let images: ReadmeImages;
  /** Containers of pool `ci` made from this file's images (running or not). */
  const members = () =>
    execFileSync('docker', [
      'ps',
      '-aq',
      '--filter',
      'label=dev.vms.pool=ci',
      '--filter',
      `label=dev.vms.test-suite=${images.suite}`,
    ])
      .toString()
      .split('\n')
      .filter(Boolean);
  /** The README's first block's pool, made before a block that uses `pool`. */
  const poolPrelude = () => `import { createPool } from '@vms/pool';
import { docker } from '@vms/docker';
await using pool = createPool({ backend: docker, namePrefix: 'ci', options: { image: '${images.ref('alpine:3.20')}' }, min: 1 });`;

  beforeAll(async () => {
    images = await serveReadmeImages('docker', ['alpine:3.20']);
  }, 300_000);
  afterAll(() => images?.close());

  it('pool-intro: warm instances, a lease, pool.use; leaving the block deletes every instance', async () => {
    const block = readmeBlock(README, 'pool-intro');
    const code = substitute(block.code, [['alpine:3.20', images.ref('alpine:3.20')]]);
    const r = await withReadmeNames(() =>
      runSnippet(code, {
        name: 'pool-intro',
        // What the block computes, shown: the acquired instance's kernel and the os-release
        // read (busybox stands in for alpine and has no /etc/os-release: exit code 1).
        epilogue: 'console.log(version.exitCode, pool.stats().totals.acquired);',
      }),
    );
    expectRan(r);
    expect(r.stdout).toBe('1 2\n');
    expect(members()).toEqual([]);
  });

  it('pool-events: the listeners hear an acquire; stats() answers', async () => {
    const block = readmeBlock(README, 'pool-events');
    const r = await withReadmeNames(() =>
      runSnippet(block.code, {
        name: 'pool-events',
        prelude: poolPrelude(),
        epilogue: 'await pool.use(async () => undefined);',
      }),
    );
    expectRan(r);
    expect(r.stdout).toMatch(/^ci-[0-9a-f]+-\d+ [\d.]+ (true|false)\n$/);
    expect(members()).toEqual([]);
  });

  it('pool-prune: deletes what a process that died with its pool open left', async () => {
    const r = await withReadmeNames(async () => {
      // A process that dies (exit 1, no close) once its pool has one warm instance.
      const crashed = await runSnippet(
        'await pool.ready();\nconsole.log(pool.stats().warm);\nprocess.exit(1);',
        { name: 'pool-crash', prelude: poolPrelude() },
      );
      const left = members();
      const pruned = await runSnippet(readmeBlock(README, 'pool-prune').code, {
        name: 'pool-prune',
        prelude: "import { docker } from '@vms/docker';",
        epilogue: 'console.log(deleted.length, failed.length);',
      });
      return { crashed, left, pruned };
    });
    expect(r.crashed).toMatchObject({ code: 1, stdout: '1\n' });
    expect(r.left).toHaveLength(1);
    expectRan(r.pruned);
    expect(r.pruned.stdout).toBe('1 0\n');
    expect(members()).toEqual([]);
  });
});
