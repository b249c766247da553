/** Suspend and resume, and the ways out of suspended: stop and delete. */
import { expectCode, expectState, group, type Suite } from './harness.js';

export function suspendGroups(s: Suite): void {
  const { it, expect } = s.t;
  const t = s.timeout;

  group(s, 'suspend', s.off('suspend', 'suspend'), () => {
    it(
      'suspends and resumes, idempotently, checked against the world',
      async () => {
        const vm = s.make();
        await vm.create();
        await vm.start();
        await vm.suspend();
        await expectState(s, vm, 'suspended', 'after suspend()');
        await vm.suspend();
        expect(vm.state.name, 'suspend() on suspended is a no-op').toBe('suspended');
        if (s.capabilities.exec) {
          const error = await expectCode(
            s,
            vm.exec(['true']),
            'INVALID_TRANSITION',
            'exec on a suspended instance',
          );
          expect(error.hint, 'the hint of exec on a suspended instance').toMatch(/resume/);
        }
        await vm.resume();
        await expectState(s, vm, 'running', 'after resume()');
        if (s.capabilities.exec) {
          const r = await vm.exec(['echo', 'resumed']);
          expect(r.stdout, 'exec after resume()').toBe('resumed\n');
        }
        await vm.suspend();
        await vm.start();
        await expectState(s, vm, 'running', 'after start() of a suspended instance');
        await vm.delete();
      },
      t,
    );

    it(
      'stops a suspended instance: nothing of it runs afterwards',
      async () => {
        const vm = s.make();
        await vm.create();
        await vm.start();
        await vm.suspend();
        const stopped = await vm.stop({ graceMs: s.grace });
        expect(
          ['graceful', 'forced'],
          `stop() of a suspended instance said ${stopped.how}`,
        ).toContain(stopped.how);
        await expectState(s, vm, 'stopped', 'after stop() of a suspended instance');
        await vm.start();
        await expectState(s, vm, 'running', 'after start() following the stop from suspended');
        await vm.delete();
      },
      t,
    );

    it(
      'deletes a suspended instance: nothing of it is left',
      async () => {
        const vm = s.make();
        await vm.create();
        await vm.start();
        await vm.suspend();
        expect(await vm.delete(), 'delete() of a suspended instance').toEqual({ existed: true });
        await expectState(s, vm, 'deleted', 'after delete() of a suspended instance');
      },
      t,
    );
  });
}
