/**
 * Process identity for daemonised QEMU: a PID is only ever signalled after /proc proves it is
 * our QEMU (one argument of its command line is exactly the instance's own pid file path, and
 * its start time matches the one recorded at launch), so a reused PID never hits another process.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), T, ... */
  state: string;
  /** Start time in clock ticks after boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const startTime = Number(rest[19]);
    if (!state || !Number.isFinite(startTime)) return undefined;
    return { state, startTime };
  } catch {
    return undefined;
  }
}

export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, all) => s !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

export interface Identity {
  pid: number;
  /**
   * An argument only our process has, compared with whole argv elements (QEMU's `-pidfile`
   * path: a plain argument, never escaped, unique per instance directory).
   */
  marker: string;
  /** Recorded at launch; when set it must match. */
  startTime?: number;
}

/** True when `pid` is alive (not a zombie) and is the process described by `identity`. */
export function isOurProcess(identity: Identity): boolean {
  const stat = readProcStat(identity.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  if (identity.startTime !== undefined && stat.startTime !== identity.startTime) return false;
  return readCmdline(identity.pid)?.includes(identity.marker) ?? false;
}

/** Live processes (not zombies, not this one) with their argv. Empty where there is no /proc. */
function* liveProcesses(): Generator<{ pid: number; argv: string[] }> {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const argv = readCmdline(pid);
    if (argv) yield { pid, argv };
  }
}

/**
 * Live processes (not zombies, not this one) whose argv satisfies `match`: how a QEMU is found
 * when no readable record names its PID (a corrupt or missing state file, an interrupted start).
 */
export function findProcesses(match: (argv: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const { pid, argv } of liveProcesses()) if (match(argv)) found.push(pid);
  return found;
}

/**
 * Live processes by which of `markers` they have as one whole argument, in one /proc scan
 * (markers no process has are absent from the map).
 */
export function processesByArgument(markers: readonly string[]): Map<string, number[]> {
  const wanted = new Set(markers);
  const found = new Map<string, number[]>();
  if (wanted.size === 0) return found;
  for (const { pid, argv } of liveProcesses()) {
    for (const arg of new Set(argv)) {
      if (wanted.has(arg)) found.set(arg, [...(found.get(arg) ?? []), pid]);
    }
  }
  return found;
}

/** Live processes with `marker` as one whole argument (see Identity.marker). */
export function processesWithArgument(marker: string): number[] {
  return findProcesses((argv) => argv.includes(marker));
}

/** Sends `signal` only when the PID is proven ours; returns whether it was sent. */
export function signalIfOurs(identity: Identity, signal: NodeJS.Signals): boolean {
  if (!isOurProcess(identity)) return false;
  try {
    process.kill(identity.pid, signal);
    return true;
  } catch {
    return false;
  }
}
