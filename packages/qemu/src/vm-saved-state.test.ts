/**
 * Start from a saved state, on real boots of the test guest (root disk, TCG): a template is
 * saved once; clones resume its memory and disk instead of booting, each with its own identity
 * (host keys pinned afresh, hostname, machine-id, MAC, clock) and its own ports; two run at once.
 */
import { readFileSync } from 'node:fs';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { normalizeKey } from './host-keys.js';

const TEMPLATE = 'tpl';

/** What the guest says about itself, in one exec. */
async function identity(vm: Instance) {
  const r = await vm.exec([
    'sh',
    '-c',
    'hostname; cat /sys/class/net/eth0/address; cat /etc/machine-id; date +%s; cat /tmp/in-memory 2>/dev/null || echo none; cat /root/on-disk',
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const [hostname, mac, machineId, epoch, memory, disk] = r.stdout.trim().split('\n');
  return { hostname, mac, machineId, epoch: Number(epoch), memory, disk };
}

const pinnedKeys = async (vm: Instance) => {
  const file = String((await vm.inspect()).properties.extra?.knownHosts);
  return readFileSync(file, 'utf8').trim().split('\n');
};

describe.skipIf(skipReason !== undefined)('qemu: start from a saved state (TCG)', () => {
  const backend = createQemu();
  const clones: Instance[] = [];
  let home = '';
  let templateHostKey = '';

  beforeAll(async () => {
    home = useTempHome();
    templateHostKey = normalizeKey(readFileSync(guest!.hostPub, 'utf8'))!;
    const steps: string[] = [];
    const saved = await backend.templates.save(
      TEMPLATE,
      { ...guestOptions(guest!), accel: 'tcg' },
      {
        // Something only the template's memory holds (/tmp is a tmpfs), and something on its disk.
        prepare: async (vm) => {
          const r = await vm.exec([
            'sh',
            '-c',
            'echo from-memory >/tmp/in-memory && echo from-disk >/root/on-disk && sync',
          ]);
          expect(r.exitCode).toBe(0);
        },
        onProgress: (s) => steps.push(s),
        timeoutMs: 600_000,
      },
    );
    expect(saved).toMatchObject({ name: TEMPLATE, accel: 'tcg', memoryMiB: 256 });
    expect(saved.stateBytes).toBeGreaterThan(1024 * 1024);
    expect(steps).toContain('saving its state');
    // The instance the save booted is gone: nothing but the template is left.
    expect(await backend.list({ signal: AbortSignal.timeout(30_000) })).toEqual([]);
  }, 900_000);

  afterAll(async () => {
    for (const vm of clones) await vm.delete({ timeoutMs: 60_000 }).catch(() => {});
    await backend.templates.delete(TEMPLATE).catch(() => {});
    if (home) sweep(home);
  }, 300_000);

  const clone = (name: string) => {
    const vm = createInstance(backend, name, { from: { template: TEMPLATE } });
    clones.push(vm);
    return vm;
  };

  it('a clone resumes the template (memory and disk) instead of booting, and execs', async () => {
    const vm = clone('clone-a');
    await vm.create();
    const steps: string[] = [];
    vm.on('progress', (e) => steps.push(e.step));
    await vm.start({ timeoutMs: 180_000 });
    expect(steps).toContain('loading the saved state');
    expect(steps.some((s) => s.includes('on the serial console'))).toBe(false);
    const me = await identity(vm);
    expect(me.memory).toBe('from-memory');
    expect(me.disk).toBe('from-disk');
    // Its own identity, not the template's.
    expect(me.hostname).toBe('clone-a');
    const info = await vm.inspect();
    expect(info.properties.extra).toMatchObject({ template: TEMPLATE });
    expect(me.mac).toBe(info.properties.extra?.mac);
    expect(me.machineId).toMatch(/^[0-9a-f]{32}$/);
    // The clock was set on restore (the template's stopped when it was saved).
    expect(Math.abs(me.epoch - Date.now() / 1000)).toBeLessThan(120);
    // Host key: new, pinned afresh for this clone (not the template's baked-in key).
    const pinned = await pinnedKeys(vm);
    expect(pinned.length).toBeGreaterThan(0);
    expect(pinned.every((l) => l.startsWith('vms-clone-a '))).toBe(true);
    expect(pinned.join('\n')).not.toContain(templateHostKey);
  });

  it('two clones run at once without colliding: own MACs, ports, hostnames, keys', async () => {
    const b = clone('clone-b');
    const c = clone('clone-c');
    await Promise.all([b.create(), c.create()]);
    await Promise.all([b.start({ timeoutMs: 240_000 }), c.start({ timeoutMs: 240_000 })]);
    const [ib, ic] = await Promise.all([identity(b), identity(c)]);
    expect([ib.hostname, ic.hostname]).toEqual(['clone-b', 'clone-c']);
    expect(ib.mac).not.toBe(ic.mac);
    expect(ib.machineId).not.toBe(ic.machineId);
    expect([ib.memory, ic.memory]).toEqual(['from-memory', 'from-memory']);
    const [pb, pc] = await Promise.all([b.inspect(), c.inspect()]);
    expect(pb.properties.ssh?.port).not.toBe(pc.properties.ssh?.port);
    const [kb, kc] = await Promise.all([pinnedKeys(b), pinnedKeys(c)]);
    const key = (lines: string[]) => lines.map((l) => l.split(' ').slice(1).join(' '));
    expect(key(kb)).not.toEqual(key(kc));
    // A write in one clone is not seen by the other: each runs on its own disk.
    await b.exec(['sh', '-c', 'echo only-b >/root/on-disk && sync']);
    expect((await identity(c)).disk).toBe('from-disk');
  });

  it('a clone started again after a stop boots from its own disk and keeps its identity', async () => {
    const vm = clones.find((v) => v.name === 'clone-b') ?? clone('clone-b');
    await vm.stop({ timeoutMs: 120_000 });
    const steps: string[] = [];
    vm.on('progress', (e) => steps.push(e.step));
    await vm.start({ timeoutMs: 240_000 });
    expect(steps).not.toContain('loading the saved state');
    const me = await identity(vm);
    // Booted, not restored: the template's memory is gone; its own disk and name are kept.
    expect(me.memory).toBe('none');
    expect(me.disk).toBe('only-b');
    expect(me.hostname).toBe('clone-b');
    expect(me.mac).toBe((await vm.inspect()).properties.extra?.mac);
  });

  it('the template cannot be deleted while clones of it exist; list and get show it', async () => {
    await expect(backend.templates.delete(TEMPLATE)).rejects.toMatchObject({
      message: expect.stringContaining('in use by qemu:clone-a'),
    });
    expect((await backend.templates.list()).map((t) => t.name)).toEqual([TEMPLATE]);
    expect(await backend.templates.get(TEMPLATE)).toMatchObject({ name: TEMPLATE });
    expect(await backend.templates.get('nope')).toBeUndefined();
  });

  it('refuses machine options with from, and an unknown template at create', async () => {
    expect(() =>
      createInstance(backend, 'bad', { from: { template: TEMPLATE }, kernel: guest!.vmlinux }),
    ).toThrow(/kernel: comes from the template/);
    const missing = createInstance(backend, 'missing', { from: { template: 'no-such' } });
    await expect(missing.create()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
