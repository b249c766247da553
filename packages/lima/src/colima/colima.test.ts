/**
 * The colima driver against fake-colima (test/fake-colima.mjs, driving fake-limactl): the argv it
 * sends per version, what colima passes on to limactl, and every injected fault → a typed error,
 * no process or profile left behind, and a state that refresh repairs. Reality is read from the
 * fakes' files and processes, not from the driver.
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { createInstance, type Instance, waitFor } from '@vms/core';
import { fakeToolTests } from '@vms/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installFakeColima } from '../../test/fake-colima.js';
import { type ColimaBackend, createColima } from '../index.js';

/** The profile the exec tests share while it runs across their afterEach checks. */
const SHARED = `ctshared${process.pid % 1000}`;

const fake = installFakeColima();
const backend = createColima({ colimaHome: fake.home });
const t = fakeToolTests({ afterEach, afterAll, expect }, fake, {
  backend,
  name: (n) => `ct${process.pid % 1000}x${n}`,
  defaults: { runtime: 'none' },
  keep: [SHARED],
  deleteTimeoutMs: 60_000,
});
const vm = (options: Record<string, unknown> = {}, b: ColimaBackend = backend): Instance =>
  t.instance(options, b);

const calls = (command: string) => fake.calls().filter((c) => c[0] === command);
const limaDir = (name: string) => join(fake.limaHome, `colima-${name}`);
const profileDir = (name: string) => join(fake.home, name);
/** The fake VM runs while its host agent does (fake-limactl's ha.pid names a live process). */
function vmProcess(name: string): boolean {
  const pid = Number(fs.readFileSync(join(limaDir(name), 'ha.pid'), { flag: 'a+' }).toString());
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('create', () => {
  it('is colima start (with side effects outside colima off) then colima stop', async () => {
    const v = vm({ cpus: 1, memoryMiB: 1536, diskGiB: 10, labels: { team: 'ci' } });
    fake.clearCalls();
    await v.create();
    expect(calls('start')).toEqual([
      [
        'start',
        '--profile',
        v.name,
        '--runtime',
        'none',
        '--cpus',
        '1',
        '--memory',
        '1.5',
        '--disk',
        '10',
        '--activate=false',
        '--ssh-config=false',
      ],
    ]);
    expect(calls('stop')).toEqual([['stop', '--profile', v.name]]);
    // colima created the Lima instance from its own config file, then stopped it.
    const lima = fake.limaCalls();
    expect(lima).toContainEqual([
      'start',
      '--tty=false',
      expect.stringMatching(new RegExp(`colima-${v.name}\\.yaml$`)),
    ]);
    expect(lima).toContainEqual(['stop', `colima-${v.name}`]);
    expect(fs.existsSync(join(limaDir(v.name), 'lima.yaml'))).toBe(true);
    expect(vmProcess(v.name)).toBe(false);
    expect(JSON.parse(fs.readFileSync(join(profileDir(v.name), 'vms.json'), 'utf8'))).toMatchObject(
      {
        labels: { team: 'ci' },
      },
    );
    const info = await v.inspect();
    expect(info.state.name).toBe('stopped');
    expect(info.properties).toMatchObject({
      cpus: 1,
      memoryMiB: 1536,
      diskGiB: 10,
      labels: { team: 'ci' },
    });
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === v.name)).toMatchObject({
      state: 'stopped',
      managed: true,
    });
  });

  it('speaks the version it finds: --cpu and whole GiB on 0.6.10', async () => {
    fake.setFaults({ version: '0.6.10' });
    const old = createColima({ colimaHome: fake.home });
    const v = vm({ cpus: 2, memoryMiB: 2048, runtime: 'containerd' }, old);
    fake.clearCalls();
    await v.create();
    expect(calls('start')[0]).toEqual(expect.arrayContaining(['--cpu', '2', '--memory', '2']));
    expect(calls('start')[0]).not.toContain('--cpus');
    const frac = vm({ memoryMiB: 1536, runtime: 'containerd' }, old);
    fake.clearCalls();
    await expect(frac.create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'memoryMiB',
    });
    expect(calls('start')).toEqual([]);
    await expect(vm({ runtime: 'none' }, old).create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'runtime',
    });
  });

  it('refuses an existing profile as ALREADY_EXISTS', async () => {
    const first = vm();
    await first.create();
    const second = createInstance(backend, first.name, { runtime: 'none' });
    fake.clearCalls();
    await expect(second.create()).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(calls('start')).toEqual([]);
  });

  it("turns a failed colima start into colima's own message and leaves nothing", async () => {
    fake.setLimaFaults({ bootFail: true });
    const v = vm();
    await expect(v.create()).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining(
        "colima start failed (exit code 1): error starting vm: error at 'creating and starting': exit status 1",
      ),
    });
    expect(calls('delete').at(-1)).toEqual(['delete', '--profile', v.name, '--force']);
    expect(fs.existsSync(limaDir(v.name))).toBe(false);
    expect(fs.existsSync(profileDir(v.name))).toBe(false);
    expect((await v.refresh()).state.name).toBe('initial');
  });

  it('a hung colima start ends at the deadline, and the rollback leaves nothing', async () => {
    fake.setFaults({ hang: ['start'] });
    const v = vm();
    await expect(v.create({ timeoutMs: 3_000 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('initial');
    expect(fs.existsSync(limaDir(v.name))).toBe(false);
  });
});

describe('lifecycle', () => {
  it('start, stop; a VM that ignores the graceful stop is forced after the grace period', async () => {
    const v = vm();
    await v.create();
    await v.start();
    expect(vmProcess(v.name)).toBe(true);
    fake.setLimaFaults({ ignoreSigint: true });
    const result = await v.stop({ graceMs: 1_000 });
    expect(result.how).toBe('forced');
    expect(result.gracefulError).toBeDefined();
    expect(vmProcess(v.name)).toBe(false);
    expect(calls('stop').at(-1)).toEqual(['stop', '--profile', v.name, '--force']);
  });

  it('a VM whose driver dies is broken with lima’s reason; delete still works', async () => {
    const v = vm();
    await v.create();
    fake.setLimaFaults({ driverDiesAfterMs: 10 });
    await v.start();
    await waitFor(async () => (await v.refresh()).state.name === 'broken', {
      description: 'the instance to be seen broken',
      timeoutMs: 10_000,
    });
    expect(v.state).toMatchObject({
      name: 'broken',
      reason: 'lima reports the instance as Broken',
    });
    expect((await v.delete()).existed).toBe(true);
    expect(fs.existsSync(limaDir(v.name))).toBe(false);
  });

  it('delete of a running instance removes the VM and the profile directory', async () => {
    const v = vm();
    await v.create();
    await v.start();
    expect((await v.delete()).existed).toBe(true);
    expect(fs.existsSync(limaDir(v.name))).toBe(false);
    expect(fs.existsSync(profileDir(v.name))).toBe(false);
  });

  it('suspend is CAPABILITY_UNSUPPORTED', async () => {
    await expect(vm().suspend()).rejects.toMatchObject({ code: 'CAPABILITY_UNSUPPORTED' });
  });
});

describe('exec (colima ssh)', () => {
  let shared: Instance;
  beforeAll(async () => {
    shared = createInstance(backend, SHARED, { runtime: 'none' });
    await shared.create();
    await shared.start();
  }, 60_000);
  afterAll(async () => {
    await shared.delete();
  }, 60_000);

  it("recovers the command's exit code from colima's `exit status N`, without colima's line in stderr", async () => {
    const r = await shared.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(fake.calls().at(-1)).toEqual([
      'ssh',
      '--profile',
      shared.name,
      '--',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 7',
    ]);
  });

  it('runs in the working directory with the environment asked for', async () => {
    const dir = fs.mkdtempSync(join(fake.root, 'work-'));
    const r = await shared.exec(['sh', '-c', 'pwd; echo "$GREETING"'], {
      cwd: dir,
      env: { GREETING: 'hello world' },
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: `${dir}\nhello world\n` });
    const missing = await shared.exec(['true'], { cwd: join(dir, 'nope') });
    expect(missing.exitCode).toBe(126);
  });

  it('a command killed by a signal is 128 + its number', async () => {
    const r = await shared.exec(['sh', '-c', 'kill -TERM $$']);
    expect(r.exitCode).toBe(143);
  });

  it("colima's own failure (profile not running) is COMMAND_FAILED, not an exit code", async () => {
    await shared.stop();
    const driver = backend.driver(shared.name, backend.optionsSchema.parse({ runtime: 'none' }));
    const error = await driver
      .doExec(
        ['true'],
        { onStdout: () => undefined, onStderr: () => undefined },
        {
          signal: AbortSignal.timeout(30_000),
          deadline: Date.now() + 30_000,
          progress: () => undefined,
          debug: () => undefined,
        },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'COMMAND_FAILED',
      message: `colima ssh failed (exit code 1): colima [profile=${shared.name}] not running`,
    });
    await shared.start();
  });
});

