import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SUITE_LABEL } from './suite.js';
import { TEST_IMAGE, testEngine } from './test-engine.js';

const docker = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
const skip = docker.unavailableReason();
if (skip) console.warn(`[skipped] testEngine against docker: ${skip}`);
const run = `te${randomBytes(4).toString('hex')}`;

describe.skipIf(skip !== undefined)('testEngine (real docker)', () => {
  afterAll(() => docker.sweepTestSuite(run), 120_000);

  it('sweeps the containers of one test run and removes one behind the back', async () => {
    const create = (name: string, label: string) =>
      docker
        .cli(
          'create',
          '--name',
          name,
          '--label',
          `${TEST_SUITE_LABEL}=${label}`,
          TEST_IMAGE,
          'true',
        )
        .trim();
    const mine = [create(`${run}-a`, run), create(`${run}-b`, run)];
    const other = create(`${run}-other`, `${run}x`);
    try {
      await docker.sweepTestSuite(run);
      const left = docker.cli('ps', '-aq', '--no-trunc', '--filter', `name=${run}`).split('\n');
      expect(left.filter(Boolean)).toEqual([other]);
      expect(mine.every((id) => !left.includes(id))).toBe(true);
    } finally {
      await docker.removeBehindBack(`${run}-other`);
    }
    expect(docker.cli('ps', '-aq', '--filter', `name=${run}`).trim()).toBe('');
  });
});

describe('testEngine', () => {
  it('says why an engine cannot be used: the missing image, and the setup hint', () => {
    const image = 'vms-test/no-such-image:none';
    const engine = testEngine('docker', { image, setupHint: 'see the README' });
    expect(engine.binary).toBe('docker');
    expect(engine.unavailableReason()).toMatch(
      /^no docker engine answers or image vms-test\/no-such-image:none is missing \(.+\); see the README$/,
    );
  });
});
