/**
 * What @vms keeps about a tart VM, next to tart's own storage, in core's StateStore: one 0700
 * directory per instance holding `state.json` (how the VM was made and the current `tart run`),
 * `exit.json` (how that run ended, written by the supervisor) and `run.log` (its output).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { StateStore, writeFileAtomic } from '@vms/core';
import * as z from '@vms/core/zod';
import { type ExitRecord, parseExitRecord, SUPERVISOR_SOURCE } from './supervisor.js';

const instanceRecordSchema = z.object({
  source: z.string(),
  labels: z.record(z.string(), z.string()),
  createdAt: z.string(),
});
export type InstanceRecord = z.infer<typeof instanceRecordSchema>;

const runRecordSchema = z.object({
  /** pid of the supervisor; its process group holds `tart run`. */
  pid: z.number().int(),
  argv: z.array(z.string()),
  startedAt: z.string(),
  /** Size of run.log when this run began: its output starts there. */
  logOffset: z.number().int().min(0),
  suspendable: z.boolean(),
  /** Set before @vms stops or suspends the VM, so that its exit is not taken for a crash. */
  stopRequested: z.boolean().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

const tartStateSchema = z.object({
  /** Present when @vms created the VM (it is "managed"). */
  instance: instanceRecordSchema.optional(),
  run: runRecordSchema.optional(),
});
export type TartState = z.infer<typeof tartStateSchema>;

export function createTartStore(root: string | undefined): StateStore<TartState> {
  return new StateStore<TartState>({
    backend: 'tart',
    schemaVersion: 1,
    schema: tartStateSchema,
    ...(root === undefined ? {} : { root }),
  });
}

export class InstanceFiles {
  readonly dir: string;
  readonly logFile: string;
  readonly exitFile: string;
  readonly supervisorFile: string;

  constructor(
    readonly store: StateStore<TartState>,
    readonly name: string,
  ) {
    this.dir = store.instanceDir(name);
    this.logFile = join(this.dir, 'run.log');
    this.exitFile = join(this.dir, 'exit.json');
    this.supervisorFile = join(this.dir, 'supervisor.mjs');
  }

  async ensureDir(): Promise<void> {
    await this.store.ensureDir(this.name);
  }

  /** Writes the supervisor script (current version) into the instance directory. */
  async writeSupervisor(): Promise<void> {
    await writeFileAtomic(this.supervisorFile, SUPERVISOR_SOURCE, 0o600);
  }

  async read(): Promise<TartState | undefined> {
    return this.store.read(this.name);
  }

  async writeInstance(instance: InstanceRecord): Promise<void> {
    await this.store.write(this.name, { ...(await this.read()), instance });
  }

  async readRun(): Promise<RunRecord | undefined> {
    return (await this.read())?.run;
  }

  async writeRun(run: RunRecord): Promise<void> {
    await this.store.write(this.name, { ...(await this.read()), run });
  }

  /** Marks the current run's coming exit as requested by us. */
  async markStopRequested(): Promise<void> {
    const state = await this.read();
    if (state?.run && !state.run.stopRequested) {
      await this.store.write(this.name, { ...state, run: { ...state.run, stopRequested: true } });
    }
  }

  readExit(): ExitRecord | undefined {
    try {
      return parseExitRecord(fs.readFileSync(this.exitFile, 'utf8'));
    } catch {
      return undefined;
    }
  }

  clearExit(): void {
    fs.rmSync(this.exitFile, { force: true });
  }

  logSize(): number {
    try {
      return fs.statSync(this.logFile).size;
    } catch {
      return 0;
    }
  }

  /** The last `maxBytes` of run.log written since `offset`. */
  readLog(offset = 0, maxBytes = 2048): string {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.logFile, 'r');
      const size = fs.fstatSync(fd).size;
      const start = Math.max(offset, size - maxBytes);
      const length = Math.max(0, size - start);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, start);
      return buffer.toString('utf8');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  async remove(): Promise<void> {
    await this.store.remove(this.name);
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function processAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An exited process nobody reaped (an orphan under a PID 1 that does not reap) is a zombie.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is the answer
  }
}
