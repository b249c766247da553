#!/usr/bin/env node
// `pnpm bench`: start-up cost of the built `vms`, measured against the raw tools in the same run.
//   1. `vms --version` vs `node -e 0` (target ≤ 1.3×; peak RSS ≤ 80 MiB)
//   2. `vms help list` vs `node -e 0` (a command that needs no backend: no core, no zod)
//   3. `vms exec docker:X -- true` minus `node -e 0`, vs `docker exec X true` (target ≤ 1.0×),
//      when docker and the test image vms-test/busybox:latest are there (and vms-all, if built).
// Medians of BENCH_RUNS runs (default 15), interleaved so machine load hits every command alike.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordRatio } from '../../../scripts/bench/record.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(pkgDir, 'dist', 'bin.cjs');
if (!existsSync(bin)) {
  console.error('build first: pnpm build');
  process.exit(1);
}

const project = mkdtempSync(join(tmpdir(), 'vms-bench-'));
writeFileSync(join(project, 'package.json'), '{"name":"bench-project","private":true}');
const env = { PATH: process.env.PATH, HOME: project, VMS_HOME: join(project, 'vms-home') };

/** Runs a command once (an argv, or { argv, env } with extra variables); returns its wall ms. */
function time(command, cwd = project) {
  const argv = Array.isArray(command) ? command : command.argv;
  const extra = Array.isArray(command) ? {} : command.env;
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function peakRssMiB(argv) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  const kb = Number(r.stderr.trim().split('\n').pop());
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Runs every command RUNS times, interleaved; returns medians by label. */
function bench(commands) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const argv of Object.values(commands)) time(argv); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    for (const [label, argv] of Object.entries(commands)) samples[label].push(time(argv));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const node = process.execPath;
const rows = [];
const base = bench({
  'node -e 0': [node, '-e', '0'],
  'vms --version': [node, bin, '--version'],
});
const rss = peakRssMiB([node, bin, '--version']);
recordRatio({
  id: 'P6',
  label: 'vms --version / node -e 0',
  ratio: base['vms --version'] / base['node -e 0'],
  target: 1.3,
  detail: `${base['vms --version'].toFixed(0)} ms vs ${base['node -e 0'].toFixed(0)} ms`,
});
rows.push([
  'vms --version / node -e 0',
  `${(base['vms --version'] / base['node -e 0']).toFixed(2)}×`,
  '≤ 1.30×',
  `${base['vms --version'].toFixed(0)} ms vs ${base['node -e 0'].toFixed(0)} ms; peak RSS ${rss?.toFixed(1) ?? '?'} MiB (≤ 80)`,
]);

const h = bench({ 'node -e 0': [node, '-e', '0'], 'vms help list': [node, bin, 'help', 'list'] });
rows.push([
  'vms help list / node -e 0',
  `${(h['vms help list'] / h['node -e 0']).toFixed(2)}×`,
  '-',
  `${h['vms help list'].toFixed(0)} ms (parses args, loads the command table; no backend, no core)`,
]);

let dockerReason;
try {
  execFileSync('docker', ['image', 'inspect', 'vms-test/busybox:latest'], { stdio: 'pipe' });
  if (!existsSync(join(pkgDir, '..', 'docker', 'dist', 'index.js')))
    dockerReason = '@vms/docker is not built';
} catch {
  dockerReason = 'docker or the image vms-test/busybox:latest is unavailable';
}
if (dockerReason) {
  rows.push(['vms exec vs docker exec', 'skipped', '≤ 1.00×', dockerReason]);
  recordRatio({ id: 'P3', label: '(vms exec − node) / docker exec', skipped: dockerReason });
} else {
  mkdirSync(join(project, 'node_modules', '@vms'), { recursive: true });
  symlinkSync(join(pkgDir, '..', 'docker'), join(project, 'node_modules', '@vms', 'docker'), 'dir');
  const name = `vmsbench-${process.pid}`;
  try {
    execFileSync(
      node,
      [
        bin,
        'create',
        `docker:${name}`,
        '--image',
        'vms-test/busybox:latest',
        '--opt',
        'network=none',
        '--start',
      ],
      {
        cwd: project,
        env,
        stdio: 'pipe',
      },
    );
    const bundled = join(pkgDir, '..', 'vms', 'dist', 'bin.js');
    const execArgv = [node, bin, 'exec', `docker:${name}`, '--', 'true'];
    // Node >= 22.1: bin.cjs turns on the module compile cache; measure what it buys.
    const compileCache = typeof (await import('node:module')).enableCompileCache === 'function';
    const e = bench({
      'node -e 0': [node, '-e', '0'],
      'vms exec': execArgv,
      ...(existsSync(bundled)
        ? { 'vms-all exec': [node, bundled, 'exec', `docker:${name}`, '--', 'true'] }
        : {}),
      'docker exec': ['docker', 'exec', name, 'true'],
      ...(compileCache
        ? {
            'vms exec, no compile cache': {
              argv: execArgv,
              env: { NODE_DISABLE_COMPILE_CACHE: '1' },
            },
          }
        : {}),
    });
    if (compileCache) {
      rows.push([
        'compile cache: vms exec without / with',
        `${(e['vms exec, no compile cache'] / e['vms exec']).toFixed(2)}×`,
        '-',
        `${e['vms exec, no compile cache'].toFixed(0)} ms without, ${e['vms exec'].toFixed(0)} ms with (Node ${process.versions.node})`,
      ]);
    }
    const overhead = e['vms exec'] - e['node -e 0'];
    recordRatio({
      id: 'P3',
      label: '(vms exec − node) / docker exec',
      ratio: overhead / e['docker exec'],
      target: 1,
      detail: `vms exec ${e['vms exec'].toFixed(0)} ms, node ${e['node -e 0'].toFixed(0)} ms, docker exec ${e['docker exec'].toFixed(0)} ms`,
    });
    if (e['vms-all exec']) {
      recordRatio({
        id: 'P3-all',
        label: '(vms-all exec − node) / docker exec',
        ratio: (e['vms-all exec'] - e['node -e 0']) / e['docker exec'],
        target: 1,
        detail: `vms-all exec ${e['vms-all exec'].toFixed(0)} ms`,
      });
    }
    rows.push([
      '(vms exec − node) / docker exec',
      `${(overhead / e['docker exec']).toFixed(2)}×`,
      '≤ 1.00×',
      `vms exec ${e['vms exec'].toFixed(0)} ms, node ${e['node -e 0'].toFixed(0)} ms, docker exec ${e['docker exec'].toFixed(0)} ms`,
    ]);
    if (e['vms-all exec']) {
      rows.push([
        '(vms-all exec − node) / docker exec',
        `${((e['vms-all exec'] - e['node -e 0']) / e['docker exec']).toFixed(2)}×`,
        '≤ 1.00×',
        `vms-all exec ${e['vms-all exec'].toFixed(0)} ms (the bundled form)`,
      ]);
    }
  } finally {
    spawnSync(node, [bin, 'delete', `docker:${name}`], { cwd: project, env, stdio: 'ignore' });
  }
}
rmSync(project, { recursive: true, force: true });

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
console.log(`@vms/cli start-up (median of ${RUNS} runs)`);
for (const r of rows)
  console.log(
    `  ${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  (target ${r[2]})  ${r[3]}`,
  );
