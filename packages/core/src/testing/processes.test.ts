import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killProcessesMentioning, processesMentioning, readProcFile } from './processes.js';

const hasProc = process.platform === 'linux';
const marker = mkdtempSync(join(tmpdir(), 'vms-processes-'));
afterAll(() => {
  killProcessesMentioning(marker);
  rmSync(marker, { recursive: true, force: true });
});

describe.skipIf(!hasProc)('processesMentioning (needs Linux /proc)', () => {
  it('finds live processes by command line and by environment, and kills them', async () => {
    const byArgv = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300_000)', marker], {
      stdio: 'ignore',
    });
    const byEnv = spawn('sleep', ['301'], {
      stdio: 'ignore',
      env: { ...process.env, MARK: marker },
    });
    const exited = (child: typeof byArgv) =>
      new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const gone = Promise.all([exited(byArgv), exited(byEnv)]);
    expect(processesMentioning(marker).sort()).toEqual([byArgv.pid, byEnv.pid].sort());
    expect(readProcFile(byArgv.pid ?? 0, 'cmdline').split('\0')).toContain(marker);
    expect(killProcessesMentioning(marker).sort()).toEqual([byArgv.pid, byEnv.pid].sort());
    await gone;
    expect(processesMentioning(marker)).toEqual([]);
  });

  it('reads nothing for a process that does not exist', () => {
    expect(readProcFile(2 ** 30, 'cmdline')).toBe('');
  });
});
