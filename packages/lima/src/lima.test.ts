/**
 * The lima driver against fake-limactl (test/fake-limactl.mjs, first on PATH): exact argv per
 * verb, and every fault the fake injects → a typed error, no process left behind, and a state
 * that refresh repairs.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { fakeToolTests } from '@vms/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installFakeLima } from '../test/fake.js';
import { createLima } from './index.js';

/** The instance the exec/copy/snapshot tests share; it runs across their afterEach checks. */
const SHARED = `lt-${process.pid}-shared`;

const fake = installFakeLima();
const backend = createLima({ limaHome: fake.home });
const t = fakeToolTests({ afterEach, afterAll, expect }, fake, {
  backend,
  name: (n) => `lt-${process.pid}-${n}`,
  keep: [SHARED],
});
const vm = (options: Record<string, unknown> = {}): Instance => t.instance(options);

function calls(command: string, name?: string): string[][] {
  return fake.calls().filter((c) => c[0] === command && (name === undefined || c.includes(name)));
}

describe('create', () => {
  it('runs limactl create explicitly with resource flags, in LIMA_HOME', async () => {
    const v = vm({ cpus: 2, memoryMiB: 1536, diskGiB: 10, labels: { team: 'ci' } });
    fake.clearCalls();
    await v.create();
    expect(calls('create')).toEqual([
      [
        'create',
        '--tty=false',
        '--name',
        v.name,
        '--cpus',
        '2',
        '--memory',
        '1.5',
        '--disk',
        '10',
        'template://default',
      ],
    ]);
    expect(fs.existsSync(join(fake.home, v.name, 'lima.yaml'))).toBe(true);
    const info = await v.inspect();
    expect(info.state.name).toBe('stopped');
    expect(info.properties).toMatchObject({
      cpus: 2,
      memoryMiB: 1536,
      diskGiB: 10,
      labels: { team: 'ci' },
      os: 'Linux',
    });
  });

  it('creates from a template file', async () => {
    const file = join(fake.root, 'custom.yaml');
    fs.writeFileSync(file, 'images: []\n');
    const v = vm({ template: file });
    fake.clearCalls();
    await v.create();
    expect(calls('create')[0]!.at(-1)).toBe(file);
  });

  it("turns a limactl failure into a typed error with lima's message, leaving nothing", async () => {
    const v = vm({ template: 'nosuch' });
    fake.clearCalls();
    await expect(v.create()).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      exitCode: 1,
      message: expect.stringContaining('template `nosuch` not found'),
    });
    expect(calls('delete')).toContainEqual(['delete', '--force', v.name]);
    expect((await v.refresh()).state.name).toBe('initial');
  });

  it('reports an existing instance as ALREADY_EXISTS, in both quoting styles', async () => {
    for (const version of ['2.2.0', '2.1.1']) {
      fake.setFaults({ version });
      const first = vm();
      await first.create();
      const second = createInstance(backend, first.name, {});
      await expect(second.create()).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    }
  });

  it('uses --set for resources on lima before 1.0', async () => {
    fake.setFaults({ version: '0.23.2' });
    const v = t.track(
      createInstance(createLima({ limaHome: fake.home }), `lt-${process.pid}-old`, { cpus: 3 }),
    );
    fake.clearCalls();
    await v.create();
    expect(calls('create')[0]).toEqual([
      'create',
      '--tty=false',
      '--name',
      v.name,
      '--set',
      '.cpus = 3',
      'template://default',
    ]);
    expect((await v.inspect()).properties.cpus).toBe(3);
  });

  it('ends a hung limactl at its deadline and leaves nothing', async () => {
    fake.setFaults({ hang: ['create'] });
    const v = vm();
    await expect(v.create({ timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(fake.leftovers()).toEqual([]);
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('initial');
  });
});

describe('start and stop', () => {
  it('starts with a timeout inside the deadline and reports SSH properties', async () => {
    const v = vm();
    await v.create();
    fake.clearCalls();
    await v.start({ timeoutMs: 120_000 });
    const start = calls('start')[0]!;
    expect(start.slice(0, 3)).toEqual(['start', '--tty=false', '--timeout']);
    expect(Number(start[3]!.replace(/s$/, ''))).toBeGreaterThan(100);
    expect(Number(start[3]!.replace(/s$/, ''))).toBeLessThan(120);
    expect(start[4]).toBe(v.name);
    const info = await v.inspect();
    expect(info.state.name).toBe('running');
    expect(info.properties.ssh).toMatchObject({
      host: '127.0.0.1',
      port: expect.any(Number),
      user: 'lima',
    });
    expect(info.properties.extra).toMatchObject({ vmType: 'qemu', status: 'Running' });
  });

  it('stops gracefully with limactl stop', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.clearCalls();
    const result = await v.stop({ graceMs: 10_000 });
    expect(result.how).toBe('graceful');
    expect(calls('stop')).toEqual([['stop', v.name]]);
    expect((await v.refresh()).state.name).toBe('stopped');
  });

  it('forces with limactl stop --force when the graceful stop does not finish in time', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.setFaults({ ignoreSigint: true });
    fake.clearCalls();
    const result = await v.stop({ graceMs: 1_500 });
    expect(result.how).toBe('forced');
    expect(result.gracefulError?.code).toBe('TIMEOUT');
    expect(calls('stop')).toEqual([
      ['stop', v.name],
      ['stop', '--force', v.name],
    ]);
    expect((await v.refresh()).state.name).toBe('stopped');
  });

  it("a boot failure is a typed error with lima's message, and nothing keeps running", async () => {
    const v = vm();
    await v.create();
    fake.setFaults({ bootFail: true });
    fake.clearCalls();
    await expect(v.start()).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('exiting'),
    });
    expect(calls('stop', v.name)).toContainEqual(['stop', '--force', v.name]);
    expect(fake.leftovers()).toEqual([]);
    expect((await v.refresh()).state.name).toBe('stopped');
  });

  it("lima's own start timeout fails typed, inside our deadline, and the host agent is stopped", async () => {
    const v = vm();
    await v.create();
    fake.setFaults({ bootDelayMs: 60_000 });
    await expect(v.start({ timeoutMs: 8_000 })).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('did not receive an event with the `running` status'),
    });
    expect(fake.leftovers()).toEqual([]);
    expect((await v.refresh()).state.name).toBe('stopped');
  }, 20_000);

  it("an instance whose VM process died is broken with lima's reason; delete still works", async () => {
    const v = vm();
    await v.create();
    fake.setFaults({ driverDiesAfterMs: 0 });
    await v.start();
    let state = (await v.refresh()).state;
    for (let i = 0; i < 50 && state.name !== 'broken'; i++) state = (await v.refresh()).state;
    expect(state).toEqual({ name: 'broken', reason: 'host agent is running but driver is not' });
    expect(await v.delete()).toEqual({ existed: true });
    expect(fake.leftovers()).toEqual([]);
  });

  it('never relies on limactl start to create: start of a missing instance is refused', async () => {
    const v = vm();
    fake.clearCalls();
    await expect(v.start()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(calls('start')).toEqual([]);
  });

  it('suspend is unsupported, typed', async () => {
    const v = vm();
    await v.create();
    await v.start();
    await expect(v.suspend()).rejects.toMatchObject({ code: 'CAPABILITY_UNSUPPORTED' });
  });
});

