/**
 * The first-party backends compiled into `vms-all`, by package name. Each is a lazy import, so a
 * command loads only the backends it uses. Adding a backend package: add it here and to the
 * devDependencies.
 */
import type { BuiltinBackends } from '@vms/cli';

export const builtins: BuiltinBackends = {
  '@vms/docker': () => import('@vms/docker'),
  '@vms/podman': () => import('@vms/podman'),
  '@vms/qemu': () => import('@vms/qemu'),
  '@vms/lima': () => import('@vms/lima'),
  '@vms/tart': () => import('@vms/tart'),
};
