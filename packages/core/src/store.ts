/**
 * State on disk for backends that own their instances' state (qemu, linuxkit): one 0700
 * directory per instance holding an atomically written, schema-versioned `state.json`, and a
 * cross-process lock per instance next to it.
 */
import type { Dirent } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ProtocolError } from './errors.js';
import { randomHex } from './ids.js';
import { acquireLock, type LockHandle, type LockOptions, pidExists } from './lock.js';
import {
  INSTANCE_NAME_PATTERN,
  lazySchema,
  parseOptions,
  validateInstanceName,
} from './options.js';
import * as z from './zod.js';

/**
 * Root of everything @vms keeps on disk: `$VMS_HOME`, else `$XDG_STATE_HOME/vms`, else
 * `~/.local/state/vms`. Relative values are ignored, as the XDG spec requires.
 */
export function vmsHome(): string {
  const explicit = process.env.VMS_HOME;
  if (explicit && isAbsolute(explicit)) return explicit;
  const xdg = process.env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'vms');
  return join(homedir(), '.local', 'state', 'vms');
}

/** Temp files of `writeFileAtomic` are `.<name>.tmp-<pid>-<random>` in the target's directory. */
const tempPrefix = (name: string) => `.${name}.tmp-`;
/** Temp files this process is writing right now (never cleaned as leftovers). */
const inFlight = new Set<string>();

/**
 * Removes temp files a killed writer left behind for `path`: those whose writer PID is gone, and
 * this process's own that are no longer in flight. Another live process's temp file is kept.
 */
export async function removeLeftoverTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = tempPrefix(basename(path));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix))
      .map(async (name) => {
        const full = join(dir, name);
        const pid = Number.parseInt(name.slice(prefix.length), 10);
        const abandoned =
          !Number.isInteger(pid) || (pid === process.pid ? !inFlight.has(full) : !pidExists(pid));
        if (abandoned) await unlink(full).catch(() => {});
      }),
  );
}

/**
 * Replaces `path` with `data` so that readers see the old content or the new one, never a torn
 * mix, even if this process is killed midway: writes a temp file in the same directory, fsyncs
 * it, renames it over `path` and fsyncs the directory. The file gets `mode` (default 0600).
 * A writer killed midway leaves its temp file; the next write of the same file removes it.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  await removeLeftoverTemps(path);
  const temp = join(dirname(path), `${tempPrefix(basename(path))}${process.pid}-${randomHex(6)}`);
  inFlight.add(temp);
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.chmod(mode); // exact mode, whatever the umask
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  } finally {
    inFlight.delete(temp);
  }
  await syncDir(dirname(path));
}

/** Makes a rename durable. Some filesystems cannot fsync a directory; that is not an error. */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on filesystems without directory fsync.
  } finally {
    await handle?.close().catch(() => {});
  }
}

export interface StateStoreOptions<T> {
  /** Backend name: the store lives in `<root>` = `<vmsHome>/state/<backend>`. */
  backend: string;
  /** Version of the data's shape. Reading a newer version fails; older ones go through `migrate`. */
  schemaVersion: number;
  /** Directory of the store (default `join(vmsHome(), 'state', backend)`). */
  root?: string;
  /** Validates data read from disk; a mismatch is a ProtocolError. */
  schema?: z.ZodType<T>;
  /** Upgrades data written with an older schemaVersion. Without it, older data is returned as is. */
  migrate?: (data: unknown, fromVersion: number) => T;
}

const storeOptionsSchema = lazySchema(() =>
  z.object({
    backend: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_"'),
    schemaVersion: z.number().int().positive(),
    root: z.string().min(1).refine(isAbsolute, 'must be an absolute path').optional(),
    schema: z.unknown().optional(),
    migrate: z.function().optional(),
  }),
);

const STATE_FILE = 'state.json';

/**
 * One backend's instance state on disk:
 * ```
 * <root>/<name>/state.json   { "schemaVersion": 1, "data": {...} }   0600, dir 0700
 * <root>/.<name>.lock        cross-process lock (outside the dir, so remove() keeps it)
 * ```
 * Names are validated like instance names, so no name can escape the root.
 */
export class StateStore<T extends object> {
  readonly root: string;
  readonly backend: string;
  readonly schemaVersion: number;
  readonly #schema: z.ZodType<T> | undefined;
  readonly #migrate: ((data: unknown, fromVersion: number) => T) | undefined;

