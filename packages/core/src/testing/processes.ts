/**
 * Finding processes a test left behind (Linux /proc): a fake tool's daemons, a VM monitor, an
 * exec's children. Zombies are not counted: they are gone, only not yet reaped (PID 1 in a
 * container often never reaps orphans).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Live (non-zombie) processes, other than this one, whose command line or environment contains
 * `text` (e.g. a test's temporary directory). Empty where there is no /proc.
 */
export function processesMentioning(text: string): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = readProcFile(pid, 'stat');
    if (!stat || stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
    if (readProcFile(pid, 'cmdline').includes(text) || readProcFile(pid, 'environ').includes(text))
      out.push(pid);
  }
  return out;
}

/**
 * Live processes on this host whose command line (arguments joined by spaces) contains `text`:
 * what a fake tool's "guest" runs, for a conformance observer's `processes`.
 */
export function processesRunning(text: string): number[] {
  return processesMentioning(text).filter((pid) =>
    readProcFile(pid, 'cmdline').replaceAll('\0', ' ').includes(text),
  );
}

/** `/proc/PID/FILE` as text; empty when the process is gone or the file is not readable. */
export function readProcFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** SIGKILLs every process whose command line or environment contains `text`; returns their pids. */
export function killProcessesMentioning(text: string): number[] {
  const pids = processesMentioning(text);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pids;
}
