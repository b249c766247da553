/**
 * The host side of a file copy: only under the policy's `hostPaths` directories, checked on real
 * paths (symlinks resolved), so `../` or a symlink cannot lead out of them.
 */
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { InvalidOptionsError } from '@vms/core';
import type { Policy } from './policy.js';
import { refuse } from './session.js';

async function allowedRoots(policy: Policy): Promise<string[]> {
  const roots = await Promise.all(policy.hostPaths.map((p) => realpath(p).catch(() => undefined)));
  return roots.filter((r): r is string => r !== undefined);
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

async function check(policy: Policy, real: string, asked: string, field: string): Promise<string> {
  const roots = await allowedRoots(policy);
  if (!roots.some((root) => under(real, root))) {
    throw refuse(
      'hostPaths',
      `${field} ${asked} is not under an allowed host directory`,
      policy.hostPaths.length
        ? `allowed: ${policy.hostPaths.join(', ')}`
        : 'this server allows no host paths: pass content inline instead',
    );
  }
  return real;
}

function absolute(path: string, field: string): void {
  if (!isAbsolute(path))
    throw new InvalidOptionsError([{ path: field, message: 'must be an absolute host path' }]);
}

/** The real path of an existing host file to read, when it is under an allowed directory. */
export async function hostPathToRead(policy: Policy, path: string, field: string): Promise<string> {
  absolute(path, field);
  if (policy.hostPaths.length === 0) return check(policy, path, path, field);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    // Say "not allowed" before "not found": a refusal must not reveal what exists outside.
    await check(policy, path, path, field);
    throw new InvalidOptionsError([{ path: field, message: `${path} does not exist` }]);
  }
  return check(policy, real, path, field);
}

/**
 * Where to write a host file: its directory must exist and be (really) under an allowed one; an
 * existing symlink at the target is refused (it could point anywhere).
 */
export async function hostPathToWrite(
  policy: Policy,
  path: string,
  field: string,
): Promise<string> {
  absolute(path, field);
  if (policy.hostPaths.length === 0) return check(policy, path, path, field);
  let dir: string;
  try {
    dir = await realpath(dirname(path));
  } catch {
    await check(policy, path, path, field);
    throw new InvalidOptionsError([
      { path: field, message: `directory ${dirname(path)} does not exist` },
    ]);
  }
  const target = join(dir, basename(path));
  await check(policy, target, path, field);
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) throw refuse('hostPaths', `${field} ${path} is a symbolic link`);
  if (existing?.isDirectory())
    throw new InvalidOptionsError([
      { path: field, message: `${path} is a directory: name the file to write` },
    ]);
  return target;
}
