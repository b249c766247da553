#!/usr/bin/env node
// `pnpm bench [PART…] [--node LIST] [turbo args…]`: the packages' benchmarks (turbo, one at a
// time: they share the machine), then one table of the ratios they recorded, each next to its
// target.
//
//   PART         a package with a bench script, by its name without @vms/ (cli, qemu, pool, …),
//                or an alias: startup/P3/P6 (cli), P7 (qemu), lifecycle (the bench package);
//                none: all of them
//   --node LIST  Node majors the CLI start-up bench (P3, P6) runs on, e.g. 20,24 (default: all,
//                the machine's and every pinned one of scripts/node-versions.json); BENCH_NODES
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_FILE } from './record.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Workspace packages with a bench script: short name → package name. */
function benchPackages() {
  const found = new Map();
  for (const dir of [
    ...readdirSync(join(repo, 'packages')).map((d) => join('packages', d)),
    'bench',
  ]) {
    const file = join(repo, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.scripts?.bench) found.set(pkg.name.replace(/^@vms\//, ''), pkg.name);
  }
  return found;
}
const ALIASES = { startup: 'cli', p3: 'cli', p6: 'cli', p7: 'qemu', lifecycle: 'bench' };

const packages = benchPackages();
const turboArgs = [];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--node' || arg.startsWith('--node=')) {
    const list = arg === '--node' ? args[++i] : arg.slice('--node='.length);
    if (!list) {
      console.error('error: --node needs a list of Node majors, e.g. --node 20,24 (or all)');
      process.exit(2);
    }
    env.BENCH_NODES = list;
  } else if (arg.startsWith('-')) {
    turboArgs.push(arg);
  } else {
    const short = ALIASES[arg.toLowerCase()] ?? arg.replace(/^@vms\//, '');
    const name = packages.get(short);
    if (!name) {
      console.error(
        `error: no benchmark named '${arg}'\n  hint: one of ${[...packages.keys(), ...Object.keys(ALIASES)].join(', ')}`,
      );
      process.exit(2);
    }
    turboArgs.push(`--filter=${name}`);
  }
}

rmSync(RESULTS_FILE, { force: true });
const started = Date.now();
const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'bench', '--concurrency=1', ...turboArgs],
  { stdio: 'inherit', env, cwd: repo },
);
const rows = existsSync(RESULTS_FILE)
  ? readFileSync(RESULTS_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
// The targets of the issues first, in this order (each by Node version where it has one);
// anything else after.
const ORDER = [
  'P3',
  'P3-all',
  'P3-floor',
  'cc',
  'cc-all',
  'P6',
  'P7',
  'pool-docker',
  'pool-qemu',
  'lifecycle-cli',
  'lifecycle-tc',
  'lifecycle-floor',
];
const rank = (r) => {
  const i = ORDER.indexOf(r.id);
  return (i < 0 ? ORDER.length : i) * 1000 + Number(r.node ?? 0);
};
rows.sort((a, b) => rank(a) - rank(b));
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
console.log(
  `\n@vms benchmark summary (ratios: lower is better; ${Math.round((Date.now() - started) / 1000)} s)`,
);
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
