/**
 * The tart driver against fake-tart (test/fake-tart.mjs, first on PATH): exact argv per verb,
 * and every fault the fake injects → a typed error, no process left behind, and a state that
 * refresh repairs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createInstance, type Instance, type InstanceState, waitFor } from '@vms/core';
import { fakeToolTests } from '@vms/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installFakeTart, type TartFaults } from '../test/fake.js';
import { createTart } from './index.js';

const LINUX = 'ghcr.io/cirruslabs/ubuntu:latest';
/** The VM the exec tests share; it runs across their afterEach checks. */
const EXEC_VM = `tt-${process.pid}-exec`;
const MACOS = 'ghcr.io/cirruslabs/macos-sequoia-base:latest';

const fake = installFakeTart();
const backend = createTart({ tartHome: fake.home, stateDir: fake.stateDir });
const t = fakeToolTests({ afterEach, afterAll, expect }, fake, {
  backend,
  name: (n) => `tt-${process.pid}-${n}`,
  defaults: { source: LINUX, readiness: { maxPollIntervalMs: 100 } },
  keep: [EXEC_VM],
});
const vm = (options: Record<string, unknown> = {}): Instance => t.instance(options);

/** Calls of one tart subcommand for one VM, in order. */
function calls(command: string, name?: string): string[][] {
  return fake.calls().filter((c) => c[0] === command && (name === undefined || c.includes(name)));
}

function nextState(instance: Instance, name: string): Promise<InstanceState> {
  return new Promise((resolve) => {
    const off = instance.on('state', (e) => {
      if (e.to.name === name) {
        off();
        resolve(e.to);
      }
    });
  });
}

