/**
 * Tolerant parsing of limactl output.
 *
 * - `limactl list --json`: JSON Lines, one compact object per instance (omitempty fields vanish;
 *   v1.x had a top-level `cpuType`; v2 appends deprecated capitalised globals such as `LimaHome`).
 * - diagnostics: logrus on stderr, text (`time="…" level=fatal msg="…"`), TTY (`FATA[0000] …`) or
 *   JSON (`{"level":"fatal","msg":"…"}`); names quoted `"x"` (≤ v2.1.1) or `` `x` `` (newer).
 * - `limactl snapshot list`: QEMU's snapshot table without its first heading line.
 */
import { ProtocolError } from '@vms/core';

export type LimaStatus = 'Running' | 'Stopped' | 'Broken' | string;

export interface LimaInstance {
  name: string;
  status: LimaStatus;
  dir?: string;
  vmType?: string;
  arch?: string;
  cpus?: number;
  memoryBytes?: number;
  diskBytes?: number;
  sshLocalPort?: number;
  sshAddress?: string;
  sshConfigFile?: string;
  hostAgentPid?: number;
  driverPid?: number;
  errors: string[];
  message?: string;
  limaVersion?: string;
  /** Socket forwards of the filled lima.yaml (`config.portForwards`), host paths expanded. */
  socketForwards: Array<{ guestSocket: string; hostSocket: string }>;
  /** From the filled lima.yaml (`config`). */
  os?: string;
  image?: string;
  user?: string;
}

const LIST = 'limactl list --json';

/** Parses `limactl list --json [NAME...]`. Blank lines are skipped; a broken line is a ProtocolError. */
export function parseLimaList(stdout: string): LimaInstance[] {
  return jsonLineObjects(stdout, LIST).map(({ value, text }) => toInstance(value, text));
}

/**
 * The objects of JSON Lines output (one object a line; blank lines skipped), each with its line
 * for error messages. A line that is not a JSON object is a ProtocolError naming `command`.
 */
export function jsonLineObjects(
  stdout: string,
  command: string,
): Array<{ value: Record<string, unknown>; text: string }> {
  const out: Array<{ value: Record<string, unknown>; text: string }> = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw protocolError(command, 'output is not JSON Lines', text, error);
    }
    if (!isObject(value)) throw protocolError(command, 'expected one JSON object per line', text);
    out.push({ value, text });
  }
  return out;
}

function toInstance(obj: Record<string, unknown>, text: string): LimaInstance {
  const name = str(obj.name);
  if (!name) throw protocolError(LIST, 'an instance has no "name"', text);
  const config = isObject(obj.config) ? obj.config : {};
  const images = Array.isArray(config.images) ? config.images : [];
  const firstImage = isObject(images[0]) ? str(images[0].location) : undefined;
  const user = isObject(config.user) ? str(config.user.name) : undefined;
  const socketForwards = (Array.isArray(config.portForwards) ? config.portForwards : []).flatMap(
    (rule: unknown) => {
      if (!isObject(rule)) return [];
      const guestSocket = str(rule.guestSocket);
      const hostSocket = str(rule.hostSocket);
      return guestSocket && hostSocket ? [{ guestSocket, hostSocket }] : [];
    },
  );
  const errors = Array.isArray(obj.errors)
    ? obj.errors.filter((e): e is string => typeof e === 'string')
    : [];
  return {
    name,
    status: str(obj.status) ?? '',
    errors,
    socketForwards,
    ...opt('dir', str(obj.dir)),
    ...opt('vmType', str(obj.vmType) ?? str(config.vmType)),
    ...opt('arch', str(obj.arch)),
    ...opt('cpus', num(obj.cpus)),
    ...opt('memoryBytes', num(obj.memory)),
    ...opt('diskBytes', num(obj.disk)),
    ...opt('sshLocalPort', num(obj.sshLocalPort)),
    ...opt('sshAddress', str(obj.sshAddress)),
    ...opt('sshConfigFile', str(obj.sshConfigFile)),
    ...opt('hostAgentPid', num(obj.hostAgentPID)),
    ...opt('driverPid', num(obj.driverPID)),
    ...opt('message', str(obj.message)),
    ...opt('limaVersion', str(obj.limaVersion)),
    ...opt('os', str(config.os)),
    ...opt('image', firstImage),
    ...opt('user', user),
  };
}

/** `limactl version 2.2.0` → "2.2.0". */
export function parseLimaVersion(stdout: string): string | undefined {
  return /version\s+v?([0-9][^\s]*)/.exec(stdout)?.[1];
}

/** Compares dotted versions numerically ("1.10.0" > "1.9.2"); pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .split(/[.-]/)
      .slice(0, 3)
      .map((p) => Number.parseInt(p, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface LogLine {
  level: string;
  msg: string;
}

/**
 * Parses logrus diagnostics in any of lima's formats. Lines that are not log lines (output of
 * scp/ssh, the guest) are returned with level "".
 */
export function parseLogLines(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const text = /\blevel=(\w+)\s+msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    if (text) {
      out.push({ level: text[1]!, msg: unquote(text[2]!) });
      continue;
    }
    const tty = /^(FATA|ERRO|WARN|INFO|DEBU)\[\d+\]\s+(.*)$/.exec(line);
    if (tty) {
      const levels: Record<string, string> = {
        FATA: 'fatal',
        ERRO: 'error',
        WARN: 'warning',
        INFO: 'info',
        DEBU: 'debug',
      };
      out.push({ level: levels[tty[1]!]!, msg: tty[2]! });
      continue;
    }
    if (line.startsWith('{')) {
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        if (typeof obj.level === 'string' && typeof obj.msg === 'string') {
          out.push({ level: obj.level, msg: obj.msg });
          continue;
        }
      } catch {
        // not JSON: fall through
      }
    }
    out.push({ level: '', msg: line });
  }
  return out;
}

/** The message of the last fatal (or error) log line, if any. */
export function fatalMessage(stderr: string): string | undefined {
  const lines = parseLogLines(stderr);
  const fatal = lines.filter((l) => l.level === 'fatal' || l.level === 'error');
  return fatal[fatal.length - 1]?.msg;
}

export interface LimaSnapshot {
  tag: string;
  createdAt?: string;
}

/** Parses `limactl snapshot list NAME` (QEMU ≤ 8.2 and ≥ 9.0 table layouts). */
export function parseSnapshotList(stdout: string): LimaSnapshot[] {
  const out: LimaSnapshot[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (
      !line.trim() ||
      /^\s*ID\s+TAG\b/.test(line) ||
      /^Snapshot list:|^List of snapshots|no snapshot/i.test(line)
    ) {
      continue;
    }
    const tokens = line.trim().split(/\s+/);
    const tag = tokens[1];
    if (!tag) continue;
    const date = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})/.exec(line);
    out.push({ tag, ...(date ? { createdAt: `${date[1]}T${date[2]}` } : {}) });
  }
  return out;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value.slice(1, -1);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** `unexpected output from COMMAND: PROBLEM: "<the output, cut at 200 characters>"`. */
export function protocolError(
  command: string,
  problem: string,
  text: string,
  cause?: unknown,
): ProtocolError {
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new ProtocolError(
    `unexpected output from ${command}: ${problem}: ${JSON.stringify(excerpt)}`,
    cause === undefined ? {} : { cause },
  );
}
