/**
 * A template built with `linuxkit build` and run: the build is a fake `linuxkit` (a real build
 * pulls images from a registry) whose "built" kernel+initrd are the test guest's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import type { FakeCli } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeLinuxkit } from '../test/fake-linuxkit.js';
import { guest, processesUnder, skipReason, sweep, useTempHome, vmOptions } from '../test/guest.js';
import { createLinuxkit } from './backend.js';

describe.skipIf(skipReason !== undefined)('linuxkit: build a template and run it (TCG)', () => {
  const home = useTempHome();
  let fake: FakeCli;
  let vm: Instance;

  beforeAll(async () => {
    fake = await createFakeLinuxkit({
      kernel: guest!.bzImage,
      initrd: guest!.initrd,
      iso: guest!.bootIso,
      cmdline: `${guest!.cmdline}\n`,
    });
    const backend = createLinuxkit({ linuxkit: fake.binPath });
    vm = createInstance(
      backend,
      'from-template',
      vmOptions(guest!, {
        template: {
          name: 'sshd',
          vars: { SSH_KEY: readFileSync(`${guest!.idKey}.pub`, 'utf8').trim() },
        },
        ports: [{ guest: 8080 }],
      }),
    );
    await vm.create();
    await vm.start();
  }, 240_000);

  afterAll(async () => {
    try {
      await vm?.delete({ timeoutMs: 60_000 });
      expect(processesUnder(home)).toEqual([]);
    } finally {
      await fake?.cleanup();
      sweep(home);
    }
  }, 120_000);

  it('ran `linuxkit build --format kernel+initrd` on the rendered template, into the instance dir', async () => {
    const calls = await fake.calls();
    expect(calls).toHaveLength(1);
    const dir = join(home, 'state', 'linuxkit', 'from-template', 'image');
    expect(calls[0]).toEqual([
      'build',
      '--format',
      'kernel+initrd',
      '--dir',
      dir,
      '--name',
      'sshd',
      join(dir, 'sshd.yml'),
    ]);
    expect(readFileSync(join(dir, 'sshd.yml'), 'utf8')).toContain('contents: "ssh-ed25519 ');
  });

  it('runs the built image: exec, forwarded ports on 127.0.0.1, logs', async () => {
    expect((await vm.exec(['uname', '-s'])).stdout).toBe('Linux\n');
    const info = await vm.inspect();
    expect(info.properties.image).toBe('template:sshd');
    expect(info.properties.ports?.[0]).toMatchObject({ hostIp: '127.0.0.1', guestPort: 8080 });
    let log = '';
    await vm.logs({ tail: 50, onData: (c: Buffer) => (log += c.toString()) });
    expect(log).toContain(guest!.marker);
  });

  it('follows the console log until aborted', async () => {
    const controller = new AbortController();
    let seen = '';
    // The handler is attached at once: the follow can end (aborted) before the exec returns.
    const following = vm
      .logs({
        follow: true,
        signal: controller.signal,
        onData: (c: Buffer) => {
          seen += c.toString();
          if (seen.includes('vms-follow-check')) controller.abort();
        },
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) throw e;
      });
    await vm.exec(['sh', '-c', 'echo vms-follow-check > /dev/console']);
    await following;
    expect(seen).toContain('vms-follow-check');
  });
});
