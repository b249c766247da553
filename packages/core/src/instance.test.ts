import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VmsError } from './errors.js';
import { createInstance, type Instance, openInstance } from './instance.js';
import { acquireLock } from './lock.js';
import { commonInstanceOptions } from './options.js';
import type { BackendV1, Observation } from './spec/v1.js';
import { delegateBackend, delegateDriver } from './testing/conformance/delegate.js';
import { createMockBackend } from './testing/mock-backend.js';

let n = 0;
const fresh = () => `inst-${process.pid}-${++n}`;

function record(instance: Instance) {
  const seen: string[] = [];
  instance.on('state', (e) => seen.push(e.to.name));
  return seen;
}

describe('Instance runtime', () => {
  it('validates the name and options before anything runs, naming the field', () => {
    const mock = createMockBackend();
    expect(() => createInstance(mock, 'bad name!')).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'name' }),
    );
    expect(() => createInstance(mock, fresh(), { cpus: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'cpus' }),
    );
    expect(() => createInstance(mock, fresh(), { ports: [{ guest: 99999 }] })).toThrow(
      expect.objectContaining({ field: 'ports.0.guest' }),
    );
    expect(mock.calls).toEqual([]);
  });

  it('serialises concurrent operations on one instance, across handles', async () => {
    const mock = createMockBackend({ delayMs: 20 });
    const name = fresh();
    const a = createInstance(mock, name);
    const b = createInstance(mock, name);
    await a.create();
    const seen = record(a);
    // Fired together: start must finish before stop begins, so stop sees `running`.
    const [started, stopped] = await Promise.all([a.start(), b.stop()]);
    expect(started).toBeUndefined();
    expect(stopped.how).toBe('graceful');
    const verbs = mock.calls.filter((c) => c.verb !== 'inspect').map((c) => c.verb);
    expect(verbs).toEqual(['create', 'start', 'stop']);
    expect(seen).toEqual(['starting', 'running']);
    expect((await a.refresh()).state.name).toBe('stopped');
    await a.delete();
  });

  it('ends a driver op that hangs (ignoring its signal) at the deadline and leaves the observed state', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    mock.inject({ verb: 'start', kind: 'hang', ignoreSignal: true });
    const error = await vm.start({ timeoutMs: 200 }).catch((e) => e);
    expect(VmsError.isInstance(error)).toBe(true);
    expect(error.code).toBe('TIMEOUT');
    expect(vm.state.name).toBe('stopped');
    await vm.delete();
  });

  it('aborts mid-op with ABORTED and a correct state', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    await vm.start();
    mock.inject({ verb: 'suspend', kind: 'hang' });
    const controller = new AbortController();
    const pending = vm.suspend({ signal: controller.signal });
    await new Promise<void>((resolve) => {
      const off = vm.on('state', (e) => {
        if (e.to.name === 'suspending') {
          off();
          resolve();
        }
      });
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vm.state.name).toBe('running');
    await vm.delete();
  });

  it('rolls back a failed start: force-stops what started', async () => {
    const mock = createMockBackend();
    const vm = createInstance(
      mock,
      fresh(),
      {},
      {
        readiness: {
          description: 'a readiness check that fails',
          wait: async () => {
            throw new Error('not ready: port closed');
          },
        },
      },
    );
    await vm.create();
    await expect(vm.start()).rejects.toThrow(/not ready/);
    const stops = mock.calls.filter((c) => c.verb === 'stop');
    expect(stops).toHaveLength(1);
    expect(mock.world.get(vm.name)?.state).toBe('stopped');
    expect(vm.state.name).toBe('stopped');
    await vm.delete();
  });

  it('rolls back a failed create: deletes what it made', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    mock.inject({ verb: 'create', kind: 'crash' });
    await expect(vm.create()).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    expect(mock.world.has(vm.name)).toBe(false);
    expect(vm.state.name).toBe('initial');
  });

  it('goes broken, with the reason, when a failure leaves reality unknown — and delete still works', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh(), {}, { reconcile: false });
    await vm.create();
    await vm.start();
    mock.inject({ verb: 'stop', kind: 'fail', times: 2, message: 'stop refused' });
    mock.inject({ verb: 'inspect', kind: 'fail', times: 1 });
    await expect(vm.stop()).rejects.toThrow(/stop refused/);
    expect(vm.state.name).toBe('broken');
    expect(vm.state.reason).toMatch(/stop refused/);
    expect(await vm.delete()).toEqual({ existed: true });
    expect(vm.state.name).toBe('deleted');
  });

  it('keeps the previous state when a failure leaves reality observable', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    await vm.start();
    mock.inject({ verb: 'suspend', kind: 'fail' });
    await expect(vm.suspend()).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    expect(vm.state.name).toBe('running');
    await vm.delete();
  });

  it('reports stop outcomes: graceful, forced after a failed graceful attempt, already stopped', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    await vm.start();
    mock.inject({ verb: 'stop', kind: 'fail', message: 'guest ignored ACPI' });
    const forced = await vm.stop();
    expect(forced.how).toBe('forced');
    expect(forced.gracefulError?.message).toMatch(/ACPI/);
    expect(forced.guestExit?.exitCode).toBe(137);
    expect((await vm.stop()).how).toBe('already-stopped');
    await vm.start();
    expect((await vm.stop()).how).toBe('graceful');
    await vm.delete();
  });

  it('reconciles with reality before acting and reports drift', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    await vm.start();
    const drifts: string[] = [];
    vm.on('drift', (e) => drifts.push(`${e.expected.name}->${e.observed.name}`));
    const drifted = new Promise((resolve) => vm.on('drift', resolve));
    mock.setBehindBack(vm.name, 'stopped', 'guest powered off');
    // the watch saw it, and core's own look confirmed it (no op needed)
    await drifted;
    expect(vm.state).toEqual({ name: 'stopped', reason: 'guest powered off' });
    expect(drifts).toEqual(['running->stopped']);
    // removed behind our back: delete is an idempotent no-op, refresh says deleted
    mock.setBehindBack(vm.name, 'absent');
    const r = await vm.refresh();
    expect(r.state.name).toBe('deleted');
    expect(r.drift?.expected.name).toBe('stopped');
    expect(await vm.delete()).toEqual({ existed: false });
  });

  it('a watch report seen before an op ended is checked again, not applied (no false drift)', async () => {
    const mock = createMockBackend();
    let report: ((o: Observation) => void) | undefined;
    const backend = delegateBackend(mock, (d) =>
      delegateDriver(d, {
        watch: (onChange) => {
          report = onChange;
          return () => {
            report = undefined;
          };
        },
      }),
    );
    const vm = createInstance(backend, fresh());
    await vm.create();
    await vm.start();
    const drifts: string[] = [];
    vm.on('drift', (e) => drifts.push(`${e.expected.name}->${e.observed.name}`));
    // The engine said "paused" while our suspend ran; the report arrives after the resume.
    await vm.suspend();
    await vm.resume();
    expect(report).toBeDefined();
    report?.({ state: 'suspended' });
    const inspects = mock.calls.filter((c) => c.verb === 'inspect').length;
    await vm.refresh(); // queued behind the confirming look
    expect(mock.calls.filter((c) => c.verb === 'inspect').length).toBe(inspects + 2);
    expect(vm.state.name).toBe('running');
    expect(drifts).toEqual([]);
    // A report of a real change is confirmed and applied, as drift.
    mock.setBehindBack(vm.name, 'stopped', 'guest powered off');
    report?.({ state: 'stopped' });
    await vm.refresh();
    expect(vm.state.name).toBe('stopped');
    expect(drifts).toEqual(['running->stopped']);
    await vm.delete();
  });

  it('delete works from any state: when inspect fails (a corrupt record) the driver still deletes', async () => {
    const mock = createMockBackend();
    const name = fresh();
    const vm = createInstance(mock, name);
    await vm.create();
    await vm.start();
    mock.inject({ verb: 'inspect', kind: 'fail', message: 'state file is not valid JSON' });
    expect(await vm.delete()).toEqual({ existed: true });
    expect(vm.state.name).toBe('deleted');
    expect(mock.world.has(name)).toBe(false);
    expect(mock.calls.filter((c) => c.verb === 'delete')).toHaveLength(1);
  });

  it('delete of an instance the backend does not know still lets the driver sweep leftovers', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    expect(await vm.delete()).toEqual({ existed: false });
    // The driver was asked (it is how files of a killed create are removed), once.
    expect(mock.calls.map((c) => c.verb)).toEqual(['inspect', 'delete']);
    expect(vm.state.name).toBe('initial');
  });

  it('with watch: false follows nothing while running; the next op reconciles instead', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh(), {}, { watch: false });
    await vm.create();
    await vm.start();
    const drifts: string[] = [];
    vm.on('drift', (e) => drifts.push(`${e.expected.name}->${e.observed.name}`));
    mock.setBehindBack(vm.name, 'stopped', 'guest powered off');
    expect(vm.state.name).toBe('running');
    expect(drifts).toEqual([]);
    await vm.refresh();
    expect(vm.state.name).toBe('stopped');
    expect(drifts).toEqual(['running->stopped']);
    await vm.delete();
  });

  it('attaches to an existing instance with openInstance', async () => {
    const mock = createMockBackend();
    const name = fresh();
    const a = createInstance(mock, name);
    await a.create();
    await a.start();
    const b = await openInstance(mock, name);
    expect(b.state.name).toBe('running');
    await b[Symbol.asyncDispose](); // attached, not created here: left alone
    expect(mock.world.get(name)?.state).toBe('running');
    await a[Symbol.asyncDispose](); // created here: deleted
    expect(mock.world.has(name)).toBe(false);
  });

  it('refuses capabilities the backend lacks with a typed error', async () => {
    const mock = createMockBackend({ capabilities: { suspend: false } });
    const vm = createInstance(mock, fresh());
    await expect(vm.suspend()).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'suspend',
    });
    await expect(vm.copyIn('/etc/hostname', '/tmp/x')).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
    });
  });

  it('exec: streams, caps output, passes exit codes, and ends the guest process at its deadline', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    await vm.start();
    const chunks: string[] = [];
    const r = await vm.exec(['echo', 'hello world'], {
      onStdout: (c) => chunks.push(c.toString()),
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'hello world\n', truncated: false });
    expect(chunks.join('')).toBe('hello world\n');
    const capped = await vm.exec(['echo', 'x'.repeat(100)], { maxOutputBytes: 10 });
    expect(capped.stdout).toBe('x'.repeat(10));
    expect(capped.truncated).toBe(true);
    expect((await vm.exec(['sh', '-c', 'exit 7'])).exitCode).toBe(7);
    await expect(vm.exec(['sleep', '1000'], { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(mock.world.get(vm.name)?.processes.size).toBe(0);
    await expect(vm.exec([])).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'argv' });
    await vm.delete();
  });

  it('emits op events', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    const ops: string[] = [];
    vm.on('op', (e) => ops.push(`${e.action}:${e.phase}${e.phase === 'end' ? `:${e.ok}` : ''}`));
    await vm.create();
    await vm.start();
    await vm.suspend();
    await vm.delete();
    expect(ops).toEqual([
      'create:begin',
      'create:end:true',
      'start:begin',
      'start:end:true',
      'suspend:begin',
      'suspend:end:true',
      'delete:begin',
      'delete:end:true',
    ]);
  });

  it('passes structured progress detail to the progress event and onProgress', async () => {
    const mock = createMockBackend();
    const detail = {
      unit: 'bytes' as const,
      current: 5,
      total: 10,
      item: 'layer-1',
      parts: { done: 0, total: 1 },
    };
    const backend: typeof mock = {
      ...mock,
      driver(name, options) {
        const d = mock.driver(name, options);
        return {
          ...d,
          async doCreate(ctx) {
            ctx.progress('pulling', detail);
            ctx.progress('creating');
            return d.doCreate(ctx);
          },
        };
      },
    };
    const vm = createInstance(backend, fresh());
    const events: unknown[] = [];
    vm.on('progress', (e) => events.push({ step: e.step, detail: e.detail }));
    const seen: unknown[] = [];
    await vm.create({ onProgress: (step, _ms, d) => seen.push({ step, detail: d }) });
    expect(events).toEqual([
      { step: 'pulling', detail },
      { step: 'creating', detail: undefined },
    ]);
    expect(seen).toEqual(events);
  });

  it('recognises errors from another copy of core by their marker', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('@vms/core.error')]: true,
      code: 'TIMEOUT',
    });
    expect(VmsError.isInstance(foreign)).toBe(true);
    expect(VmsError.hasCode(foreign, 'TIMEOUT')).toBe(true);
    expect(VmsError.isInstance(new Error('plain'))).toBe(false);
  });
  it('rejects (never throws synchronously) a bad snapshot name, naming the field', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    const pending = vm.snapshots.create('no spaces allowed');
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'snapshot' });
  });

  it('keeps a new reason without a state event when the state name does not change', async () => {
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh());
    await vm.create();
    const seen = record(vm);
    mock.setBehindBack(vm.name, 'stopped', 'exited with code 3');
    await vm.refresh();
    expect(vm.state).toEqual({ name: 'stopped', reason: 'exited with code 3' });
    expect(seen).toEqual([]);
    await vm.delete();
  });
  it('remembers the options an instance was created with, for openInstance in another handle', async () => {
    const mock = createMockBackend();
    const name = fresh();
    const a = createInstance(mock, name, { image: 'remembered:1', cpus: 2 });
    await a.create();
    const b = await openInstance(mock, name);
    expect(b.options).toMatchObject({ image: 'remembered:1', cpus: 2 });
    await b.delete();
    const c = await openInstance(mock, name);
    expect(c.options).toMatchObject({ image: 'mock:latest' });
    expect(c.state.name).toBe('initial');
  });

  it('refuses an unknown option, naming it and the closest valid one (also in nested objects)', () => {
    const mock = createMockBackend();
    // @ts-expect-error: a misspelt option does not compile
    const typo = () => createInstance(mock, fresh(), { imagee: 'alpine' });
    expect(typo).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        field: 'imagee',
        message: 'invalid option imagee: unknown option (did you mean image?)',
      }),
    );
    // @ts-expect-error: nested too
    const nested = () => createInstance(mock, fresh(), { userData: { hostnam: 'box' } });
    expect(nested).toThrow(expect.objectContaining({ field: 'userData.hostnam' }));
    expect(nested).toThrow(/did you mean userData.hostname\?/);
  });

  it('refuses unknown keys even when the backend schema would drop them silently', () => {
    const loose: BackendV1 = {
      ...createMockBackend({ name: 'loose' }),
      optionsSchema: z.object({ image: z.string().default('x') }),
    };
    expect(() => createInstance(loose, fresh(), { imagee: 'y' })).toThrow(/did you mean image\?/);
  });

  it('refuses common options whose capability the backend lacks, naming both', () => {
    const mock = createMockBackend({ capabilities: { portForward: false, mounts: false } });
    expect(() => createInstance(mock, fresh(), { ports: [{ guest: 80 }] })).toThrow(
      expect.objectContaining({
        code: 'CAPABILITY_UNSUPPORTED',
        capability: 'portForward',
        option: 'ports',
        message: 'backend mock does not support portForward (option ports)',
      }),
    );
    expect(() =>
      createInstance(mock, fresh(), { mounts: [{ source: '/tmp', target: '/x' }] }),
    ).toThrow(expect.objectContaining({ capability: 'mounts', option: 'mounts' }));
    expect(mock.calls).toEqual([]);
  });

  it('narrows capabilities per instance when the driver says so, with its reason', async () => {
    const mock = createMockBackend();
    const narrowed = delegateBackend(mock, (d) =>
      delegateDriver(d, { capabilities: () => ({ suspend: 'only macOS guests suspend' }) }),
    );
    const vm = createInstance(narrowed, fresh());
    expect(vm.capabilities.suspend).toBe(false);
    expect(vm.capabilities.exec).toBe(true);
    await vm.create();
    await vm.start();
    await expect(vm.suspend()).rejects.toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'suspend',
      message: `${vm.id} does not support suspend: only macOS guests suspend`,
    });
    expect(mock.calls.filter((c) => c.verb === 'suspend')).toEqual([]);
    await vm.delete();
  });

  it('refuses a backend that declares a capability its driver does not implement', () => {
    const broken = delegateBackend(createMockBackend(), (d) =>
      delegateDriver(d, { doSnapshotCreate: undefined }),
    );
    expect(() => createInstance(broken, fresh())).toThrow(
      expect.objectContaining({
        code: 'PROTOCOL_ERROR',
        message: expect.stringMatching(/snapshot: doSnapshotCreate/),
      }),
    );
  });

  it("waits for another process's lock only until the op's own deadline, then LOCKED", async () => {
    const home = mkdtempSync(join(tmpdir(), 'vms-lockwait-'));
    const mock = createMockBackend();
    const vm = createInstance(mock, fresh(), {}, { home });
    await vm.create();
    const held = await acquireLock(join(home, 'locks', 'mock', `${vm.name}.lock`));
    try {
      const started = Date.now();
      // create's default deadline is 5 minutes; stop's own 300 ms is what bounds the wait.
      await expect(vm.stop({ timeoutMs: 300 })).rejects.toMatchObject({
        code: 'LOCKED',
        instance: vm.id,
      });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await held.release();
    }
    await vm.delete();
  });

  it('a deadline too short to even take a free lock is TIMEOUT, not LOCKED', async () => {
    // The driver's 50 ms keep the op from finishing inside 1 ms however fast the machine; the
    // deadline may pass in the lock, the reconcile or the driver: it is the op's TIMEOUT each time.
    const vm = createInstance(createMockBackend({ delayMs: 50 }), fresh());
    await expect(vm.create({ timeoutMs: 1 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `timed out after 1ms: create of ${vm.id}`,
    });
  });

  it('exec on a suspended instance hints to resume it', async () => {
    const vm = createInstance(createMockBackend(), fresh());
    await vm.create();
    await vm.start();
    await vm.suspend();
    await expect(vm.exec(['true'])).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      hint: `resume it first: vms resume ${vm.id}`,
    });
    await vm.delete();
  });

  it('successful op events carry durationMs too', async () => {
    const vm = createInstance(createMockBackend({ delayMs: 5 }), fresh());
    const ends: { ok?: boolean; durationMs?: number }[] = [];
    vm.on('op', (e) => {
      if (e.phase === 'end') ends.push({ ok: e.ok, durationMs: e.durationMs });
    });
    await vm.create();
    await vm.delete();
    expect(ends).toHaveLength(2);
    for (const e of ends) {
      expect(e.ok).toBe(true);
      expect(e.durationMs).toBeGreaterThanOrEqual(5);
    }
  });

  it('validates exec input before anything runs: cwd absolute, env names', async () => {
    const vm = createInstance(createMockBackend(), fresh());
    await expect(vm.exec(['pwd'], { cwd: 'relative' })).rejects.toMatchObject({ field: 'cwd' });
    await expect(vm.exec(['env'], { env: { 'BAD-NAME': 'x' } })).rejects.toMatchObject({
      field: 'env.BAD-NAME',
    });
  });
});

