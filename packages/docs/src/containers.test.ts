/**
 * The container READMEs' TypeScript blocks (docker, podman, container-engine), each run in its
 * own node process against the real engines: images served by a local registry under the
 * README's names (only the registry host substituted), a private one behind basic auth with the
 * credentials where `docker login` puts them; podman machine against the fake `podman` (podman
 * machine refuses root and needs nested virtualisation), first on PATH.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import {
  inspectContainer,
  type ReadmeImages,
  readmeImagesSkipReason,
  serveReadmeImages,
} from './test-support/readme-images.js';
import { expectRan, runSnippet, substitute } from './test-support/snippets.js';
import { commentedCalls, expectCallsInOrder } from './test-support/tool-calls.js';

const dockerSkip = readmeImagesSkipReason('docker');
if (dockerSkip) console.warn(`skipping the docker README blocks: ${dockerSkip}`);

describe.skipIf(dockerSkip !== undefined)('packages/docker/README.md (real docker)', () => {
  let images: ReadmeImages;
  let registry: ReadmeImages;
  const credentials = { username: 'team', password: `pw-${Date.now().toString(36)}` };
  beforeAll(async () => {
    images = await serveReadmeImages('docker', ['alpine:3.20']);
    // An app image has layers of its own: 3 MB here, so the pull reports bytes.
    registry = await serveReadmeImages('docker', ['registry.example:5000/team/app:1.4'], {
      credentials,
      layerBytes: 3_000_000,
    });
  }, 300_000);
  afterAll(async () => {
    await images?.close();
    await registry?.close();
  });

  it('docker-intro: pulls, forwards the port, exec sees the env, pause/unpause, a graceful stop, then deleted', async () => {
    const block = readmeBlock('packages/docker/README.md', 'docker-intro');
    const code = substitute(block.code, [['alpine:3.20', images.ref('alpine:3.20')]]);
    const r = await withReadmeNames(() => runSnippet(code, { name: 'docker-intro' }));
    expectRan(r);
    // console.log of the ports array, of exec's exit code and stdout ('UTC\n'), of the stop.
    expect(r.stdout).toMatch(
      /^\[\s*\{\s*hostIp: '127\.0\.0\.1',\s*hostPort: \d+,\s*guestPort: 8080,\s*protocol: 'tcp'\s*\}\s*\]\n0 UTC\n\ngraceful 0\n$/,
    );
    expect(inspectContainer('docker', 'box')).toBeUndefined();
  });

  it('docker-settings: each setting makes a backend (nothing is contacted yet)', async () => {
    const r = await runSnippet(readmeBlock('packages/docker/README.md', 'docker-settings').code, {
      name: 'docker-settings',
    });
    expectRan(r);
    expect(r.stdout).toBe('');
  });

  it('docker-pull: a private registry with the credentials docker login wrote, progress in bytes', async () => {
    const block = readmeBlock('packages/docker/README.md', 'docker-pull');
    const ref = registry.ref('registry.example:5000/team/app:1.4');
    const code = substitute(block.code, [['registry.example:5000/team/app:1.4', ref]]);
    const r = await withReadmeNames(async () => {
      const out = await runSnippet(code, { name: 'docker-pull', env: registry.env });
      const image = inspectContainer('docker', 'app', '{{.Config.Image}}');
      execFileSync('docker', ['rm', '--force', 'app'], { stdio: 'pipe' });
      return { out, image };
    });
    expectRan(r.out);
    expect(r.image).toBe(ref);
    const lines = r.out.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\S.* \d+\/\d+ bytes$/);
  });
});

const podmanSkip = readmeImagesSkipReason('podman');
if (podmanSkip) console.warn(`skipping the podman README's container block: ${podmanSkip}`);

describe('packages/podman/README.md', () => {
  describe.skipIf(podmanSkip !== undefined)('containers (real podman)', () => {
    let images: ReadmeImages;
    beforeAll(async () => {
      images = await serveReadmeImages('podman', ['docker.io/library/alpine:3.20']);
    }, 300_000);
    afterAll(() => images?.close());

    it('podman-intro: pulls the named image, exec as another user, deleted at the end', async () => {
      const block = readmeBlock('packages/podman/README.md', 'podman-intro');
      const ref = images.ref('docker.io/library/alpine:3.20');
      const code = substitute(block.code, [['docker.io/library/alpine:3.20', ref]]);
      const r = await withReadmeNames(() =>
        runSnippet(code, { name: 'podman-intro', env: images.env }),
      );
      expectRan(r);
      expect(r.stdout).toBe('nobody\n\n');
      expect(inspectContainer('podman', 'box')).toBeUndefined();
    });
  });

  it('podman-machine: the calls in its comments are the ones podman gets (the fake podman)', async () => {
    const fake = fileURLToPath(
      new URL('../../podman/src/__fixtures__/fake-podman.mjs', import.meta.url),
    );
    const dir = mkdtempSync(join(tmpdir(), 'docs-fake-podman-'));
    mkdirSync(join(dir, 'bin'));
    symlinkSync(fake, join(dir, 'bin', 'podman'));
    const log = join(dir, 'calls.jsonl');
    const block = readmeBlock('packages/podman/README.md', 'podman-machine');
    const r = await runSnippet(block.code, {
      name: 'podman-machine',
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
        FAKE_PODMAN_HOME: dir,
        FAKE_PODMAN_LOG: log,
      },
    });
    expectRan(r);
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as string[]).join(' '));
    // Every `// podman …` comment of the block, in order, with `…` standing for what varies.
    const commented = commentedCalls(block.code, 'podman');
    expect(commented.length).toBe(5);
    expectCallsInOrder(
      calls.map((c) => `podman ${c}`),
      commented,
    );
  });
});

describe.skipIf(dockerSkip !== undefined)('packages/container-engine/README.md', () => {
  it('container-engine-dialect: a docker dialect makes a backend', async () => {
    const block = readmeBlock('packages/container-engine/README.md', 'container-engine-dialect');
    const r = await runSnippet(block.code, { name: 'container-engine-dialect' });
    expectRan(r);
    expect(r.stdout).toBe('');
  });
});
