/**
 * `vms mcp` without a backend engine: loading @vms/mcp lazily, policy flags and files, help, and
 * how it ends (exit codes).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, type Project, runVms } from '../../cli/src/test-support/project.js';
import {
  acceptsConnections,
  mcpProject,
  startHttp,
  until,
  writePolicy,
} from './test-support/harness.js';

describe('vms mcp', () => {
  let withMcp: Project;
  let without: Project;
  beforeAll(() => {
    withMcp = mcpProject([]);
    without = makeProject({});
  });
  afterAll(() => {
    withMcp?.cleanup();
    without?.cleanup();
  });

  it('says how to install @vms/mcp when it is missing (exit 4)', async () => {
    const r = await runVms(without, ['mcp']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('vms mcp needs @vms/mcp, which is not installed');
    expect(r.stderr).toContain('hint: npm install -g @vms/mcp');
  });

  it('merges the config file and the flags into the policy (--check-config), naming bad fields', async () => {
    const file = writePolicy(withMcp, 'p', {
      images: ['alpine:*'],
      maxInstances: 2,
      hostPaths: ['/srv'],
    });
    const r = await runVms(withMcp, [
      'mcp',
      '--config',
      file,
      '--max-instances',
      '3',
      '--max-memory',
      '1G',
      '--lifetime',
      '10m',
      '--check-config',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).policy).toMatchObject({
      images: ['alpine:*'],
      maxInstances: 3,
      maxMemoryMiB: 1024,
      instanceLifetimeMs: 600_000,
      hostPaths: ['/srv'],
      network: 'none',
    });
    const bad = writePolicy(withMcp, 'bad', { maxInstance: 2 });
    const e = await runVms(withMcp, ['mcp', '--config', bad, '--check-config']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(
      `invalid option ${bad}.maxInstance: unknown option (did you mean maxInstances?)`,
    );
    const flag = await runVms(withMcp, ['mcp', '--max-output', 'lots']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('invalid --max-output');
  });

  it('is in the help, and other commands (prune too) never load the MCP SDK', async () => {
    expect((await runVms(withMcp, ['help'])).stdout).toMatch(
      /\n\s+mcp\s+Serve the backends to AI agents/,
    );
    // A resolve hook that refuses the SDK: a command that would load it fails.
    const hooks = join(withMcp.dir, 'no-sdk-hooks.mjs');
    writeFileSync(
      hooks,
      `export async function resolve(s, c, next) {\n  if (s.includes('@modelcontextprotocol/')) throw new Error('SDK loaded: ' + s);\n  return next(s, c);\n}\n`,
    );
    const register = join(withMcp.dir, 'no-sdk.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const env = { NODE_OPTIONS: `--import=${pathToFileURL(register).href}` };
    const control = await runVms(withMcp, ['mcp', '--check-config'], { env });
    expect(control.stderr).toContain('SDK loaded');
    for (const args of [
      ['list', '--json'],
      ['prune', '--dry-run', '--json'],
      ['backends', '--json'],
    ]) {
      const r = await runVms(withMcp, args, { env });
      expect(r.stderr, args.join(' ')).not.toContain('SDK loaded');
      expect(r.stdout, args.join(' ')).toContain('"schema"');
    }
  });

  it('Ctrl-C stops the HTTP server with exit 130 (interrupted) and closes its port', async () => {
    const server = await startHttp(withMcp, []);
    expect(await acceptsConnections(server.url)).toBe(true);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(130);
    expect(await acceptsConnections(server.url)).toBe(false);
  });

  it('stdio: exit 0 when the client closes stdin (the session ended), 130 on Ctrl-C', async () => {
    const ended = await runVms(withMcp, ['mcp']); // stdin closed at once
    expect(ended.stderr).toContain('on stdio');
    expect(ended.code).toBe(0);

    const child = spawn(process.execPath, [withMcp.bin, 'mcp'], {
      cwd: withMcp.dir,
      env: withMcp.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until(() => stderr.includes('on stdio'), 30_000, 'vms mcp to serve on stdio');
      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
