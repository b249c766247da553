/** The lifecycle against the world: transitions, list, drift, disposal, rollback, racing handles. */
import type { Instance } from '../../instance.js';
import { delegateBackend, delegateDriver } from './delegate.js';
import { expectCode, expectState, expectWorld, group, type Suite } from './harness.js';

function statesOf(instance: Instance): string[] {
  const seen: string[] = [];
  instance.on('state', (e) => seen.push(e.to.name));
  return seen;
}

export function lifecycleGroups(s: Suite): void {
  const { it, expect } = s.t;
  const t = s.timeout;

  group(s, 'lifecycle', undefined, () => {
    it(
      'refuses start/stop of an instance that does not exist; delete of it is a no-op',
      async () => {
        const vm = s.make();
        await expectCode(
          s,
          vm.start(),
          'INVALID_TRANSITION',
          'start() of a never-created instance',
        );
        await expectCode(s, vm.stop(), 'INVALID_TRANSITION', 'stop() of a never-created instance');
        expect(await vm.delete(), 'delete() of a never-created instance').toEqual({
          existed: false,
        });
        await expectState(s, vm, 'initial', 'after the refused calls');
      },
      t,
    );

    it(
      'walks create → start → stop → start → stop → delete, checked against the world at each step',
      async () => {
        const vm = s.make();
        const seen = statesOf(vm);
        await vm.create();
        await expectState(s, vm, 'stopped', 'after create()');
        await expectCode(s, vm.create(), 'ALREADY_EXISTS', 'create() of an existing instance');

        await vm.start();
        await expectState(s, vm, 'running', 'after start()');
        await vm.start();
        expect(vm.state.name, 'start() on running is a no-op').toBe('running');

        const stopped = await vm.stop({ graceMs: s.grace });
        expect(['graceful', 'forced'], `stop() said how: ${stopped.how}`).toContain(stopped.how);
        await expectState(s, vm, 'stopped', 'after stop()');
        expect((await vm.stop()).how, 'stop() on stopped').toBe('already-stopped');

        await vm.start();
        await expectState(s, vm, 'running', 'after the second start()');
        await vm.stop({ graceMs: s.grace });
        await expectState(s, vm, 'stopped', 'after the second stop()');

        expect(await vm.delete(), 'delete() of a stopped instance').toEqual({ existed: true });
        await expectState(s, vm, 'deleted', 'after delete()');
        expect(await vm.delete(), 'delete() again').toEqual({ existed: false });
        expect(seen, 'state events, in order').toEqual([
          'creating',
          'stopped',
          'starting',
          'running',
          'stopping',
          'stopped',
          'starting',
          'running',
          'stopping',
          'stopped',
          'deleting',
          'deleted',
        ]);
      },
      t,
    );

    it(
      'deletes a running instance: nothing of it is left',
      async () => {
        const vm = s.make();
        await vm.create();
        await vm.start();
        expect(await vm.delete(), 'delete() of a running instance').toEqual({ existed: true });
        await expectState(s, vm, 'deleted', 'after delete() of a running instance');
      },
      t,
    );

    it(
      'reports the properties of a running instance',
      async () => {
        const vm = await s.running();
        const info = await vm.inspect();
        expect(info.state.name, 'inspect() of the running instance').toBe('running');
        expect(typeof info.properties, 'inspect().properties').toBe('object');
      },
      t,
    );

    it(
      'deletes the instance an `await using` block created, when the block ends',
      async () => {
        let name = '';
        {
          await using vm = s.make();
          name = vm.name;
          await vm.create();
        }
        await expectWorld(s, name, 'absent', 'after the await using block');
      },
      t,
    );
  });

  group(s, 'list', s.off('list'), () => {
    it(
      'lists a created instance as stopped and managed, and not after delete',
      async () => {
        const vm = s.make();
        await vm.create();
        const listed = await s.backend.list({ signal: AbortSignal.timeout(60_000) });
        const mine = listed.find((l) => l.name === vm.name);
        expect(
          mine,
          `list() after create() lacks ${vm.name} (it has ${listed.map((l) => l.name).join(', ') || 'nothing'})`,
        ).toBeDefined();
        expect(mine?.state, 'list() state of a created instance').toBe('stopped');
        expect(mine?.managed, 'list() managed flag of an instance @vms created').toBe(true);
        await vm.delete();
        const after = await s.backend.list({ signal: AbortSignal.timeout(60_000) });
        expect(
          after.some((l) => l.name === vm.name),
          `list() after delete() still has ${vm.name}`,
        ).toBe(false);
      },
      t,
    );
  });

  group(s, 'drift', s.subject.removeBehindBack ? undefined : 'no removeBehindBack given', () => {
    it(
      'refresh() reports drift when the instance is removed behind its back',
      async () => {
        const vm = s.make();
        await vm.create();
        await s.subject.removeBehindBack?.(vm.name);
        await expectWorld(s, vm.name, 'absent', 'after removing it behind the back');
        const r = await vm.refresh();
        expect(r.state.name, 'refresh() after removal').toBe('deleted');
        expect(r.drift?.expected.name, 'the drift refresh() reports').toBe('stopped');
        expect(await vm.delete(), 'delete() of what is gone').toEqual({ existed: false });
      },
      t,
    );
  });

  group(s, 'rollback', s.off('rollback'), () => {
    it(
      'a start whose readiness fails is rolled back: the instance is stopped, in the world too',
      async () => {
        const vm = s.make({
          settings: {
            readiness: {
              description: 'a readiness check the suite fails on purpose',
              wait: async () => {
                throw new Error('injected readiness failure');
              },
            },
          },
        });
        await vm.create();
        await expect(vm.start(), 'start() with a failing readiness check').rejects.toThrow(
          /injected readiness failure/,
        );
        await expectState(s, vm, 'stopped', 'after the failed start() was rolled back');
        await vm.delete();
      },
      t,
    );

    it(
      'a create that fails after the backend made the instance is rolled back: nothing is left',
      async () => {
        const failing = delegateBackend(s.backend, (driver) =>
          delegateDriver(driver, {
            doCreate: async (ctx) => {
              await driver.doCreate(ctx);
              throw new Error('injected failure after doCreate');
            },
          }),
        );
        const vm = s.make({ backend: failing });
        await expect(vm.create(), 'create() failing after doCreate').rejects.toThrow(
          /injected failure/,
        );
        await expectState(s, vm, 'initial', 'after the failed create() was rolled back');
      },
      t,
    );

    it(
      'a start that fails after the backend started the instance is rolled back',
      async () => {
        const failing = delegateBackend(s.backend, (driver) =>
          delegateDriver(driver, {
            doStart: async (ctx) => {
              await driver.doStart(ctx);
              throw new Error('injected failure after doStart');
            },
          }),
        );
        const vm = s.make({ backend: failing });
        await vm.create();
        await expect(vm.start(), 'start() failing after doStart').rejects.toThrow(
          /injected failure/,
        );
        await expectState(s, vm, 'stopped', 'after the failed start() was rolled back');
        await vm.delete();
      },
      t,
    );
  });

  group(s, 'concurrency', s.off('concurrency'), () => {
    it(
      'two handles racing on one instance: one create wins, the lifecycle stays consistent',
      async () => {
        const a = s.make();
        const b = s.make({ name: a.name });
        const created = await Promise.allSettled([a.create(), b.create()]);
        const codes = created.map((r) =>
          r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code,
        );
        expect(codes.slice().sort(), 'outcomes of two concurrent create() calls').toEqual([
          'ALREADY_EXISTS',
          'ok',
        ]);
        await Promise.all([a.start(), b.start()]);
        await expectState(s, a, 'running', 'after two concurrent start() calls');
        const [stopped, deleted] = await Promise.all([a.stop({ graceMs: s.grace }), b.delete()]);
        expect(stopped.how, 'stop() racing delete()').not.toBe(undefined);
        expect(deleted.existed, 'delete() racing stop()').toBe(true);
        await expectState(s, a, 'deleted', 'after stop() and delete() raced');
      },
      t,
    );
  });
}
