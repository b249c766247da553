/**
 * The acceptance test of the author kit: @vms/core is packed (`pnpm pack`), installed from the
 * tarball into a fresh project outside this repository (with zod at the lowest version of its
 * peer range), and the guide's files are written there as the README shows them. The project
 * then type-checks (a misspelt option does not compile), runs the conformance suite green, and a
 * planted bug fails it with a message naming the step and a stack pointing at the suite's
 * TypeScript source.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcessesMentioning } from '../testing/processes.js';
import { GUIDE_FILES } from './guide-files.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..');
const repo = join(pkg, '..', '..');
const built = existsSync(join(pkg, 'dist', 'index.js'));
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
  version: string;
  peerDependencies: Record<string, string>;
};
/** The lowest zod the peer range admits (`^4.1.0` → 4.1.0): what a careful author may have. */
const zodFloor = (manifest.peerDependencies.zod ?? '').replace(/^\^/, '');
const VITEST = '4.1.12';
const TYPES_NODE = '20.19.43';

let root = '';
let project = '';

async function sh(argv: string[], cwd: string, timeoutMs = 240_000) {
  const [cmd, ...args] = argv;
  return run(cmd as string, args, {
    cwd,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
    },
  });
}

/** Runs a command, resolving with its exit code and output whatever the code. */
async function outcome(argv: string[], cwd: string) {
  try {
    const r = await sh(argv, cwd);
    return { code: 0, out: `${r.stdout}${r.stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout}${e.stderr}` };
  }
}

describe.skipIf(!built)('a third-party backend, outside the monorepo, from packed tarballs', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vms-third-party-'));
    // 1. Pack @vms/core as published (from a staging copy, so packing never touches the dist
    //    other test files are using).
    const stage = join(root, 'stage');
    mkdirSync(stage);
    cpSync(join(pkg, 'dist'), join(stage, 'dist'), { recursive: true });
    cpSync(join(pkg, 'README.md'), join(stage, 'README.md'));
    const {
      scripts: _scripts,
      devDependencies: _dev,
      ...published
    } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    writeFileSync(join(stage, 'package.json'), JSON.stringify(published, null, 2));
    await sh(['pnpm', 'pack', '--pack-destination', root], stage);
    const tarball = join(root, `vms-core-${manifest.version}.tgz`);
    expect(existsSync(tarball), `pnpm pack made ${tarball}`).toBe(true);

    // 2. A fresh project that installs it, with zod at the floor of the peer range.
    project = join(root, 'vms-backend-proc');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'vms-backend-proc',
          version: '0.0.0',
          private: true,
          type: 'module',
          dependencies: { '@vms/core': `file:${tarball}`, zod: zodFloor },
          devDependencies: { vitest: VITEST, '@types/node': TYPES_NODE },
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['src'],
      }),
    );
    await sh(['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'], project, 280_000);

    // 3. The guide's files, as the README shows them.
    for (const { path, code } of GUIDE_FILES) writeFileSync(join(project, path), code);
  }, 300_000);

  afterAll(() => {
    if (!root) return;
    killProcessesMentioning(root);
    rmSync(root, { recursive: true, force: true });
  });

  it('installed @vms/core with no zod of its own: the project’s zod is the one', () => {
    expect(existsSync(join(project, 'node_modules', '@vms', 'core', 'node_modules', 'zod'))).toBe(
      false,
    );
    const zod = JSON.parse(
      readFileSync(join(project, 'node_modules', 'zod', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(zod.version).toBe(zodFloor);
  });

  it('type-checks against the published types, and a misspelt option does not compile', async () => {
    const tsc = join(repo, 'node_modules', '.bin', 'tsc');
    const ok = await outcome([tsc, '-p', project], project);
    expect(ok.out, 'tsc on the guide project').toBe('');
    expect(ok.code).toBe(0);
    // The type test's @ts-expect-error lines are errors indeed: without the directives tsc fails.
    writeFileSync(
      join(project, 'src', 'typo.ts'),
      "import { createInstance } from '@vms/core';\nimport { createProc } from './proc-backend.js';\ncreateInstance(createProc({ root: '/tmp/x' }), 'p', { comand: ['sleep'] });\n",
    );
    const typo = await outcome([tsc, '-p', project], project);
    rmSync(join(project, 'src', 'typo.ts'));
    expect(typo.code).not.toBe(0);
    // TypeScript even suggests the right key: "… 'comand' does not exist … Did you mean to write 'command'?"
    expect(typo.out).toMatch(/typo\.ts\(3,\d+\): error TS(2353|2561): .*'comand' does not exist/);
  }, 120_000);

  it('passes the conformance suite (run by the project’s own vitest)', async () => {
    const report = join(root, 'report.json');
    const r = await outcome(
      [
        'npx',
        'vitest',
        'run',
        'src/proc-backend.test.ts',
        '--reporter=json',
        `--outputFile=${report}`,
      ],
      project,
    );
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
    };
    expect({ code: r.code, failed: json.numFailedTests }, r.out.slice(-3000)).toEqual({
      code: 0,
      failed: 0,
    });
    expect(json.numPassedTests).toBeGreaterThanOrEqual(35);
  }, 240_000);

  it('fails a planted bug, naming the step, with a stack in the suite’s TypeScript source', async () => {
    writeFileSync(
      join(project, 'src', 'planted.test.ts'),
      `import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProc } from './proc-backend.js';
import { procWorld } from './proc-world.js';

const root = mkdtempSync(join(tmpdir(), 'vms-planted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const proc = createProc({ root });

// The bug: stop forgets the process instead of ending it.
runConformanceSuite({ describe, it, expect, beforeAll, afterAll }, {
  name: 'proc with a planted bug',
  backend: () => ({
    ...proc,
    driver: (name, options) => ({
      ...proc.driver(name, options),
      doStop: async () => {
        rmSync(join(root, name, 'pid.json'), { force: true });
        return { how: 'graceful' as const };
      },
    }),
  }),
  options: () => ({}),
  observe: procWorld(root),
  skip: { tty: 'no terminals' },
});
`,
    );
    const r = await outcome(
      ['npx', 'vitest', 'run', 'src/planted.test.ts', '-t', 'walks create'],
      project,
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      'after stop(): inspect() says stopped, the world says running; both should say stopped',
    );
    expect(r.out, 'the failure points at the suite’s TypeScript source').toMatch(
      /src\/testing\/conformance\/(harness|lifecycle)\.ts:\d+:\d+/,
    );
  }, 240_000);
});
