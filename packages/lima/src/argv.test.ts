import { parseOptions } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { createArgs, shellArgs, startArgs, templateLocator } from './argv.js';
import { type LimaOptionsInput, limaOptionsSchema } from './options.js';

const opts = (input: LimaOptionsInput = {}) => parseOptions(limaOptionsSchema, input);

describe('templateLocator', () => {
  it('turns a bare name into template://NAME, which every version accepts', () => {
    expect(templateLocator('default')).toBe('template://default');
    expect(templateLocator('ubuntu-24.04', '2.2.0')).toBe('template://ubuntu-24.04');
  });

  it('keeps template:NAME on 2.0+ and rewrites it for 1.x', () => {
    expect(templateLocator('template:docker', '2.0.0')).toBe('template:docker');
    expect(templateLocator('template:docker', '1.2.1')).toBe('template://docker');
    expect(templateLocator('template://docker', '1.2.1')).toBe('template://docker');
  });

  it('passes files, URLs and stdin through', () => {
    expect(templateLocator('./my.yaml')).toBe('./my.yaml');
    expect(templateLocator('vm.yml')).toBe('vm.yml');
    expect(templateLocator('/abs/path/vm')).toBe('/abs/path/vm');
    expect(templateLocator('https://example.com/t.yaml')).toBe('https://example.com/t.yaml');
    expect(templateLocator('-')).toBe('-');
  });
});

describe('createArgs', () => {
  it('always creates explicitly, non-interactively, with resource flags on lima >= 1.0', () => {
    expect(createArgs('dev', opts({ cpus: 2, memoryMiB: 1536, diskGiB: 10 }), '2.2.0')).toEqual([
      'create',
      '--tty=false',
      '--name',
      'dev',
      '--cpus',
      '2',
      '--memory',
      '1.5',
      '--disk',
      '10',
      'template://default',
    ]);
  });

  it('uses --set yq expressions for resources before lima 1.0', () => {
    expect(createArgs('dev', opts({ cpus: 2, memoryMiB: 4096, diskGiB: 20.5 }), '0.23.2')).toEqual([
      'create',
      '--tty=false',
      '--name',
      'dev',
      '--set',
      '.cpus = 2',
      '--set',
      '.memory = "4GiB"',
      '--set',
      '.disk = "20.5GiB"',
      'template://default',
    ]);
  });

  it('maps vmType, arch, mounts, ports, env, extra sets and createArgs', () => {
    const args = createArgs(
      'web',
      opts({
        template: 'docker',
        vmType: 'qemu',
        arch: 'aarch64',
        mounts: [{ source: '/src', target: '/work', readOnly: true }],
        ports: [
          { guest: 80, host: 8080 },
          { guest: 53, protocol: 'udp' },
        ],
        env: { GREETING: 'hello "world"' },
        set: ['.containerd.system = true'],
        createArgs: ['--plain'],
      }),
      '2.2.0',
    );
    expect(args).toEqual([
      'create',
      '--tty=false',
      '--name',
      'web',
      '--vm-type',
      'qemu',
      '--arch',
      'aarch64',
      '--set',
      '.mounts += [{"location":"/src","mountPoint":"/work","writable":false}]',
      '--set',
      '.portForwards += [{"guestPort":80,"hostPort":8080,"hostIP":"127.0.0.1","proto":"tcp"}]',
      '--set',
      '.portForwards += [{"guestPort":53,"hostPort":53,"hostIP":"127.0.0.1","proto":"udp"}]',
      '--set',
      '.env.GREETING = "hello \\"world\\""',
      '--set',
      '.containerd.system = true',
      '--plain',
      'template://docker',
    ]);
  });
});

describe('startArgs / shellArgs', () => {
  it('start carries a whole-second timeout', () => {
    expect(startArgs('dev', opts({ startArgs: ['--progress'] }), 594.7)).toEqual([
      'start',
      '--tty=false',
      '--timeout',
      '594s',
      '--progress',
      'dev',
    ]);
    expect(startArgs('dev', opts(), 0.2)).toContain('1s');
  });

  it('shell puts flags before the name and the argv after it', () => {
    expect(shellArgs('dev', ['echo', 'a b'], {})).toEqual([
      'shell',
      '--tty=false',
      'dev',
      'echo',
      'a b',
    ]);
    expect(shellArgs('dev', ['id'], { cwd: '/tmp', env: { A: '1' }, user: 'root' })).toEqual([
      'shell',
      '--tty=false',
      '--workdir',
      '/tmp',
      'dev',
      'sudo',
      '-n',
      '-u',
      'root',
      '--',
      'env',
      'A=1',
      'id',
    ]);
  });
});

describe('options', () => {
  it('rejects userData and bad values, naming the field', () => {
    expect(() => opts({ userData: { sshAuthorizedKeys: [] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'userData' }),
    );
    expect(() => opts({ vmType: 'hyperv' as never })).toThrow(
      expect.objectContaining({ field: 'vmType' }),
    );
    expect(() => opts({ cpus: 1.5 })).toThrow(expect.objectContaining({ field: 'cpus' }));
  });
});
