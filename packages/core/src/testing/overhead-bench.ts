/**
 * What @vms costs over the raw tool, measured in one run (a backend's `pnpm bench` script): each
 * case warms both sides up once, then alternates N calls of the raw command with N calls doing the
 * same work through @vms, so that machine load hits both alike, and records ms per call of each
 * and the ratio vms / raw.
 */

import { parseOptions } from '../options.js';
import * as z from '../zod.js';

export interface OverheadRow {
  case: string;
  'raw ms/op': string;
  'vms ms/op': string;
  ratio: string;
}

export interface OverheadBench {
  /** Calls per side and case, unless a case says otherwise. */
  readonly n: number;
  /** One row per case compared so far. */
  readonly rows: readonly OverheadRow[];
  /** Times `raw` against `vms` (each called with the call's index, -1 for the warm-up). */
  compare(
    name: string,
    raw: (i: number) => Promise<unknown>,
    vms: (i: number) => Promise<unknown>,
    n?: number,
  ): Promise<void>;
  /** Prints `TITLE (N=…; ratio = vms / raw)` and the rows as a table. */
  print(title: string): void;
}

const countSchema = z.number().int().positive();

async function timed(fn: (i: number) => Promise<unknown>, i: number): Promise<number> {
  const started = process.hrtime.bigint();
  await fn(i);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** A bench of N calls per side (default `$BENCH_N`, else 10). */
export function createOverheadBench(n = Number(process.env.BENCH_N ?? 10)): OverheadBench {
  parseOptions(countSchema, n, 'n');
  const rows: OverheadRow[] = [];
  return {
    n,
    rows,
    async compare(name, raw, vms, count = n) {
      parseOptions(countSchema, count, 'n');
      await raw(-1);
      await vms(-1);
      let rawMs = 0;
      let vmsMs = 0;
      for (let i = 0; i < count; i++) {
        rawMs += await timed(raw, i);
        vmsMs += await timed(vms, i);
      }
      rows.push({
        case: name,
        'raw ms/op': (rawMs / count).toFixed(1),
        'vms ms/op': (vmsMs / count).toFixed(1),
        ratio: (vmsMs / rawMs).toFixed(2),
      });
    },
    print(title) {
      console.log(`${title} (N=${n}; ratio = vms / raw)`);
      console.table(rows);
    },
  };
}
