/** The backends `vms` knows by name (no imports: the start-up path reads this). */

/** The first-party backend packages and the backend names they provide. */
export const FIRST_PARTY: ReadonlyArray<{ pkg: string; names: readonly string[] }> = [
  { pkg: '@vms/docker', names: ['docker'] },
  { pkg: '@vms/podman', names: ['podman', 'podman-machine'] },
  { pkg: '@vms/qemu', names: ['qemu'] },
  { pkg: '@vms/linuxkit', names: ['linuxkit'] },
  { pkg: '@vms/lima', names: ['lima', 'colima'] },
  { pkg: '@vms/tart', names: ['tart'] },
];

export const BACKEND_PACKAGE_PATTERN = /^(?:@[a-z0-9][\w.-]*\/)?vms-backend-[\w.-]+$/i;
