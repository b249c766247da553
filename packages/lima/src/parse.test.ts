import { ProtocolError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  fatalMessage,
  parseLimaList,
  parseLimaVersion,
  parseLogLines,
  parseSnapshotList,
} from './parse.js';

// Shaped like `limactl list --json` of lima 2.2.0 (reference sample, config abbreviated).
const RUNNING =
  '{"name":"dev","hostname":"lima-dev","status":"Running","dir":"/home/alice/.lima/dev","vmType":"qemu","arch":"x86_64","cpus":4,"memory":4294967296,"disk":107374182400,"sshLocalPort":41235,"sshConfigFile":"/home/alice/.lima/dev/ssh.config","hostAgentPID":21344,"driverPID":21371,"config":{"vmType":"qemu","os":"Linux","arch":"x86_64","images":[{"location":"https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img","arch":"x86_64"}],"cpus":4,"memory":"4GiB","disk":"100GiB","user":{"name":"alice","home":"/home/alice.linux","uid":1000}},"sshAddress":"127.0.0.1","protected":false,"limaVersion":"2.2.0","HostOS":"linux","HostArch":"x86_64","LimaHome":"/home/alice/.lima","IdentityFile":"/home/alice/.lima/_config/user"}';
const BROKEN =
  '{"name":"probe","hostname":"lima-probe","status":"Broken","dir":"/home/alice/.lima/probe","vmType":"vz","arch":"aarch64","sshConfigFile":"/home/alice/.lima/probe/ssh.config","hostAgentPID":5000,"errors":["host agent is running but driver is not"],"config":{},"sshAddress":"127.0.0.1","protected":false,"limaVersion":""}';
// lima 1.x: a top-level cpuType, no sshAddress.
const V1_STOPPED =
  '{"name":"old","status":"Stopped","dir":"/Users/bob/.lima/old","vmType":"vz","arch":"aarch64","cpuType":"cortex-a72","cpus":2,"memory":2147483648,"disk":64424509440,"config":{"os":"Linux"},"protected":false,"limaVersion":"1.0.7"}';

describe('parseLimaList', () => {
  it('reads the socket forwards of the filled config (lima expands hostSocket templates)', () => {
    // The docker template's rule as `limactl list --json` prints it: {{.Dir}} and {{.UID}} expanded.
    const docker =
      '{"name":"docker","status":"Running","dir":"/Users/alice/.lima/docker","config":{"portForwards":[{"guestPort":22,"hostPort":0},{"guestSocket":"/run/user/501/docker.sock","hostSocket":"/Users/alice/.lima/docker/sock/docker.sock","proto":"tcp"}]}}';
    expect(parseLimaList(docker)[0]?.socketForwards).toEqual([
      {
        guestSocket: '/run/user/501/docker.sock',
        hostSocket: '/Users/alice/.lima/docker/sock/docker.sock',
      },
    ]);
  });

  it('reads JSON Lines, one instance per line, ignoring unknown and capitalised global keys', () => {
    const list = parseLimaList(`${RUNNING}\n${BROKEN}\n${V1_STOPPED}\n`);
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual({
      name: 'dev',
      status: 'Running',
      dir: '/home/alice/.lima/dev',
      vmType: 'qemu',
      arch: 'x86_64',
      cpus: 4,
      memoryBytes: 4294967296,
      diskBytes: 107374182400,
      sshLocalPort: 41235,
      sshAddress: '127.0.0.1',
      sshConfigFile: '/home/alice/.lima/dev/ssh.config',
      hostAgentPid: 21344,
      driverPid: 21371,
      errors: [],
      socketForwards: [],
      limaVersion: '2.2.0',
      os: 'Linux',
      image:
        'https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img',
      user: 'alice',
    });
    expect(list[1]).toMatchObject({
      name: 'probe',
      status: 'Broken',
      errors: ['host agent is running but driver is not'],
      hostAgentPid: 5000,
    });
    expect(list[1]).not.toHaveProperty('limaVersion'); // "" counts as absent
    expect(list[2]).toMatchObject({
      name: 'old',
      status: 'Stopped',
      cpus: 2,
      memoryBytes: 2147483648,
    });
    expect(list[2]).not.toHaveProperty('sshLocalPort');
  });

  it('reads empty output (no instances) as an empty list', () => {
    expect(parseLimaList('')).toEqual([]);
    expect(parseLimaList('\n')).toEqual([]);
  });

  it('rejects broken lines with a ProtocolError', () => {
    expect(() => parseLimaList('{"name":"x","status":\n')).toThrow(ProtocolError);
    expect(() => parseLimaList('[1,2]\n')).toThrow(/one JSON object per line/);
    expect(() => parseLimaList('{"status":"Running"}\n')).toThrow(/no "name"/);
  });
});

