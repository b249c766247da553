// Contends for a lock from its own process: `node lock-worker.mjs <lockPath> <logPath> <rounds>`.
// Imports the built module (packages/core/dist), so the test needs `pnpm build` first.
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { acquireLock } from '../../dist/index.js';

const [lockPath, logPath, rounds] = process.argv.slice(2);
for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireLock(lockPath, { timeoutMs: 120_000 });
  appendFileSync(logPath, `start ${process.pid}\n`);
  await delay(2);
  appendFileSync(logPath, `end ${process.pid}\n`);
  await lock.release();
}
