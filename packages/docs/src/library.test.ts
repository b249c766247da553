/**
 * The READMEs' blocks that use a package as a library in a user's program (the CLI's `cliMain`,
 * a backend package as the CLI finds it, the MCP server, the dashboard), each run in its own node
 * process in a project where the workspace packages are installed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import { readmeImagesSkipReason } from './test-support/readme-images.js';
import { expectRan, runSnippet } from './test-support/snippets.js';

const run = promisify(execFile);
const DOCS = fileURLToPath(new URL('..', import.meta.url));

describe('packages/cli/README.md', () => {
  it('cli-library: cliMain runs a command and returns its exit code', async () => {
    const r = await runSnippet(readmeBlock('packages/cli/README.md', 'cli-library').code, {
      name: 'cli-library',
      epilogue: "console.error('exit', code);",
    });
    expectRan(r, { stderr: true });
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ schema: 'vms-cli/v1', command: 'list' });
    expect(Array.isArray(result.instances)).toBe(true);
    expect(r.stderr).toBe(`exit ${result.ok ? 0 : 4}\n`);
  });

  it('cli-backend-package: a vms-backend-* dependency exporting this way is found and used by vms', async () => {
    const block = readmeBlock('packages/cli/README.md', 'cli-backend-package');
    const project = mkdtempSync(join(tmpdir(), 'docs-backend-package-'));
    const pkg = join(project, 'node_modules', 'vms-backend-foo');
    mkdirSync(pkg, { recursive: true });
    // The package's own code behind `createFoo` (the README's `./backend.js`): core's mock backend.
    writeFileSync(
      join(pkg, 'backend.js'),
      "import { createMockBackend } from '@vms/core/testing';\nexport const createFoo = () => createMockBackend({ name: 'foo' });\n",
    );
    const index = await transform(block.code, { loader: 'ts', format: 'esm' });
    writeFileSync(join(pkg, 'index.js'), index.code);
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'vms-backend-foo',
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
      }),
    );
    symlinkSync(join(DOCS, 'node_modules', '@vms'), join(project, 'node_modules', '@vms'), 'dir');
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, dependencies: { 'vms-backend-foo': '1.0.0' } }),
    );
    const vms = join(DOCS, 'node_modules', '@vms', 'cli', 'dist', 'bin.cjs');
    const { stdout } = await run(process.execPath, [vms, 'backends', '--json'], {
      cwd: project,
    });
    expect(JSON.parse(stdout).backends).toContainEqual(
      expect.objectContaining({
        backend: 'foo',
        package: 'vms-backend-foo',
        installed: true,
        available: true,
      }),
    );
    const created = await run(process.execPath, [vms, 'create', 'foo:one', '--start', '--json'], {
      cwd: project,
    });
    expect(JSON.parse(created.stdout)).toMatchObject({
      ok: true,
      instance: 'foo:one',
      state: 'running',
    });
  });
});

const dockerSkip = readmeImagesSkipReason('docker');

describe.skipIf(dockerSkip !== undefined)('servers as libraries (docker available)', () => {
  it('packages/mcp/README.md mcp-library: stdio until the client goes, then HTTP on 127.0.0.1:8765, closed', async () => {
    // stdin is closed: the stdio client is gone at once, and the block goes on to HTTP.
    const r = await withReadmeNames(() =>
      runSnippet(readmeBlock('packages/mcp/README.md', 'mcp-library').code, {
        name: 'mcp-library',
      }),
    );
    expectRan(r, { stderr: true });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^http:\/\/127\.0\.0\.1:8765\/mcp [\w-]{16,}\n$/);
  });

  it('packages/ui/README.md ui-library: the dashboard starts on the port given, prints its URL, closes', async () => {
    const r = await withReadmeNames(() =>
      runSnippet(readmeBlock('packages/ui/README.md', 'ui-library').code, { name: 'ui-library' }),
    );
    expectRan(r);
    expect(r.stdout).toMatch(/^http:\/\/127\.0\.0\.1:7380\/\?token=[\w-]+\n$/);
  });
});
