/**
 * Parsing colima's output as each version prints it (shapes from abiosoft/colima app/app.go
 * statusInfo, limautil.InstanceInfo and the logrus text formatter), and the argv builders.
 */
import { createInstance } from '@vms/core';
import { describe, expect, it } from 'vitest';
import {
  colimaSshArgs,
  colimaStartArgs,
  colimaStatusArgs,
  createColima,
  parseColimaList,
  parseColimaStatusJson,
  parseColimaStatusText,
  parseColimaVersion,
} from '../index.js';
import { colimaOptionsSchema } from './options.js';

const opts = (o: Record<string, unknown> = {}) => colimaOptionsSchema.parse(o);

describe('parseColimaList', () => {
  it('reads JSON Lines, omitempty fields and all', () => {
    const out = [
      '{"name":"default","status":"Running","arch":"aarch64","cpus":2,"memory":2147483648,"disk":107374182400,"runtime":"docker"}',
      '{"name":"dev","status":"Stopped","arch":"x86_64","cpus":4,"memory":8589934592,"disk":64424509440}',
      '',
    ].join('\n');
    expect(parseColimaList(out)).toEqual([
      {
        name: 'default',
        status: 'Running',
        arch: 'aarch64',
        cpus: 2,
        memoryBytes: 2147483648,
        diskBytes: 107374182400,
        runtime: 'docker',
      },
      {
        name: 'dev',
        status: 'Stopped',
        arch: 'x86_64',
        cpus: 4,
        memoryBytes: 8589934592,
        diskBytes: 64424509440,
      },
    ]);
    expect(parseColimaList('')).toEqual([]);
  });

  it('is a PROTOCOL_ERROR quoting the bad line', () => {
    expect(() => parseColimaList('{"name":"x",\n')).toThrow(
      /unexpected output from colima list --json: output is not JSON Lines: "\{\\"name\\":\\"x\\","/,
    );
    expect(() => parseColimaList('[1]')).toThrow(/expected one JSON object per line/);
  });
});

describe('colima status', () => {
  it('0.8.1–0.8.2 JSON: every field, empty ones too', () => {
    const out =
      '{"display_name":"colima [profile=dev]","driver":"QEMU","arch":"x86_64","runtime":"docker","mount_type":"sshfs","ip_address":"","docker_socket":"unix:///Users/me/.colima/dev/docker.sock","kubernetes":false,"cpu":2,"memory":2147483648,"disk":107374182400}\n';
    expect(parseColimaStatusJson(out)).toEqual({
      displayName: 'colima [profile=dev]',
      driver: 'QEMU',
      arch: 'x86_64',
      runtime: 'docker',
      mountType: 'sshfs',
      dockerSocket: 'unix:///Users/me/.colima/dev/docker.sock',
      kubernetes: false,
      cpus: 2,
      memoryBytes: 2147483648,
      diskBytes: 107374182400,
    });
  });

  it('0.8.3+ JSON: omitempty, containerd socket too', () => {
    const out =
      '{"display_name":"colima","driver":"macOS Virtualization.Framework","arch":"aarch64","runtime":"containerd","mount_type":"virtiofs","containerd_socket":"unix:///Users/me/.colima/default/containerd.sock","buildkitd_socket":"unix:///Users/me/.colima/default/buildkitd.sock","kubernetes":true,"cpu":4,"memory":4294967296,"disk":107374182400}';
    expect(parseColimaStatusJson(out)).toMatchObject({
      runtime: 'containerd',
      containerdSocket: 'unix:///Users/me/.colima/default/containerd.sock',
      buildkitdSocket: 'unix:///Users/me/.colima/default/buildkitd.sock',
      kubernetes: true,
    });
    expect(parseColimaStatusJson(out).dockerSocket).toBeUndefined();
  });

  it('text (before 0.8.1: `socket:`; 0.8.3+: `docker socket:`)', () => {
    const old = [
      'time="2024-05-01T10:00:00+02:00" level=info msg="colima [profile=dev] is running using QEMU"',
      'time="2024-05-01T10:00:00+02:00" level=info msg="arch: x86_64"',
      'time="2024-05-01T10:00:00+02:00" level=info msg="runtime: docker"',
      'time="2024-05-01T10:00:00+02:00" level=info msg="mountType: sshfs"',
      'time="2024-05-01T10:00:00+02:00" level=info msg="socket: unix:///home/me/.colima/dev/docker.sock"',
    ].join('\n');
    expect(parseColimaStatusText(old)).toEqual({
      displayName: 'colima [profile=dev]',
      driver: 'QEMU',
      arch: 'x86_64',
      runtime: 'docker',
      mountType: 'sshfs',
      dockerSocket: 'unix:///home/me/.colima/dev/docker.sock',
    });
    const tty =
      'INFO[0000] docker socket: unix:///home/me/.colima/default/docker.sock\nINFO[0000] kubernetes: enabled';
    expect(parseColimaStatusText(tty)).toEqual({
      dockerSocket: 'unix:///home/me/.colima/default/docker.sock',
      kubernetes: true,
    });
  });

  it('asks for JSON from 0.8.1 on, for the text before', () => {
    expect(colimaStatusArgs('dev', '0.8.1')).toEqual(['status', '--profile', 'dev', '--json']);
    expect(colimaStatusArgs('dev', '0.8.0')).toEqual(['status', '--profile', 'dev', '--extended']);
  });
});

