/**
 * Tolerant parsing of colima's output (abiosoft/colima 0.6–0.8):
 *
 * - `colima list --json`: JSON Lines, one `limautil.InstanceInfo` per profile (`name` is the
 *   profile's short name; omitempty fields vanish; `runtime` only while running).
 * - `colima status --json` (0.8.1+): one `statusInfo` object; 0.8.1–0.8.2 print every field,
 *   0.8.3+ omit empty ones and add containerd/buildkitd/incus sockets.
 * - `colima status` text (every version): logrus info lines on stderr, `socket: unix://…`
 *   (< 0.8.3) or `docker socket: unix://…` (0.8.3+).
 * - `colima --version`: `colima version v0.8.4` (release builds) or `0.8.4` (Homebrew).
 */
import {
  isObject,
  jsonLineObjects,
  num,
  opt,
  parseLogLines,
  protocolError,
  str,
} from '../parse.js';

export interface ColimaInstance {
  /** The profile name (`default` for colima's default profile). */
  name: string;
  /** Lima's status word: Running, Stopped, Broken. */
  status: string;
  arch?: string;
  cpus?: number;
  memoryBytes?: number;
  diskBytes?: number;
  /** The VM's reachable address (`--network-address`, macOS). */
  address?: string;
  /** docker, containerd, incus, none (+k3s), only while running. */
  runtime?: string;
}

export interface ColimaStatus {
  displayName?: string;
  driver?: string;
  arch?: string;
  runtime?: string;
  mountType?: string;
  ipAddress?: string;
  dockerSocket?: string;
  containerdSocket?: string;
  buildkitdSocket?: string;
  incusSocket?: string;
  kubernetes?: boolean;
  cpus?: number;
  memoryBytes?: number;
  diskBytes?: number;
}

export function parseColimaList(stdout: string): ColimaInstance[] {
  return jsonLineObjects(stdout, 'colima list --json').map(({ value, text }) => {
    const name = str(value.name);
    if (!name) throw protocolError('colima list --json', 'a profile has no "name"', text);
    return {
      name,
      status: str(value.status) ?? '',
      ...opt('arch', str(value.arch)),
      ...opt('cpus', num(value.cpus)),
      ...opt('memoryBytes', num(value.memory)),
      ...opt('diskBytes', num(value.disk)),
      ...opt('address', str(value.address)),
      ...opt('runtime', str(value.runtime)),
    };
  });
}

const STATUS = 'colima status --json';

export function parseColimaStatusJson(stdout: string): ColimaStatus {
  let value: unknown;
  try {
    value = JSON.parse(stdout.trim());
  } catch (error) {
    throw protocolError(STATUS, 'output is not JSON', stdout, error);
  }
  if (!isObject(value)) throw protocolError(STATUS, 'expected a JSON object', stdout);
  return {
    ...opt('displayName', str(value.display_name)),
    ...opt('driver', str(value.driver)),
    ...opt('arch', str(value.arch)),
    ...opt('runtime', str(value.runtime)),
    ...opt('mountType', str(value.mount_type)),
    ...opt('ipAddress', str(value.ip_address)),
    ...opt('dockerSocket', str(value.docker_socket)),
    ...opt('containerdSocket', str(value.containerd_socket)),
    ...opt('buildkitdSocket', str(value.buildkitd_socket)),
    ...opt('incusSocket', str(value.incus_socket)),
    ...opt('kubernetes', typeof value.kubernetes === 'boolean' ? value.kubernetes : undefined),
    ...opt('cpus', num(value.cpu)),
    ...opt('memoryBytes', num(value.memory)),
    ...opt('diskBytes', num(value.disk)),
  };
}

const TEXT_FIELDS: Record<string, keyof ColimaStatus> = {
  arch: 'arch',
  runtime: 'runtime',
  mountType: 'mountType',
  address: 'ipAddress',
  socket: 'dockerSocket',
  'docker socket': 'dockerSocket',
  'containerd socket': 'containerdSocket',
  'buildkitd socket': 'buildkitdSocket',
  'incus socket': 'incusSocket',
};

/** `colima status` before 0.8.1: the info lines it logs. */
export function parseColimaStatusText(stderr: string): ColimaStatus {
  const status: ColimaStatus = {};
  for (const { level, msg } of parseLogLines(stderr)) {
    if (level !== 'info') continue;
    const running = /^(.*) is running using (.+)$/.exec(msg);
    if (running) {
      status.displayName = running[1] as string;
      status.driver = running[2] as string;
      continue;
    }
    if (msg === 'kubernetes: enabled') {
      status.kubernetes = true;
      continue;
    }
    const field = /^([a-zA-Z ]+): (.+)$/.exec(msg);
    const key = field ? TEXT_FIELDS[field[1] as string] : undefined;
    if (field && key) (status as Record<string, unknown>)[key] = (field[2] as string).trim();
  }
  return status;
}

/** `colima version v0.8.4`, `colima version 0.8.4` → "0.8.4"; a development build → undefined. */
export function parseColimaVersion(stdout: string): string | undefined {
  return /version\s+v?([0-9][^\s]*)/.exec(stdout)?.[1];
}