describe('create', () => {
  it('clones, then applies resources with tart set', async () => {
    const v = vm({ cpus: 4, memoryMiB: 8192, diskGiB: 60, labels: { team: 'ci' } });
    fake.clearCalls();
    await v.create();
    expect(calls('clone')).toEqual([['clone', LINUX, v.name]]);
    expect(calls('set')).toEqual([
      ['set', v.name, '--cpu', '4', '--memory', '8192', '--disk-size', '60'],
    ]);
    const info = await v.inspect();
    expect(info.state.name).toBe('stopped');
    expect(info.properties).toMatchObject({
      cpus: 4,
      memoryMiB: 8192,
      diskGiB: 60,
      os: 'linux',
      image: LINUX,
      labels: { team: 'ci' },
    });
  });

  it('runs no tart set without resources', async () => {
    const v = vm();
    fake.clearCalls();
    await v.create();
    expect(calls('set')).toEqual([]);
  });

  it('removes the clone when tart set fails (nothing left behind)', async () => {
    const v = vm({ diskGiB: 10 }); // the image has 20 GB: tart cannot shrink a disk
    await expect(v.create()).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      exitCode: 1,
      message: expect.stringContaining('should be larger than the current disk size'),
    });
    expect(calls('delete', v.name)).toContainEqual(['delete', v.name]);
    expect(v.state.name).toBe('initial');
    expect((await v.refresh()).state.name).toBe('initial');
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.map((l) => l.name)).not.toContain(v.name);
  });

  it('refuses a name that exists instead of letting tart clone replace it', async () => {
    const first = vm();
    await first.create();
    const second = createInstance(backend, first.name, { source: LINUX });
    fake.clearCalls();
    await expect(second.create()).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(calls('clone')).toEqual([]);
  });

  it('ends a hung tart clone at its deadline and leaves nothing', async () => {
    fake.setFaults({ hang: ['clone'] });
    const v = vm();
    await expect(v.create({ timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(fake.leftovers()).toEqual([]);
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('initial');
  });

  it('rejects options tart cannot honour, naming the field or the capability', () => {
    expect(() => createInstance(backend, 'x', { source: LINUX, ports: [{ guest: 80 }] })).toThrow(
      expect.objectContaining({ code: 'CAPABILITY_UNSUPPORTED', capability: 'portForward' }),
    );
    expect(() =>
      createInstance(backend, 'x', { source: LINUX, mounts: [{ source: '/a', target: '/b' }] }),
    ).toThrow(expect.objectContaining({ capability: 'mounts', option: 'mounts' }));
    expect(() => createInstance(backend, 'x', { source: LINUX, diskGiB: 1.5 })).toThrow(
      expect.objectContaining({ field: 'diskGiB' }),
    );
    // @ts-expect-error: source is required
    expect(() => createInstance(backend, 'x', {})).toThrow(
      expect.objectContaining({ field: 'source' }),
    );
  });
});

describe('start and readiness', () => {
  it('runs tart run detached, then waits for running, an IP and tart exec echo', async () => {
    const v = vm();
    await v.create();
    fake.clearCalls();
    const caller = new AbortController();
    await v.start({ signal: caller.signal });
    expect(calls('run')).toEqual([['run', v.name, '--no-graphics', '--no-audio']]);
    expect(calls('get', v.name).length).toBeGreaterThan(0);
    expect(calls('list')).toEqual([]); // probes target the one VM
    expect(calls('ip', v.name)[0]).toEqual(['ip', v.name]);
    const probe = calls('exec', v.name)[0]!;
    expect(probe.slice(0, 3)).toEqual(['exec', v.name, 'echo']);
    expect(probe[3]).toMatch(/^vms-ready-[0-9a-f]+$/);
    // The VM is not tied to the start call's signal.
    caller.abort();
    const after = await v.inspect();
    expect(after.state.name).toBe('running');
    expect(after.properties.ip).toMatch(/^192\.168\.64\.\d+$/);
  });

  it('passes runArgs and audio through to tart run', async () => {
    const v = vm({ runArgs: ['--net-softnet'], audio: true });
    await v.create();
    fake.clearCalls();
    await v.start();
    expect(calls('run')).toEqual([['run', v.name, '--no-graphics', '--net-softnet']]);
  });

  it('skips the IP and exec probes when readiness turns them off', async () => {
    const v = vm({ readiness: { ip: false, exec: false } });
    await v.create();
    fake.setFaults({ noAgent: true, noIp: true });
    fake.clearCalls();
    await v.start();
    expect(calls('ip')).toEqual([]);
    expect(calls('exec')).toEqual([]);
  });

  it('fails at once with the real exit error when tart run dies early', async () => {
    const v = vm();
    await v.create();
    fake.setFaults({
      runExitEarly: {
        code: 1,
        stderr: 'Error: Virtualization is not available on this hardware.\n',
      },
    });
    // A deadline of 10 minutes: only racing the process exit gets this done within the test timeout.
    const error = await v.start({ timeoutMs: 600_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'COMMAND_FAILED',
      exitCode: 1,
      argv: ['tart', 'run', v.name, '--no-graphics', '--no-audio'],
      message: expect.stringContaining('Virtualization is not available on this hardware'),
    });
    expect(fake.leftovers()).toEqual([]);
    expect(v.state.name).toBe('stopped');
    expect((await v.refresh()).state.name).toBe('stopped');
  }, 20_000);

  it.each<[string, TartFaults]>([
    ['the guest agent never answers', { noAgent: true }],
    ['the VM never gets an IP', { noIp: true }],
    ['the guest boots too slowly', { bootDelayMs: 600_000 }],
    ['tart run hangs before taking the VM', { hang: ['run'] }],
  ])('times out typed when %s, kills tart run, and refresh repairs', async (_what, faults) => {
    const v = vm();
    await v.create();
    fake.setFaults(faults);
    await expect(v.start({ timeoutMs: 2_500 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(fake.leftovers([EXEC_VM])).toEqual([]);
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('stopped');
  });

  it('fails fast on malformed tart JSON with a ProtocolError, and refresh repairs', async () => {
    const v = vm();
    await v.create();
    fake.setFaults({ malformed: ['get'] });
    await expect(v.refresh()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    await expect(v.start({ timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect(fake.leftovers()).toEqual([]);
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('stopped');
  }, 20_000);
});

describe('a VM that dies while running', () => {
  it('shows as stopped with its reason, through watch() and through refresh in another handle', async () => {
    const v = vm();
    await v.create();
    await v.start();
    const stopped = nextState(v, 'stopped');
    fake.setFaults({
      crash: { name: v.name, code: 1, stderr: 'Guest panicked: kernel BUG at mm/slub.c\n' },
    });
    const state = await stopped;
    expect(state.reason).toMatch(
      /tart run exited unexpectedly \(exit code 1\).*kernel BUG at mm\/slub\.c/,
    );
    fake.setFaults({});
    // The supervisor records the exit, then exits itself.
    await waitFor(async () => fake.leftovers([EXEC_VM]).length === 0, {
      description: 'the supervisor to exit',
      timeoutMs: 10_000,
    });
    const other = createInstance(backend, v.name, { source: LINUX });
    const refreshed = await other.refresh();
    expect(refreshed.state).toMatchObject({
      name: 'stopped',
      reason: expect.stringContaining('kernel BUG'),
    });
    // Starting again clears the old exit.
    await v.start();
    expect((await v.refresh()).state).toEqual({ name: 'running' });
  });
});

describe('stop', () => {
  it('is graceful through tart stop --timeout, reporting how tart run ended', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.clearCalls();
    const result = await v.stop({ graceMs: 5_000 });
    expect(calls('stop')).toEqual([['stop', v.name, '--timeout', '5']]);
    expect(result.how).toBe('graceful');
    expect(result.guestExit).toMatchObject({
      exitCode: 0,
      message: expect.stringContaining('Stopping VM'),
    });
    expect((await v.refresh()).state).toEqual({ name: 'stopped' });
    const logs: string[] = [];
    await v.logs({ onData: (chunk) => logs.push(chunk.toString()) });
    expect(logs.join('')).toContain('Stopping VM...');
  });

  it('is forced when the guest ignores the request (tart stop escalates to SIGKILL)', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.setFaults({ ignoreSigint: true });
    fake.clearCalls();
    const result = await v.stop({ graceMs: 1_000 });
    expect(calls('stop')).toEqual([['stop', v.name, '--timeout', '1']]);
    expect(result.how).toBe('forced');
    expect(result.guestExit?.signal).toBe('SIGKILL');
  });

  it('force: tart stop --timeout 0', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.clearCalls();
    const result = await v.stop({ force: true });
    expect(calls('stop')).toEqual([['stop', v.name, '--timeout', '0']]);
    expect(result.how).toBe('forced');
  });

  it('kills tart run itself when tart stop hangs', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.setFaults({ hang: ['stop'] });
    const result = await v.stop({ force: true, timeoutMs: 30_000 });
    expect(result.how).toBe('forced');
    expect(fake.leftovers()).toEqual([]);
    fake.setFaults({});
    expect((await v.refresh()).state.name).toBe('stopped');
  }, 30_000);
});

describe('suspend', () => {
  it('is unsupported for a Linux guest, with a typed error, and the VM keeps running', async () => {
    const v = vm({ suspendable: true });
    await v.create();
    await v.start();
    expect(calls('run', v.name).at(-1)).not.toContain('--suspendable');
    fake.clearCalls();
    await expect(v.suspend()).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'suspend',
      message: expect.stringContaining('runs linux'),
    });
    expect(v.capabilities.suspend).toBe(false);
    expect(calls('suspend')).toEqual([]);
    expect((await v.refresh()).state.name).toBe('running');
  });

  it('needs a VM started with suspendable', async () => {
    const v = vm({ source: MACOS });
    await v.create();
    await v.start();
    expect(v.capabilities.suspend).toBe(false);
    await expect(v.suspend()).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      message: expect.stringContaining('suspendable: true'),
    });
  });

  it('suspends a macOS guest with tart suspend and resumes it with tart run', async () => {
    const v = vm({ source: MACOS, suspendable: true });
    await v.create();
    await v.start();
    expect(calls('run', v.name).at(-1)).toEqual([
      'run',
      v.name,
      '--no-graphics',
      '--no-audio',
      '--suspendable',
    ]);
    fake.clearCalls();
    await v.suspend();
    expect(calls('suspend')).toEqual([['suspend', v.name]]);
    expect((await v.refresh()).state).toEqual({ name: 'suspended' });
    await v.resume();
    expect((await v.refresh()).state.name).toBe('running');
    expect((await v.exec(['echo', 'back'])).stdout).toBe('back\n');
  });
});