describe('openInstance', () => {
  const required = commonInstanceOptions.extend({ image: z.string().min(1) });

  it('attaches with the recorded options; else the backend attach driver; else the defaults', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vms-open-'));
    const mock = createMockBackend({ name: 'openable' });
    const created = createInstance(mock, 'box', { image: 'alpine:1' }, { home });
    await created.create();
    const fromRecord = await openInstance(mock, 'box', { home });
    expect(fromRecord.optionsFrom).toBe('record');
    expect(fromRecord.options?.image).toBe('alpine:1');
    expect(fromRecord.state.name).toBe('stopped');

    const defaults = await openInstance(mock, 'other', { home });
    expect(defaults.optionsFrom).toBe('defaults');
    expect(defaults.state.name).toBe('initial');
    await created.delete();
  });

  it('without a record, a backend whose options are required attaches through attach()', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vms-open-'));
    const mock = createMockBackend({ name: 'attachable' });
    const elsewhere = createInstance(
      mock,
      'foreign',
      {},
      { home: mkdtempSync(join(tmpdir(), 'x-')) },
    );
    await elsewhere.create(); // made by "another machine": no record in `home`
    const strict: BackendV1<typeof required> = {
      ...mock,
      optionsSchema: required,
      driver: (name, options) => mock.driver(name, { ...mock.optionsSchema.parse({}), ...options }),
    };
    await expect(openInstance(strict, 'foreign', { home })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'image',
      hint: expect.stringMatching(/no record of attachable:foreign on this machine/),
    });
    const attaching: BackendV1<typeof required> = {
      ...strict,
      attach: (name) => mock.driver(name, mock.optionsSchema.parse({})),
    };
    const vm = await openInstance(attaching, 'foreign', { home });
    expect(vm.optionsFrom).toBe('attach');
    expect(vm.options).toBeUndefined();
    expect(vm.state.name).toBe('stopped');
    await vm.start();
    expect(vm.state.name).toBe('running');
    await vm.delete();
    await expect(vm.create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/options of attachable:foreign are unknown/),
    });
  });
});
