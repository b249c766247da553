import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidOptionsError, LockedError, ProtocolError } from './errors.js';
import { StateStore, vmsHome, writeFileAtomic } from './store.js';

let dir: string;
let counter = 0;
const freshRoot = () => join(dir, `root-${++counter}`);
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vms-store-'));
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface VmState {
  pid: number;
  disk: string;
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('vmsHome', () => {
  const saved = { VMS_HOME: process.env.VMS_HOME, XDG_STATE_HOME: process.env.XDG_STATE_HOME };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('prefers $VMS_HOME, then $XDG_STATE_HOME/vms, then ~/.local/state/vms', () => {
    process.env.VMS_HOME = '/custom/vms';
    process.env.XDG_STATE_HOME = '/xdg/state';
    expect(vmsHome()).toBe('/custom/vms');
    delete process.env.VMS_HOME;
    expect(vmsHome()).toBe('/xdg/state/vms');
    process.env.XDG_STATE_HOME = 'relative/is/ignored';
    expect(vmsHome()).toBe(join(homedir(), '.local', 'state', 'vms'));
  });
});

describe('StateStore', () => {
  it('roundtrips state with 0700 directories and a 0600 file', async () => {
    const store = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root: freshRoot() });
    expect(await store.read('web')).toBeUndefined();
    await store.write('web', { pid: 42, disk: '/x.qcow2' });
    expect(await store.read('web')).toEqual({ pid: 42, disk: '/x.qcow2' });
    expect(await mode(store.root)).toBe(0o700);
    expect(await mode(store.instanceDir('web'))).toBe(0o700);
    const file = join(store.instanceDir('web'), 'state.json');
    expect(await mode(file)).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      schemaVersion: 1,
      data: { pid: 42, disk: '/x.qcow2' },
    });
  });

  it('defaults its root to <vmsHome>/state/<backend>', () => {
    expect(new StateStore({ backend: 'linuxkit', schemaVersion: 1 }).root).toBe(
      join(vmsHome(), 'state', 'linuxkit'),
    );
  });

  it('ensureDir fixes the mode of an existing directory', async () => {
    const store = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root: freshRoot() });
    await mkdir(store.instanceDir('loose'), { recursive: true, mode: 0o755 });
    await store.ensureDir('loose');
    expect(await mode(store.instanceDir('loose'))).toBe(0o700);
  });

  it('rejects names that could escape the root, naming the field', async () => {
    const store = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root: freshRoot() });
    for (const name of ['../etc', 'a/b', '.hidden', '']) {
      const error = await store.write(name, { pid: 1, disk: '' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).field).toBe('name');
    }
  });

  it('validates its own options', () => {
    expect(() => new StateStore({ backend: 'Bad Name', schemaVersion: 1 })).toThrow(
      InvalidOptionsError,
    );
    expect(() => new StateStore({ backend: 'qemu', schemaVersion: 0 })).toThrow(
      InvalidOptionsError,
    );
  });

  it('refuses state from a newer schema version and torn or invalid files with ProtocolError', async () => {
    const root = freshRoot();
    await new StateStore<VmState>({ backend: 'qemu', schemaVersion: 3, root }).write('vm', {
      pid: 1,
      disk: 'd',
    });
    const older = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 2, root });
    const error = await older.read('vm').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toContain('schema version 3');

    const file = join(older.instanceDir('vm'), 'state.json');
    await writeFile(file, '{"schemaVersion":2,"data":{"pid":');
    await expect(older.read('vm')).rejects.toBeInstanceOf(ProtocolError);
    await writeFile(file, '{"version":2}');
    await expect(older.read('vm')).rejects.toBeInstanceOf(ProtocolError);
  });

  it('migrates older versions and validates data with the given schema', async () => {
    const root = freshRoot();
    await new StateStore<{ pid: number }>({ backend: 'qemu', schemaVersion: 1, root }).write('vm', {
      pid: 7,
    });
    const schema = z.object({ pid: z.number(), disk: z.string() });
    const v2 = new StateStore<VmState>({
      backend: 'qemu',
      schemaVersion: 2,
      root,
      schema,
      migrate: (data, from) => ({ ...(data as { pid: number }), disk: `migrated-from-${from}` }),
    });
    expect(await v2.read('vm')).toEqual({ pid: 7, disk: 'migrated-from-1' });
    const strict = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root, schema });
    await expect(strict.read('vm')).rejects.toBeInstanceOf(ProtocolError);
  });

  it('lists instances with a state file and removes them', async () => {
    const store = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root: freshRoot() });
    expect(await store.list()).toEqual([]);
    await store.write('b', { pid: 2, disk: '' });
    await store.write('a', { pid: 1, disk: '' });
    await store.ensureDir('no-state-yet');
    const lock = await store.lock('a');
    expect(await store.list()).toEqual(['a', 'b']);
    await store.remove('a');
    await store.remove('never-existed');
    expect(await store.list()).toEqual(['b']);
    expect(existsSync(store.instanceDir('a'))).toBe(false);
    // The lock lives outside the instance directory, so remove() does not drop it.
    expect(existsSync(store.lockPath('a'))).toBe(true);
    await lock.release();
  });

  it('locks per instance', async () => {
    const store = new StateStore<VmState>({ backend: 'qemu', schemaVersion: 1, root: freshRoot() });
    const lock = await store.lock('vm');
    await expect(store.lock('vm', { timeoutMs: 50 })).rejects.toBeInstanceOf(LockedError);
    const other = await store.lock('other-vm', { timeoutMs: 1000 });
    await Promise.all([lock.release(), other.release()]);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and sets the mode', async () => {
    const file = join(dir, 'atomic.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, new TextEncoder().encode('two'), 0o640);
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await mode(file)).toBe(0o640);
    expect((await readdir(dir)).filter((name) => name.startsWith('.atomic.txt.tmp-'))).toEqual([]);
  });

  it('cleans temp files left by a dead writer on the next write, keeping a live writer’s', async () => {
    const target = join(dir, 'leftover.json');
    const dead = join(dir, '.leftover.json.tmp-999999999-abc');
    const live = join(dir, `.leftover.json.tmp-${process.ppid}-def`);
    await writeFile(dead, 'half');
    await writeFile(live, 'in progress elsewhere');
    await writeFileAtomic(target, '{}');
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    await rm(live);
  });
});

