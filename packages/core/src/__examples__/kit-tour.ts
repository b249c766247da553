import {
  createRunner,
  type DetectResult,
  detectTool,
  type ProcessRunner,
  StateStore,
} from '@vms/core';
import { createFakeCli } from '@vms/core/testing';
import { z } from 'zod';

// 1. Run the tool: argv arrays only (never a shell string), a deadline, the op's signal, output
//    caps. A non-zero exit throws CommandFailedError (argv, exit code, stderr tail); a missing
//    binary throws ToolNotFoundError (BACKEND_UNAVAILABLE). Take the runner from your settings so
//    tests can inject a fake or a replay (`createReplayRunner`).
export async function listVms(runner: ProcessRunner, tool: string, signal: AbortSignal) {
  const r = await runner.run([tool, 'list', '--format', 'json'], { signal, timeoutMs: 10_000 });
  return z.array(z.object({ name: z.string(), state: z.string() })).parse(JSON.parse(r.stdout));
}

// 2. detect(): never throws; says why not and what to do (`hint`).
export function detect(runner: ProcessRunner, tool: string): Promise<DetectResult> {
  return detectTool({
    toolPath: tool,
    probe: async () => (await runner.run([tool, '--version'], { timeoutMs: 5_000 })).stdout.trim(),
    installHint: `install ${tool} (e.g. apt-get install ${tool})`,
  });
}

// 3. State of your own (a VM monitor's pid, ports): one 0700 directory per instance, atomic
//    writes, a schema version, a cross-process lock per instance.
export function stateStore(root: string) {
  return new StateStore({
    backend: 'greet',
    schemaVersion: 1,
    root,
    schema: z.object({ pid: z.number().int(), port: z.number().int() }),
  });
}

// 4. Test against a fake tool put first on PATH: scripted answers, every argv recorded.
export async function tour(root: string) {
  const fake = await createFakeCli({
    name: 'greet',
    responses: [
      { match: ['--version'], stdout: 'greet 1.2.3\n' },
      { match: ['list'], stdout: '[{"name":"a","state":"running"}]' },
    ],
  });
  try {
    const runner = createRunner({ env: fake.env });
    const detected = await detect(runner, 'greet');
    const vms = await listVms(runner, 'greet', AbortSignal.timeout(30_000));
    const store = stateStore(root);
    await store.write('a', { pid: 4242, port: 2222 });
    return { detected, vms, saved: await store.read('a'), calls: await fake.calls() };
  } finally {
    await fake.cleanup();
  }
}
