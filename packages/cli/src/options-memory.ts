/**
 * The options an instance was created with, remembered by `vms create` so that a later `vms
 * start` / `exec` / … — another process — builds the same Instance (a qemu instance boots from
 * the kernel it was created with). One 0600 JSON file per instance under
 * `<vmsHome>/cli/options/<backend>/<name>.json`, written atomically, removed by `vms delete`.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { vmsHome, writeFileAtomic } from '@vms/core';

function file(backend: string, name: string): string {
  return join(vmsHome(), 'cli', 'options', backend, `${name}.json`);
}

export async function rememberOptions(
  backend: string,
  name: string,
  options: Record<string, unknown>,
): Promise<void> {
  const path = file(backend, name);
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify({ version: 1, options }), 0o600);
}

export async function recallOptions(
  backend: string,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file(backend, name), 'utf8')) as {
      version?: number;
      options?: unknown;
    };
    if (parsed.version !== 1 || !parsed.options || typeof parsed.options !== 'object')
      return undefined;
    return parsed.options as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function forgetOptions(backend: string, name: string): Promise<void> {
  await rm(file(backend, name), { force: true });
}