describe('logrus diagnostics', () => {
  const TEXT = [
    'time="2026-08-21T10:00:00+09:00" level=info msg="Terminal is not available, proceeding without opening an editor"',
    'time="2026-08-21T10:00:00+09:00" level=fatal msg="instance `dev` already exists"',
  ].join('\n');

  it('reads the text format, with both quoting styles', () => {
    expect(parseLogLines(TEXT)).toEqual([
      { level: 'info', msg: 'Terminal is not available, proceeding without opening an editor' },
      { level: 'fatal', msg: 'instance `dev` already exists' },
    ]);
    expect(fatalMessage('time="t" level=fatal msg="instance \\"dev\\" already exists"\n')).toBe(
      'instance "dev" already exists',
    );
  });

  it('reads the TTY and JSON formats', () => {
    expect(fatalMessage('FATA[0000] expected status `Running`, got `Stopped`\n')).toBe(
      'expected status `Running`, got `Stopped`',
    );
    expect(fatalMessage('{"level":"fatal","msg":"unmatched instances","time":"t"}\n')).toBe(
      'unmatched instances',
    );
  });

  it('keeps other lines (ssh, the guest) with an empty level', () => {
    expect(parseLogLines('scp: /x: No such file or directory\n')).toEqual([
      { level: '', msg: 'scp: /x: No such file or directory' },
    ]);
    expect(fatalMessage('just output\n')).toBeUndefined();
  });
});

describe('parseSnapshotList', () => {
  it('reads the QEMU <= 8.2 table (VM SIZE has a space)', () => {
    const out = [
      'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT',
      '--        snap1             744 KiB 2026-11-23 07:55:59 00:00:07.652           ',
      '2         before-upgrade        0 B 2026-11-23 08:00:00 00:00:00.000          0',
    ].join('\r\n');
    expect(parseSnapshotList(out)).toEqual([
      { tag: 'snap1', createdAt: '2026-11-23T07:55:59' },
      { tag: 'before-upgrade', createdAt: '2026-11-23T08:00:00' },
    ]);
  });

  it('reads the QEMU >= 9.0 table and empty output', () => {
    const out =
      'ID      TAG               VM_SIZE                DATE        VM_CLOCK     ICOUNT\n' +
      '1       s1                   0 B 2026-11-23 08:00:00  0000:00:00.000         --\n';
    expect(parseSnapshotList(out)).toEqual([{ tag: 's1', createdAt: '2026-11-23T08:00:00' }]);
    expect(parseSnapshotList('')).toEqual([]);
    expect(parseSnapshotList('There is no snapshot available.\r\n')).toEqual([]);
  });
});

describe('versions', () => {
  it('parses limactl --version', () => {
    expect(parseLimaVersion('limactl version 2.2.0\n')).toBe('2.2.0');
    expect(parseLimaVersion('limactl version v1.0.7\n')).toBe('1.0.7');
    expect(parseLimaVersion('limactl version 2.1.0-alpha.1-12-gabc\n')).toBe(
      '2.1.0-alpha.1-12-gabc',
    );
    expect(parseLimaVersion('nonsense')).toBeUndefined();
  });

  it('compares numerically', () => {
    expect(compareVersions('1.10.0', '1.9.2')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0', '2.0.0')).toBe(0);
    expect(compareVersions('0.23.2', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('2.1.0-alpha.1', '2.1.0')).toBe(0);
  });
});
