// Shared by the packages' bench scripts: records one ratio for the summary `pnpm bench` prints
// at the end (scripts/bench/run.mjs). Results go to <repo>/.bench/results.jsonl.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.bench');

/**
 * @param {{ id: string, label: string, ratio?: number, target?: number, detail?: string,
 *   skipped?: string }} row  `ratio` against `target` (lower is better); `skipped`: why not run.
 */
export function recordRatio(row) {
  mkdirSync(DIR, { recursive: true });
  appendFileSync(join(DIR, 'results.jsonl'), `${JSON.stringify({ ...row, at: Date.now() })}\n`);
}

export const RESULTS_FILE = join(DIR, 'results.jsonl');