describe('parseColimaVersion', () => {
  it('reads release and Homebrew builds; a development build has none', () => {
    expect(parseColimaVersion('colima version v0.8.4\n')).toBe('0.8.4');
    expect(parseColimaVersion('colima version 0.6.10\ngit commit: abc\n')).toBe('0.6.10');
    expect(parseColimaVersion('colima version development\n')).toBeUndefined();
  });
});

describe('colimaStartArgs', () => {
  it('spells resources per version: --cpu before 0.8.2, --cpus after', () => {
    const o = opts({ cpus: 2, memoryMiB: 2048, diskGiB: 20 });
    expect(colimaStartArgs('dev', o, '0.8.4')).toEqual([
      'start',
      '--profile',
      'dev',
      '--runtime',
      'docker',
      '--cpus',
      '2',
      '--memory',
      '2',
      '--disk',
      '20',
      '--activate=false',
      '--ssh-config=false',
    ]);
    expect(colimaStartArgs('dev', o, '0.8.1')).toContain('--cpu');
    expect(colimaStartArgs('dev', o, '0.6.10')).not.toContain('--cpus');
  });

  it('fractional GiB of memory only from 0.8.1; incus/none only from 0.7.0', () => {
    expect(colimaStartArgs('dev', opts({ memoryMiB: 1536 }), '0.8.1')).toContain('1.5');
    expect(() => colimaStartArgs('dev', opts({ memoryMiB: 1536 }), '0.8.0')).toThrow(
      /invalid option memoryMiB: colima 0.8.0 takes whole GiB/,
    );
    expect(() => colimaStartArgs('dev', opts({ runtime: 'none' }), '0.6.10')).toThrow(
      /invalid option runtime: colima 0.6.10 has no runtime none/,
    );
  });

  it('mounts as location:mountPoint[:w], env as CSV-safe K=V, dns, kubernetes, extra args', () => {
    const args = colimaStartArgs(
      'dev',
      opts({
        mounts: [
          { source: '/src', target: '/work' },
          { source: '/data', target: '/data', readOnly: true },
        ],
        env: { A: '1', B: 'x,y' },
        dns: ['1.1.1.1'],
        kubernetes: true,
        runtime: 'containerd',
        startArgs: ['--very-verbose'],
      }),
    );
    expect(args).toEqual([
      'start',
      '--profile',
      'dev',
      '--runtime',
      'containerd',
      '--mount',
      '/src:/work:w',
      '--mount',
      '/data:/data',
      '--env',
      'A=1',
      '--env',
      '"B=x,y"',
      '--dns',
      '1.1.1.1',
      '--kubernetes',
      '--activate=false',
      '--ssh-config=false',
      '--very-verbose',
    ]);
  });
});

describe('colimaSshArgs', () => {
  it('wraps user, env and working directory around argv, after --', () => {
    expect(colimaSshArgs('dev', ['ls', '-l'])).toEqual([
      'ssh',
      '--profile',
      'dev',
      '--',
      'ls',
      '-l',
    ]);
    expect(colimaSshArgs('dev', ['pwd'], { cwd: '/tmp', env: { A: 'b c' }, user: 'root' })).toEqual(
      [
        'ssh',
        '--profile',
        'dev',
        '--',
        'sudo',
        '-n',
        '-u',
        'root',
        '--',
        'env',
        'A=b c',
        'sh',
        '-c',
        'cd -- "$1" || exit 126; shift; exec "$@"',
        'vms-exec',
        '/tmp',
        'pwd',
      ],
    );
  });
});

describe('colimaOptionsSchema', () => {
  it('rejects what colima cannot do, naming the field (ports: the capability core checks)', () => {
    // colima forwards every guest port itself: portForward is false, so core refuses `ports`.
    expect(() => createInstance(createColima(), 'p', { ports: [{ guest: 80 }] })).toThrow(
      expect.objectContaining({ code: 'CAPABILITY_UNSUPPORTED', capability: 'portForward' }),
    );
    expect(colimaOptionsSchema.safeParse({ diskGiB: 1.5 }).success).toBe(false);
    expect(colimaOptionsSchema.safeParse({ runtime: 'podman' }).success).toBe(false);
  });
});
