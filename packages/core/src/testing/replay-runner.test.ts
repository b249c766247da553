import { describe, expect, it } from 'vitest';
import { AbortedError, CommandFailedError, TimeoutError } from '../errors.js';
import { createReplayRunner } from './replay-runner.js';

describe('createReplayRunner', () => {
  it('answers with the first matching recording and records calls', async () => {
    const runner = createReplayRunner([
      { argv: ['docker', 'version', '--format', /json/], stdout: '{"Client":{}}' },
      { argv: (argv) => argv[1] === 'ps', stdout: 'a\nb\n' },
    ]);
    let streamed = '';
    const version = await runner.run(['docker', 'version', '--format', '{{json .}}'], {
      onStdout: (chunk) => {
        streamed += chunk.toString();
      },
    });
    expect(version).toMatchObject({ exitCode: 0, stdout: '{"Client":{}}', truncated: false });
    expect(streamed).toBe('{"Client":{}}');
    expect((await runner.run(['docker', 'ps', '-a'])).stdout).toBe('a\nb\n');
    expect(runner.calls).toEqual([
      ['docker', 'version', '--format', '{{json .}}'],
      ['docker', 'ps', '-a'],
    ]);
  });

  it('applies okExitCodes like the real runner, with redaction', async () => {
    const runner = createReplayRunner([
      { argv: ['login', 'hunter2'], exitCode: 2, stderr: 'bad password hunter2' },
    ]);
    const error = await runner
      .run(['login', 'hunter2'], { redact: ['hunter2'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).exitCode).toBe(2);
    expect((error as CommandFailedError).message).not.toContain('hunter2');
    await expect(runner.run(['login', 'hunter2'], { okExitCodes: [2] })).resolves.toMatchObject({
      exitCode: 2,
    });
  });

  it('uses a recording `times` times, then the next match', async () => {
    const runner = createReplayRunner([
      { argv: ['inspect'], stdout: 'starting', times: 2 },
      { argv: ['inspect'], stdout: 'running' },
    ]);
    const outputs = [];
    for (let i = 0; i < 3; i++) outputs.push((await runner.run(['inspect'])).stdout);
    expect(outputs).toEqual(['starting', 'starting', 'running']);
    expect(runner.pending()).toHaveLength(1);
  });

  it('strict mode throws on unmatched argv naming it; lax mode answers exit 0', async () => {
    const strict = createReplayRunner([{ argv: ['a'] }]);
    await expect(strict.run(['b', 'c'])).rejects.toThrow('no recording matches ["b","c"]');
    const lax = createReplayRunner([], { strict: false });
    await expect(lax.run(['anything'])).resolves.toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('honours the deadline and the signal during delayMs', async () => {
    const runner = createReplayRunner([{ argv: ['slow'], delayMs: 60_000 }]);
    const timeout = await runner.run(['slow'], { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect((timeout as TimeoutError).message).toContain('slow');
    const controller = new AbortController();
    const pending = runner.run(['slow'], { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });

  it('caps output like the real runner', async () => {
    const runner = createReplayRunner([{ argv: ['big'], stdout: 'x'.repeat(100) }]);
    await expect(runner.run(['big'], { maxOutputBytes: 10 })).resolves.toMatchObject({
      stdout: 'x'.repeat(10),
      truncated: true,
    });
  });

  it('spawn returns a fake process that exits after delayMs or when killed', async () => {
    const runner = createReplayRunner([
      { argv: ['tart', 'run', 'vm'], stderr: 'vm crashed', exitCode: 1, delayMs: 5 },
      { argv: ['qemu-system-x86_64', /.*/] },
    ]);
    const crashed = runner.spawn(['tart', 'run', 'vm']);
    expect(await crashed.exited).toEqual({ exitCode: 1, stderrTail: 'vm crashed' });
    const qemu = runner.spawn(['qemu-system-x86_64', '-nographic']);
    expect(qemu.pid).toBeGreaterThan(2 ** 22);
    qemu.kill('SIGKILL');
    expect(await qemu.exited).toEqual({ signal: 'SIGKILL', stderrTail: '' });
    expect(() => runner.spawn(['unknown'])).toThrow('no recording matches');
  });
});
