import { describe, expect, it } from 'vitest';
import { CONTAINER_STATES, type ContainerDialect, mapState } from './dialect.js';
import { StreamDemuxer } from './http.js';
import {
  normaliseSignal,
  parseInspect,
  parseJsonOutput,
  parseSummary,
  parseVersion,
} from './parse.js';

// A real `docker inspect` document (Engine 20.10) in the shape the engines print, inline so the
// test does not depend on files outside the package.
const INSPECT = {
  Id: 'e7e1cc2d9e16',
  Created: '2026-11-23T07:56:34.705120318Z',
  Name: '/research-c1',
  State: {
    Status: 'exited',
    Running: false,
    Paused: false,
    ExitCode: 137,
    Error: '',
    OOMKilled: false,
  },
  Config: { Image: 'bb:latest', Labels: { 'dev.vms.managed': 'true' }, StopSignal: '15' },
  HostConfig: { NanoCpus: 1_500_000_000, Memory: 67_108_864 },
  NetworkSettings: {
    Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }], '53/udp': null },
    Networks: { bridge: { IPAddress: '172.17.0.2' }, other: { IPAddress: '10.0.0.5' } },
  },
};

describe('parsing engine JSON', () => {
  it('reads inspect: name without slash, state, labels, IPs from Networks, ports, resources', () => {
    const info = parseInspect(INSPECT);
    expect(info).toMatchObject({
      name: 'research-c1',
      status: 'exited',
      exitCode: 137,
      labels: { 'dev.vms.managed': 'true' },
      ips: ['172.17.0.2', '10.0.0.5'],
      ports: [{ hostIp: '127.0.0.1', hostPort: 32768, guestPort: 80, protocol: 'tcp' }],
      cpus: 1.5,
      memoryMiB: 64,
      stopSignal: 'SIGTERM',
      image: 'bb:latest',
    });
  });

  it('reads the list summary and podman 5-space JSON, with or without a trailing newline', () => {
    const s = parseSummary({
      Id: 'x',
      Names: ['/c1'],
      State: 'exited',
      Status: 'Exited (3) 2 minutes ago',
      Created: 1795429904,
      Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 32768, Type: 'tcp' }],
      Labels: {},
    });
    expect(s).toMatchObject({ name: 'c1', status: 'exited', exitCode: 3 });
    expect(s.ports[0]?.hostPort).toBe(32768);
    const podmanJson = `[\n     {\n          "Id": "a"\n     }\n]\n`;
    expect(parseJsonOutput(podmanJson)).toEqual([{ Id: 'a' }]);
    expect(parseJsonOutput('{"a":1}\n{"a":2}')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonOutput('')).toEqual([]);
  });

  it('maps docker and podman states, unknown words to broken', () => {
    const d = { states: CONTAINER_STATES } as ContainerDialect;
    expect(
      [
        'created',
        'configured',
        'initialized',
        'exited',
        'stopped',
        'running',
        'restarting',
        'paused',
        'dead',
        'removing',
        'weird',
      ].map((s) => mapState(d, s)),
    ).toEqual([
      'stopped',
      'stopped',
      'stopped',
      'stopped',
      'stopped',
      'running',
      'running',
      'suspended',
      'broken',
      'absent',
      'broken',
    ]);
    expect(normaliseSignal('SIGINT')).toBe('SIGINT');
    expect(normaliseSignal('quit')).toBe('SIGQUIT');
  });

  it('demultiplexes the engine stream across chunk boundaries', () => {
    const frame = (type: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const all = Buffer.concat([frame(1, 'out1'), frame(2, 'err'), frame(1, 'out2')]);
    const got: string[] = [];
    const demux = new StreamDemuxer((chunk, stream) => got.push(`${stream}:${chunk}`));
    for (let i = 0; i < all.length; i += 3) demux.push(all.subarray(i, i + 3));
    expect(got).toEqual(['stdout:out1', 'stderr:err', 'stdout:out2']);
  });
});

describe('version output of the CLIs users have', () => {
  it('docker 20.10 and 28 (`{{json .}}`), podman 4.3 and 5 (`--format json`)', () => {
    // docker 20.10.24 (Debian) CLI and engine, trimmed.
    expect(
      parseVersion({
        Client: { Version: '20.10.24+dfsg1', ApiVersion: '1.41', DefaultAPIVersion: '1.41' },
        Server: { Version: '20.10.24+dfsg1', ApiVersion: '1.41', MinAPIVersion: '1.12' },
      }),
    ).toEqual({ version: '20.10.24+dfsg1', apiVersion: '1.41', clientVersion: '20.10.24+dfsg1' });
    // docker 28.2 CLI against the 20.10 engine (it negotiates down to 1.41).
    expect(
      parseVersion({
        Client: { Version: '28.2.2', ApiVersion: '1.41', DefaultAPIVersion: '1.50' },
        Server: { Version: '20.10.24+dfsg1', ApiVersion: '1.41' },
      }),
    ).toMatchObject({ version: '20.10.24+dfsg1', clientVersion: '28.2.2' });
    // podman 4.3.1, local (no Server).
    expect(
      parseVersion({ Client: { APIVersion: '4.3.1', Version: '4.3.1', OsArch: 'linux/amd64' } }),
    ).toEqual({ version: '4.3.1', apiVersion: '4.3.1', clientVersion: '4.3.1' });
    // podman 5 remote: a Server block.
    expect(
      parseVersion({
        Client: { APIVersion: '5.4.2', Version: '5.4.2' },
        Server: { APIVersion: '5.4.0', Version: '5.4.0' },
      }),
    ).toEqual({ version: '5.4.0', apiVersion: '5.4.0', clientVersion: '5.4.2' });
  });

  it('reads a numeric StopSignal (podman 4 CLI inspect) and a named one (podman 5)', () => {
    expect(parseInspect({ Config: { StopSignal: 15 } }).stopSignal).toBe('SIGTERM');
    expect(parseInspect({ Config: { StopSignal: 'SIGQUIT' } }).stopSignal).toBe('SIGQUIT');
    expect(parseInspect({ Config: { StopSignal: 0 } }).stopSignal).toBeUndefined();
  });
});
