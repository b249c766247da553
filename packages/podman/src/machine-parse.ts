/**
 * Parsing `podman machine list --format json` and `podman machine inspect` for podman 4.x and
 * 5.x (field names differ: ConfigPath/Image in 4.x, ConfigDir/ConnectionInfo/Rosetta in 5.x; list
 * sizes are byte strings, inspect sizes are MiB/GiB numbers; 4.3 reports State "" before the
 * first start). Unknown keys are ignored.
 */
import { type ObservedState, type Properties, ProtocolError } from '@vms/core';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const NEVER = '0001-01-01T00:00:00Z';

export interface MachineInfo {
  name: string;
  state: ObservedState;
  /** podman's own word: running, stopped, starting, unknown, "" (4.3: never started). */
  rawState: string;
  properties: Properties;
}

export function machineState(raw: string): ObservedState {
  switch (raw.toLowerCase()) {
    case 'running':
      return 'running';
    case 'starting':
      // Another process is starting it; treat as on its way up.
      return 'running';
    case '':
    case 'stopped':
      return 'stopped';
    default:
      return 'broken';
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text.trim() || '[]');
  } catch (cause) {
    throw new ProtocolError(`podman ${what} printed malformed JSON: ${text.trim().slice(0, 120)}`, {
      cause,
      hint: 'check `podman --version`; run the command by hand to see its output',
    });
  }
}

function sshOf(port: unknown, user: unknown): Properties['ssh'] | undefined {
  const p = num(port);
  if (!p) return undefined;
  return { host: '127.0.0.1', port: p, user: str(user) ?? 'core' };
}

/** `podman machine inspect NAME` → the machine (first element). */
export function parseMachineInspect(text: string): MachineInfo | undefined {
  const parsed = parseJson(text, 'machine inspect');
  if (!Array.isArray(parsed))
    throw new ProtocolError('podman machine inspect did not print a JSON array');
  if (!parsed.length) return undefined;
  const m = obj(parsed[0]);
  const resources = obj(m.Resources);
  const sshConfig = obj(m.SSHConfig);
  const rawState = typeof m.State === 'string' ? m.State : '';
  const properties: Properties = {};
  const cpus = num(resources.CPUs);
  if (cpus) properties.cpus = cpus;
  const memory = num(resources.Memory);
  if (memory) properties.memoryMiB = memory;
  const disk = num(resources.DiskSize);
  if (disk) properties.diskGiB = disk;
  const created = str(m.Created);
  if (created) properties.createdAt = created;
  const ssh = sshOf(sshConfig.Port, sshConfig.RemoteUsername);
  if (ssh) properties.ssh = ssh;
  const extra: Record<string, unknown> = {};
  const configDir = str(obj(m.ConfigDir).Path) ?? str(obj(m.ConfigPath).Path);
  if (configDir) extra.configPath = configDir;
  const socket = str(obj(obj(m.ConnectionInfo).PodmanSocket).Path);
  if (socket) extra.podmanSocket = socket;
  const imagePath = str(obj(obj(m.Image).ImagePath).Path);
  if (imagePath) {
    extra.imagePath = imagePath;
    properties.image = imagePath;
  }
  const identity = str(sshConfig.IdentityPath);
  if (identity) extra.identityPath = identity;
  for (const key of ['Rootful', 'UserModeNetworking', 'Rosetta'] as const) {
    if (typeof m[key] === 'boolean') extra[key[0]!.toLowerCase() + key.slice(1)] = m[key];
  }
  const lastUp = str(m.LastUp);
  if (lastUp && lastUp !== NEVER) extra.lastUp = lastUp;
  extra.state = rawState;
  properties.extra = extra;
  return { name: str(m.Name) ?? '', state: machineState(rawState), rawState, properties };
}

/** `podman machine list --format json` → every machine (no trailing newline; [] when none). */
export function parseMachineList(text: string): MachineInfo[] {
  const parsed = parseJson(text, 'machine list');
  if (!Array.isArray(parsed))
    throw new ProtocolError('podman machine list did not print a JSON array');
  return parsed.map((raw) => {
    const m = obj(raw);
    const rawState = m.Running === true ? 'running' : m.Starting === true ? 'starting' : 'stopped';
    const properties: Properties = {};
    const cpus = num(m.CPUs);
    if (cpus) properties.cpus = cpus;
    const memory = num(m.Memory);
    if (memory) properties.memoryMiB = Math.round(memory / 1024 / 1024);
    const disk = num(m.DiskSize);
    if (disk) properties.diskGiB = Math.round(disk / 1024 / 1024 / 1024);
    const created = str(m.Created);
    if (created) properties.createdAt = created;
    const ssh = sshOf(m.Port, m.RemoteUsername);
    if (ssh) properties.ssh = ssh;
    const extra: Record<string, unknown> = { state: rawState };
    if (typeof m.Default === 'boolean') extra.default = m.Default;
    const vmType = str(m.VMType);
    if (vmType) extra.vmType = vmType;
    properties.extra = extra;
    return { name: str(m.Name) ?? '', state: machineState(rawState), rawState, properties };
  });
}

/** "podman version 5.8.2" → 5 (undefined when unparsable). */
export function parseMajorVersion(text: string): { version: string; major: number } | undefined {
  const m = /version\s+(\d+)\.(\d+)\.(\d+)\S*/i.exec(text);
  if (!m) return undefined;
  return { version: m[0].replace(/^version\s+/i, ''), major: Number(m[1]) };
}
