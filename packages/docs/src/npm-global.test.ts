/**
 * The READMEs' shell blocks that begin with `npm install -g …`, run line by line as written:
 * npm installs the packed workspace from a private registry for the `@vms` scope (everything else
 * from npm) into a temp global prefix whose `bin` is first on PATH, and the following lines run
 * that `vms` against the real docker engine. Only images (served by a local registry, see
 * readme-images.ts) and paths are substituted. One prefix for the file: each block's install
 * runs as written and adds to it, which also shows that `@vms/vms` (`vms-all`) installs beside
 * `@vms/cli` (`vms`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { loadTestGuest, testGuestSkipReason } from '@vms/qemu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-blocks.js';
import { withReadmeNames } from './test-support/names-lock.js';
import { type PackRegistry, startPackRegistry } from './test-support/npm-registry.js';
import {
  inspectContainer,
  type ReadmeImages,
  readmeImagesSkipReason,
  serveReadmeImages,
} from './test-support/readme-images.js';
import { type LineResult, runLine, runLines, serveLine, shellLines } from './test-support/shell.js';
import { substitute } from './test-support/snippets.js';
import { workspacePacks } from './test-support/workspace-packs.js';

const skip = readmeImagesSkipReason('docker');
if (skip) console.warn(`skipping the READMEs' npm install -g blocks: ${skip}`);

/** Every line exited 0 (the failing one is shown with its output). */
function expectAllOk(results: LineResult[], count: number): void {
  const failed = results.find((r) => r.code !== 0);
  expect(failed, failed && `${failed.line}\n${failed.stdout}${failed.stderr}`).toBeUndefined();
  expect(results).toHaveLength(count);
}

