#!/usr/bin/env node
// `pnpm bench`: start-up cost of the built `vms`, measured against the raw tools in the same run,
// on every Node version at once (the machine's and the pinned ones scripts/node.mjs installs):
//   P6  `vms --version` vs `node -e 0` on the same Node (target ≤ 1.3×; peak RSS ≤ 80 MiB)
//   P3  `vms exec docker:X -- true` minus `node -e 0`, vs `docker exec X true` (target ≤ 1.0×),
//       for `vms` and the bundled `vms-all`, when docker and vms-test/busybox:latest are there
//   P3 floor: the same five API requests from a zero-dependency Node script (exec-floor.mjs), to
//       read P3 against: what any Node program pays, with nothing of @vms loaded
//   cc  on Nodes with module.enableCompileCache() (≥ 22.1): P3 with the cache (what the bins do)
//       against the same runs with NODE_DISABLE_COMPILE_CACHE=1
// plus `vms help list` (no backend, no core) for reference.
// Medians of BENCH_RUNS runs (default 15), every command of every Node interleaved so machine
// load hits them alike. BENCH_NODES: which Node majors (default `all`: the machine's and each
// pinned major; e.g. `20,24`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordRatio } from '../../../scripts/bench/record.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const repo = join(pkgDir, '..', '..');
const bin = join(pkgDir, 'dist', 'bin.cjs');
const bundled = join(pkgDir, '..', 'vms', 'dist', 'bin.js');
if (!existsSync(bin)) {
  console.error('build first: pnpm build');
  process.exit(1);
}

