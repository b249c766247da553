/**
 * Stopping real VMs the hard ways: a guest that ignores ACPI power-down, QEMU killed from
 * outside, a stale PID that now belongs to another process, and two VMs started at once.
 */
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { createInstance, sleep, waitFor } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { pickFreePort } from './ports.js';
import { isOurProcess, readProcStat } from './process.js';
import { createStore } from './state.js';

describe.skipIf(skipReason !== undefined)('qemu: stopping VMs (TCG)', () => {
  const backend = createQemu();
  const others: number[] = [];
  let home = '';
  beforeAll(() => {
    home = useTempHome();
  });

  afterAll(async () => {
    for (const pid of others) {
      try {
        process.kill(pid, 'SIGKILL');
        await waitFor(
          async () => readProcStat(pid) === undefined || readProcStat(pid)?.state === 'Z',
          {
            description: `pid ${pid} to die`,
            timeoutMs: 30_000,
          },
        );
      } catch {
        // gone
      }
    }
    if (home) sweep(home);
  });

  it('forces the stop when the guest ignores power-down, then sees QEMU killed from outside', async () => {
    await using vm = createInstance(backend, 'deaf', guestOptions(guest!, {}, 'noacpid'));
    await vm.create();
    await vm.start();
    const stopped = await vm.stop({ graceMs: 3_000 });
    expect(stopped.how).toBe('forced');
    expect((await vm.refresh()).state.name).toBe('stopped');

    await vm.start();
    const info = await vm.inspect();
    const pid = Number(info.properties.extra?.pid);
    expect(isOurProcess({ pid, marker: String(info.properties.extra?.pidFile) })).toBe(true);
    // watch(): the runtime learns of the death by itself, without a refresh.
    const drift = new Promise<{ observed: { name: string; reason?: string } }>((resolve) =>
      vm.once('drift', resolve),
    );
    process.kill(pid, 'SIGKILL');
    const timer = new AbortController();
    const seen = await Promise.race([
      drift,
      sleep(60_000, timer.signal).then(
        () => {
          throw new Error('no drift event within 60 s');
        },
        () => undefined as never,
      ),
    ]).finally(() => timer.abort());
    expect(seen.observed).toMatchObject({
      name: 'stopped',
      reason: expect.stringMatching(/exited without a stop request/),
    });
    expect(vm.state.name).toBe('stopped');
    await waitFor(async () => readProcStat(pid) === undefined || readProcStat(pid)?.state === 'Z', {
      description: `pid ${pid} to die`,
      timeoutMs: 30_000,
    });
    const r = await vm.refresh();
    expect(r.state.name).toBe('stopped');
    expect(r.state.reason).toMatch(/exited without a stop request/);
    expect(
      (await backend.list({ signal: AbortSignal.timeout(10_000) })).find((l) => l.name === 'deaf')
        ?.state,
    ).toBe('stopped');
  });

  it('never signals a stale PID that now belongs to another process', async () => {
    await using vm = createInstance(backend, 'stale', guestOptions(guest!));
    await vm.create();
    // A process that is not ours takes the recorded PID (as after PID reuse).
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    others.push(other.pid!);
    const store = createStore();
    const state = (await store.read('stale'))!;
    await store.write('stale', {
      ...state,
      launch: {
        pid: other.pid!,
        qmpSocket: `${store.instanceDir('stale')}/qmp.sock`,
        accel: 'tcg',
        accelReason: 'test',
        sshPort: 1,
        ports: [],
        consoleOffset: 0,
        startedAt: new Date().toISOString(),
      },
    });
    expect((await vm.refresh()).state.name).toBe('stopped');
    expect((await vm.stop()).how).toBe('already-stopped');
    expect(await vm.delete()).toEqual({ existed: true });
    const stat = readProcStat(other.pid!);
    expect(stat?.state).not.toBe('Z');
    expect(stat).toBeDefined();
  });

  it('boots a BIOS ISO (disk boot) with the per-instance seed attached; readiness by SSH probe', async () => {
    // No readyMarker: start() waits for the host keys on the console, then probes SSH.
    await using vm = createInstance(backend, 'iso', {
      iso: guest!.bootIso,
      accel: 'tcg',
      memoryMiB: 256,
      restrictNetwork: true,
    });
    await vm.create();
    await vm.start();
    expect((await vm.exec(['hostname'])).stdout.trim()).toBe('iso');
    expect((await vm.stop({ graceMs: 60_000 })).how).toBe('graceful');
  });

  it('gives two VMs started in parallel distinct ports, and both work', async () => {
    const opts = {
      kernel: guest!.vmlinux,
      initrd: guest!.initrd,
      cmdline: guest!.cmdline,
      accel: 'tcg' as const,
      memoryMiB: 256,
      restrictNetwork: true,
      readyMarker: guest!.marker,
      ports: [{ guest: 80 }, { guest: 443 }],
    };
    // par-a's first port choice is one another process holds: its launch must retry.
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as AddressInfo).port;
    let first = true;
    const racing = createQemu({
      pickPort: async (ip) => {
        if (first) {
          first = false;
          return busyPort;
        }
        return pickFreePort(ip);
      },
    });
    await using a = createInstance(racing, 'par-a', opts);
    await using b = createInstance(backend, 'par-b', opts);
    await Promise.all([a.create(), b.create()]);
    await Promise.all([a.start(), b.start()]);
    const ports = (p: Awaited<ReturnType<typeof a.inspect>>) => [
      p.properties.ssh!.port,
      ...(p.properties.ports ?? []).map((x) => x.hostPort),
    ];
    busy.close();
    const all = [...ports(await a.inspect()), ...ports(await b.inspect())];
    expect(all).not.toContain(busyPort);
    expect(all).toHaveLength(6);
    expect(new Set(all).size).toBe(6);
    const [ra, rb] = await Promise.all([a.exec(['hostname']), b.exec(['hostname'])]);
    expect(ra.stdout.trim()).toBe('par-a');
    expect(rb.stdout.trim()).toBe('par-b');
  });
});
