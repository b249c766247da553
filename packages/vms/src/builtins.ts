/**
 * The first-party backends compiled into `vms-all`, by package name. Each is a lazy import, so a
 * command loads only the backends it uses. Adding a backend package: add it here and to the
 * devDependencies. (@vms/linuxkit reads its built-in templates from `../templates/` next to
 * its code: the build copies them to this package's `templates/`.)
 */
import type { BuiltinBackends } from '@vms/cli';

export const builtins: BuiltinBackends = {
  '@vms/docker': () => import('@vms/docker'),
  '@vms/podman': () => import('@vms/podman'),
  '@vms/qemu': () => import('@vms/qemu'),
  '@vms/linuxkit': () => import('@vms/linuxkit'),
  '@vms/lima': () => import('@vms/lima'),
  '@vms/tart': () => import('@vms/tart'),
  // Not a backend: `vms mcp` loads it (and prune its sessions module) only when it runs.
  '@vms/mcp': () => import('@vms/mcp'),
  '@vms/mcp/sessions': () => import('@vms/mcp/sessions'),
};
