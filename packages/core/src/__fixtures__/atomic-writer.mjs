// Rewrites one file as fast as it can: `node atomic-writer.mjs <path> <bytes>`. Round i writes
// {"round":i,"fill":"<digit i%10 repeated bytes times>"} and then prints i. The test SIGKILLs it.
// Imports the built module (packages/core/dist), so the test needs `pnpm build` first.
import { writeFileAtomic } from '../../dist/index.js';

const [path, bytes] = process.argv.slice(2);
for (let round = 0; ; round++) {
  await writeFileAtomic(
    path,
    JSON.stringify({ round, fill: String(round % 10).repeat(Number(bytes)) }),
  );
  process.stdout.write(`${round}\n`);
}
