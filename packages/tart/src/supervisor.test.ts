import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExit, parseExitRecord, SUPERVISOR_SOURCE, supervisedArgv } from './supervisor.js';

const run = promisify(execFile);
let dir: string;
let script: string;

beforeAll(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'vms-supervisor-'));
  script = join(dir, 'supervisor.mjs');
  fs.writeFileSync(script, SUPERVISOR_SOURCE);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function supervise(
  command: string[],
): Promise<{ code: number; exit: ReturnType<typeof parseExitRecord> }> {
  const exitFile = join(dir, `exit-${Math.random().toString(36).slice(2)}.json`);
  const [bin, ...args] = supervisedArgv(script, exitFile, command);
  const code = await run(bin!, args).then(
    () => 0,
    (error: { code?: number }) => error.code ?? -1,
  );
  return { code, exit: parseExitRecord(fs.readFileSync(exitFile, 'utf8')) };
}

describe('supervisor', () => {
  it('records the exit code and exits with it', async () => {
    const { code, exit } = await supervise(['sh', '-c', 'exit 3']);
    expect(code).toBe(3);
    expect(exit).toMatchObject({ exitCode: 3, endedAt: expect.any(String) });
    expect(describeExit(exit!)).toBe('exit code 3');
  });

  it('records a signal', async () => {
    const { exit } = await supervise(['sh', '-c', 'kill -KILL $$']);
    expect(exit).toMatchObject({ signal: 'SIGKILL' });
    expect(describeExit(exit!)).toBe('signal SIGKILL');
  });

  it('records a command that cannot start', async () => {
    const { code, exit } = await supervise([join(dir, 'no-such-tart'), 'run', 'x']);
    expect(code).toBe(127);
    expect(exit?.error).toContain('command not found');
  });

  it('reads only well-formed records', () => {
    expect(parseExitRecord(undefined)).toBeUndefined();
    expect(parseExitRecord('{"exitCode":1}')).toBeUndefined();
    expect(parseExitRecord('garbage')).toBeUndefined();
    expect(parseExitRecord('{"exitCode":0,"endedAt":"t"}')).toEqual({ exitCode: 0, endedAt: 't' });
  });
});
