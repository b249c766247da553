import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from './args.js';
import { UsageError } from './usage-error.js';

const exec = {
  options: {
    env: { type: 'string' as const, short: 'e', multiple: true, description: '' },
    tty: { type: 'boolean' as const, short: 't', description: '' },
  },
  restAfter: 1,
};

describe('parseCommandArgs', () => {
  it('passes everything after NAME through untouched, flags of the command included', () => {
    const r = parseCommandArgs('exec', ['-e', 'A=1', 'web', 'ls', '-la', '--json'], exec);
    expect(r.positionals).toEqual(['web']);
    expect(r.rest).toEqual(['ls', '-la', '--json']);
    expect(r.values).toMatchObject({ env: ['A=1'] });
    expect(r.values.json).toBeUndefined();
  });

  it('drops the -- separator, before or after NAME', () => {
    expect(parseCommandArgs('exec', ['web', '--', 'echo', '--', 'x'], exec).rest).toEqual([
      'echo',
      '--',
      'x',
    ]);
    expect(parseCommandArgs('exec', ['--json', 'web', '--', '-t'], exec)).toMatchObject({
      positionals: ['web'],
      rest: ['-t'],
      values: { json: true },
    });
  });

  it('takes flags between NAME and -- as its own; without --, everything after NAME is the command', () => {
    expect(
      parseCommandArgs('exec', ['web', '--json', '-e', 'A=1', '--', 'ls', '-l'], exec),
    ).toMatchObject({
      positionals: ['web'],
      rest: ['ls', '-l'],
      values: { json: true, env: ['A=1'] },
    });
    expect(parseCommandArgs('exec', ['web', '-t', 'sh', '-c', 'a -- b'], exec)).toMatchObject({
      positionals: ['web'],
      rest: ['-t', 'sh', '-c', 'a -- b'],
    });
  });

  it('makes unknown flags a usage error that points at the help', () => {
    expect(() => parseCommandArgs('list', ['--bogus'], { options: {} })).toThrow(UsageError);
    try {
      parseCommandArgs('list', ['--bogus'], { options: {} });
    } catch (error) {
      expect((error as UsageError).message).toBe("Unknown option '--bogus'");
      expect((error as UsageError).hint).toBe('see: vms help list');
    }
  });
});
