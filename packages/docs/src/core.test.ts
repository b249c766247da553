/**
 * packages/core/README.md. Its TypeScript blocks run each in its own node process against the
 * real docker engine: `alpine:3.20` served by a local registry under that name (only the registry
 * host substituted), the fixed instance names under the README names lock, a VMS_HOME of their
 * own so the record `create` writes (and `delete` removes) is observed too. The guide's set-up
 * block runs as written in an empty directory (`@vms/core` from the private registry of the
 * packed workspace, the rest from npm), and the guide's files then type-check and pass the
 * conformance suite with the TypeScript and vitest it installed. (The guide's `file=` blocks are
 * claimed by core's own tests: see src/file-claims.ts.)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { killProcessesMentioning } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock, readmeBlocks } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import { type PackRegistry, startPackRegistry } from './test-support/npm-registry.js';
import {
  inspectContainer,
  type ReadmeImages,
  readmeImagesSkipReason,
  serveReadmeImages,
} from './test-support/readme-images.js';
import { runLines, shellLines } from './test-support/shell.js';
import { expectRan, runSnippet, substitute } from './test-support/snippets.js';
import { workspacePacks } from './test-support/workspace-packs.js';

const run = promisify(execFile);

const README = 'packages/core/README.md';
const skip = readmeImagesSkipReason('docker');
if (skip) console.warn(`skipping core's README blocks on docker: ${skip}`);

describe.skipIf(skip !== undefined)(`${README} (real docker)`, () => {
  let images: ReadmeImages;
  beforeAll(async () => {
    images = await serveReadmeImages('docker', ['alpine:3.20']);
  }, 300_000);
  afterAll(() => images?.close());

  const code = (id: string) =>
    substitute(readmeBlock(README, id).code, [['alpine:3.20', images.ref('alpine:3.20')]]);

  it('core-intro: pulls, execs with the env, a graceful stop, exec refused with its hint, deleted when the block ends', async () => {
    const home = mkdtempSync(join(tmpdir(), 'docs-core-home-'));
    const r = await withReadmeNames(() =>
      runSnippet(code('core-intro'), { name: 'core-intro', env: { VMS_HOME: home } }),
    );
    expectRan(r);
    // The block's comments, in order.
    expect(r.stdout).toBe(
      '0 hi from Linux\nstopped graceful\nstart it first: vms start docker:web-1\n',
    );
    expect(inspectContainer('docker', 'web-1')).toBeUndefined();
    expect(existsSync(join(home, 'instances', 'docker', 'web-1.json'))).toBe(false);
  });

  it('core-dynamic: options from JSON, the JSON Schema form, openInstance finds the record, the delete leaves nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'docs-core-home-'));
    const r = await withReadmeNames(() =>
      runSnippet(code('core-dynamic'), {
        name: 'core-dynamic',
        env: { VMS_HOME: home },
        // What the block's comment says the form holds.
        epilogue: 'console.log(form.type, typeof form.properties?.image);',
      }),
    );
    expectRan(r);
    expect(r.stdout).toBe('record stopped\nobject object\n');
    // The block ends by deleting what it made: no container, no record.
    expect(inspectContainer('docker', 'web')).toBeUndefined();
    expect(existsSync(join(home, 'instances', 'docker', 'web.json'))).toBe(false);
  });
});

describe(`${README}: the author guide as a user follows it`, () => {
  let registry: PackRegistry;
  let project = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    registry = await startPackRegistry(await workspacePacks());
    const npm = registry.npmEnv();
    // A project of one's own: npm installs into it, not into a global prefix.
    const { npm_config_prefix: _globalOnly, ...local } = npm.env;
    env = local;
    project = join(npm.dir, 'vms-backend-proc');
    mkdirSync(project);
  }, 600_000);
  afterAll(async () => {
    if (project) killProcessesMentioning(project);
    await registry?.close();
  });

  const installed = (name: string) =>
    JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
      peerDependencies?: Record<string, string>;
    };
  const npx = (args: string[]) =>
    run('npx', ['--no-install', ...args], {
      cwd: project,
      env,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: typeof e.code === 'number' ? e.code : 1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );

  it('core-install: the two installs, as written, in an empty directory', async () => {
    const lines = shellLines(readmeBlock(README, 'core-install').code);
    const results = await runLines(lines, { env, cwd: project, timeoutMs: 280_000 });
    const failed = results.find((r) => r.code !== 0);
    expect(failed, failed && `${failed.line}\n${failed.stdout}${failed.stderr}`).toBeUndefined();
    expect(results).toHaveLength(2);
    // @vms/core came from the private registry: the packed workspace's version.
    expect(registry.requested).toContain('@vms/core');
    const packed = (await workspacePacks()).find((p) => p.name === '@vms/core');
    const core = installed('@vms/core');
    expect(core.version).toBe(packed?.version);
    // zod is the project's, in core's peer range (`^4.1.0`): one copy, none inside @vms/core.
    expect(core.peerDependencies?.zod).toBe('^4.1.0');
    expect(installed('zod').version).toMatch(/^4\.([1-9]|\d{2,})\./);
    expect(existsSync(join(project, 'node_modules', '@vms', 'core', 'node_modules', 'zod'))).toBe(
      false,
    );
    // vitest >= 3 (the suite's peer range) and typescript, as dev dependencies.
    expect(core.peerDependencies?.vitest).toBe('>=3');
    expect(Number(installed('vitest').version.split('.')[0])).toBeGreaterThanOrEqual(3);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['@vms/core', 'zod']);
    expect(Object.keys(manifest.devDependencies ?? {}).sort()).toEqual(['typescript', 'vitest']);
  }, 300_000);

  it("the guide's files then type-check and pass the conformance suite with what it installed", async () => {
    expect(existsSync(join(project, 'node_modules', 'vitest')), 'core-install ran').toBe(true);
    // What the guide says around its blocks: an ES module; a tsconfig as `tsc --init` makes it.
    expect((await run('npm', ['pkg', 'set', 'type=module'], { cwd: project, env })).stderr).toBe(
      '',
    );
    expect((await npx(['tsc', '--init'])).code).toBe(0);
    const guide = readmeBlocks(README).filter((b) => b.projectFile);
    expect(guide.length).toBe(5);
    for (const b of guide) {
      const path = join(project, b.projectFile as string);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, b.code);
    }
    const tsc = await npx(['tsc', '--noEmit', '-p', '.', '--pretty', 'false']);
    expect(tsc, tsc.out).toEqual({ code: 0, out: '' });
    const report = join(project, 'report.json');
    const suite = await npx(['vitest', 'run', '--reporter=json', `--outputFile=${report}`]);
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    expect({ code: suite.code, failed: json.numFailedTests }, suite.out.slice(-3000)).toEqual({
      code: 0,
      failed: 0,
    });
    expect(json.numPassedTests).toBeGreaterThanOrEqual(35);
  }, 300_000);
});