  constructor(options: StateStoreOptions<T>) {
    parseOptions(storeOptionsSchema(), options);
    this.backend = options.backend;
    this.schemaVersion = options.schemaVersion;
    this.root = options.root ?? join(vmsHome(), 'state', options.backend);
    this.#schema = options.schema;
    this.#migrate = options.migrate;
  }

  /** Directory of an instance (path only, nothing is created). */
  instanceDir(name: string): string {
    return join(this.root, validateInstanceName(name));
  }

  /** Path of an instance's lock file. */
  lockPath(name: string): string {
    return join(this.root, `.${validateInstanceName(name)}.lock`);
  }

  /** Creates the instance directory (and the root) with mode 0700, fixing the mode if it exists. */
  async ensureDir(name: string): Promise<string> {
    const dir = this.instanceDir(name);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    return dir;
  }

  /**
   * The instance's state, or undefined when it has none. Throws ProtocolError when the file is
   * not valid JSON, has the wrong shape, or was written by a newer schema version.
   */
  async read(name: string): Promise<T | undefined> {
    const file = join(this.instanceDir(name), STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch (error) {
      throw new ProtocolError(`state file ${file} is not valid JSON (torn or corrupt)`, {
        cause: error,
        hint: `inspect or remove ${file}`,
      });
    }
    const parsed = z
      .object({
        schemaVersion: z.number().int().positive(),
        data: z.record(z.string(), z.unknown()),
      })
      .safeParse(envelope);
    if (!parsed.success) {
      throw new ProtocolError(`state file ${file} does not hold { schemaVersion, data }`, {
        cause: parsed.error,
      });
    }
    const { schemaVersion, data } = parsed.data;
    if (schemaVersion > this.schemaVersion) {
      throw new ProtocolError(
        `state file ${file} has schema version ${schemaVersion}, newer than ${this.schemaVersion} which this version of @vms/${this.backend} understands`,
        { hint: 'upgrade @vms to manage this instance' },
      );
    }
    const current =
      schemaVersion < this.schemaVersion && this.#migrate
        ? this.#migrate(data, schemaVersion)
        : data;
    if (!this.#schema) return current as T;
    const checked = this.#schema.safeParse(current);
    if (!checked.success) {
      throw new ProtocolError(
        `state file ${file} has invalid data: ${checked.error.issues[0]?.message ?? ''}`,
        {
          cause: checked.error,
        },
      );
    }
    return checked.data;
  }

  /** Writes the instance's state atomically (creating its directory), as `{ schemaVersion, data }`. */
  async write(name: string, data: T): Promise<void> {
    const dir = await this.ensureDir(name);
    const body = `${JSON.stringify({ schemaVersion: this.schemaVersion, data }, null, 2)}\n`;
    await writeFileAtomic(join(dir, STATE_FILE), body, 0o600);
  }

  /** Removes the instance's directory and everything in it. Absent is fine. */
  async remove(name: string): Promise<void> {
    await rm(this.instanceDir(name), { recursive: true, force: true });
  }

  /** Names of the instances that have a state file, sorted. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    for (const name of await this.#instanceDirs()) {
      const file = await stat(join(this.root, name, STATE_FILE)).catch(() => undefined);
      if (file?.isFile()) names.push(name);
    }
    return names;
  }

  /**
   * Names of instance directories without a state file (sorted): what a create killed midway,
   * or a state file removed behind our back, leaves (an empty directory too).
   */
  async leftovers(): Promise<string[]> {
    const names: string[] = [];
    for (const name of await this.#instanceDirs()) {
      if (await stat(join(this.root, name, STATE_FILE)).catch(() => undefined)) continue;
      names.push(name);
    }
    return names;
  }

  /** Directories under the root named like instances, sorted; none when there is no root. */
  async #instanceDirs(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries
      .filter((e) => e.isDirectory() && INSTANCE_NAME_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** Takes the instance's cross-process lock (see `acquireLock`). */
  lock(name: string, options: LockOptions = {}): Promise<LockHandle> {
    return acquireLock(this.lockPath(name), {
      description: `lock of ${this.backend}:${name}`,
      ...options,
    });
  }
}
