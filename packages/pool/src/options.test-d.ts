/** A pool's instance options are typed by its backend's schema (`pnpm typecheck` runs this file). */
import { docker } from '@vms/docker';
import { qemu } from '@vms/qemu';
import { createPool } from './index.js';

// @ts-expect-error: a misspelt docker option does not compile
createPool({ backend: docker, namePrefix: 'web', options: { imagee: 'nginx' } });
// @ts-expect-error: nor a misspelt qemu one
createPool({ backend: qemu, namePrefix: 'vm', options: { kernal: '/boot/vmlinuz' } });
createPool({ backend: docker, namePrefix: 'web', options: { image: 'nginx' } });
