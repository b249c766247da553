/**
 * Fault injection on real QEMU (TCG, the test guest). Seeded (see @vms/core/testing's
 * faults.ts): the seed is printed with any failure and in the closing line. Faults: our own
 * process SIGKILLed at a random point of create/start, QEMU SIGKILLed during exec, suspend or a
 * snapshot, every file we write corrupted, truncated or removed, the state directory's disk
 * full, the instance directory removed behind our back, and processes racing on start and
 * delete. After each, the invariants hold:
 *   - nothing no record points to: every QEMU of the run belongs to a listed instance, no probe
 *     VM or probe dir is left;
 *   - every listed instance's state, after one refresh, matches reality (a QEMU with its pid
 *     file runs, or none does);
 *   - delete always ends with nothing left: no process, no instance dir, no record, no socket;
 *   - the base image and kernel are untouched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInstance, instanceRecordPath, openInstance, waitFor } from '@vms/core';
import {
  CORRUPTIONS,
  corruptFile,
  type FaultWorkerPlan,
  filesUnder,
  fillDisk,
  mountSmallDisk,
  runFaultWorker,
  smallDiskUnavailableReason,
  startFaultRun,
} from '@vms/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason } from '../test/guest.js';
import { createQemu } from './backend.js';
import { qemuOptionsSchema } from './options.js';
import { findProcesses, processesWithArgument } from './process.js';
import { createStore, instancePaths } from './state.js';

const MODULE = new URL('../dist/index.js', import.meta.url).href;
const diskSkip = skipReason ?? smallDiskUnavailableReason();
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(skipReason !== undefined)('qemu: fault injection (TCG)', () => {
  const faults = startFaultRun('qemu');
  const home = join(faults.root, 'home');
  mkdirSync(home);
  const base = guest ? { disk: sha256(guest.baseQcow2), kernel: sha256(guest.vmlinux) } : {};
  let counter = 0;
  const fresh = () => `q${++counter}`;
  const options = () => guestOptions(guest!);
  const plan = (name: string, ops: FaultWorkerPlan['ops'], at = home): FaultWorkerPlan => ({
    module: MODULE,
    export: 'createQemu',
    name,
    options: options(),
    home: at,
    ops,
  });
  const backendAt = (at: string) => createQemu({ stateRoot: join(at, 'state', 'qemu') });

  afterAll(() => {
    faults.sweep();
    console.log(faults.summary());
  });

  /** QEMUs of this run (their argv names the run's root). */
  const qemus = () =>
    findProcesses(
      (argv) =>
        argv[0]?.includes('qemu-system') === true && argv.some((a) => a.includes(faults.root)),
    );

  /** Names of the instances `at` holds: listed by the backend or recorded by core. */
  async function instancesAt(at: string): Promise<string[]> {
    const listed = await backendAt(at).list({ signal: AbortSignal.timeout(60_000) });
    const recorded = filesUnder(join(at, 'instances'))
      .filter((f) => f.endsWith('.json'))
      .map((f) =>
        f
          .split('/')
          .pop()!
          .replace(/\.json$/, ''),
      );
    return [...new Set([...listed.map((l) => l.name), ...recorded])];
  }

  // After every point, passed or failed: a point that failed halfway (its invariants not reached
  // or not through) leaves nothing to the next one. Delete through the library first, then
  // whatever that could not end (the sweep of a test that found a bug must not trust the code).
  faults.afterEachPoint(async () => {
    for (const name of await instancesAt(home).catch(() => [])) {
      await createInstance(backendAt(home), name, options(), { home })
        .delete()
        .catch(() => undefined);
    }
    for (const pid of qemus()) process.kill(pid, 'SIGKILL');
    for (const entry of existsSync(home) ? readdirSync(home) : []) {
      if (entry !== 'cache') rmSync(join(home, entry), { recursive: true, force: true });
    }
  });

  async function invariants(at = home): Promise<void> {
    const backend = backendAt(at);
    const store = createStore(join(at, 'state', 'qemu'));
    const listed = await backend.list({ signal: AbortSignal.timeout(60_000) });
    const names = new Set(listed.map((l) => l.name));
    // Nothing that no record points to.
    for (const pid of qemus()) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const pidFile = argv[argv.indexOf('-pidfile') + 1] ?? '';
      const owner = pidFile.split('/').slice(-2, -1)[0] ?? '';
      expect(names, `QEMU pid ${pid} (${pidFile}) belongs to a listed instance`).toContain(owner);
    }
    // Every listed instance, after one refresh, is what the processes say.
    for (const l of listed) {
      const vm = createInstance(backend, l.name, options(), { home: at });
      const seen = (await vm.refresh()).state.name;
      const running =
        processesWithArgument(instancePaths(store.instanceDir(l.name)).pidFile).length > 0;
      if (running) expect(seen, `${l.name} has a QEMU`).toMatch(/^(running|suspended|broken)$/);
      else expect(seen, `${l.name} has no QEMU`).toMatch(/^(stopped|broken)$/);
    }
    // Delete ends with nothing left, from whatever state.
    for (const name of await instancesAt(at)) {
      const vm = createInstance(backend, name, options(), { home: at });
      await vm.delete();
      const paths = instancePaths(store.instanceDir(name));
      expect(processesWithArgument(paths.pidFile)).toEqual([]);
      expect(existsSync(paths.dir)).toBe(false);
      expect(existsSync(paths.qmpSocket)).toBe(false);
    }
    expect(qemus()).toEqual([]);
    const left = existsSync(join(at, 'state', 'qemu'))
      ? readdirSync(join(at, 'state', 'qemu')).filter((n) => !n.startsWith('.'))
      : [];
    expect(left).toEqual([]);
    expect(filesUnder(join(at, 'instances'))).toEqual([]);
    expect(existsSync(join(at, 'tmp')) ? readdirSync(join(at, 'tmp')) : []).toEqual([]);
    expect({ disk: sha256(guest!.baseQcow2), kernel: sha256(guest!.vmlinux) }).toEqual(base);
  }

  it('our own process SIGKILLed at a random point of create and start', async () => {
    for (let i = 0; i < 2 * faults.rounds; i++) {
      await faults.point('kill-own-process', async (rng) => {
        const worker = runFaultWorker(plan(fresh(), ['create', 'start', 'stop']));
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), 300 + rng.int(6_000));
        await worker.exited;
        clearTimeout(timer);
        await invariants();
      });
    }
  }, 300_000);

  it('our own process SIGKILLed the moment its QEMU appears, before the start is recorded', async () => {
    // The window the random kills above hit only under load, widened on purpose: the worker
    // dies as soon as /proc shows a QEMU with the instance's -pidfile argument — QEMU still
    // initialising or daemonising, its launch not yet in the record.
    const store = createStore(join(home, 'state', 'qemu'));
    const backend = backendAt(home);
    const pidFileOf = (name: string) => instancePaths(store.instanceDir(name)).pidFile;
    async function interruptedStart(name: string): Promise<void> {
      const pidFile = pidFileOf(name);
      const worker = runFaultWorker(plan(name, ['create', 'start']));
      await waitFor(
        async () => {
          if (processesWithArgument(pidFile).length > 0) return true;
          if (worker.child.exitCode !== null)
            throw Object.assign(new Error(`the worker exited first: ${worker.lines}`), {
              fatal: true,
            });
          return undefined;
        },
        {
          description: 'the QEMU of the start',
          timeoutMs: 120_000,
          backoff: { initialMs: 2, maxMs: 10 },
        },
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
      expect(worker.lines).not.toContain('end start');
      expect((await store.read(name))?.launch, 'the start did not record its launch').toBe(
        undefined,
      );
    }

    await faults.point('kill-before-record', async () => {
      // At once, QEMU perhaps still daemonising: never "stopped" while it runs — inspect,
      // refresh and list say broken, with the reason; stop ends every process of it.
      const a = fresh();
      await interruptedStart(a);
      const vm = await openInstance(backend, a, { home });
      expect(vm.state).toMatchObject({
        name: 'broken',
        reason: expect.stringMatching(/no start recorded it/),
      });
      expect((await vm.refresh()).state.name).toBe('broken');
      const listed = await backend.list({ signal: AbortSignal.timeout(60_000) });
      expect(listed.find((l) => l.name === a)?.state).toBe('broken');
      await vm.stop();
      expect(vm.state.name).toBe('stopped');
      expect(processesWithArgument(pidFileOf(a))).toEqual([]);
      // Then it is an ordinary stopped instance that starts again.
      await vm.start();
      expect(processesWithArgument(pidFileOf(a))).toHaveLength(1);

      // Once that QEMU has daemonised (its pid file names the one process left), a start
      // launches no second QEMU on the same disk: refused by the state machine, and by the
      // driver itself when asked directly.
      const b = fresh();
      await interruptedStart(b);
      const [qemu] = await waitFor(
        async () => {
          const pids = processesWithArgument(pidFileOf(b));
          const written = await readFile(pidFileOf(b), 'utf8').catch(() => '');
          return pids.length === 1 && written.trim() === String(pids[0]) ? pids : undefined;
        },
        { description: 'the interrupted start’s QEMU to daemonise', timeoutMs: 120_000 },
      );
      const other = await openInstance(backend, b, { home });
      expect(other.state.name).toBe('broken');
      await expect(other.start()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
      const ctx = {
        signal: AbortSignal.timeout(60_000),
        deadline: Date.now() + 60_000,
        progress: () => {},
        debug: () => {},
      };
      await expect(
        backend.driver(b, qemuOptionsSchema.parse(options())).doStart(ctx),
      ).rejects.toMatchObject({
        code: 'OPERATION_FAILED',
        message: expect.stringMatching(/no start recorded it/),
      });
      expect(processesWithArgument(pidFileOf(b))).toEqual([qemu]);
      await invariants();
    });
  }, 300_000);

  it('QEMU SIGKILLed during exec, suspend or a snapshot', async () => {
    await faults.point('kill-qemu', async (rng) => {
      const backend = backendAt(home);
      const name = fresh();
      const vm = createInstance(backend, name, options(), { home });
      await vm.create();
      await vm.start();
      const { pidFile } = instancePaths(createStore(join(home, 'state', 'qemu')).instanceDir(name));
      const [pid] = processesWithArgument(pidFile);
      const op = rng.pick(['exec', 'suspend', 'snapshot'] as const);
      const work =
        op === 'exec'
          ? vm.exec(['sleep', '30'])
          : op === 'suspend'
            ? vm.suspend()
            : vm.snapshots.create('s1');
      const killed = new Promise<void>((resolve) =>
        setTimeout(() => {
          process.kill(pid!, 'SIGKILL');
          resolve();
        }, rng.int(300)),
      );
      await work.catch(() => undefined);
      // The operation may finish before the kill (a quick suspend): the refresh comes after it,
      // once /proc shows the QEMU gone.
      await killed;
      await waitFor(async () => processesWithArgument(pidFile).length === 0, {
        description: `QEMU pid ${pid} to be gone after SIGKILL`,
        timeoutMs: 30_000,
      });
      expect((await vm.refresh()).state.name).toBe('stopped');
      await invariants();
    });
  }, 300_000);

  it('every file we write corrupted, truncated or removed', async () => {
    await faults.point('corrupt-files', async (rng) => {
      const backend = backendAt(home);
      const name = fresh();
      const vm = createInstance(backend, name, options(), { home });
      await vm.create();
      await vm.start();
      const p = instancePaths(createStore(join(home, 'state', 'qemu')).instanceDir(name));
      const files = [
        join(p.dir, 'state.json'),
        p.pidFile,
        p.knownHosts,
        p.console,
        instanceRecordPath(home, 'qemu', name),
        join(home, 'cache', 'qemu-accel.json'),
      ];
      for (const file of files) corruptFile(file, rng.pick(CORRUPTIONS), rng);
      // Listing and refreshing still answer (broken is an answer); delete cleans up.
      await backend.list({ signal: AbortSignal.timeout(30_000) });
      await invariants();
    });
  }, 300_000);

  it('the instance directory removed behind our back while it runs', async () => {
    await faults.point('remove-behind-back', async () => {
      const backend = backendAt(home);
      const name = fresh();
      const vm = createInstance(backend, name, options(), { home });
      await vm.create();
      await vm.start();
      rmSync(createStore(join(home, 'state', 'qemu')).instanceDir(name), { recursive: true });
      expect(await vm.delete()).toMatchObject({ existed: expect.any(Boolean) });
      await invariants();
    });
  }, 300_000);

  it.skipIf(diskSkip !== undefined)(
    'the state directory’s disk full: create and start fail cleanly, nothing is left running',
    async () => {
      await faults.point('disk-full', async () => {
        const small = join(faults.root, 'small');
        const disk = mountSmallDisk(small, 4096);
        try {
          // Full before create: create fails, leaves nothing.
          const fill = fillDisk(small);
          const a = runFaultWorker(plan(fresh(), ['create'], small));
          await a.exited;
          expect(a.lines.join('\n')).toMatch(/error create /);
          rmSync(fill);
          // Created, then full before start: the launch cannot be recorded, QEMU must not stay.
          const name = fresh();
          const b = runFaultWorker(plan(name, ['create'], small));
          await b.exited;
          expect(b.lines).toContain('end create');
          const fill2 = fillDisk(small);
          const c = runFaultWorker(plan(name, ['start'], small));
          await c.exited;
          expect(qemus()).toEqual([]);
          rmSync(fill2);
          await invariants(small);
        } finally {
          disk.unmount();
        }
      });
    },
    300_000,
  );

  it('two processes racing on start and on delete', async () => {
    await faults.point('race', async () => {
      const name = fresh();
      const created = runFaultWorker(plan(name, ['create']));
      await created.exited;
      const racers = [0, 1].map(() => runFaultWorker(plan(name, ['start'])));
      await Promise.all(racers.map((r) => r.exited));
      const outcomes = racers.map((r) => r.lines.find((l) => !l.startsWith('begin')) ?? '');
      expect(outcomes.filter((l) => l === 'end start').length).toBeGreaterThan(0);
      expect(
        processesWithArgument(
          instancePaths(createStore(join(home, 'state', 'qemu')).instanceDir(name)).pidFile,
        ),
      ).toHaveLength(1);
      const deleters = [0, 1].map(() => runFaultWorker(plan(name, ['delete'])));
      await Promise.all(deleters.map((r) => r.exited));
      for (const d of deleters) expect(d.lines).toContain('end delete');
      await invariants();
    });
  }, 300_000);
});
