import type { ProcessRunner } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { CliEngine } from './engine-cli.js';

const runner: ProcessRunner = {
  run: () => Promise.reject(new Error('not used')),
  spawn: () => {
    throw new Error('not used');
  },
};

describe('CLI argv for create', () => {
  it('creates with --pull never (the driver pulls first, per the pull option), adds --init, binds ports to the given host IP, keeps argv order', () => {
    const cli = new CliEngine({
      runner,
      binary: 'docker',
      globalArgs: ['--host', 'unix:///x.sock'],
      isPodman: false,
    });
    const args = cli.createArgs({
      name: 'web',
      image: 'img:1',
      command: ['sh', '-c', 'echo "a b"'],
      env: { A: '1 2' },
      labels: { 'dev.vms.managed': 'true' },
      ports: [
        { hostIp: '127.0.0.1', hostPort: 0, guestPort: 80, protocol: 'tcp' },
        { hostIp: '::1', hostPort: 8053, guestPort: 53, protocol: 'udp' },
      ],
      mounts: [{ source: '/src', target: '/dst', readOnly: true }],
      cpus: 0.5,
      memoryMiB: 64,
      user: 'nobody',
      workdir: '/tmp',
      network: 'none',
      init: true,
      extraArgs: ['--cap-drop', 'ALL'],
    });
    expect(args).toEqual([
      'create',
      '--name',
      'web',
      '--pull',
      'never',
      '--init',
      '--label',
      'dev.vms.managed=true',
      '--env',
      'A=1 2',
      '--publish',
      '127.0.0.1::80/tcp',
      '--publish',
      '[::1]:8053:53/udp',
      '--volume',
      '/src:/dst:ro',
      '--cpus',
      '0.5',
      '--memory',
      '64m',
      '--user',
      'nobody',
      '--workdir',
      '/tmp',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      'img:1',
      'sh',
      '-c',
      'echo "a b"',
    ]);
  });
});
