// The closing lines of a test run, from the vitest JSON report every package wrote
// (packages/*/.cache/test-report.json, asked for by scripts/test.sh).
//
//   node scripts/test-summary.mjs collect LABEL OUT.json   one pass (e.g. "node 22.23.5") → OUT.json
//   node scripts/test-summary.mjs print A.json [B.json…]   every failure, then one closing line
//
// A package counts as failed when its report is missing (its build failed, vitest crashed or was
// killed), when a file failed (a failed test, or a suite that did not load), or when vitest
// reported errors outside tests. Exit code of `print`: 0 when every pass is green, else 1.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const REPORT = '.cache/test-report.json';

/** Packages with a test script, by name, with their directory. */
function testedPackages() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.scripts?.test) out.push({ name: pkg.name, dir: join(root, 'packages', dir) });
  }
  return out;
}

function collect(label, only) {
  const pass = {
    label,
    tests: { passed: 0, failed: 0, skipped: 0 },
    files: { passed: 0, failed: 0 },
    packages: [],
  };
  for (const { name, dir } of testedPackages()) {
    if (only.length && !only.includes(name)) continue;
    const entry = { name, ok: true, problems: [] };
    pass.packages.push(entry);
    const file = join(dir, REPORT);
    if (!existsSync(file)) {
      entry.ok = false;
      entry.problems.push('no test report: its build failed, or vitest crashed or was killed');
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8'));
    pass.tests.passed += report.numPassedTests;
    pass.tests.failed += report.numFailedTests;
    pass.tests.skipped += report.numPendingTests + report.numTodoTests;
    for (const result of report.testResults) {
      const rel = relative(dir, result.name);
      if (result.status === 'passed') {
        pass.files.passed += 1;
        continue;
      }
      // A file with only skipped tests reports "skipped"/"pending": not a failure.
      if (result.status !== 'failed') continue;
      pass.files.failed += 1;
      entry.ok = false;
      const failed = result.assertionResults.filter((a) => a.status === 'failed');
      entry.problems.push(
        failed.length
          ? `${rel}: ${failed.map((a) => a.fullName ?? a.title).join('; ')}`
          : `${rel}: ${String(result.message ?? '').split('\n')[0] || 'a hook (beforeAll/afterAll) or the file itself failed'}: see its output`,
      );
    }
    if (!report.success && entry.ok) {
      entry.ok = false;
      entry.problems.push(
        'vitest reported errors outside tests (unhandled errors, see its output)',
      );
    }
  }
  return pass;
}

function line(pass) {
  const failedPkgs = pass.packages.filter((p) => !p.ok).length;
  return (
    `tests: ${pass.tests.passed} passed, ${pass.tests.failed} failed, ${pass.tests.skipped} skipped; ` +
    `files: ${pass.files.passed} passed, ${pass.files.failed} failed; ` +
    `packages: ${pass.packages.length - failedPkgs} passed, ${failedPkgs} failed`
  );
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'collect') {
  const [label, out, ...only] = args;
  writeFileSync(out, JSON.stringify(collect(label, only)));
} else if (cmd === 'print') {
  const passes = args.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  let green = passes.length > 0;
  console.log('');
  for (const pass of passes) {
    for (const p of pass.packages.filter((x) => !x.ok)) {
      green = false;
      for (const problem of p.problems) console.log(`FAILED ${pass.label} ${p.name}: ${problem}`);
    }
  }
  if (passes.length > 1) for (const pass of passes) console.log(`${pass.label}: ${line(pass)}`);
  const verdict = green ? 'PASSED' : 'FAILED';
  if (passes.length === 1) console.log(`${verdict} ${passes[0].label}: ${line(passes[0])}`);
  else
    console.log(
      `${verdict} on ${passes.map((p) => `${p.label} (${p.packages.every((x) => x.ok) ? 'green' : 'red'})`).join(', ')}`,
    );
  process.exit(green ? 0 : 1);
} else {
  console.error('usage: test-summary.mjs collect LABEL OUT.json [PKG…] | print A.json [B.json…]');
  process.exit(2);
}
