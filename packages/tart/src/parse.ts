/**
 * Tolerant parsing of tart's JSON output (`tart get --format json`, `tart list --format json`).
 *
 * tart prints Swift `JSONEncoder` output: pretty-printed, `\/` escapes, an empty array as
 * `[\n\n]`, and unstable key order. Fields come and go across versions (`State` since 1.8.0,
 * `Disk` since 2.6.1, `SizeOnDisk` 2.15.0–2.30.x, `Accessed` since 2.31.0, `OS` in `get` since
 * 2.8.0). Keys are matched case-insensitively, unknown keys are ignored, and only the fields the
 * driver cannot do without are required.
 */
import { ProtocolError } from '@vms/core';

export type TartState = 'running' | 'suspended' | 'stopped';

/** `tart get NAME --format json`. */
export interface TartVmDetails {
  state: TartState;
  /** "darwin" | "linux" (absent before tart 2.8.0). */
  os?: string;
  cpus?: number;
  memoryMiB?: number;
  diskGiB?: number;
  diskFormat?: string;
  /** Allocated size on disk, GB. */
  sizeGB?: number;
  display?: string;
}

/** One element of `tart list --format json`. */
export interface TartListEntry {
  source: 'local' | 'oci';
  name: string;
  state: TartState;
  diskGB?: number;
  sizeGB?: number;
  accessed?: string;
}

/** Parses `tart get NAME --format json`. Throws ProtocolError on anything that is not a VM object. */
export function parseTartGet(stdout: string): TartVmDetails {
  const obj = lowerKeys(parseJson(stdout, 'tart get'), 'tart get');
  return {
    state: stateOf(obj, 'tart get'),
    ...optional('os', str(obj.os)?.toLowerCase()),
    ...optional('cpus', num(obj.cpu)),
    ...optional('memoryMiB', num(obj.memory)),
    ...optional('diskGiB', num(obj.disk)),
    ...optional('diskFormat', str(obj.diskformat)),
    ...optional('sizeGB', num(obj.size)),
    ...optional('display', str(obj.display)),
  };
}

/** Parses `tart list --format json`. Entries without a name are a protocol error. */
export function parseTartList(stdout: string): TartListEntry[] {
  const value = parseJson(stdout, 'tart list');
  if (!Array.isArray(value)) throw protocol('tart list', 'expected a JSON array', stdout);
  return value.map((item) => {
    const obj = lowerKeys(item, 'tart list');
    const name = str(obj.name);
    if (!name) throw protocol('tart list', 'an entry has no "Name"', JSON.stringify(item));
    const source = str(obj.source)?.toLowerCase() === 'oci' ? 'oci' : 'local';
    return {
      source,
      name,
      state: stateOf(obj, 'tart list'),
      ...optional('diskGB', num(obj.disk)),
      ...optional('sizeGB', num(obj.size)),
      ...optional('accessed', str(obj.accessed)),
    } satisfies TartListEntry;
  });
}

/** The first line of `tart ip NAME` that looks like an address. */
export function parseTartIp(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    const candidate = line.trim();
    if (
      /^\d{1,3}(\.\d{1,3}){3}$/.test(candidate) ||
      /^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(candidate)
    ) {
      return candidate;
    }
  }
  return undefined;
}

/** `tart --version` → "2.32.1" (or "SNAPSHOT" for development builds). */
export function parseTartVersion(stdout: string): string | undefined {
  const first = stdout.trim().split('\n')[0]?.trim();
  return first ? first : undefined;
}

function parseJson(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch (error) {
    throw protocol(what, 'output is not JSON', stdout, error);
  }
}

function lowerKeys(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw protocol(what, 'expected a JSON object', JSON.stringify(value) ?? String(value));
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.toLowerCase()] = v;
  return out;
}

function stateOf(obj: Record<string, unknown>, what: string): TartState {
  const state = str(obj.state)?.toLowerCase();
  if (state === 'running' || state === 'suspended' || state === 'stopped') return state;
  // Before tart 1.8.0 only the boolean `Running` existed.
  if (typeof obj.running === 'boolean') return obj.running ? 'running' : 'stopped';
  throw protocol(
    what,
    `unknown VM state ${JSON.stringify(obj.state ?? null)}`,
    JSON.stringify(obj),
  );
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Numbers, or numeric strings (`tart get` prints `Size` as a string like "21.487"). */
function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function protocol(what: string, problem: string, text: string, cause?: unknown): ProtocolError {
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new ProtocolError(
    `unexpected output from ${what}: ${problem}: ${JSON.stringify(excerpt)}`,
    {
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
