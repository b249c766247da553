/**
 * The workspace's published packages as npm would get them: each one `pnpm pack`ed (workspace:
 * ranges become real versions) into the test run's temp root, once per run. Test files run in
 * parallel workers; the first one to get here packs (it holds a lock directory), the others wait
 * for its index file.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../readme-blocks.js';

const run = promisify(execFile);

export interface PackedPackage {
  name: string;
  version: string;
  /** The tarball's path. */
  file: string;
  /** package.json as packed (what the registry serves as the version's manifest). */
  manifest: Record<string, unknown> & { name: string; version: string };
  /** `sha512-…` (subresource integrity) and the sha1 hex npm still reads. */
  integrity: string;
  shasum: string;
}

/** The workspace packages that are published (not `private`), by directory under packages/. */
export function publishedPackages(): { dir: string; name: string }[] {
  const out: { dir: string; name: string }[] = [];
  for (const entry of readdirSync(join(REPO, 'packages'), { withFileTypes: true })) {
    const file = join(REPO, 'packages', entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean };
    if (!manifest.private)
      out.push({ dir: join(REPO, 'packages', entry.name), name: manifest.name });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function packOne(dir: string, dest: string): Promise<PackedPackage> {
  // No lifecycle scripts: core's `prepack` rebuilds its dist, which other test files are using
  // (the build before the tests made it).
  const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', dest], {
    cwd: dir,
    env: { ...process.env, PNPM_CONFIG_IGNORE_SCRIPTS: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const { filename } = JSON.parse(stdout) as { filename: string };
  const file = filename.startsWith('/') ? filename : join(dest, filename);
  const { stdout: text } = await run('tar', ['-xzOf', file, 'package/package.json']);
  const manifest = JSON.parse(text) as PackedPackage['manifest'];
  const bytes = readFileSync(file);
  return {
    name: manifest.name,
    version: manifest.version,
    file,
    manifest,
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
  };
}

async function packAll(dest: string): Promise<PackedPackage[]> {
  const queue = publishedPackages();
  const out: PackedPackage[] = [];
  // Two at a time: the machine has 2 cores and other tests run beside us.
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      out.push(await packOne(next.dir, dest));
  };
  await Promise.all([worker(), worker()]);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

let packed: Promise<PackedPackage[]> | undefined;

/** Every published workspace package, packed once per test run (shared by the run's workers). */
export function workspacePacks(): Promise<PackedPackage[]> {
  packed ??= (async () => {
    const dir = join(tmpdir(), 'docs-packs');
    const index = join(dir, 'index.json');
    let mine = false;
    try {
      mkdirSync(`${dir}.lock`);
      mine = true;
    } catch {
      // another worker of this run packs
    }
    const failed = join(dir, 'error.txt');
    if (mine) {
      mkdirSync(dir, { recursive: true });
      try {
        const packs = await packAll(dir);
        writeFileSync(`${index}.tmp`, JSON.stringify(packs));
        renameSync(`${index}.tmp`, index);
        return packs;
      } catch (error) {
        writeFileSync(failed, String(error));
        throw error;
      }
    }
    const deadline = Date.now() + 300_000;
    while (!existsSync(index)) {
      if (existsSync(failed))
        throw new Error(`packing the workspace failed: ${readFileSync(failed, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`no packed workspace at ${index} after 5 min`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return JSON.parse(readFileSync(index, 'utf8')) as PackedPackage[];
  })();
  return packed;
}