describe('delete', () => {
  it('of a VM that is gone is {existed: false}', async () => {
    const v = vm();
    expect(await v.delete()).toEqual({ existed: false });
  });

  it('treats tart delete exit 2 "does not exist" as already gone', async () => {
    const v = vm();
    await v.create();
    fake.setFaults({
      fail: { delete: { code: 2, stderr: `the specified VM "${v.name}" does not exist\n` } },
    });
    fake.clearCalls();
    const result = await v.delete();
    expect(calls('delete')).toEqual([['delete', v.name]]);
    expect(result).toEqual({ existed: false });
  });

  it('stops a running VM first', async () => {
    const v = vm();
    await v.create();
    await v.start();
    fake.clearCalls();
    expect(await v.delete()).toEqual({ existed: true });
    expect(fake.calls().filter((c) => c[0] === 'stop' || c[0] === 'delete')).toEqual([
      ['delete', v.name], // refused: VM "…" is running
      ['stop', v.name, '--timeout', '0'],
      ['delete', v.name],
    ]);
  });
});

describe('exec', () => {
  let v: Instance;
  beforeAll(async () => {
    v = createInstance(backend, EXEC_VM, {
      source: LINUX,
      env: { FROM_OPTIONS: 'o' },
      readiness: { maxPollIntervalMs: 100 },
    });
    await v.create();
    await v.start();
  });
  afterAll(async () => {
    await v?.delete();
  });

  it('passes the exit code through', async () => {
    fake.clearCalls();
    const r = await v.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(calls('exec')).toEqual([
      ['exec', v.name, 'env', 'FROM_OPTIONS=o', 'sh', '-c', 'echo out; echo err >&2; exit 7'],
    ]);
  });

  it('streams stdin with -i', async () => {
    fake.clearCalls();
    const r = await v.exec(['cat'], { stdin: 'hello\n' });
    expect(r.stdout).toBe('hello\n');
    expect(calls('exec')[0]!.slice(0, 3)).toEqual(['exec', '-i', v.name]);
  });

  it('applies cwd and env inside the guest, argv-safe', async () => {
    fake.clearCalls();
    const r = await v.exec(['sh', '-c', 'echo "$PWD $A"'], { cwd: '/tmp', env: { A: 'x y' } });
    expect(r.stdout).toBe('/tmp x y\n');
    expect(calls('exec')[0]).toEqual([
      'exec',
      v.name,
      '/bin/sh',
      '-c',
      'cd -- "$1" || exit 1; shift; exec "$@"',
      'sh',
      '/tmp',
      'env',
      'FROM_OPTIONS=o',
      'A=x y',
      'sh',
      '-c',
      'echo "$PWD $A"',
    ]);
  });

  it('reports an unreachable guest agent as a typed error, not an exit code', async () => {
    fake.setFaults({ noAgent: true });
    await expect(v.exec(['true'])).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('control socket'),
    });
  });
});

