// Sums vitest's per-package "Tests  N passed | M failed | K skipped (T)" lines from a turbo log
// and prints one plain closing line: "tests: N passed, M failed, K skipped".
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const text = stripVTControlCharacters(readFileSync(process.argv[2], 'utf8'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let packages = 0;
for (const line of text.split('\n')) {
  const m = /(?:^|:\s)\s*Tests\s+(.+)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  packages += 1;
  for (const part of m[1].split('|')) {
    const p = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part.trim());
    if (p && p[2] in totals) totals[p[2]] += Number(p[1]);
  }
}
console.log(`\n${packages} packages tested`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
