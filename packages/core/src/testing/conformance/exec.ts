/**
 * Exec semantics, on one running instance: exit codes, streams, argv, stdin, env, cwd, user, tty,
 * a missing command, output caps, and that a timeout or abort ends the command inside the guest.
 */
import { Readable } from 'node:stream';
import { waitFor } from '../../wait.js';
import { expectCode, expectNoProcesses, group, marker, type Suite } from './harness.js';

export function execGroups(s: Suite): void {
  const { it, expect } = s.t;
  const t = s.timeout;
  const off = (what?: Parameters<Suite['off']>[0]) =>
    s.off('exec', 'exec') ?? (what ? s.off(what) : undefined);

  group(s, 'exec', off(), () => {
    it(
      'passes the exit code through and keeps stdout and stderr apart',
      async () => {
        const vm = await s.running();
        const hello = await vm.exec(['echo', 'vms-conformance']);
        expect(hello, 'exec(echo vms-conformance)').toMatchObject({
          exitCode: 0,
          stdout: 'vms-conformance\n',
        });
        const both = await vm.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
        expect(
          { exitCode: both.exitCode, stdout: both.stdout, stderr: both.stderr },
          'exec(sh -c "echo out; echo err >&2; exit 3")',
        ).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
      },
      t,
    );

    it(
      'keeps argv elements intact (no shell re-splitting or expansion)',
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['echo', 'a  b', "it's", '$HOME;', '*']);
        expect(r.stdout, 'echo of words with spaces, quotes, $ and *').toBe("a  b it's $HOME; *\n");
      },
      t,
    );

    it(
      'a command that does not exist exits 127 (it does not throw)',
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['vms-conformance-no-such-command']).catch((error: unknown) => {
          throw new Error(
            `exec of a missing command threw instead of exiting 127: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
        expect(r.exitCode, `exec of a missing command (stderr: ${r.stderr.trim()})`).toBe(127);
      },
      t,
    );

    it(
      'gives a command without stdin an empty stdin (end-of-file at once)',
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['cat'], { timeoutMs: 30_000 });
        expect({ exitCode: r.exitCode, stdout: r.stdout }, 'cat without stdin').toEqual({
          exitCode: 0,
          stdout: '',
        });
      },
      t,
    );

    it.skipIf(s.off('stdin') !== undefined)(
      `forwards stdin, as a string and as a stream${s.off('stdin') ? ` (skipped: ${s.off('stdin')})` : ''}`,
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['cat'], { stdin: 'from-stdin\nline two\n' });
        expect(r.stdout, 'cat with a string on stdin').toBe('from-stdin\nline two\n');
        const streamed = await vm.exec(['cat'], {
          stdin: Readable.from([Buffer.from('chunk-1 '), Buffer.from('chunk-2')]),
        });
        expect(streamed.stdout, 'cat with a stream on stdin').toBe('chunk-1 chunk-2');
      },
      t,
    );

    it(
      'sets env for the command',
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['env'], {
          env: { VMS_CONF_ENV: 'two words', VMS_CONF_EMPTY: '' },
        });
        const lines = r.stdout.split('\n');
        expect(
          lines,
          'env output of a command run with env { VMS_CONF_ENV: "two words" }',
        ).toContain('VMS_CONF_ENV=two words');
        expect(lines, 'an empty value is set, not dropped').toContain('VMS_CONF_EMPTY=');
      },
      t,
    );

    it(
      'runs in the given cwd',
      async () => {
        const vm = await s.running();
        const cwd = s.subject.exec?.cwd ?? '/tmp';
        const r = await vm.exec(['pwd'], { cwd });
        expect(r.stdout.trim(), `pwd with cwd ${cwd}`).toBe(cwd);
      },
      t,
    );

    const userOff = s.off('user');
    it.skipIf(userOff !== undefined)(
      `runs as the given user${userOff ? ` (skipped: ${userOff})` : ''}`,
      async () => {
        const vm = await s.running();
        const user = s.subject.exec?.user ?? 'nobody';
        const r = await vm.exec(['id', '-un'], { user });
        expect(r.stdout.trim(), `id -un with user ${user} (stderr: ${r.stderr.trim()})`).toBe(user);
      },
      t,
    );

    const ttyOff = s.off('tty');
    it.skipIf(ttyOff !== undefined)(
      `allocates a terminal when asked, and only then${ttyOff ? ` (skipped: ${ttyOff})` : ''}`,
      async () => {
        const vm = await s.running();
        const withTty = await vm.exec(['tty'], { tty: true });
        expect(
          withTty.exitCode,
          `tty with tty: true printed ${JSON.stringify(withTty.stdout.trim())}`,
        ).toBe(0);
        const without = await vm.exec(['tty']);
        expect(
          without.exitCode,
          `tty without tty printed ${JSON.stringify(without.stdout.trim())}`,
        ).not.toBe(0);
      },
      t,
    );

    it(
      'caps the output kept in the result and says so',
      async () => {
        const vm = await s.running();
        const r = await vm.exec(['echo', 'x'.repeat(200)], { maxOutputBytes: 10 });
        expect({ stdout: r.stdout, truncated: r.truncated }, 'exec with maxOutputBytes 10').toEqual(
          { stdout: 'x'.repeat(10), truncated: true },
        );
      },
      t,
    );

    const abortOff = s.off('execAbort');
    it.skipIf(abortOff !== undefined)(
      `a timed-out command ends inside the guest, and the instance stays usable${abortOff ? ` (skipped: ${abortOff})` : ''}`,
      async () => {
        const vm = await s.running();
        const n = marker();
        await expectCode(
          s,
          vm.exec(['sleep', n], { timeoutMs: 1_500 }),
          'TIMEOUT',
          `exec(sleep ${n}) with timeoutMs 1500`,
        );
        await expectNoProcesses(s, vm.name, `sleep ${n}`, `after exec(sleep ${n}) timed out`);
        const after = await vm.exec(['echo', 'still-here']);
        expect(after.stdout, 'exec after the timed-out one').toBe('still-here\n');
      },
      t,
    );

    it.skipIf(abortOff !== undefined)(
      `an aborted command ends inside the guest with everything it started${abortOff ? ` (skipped: ${abortOff})` : ''}`,
      async () => {
        const vm = await s.running();
        const n = marker();
        const controller = new AbortController();
        const pending = vm.exec(['sh', '-c', `sleep ${n}; echo never`], {
          signal: controller.signal,
        });
        pending.catch(() => {}); // awaited below: never an unhandled rejection meanwhile
        // Abort once the command runs in the guest (seen there, not assumed after a delay).
        await expectSeen(s, vm.name, `sleep ${n}`);
        controller.abort();
        await expectCode(s, pending, 'ABORTED', `exec(sh -c "sleep ${n}; …") aborted`);
        await expectNoProcesses(
          s,
          vm.name,
          `sleep ${n}`,
          `after exec(sh -c "sleep ${n}; …") was aborted`,
        );
      },
      t,
    );

    it(
      'refuses exec on a stopped instance, saying to start it',
      async () => {
        const vm = s.make();
        await vm.create();
        const error = await expectCode(
          s,
          vm.exec(['true']),
          'INVALID_TRANSITION',
          'exec on a stopped instance',
        );
        expect(error.hint, 'the hint of exec on a stopped instance').toMatch(/start/);
        await vm.delete();
      },
      t,
    );
  });
}

/** Waits (polling the guest, with a deadline) until a process with `text` runs there. */
async function expectSeen(s: Suite, name: string, text: string): Promise<void> {
  let count = 0;
  try {
    await waitFor(
      async () => {
        count = await s.processes(name, text);
        return count > 0;
      },
      {
        description: `${text} in ${name}`,
        timeoutMs: 30_000,
        backoff: { initialMs: 20, maxMs: 500 },
      },
    );
  } catch {
    // reported below
  }
  s.t
    .expect(count, `the guest never showed a process running "${text}" within 30 s`)
    .toBeGreaterThan(0);
}