describe('faults and detection', () => {
  it('malformed list output is a PROTOCOL_ERROR', async () => {
    const v = vm();
    fake.setFaults({ malformed: ['list'] });
    await expect(v.refresh()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  it('detect reports the version, or why colima is unavailable', async () => {
    expect(await backend.detect()).toMatchObject({ available: true, version: '0.8.4' });
    fake.setFaults({ version: '0.7.6' });
    expect(await createColima({ colimaHome: fake.home }).detect()).toMatchObject({
      version: '0.7.6',
    });
    const missing = await createColima({ colimaPath: join(fake.root, 'no-colima') }).detect();
    expect(missing).toMatchObject({
      available: false,
      reason: `${join(fake.root, 'no-colima')} not found`,
    });
    // colima (and node, which runs the fake) on PATH, lima not.
    const noLima = createColima({
      colimaHome: fake.home,
      env: { PATH: `${join(fake.root, 'bin-colima-only')}:${dirname(process.execPath)}` },
    });
    fs.mkdirSync(join(fake.root, 'bin-colima-only'), { recursive: true });
    fs.rmSync(join(fake.root, 'bin-colima-only', 'colima'), { force: true });
    fs.symlinkSync(join(fake.root, 'bin', 'colima'), join(fake.root, 'bin-colima-only', 'colima'));
    expect(await noLima.detect()).toMatchObject({
      available: false,
      reason: 'colima needs Lima, and lima is not on PATH',
    });
  });

  it('names colima would rename are refused up front', () => {
    expect(() => createInstance(backend, 'colima-x', {})).toThrow(/colima renames profiles/);
  });
});
