/** Formatting for the page: durations, times, byte-free property summaries. */
import type { Properties } from '@vms/core';

/** 1234 → "1.2 s", 61000 → "1 min 1 s", 3 → "3 ms". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour12: false });
}

export function ports(p: Properties): string {
  return (p.ports ?? [])
    .map(
      (m) =>
        `${m.hostIp === '127.0.0.1' ? '' : `${m.hostIp}:`}${m.hostPort}→${m.guestPort}${m.protocol === 'udp' ? '/udp' : ''}`,
    )
    .join(', ');
}

export function addresses(p: Properties): string {
  const ips = p.ips?.length ? p.ips : p.ip ? [p.ip] : [];
  return ips.join(', ');
}

export function resources(p: Properties): string {
  const parts: string[] = [];
  if (p.cpus) parts.push(`${p.cpus} CPU`);
  if (p.memoryMiB)
    parts.push(
      p.memoryMiB >= 1024 ? `${(p.memoryMiB / 1024).toFixed(1)} GiB` : `${p.memoryMiB} MiB`,
    );
  if (p.diskGiB) parts.push(`${p.diskGiB} GiB disk`);
  return parts.join(' · ');
}

/** The CSS class of a state: settled states by name, transitional ones as "busy". */
export function stateClass(state: string): string {
  if (['running', 'stopped', 'suspended', 'broken', 'deleted'].includes(state))
    return `st-${state}`;
  return 'st-busy';
}
