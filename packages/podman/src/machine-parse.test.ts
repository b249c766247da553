import { describe, expect, it } from 'vitest';
import { remoteCommand, shellQuote } from './machine.js';
import { parseMachineInspect, parseMachineList, parseMajorVersion } from './machine-parse.js';

// Shapes from the reference: podman 4.3.1 observed list output, 5.x inspect from the source.
const LIST_431 = `[
    {
        "Name": "research-m1",
        "Default": true,
        "Created": "2026-11-23T07:57:13.024098266Z",
        "Running": false,
        "Starting": false,
        "LastUp": "2026-11-23T07:57:13.024098266Z",
        "Stream": "custom",
        "VMType": "qemu",
        "CPUs": 2,
        "Memory": "2147483648",
        "DiskSize": "21474836480",
        "Port": 42079,
        "RemoteUsername": "core",
        "IdentityPath": "/home/user/.ssh/podman-machine-default"
    }
]`;

const INSPECT_5 = `[
     {
          "ConfigDir": { "Path": "/Users/alice/.config/containers/podman/machine/applehv" },
          "ConnectionInfo": { "PodmanSocket": { "Path": "/var/folders/xx/T/podman/podman-machine-default-api.sock" }, "PodmanPipe": null },
          "Created": "2026-05-01T10:00:00.123456+02:00",
          "LastUp": "2026-05-19T09:00:00.654321+02:00",
          "Name": "podman-machine-default",
          "Resources": { "CPUs": 6, "DiskSize": 100, "Memory": 2048, "USBs": [] },
          "SSHConfig": { "IdentityPath": "/Users/alice/.local/share/containers/podman/machine/machine", "Port": 53617, "RemoteUsername": "core" },
          "State": "running",
          "UserModeNetworking": true,
          "Rootful": false,
          "Rosetta": true
     }
]
`;

const INSPECT_4 = `[
     {
          "ConfigPath": { "Path": "/home/u/.config/containers/podman/machine/qemu/m4.json" },
          "Created": "2026-11-23T07:57:13.024098266Z",
          "Image": { "IgnitionFilePath": { "Path": "/x.ign" }, "ImageStream": "custom", "ImagePath": { "Path": "/img.qcow2" } },
          "LastUp": "2026-11-23T07:57:13.024098266Z",
          "Name": "m4",
          "Resources": { "CPUs": 1, "DiskSize": 10, "Memory": 1024 },
          "SSHConfig": { "IdentityPath": "/home/u/.ssh/m4", "Port": 42079, "RemoteUsername": "core" },
          "State": ""
     }
]
`;

describe('podman machine JSON', () => {
  it('parses 4.3.1 list output (byte-string sizes, no trailing newline)', () => {
    const [m] = parseMachineList(LIST_431);
    expect(m).toMatchObject({ name: 'research-m1', state: 'stopped' });
    expect(m?.properties).toMatchObject({
      cpus: 2,
      memoryMiB: 2048,
      diskGiB: 20,
      ssh: { port: 42079, user: 'core' },
    });
    expect(parseMachineList('[]')).toEqual([]);
  });

  it('parses the 5.x inspect shape (MiB/GiB numbers, ConfigDir, socket)', () => {
    const m = parseMachineInspect(INSPECT_5);
    expect(m?.state).toBe('running');
    expect(m?.properties).toMatchObject({
      cpus: 6,
      memoryMiB: 2048,
      diskGiB: 100,
      ssh: { host: '127.0.0.1', port: 53617 },
    });
    expect(m?.properties.extra).toMatchObject({
      podmanSocket: '/var/folders/xx/T/podman/podman-machine-default-api.sock',
      rosetta: true,
      userModeNetworking: true,
    });
  });

  it('parses the 4.x inspect shape, State "" meaning stopped', () => {
    const m = parseMachineInspect(INSPECT_4);
    expect(m?.state).toBe('stopped');
    expect(m?.properties).toMatchObject({ image: '/img.qcow2', memoryMiB: 1024 });
    expect(m?.properties.extra).toMatchObject({
      configPath: '/home/u/.config/containers/podman/machine/qemu/m4.json',
    });
  });

  it('maps unknown states to broken and rejects malformed JSON with PROTOCOL_ERROR', () => {
    expect(parseMachineInspect(INSPECT_5.replace('"running"', '"unknown"'))?.state).toBe('broken');
    expect(() => parseMachineInspect('[ {"Name": ')).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
  });

  it('reads the version', () => {
    expect(parseMajorVersion('podman version 5.8.2\n')).toEqual({ version: '5.8.2', major: 5 });
    expect(parseMajorVersion('podman version 4.3.1')?.major).toBe(4);
  });
});

describe('remote command quoting', () => {
  it('quotes words for the remote shell', () => {
    expect(shellQuote('plain-word_1.2')).toBe('plain-word_1.2');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
    expect(remoteCommand(['echo', 'a b'], { K: 'v w' }, '/tmp')).toBe(
      "cd /tmp && exec env 'K=v w' echo 'a b'",
    );
  });
});