describe('delete and refresh', () => {
  it('deletes with --force; one that vanished meanwhile is {existed: false}', async () => {
    const v = vm();
    await v.create();
    fake.clearCalls();
    expect(await v.delete()).toEqual({ existed: true });
    expect(calls('delete')).toEqual([['delete', '--force', v.name]]);
    // The driver alone (no reconcile by core first): limactl warns "Ignoring non-existent instance".
    const driver = backend.driver(v.name, v.options as never);
    const ctx = {
      signal: AbortSignal.timeout(30_000),
      deadline: Date.now() + 30_000,
      progress: () => {},
      debug: () => {},
    };
    expect(await driver.doDelete(ctx)).toEqual({ existed: false });
  });

  it('malformed JSON Lines are a ProtocolError; refresh repairs once limactl answers', async () => {
    const v = vm();
    await v.create();
    fake.setFaults({ malformed: ['list'] });
    await expect(v.refresh()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('stopped');
  });

  it('lists every instance, marking the ones @vms made', async () => {
    const v = vm();
    await v.create();
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === v.name)).toMatchObject({
      state: 'stopped',
      managed: true,
    });
  });

  it('detects limactl and its version', async () => {
    expect(await backend.detect()).toMatchObject({ available: true, version: '2.2.0' });
    const missing = await createLima({ limactlPath: join(fake.root, 'nope') }).detect();
    expect(missing).toMatchObject({
      available: false,
      reason: `${join(fake.root, 'nope')} not found`,
    });
    expect(missing.hint).toMatch(/lima/);
  });
});

