#!/usr/bin/env node
// `pnpm bench`: every package's benchmark (turbo, one at a time: they share the machine), then
// one table of the ratios they recorded, each next to its target.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { RESULTS_FILE } from './record.mjs';

rmSync(RESULTS_FILE, { force: true });
const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'bench', '--concurrency=1', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
);
const rows = existsSync(RESULTS_FILE)
  ? readFileSync(RESULTS_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
// The targets of the issue first, in this order; anything else after.
const ORDER = [
  'P3',
  'P3-all',
  'P6',
  'P7',
  'pool-docker',
  'pool-qemu',
  'lifecycle-cli',
  'lifecycle-tc',
];
rows.sort((a, b) => {
  const ia = ORDER.indexOf(a.id);
  const ib = ORDER.indexOf(b.id);
  return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib);
});
const fmt = (x) => (x === undefined ? '' : `${x.toFixed(3)}×`);
const lines = rows.map((r) => {
  const verdict = r.skipped
    ? `skipped: ${r.skipped}`
    : r.target === undefined
      ? ''
      : r.ratio <= r.target
        ? 'ok'
        : 'MISSED';
  return [
    r.id,
    r.label,
    fmt(r.ratio),
    r.target === undefined ? '' : `≤ ${fmt(r.target)}`,
    verdict,
    r.detail ?? '',
  ];
});
const widths = [0, 1, 2, 3, 4].map((i) => Math.max(6, ...lines.map((l) => l[i].length)));
console.log('\n@vms benchmark summary (ratios: lower is better)');
for (const l of lines) {
  console.log(
    `  ${l
      .slice(0, 5)
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')}  ${l[5]}`,
  );
}
if (lines.length === 0) console.log('  (no benchmark recorded a ratio)');
process.exit(turbo.status ?? 1);
