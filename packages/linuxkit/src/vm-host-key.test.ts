/**
 * The test guest as a LinuxKit kernel+initrd output, run like a stock image: no ready marker,
 * the host key learned by the default `scan`; and `readiness: 'running'` for images without sshd.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
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

describe.skipIf(skipReason !== undefined)('linuxkit: stock-image readiness (TCG)', () => {
  const home = useTempHome();
  const images = mkdtempSync(join(tmpdir(), 'vlk-hostkey-'));
  const image = guest ? kernelTriple(guest, images, 'stock') : '';
  const backend = createLinuxkit();
  let vm: Instance | undefined;
  // The guest's real host key, as `type base64`.
  const hostKey = () =>
    readFileSync(guest!.hostPub, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  let knownHostsPath = '';
  const knownHosts = () => knownHostsPath;

  afterEach(async () => {
    await vm?.delete({ timeoutMs: 60_000 }).catch(() => {});
    vm = undefined;
  });
  afterAll(() => {
    try {
      expect(processesUnder(home), 'QEMU processes left behind').toEqual([]);
    } finally {
      sweep(home);
      sweep(images);
    }
  });

  it('default hostKey scan: no console keys or marker needed; exec checks the pinned key', async () => {
    vm = createInstance(backend, 'stock', vmOptions(guest!, { image, readyMarker: undefined }));
    const steps: string[] = [];
    vm.on('progress', (e) => steps.push(e.step));
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    knownHostsPath = String((await vm.inspect()).properties.extra?.knownHosts);
    expect(steps.some((s) => s.includes('learn its host key'))).toBe(true);
    expect(readFileSync(knownHosts(), 'utf8')).toContain(`vms-stock ${hostKey()}\n`);
    expect((await vm.exec(['echo', 'stock'])).stdout).toBe('stock\n');
  });

  it("readiness 'running': start returns at QMP running; exec then waits for SSH", async () => {
    vm = createInstance(
      backend,
      'nossh',
      vmOptions(guest!, { image, readyMarker: undefined, readiness: 'running' }),
    );
    await vm.create();
    await vm.start({ timeoutMs: 180_000 });
    const info = await vm.inspect();
    expect(info.state.name).toBe('running');
    knownHostsPath = String(info.properties.extra?.knownHosts);
    expect(() => readFileSync(knownHosts())).toThrow(/ENOENT/);
    const r = await vm.exec(['echo', 'later'], { timeoutMs: 180_000 });
    expect(r.stdout).toBe('later\n');
    expect(readFileSync(knownHosts(), 'utf8')).toContain(`vms-nossh ${hostKey()}\n`);
  });
});