describe('exec, copy, snapshots', () => {
  let v: Instance;
  beforeAll(async () => {
    v = createInstance(backend, SHARED, {});
    await v.create();
    await v.start();
  });
  afterAll(async () => {
    await v?.delete();
  });

  it('execs through limactl shell, flags before the name, exit code passed through', async () => {
    fake.clearCalls();
    const r = await v.exec(['sh', '-c', 'echo "$0 $1"; exit 3', 'a b', "it's"]);
    expect(r).toMatchObject({ exitCode: 3, stdout: "a b it's\n" });
    expect(calls('shell')).toEqual([
      ['shell', '--tty=false', SHARED, 'sh', '-c', 'echo "$0 $1"; exit 3', 'a b', "it's"],
    ]);
  });

  it('uses --workdir for cwd and forwards stdin', async () => {
    fake.clearCalls();
    const r = await v.exec(['sh', '-c', 'pwd; cat'], { cwd: '/tmp', stdin: 'in\n' });
    expect(r.stdout).toBe('/tmp\nin\n');
    expect(calls('shell')[0]!.slice(0, 5)).toEqual([
      'shell',
      '--tty=false',
      '--workdir',
      '/tmp',
      SHARED,
    ]);
  });

  it("reports limactl's own failure as a typed error, not an exit code", async () => {
    fake.setFaults({ fail: { shell: { msg: 'instance `x` is not running' } } });
    await expect(v.exec(['true'])).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('is not running'),
    });
  });

  it('copies in and out with limactl copy', async () => {
    const src = join(fake.root, 'in.txt');
    const guest = join(fake.root, 'guest.txt');
    const back = join(fake.root, 'out.txt');
    fs.writeFileSync(src, 'payload');
    fake.clearCalls();
    await v.copyIn(src, guest);
    await v.copyOut(guest, back);
    expect(fs.readFileSync(back, 'utf8')).toBe('payload');
    expect(calls('copy')).toEqual([
      ['copy', '-r', src, `${SHARED}:${guest}`],
      ['copy', '-r', `${SHARED}:${guest}`, back],
    ]);
    await expect(v.copyOut('/no/such/file', back)).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
    });
  });

  it('creates, lists, applies and deletes qemu snapshots', async () => {
    fake.clearCalls();
    await v.snapshots.create('s1');
    await v.snapshots.create('s2');
    expect((await v.snapshots.list()).map((s) => s.name)).toEqual(['s1', 's2']);
    await v.snapshots.restore('s1');
    await v.snapshots.delete('s2');
    expect((await v.snapshots.list()).map((s) => s.name)).toEqual(['s1']);
    expect(calls('snapshot').filter((c) => c[1] !== 'list')).toEqual([
      ['snapshot', 'create', SHARED, '--tag', 's1'],
      ['snapshot', 'create', SHARED, '--tag', 's2'],
      ['snapshot', 'apply', SHARED, '--tag', 's1'],
      ['snapshot', 'delete', SHARED, '--tag', 's2'],
    ]);
    await expect(v.snapshots.restore('nosuch')).rejects.toMatchObject({ code: 'COMMAND_FAILED' });
  });
});

describe('snapshots on vz', () => {
  it('are unsupported for this instance, with the reason, before limactl is asked', async () => {
    const v = vm({ vmType: 'vz' });
    expect(v.capabilities.snapshot).toBe(false);
    await v.create();
    await expect(v.snapshots.create('s')).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'snapshot',
      message: expect.stringContaining('uses vz'),
    });
  });
});
