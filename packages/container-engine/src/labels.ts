/** The labels that mark a container (or a snapshot image) as created by @vms. */
import os from 'node:os';

export const LABEL_MANAGED = 'dev.vms.managed';
export const LABEL_OWNER = 'dev.vms.owner';
export const LABEL_CREATED = 'dev.vms.created';
/** Random id of one create call, so a failed create removes only what it made. */
export const LABEL_CREATE_ID = 'dev.vms.create-id';
export const LABEL_SNAPSHOT_OF = 'dev.vms.snapshot-of';
export const LABEL_SNAPSHOT = 'dev.vms.snapshot';

export function ownerLabel(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${os.hostname()}`;
}
