import { afterEach, describe, expect, it } from 'vitest';
import { CommandFailedError, InvalidOptionsError, TimeoutError } from '../errors.js';
import { createRunner } from '../runner.js';
import { waitFor } from '../wait.js';
import { createFakeCli, type FakeCli } from './fake-cli.js';

const runner = createRunner();
const fakes: FakeCli[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.cleanup()));
});

async function fake(options: Parameters<typeof createFakeCli>[0]): Promise<FakeCli> {
  const cli = await createFakeCli(options);
  fakes.push(cli);
  return cli;
}

describe('createFakeCli with responses', () => {
  it('runs through the real runner via PATH, records argv and passes exit codes through', async () => {
    const tart = await fake({
      name: 'tart',
      responses: [
        { match: ['list', '--format', 'json'], stdout: '[{"Name":"vm1"}]' },
        { match: ['delete'], stderr: 'Error: VM "x" does not exist\n', exitCode: 1 },
      ],
    });
    const list = await runner.run(['tart', 'list', '--format', 'json'], { env: tart.env });
    expect(JSON.parse(list.stdout)).toEqual([{ Name: 'vm1' }]);
    const error = await runner
      .run(['tart', 'delete', 'x'], { env: tart.env })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).exitCode).toBe(1);
    expect((error as CommandFailedError).stderrTail).toContain('does not exist');
    const unknown = await runner.run(['tart', 'fly'], { env: tart.env, okExitCodes: 'any' });
    expect(unknown.exitCode).toBe(127);
    expect(await tart.calls()).toEqual([['list', '--format', 'json'], ['delete', 'x'], ['fly']]);
  });

  it('a blocking response blocks until unblocked', async () => {
    const limactl = await fake({
      name: 'limactl',
      responses: [{ match: ['start'], blockUntilFile: 'proceed', stdout: 'started\n' }],
    });
    let finished = false;
    const running = runner
      .run(['limactl', 'start', 'vm'], { env: limactl.env, timeoutMs: 60_000 })
      .then((r) => {
        finished = true;
        return r;
      });
    // The fake has been invoked (its call is recorded) and cannot answer before `proceed` exists.
    await waitFor(async () => (await limactl.calls()).length === 1, {
      description: 'the fake to be invoked',
      timeoutMs: 30_000,
    });
    await expect(
      runner.run(['limactl', 'start', 'other'], { env: limactl.env, timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(finished).toBe(false);
    await limactl.unblock('proceed');
    expect((await running).stdout).toBe('started\n');
    expect(await limactl.calls()).toContainEqual(['start', 'vm']);
  });

  it('validates its options naming the field', async () => {
    const error = await createFakeCli({ name: '../evil', responses: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
  });
});

describe('createFakeCli with a script', () => {
  it('runs the script with argv, persisted state, env, stdin and exit codes', async () => {
    const podman = await fake({
      name: 'podman',
      script: `
        state.machines ??= [];
        if (argv[0] === 'init') { state.machines.push(argv[1]); out('created ' + argv[1] + '\\n'); }
        else if (argv[0] === 'ls') { out(JSON.stringify(state.machines)); }
        else if (argv[0] === 'env') { out(env.FAKE_GREETING ?? 'none'); }
        else if (argv[0] === 'cat') { out(await readStdin()); }
        else if (argv[0] === 'slow') { await sleep(10); out('slept'); }
        else { err('unknown command ' + argv[0] + '\\n'); exit(125); }
      `,
    });
    const env = { ...podman.env, FAKE_GREETING: 'hello' };
    expect((await runner.run(['podman', 'init', 'm1'], { env })).stdout).toBe('created m1\n');
    await runner.run(['podman', 'init', 'm2'], { env });
    expect(JSON.parse((await runner.run(['podman', 'ls'], { env })).stdout)).toEqual(['m1', 'm2']);
    expect((await runner.run(['podman', 'env'], { env })).stdout).toBe('hello');
    expect((await runner.run(['podman', 'cat'], { env, stdin: 'piped' })).stdout).toBe('piped');
    expect((await runner.run(['podman', 'slow'], { env })).stdout).toBe('slept');
    const error = await runner.run(['podman', 'bogus'], { env }).catch((e: unknown) => e);
    expect((error as CommandFailedError).exitCode).toBe(125);
    expect((error as CommandFailedError).stderrTail).toContain('unknown command bogus');
    expect((await podman.calls()).map((argv) => argv[0])).toEqual([
      'init',
      'init',
      'ls',
      'env',
      'cat',
      'slow',
      'bogus',
    ]);
  });

  it('reports a throwing script on stderr with exit code 70', async () => {
    const broken = await fake({ name: 'broken', script: `throw new Error('boom');` });
    const result = await runner.run(['broken'], { env: broken.env, okExitCodes: 'any' });
    expect(result.exitCode).toBe(70);
    expect(result.stderr).toContain('boom');
  });
});
