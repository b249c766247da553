/** Parsing of HMP `info snapshots` (QEMU ≤ 8.2 and ≥ 9.0 table layouts). */
import type { SnapshotInfo } from '@vms/core';

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

export function parseSnapshotTable(text: string): SnapshotInfo[] {
  const out: SnapshotInfo[] = [];
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    // ID TAG SIZE UNIT DATE TIME CLOCK [ICOUNT]; the size holds a space ("744 KiB").
    const m =
      /^(\S+)\s+(\S+)\s+([\d.]+)\s+(B|KiB|MiB|GiB|TiB)\s+(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d)\s/.exec(
        raw,
      );
    if (!m) continue;
    const [, , tag, size, unit, date, time] = m;
    out.push({
      name: tag!,
      createdAt: new Date(`${date}T${time}`).toISOString(),
      sizeBytes: Math.round(Number(size) * (SIZE_UNITS[unit!] ?? 1)),
    });
  }
  return out;
}

/** Snapshot names HMP can take as one word. */
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
