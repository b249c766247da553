/**
 * Real boots of the other LinuxKit output kinds: the test guest's BIOS ISO (iso-bios), the
 * same ISO converted to a qcow2 disk (qcow2-bios: SeaBIOS boots the isohybrid MBR from the
 * virtio disk), an image deleted under a running VM, and 9p mounts on an image without 9p.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, createRunner, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  guest,
  kernelTriple,
  processesUnder,
  skipReason,
  sweep,
  useTempHome,
  vmOptions,
} from '../test/guest.js';
import { createLinuxkit } from './backend.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(skipReason !== undefined)(
  'linuxkit: LinuxKit output kinds on real QEMU (TCG)',
  () => {
    const home = useTempHome();
    const scratch = mkdtempSync(join(tmpdir(), 'vlk-images-'));
    const backend = createLinuxkit();
    const made: Instance[] = [];
    const make = (name: string, options: Record<string, unknown>) => {
      const vm = createInstance(backend, name, vmOptions(guest!, options));
      made.push(vm);
      return vm;
    };

    afterAll(async () => {
      try {
        for (const vm of made) await vm.delete({ timeoutMs: 60_000 }).catch(() => {});
        expect(processesUnder(home), 'QEMU processes left behind').toEqual([]);
      } finally {
        sweep(home);
        sweep(scratch);
      }
    }, 180_000);

    it('boots an iso-bios image (detected by content) and runs commands over SSH', async () => {
      const vm = make('iso', { image: guest!.bootIso });
      await vm.create();
      await vm.start();
      const info = await vm.inspect();
      expect(info.properties.extra?.linuxkit).toMatchObject({ format: 'iso-bios', boot: 'iso' });
      expect((await vm.exec(['cat', '/proc/cmdline'])).stdout).toMatch(/console=ttyS0/);
      let log = '';
      await vm.logs({ onData: (c: Buffer) => (log += c.toString()) });
      expect(log).toContain(guest!.marker);
      await vm.delete();
    });

    describe('qcow2-bios disk', () => {
      const disk = join(scratch, 'guest.qcow2');
      let hash = '';
      let vm: Instance;
      beforeAll(async () => {
        await createRunner().run(['qemu-img', 'convert', '-O', 'qcow2', guest!.bootIso, disk], {
          timeoutMs: 120_000,
        });
        hash = sha256(disk);
        vm = make('disk', { image: disk });
        await vm.create();
        await vm.start();
      }, 240_000);

      it('boots from the disk through a qcow2 overlay; the user’s image is never written', async () => {
        const info = await vm.inspect();
        expect(info.properties.extra?.linuxkit).toMatchObject({
          format: 'qcow2-bios',
          boot: 'disk',
        });
        expect((await vm.exec(['sh', '-c', 'echo written > /tmp/f && cat /tmp/f'])).stdout).toBe(
          'written\n',
        );
        // The guest sees the disk (virtio) it booted from.
        expect((await vm.exec(['cat', '/sys/block/vda/size'])).stdout.trim()).not.toBe('0');
        await vm.stop({ graceMs: 30_000 });
        expect(sha256(disk)).toBe(hash);
      });
    });

    it('tells when the image is deleted under a running VM, and refuses to start it again', async () => {
      const prefix = kernelTriple(guest!, scratch, 'doomed');
      const vm = make('doomed', { image: prefix });
      await vm.create();
      await vm.start();
      unlinkSync(`${prefix}-kernel`);
      const running = await vm.refresh();
      expect(running.state.name).toBe('running');
      expect(running.state.reason).toContain(
        `kernel ${prefix}-kernel was deleted since create while the VM runs`,
      );
      // It keeps running on what it loaded.
      expect((await vm.exec(['echo', 'alive'])).stdout).toBe('alive\n');
      await vm.stop({ graceMs: 30_000 });
      await expect(vm.start()).rejects.toMatchObject({
        message: expect.stringContaining(`kernel ${prefix}-kernel was deleted`),
      });
      expect(processesUnder(home)).toEqual([]);
    });

    it('attaches mounts as 9p shares; on an image without 9p, start fails naming the mount and stops the VM', async () => {
      const share = mkdtempSync(join(scratch, 'share-'));
      const vm = make('mounts', {
        image: kernelTriple(guest!, scratch, 'mounts'),
        mounts: [{ source: share, target: '/data' }],
      });
      await vm.create();
      await expect(vm.start()).rejects.toMatchObject({
        message: expect.stringMatching(/mounts\.0: mounting .* at \/data in the guest failed/),
      });
      expect(processesUnder(home)).toEqual([]);
    });
  },
);
