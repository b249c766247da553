/**
 * Paths with "," "=" ":" "%" spaces and non-ASCII (issue 14, item 4): a real TCG boot of the
 * test guest under such a VMS_HOME, from guest files reached through such a path, works end to
 * end — QMP, console, overlay, seed, SSH exec, stop, delete — and leaves nothing behind. A path
 * ssh cannot take is refused up front, naming the path and the character.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep } from '../test/guest.js';
import { createQemu } from './backend.js';
import { processesWithArgument } from './process.js';
import { instancePaths } from './state.js';

const HOSTILE = 'k=v a,b:c %x é ü 空';

describe.skipIf(skipReason !== undefined)('qemu: hostile characters in paths (TCG)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vq-paths-'));
  afterAll(() => sweep(root));

  it(`boots, execs, stops and deletes under VMS_HOME=…/${HOSTILE}`, async () => {
    const home = join(root, HOSTILE);
    const files = join(root, `guest ${HOSTILE}`);
    mkdirSync(home);
    symlinkSync(guest!.dir, files);
    const at = (path: string) => join(files, path.slice(guest!.dir.length + 1));
    const backend = createQemu({ stateRoot: join(home, 'state', 'qemu') });
    const options = guestOptions({
      ...guest!,
      vmlinux: at(guest!.vmlinux),
      initrd: at(guest!.initrd),
      baseQcow2: at(guest!.baseQcow2),
    });
    const vm = createInstance(backend, 'odd', options, { home });
    const paths = instancePaths(join(home, 'state', 'qemu', 'odd'));
    try {
      await vm.create();
      await vm.start();
      expect(vm.state.name).toBe('running');
      expect(processesWithArgument(paths.pidFile)).toHaveLength(1);
      expect((await vm.inspect()).state.name).toBe('running');
      const r = await vm.exec(['sh', '-c', 'echo "$((6 * 7))"']);
      expect(r).toMatchObject({ exitCode: 0, stdout: '42\n' });
      await vm.suspend();
      expect((await vm.refresh()).state.name).toBe('suspended');
      await vm.resume();
      expect((await vm.stop({ graceMs: 30_000 })).how).not.toBe('already-stopped');
      expect(processesWithArgument(paths.pidFile)).toEqual([]);
      await vm.start();
      expect((await vm.exec(['true'])).exitCode).toBe(0);
    } finally {
      expect(await vm.delete()).toEqual({ existed: true });
    }
    expect(processesWithArgument(paths.pidFile)).toEqual([]);
    expect(existsSync(paths.dir)).toBe(false);
    expect(existsSync(paths.qmpSocket)).toBe(false);
  }, 300_000);

  it('refuses up front a home ssh cannot take, naming the path and the character', async () => {
    const home = join(root, 'quote"d');
    const backend = createQemu({ stateRoot: join(home, 'state', 'qemu') });
    const vm = createInstance(backend, 'q', guestOptions(guest!), { home });
    await expect(vm.create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'VMS_HOME',
      message: expect.stringContaining('holds "\\"", which ssh cannot take'),
    });
    expect(existsSync(join(home, 'state', 'qemu', 'q'))).toBe(false);
    rmSync(home, { recursive: true, force: true });
  });
});
