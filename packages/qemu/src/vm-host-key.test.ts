/**
 * Host-key and readiness choices on real boots of the test guest (initramfs, TCG): `scan` learns
 * the key with ssh-keyscan over the loopback forward; `readiness: 'running'` returns at QMP
 * running and the first exec pins the key then.
 */
import { readFileSync } from 'node:fs';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { normalizeKey } from './host-keys.js';

/** Initramfs boot (quickest), no ready marker: what a stock image without one looks like. */
const bootOptions = (extra: Record<string, unknown>) => ({
  ...guestOptions(guest!),
  disk: undefined,
  cmdline: guest!.cmdline,
  readyMarker: undefined,
  ...extra,
});

const pinned = (vm: Instance) =>
  vm.inspect().then((i) => readFileSync(String(i.properties.extra?.knownHosts), 'utf8'));

describe.skipIf(skipReason !== undefined)('qemu: host key and readiness choices (TCG)', () => {
  const backend = createQemu();
  let home = '';
  let vm: Instance | undefined;
  const hostKey = () => normalizeKey(readFileSync(guest!.hostPub, 'utf8'))!;

  afterEach(async () => {
    await vm?.delete({ timeoutMs: 60_000 }).catch(() => {});
    vm = undefined;
  });
  afterAll(() => {
    if (home) sweep(home);
  });

  it("hostKey 'scan': pins the key ssh-keyscan learns, and exec checks it", async () => {
    home ||= useTempHome();
    vm = createInstance(backend, 'scan', bootOptions({ hostKey: 'scan' }));
    const steps: string[] = [];
    vm.on('progress', (e) => steps.push(e.step));
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    expect(steps.some((s) => s.includes('learn its host key'))).toBe(true);
    expect(steps.some((s) => s.includes('host key on the serial console'))).toBe(false);
    expect(await pinned(vm)).toContain(`vms-scan ${hostKey()}\n`);
    const r = await vm.exec(['echo', 'scanned']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'scanned\n' });
  });

  it("readiness 'running': start returns at QMP running; the first exec waits for SSH and pins the key", async () => {
    home ||= useTempHome();
    vm = createInstance(backend, 'early', bootOptions({ readiness: 'running' }));
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    const info = await vm.inspect();
    expect(info.state.name).toBe('running');
    // Nothing was waited for beyond QMP: no host key is pinned yet.
    await expect(pinned(vm)).rejects.toMatchObject({ code: 'ENOENT' });
    const r = await vm.exec(['cat', '/proc/sys/kernel/hostname'], { timeoutMs: 180_000 });
    expect(r.exitCode).toBe(0);
    expect(await pinned(vm)).toContain(`vms-early ${hostKey()}\n`);
  });

  it("hostKey publicKeys: pins the given key; a key that is not the guest's fails exec", async () => {
    home ||= useTempHome();
    vm = createInstance(
      backend,
      'known',
      bootOptions({ hostKey: { publicKeys: [readFileSync(guest!.hostPub, 'utf8')] } }),
    );
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    expect(await pinned(vm)).toBe(`vms-known ${hostKey()}\n`);
    expect((await vm.exec(['echo', 'known'])).stdout).toBe('known\n');
    await vm.delete({ timeoutMs: 60_000 });

    // Another key (the seed's user key stands in for a wrong host key): ssh refuses the guest.
    const wrong = readFileSync(guest!.seedPub, 'utf8');
    vm = createInstance(
      backend,
      'wrong',
      bootOptions({
        hostKey: { publicKeys: [wrong] },
        readiness: 'running',
        readyMarker: guest!.marker,
      }),
    );
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    await expect(vm.exec(['true'], { timeoutMs: 180_000 })).rejects.toThrow(
      /Host key verification failed/,
    );
  });
});
