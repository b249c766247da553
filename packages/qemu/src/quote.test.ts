import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './quote.js';
import { remoteKillScript, remoteScript } from './ssh.js';

/** Processes whose environment holds VMS_EXEC_ID=<id>. */
function count(id: string): number {
  let n = 0;
  for (const e of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`VMS_EXEC_ID=${id}`)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

const tricky = [
  'plain',
  'a  b',
  "it's",
  '$HOME;',
  '`id`',
  '"q"',
  'back\\slash',
  'new\nline',
  '',
  '*',
  '-n',
  'é ü',
];

describe('shell quoting for the remote shell', () => {
  it('round-trips every argv element through a real sh unchanged', () => {
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellJoin(tricky)}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(tricky);
  });

  it('leaves safe words bare and quotes the rest', () => {
    expect(shellQuote('/usr/bin/env')).toBe('/usr/bin/env');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('runs a command with env and cwd, keeping the exit code, and kills it by its id', async () => {
    const script = remoteScript(['sh', '-c', 'echo "$A|$(pwd)"; exit 5'], {
      env: { A: "x y'z" },
      cwd: '/',
      id: 'test1',
    });
    const r = spawnSync('sh', ['-c', script]);
    expect(r.status).toBe(5);
    expect(r.stdout.toString()).toBe("x y'z|/\n");
    // A long command and its child die when the kill script runs; other processes do not.
    const id = `t${process.pid}`;
    const child = spawn('sh', ['-c', remoteScript(['sh', '-c', 'sleep 300 & wait'], { id })], {
      stdio: 'ignore',
    });
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    await waitFor(async () => count(id) === 2, {
      description: 'the command and its child',
      timeoutMs: 10_000,
    });
    const exited = new Promise((res) => child.once('exit', (_code, signal) => res(signal)));
    execFileSync('sh', ['-c', remoteKillScript(id)]);
    expect(await exited).toBe('SIGTERM');
    await waitFor(async () => count(id) === 0, {
      description: 'the child to end too',
      timeoutMs: 10_000,
    });
    expect(bystander.exitCode).toBeNull();
    bystander.kill('SIGKILL');
  });
});
