/**
 * The supervisor of a `tart run` process: a few lines of Node, written next to the instance's
 * state as `supervisor.mjs` and run detached (`node supervisor.mjs EXIT_FILE tart run NAME ...`).
 * It outlives the process
 * that started the VM and records how `tart run` ended in EXIT_FILE (atomically), so any later
 * process can tell a crash from a requested stop and show its exit code and output.
 *
 * It ignores the signals tart uses for control (they are meant for `tart run`, which gets them
 * through the process group or by pid) and exits when `tart run` exits.
 */

export interface ExitRecord {
  exitCode?: number;
  signal?: string;
  /** Set when `tart run` could not be started at all (e.g. ENOENT). */
  error?: string;
  endedAt: string;
}

/** The supervisor's source (an ES module). */
export const SUPERVISOR_SOURCE = `
import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
const [exitFile, ...cmd] = process.argv.slice(2);
const record = (data) => {
  const tmp = exitFile + '.' + process.pid + '.tmp';
  writeFileSync(tmp, JSON.stringify({ ...data, endedAt: new Date().toISOString() }));
  renameSync(tmp, exitFile);
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) process.on(s, () => {});
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (e) => {
  record({ exitCode: 127, error: e.code === 'ENOENT' ? 'command not found: ' + cmd[0] : String(e.message) });
  process.exit(127);
});
child.on('exit', (code, signal) => {
  record(code === null ? { signal } : { exitCode: code });
  process.exit(code ?? 1);
});
`;

/** The argv that runs `command` under the supervisor at `script`, recording its exit in `exitFile`. */
export function supervisedArgv(script: string, exitFile: string, command: string[]): string[] {
  return [process.execPath, script, exitFile, ...command];
}

/** Parses an exit record; undefined when absent or unreadable (the supervisor was killed). */
export function parseExitRecord(text: string | undefined): ExitRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || typeof value.endedAt !== 'string')
      return undefined;
    return {
      endedAt: value.endedAt,
      ...(typeof value.exitCode === 'number' ? { exitCode: value.exitCode } : {}),
      ...(typeof value.signal === 'string' ? { signal: value.signal } : {}),
      ...(typeof value.error === 'string' ? { error: value.error } : {}),
    };
  } catch {
    return undefined;
  }
}

/** "exit code 1" / "signal SIGKILL" / the start error. */
export function describeExit(exit: ExitRecord): string {
  if (exit.error) return exit.error;
  if (exit.signal) return `signal ${exit.signal}`;
  return `exit code ${exit.exitCode ?? '?'}`;
}
