/**
 * The VM READMEs' blocks (qemu, linuxkit) on real QEMU with the project's test guest (TCG where
 * KVM is not usable): the README's image paths are replaced by the guest's files, each block runs
 * in its own node process with a VMS_HOME of its own, and after it no QEMU of that home runs.
 * The linuxkit template build uses the fake `linuxkit` (a real build pulls images from a
 * registry), first on PATH, whose "build" outputs are the test guest's kernel and initrd.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FakeCli } from '@vms/core/testing';
import { loadTestGuest, processesUnder, sweep, testGuestSkipReason } from '@vms/qemu/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createFakeLinuxkit } from '../../linuxkit/test/fake-linuxkit.js';
import { readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import {
  expectRan,
  runSnippet,
  snippetsDir,
  substitute,
  writeSnippet,
} from './test-support/snippets.js';

const run = promisify(execFile);
const skip = testGuestSkipReason();
if (skip) console.warn(`skipping the qemu and linuxkit README blocks: ${skip}`);
const guest = skip ? undefined : loadTestGuest();

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) sweep(home);
});
/** A fresh VMS_HOME for one block. */
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docs-vm-'));
  homes.push(dir);
  return dir;
}
/** Instance directories left in a home's state (a deleted instance leaves none). */
function instancesIn(dir: string, backend: string): string[] {
  const state = join(dir, 'state', backend);
  return existsSync(state) ? readdirSync(state) : [];
}

describe.skipIf(skip !== undefined)('VM READMEs on real QEMU (test guest)', () => {
  const g = guest as NonNullable<typeof guest>;

  it('packages/qemu/README.md qemu-intro: boots the disk with the seed hostname, snapshots, stops, deleted', async () => {
    const block = readmeBlock('packages/qemu/README.md', 'qemu-intro');
    const code = substitute(block.code, [
      ['/images/vmlinux', g.vmlinux],
      ['/images/initrd.gz', g.initrd],
      ['/images/base.qcow2', g.baseQcow2],
    ]);
    const vmsHome = home();
    const r = await runSnippet(code, { name: 'qemu-intro', env: { VMS_HOME: vmsHome } });
    expectRan(r);
    // uname -a: the hostname is the one `userData` put in the seed.
    expect(r.stdout).toMatch(/^Linux web \S+ .*\n\n$/);
    expect(processesUnder(vmsHome)).toEqual([]);
    expect(instancesIn(vmsHome, 'qemu')).toEqual([]);
  }, 300_000);

  it('packages/qemu/README.md qemu-testing: the helpers in a vitest file of a user', async () => {
    const block = readmeBlock('packages/qemu/README.md', 'qemu-testing');
    const file = await writeSnippet(block.code, {
      name: 'qemu-testing',
      extension: '.test.mjs',
      prelude: "import { afterAll, expect, it } from 'vitest';",
      epilogue: `it('loads the guest and a temp home', () => {
  expect(skip).toBeUndefined();
  expect(guest.vmlinux).toMatch(/vmlinux$/);
  expect(process.env.VMS_HOME).toBe(home);
  console.log(JSON.stringify({ home, vmlinux: guest.vmlinux }));
});`,
    });
    const vitest = fileURLToPath(
      new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url),
    );
    const { stdout } = await run(
      process.execPath,
      [vitest, 'run', file, '--root', snippetsDir(), '--reporter', 'verbose'],
      { cwd: snippetsDir(), env: { ...process.env, CI: '1' }, timeout: 120_000 },
    );
    const seen = JSON.parse(/\{"home":.*\}/.exec(stdout)?.[0] ?? '{}') as {
      home?: string;
      vmlinux?: string;
    };
    expect(seen.vmlinux).toBe(g.vmlinux);
    expect(seen.home).toBeTruthy();
    // afterAll(() => sweep(home)) removed the file's home.
    expect(existsSync(seen.home as string)).toBe(false);
    expect(stdout).toMatch(/1 passed/);
  }, 180_000);

  it('packages/linuxkit/README.md linuxkit-intro: a kernel+initrd output with the baked key, exec, deleted', async () => {
    const block = readmeBlock('packages/linuxkit/README.md', 'linuxkit-intro');
    const code = substitute(block.code, [
      ["'out/sshd'", JSON.stringify(join(g.dir, 'testguest'))],
      ['/home/me/.ssh/id_ed25519', g.idKey],
    ]);
    const vmsHome = home();
    // Its host port 8080 is the README's: under the README names lock.
    const r = await withReadmeNames(() =>
      runSnippet(code, { name: 'linuxkit-intro', env: { VMS_HOME: vmsHome } }),
    );
    expectRan(r);
    expect(r.stdout).toMatch(/^Linux \S+ .*\n\n$/);
    expect(processesUnder(vmsHome)).toEqual([]);
    expect(instancesIn(vmsHome, 'linuxkit')).toEqual([]);
  }, 300_000);

  describe('packages/linuxkit/README.md linuxkit-templates', () => {
    let fake: FakeCli;
    afterAll(() => fake?.cleanup());

    it('lists and renders the built-in templates; create builds one with linuxkit', async () => {
      fake = await createFakeLinuxkit({
        kernel: g.bzImage,
        initrd: g.initrd,
        iso: g.bootIso,
        cmdline: `${g.cmdline}\n`,
      });
      const pub = readFileSync(`${g.idKey}.pub`, 'utf8').trim();
      const vmsHome = home();
      const r = await runSnippet(
        readmeBlock('packages/linuxkit/README.md', 'linuxkit-templates').code,
        {
          name: 'linuxkit-templates',
          // What the text around the block has: the public key to bake in, and createInstance.
          prelude: `import { createInstance } from '@vms/core';\nconst pub = ${JSON.stringify(pub)};`,
          epilogue: `console.log((await linuxkit.templates.list()).map((t) => t.name).join(','), yaml.includes(pub), vm.state.name);\nawait vm.delete();`,
          env: { ...fake.env, VMS_HOME: vmsHome },
        },
      );
      expectRan(r);
      expect(r.stdout).toBe('docker,sshd true stopped\n');
      const calls = await fake.calls();
      expect(calls).toHaveLength(1);
      expect(calls[0]?.slice(0, 3)).toEqual(['build', '--format', 'kernel+initrd']);
      expect(instancesIn(vmsHome, 'linuxkit')).toEqual([]);
    }, 300_000);
  });
});
