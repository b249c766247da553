/**
 * The options an instance was created with, as @vms/core records them at `create` (and removes
 * at `delete`), so that a later `vms start` / `exec` / … — another process — builds the same
 * Instance (a qemu instance boots from the kernel it was created with).
 */
import { readInstanceRecord, removeInstanceRecord, vmsHome } from '@vms/core';

export async function recallOptions(
  backend: string,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const record = await readInstanceRecord(vmsHome(), backend, name);
    const options = record?.options;
    return options && typeof options === 'object'
      ? (options as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** For instances removed other than through Instance.delete (prune of leftovers). */
export async function forgetOptions(backend: string, name: string): Promise<void> {
  await removeInstanceRecord(vmsHome(), backend, name);
}
