/**
 * One real VM (the test guest under TCG, on a qcow2 overlay with a per-instance seed) walked
 * through seed, exec, copy, suspend/resume, snapshots, logs and a graceful stop.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { isOurProcess } from './process.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(skipReason !== undefined)('qemu: one VM through its lifecycle (TCG)', () => {
  const backend = createQemu();
  let vm: Instance;
  let baseHash = '';
  let home = '';
  let scratch = '';

  beforeAll(async () => {
    home = useTempHome();
    scratch = mkdtempSync(join(tmpdir(), 'vq-scratch-'));
    baseHash = sha256(guest!.baseQcow2);
    vm = createInstance(
      backend,
      'life',
      guestOptions(guest!, {
        userData: {
          hostname: 'from-seed',
          sshAuthorizedKeys: [readFileSync(guest!.seedPub, 'utf8').trim()],
        },
        ports: [{ guest: 8080 }],
        diskGiB: 1,
      }),
    );
    await vm.create();
    await vm.start();
  });

  afterAll(async () => {
    try {
      await vm?.delete({ timeoutMs: 60_000 });
    } finally {
      if (home) sweep(home);
      if (scratch) sweep(scratch);
    }
  });

  it('runs and reports its properties: ssh port, forwards on 127.0.0.1, accelerator', async () => {
    const info = await vm.inspect();
    expect(info.state.name).toBe('running');
    expect(info.properties.ssh?.host).toBe('127.0.0.1');
    expect(info.properties.ports).toHaveLength(1);
    expect(info.properties.ports?.[0]).toMatchObject({ hostIp: '127.0.0.1', guestPort: 8080 });
    expect(info.properties.ports?.[0]?.hostPort).not.toBe(info.properties.ssh?.port);
    expect(info.properties.extra?.accel).toBe('tcg');
  });

  it("delivers the seed's hostname and SSH keys to the guest", async () => {
    expect((await vm.exec(['hostname'])).stdout.trim()).toBe('from-seed');
    const keys = (await vm.exec(['cat', '/root/.ssh/authorized_keys'])).stdout;
    expect(keys).toContain(readFileSync(guest!.seedPub, 'utf8').trim().split(' ')[1]);
    // The per-instance key (generated at create) logged us in: it reached the guest only via the seed.
    const info = await vm.inspect();
    const pub = readFileSync(`${String(info.properties.extra?.privateKey)}.pub`, 'utf8')
      .trim()
      .split(' ')[1];
    expect(keys).toContain(pub);
  });

  it('runs on a qcow2 overlay of the base, grown to diskGiB', async () => {
    expect((await vm.exec(['cat', '/sys/block/vda/size'])).stdout.trim()).toBe(
      String(1024 ** 3 / 512),
    );
    expect(
      (await vm.exec(['sh', '-c', 'awk \'$2 == "/" { print $1 }\' /proc/mounts'])).stdout.trim(),
    ).toBe('/dev/vda');
  });

  it('exec: streams, exit codes, stdin, env, cwd', async () => {
    const r = await vm.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await vm.exec(['cat'], { stdin: 'piped\n' })).stdout).toBe('piped\n');
    const env = await vm.exec(['sh', '-c', 'echo "$GREETING"; pwd'], {
      env: { GREETING: "it's a $test" },
      cwd: '/tmp',
    });
    expect(env.stdout).toBe("it's a $test\n/tmp\n");
  });

  it('exec: a terminal only when asked for', async () => {
    const probe = ['sh', '-c', 'if test -t 1; then echo tty; else echo pipe; fi'];
    expect((await vm.exec(probe)).stdout).toBe('pipe\n');
    expect((await vm.exec(probe, { tty: true })).stdout.trim()).toBe('tty');
  });

  it('exec: a deadline ends the command inside the guest too', async () => {
    await expect(vm.exec(['sleep', '4711'], { timeoutMs: 3_000 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    const ps = await vm.exec(['sh', '-c', 'ps | grep -c "[s]leep 4711" || true']);
    expect(ps.stdout.trim()).toBe('0');
  });

  it('copies files in and out (scp)', async () => {
    const src = join(scratch, 'in.txt');
    writeFileSync(src, 'payload\n');
    await vm.copyIn(src, '/root/in.txt');
    expect((await vm.exec(['cat', '/root/in.txt'])).stdout).toBe('payload\n');
    await vm.copyOut('/root/in.txt', join(scratch, 'out.txt'));
    expect(readFileSync(join(scratch, 'out.txt'), 'utf8')).toBe('payload\n');
  });

  it('suspends and resumes; SSH works again after resume', async () => {
    await vm.suspend();
    expect((await vm.refresh()).state.name).toBe('suspended');
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === 'life')).toMatchObject({
      state: 'suspended',
      managed: true,
    });
    await vm.resume();
    expect((await vm.refresh()).state.name).toBe('running');
    expect((await vm.exec(['echo', 'back'])).stdout).toBe('back\n');
  });

  it('saves and restores a snapshot on the overlay: a file gets its old content back', async () => {
    await vm.exec(['sh', '-c', 'echo before >/root/snap.txt && sync']);
    await vm.snapshots.create('s1');
    expect((await vm.snapshots.list()).map((s) => s.name)).toContain('s1');
    await expect(vm.snapshots.create('s1')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await vm.exec(['sh', '-c', 'echo after >/root/snap.txt && sync']);
    await vm.snapshots.restore('s1');
    expect((await vm.exec(['cat', '/root/snap.txt'])).stdout).toBe('before\n');
    await expect(vm.snapshots.restore('nosuch')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await vm.refresh()).state.name).toBe('running');
    await vm.snapshots.delete('s1');
    expect((await vm.snapshots.list()).map((s) => s.name)).not.toContain('s1');
  });

  it('never writes the base image: the guest writes land in the overlay', async () => {
    await vm.exec([
      'sh',
      '-c',
      'dd if=/dev/urandom of=/root/blob bs=64k count=16 2>/dev/null && sync',
    ]);
    expect(sha256(guest!.baseQcow2)).toBe(baseHash);
  });

  it('keeps the serial console as logs', async () => {
    let text = '';
    await vm.logs({ onData: (c) => (text += c.toString()) });
    expect(text).toContain(guest!.marker);
    let tail = '';
    await vm.logs({ tail: 1, onData: (c) => (tail += c.toString()) });
    expect(tail.trim().split('\n')).toHaveLength(1);
  });

  it('stops gracefully through ACPI power-down, and QEMU is gone', async () => {
    const info = await vm.inspect();
    const pid = Number(info.properties.extra?.pid);
    const pidFile = String(info.properties.extra?.pidFile);
    const r = await vm.stop({ graceMs: 60_000 });
    expect(r.how).toBe('graceful');
    expect(isOurProcess({ pid, marker: pidFile })).toBe(false);
    expect((await vm.refresh()).state.name).toBe('stopped');
    // The overlay kept the file across the power cycle; the base still did not change.
    expect(sha256(guest!.baseQcow2)).toBe(baseHash);
  });
});
