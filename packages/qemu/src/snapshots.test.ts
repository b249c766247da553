import { describe, expect, it } from 'vitest';
import { parseSnapshotTable } from './snapshots.js';

describe('info snapshots parsing', () => {
  it('reads the QEMU 7.2 table (size with a space, empty ICOUNT)', () => {
    const text =
      'List of snapshots present on all disks:\r\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n--        snap1             744 KiB 2026-11-23 07:55:59 00:00:07.652           \r\n--        snap2            83.2 MiB 2026-11-23 07:56:01 00:00:09.001           \r\n';
    const list = parseSnapshotTable(text);
    expect(list.map((s) => s.name)).toEqual(['snap1', 'snap2']);
    expect(list[0]?.sizeBytes).toBe(744 * 1024);
    expect(list[1]?.sizeBytes).toBe(Math.round(83.2 * 1024 * 1024));
    expect(list[0]?.createdAt).toBe(new Date('2026-11-23T07:55:59').toISOString());
  });

  it('reads the QEMU ≥ 9.0 and qemu-img layouts, and "no snapshots"', () => {
    const v9 =
      'ID      TAG               VM_SIZE                DATE        VM_CLOCK     ICOUNT\n--      ready              83 MiB 2026-11-23 07:55:59  0000:00:07.652         --\n';
    expect(parseSnapshotTable(v9).map((s) => s.name)).toEqual(['ready']);
    const img =
      'Snapshot list:\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\n1         off                 0 B 2026-11-23 08:00:00 00:00:00.000          0\n';
    expect(parseSnapshotTable(img)).toMatchObject([{ name: 'off', sizeBytes: 0 }]);
    expect(parseSnapshotTable('There is no snapshot available.\n')).toEqual([]);
  });
});
