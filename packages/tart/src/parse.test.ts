import { ProtocolError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { parseTartGet, parseTartIp, parseTartList, parseTartVersion } from './parse.js';

// Samples shaped like real tart output (Swift JSONEncoder .prettyPrinted: `"key" : value`,
// `\/` escapes, unstable key order, `[\n\n]` for an empty array).
const LIST_2_32 = `[
  {
    "Accessed" : "2026-05-12T09:14:03Z",
    "Disk" : 50,
    "Name" : "runner-1",
    "Running" : true,
    "Size" : 24,
    "Source" : "local",
    "State" : "running"
  },
  {
    "State" : "stopped",
    "Source" : "OCI",
    "Size" : 23,
    "Running" : false,
    "Name" : "ghcr.io\\/cirruslabs\\/macos-sequoia-base:latest",
    "Disk" : 50,
    "Accessed" : "2026-05-10T18:02:41Z"
  }
]
`;

// tart 2.15–2.30 had SizeOnDisk and no Accessed.
const LIST_2_20 = `[
  {
    "SizeOnDisk" : 20,
    "Name" : "old",
    "Source" : "local",
    "Disk" : 50,
    "State" : "suspended",
    "Size" : 50,
    "Running" : false
  }
]
`;

// tart 1.2–1.7: no State, only Running.
const LIST_1_5 = `[
  {
    "Running" : true,
    "Name" : "legacy",
    "Size" : 30,
    "Source" : "local"
  }
]
`;

const GET_DARWIN = `{
  "CPU" : 4,
  "Display" : "1024x768",
  "Disk" : 50,
  "DiskFormat" : "raw",
  "Memory" : 8192,
  "OS" : "darwin",
  "Running" : false,
  "Size" : "21.487",
  "State" : "suspended"
}
`;

describe('parseTartList', () => {
  it('reads current output with escaped slashes and any key order', () => {
    expect(parseTartList(LIST_2_32)).toEqual([
      {
        source: 'local',
        name: 'runner-1',
        state: 'running',
        diskGB: 50,
        sizeGB: 24,
        accessed: '2026-05-12T09:14:03Z',
      },
      {
        source: 'oci',
        name: 'ghcr.io/cirruslabs/macos-sequoia-base:latest',
        state: 'stopped',
        diskGB: 50,
        sizeGB: 23,
        accessed: '2026-05-10T18:02:41Z',
      },
    ]);
  });

  it('reads an empty list printed as [\\n\\n]', () => {
    expect(parseTartList('[\n\n]\n')).toEqual([]);
  });

  it('tolerates fields added and removed across versions', () => {
    expect(parseTartList(LIST_2_20)).toEqual([
      { source: 'local', name: 'old', state: 'suspended', diskGB: 50, sizeGB: 50 },
    ]);
    expect(parseTartList(LIST_1_5)).toEqual([
      { source: 'local', name: 'legacy', state: 'running', sizeGB: 30 },
    ]);
  });

  it('rejects malformed output with a ProtocolError quoting it', () => {
    expect(() => parseTartList('[{"Name" : "x", ')).toThrow(ProtocolError);
    expect(() => parseTartList('{"Name":"x"}')).toThrow(/expected a JSON array/);
    expect(() => parseTartList('[{"State":"running"}]')).toThrow(/no "Name"/);
    expect(() => parseTartList('[{"Name":"x","State":"exploded"}]')).toThrow(
      /unknown VM state "exploded"/,
    );
  });
});

describe('parseTartGet', () => {
  it('reads every field, Size as a string and Memory in MiB', () => {
    expect(parseTartGet(GET_DARWIN)).toEqual({
      state: 'suspended',
      os: 'darwin',
      cpus: 4,
      memoryMiB: 8192,
      diskGiB: 50,
      diskFormat: 'raw',
      sizeGB: 21.487,
      display: '1024x768',
    });
  });

  it('reads old output without OS, DiskFormat and State', () => {
    const old =
      '{\n  "Memory" : 4096,\n  "Running" : true,\n  "CPU" : 2,\n  "Disk" : 20,\n  "Size" : "3.000"\n}\n';
    expect(parseTartGet(old)).toEqual({
      state: 'running',
      cpus: 2,
      memoryMiB: 4096,
      diskGiB: 20,
      sizeGB: 3,
    });
  });

  it('rejects a non-object', () => {
    expect(() => parseTartGet('[\n\n]')).toThrow(ProtocolError);
    expect(() => parseTartGet('garbage')).toThrow(/output is not JSON/);
  });
});

describe('parseTartIp / parseTartVersion', () => {
  it('takes the address line', () => {
    expect(parseTartIp('192.168.64.5\n')).toBe('192.168.64.5');
    expect(parseTartIp('waiting...\n192.168.64.7\n')).toBe('192.168.64.7');
    expect(parseTartIp('')).toBeUndefined();
  });

  it('takes the first line of --version', () => {
    expect(parseTartVersion('2.32.1\n')).toBe('2.32.1');
    expect(parseTartVersion('SNAPSHOT\n')).toBe('SNAPSHOT');
    expect(parseTartVersion('')).toBeUndefined();
  });
});
