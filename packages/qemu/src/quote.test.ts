import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './quote.js';
import { remoteKillScript, remoteScript } from './ssh.js';

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

  it('wraps a command with env, cwd and a PID file, keeping the exit code', () => {
    const pidFile = `/tmp/vq-quote-test-${process.pid}`;
    const script = remoteScript(['sh', '-c', 'echo "$A|$(pwd)"; exit 5'], {
      env: { A: "x y'z" },
      cwd: '/',
      pidFile,
    });
    let status = 0;
    let out = '';
    try {
      out = execFileSync('sh', ['-c', script]).toString();
    } catch (error) {
      status = (error as { status: number }).status;
      out = String((error as { stdout: Buffer }).stdout);
    }
    expect(status).toBe(5);
    expect(out).toBe("x y'z|/\n");
    // The PID file is removed when the command ends; the kill script is then a no-op.
    expect(() => execFileSync('test', ['-e', pidFile])).toThrow();
    expect(execFileSync('sh', ['-c', remoteKillScript(pidFile)]).toString()).toBe('');
  });
});