describe('backend', () => {
  it('detects tart and its version', async () => {
    expect(await backend.detect()).toMatchObject({ available: true, version: '2.32.1' });
  });

  it('detects a missing tart with a reason and a hint', async () => {
    const missing = createTart({ tartPath: join(fake.root, 'no-such-tart') });
    const result = await missing.detect();
    expect(result.available).toBe(false);
    expect(result.reason).toContain('not found');
    expect(result.hint).toBeTruthy();
  });

  it('reports malformed tart list output as a ProtocolError', async () => {
    fake.setFaults({ malformed: ['list'] });
    await expect(backend.list({ signal: AbortSignal.timeout(30_000) })).rejects.toMatchObject({
      code: 'PROTOCOL_ERROR',
    });
  });

  it('lists local VMs only, marking the ones @vms made', async () => {
    const v = vm();
    await v.create();
    execFileSync('tart', ['clone', LINUX, `outside-${process.pid}`], {
      env: { ...process.env, TART_HOME: fake.home },
    });
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === v.name)).toMatchObject({
      state: 'stopped',
      managed: true,
    });
    expect(listed.find((l) => l.name === `outside-${process.pid}`)).toMatchObject({
      managed: false,
    });
    expect(listed.some((l) => l.name.includes('/'))).toBe(false); // no OCI cache entries
    execFileSync('tart', ['delete', `outside-${process.pid}`], {
      env: { ...process.env, TART_HOME: fake.home },
    });
  });
});