/** The Node versions to measure: [{ major, version, node }], and the ones that could not be had. */
function nodeVersions() {
  const own = { major: process.versions.node.split('.')[0], node: process.execPath };
  const pinned = execFileSync(process.execPath, [join(repo, 'scripts', 'node.mjs'), 'majors'], {
    encoding: 'utf8',
  })
    .trim()
    .split(/\s+/);
  const wanted = (process.env.BENCH_NODES ?? 'all').trim();
  const majors =
    wanted === 'all' || wanted === ''
      ? [own.major, ...pinned.filter((m) => m !== own.major)]
      : wanted.split(/[ ,]+/).filter(Boolean);
  const found = [];
  const missing = [];
  for (const major of majors) {
    try {
      const node =
        major === own.major
          ? own.node
          : join(
              execFileSync(process.execPath, [join(repo, 'scripts', 'node.mjs'), 'bin', major], {
                encoding: 'utf8',
                stdio: ['ignore', 'pipe', 'pipe'],
              }).trim(),
              'node',
            );
      const [version, compileCache] = execFileSync(
        node,
        ['-p', "process.versions.node + ' ' + (typeof require('node:module').enableCompileCache)"],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ');
      found.push({ major, version, node, compileCache: compileCache === 'function' });
    } catch (error) {
      missing.push({
        major,
        reason: String(error.stderr || error.message)
          .trim()
          .split('\n')[0],
      });
    }
  }
  return { found, missing };
}

const project = mkdtempSync(join(tmpdir(), 'vms-bench-'));
writeFileSync(join(project, 'package.json'), '{"name":"bench-project","private":true}');
// TMPDIR in the project: the compile cache (os.tmpdir()/node-compile-cache) starts empty, is
// filled by the warm-up run, and goes with the project.
const env = {
  PATH: process.env.PATH,
  HOME: project,
  TMPDIR: project,
  VMS_HOME: join(project, 'vms-home'),
};

/** Runs a command once ({ argv, env? }); returns its wall ms. */
function time({ argv, env: extra = {} }) {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: project,
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
  for (const command of Object.values(commands)) time(command); // warm file and compile caches
  for (let i = 0; i < RUNS; i++) {
    for (const [label, command] of Object.entries(commands)) samples[label].push(time(command));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

/** Whether `vms exec docker:…` can be measured here, or why not. */
function dockerUnavailable() {
  try {
    execFileSync('docker', ['image', 'inspect', 'vms-test/busybox:latest'], { stdio: 'pipe' });
  } catch {
    return 'docker or the image vms-test/busybox:latest is unavailable';
  }
  if (!existsSync(join(pkgDir, '..', 'docker', 'dist', 'index.js')))
    return '@vms/docker is not built';
  return undefined;
}

const { found: nodes, missing } = nodeVersions();
const rows = [];
const ms = (x) => `${x.toFixed(0)} ms`;
const nodeTag = (n) => `Node ${n.version}`;

for (const m of missing) {
  const skipped = `Node ${m.major} unavailable: ${m.reason}`;
  recordRatio({
    id: 'P6',
    node: m.major,
    label: `vms --version / node -e 0 (Node ${m.major})`,
    skipped,
  });
  rows.push([`Node ${m.major}`, 'skipped', '', skipped]);
}

const dockerReason = dockerUnavailable();
const name = `vmsbench-${process.pid}`;
const commands = {};
for (const n of nodes) {
  commands[`${n.major} node`] = { argv: [n.node, '-e', '0'] };
  commands[`${n.major} version`] = { argv: [n.node, bin, '--version'] };
  commands[`${n.major} help`] = { argv: [n.node, bin, 'help', 'list'] };
  if (dockerReason) continue;
  const vmsExec = [n.node, bin, 'exec', `docker:${name}`, '--', 'true'];
  const allExec = existsSync(bundled)
    ? [n.node, bundled, 'exec', `docker:${name}`, '--', 'true']
    : undefined;
  commands[`${n.major} exec`] = { argv: vmsExec };
  commands[`${n.major} floor`] = { argv: [n.node, join(pkgDir, 'bench', 'exec-floor.mjs'), name] };
  if (allExec) commands[`${n.major} all`] = { argv: allExec };
  if (n.compileCache) {
    const off = { NODE_DISABLE_COMPILE_CACHE: '1' };
    commands[`${n.major} exec nocache`] = { argv: vmsExec, env: off };
    if (allExec) commands[`${n.major} all nocache`] = { argv: allExec, env: off };
  }
}
if (!dockerReason) commands.docker = { argv: ['docker', 'exec', name, 'true'] };

try {
  if (!dockerReason) {
    mkdirSync(join(project, 'node_modules', '@vms'), { recursive: true });
    symlinkSync(
      join(pkgDir, '..', 'docker'),
      join(project, 'node_modules', '@vms', 'docker'),
      'dir',
    );
    execFileSync(
      process.execPath,
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
      { cwd: project, env, stdio: 'pipe' },
    );
  }
  const t = bench(commands);
  for (const n of nodes) {
    const node = t[`${n.major} node`];
    const version = t[`${n.major} version`];
    const rss = peakRssMiB([n.node, bin, '--version']);
    recordRatio({
      id: 'P6',
      node: n.major,
      label: `vms --version / node -e 0 (${nodeTag(n)})`,
      ratio: version / node,
      target: 1.3,
      detail: `${ms(version)} vs ${ms(node)}; peak RSS ${rss?.toFixed(1) ?? '?'} MiB`,
    });
    rows.push([
      `P6 ${nodeTag(n)}`,
      `${(version / node).toFixed(2)}×`,
      '≤ 1.30×',
      `vms --version ${ms(version)} vs node -e 0 ${ms(node)}; peak RSS ${rss?.toFixed(1) ?? '?'} MiB (≤ 80)`,
    ]);
    rows.push([
      `   help ${nodeTag(n)}`,
      `${(t[`${n.major} help`] / node).toFixed(2)}×`,
      '-',
      `vms help list ${ms(t[`${n.major} help`])} (the command table; no backend, no core)`,
    ]);
    if (dockerReason) {
      recordRatio({
        id: 'P3',
        node: n.major,
        label: `(vms exec − node) / docker exec (${nodeTag(n)})`,
        skipped: dockerReason,
      });
      rows.push([`P3 ${nodeTag(n)}`, 'skipped', '≤ 1.00×', dockerReason]);
      continue;
    }
    const docker = t.docker;
    const floor = t[`${n.major} floor`];
    const floorRatio = (floor - node) / docker;
    recordRatio({
      id: 'P3-floor',
      node: n.major,
      label: `(zero-dependency Node API script − node) / docker exec (${nodeTag(n)})`,
      ratio: floorRatio,
      detail: `the floor of P3: exec-floor.mjs ${ms(floor)}, node ${ms(node)}, docker exec ${ms(docker)}`,
    });
    rows.push([
      `   floor ${nodeTag(n)}`,
      `${floorRatio.toFixed(2)}×`,
      '-',
      `exec-floor.mjs ${ms(floor)} (the same API requests, nothing of @vms loaded)`,
    ]);
    for (const [id, key, what] of [
      ['P3', 'exec', 'vms'],
      ['P3-all', 'all', 'vms-all'],
    ]) {
      const with_ = t[`${n.major} ${key}`];
      if (with_ === undefined) continue;
      const ratio = (with_ - node) / docker;
      recordRatio({
        id,
        node: n.major,
        label: `(${what} exec − node) / docker exec (${nodeTag(n)})`,
        ratio,
        target: 1,
        detail: `${what} exec ${ms(with_)}, node ${ms(node)}, docker exec ${ms(docker)}`,
      });
      rows.push([
        `${id} ${nodeTag(n)}`,
        `${ratio.toFixed(2)}×`,
        '≤ 1.00×',
        `${what} exec ${ms(with_)}, node -e 0 ${ms(node)}, docker exec ${ms(docker)}`,
      ]);
      const without = t[`${n.major} ${key} nocache`];
      if (without === undefined) continue;
      // What the compile cache buys: the overhead over Node's start with it, against without.
      const cc = (with_ - node) / (without - node);
      recordRatio({
        id: `cc${id.slice(2)}`,
        node: n.major,
        label: `compile cache: (${what} exec − node) with / without (${nodeTag(n)})`,
        ratio: cc,
        detail: `${ms(with_)} with, ${ms(without)} without; P3 without it ${((without - node) / docker).toFixed(3)}×`,
      });
      rows.push([
        `   cache ${nodeTag(n)}`,
        `${cc.toFixed(2)}×`,
        '-',
        `${what} exec ${ms(with_)} with the compile cache, ${ms(without)} without`,
      ]);
    }
  }
} finally {
  if (!dockerReason)
    spawnSync(process.execPath, [bin, 'delete', `docker:${name}`], {
      cwd: project,
      env,
      stdio: 'ignore',
    });
  rmSync(project, { recursive: true, force: true });
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
console.log(`@vms/cli start-up (median of ${RUNS} runs, Nodes interleaved)`);
for (const r of rows)
  console.log(
    `  ${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  (target ${r[2] || '-'})  ${r[3]}`,
  );
