/**
 * Tolerant parsing of the engines' JSON (docker 4-space, podman 5-space indent: JSON.parse does
 * not care) into `ContainerInfo`. Unknown keys are ignored; missing ones leave fields unset.
 */
import type { PortMapping } from '@vms/core';
import type { ContainerInfo, EngineVersion, ImageInfo } from './engine.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const labelsOf = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
};
const stripSlash = (name: string) => name.replace(/^\//, '');

/** `NetworkSettings.Ports` of inspect: `{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`. */
export function parseInspectPorts(ports: unknown): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(obj(ports))) {
    const [guest, proto] = key.split('/');
    if (!Array.isArray(bindings)) continue;
    for (const b of bindings) {
      const hostPort = Number(obj(b).HostPort);
      if (!hostPort) continue;
      out.push({
        hostIp: str(obj(b).HostIp) ?? '0.0.0.0',
        hostPort,
        guestPort: Number(guest),
        protocol: proto === 'udp' ? 'udp' : 'tcp',
      });
    }
  }
  return sortPorts(out);
}

function sortPorts(ports: PortMapping[]): PortMapping[] {
  return ports.sort((a, b) => a.guestPort - b.guestPort || a.hostPort - b.hostPort);
}

/** IPs from `NetworkSettings.Networks.*.IPAddress` (the top-level field is gone in API 1.52). */
export function parseIps(networkSettings: unknown): string[] {
  const ns = obj(networkSettings);
  const ips: string[] = [];
  for (const net of Object.values(obj(ns.Networks))) {
    const ip = str(obj(net).IPAddress);
    if (ip && !ips.includes(ip)) ips.push(ip);
  }
  const legacy = str(ns.IPAddress);
  if (legacy && !ips.includes(legacy)) ips.push(legacy);
  return ips;
}

/** One element of `docker inspect` / `podman inspect` / `GET /containers/{id}/json`. */
export function parseInspect(raw: unknown): ContainerInfo {
  const c = obj(raw);
  const state = obj(c.State);
  const config = obj(c.Config);
  const host = obj(c.HostConfig);
  const nanoCpus = num(host.NanoCpus);
  const memory = num(host.Memory);
  const info: ContainerInfo = {
    id: str(c.Id) ?? '',
    name: stripSlash(str(c.Name) ?? ''),
    status: (str(state.Status) ?? 'unknown').toLowerCase(),
    labels: labelsOf(config.Labels),
    ips: parseIps(c.NetworkSettings),
    ports: parseInspectPorts(obj(c.NetworkSettings).Ports),
  };
  const exitCode = num(state.ExitCode);
  if (exitCode !== undefined) info.exitCode = exitCode;
  const error = str(state.Error);
  if (error) info.error = error;
  if (state.OOMKilled === true) info.oomKilled = true;
  const image = str(c.ImageName) ?? str(config.Image);
  if (image) info.image = image;
  const created = str(c.Created);
  if (created) info.createdAt = created;
  if (nanoCpus) info.cpus = nanoCpus / 1e9;
  if (memory) info.memoryMiB = Math.round(memory / 1024 / 1024);
  // A name (docker, podman 5: "SIGTERM") or a number (podman 4's CLI inspect: 15).
  const stopSignal = str(config.StopSignal) ?? num(config.StopSignal)?.toString();
  if (stopSignal && stopSignal !== '0') info.stopSignal = normaliseSignal(stopSignal);
  return info;
}

/** An element of `GET /containers/json` (the API's list summary). */
export function parseSummary(raw: unknown): ContainerInfo {
  const c = obj(raw);
  const names = Array.isArray(c.Names)
    ? c.Names.filter((n): n is string => typeof n === 'string')
    : [];
  const ports: PortMapping[] = [];
  if (Array.isArray(c.Ports)) {
    for (const p of c.Ports) {
      const port = obj(p);
      const hostPort = num(port.PublicPort);
      const guestPort = num(port.PrivatePort);
      if (!hostPort || !guestPort) continue;
      ports.push({
        hostIp: str(port.IP) ?? '0.0.0.0',
        hostPort,
        guestPort,
        protocol: port.Type === 'udp' ? 'udp' : 'tcp',
      });
    }
  }
  const info: ContainerInfo = {
    id: str(c.Id) ?? '',
    name: stripSlash(names[0] ?? ''),
    status: (str(c.State) ?? 'unknown').toLowerCase(),
    labels: labelsOf(c.Labels),
    ips: parseIps(c.NetworkSettings),
    ports: sortPorts(ports),
  };
  const image = str(c.Image);
  if (image) info.image = image;
  const created = num(c.Created);
  if (created) info.createdAt = new Date(created * 1000).toISOString();
  const exit = /^Exited \((-?\d+)\)/.exec(str(c.Status) ?? '');
  if (exit) info.exitCode = Number(exit[1]);
  return info;
}

/** An element of `GET /images/json` or `docker image inspect`. */
export function parseImage(raw: unknown): ImageInfo {
  const i = obj(raw);
  const tags = Array.isArray(i.RepoTags)
    ? i.RepoTags.filter((t): t is string => typeof t === 'string')
    : [];
  const labels = labelsOf(i.Labels ?? obj(i.Config).Labels);
  const info: ImageInfo = { id: str(i.Id) ?? '', tags, labels };
  const created = i.Created;
  if (typeof created === 'number') info.createdAt = new Date(created * 1000).toISOString();
  else if (typeof created === 'string' && created) info.createdAt = created;
  const size = num(i.Size);
  if (size !== undefined) info.sizeBytes = size;
  return info;
}

/** "15" → "SIGTERM"-style names are kept; numbers are mapped for the common ones. */
export function normaliseSignal(signal: string): string {
  const byNumber: Record<string, string> = {
    '1': 'SIGHUP',
    '2': 'SIGINT',
    '3': 'SIGQUIT',
    '9': 'SIGKILL',
    '15': 'SIGTERM',
  };
  const s = signal.trim().toUpperCase();
  if (byNumber[s]) return byNumber[s];
  return s.startsWith('SIG') ? s : `SIG${s}`;
}

/** Parses a JSON array or JSON-lines output of a CLI, tolerating a trailing newline or none. */
export function parseJsonOutput(text: string): unknown[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith('[')) return JSON.parse(t) as unknown[];
  return t
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/**
 * `docker version --format '{{json .}}'` (docker 20.10 and 28: `Client.Version`,
 * `Server.Version`, `Server.ApiVersion`) or `podman version --format json` (4.x and 5.x:
 * `Client.Version`, `Client.APIVersion`; `Server` only when talking to a remote service).
 * docker 20.10 prints the literal word `json` for `--format json`: use the template.
 */
export function parseVersion(raw: unknown): EngineVersion {
  const v = obj(raw);
  const client = obj(v.Client);
  const server = obj(v.Server);
  const clientVersion = str(client.Version);
  const version = str(server.Version) ?? clientVersion ?? 'unknown';
  const apiVersion =
    str(server.ApiVersion) ??
    str(server.APIVersion) ??
    (Object.keys(server).length ? undefined : (str(client.APIVersion) ?? str(client.ApiVersion)));
  return {
    version,
    ...(apiVersion ? { apiVersion } : {}),
    ...(clientVersion ? { clientVersion } : {}),
  };
}
