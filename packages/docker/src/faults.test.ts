/**
 * Fault injection on a real Docker engine — a private dockerd of this file's own (its own
 * socket, data-root and network namespace; the shared host engine is never touched), killed and
 * restarted at will. Seeded (see @vms/core/testing's faults.ts): the seed is printed with any
 * failure and in the closing line. Faults: our own process SIGKILLed at a random point of the
 * lifecycle, the engine SIGKILLed mid-operation, the container removed behind our back, our
 * record corrupted or truncated, the state directory's disk full, and processes racing on every
 * verb. After each, the invariants hold:
 *   - nothing no record points to: every container of the run is listed (managed-labelled);
 *   - every listed instance's state, after one refresh, is what `docker inspect` says;
 *   - delete always ends with nothing left: no container, no record, no temp file;
 *   - the base image is untouched.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInstance, instanceRecordPath, openInstance, type VmsError } from '@vms/core';
import {
  CORRUPTIONS,
  corruptFile,
  type FaultWorker,
  type FaultWorkerPlan,
  filesUnder,
  fillDisk,
  mountSmallDisk,
  type Rng,
  runFaultWorker,
  smallDiskUnavailableReason,
  startFaultRun,
  testRunLabels,
} from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { privateDockerd, privateDockerdSkipReason, TEST_IMAGE } from './test-helpers.js';

const skip = privateDockerdSkipReason();
if (skip) console.warn(`[skipped] docker fault suite: ${skip}`);
const diskSkip = skip ?? smallDiskUnavailableReason();

const MODULE = new URL('../dist/index.js', import.meta.url).href;
/** This fault run's containers (on its private engine), beside the test run's label. */
const SUITE_LABEL = 'dev.vms.test-suite';

