/** qemu's options are checked at compile time (`pnpm typecheck` runs this file). */
import { createInstance, type Instance } from '@vms/core';
import { expectTypeOf } from 'vitest';
import { createQemu, type QemuOptions, qemu } from './index.js';

// @ts-expect-error: a misspelt option does not compile
createInstance(qemu, 'vm', { kernal: '/boot/vmlinuz' });
// @ts-expect-error: accel is one of auto | kvm | tcg
createInstance(qemu, 'vm', { kernel: '/boot/vmlinuz', accel: 'hvf' });
// @ts-expect-error: ssh takes user, privateKey and guestPort only
createInstance(qemu, 'vm', { kernel: '/boot/vmlinuz', ssh: { usr: 'root' } });

const vm = createInstance(createQemu(), 'vm', { kernel: '/boot/vmlinuz', memoryMiB: 256 });
expectTypeOf(vm).toEqualTypeOf<Instance<QemuOptions>>();
// Defaults are filled in on the output side.
expectTypeOf(vm.options.cpus).toEqualTypeOf<number>();
