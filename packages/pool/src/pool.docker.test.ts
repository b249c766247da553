/**
 * The pool on a real docker engine (image vms-test/busybox:latest from scripts/ci/containers.sh):
 * the shared scenarios, snapshot recycling, and prunePool after a process that really crashed.
 * Skipped, with the reason printed, when no docker engine answers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testRunLabels } from '@vms/core/testing';
import { createDocker } from '@vms/docker';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPool, type Pool } from './pool.js';
import { prunePool } from './prune.js';
import { docker, dockerSkipReason, TEST_IMAGE } from './test-support/docker.js';
import { nextEvent } from './test-support/events.js';
import { runPoolScenarios } from './test-support/scenarios.js';

const skip = dockerSkipReason();
if (skip) console.warn(`[skipped] pool docker tests: ${skip}`);

const backend = createDocker();
// No network: the pool needs none, and the tests then do not depend on the engine's bridge.
const options = () => ({ image: TEST_IMAGE, network: 'none', labels: testRunLabels() });
// Pool names of this file's run only: prunePool deletes every pool of a prefix on the engine, and
// another run of these tests (another checkout, CI job or user) may share it at the same time.
const tag = randomBytes(3).toString('hex');
const prefix = {
  test: `vmspooltest${tag}`,
  snap: `vmspoolsnap${tag}`,
  crash: `vmspoolcrash${tag}`,
};

runPoolScenarios({
  name: 'docker',
  backend: () => backend,
  options,
  exec: { argv: ['echo', 'hello'], stdout: 'hello\n' },
  breakBehindBack: async (name) => {
    docker('kill', name);
  },
  namePrefix: prefix.test,
  timeoutMs: 120_000,
  skip,
});

describe.skipIf(Boolean(skip))('pool on docker', () => {
  const pools: Pool[] = [];
  afterEach(async () => {
    await Promise.allSettled(pools.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    for (const namePrefix of [prefix.snap, prefix.crash]) {
      await prunePool({ backend, namePrefix, options: options(), includeLive: true });
    }
  });

  it("recycle 'snapshot' gives back the instance as it was when first ready, and close removes the snapshot", async () => {
    const pool = createPool({
      backend,
      namePrefix: prefix.snap,
      options: options(),
      min: 1,
      max: 1,
      recycle: 'snapshot',
      acquireTimeoutMs: 120_000,
    });
    pools.push(pool);
    await pool.ready({ timeoutMs: 120_000 });
    const lease = await pool.acquire();
    const wrote = await lease.instance.exec(['sh', '-c', 'echo dirty > /tmp/left-over']);
    expect(wrote.exitCode).toBe(0);
    const recycled = nextEvent(pool, 'recycled', () => true, 120_000);
    await lease.release();
    expect((await recycled).how).toBe('snapshot');
    const again = await pool.acquire();
    expect(again.name).toBe(lease.name);
    const read = await again.instance.exec(['cat', '/tmp/left-over']);
    expect(read.exitCode).not.toBe(0);
    await again.release();
    await pool.close();
    const snapshotImages = docker(
      'images',
      '-q',
      '--filter',
      `label=dev.vms.snapshot-of=${lease.name}`,
    );
    expect(snapshotImages.trim()).toBe('');
    expect(docker('ps', '-aq', '--filter', `name=${lease.name}`).trim()).toBe('');
  });

  it('prunePool deletes what a crashed process left (containers and snapshot images)', async () => {
    const child = fileURLToPath(new URL('./test-support/crash-child.mjs', import.meta.url));
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    expect(
      existsSync(dist),
      'the crash child imports @vms/pool from dist: run pnpm build first',
    ).toBe(true);
    const run = promisify(execFile)(
      process.execPath,
      [child, prefix.crash, TEST_IMAGE, 'none', JSON.stringify(testRunLabels())],
      { timeout: 240_000 },
    );
    const failure = await run.then(
      () => new Error('the child was expected to die by SIGKILL'),
      (error: { signal?: string; stdout?: string }) => error,
    );
    expect((failure as { signal?: string }).signal).toBe('SIGKILL');
    const report = JSON.parse((failure as { stdout?: string }).stdout ?? '{}') as {
      id: string;
      busy: string;
    };
    const before = docker(
      'ps',
      '-a',
      '--format',
      '{{.Names}}',
      '--filter',
      `label=dev.vms.pool=${prefix.crash}`,
    )
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(before).toHaveLength(3);
    expect(before).toContain(report.busy);
    expect(before.every((n) => n.startsWith(`${prefix.crash}-${report.id}-`))).toBe(true);

    const result = await prunePool({ backend, namePrefix: prefix.crash });
    expect(result.failed).toEqual([]);
    expect(result.deleted).toEqual(before);
    expect(docker('ps', '-aq', '--filter', `label=dev.vms.pool=${prefix.crash}`).trim()).toBe('');
    for (const name of before) {
      expect(docker('images', '-q', '--filter', `label=dev.vms.snapshot-of=${name}`).trim()).toBe(
        '',
      );
    }
  });
});
