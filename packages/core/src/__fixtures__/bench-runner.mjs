// Benchmark: the cost of createRunner().run over the raw tools, measured in one run.
// `node src/__fixtures__/bench-runner.mjs [iterations]` after `pnpm build`. Prints per-call
// medians (all decoding output as UTF-8) and the ratio runner/raw for a short command (`true`)
// and one with 8 MiB of output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { createRunner } from '../../dist/index.js';

const iterations = Number(process.argv[2] ?? 100);
const runner = createRunner();
const execFileP = promisify(execFile);

/** Runs the contenders in turn, `iterations` rounds (interleaved, so load noise hits all alike). */
async function medians(contenders) {
  const times = contenders.map(() => []);
  for (let i = 0; i < iterations; i++) {
    for (const [k, fn] of contenders.entries()) {
      const t = process.hrtime.bigint();
      await fn();
      times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return times.map((list) => list.sort((x, y) => x - y)[Math.floor(list.length / 2)]);
}

const cases = {
  true: ['true'],
  '8MiB stdout': ['head', '-c', String(8 * 1024 * 1024), '/dev/zero'],
};
for (const [name, argv] of Object.entries(cases)) {
  await runner.run(argv);
  const [raw, rawExeca, ours] = await medians([
    () => execFileP(argv[0], argv.slice(1), { maxBuffer: 64 * 1024 * 1024 }),
    () => execa(argv[0], argv.slice(1)),
    () => runner.run(argv),
  ]);
  console.log(
    `${name.padEnd(12)} child_process.execFile ${raw.toFixed(2)} ms | execa ${rawExeca.toFixed(2)} ms | runner.run ${ours.toFixed(2)} ms | ratio runner/execFile ${(ours / raw).toFixed(2)} | runner/execa ${(ours / rawExeca).toFixed(2)}`,
  );
}
