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

describe('parse errors are one line and a hint (issue 14, item 6)', () => {
  const create = {
    options: {
      memory: { type: 'string' as const, short: 'm', description: '' },
      image: { type: 'string' as const, description: '' },
      privileged: { type: 'boolean' as const, description: '' },
    },
  };
  const usage = (args: string[]) => {
    try {
      parseCommandArgs('create', args, create);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error(`no usage error for ${args.join(' ')}`);
  };

  it('a value that looks like a flag', () => {
    const e = usage(['--memory', '-1']);
    expect(e.message).toBe('--memory needs a value, but the next argument "-1" is a flag');
    expect(e.hint).toBe('to pass a value that starts with "-", write --memory=-1');
    expect(usage(['-m', '-1'])).toMatchObject({
      message: '-m needs a value, but the next argument "-1" is a flag',
      hint: 'to pass a value that starts with "-", write --memory=-1',
    });
    expect(usage(['--image', '--privileged']).hint).toMatch(/write --image=--privileged$/);
  });

  it('a missing value, a value for a boolean, an unknown flag', () => {
    expect(usage(['--memory']).message).toBe('--memory needs a value');
    expect(usage(['--privileged=yes']).message).toBe('--privileged takes no value');
    expect(usage(['--nope']).message).toBe("Unknown option '--nope'");
    for (const args of [['--memory', '-1'], ['--memory'], ['--privileged=1'], ['--x\ny']]) {
      const e = usage(args);
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.hint).toBeTruthy();
    }
  });
});