describe.skipIf(skip !== undefined)('README shell blocks with npm install -g (real docker)', () => {
  let registry: PackRegistry;
  let images: ReadmeImages;
  let npm: ReturnType<PackRegistry['npmEnv']>;
  let home: string;
  const options = () => ({ env: { ...npm.env, HOME: home }, cwd: npm.dir });

  beforeAll(async () => {
    registry = await startPackRegistry(await workspacePacks());
    images = await serveReadmeImages('docker', ['alpine:3.20', 'alpine']);
    npm = registry.npmEnv();
    home = join(npm.dir, 'home');
    mkdirSync(home);
  }, 600_000);
  afterAll(async () => {
    await images?.close();
    await registry?.close();
  });

  it('README.md root-cli: install, backends, create (pulls), exec, list, delete', async () => {
    const block = readmeBlock('README.md', 'root-cli');
    const lines = shellLines(substitute(block.code, [['alpine:3.20', images.ref('alpine:3.20')]]));
    const r = await withReadmeNames(() => runLines(lines, options()));
    expectAllOk(r, 6);
    expect(existsSync(join(npm.bin, 'vms'))).toBe(true);
    expect(r[1]?.stdout).toMatch(/^docker\s+@vms\/docker\s+\S+\s+\S+\s+\S+\s+available/m);
    expect(r[2]?.stderr).toContain(`pulling ${images.ref('alpine:3.20')}`);
    expect(r[3]?.stdout).toMatch(/^Linux /);
    const list = JSON.parse(r[4]?.stdout ?? '{}');
    expect(list.instances).toContainEqual(
      expect.objectContaining({ id: 'docker:box', state: 'running' }),
    );
    expect(inspectContainer('docker', 'box')).toBeUndefined();
  });

  it('packages/cli/README.md cli-intro: the same, stopping before the delete', async () => {
    const block = readmeBlock('packages/cli/README.md', 'cli-intro');
    const lines = shellLines(substitute(block.code, [['alpine:3.20', images.ref('alpine:3.20')]]));
    const r = await withReadmeNames(async () => {
      const out = await runLines(lines.slice(0, 3), options());
      const running = inspectContainer('docker', 'box', '{{.State.Running}}');
      out.push(...(await runLines(lines.slice(3), options())));
      return { out, running };
    });
    expectAllOk(r.out, 5);
    expect(r.running).toBe('true');
    expect(r.out[3]?.stdout).toMatch(/^Linux /);
    expect(inspectContainer('docker', 'box')).toBeUndefined();
  });

  it('packages/cli/README.md cli-error: the error a missing backend gives, word for word', async () => {
    const block = readmeBlock('packages/cli/README.md', 'cli-error');
    const r = await runLine('vms start qemu:dev', options());
    expect(r.stderr).toBe(block.code);
    expect(r.code).toBe(4);
  });

  it('packages/cli/README.md cli-completion: bash sources it; zsh and fish files are written', async () => {
    const block = readmeBlock('packages/cli/README.md', 'cli-completion');
    // What the comments assume exists: the zsh fpath dir and fish's completions dir.
    mkdirSync(join(home, '.zfunc'), { recursive: true });
    mkdirSync(join(home, '.config', 'fish', 'completions'), { recursive: true });
    const r = await runLines(shellLines(block.code), options());
    expectAllOk(r, 3);
    const bash = await runLine(`${shellLines(block.code)[0]}\ncomplete -p vms`, options());
    expect(bash.stdout).toMatch(/^complete .* vms$/m);
    expect(readFileSync(join(home, '.zfunc', '_vms'), 'utf8')).toMatch(/^#compdef vms/);
    expect(readFileSync(join(home, '.config', 'fish', 'completions', 'vms.fish'), 'utf8')).toMatch(
      /^complete -c vms /m,
    );
  });

  it('packages/vms/README.md vms-intro: vms-all installs beside vms; backends; demo', async () => {
    const block = readmeBlock('packages/vms/README.md', 'vms-intro');
    // The demo's image is implicit (alpine): made explicit with the local registry's host.
    const lines = shellLines(
      substitute(block.code, [['vms-all demo', `vms-all demo --image ${images.ref('alpine')}`]]),
    );
    const r = await runLines(lines, options());
    expectAllOk(r, 3);
    expect(existsSync(join(npm.bin, 'vms-all'))).toBe(true);
    expect(existsSync(join(npm.bin, 'vms'))).toBe(true);
    expect(r[1]?.stdout).toMatch(/^docker\s+@vms\/docker\s+\S+\s+\S+\s+\S+\s+available/m);
    expect(r[2]?.stdout).toContain(`(image ${images.ref('alpine')})`);
    expect(r[2]?.stdout).toMatch(/✓ delete/);
    expect(r[2]?.stdout).toMatch(/^done in /m);
  });

  it('packages/ui/README.md ui-run: install, then `vms ui` serves the page at the URL it prints, until Ctrl-C', async () => {
    const lines = shellLines(readmeBlock('packages/ui/README.md', 'ui-run').code);
    expect(lines).toHaveLength(2);
    expectAllOk(await runLines(lines.slice(0, 1), options()), 1);
    const served = await serveLine(
      lines[1] as string,
      { ...options(), ready: /(http:\/\/127\.0\.0\.1:\d+)\/\?token=[\w-]+/ },
      async (m) => {
        const login = await fetch(m[0], { redirect: 'manual' });
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
        const page = await fetch(`${m[1]}/`, { headers: { cookie } });
        const script = await fetch(`${m[1]}/app.js`, { headers: { cookie } });
        const anonymous = await fetch(`${m[1]}/`, { redirect: 'manual' });
        return {
          login: login.status,
          page: page.status,
          html: await page.text(),
          script: script.status,
          anonymous: anonymous.status,
        };
      },
    );
    expect(served.value).toMatchObject({ login: 303, page: 200, script: 200 });
    expect(served.value.html).toContain('<script');
    expect(served.value.anonymous).not.toBe(200);
    // Ctrl-C: interrupted (130), as the CLI's exit codes and the ui README say.
    expect(served.code).toBe(130);
  });

  describe('packages/mcp/README.md', () => {
    const guest = testGuestSkipReason() ? undefined : loadTestGuest();
    let policy: string;
    let share: string;
    beforeAll(() => {
      share = join(npm.dir, 'agent-share');
      mkdirSync(share);
      const block = readmeBlock('packages/mcp/README.md', 'mcp-policy');
      const text = substitute(block.code, [
        ['"alpine:3.20"', JSON.stringify(images.ref('alpine:3.20'))],
        ['/var/lib/vms/debian-12.qcow2', guest?.baseQcow2 ?? '/var/lib/vms/debian-12.qcow2'],
        ['/home/me/agent-share', share],
      ]);
      policy = join(npm.dir, 'policy.json');
      writeFileSync(policy, text);
    });

    /** An MCP client session: list_backends, then an instance of the policy's `alpine` template. */
    /** Connects an MCP client over `transport` and runs a session; closes the client. */
    async function over(transport: Transport) {
      const client = new Client({ name: 'vms-docs-test', version: '1.0.0' });
      await client.connect(transport);
      try {
        return await session(client);
      } finally {
        await client.close();
      }
    }

    async function session(client: Client) {
      const call = async (name: string, args: Record<string, unknown>) => {
        const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 });
        expect(r.isError, JSON.stringify(r.structuredContent)).toBeFalsy();
        return r.structuredContent as Record<string, unknown>;
      };
      const backends = (await call('list_backends', {})) as {
        backends: { name: string; allowed: boolean; available: boolean }[];
        templates: { name: string }[];
      };
      await call('create_instance', { template: 'alpine', name: 'docs' });
      const exec = await call('exec', { instance: 'docs', command: ['uname', '-s'] });
      await call('delete_instance', { instance: 'docs' });
      return { backends, exec };
    }

    it('mcp-run and mcp-policy: install, stdio server, the policy file over Streamable HTTP', async () => {
      const lines = shellLines(readmeBlock('packages/mcp/README.md', 'mcp-run').code);
      expect(lines).toHaveLength(3);
      const first = await runLines(lines.slice(0, 2), options());
      expectAllOk(first, 2);
      // stdio: nothing but the protocol on stdout; with stdin closed the client is gone: it exits.
      expect(first[1]?.stdout).toBe('');
      expect(first[1]?.stderr).toContain('vms mcp: serving docker on stdio');

      // The README's port (8765) is the lock's too.
      const served = await withReadmeNames(() =>
        serveLine(
          lines[2] as string,
          { ...options(), ready: /listening on (\S+)\n.*bearer token: (\S+)\n/s },
          async (m) => {
            const transport = new StreamableHTTPClientTransport(new URL(m[1] as string), {
              requestInit: { headers: { Authorization: `Bearer ${m[2]}` } },
            });
            return over(transport);
          },
        ),
      );
      expect(served.value.backends.backends).toContainEqual(
        expect.objectContaining({ name: 'docker', allowed: true, available: true }),
      );
      expect(served.value.backends.templates.map((t) => t.name).sort()).toEqual(['alpine', 'vm']);
      expect(served.value.exec).toMatchObject({ exitCode: 0, stdout: 'Linux\n' });
      expect(served.code).toBe(130);
    });

    it('mcp-client-stdio: the client configuration spawns the server and talks to it', async () => {
      const config = JSON.parse(
        substitute(readmeBlock('packages/mcp/README.md', 'mcp-client-stdio').code, [
          ['/home/me/.config/vms/mcp-policy.json', policy],
        ]),
      ) as { mcpServers: { vms: { command: string; args: string[] } } };
      const { command, args } = config.mcpServers.vms;
      const env = Object.fromEntries(
        Object.entries(options().env).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const transport = new StdioClientTransport({
        command,
        args,
        env,
        cwd: npm.dir,
        stderr: 'pipe',
      });
      const r = await over(transport);
      expect(r.exec).toMatchObject({ exitCode: 0, stdout: 'Linux\n' });
    });

    it('mcp-client-http: the client configuration reaches `VMS_MCP_TOKEN=… vms mcp --http --port 8765`', async () => {
      const token = `docs-${Math.random().toString(36).slice(2)}-${Date.now()}`;
      const config = JSON.parse(
        substitute(readmeBlock('packages/mcp/README.md', 'mcp-client-http').code, [
          ['YOUR-TOKEN', token],
        ]),
      ) as { mcpServers: { vms: { type: string; url: string; headers: Record<string, string> } } };
      const { type, url, headers } = config.mcpServers.vms;
      expect(type).toBe('http');
      const served = await withReadmeNames(() =>
        serveLine(
          `VMS_MCP_TOKEN=${token} vms mcp --http --port 8765 --config ${policy}`,
          { ...options(), ready: /listening on \S+\n/ },
          async (_m, output) => {
            expect(output()).not.toContain(token);
            const transport = new StreamableHTTPClientTransport(new URL(url), {
              requestInit: { headers },
            });
            return over(transport);
          },
        ),
      );
      expect(served.value.exec).toMatchObject({ exitCode: 0, stdout: 'Linux\n' });
      expect(served.code).toBe(130);
    });
  });
});