describe.skipIf(skip !== undefined)('docker: fault injection (private dockerd)', () => {
  const faults = startFaultRun('docker');
  const engineDir = join(faults.root, 'engine');
  mkdirSync(engineDir);
  const engine = privateDockerd(engineDir);
  const home = join(faults.root, 'home');
  const backend = () => createDocker({ host: engine.host });
  let imageId = '';
  let counter = 0;
  const fresh = () => `flt-${faults.run}-${++counter}`;
  const options = { image: TEST_IMAGE, labels: { ...testRunLabels(), [SUITE_LABEL]: faults.run } };
  const plan = (name: string, ops: FaultWorkerPlan['ops'], at = home): FaultWorkerPlan => ({
    module: MODULE,
    export: 'createDocker',
    settings: { host: engine.host },
    name,
    options,
    home: at,
    ops,
  });

  beforeAll(async () => {
    mkdirSync(home, { recursive: true });
    await engine.start();
    imageId = engine.cli('image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE).trim();
  }, 180_000);

  afterAll(async () => {
    await engine.stop().catch(() => {});
    faults.sweep();
    console.log(faults.summary());
  }, 120_000);

  /** Containers of this run, by name, with their engine status. */
  const containers = (): Map<string, string> => {
    const out = engine.cli(
      'ps',
      '-a',
      '--filter',
      `label=${SUITE_LABEL}=${faults.run}`,
      '--format',
      '{{.Names}} {{.State}}',
    );
    return new Map(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ') as [string, string]),
    );
  };

  /** Names of the instances core recorded under `at`. */
  const recordedAt = (at: string) =>
    filesUnder(join(at, 'instances'))
      .filter((f) => f.endsWith('.json'))
      .map((f) =>
        f
          .split('/')
          .pop()!
          .replace(/\.json$/, ''),
      );

  // After every point, passed or failed: a point that failed halfway leaves nothing to the next
  // one. Delete through the library first, then remove what that could not (the sweep of a test
  // that found a bug must not trust the code).
  faults.afterEachPoint(async () => {
    const b = backend();
    try {
      const names = new Set([...containers().keys(), ...recordedAt(home)]);
      for (const name of names) {
        await createInstance(b, name, options, { home })
          .delete()
          .catch(() => undefined);
      }
    } finally {
      await b.close();
    }
    const left = [...containers().keys()];
    if (left.length) engine.cli('rm', '-f', ...left);
    rmSync(join(home, 'instances'), { recursive: true, force: true });
  });

  const expectedState: Record<string, string> = {
    running: 'running',
    paused: 'suspended',
    exited: 'stopped',
    created: 'stopped',
  };

  /** The invariants; ends by deleting everything of the run and checking nothing is left. */
  async function invariants(at = home): Promise<void> {
    const b = backend();
    try {
      const real = containers();
      const listed = await b.list({ signal: AbortSignal.timeout(60_000) });
      const listedNames = new Set(listed.map((l) => l.name));
      for (const name of real.keys())
        expect(listedNames, `container ${name} is listed`).toContain(name);
      for (const name of real.keys()) {
        const vm = createInstance(b, name, options, { home: at });
        const seen = (await vm.refresh()).state.name;
        // Read after the refresh: an operation whose client was killed may still be finishing
        // in the engine (an unpause sent just before the SIGKILL).
        const status = containers().get(name) ?? 'gone';
        // A container caught mid-removal ("removing", "dead") may read as broken or gone; gone
        // with its record removed too (the delete finished) is an instance never known: initial.
        const expected = expectedState[status];
        const message = `${name}: docker says ${status}, refresh says ${seen}`;
        if (expected) expect(seen, message).toBe(expected);
        else if (status === 'gone' && !recordedAt(at).includes(name))
          expect(seen, message).toMatch(/^(initial|deleted)$/);
        else expect(seen, message).toMatch(/^(broken|stopped|deleted)$/);
      }
      for (const name of new Set([...real.keys(), ...recordedAt(at)])) {
        const vm = createInstance(b, name, options, { home: at });
        await vm.delete();
        expect(vm.state.name).toMatch(/^(deleted|initial)$/);
      }
      expect([...containers().keys()]).toEqual([]);
      expect(filesUnder(join(at, 'instances'))).toEqual([]);
      expect(engine.cli('image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE).trim()).toBe(
        imageId,
      );
    } finally {
      await b.close();
    }
  }

  async function killAtRandom(worker: FaultWorker, rng: Rng, maxMs: number): Promise<void> {
    const delay = rng.int(maxMs);
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), delay);
    await worker.exited;
    clearTimeout(timer);
  }

  it('our own process SIGKILLed at random points of the lifecycle', async () => {
    for (let i = 0; i < 4 * faults.rounds; i++) {
      await faults.point('kill-own-process', async (rng) => {
        const ops: FaultWorkerPlan['ops'] = [
          'create',
          'start',
          'suspend',
          'resume',
          'stop',
          'start',
          'delete',
        ];
        const worker = runFaultWorker(plan(fresh(), ops.slice(0, 2 + rng.int(ops.length - 1))));
        await killAtRandom(worker, rng, 2_500);
        await invariants();
      });
    }
  }, 240_000);

  it('the engine SIGKILLed mid-operation: the operation ends with an error, then reality is reconciled', async () => {
    for (let i = 0; i < 2 * faults.rounds; i++) {
      await faults.point('kill-engine', async (rng) => {
        const worker = runFaultWorker(plan(fresh(), ['create', 'start', 'stop', 'start']));
        await new Promise((r) => setTimeout(r, rng.int(1_500)));
        await engine.kill();
        const { code, signal } = await Promise.race([
          worker.exited,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('the worker hung after the engine died')), 90_000),
          ),
        ]);
        expect(signal).toBeNull();
        expect(code === 0 || worker.lines.some((l) => l.startsWith('error '))).toBe(true);
        // Down: the library says so, it does not look like an empty engine.
        await expect(backend().list({ signal: AbortSignal.timeout(20_000) })).rejects.toMatchObject(
          {
            code: expect.stringMatching(/BACKEND_UNAVAILABLE|COMMAND_FAILED|OPERATION_FAILED/),
          },
        );
        await engine.start();
        await invariants();
      });
    }
  }, 300_000);

  it('the container removed behind our back at any point', async () => {
    for (let i = 0; i < 2 * faults.rounds; i++) {
      await faults.point('remove-behind-back', async (rng) => {
        const name = fresh();
        const b = backend();
        const vm = createInstance(b, name, options, { home });
        await vm.create();
        if (rng.int(2)) await vm.start();
        engine.cli('rm', '-f', name);
        expect((await vm.refresh()).state.name).toBe('deleted');
        expect(await vm.delete()).toEqual({ existed: false });
        await b.close();
        await invariants();
      });
    }
  }, 120_000);

  it('our instance record corrupted, truncated or removed', async () => {
    for (const how of CORRUPTIONS) {
      await faults.point(`corrupt-record:${how}`, async (rng) => {
        const name = fresh();
        const b = backend();
        const vm = createInstance(b, name, options, { home });
        await vm.create();
        await vm.start();
        corruptFile(instanceRecordPath(home, 'docker', name), how, rng);
        // Attaching by name alone either works or says the record is unreadable, with a hint.
        const opened = await openInstance(b, name, { home }).then(
          () => undefined,
          (e: VmsError) => e,
        );
        if (opened)
          expect(opened).toMatchObject({
            code: expect.stringMatching(/PROTOCOL_ERROR|INVALID_OPTIONS/),
          });
        await b.close();
        await invariants();
      });
    }
  }, 120_000);

  it.skipIf(diskSkip !== undefined)(
    'the state directory’s disk full: create fails cleanly and leaves nothing',
    async () => {
      await faults.point('disk-full', async () => {
        const small = join(faults.root, 'small-home');
        const disk = mountSmallDisk(small, 256);
        try {
          const fill = fillDisk(small);
          const name = fresh();
          const worker = runFaultWorker(plan(name, ['create'], small));
          await worker.exited;
          expect(worker.lines.join('\n')).toMatch(/error create \w+ .*(ENOSPC|no space)/i);
          expect(containers().has(name)).toBe(false);
          rmSync(fill);
          await invariants(small);
        } finally {
          disk.unmount();
        }
      });
    },
    120_000,
  );

  it('two and more processes racing on every verb', async () => {
    await faults.point('race', async (rng) => {
      const name = fresh();
      const n = 2 + rng.int(3);
      const race = async (op: FaultWorkerPlan['ops'][number]) => {
        const workers = Array.from({ length: n }, () => runFaultWorker(plan(name, [op])));
        await Promise.all(workers.map((w) => w.exited));
        return workers.map((w) => w.lines.find((l) => !l.startsWith('begin')) ?? '');
      };
      const created = await race('create');
      expect(created.filter((l) => l === 'end create')).toHaveLength(1);
      for (const l of created.filter((x) => x !== 'end create'))
        expect(l).toMatch(/^error create (ALREADY_EXISTS|LOCKED) /);
      for (const op of ['start', 'suspend', 'resume', 'stop', 'start'] as const) {
        const r = await race(op);
        // Every racer either did it, found it already done, or waited its turn.
        for (const l of r)
          expect(l).toMatch(new RegExp(`^(end ${op}|error ${op} (INVALID_TRANSITION|LOCKED) )`));
        expect(r.some((l) => l === `end ${op}`)).toBe(true);
      }
      const deleted = await race('delete');
      for (const l of deleted) expect(l).toMatch(/^(end delete|error delete LOCKED )/);
      expect(containers().has(name)).toBe(false);
      expect(existsSync(instanceRecordPath(home, 'docker', name))).toBe(false);
      await invariants();
    });
  }, 240_000);
});
