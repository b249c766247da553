import { spawn } from 'node:child_process';
import { processStartTime, waitFor } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isOurProcess,
  processesByArgument,
  processesWithArgument,
  readCmdline,
  readProcStat,
  signalIfOurs,
} from './process.js';

const children: number[] = [];
afterAll(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function start(args: string[]) {
  const child = spawn(args[0]!, args.slice(1), { stdio: 'ignore' });
  children.push(child.pid!);
  return child;
}

describe('process identity', () => {
  it('recognises our process by its command line and start time', async () => {
    // One process that never forks (a shell's child is, until its exec, a copy carrying the marker).
    const child = start([
      process.execPath,
      '-e',
      'setInterval(() => {}, 1e6)',
      '/marker/of/this/instance',
    ]);
    const pid = child.pid!;
    // Until exec completes, /proc shows the forked node: wait for the real command line.
    await waitFor(async () => readCmdline(pid)?.includes('/marker/of/this/instance'), {
      description: 'the child to exec',
      timeoutMs: 10_000,
    });
    const startTime = processStartTime(pid) ?? undefined;
    expect(
      isOurProcess({
        pid,
        marker: '/marker/of/this/instance',
        ...(startTime ? { startTime } : {}),
      }),
    ).toBe(true);
    expect(processesWithArgument('/marker/of/this/instance')).toEqual([pid]);
    // One scan for many instances (list): by whole argument, absent when none has it.
    const byMarker = processesByArgument(['/marker/of/this/instance', '/marker/of/this', '/none']);
    expect(byMarker.get('/marker/of/this/instance')).toEqual([pid]);
    expect(byMarker.has('/marker/of/this')).toBe(false);
    expect(byMarker.has('/none')).toBe(false);
    // A whole argument, not a substring: another instance's longer path is not this one.
    expect(isOurProcess({ pid, marker: '/marker/of/this' })).toBe(false);
    expect(isOurProcess({ pid, marker: 'marker/of/this/instance' })).toBe(false);
  });

  it('never signals a PID whose process is someone else (reuse: other argv or other start time)', async () => {
    const other = start(['sleep', '600']);
    const pid = other.pid!;
    await waitFor(async () => readCmdline(pid)?.[0] === 'sleep', {
      description: 'exec',
      timeoutMs: 10_000,
    });
    expect(signalIfOurs({ pid, marker: '/our/qmp.sock' }, 'SIGKILL')).toBe(false);
    const startTime = processStartTime(pid)!;
    expect(signalIfOurs({ pid, marker: 'sleep', startTime: startTime + 1 }, 'SIGKILL')).toBe(false);
    expect(readProcStat(pid)?.state).not.toBe('Z');
    // With the right identity the signal does go out.
    const exited = new Promise((r) => other.once('exit', (_c, s) => r(s)));
    expect(signalIfOurs({ pid, marker: 'sleep', startTime }, 'SIGKILL')).toBe(true);
    expect(await exited).toBe('SIGKILL');
  });

  it('treats a missing PID as not ours', () => {
    expect(isOurProcess({ pid: 2 ** 22 + 17, marker: 'x' })).toBe(false);
  });
});
