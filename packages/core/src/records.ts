/**
 * What the runtime remembers of an instance it created: the validated options, so that another
 * process (a CLI call, a pool after a crash) can attach with `openInstance(backend, name)` and
 * start, stop or exec with the same options. One small JSON file per instance, written atomically.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProtocolError } from './errors.js';
import { BACKEND_NAME_PATTERN, INSTANCE_NAME_PATTERN, validateInstanceName } from './options.js';
import { removeLeftoverTemps, writeFileAtomic } from './store.js';

export interface InstanceRecord {
  schemaVersion: 1;
  backend: string;
  name: string;
  /** The validated options the instance was created with. */
  options: unknown;
  createdAt: string;
}

export function instanceRecordPath(home: string, backend: string, name: string): string {
  validateInstanceName(name);
  if (!BACKEND_NAME_PATTERN.test(backend))
    throw new ProtocolError(`invalid backend name ${JSON.stringify(backend)}`);
  return join(home, 'instances', backend, `${name}.json`);
}

export async function readInstanceRecord(
  home: string,
  backend: string,
  name: string,
): Promise<InstanceRecord | undefined> {
  const path = instanceRecordPath(home, backend, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as InstanceRecord;
    if (record.schemaVersion !== 1)
      throw new Error(`unknown schemaVersion ${record.schemaVersion}`);
    return record;
  } catch (error) {
    throw new ProtocolError(`unreadable instance record ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: `pass the instance's options to attach, or delete it: the record is rewritten at the next create`,
    });
  }
}

export async function writeInstanceRecord(
  home: string,
  record: Omit<InstanceRecord, 'schemaVersion'>,
): Promise<void> {
  const path = instanceRecordPath(home, record.backend, record.name);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify({ schemaVersion: 1, ...record }, null, 2)}\n`);
}

export async function removeInstanceRecord(
  home: string,
  backend: string,
  name: string,
): Promise<void> {
  const path = instanceRecordPath(home, backend, name);
  await rm(path, { force: true });
  // Temp files of a writer killed mid-write would outlive the record they were for.
  await removeLeftoverTemps(path);
}

/**
 * Names of the instances of `backend` that have a record under `home` (sorted): what this
 * machine created there, whether or not the backend answers right now.
 */
export async function listInstanceRecords(home: string, backend: string): Promise<string[]> {
  const dir = dirname(instanceRecordPath(home, backend, 'x'));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter((n) => INSTANCE_NAME_PATTERN.test(n))
    .sort();
}