/** The file holds one full state the writer wrote: `{ round, fill: <round % 10> × bytes }`. */
function expectComplete(text: string, bytes: number): void {
  const state = JSON.parse(text) as { round: number; fill: string };
  expect(state.fill.length).toBe(bytes);
  expect(state.fill).toBe(String(state.round % 10).repeat(bytes));
}

const writer = fileURLToPath(new URL('./__fixtures__/atomic-writer.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const hasBuild = existsSync(built);
if (!hasBuild)
  console.warn(`skipping the kill-while-writing test: ${built} is missing (run pnpm build first)`);

describe('writeFileAtomic under SIGKILL', () => {
  it.skipIf(!hasBuild)(
    'a writer killed at a random moment never leaves a torn file',
    { timeout: 120_000 },
    async () => {
      const file = join(dir, 'killed.json');
      const bytes = 2 * 1024 * 1024;
      const temps = async () =>
        (await readdir(dir)).filter((name) => name.startsWith('.killed.json.tmp-'));
      for (let round = 0; round < 6; round++) {
        const child = spawn(process.execPath, [writer, file, String(bytes)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        // Kill after a random number (1-4) of completed writes, somewhere inside the next one.
        // Meanwhile read the file over and over: a reader must never see a torn state either.
        const after = 1 + Math.floor(Math.random() * 4);
        let done = 0;
        let exitedEarly = false;
        const enough = new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (chunk: Buffer) => {
            done += chunk.toString().split('\n').length - 1;
            if (done >= after) resolve();
          });
          child.once('exit', (code) => {
            exitedEarly = true;
            reject(new Error(`writer exited early with ${code}`));
          });
        });
        enough.catch(() => {}); // awaited below; a failing read must not leave it unhandled
        while (done < after && !exitedEarly) {
          const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw error;
          });
          if (text !== undefined) {
            expectComplete(text, bytes);
          }
        }
        await enough;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;

        expectComplete(await readFile(file, 'utf8'), bytes);
        expect((await temps()).length).toBeLessThanOrEqual(1);
      }
      await writeFileAtomic(file, '{}');
      expect(await temps()).toEqual([]);
    },
  );
});
