/**
 * packages/lima/README.md, against the fakes @vms/lima is tested with (no real Lima or Colima runs
 * here): fake-limactl, modelled on lima 2.2.0, and fake-colima, modelled on colima 0.8.4, which
 * drives fake-limactl as the real one drives Lima. They are put first on PATH as `limactl`,
 * `lima` and `colima`, with homes of their own. Every `// limactl …` / `// colima …` comment of a
 * block is a call the fake received, in the block's order (`test-support/tool-calls.ts`); after
 * the block nothing it made is left: no instance directory, no record, no fake host agent or
 * driver process, no container.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SUITE_LABEL } from '@vms/container-engine/testing';
import { killProcessesMentioning, processesMentioning } from '@vms/core/testing';
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

const README = 'packages/lima/README.md';
const FAKES = fileURLToPath(new URL('../../lima/test/', import.meta.url));

/** A temp dir with `bin/` (the fakes as limactl, lima and colima) and `home/`. */
function fakeTools(): { dir: string; home: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'docs-lima-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'home'));
  symlinkSync(join(FAKES, 'fake-limactl.mjs'), join(dir, 'bin', 'limactl'));
  symlinkSync(join(FAKES, 'fake-limactl.mjs'), join(dir, 'bin', 'lima'));
  symlinkSync(join(FAKES, 'fake-colima.mjs'), join(dir, 'bin', 'colima'));
  return { dir, home: join(dir, 'home'), path: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` };
}

/** The argv each invocation of a fake got (its `_fake/calls.jsonl`), as `TOOL arg arg …`. */
function calls(tool: string, home: string): string[] {
  const log = join(home, '_fake', 'calls.jsonl');
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => [tool, ...(JSON.parse(l) as { argv: string[] }).argv].join(' '));
}

describe(`${README} (the fake limactl, modelled on lima 2.2)`, () => {
  let fake: ReturnType<typeof fakeTools>;
  beforeAll(() => {
    fake = fakeTools();
  });
  afterAll(() => {
    if (fake) killProcessesMentioning(fake.dir);
  });

  it('lima-intro: create with the options, start, exec in the mounted directory, snapshot, stop, deleted when the block ends', async () => {
    const src = join(fake.dir, 'src');
    mkdirSync(src);
    // The project's tests: they record where they ran.
    writeFileSync(join(src, 'test.sh'), '#!/bin/sh\npwd > ran-in\n', { mode: 0o755 });
    const vmsHome = join(fake.dir, 'vms-home');
    const code = substitute(readmeBlock(README, 'lima-intro').code, [['/Users/me/src', src]]);
    const r = await runSnippet(code, {
      name: 'lima-intro',
      env: { PATH: fake.path, LIMA_HOME: fake.home, VMS_HOME: vmsHome },
    });
    expectRan(r);
    expect(r.stdout).toBe('0\n');
    expect(readFileSync(join(src, 'ran-in'), 'utf8')).toBe(`${src}\n`);
    const commented = commentedCalls(code, 'limactl');
    expect(commented).toHaveLength(6);
    expectCallsInOrder(calls('limactl', fake.home), commented);
    // The mount and the port went into lima.yaml through --set.
    const create = calls('limactl', fake.home).find((c) => c.startsWith('limactl create '));
    expect(create).toContain(`"location":"${src}","mountPoint":"${src}"`);
    expect(create).toContain('"guestPort":8080,"hostPort":8080');
    // Deleted: no instance directory, no record, no host agent or driver.
    expect(existsSync(join(fake.home, 'dev'))).toBe(false);
    expect(existsSync(join(vmsHome, 'instances', 'lima', 'dev.json'))).toBe(false);
    expect(processesMentioning(fake.dir)).toEqual([]);
  });
});

const dockerSkip = readmeImagesSkipReason('docker');
if (dockerSkip) console.warn(`skipping the colima README block: ${dockerSkip}`);

describe.skipIf(dockerSkip !== undefined)(
  `${README} (the fake colima, modelled on colima 0.8.4, relaying to this host's docker)`,
  () => {
    let images: ReadmeImages;
    let fake: ReturnType<typeof fakeTools>;
    beforeAll(async () => {
      fake = fakeTools();
      images = await serveReadmeImages('docker', ['alpine:3.20']);
    }, 300_000);
    afterAll(async () => {
      if (fake) killProcessesMentioning(fake.dir);
      await images?.close();
    });

    it('colima-intro: created stopped, started on demand for a container on its engine, both deleted when the block ends', async () => {
      const vmsHome = join(fake.dir, 'vms-home');
      const code = substitute(readmeBlock(README, 'colima-intro').code, [
        ['alpine:3.20', images.ref('alpine:3.20')],
      ]);
      const since = Math.floor(Date.now() / 1000) - 1;
      const r = await withReadmeNames(() =>
        runSnippet(code, {
          name: 'colima-intro',
          env: { PATH: fake.path, COLIMA_HOME: fake.home, VMS_HOME: vmsHome },
        }),
      );
      expectRan(r);
      expect(r.stdout).toBe(`running unix://${join(fake.home, 'dev', 'docker.sock')}\n`);
      const commented = commentedCalls(code, 'colima');
      expect(commented).toHaveLength(4);
      expectCallsInOrder(calls('colima', fake.home), commented);
      // The container was made on the VM's engine (the fake relays to this host's, which saw it
      // come and go: it carries the served image's labels) and is gone with the block.
      const events = execFileSync('docker', [
        'events',
        ...['--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1)],
        ...['--filter', 'type=container', '--filter', `label=${TEST_SUITE_LABEL}=${images.suite}`],
        ...['--filter', 'container=web', '--filter', 'event=create', '--filter', 'event=destroy'],
        ...['--format', '{{.Action}} {{.Actor.Attributes.name}}'],
      ]);
      expect(events.toString().trim().split('\n')).toEqual(['create web', 'destroy web']);
      expect(inspectContainer('docker', 'web')).toBeUndefined();
      // The VM: no profile directory, no Lima instance, no records, no processes.
      expect(existsSync(join(fake.home, 'dev'))).toBe(false);
      expect(existsSync(join(fake.home, '_lima', 'colima-dev'))).toBe(false);
      expect(existsSync(join(vmsHome, 'instances', 'colima', 'dev.json'))).toBe(false);
      expect(existsSync(join(vmsHome, 'instances', 'docker', 'web.json'))).toBe(false);
      expect(processesMentioning(fake.dir)).toEqual([]);
    });
  },
);
