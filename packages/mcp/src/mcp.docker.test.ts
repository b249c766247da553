/**
 * The built `vms mcp` against real docker, driven by the MCP SDK's own client over stdio and
 * Streamable HTTP. Every container carries the test run's and this file's labels (through the
 * policy's `labels`) and is swept after the file, and at the run's end however it ends.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SUITE_LABEL, testEngine } from '@vms/container-engine/testing';
import { pidExists } from '@vms/core';
import { testRunLabels } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  childClient,
  connectHttp,
  connectStdio,
  mcpProject,
  type Project,
  runVms,
  startHttp,
  toolErrorOf,
  until,
  writePolicy,
} from './test-support/harness.js';

const IMAGE = 'vms-test/busybox:latest';
const engine = testEngine('docker');
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
const reason = built ? engine.unavailableReason() : '@vms/mcp is not built';
if (reason) console.warn(`skipping the docker tests of @vms/mcp: ${reason}`);

const run = randomBytes(4).toString('hex');

/** Names of this run's containers (running or not), optionally of one MCP session. */
function containers(session?: string): string[] {
  const filters = ['--filter', `label=${TEST_SUITE_LABEL}=${run}`];
  if (session) filters.push('--filter', `label=dev.vms.mcp-session=${session}`);
  return engine
    .cli('ps', '-a', '--format', '{{.Names}}', ...filters)
    .split('\n')
    .filter(Boolean);
}

/** Whether a process whose command line contains `marker` runs in the container. */
function runsIn(container: string, marker: string): boolean {
  try {
    return engine.cli('top', container, '-o', 'pid,args').includes(marker);
  } catch {
    return false; // the container is gone
  }
}

function sessionFiles(project: Project): string[] {
  const dir = join(project.env.VMS_HOME as string, 'mcp', 'sessions');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

describe.skipIf(reason !== undefined)('vms mcp against real docker', () => {
  let project: Project;
  let share: string;
  let policy: string;

  beforeAll(() => {
    project = mcpProject(['docker']);
    share = join(project.dir, 'share');
    mkdirSync(share);
    policy = writePolicy(project, 'policy', {
      images: ['vms-test/*'],
      templates: { box: { backend: 'docker', description: 'busybox', options: { image: IMAGE } } },
      hostPaths: [share],
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
      maxInstances: 2,
    });
  });
  afterAll(async () => {
    await engine.sweepTestSuite(run);
    project?.cleanup();
  });

  it('stdio: create → exec → write file → read it back → logs → delete, with progress', async () => {
    const server = await connectStdio(project, ['--config', policy]);
    try {
      const tools = (await server.client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(
        expect.arrayContaining([
          'list_backends',
          'create_instance',
          'exec',
          'write_file',
          'read_file',
          'logs',
          'delete_instance',
        ]),
      );
      const backends = await call(server.client, 'list_backends', {});
      expect(backends.data.backends).toContainEqual(
        expect.objectContaining({ name: 'docker', available: true, allowed: true }),
      );

      const steps: string[] = [];
      const created = await call(
        server.client,
        'create_instance',
        { name: 'web', image: IMAGE, env: { GREETING: 'hello' } },
        { onprogress: (p) => steps.push(p.message ?? '') },
      );
      expect(created.result.isError).toBeFalsy();
      expect(created.data.instance).toMatchObject({
        name: 'web',
        backend: 'docker',
        state: 'running',
      });
      expect(steps.some((s) => s.startsWith('creating'))).toBe(true);
      const id = String((created.data.instance as { id: string }).id);
      const container = id.slice('docker:'.length);
      // Labelled with its session and named by its prefix, so prune can find it after a crash.
      const labels = JSON.parse(
        engine.cli('inspect', '--format', '{{json .Config.Labels}}', container),
      );
      expect(container).toMatch(new RegExp(`^mcp-${labels['dev.vms.mcp-session']}-web$`));
      expect(
        engine.cli('inspect', '--format', '{{.HostConfig.NetworkMode}}', container).trim(),
      ).toBe('none');

      const exec = await call(server.client, 'exec', {
        instance: 'web',
        command: ['sh', '-c', 'echo "$GREETING $EXTRA"; cat; echo oops >&2; exit 3'],
        stdin: 'from stdin\n',
        env: { EXTRA: 'world' },
      });
      expect(exec.data).toMatchObject({
        exitCode: 3,
        stdout: 'hello world\nfrom stdin\n',
        stderr: 'oops\n',
        stdoutTruncated: false,
      });
      expect(exec.text).toContain('exit code 3');

      const capped = await call(server.client, 'exec', {
        instance: 'web',
        command: ['sh', '-c', 'printf 0123456789'],
        maxOutputBytes: 4,
      });
      expect(capped.data).toMatchObject({ stdout: '0123', stdoutBytes: 10, stdoutTruncated: true });
      expect(capped.text).toContain('first 4 of 10 bytes');

      const write = await call(server.client, 'write_file', {
        instance: 'web',
        path: '/tmp/note.txt',
        content: 'written by an agent\n',
      });
      expect(write.data).toMatchObject({ bytes: 20, method: 'copy' });
      expect(engine.cli('exec', container, 'cat', '/tmp/note.txt')).toBe('written by an agent\n');
      const read = await call(server.client, 'read_file', {
        instance: 'web',
        path: '/tmp/note.txt',
      });
      expect(read.data).toMatchObject({
        content: 'written by an agent\n',
        encoding: 'utf8',
        truncated: false,
      });

      const binary = Buffer.from([0, 1, 2, 255, 254]);
      await call(server.client, 'write_file', {
        instance: 'web',
        path: '/tmp/bin',
        content: binary.toString('base64'),
        encoding: 'base64',
      });
      const back = await call(server.client, 'read_file', { instance: 'web', path: '/tmp/bin' });
      expect(back.data).toMatchObject({ encoding: 'base64', content: binary.toString('base64') });

      writeFileSync(join(share, 'in.txt'), 'from the host\n');
      await call(server.client, 'write_file', {
        instance: 'web',
        path: '/tmp/in.txt',
        fromHostPath: join(share, 'in.txt'),
      });
      const out = await call(server.client, 'read_file', {
        instance: 'web',
        path: '/tmp/in.txt',
        toHostPath: join(share, 'out.txt'),
      });
      expect(out.result.isError).toBeFalsy();
      expect(readFileSync(join(share, 'out.txt'), 'utf8')).toBe('from the host\n');

      await call(server.client, 'exec', {
        instance: 'web',
        command: ['sh', '-c', 'echo to-the-log > /proc/1/fd/1'],
      });
      const logs = await call(server.client, 'logs', { instance: 'web', tail: 10 });
      expect(logs.data.output).toContain('to-the-log');

      // Snapshots: taken, listed, restored (files come back), and deleted with the instance.
      await call(server.client, 'snapshot_create', { instance: 'web', snapshot: 's1' });
      expect(
        (await call(server.client, 'snapshot_list', { instance: 'web' })).data.snapshots,
      ).toEqual([expect.objectContaining({ name: 's1' })]);
      await call(server.client, 'exec', { instance: 'web', command: ['rm', '/tmp/note.txt'] });
      const restored = await call(server.client, 'snapshot_restore', {
        instance: 'web',
        snapshot: 's1',
      });
      expect(restored.result.isError).toBeFalsy();
      await call(server.client, 'start_instance', { instance: 'web' });
      expect(
        (await call(server.client, 'exec', { instance: 'web', command: ['cat', '/tmp/note.txt'] }))
          .data.stdout,
      ).toBe('written by an agent\n');

      const listed = await call(server.client, 'list_instances', {});
      expect(listed.data.instances).toEqual([
        expect.objectContaining({ name: 'web', state: 'running' }),
      ]);
      const deleted = await call(server.client, 'delete_instance', { instance: 'web' });
      expect(deleted.data).toMatchObject({ deleted: 'web' });
      expect(containers()).not.toContain(container);
      expect(
        engine.cli('images', '-q', '--filter', `label=dev.vms.snapshot-of=${container}`).trim(),
      ).toBe('');
    } finally {
      await server.client.close();
    }
  });

  it('refuses what the policy forbids, naming the rule; bad input is a tool error, never a crash', async () => {
    const strict = writePolicy(project, 'strict', {
      backends: ['docker'],
      images: ['vms-test/*'],
      hostPaths: [share],
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
      maxInstances: 1,
      maxCpus: 1,
      maxMemoryMiB: 256,
      defaultMemoryMiB: 128,
      maxExecTimeoutMs: 5_000,
      defaultExecTimeoutMs: 5_000,
      maxOutputBytes: 1024,
      maxFileBytes: 16,
    });
    const server = await connectStdio(project, ['--config', strict]);
    const c = server.client;
    try {
      const refused = async (tool: string, args: Record<string, unknown>, rule: string) => {
        const e = toolErrorOf(await call(c, tool, args));
        expect(e, `${tool} ${JSON.stringify(args)}`).toMatchObject({
          code: 'POLICY_REFUSED',
          rule,
        });
        expect(e.message).toContain(`policy rule ${rule}`);
        return e;
      };
      expect((await refused('create_instance', { image: 'alpine:3.20' }, 'images')).hint).toContain(
        'vms-test/*',
      );
      await refused('create_instance', { template: 'nope' }, 'templates');
      await refused('create_instance', { image: IMAGE, backend: 'qemu' }, 'backends');
      await refused('create_instance', { image: IMAGE, cpus: 2 }, 'maxCpus');
      await refused('create_instance', { image: IMAGE, memoryMiB: 512 }, 'maxMemoryMiB');
      expect(containers().filter((n) => n.startsWith('mcp-'))).toEqual([]);

      const ok = await call(c, 'create_instance', { name: 'one', image: IMAGE });
      expect(ok.result.isError).toBeFalsy();
      await refused('create_instance', { name: 'two', image: IMAGE }, 'maxInstances');
      await refused(
        'exec',
        { instance: 'one', command: ['true'], timeoutMs: 60_000 },
        'maxExecTimeoutMs',
      );
      await refused(
        'exec',
        { instance: 'one', command: ['true'], maxOutputBytes: 4096 },
        'maxOutputBytes',
      );
      await refused(
        'exec',
        { instance: 'one', command: ['cat'], stdin: 'x'.repeat(17) },
        'maxFileBytes',
      );
      await refused(
        'write_file',
        { instance: 'one', path: '/tmp/big', content: 'x'.repeat(17) },
        'maxFileBytes',
      );
      await refused(
        'write_file',
        { instance: 'one', path: '/tmp/p', fromHostPath: '/etc/hostname' },
        'hostPaths',
      );
      await refused(
        'read_file',
        { instance: 'one', path: '/etc/hostname', toHostPath: join(project.dir, 'x') },
        'hostPaths',
      );
      symlinkSync('/etc', join(share, 'escape'));
      await refused(
        'write_file',
        { instance: 'one', path: '/tmp/p', fromHostPath: join(share, 'escape', 'hostname') },
        'hostPaths',
      );
      await refused(
        'read_file',
        { instance: 'one', path: '/etc/passwd', maxBytes: 17 },
        'maxFileBytes',
      );
      const cut = await call(c, 'read_file', { instance: 'one', path: '/etc/passwd' });
      expect(cut.data).toMatchObject({ truncated: true, returnedBytes: 16 });

      // Bad input: tool errors naming the field, with the @vms code; the server stays up.
      expect(toolErrorOf(await call(c, 'exec', { instance: 'one', command: 'ls' }))).toMatchObject({
        code: 'INVALID_OPTIONS',
        field: 'command',
      });
      expect(
        toolErrorOf(await call(c, 'create_instance', { image: IMAGE, name: '../x' })),
      ).toMatchObject({
        code: 'INVALID_OPTIONS',
        field: 'name',
      });
      expect(
        toolErrorOf(await call(c, 'create_instance', { image: IMAGE, bogus: 1 })),
      ).toMatchObject({
        code: 'INVALID_OPTIONS',
      });
      expect(
        toolErrorOf(await call(c, 'exec', { instance: 'ghost', command: ['true'] })),
      ).toMatchObject({
        code: 'NOT_FOUND',
      });
      const timedOut = await call(c, 'exec', {
        instance: 'one',
        command: ['sh', '-c', 'echo started; exec sleep 30'],
        timeoutMs: 1_000,
      });
      expect(toolErrorOf(timedOut)).toMatchObject({ code: 'TIMEOUT' });
      expect(timedOut.data.stdout).toBe('started\n');
      await expect(c.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(
        /not found/,
      );
      expect((await call(c, 'list_instances', {})).data.instances).toHaveLength(1);
    } finally {
      await c.close();
    }
    await until(() => !pidExists(server.pid), 30_000, 'the server to exit');
  });

  it('a client that dies mid-exec leaves nothing running: the command ends and the instance goes', async () => {
    const marker = 'sleep 3377';
    const client = await childClient(
      project,
      ['--config', policy],
      { name: 'busy', image: IMAGE },
      { instance: 'busy', command: ['sh', '-c', `exec ${marker}`] },
    );
    const container = client.id.slice('docker:'.length);
    await until(() => runsIn(container, marker), 30_000, 'the command to run in the container');
    client.kill(); // the client crashes: the server's stdin closes, no signal reaches it
    await until(() => !pidExists(client.serverPid), 60_000, 'the server to exit');
    expect(containers()).not.toContain(container);
    expect(sessionFiles(project)).toEqual([]);
  });

  it('cancelling an exec kills the command in the container and keeps the instance', async () => {
    const server = await connectStdio(project, ['--config', policy]);
    try {
      const created = await call(server.client, 'create_instance', { name: 'c', image: IMAGE });
      const container = String((created.data.instance as { id: string }).id).slice(
        'docker:'.length,
      );
      const marker = 'sleep 4242';
      const controller = new AbortController();
      const pending = server.client
        .callTool(
          { name: 'exec', arguments: { instance: 'c', command: ['sh', '-c', `exec ${marker}`] } },
          undefined,
          {
            signal: controller.signal,
          },
        )
        .catch((error: unknown) => error);
      await until(() => runsIn(container, marker), 30_000, 'the command to run');
      controller.abort();
      await pending;
      await until(() => !runsIn(container, marker), 30_000, 'the command to end in the container');
      const again = await call(server.client, 'exec', {
        instance: 'c',
        command: ['echo', 'still here'],
      });
      expect(again.data).toMatchObject({ exitCode: 0, stdout: 'still here\n' });
    } finally {
      await server.client.close();
    }
  });

  it('a server killed with SIGKILL leaves its instances; vms prune --mcp deletes them and skips a live server’s', async () => {
    const victim = await connectStdio(project, ['--config', policy]);
    const a = await call(victim.client, 'create_instance', { name: 'left', image: IMAGE });
    const leftover = String((a.data.instance as { id: string }).id).slice('docker:'.length);
    process.kill(victim.pid, 'SIGKILL');
    await until(() => !pidExists(victim.pid), 30_000, 'the killed server to be gone');
    await victim.client.close().catch(() => {});
    expect(containers()).toContain(leftover);
    expect(sessionFiles(project)).toHaveLength(1);

    const alive = await connectStdio(project, ['--config', policy]);
    try {
      const b = await call(alive.client, 'create_instance', { name: 'mine', image: IMAGE });
      const kept = String((b.data.instance as { id: string }).id).slice('docker:'.length);
      const dry = await runVms(
        project,
        ['prune', '--mcp', '--dry-run', '--json', '--backend', 'docker'],
        { timeoutMs: 120_000 },
      );
      expect(JSON.parse(dry.stdout).instances).toEqual([
        { id: `docker:${leftover}`, deleted: false },
      ]);
      const pruned = await runVms(
        project,
        ['prune', '--mcp', '--yes', '--json', '--backend', 'docker'],
        { timeoutMs: 120_000 },
      );
      expect(pruned.code).toBe(0);
      const result = JSON.parse(pruned.stdout);
      expect(result.instances).toEqual([{ id: `docker:${leftover}`, deleted: true }]);
      expect(result.skipped).toEqual([expect.objectContaining({ id: `docker:${kept}` })]);
      expect(containers()).not.toContain(leftover);
      expect(containers()).toContain(kept);
      expect(sessionFiles(project)).toHaveLength(1); // the live server's
    } finally {
      await alive.client.close();
    }
    await until(() => !pidExists(alive.pid), 60_000, 'the live server to exit');
    expect(sessionFiles(project)).toEqual([]);
  });

  it('http: 127.0.0.1 only, bearer token, Host and Origin checked; ending the session mid-exec deletes its instance', async () => {
    const server = await startHttp(project, ['--config', policy]);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const init = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      };
      const post = (headers: Record<string, string>) =>
        fetch(server.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...headers,
          },
          body: JSON.stringify(init),
        });
      expect((await post({})).status).toBe(401);
      expect((await post({ authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
      const auth = { authorization: `Bearer ${server.token}` };
      expect((await post({ ...auth, origin: 'http://evil.example' })).status).toBe(403);
      const port = new URL(server.url).port;
      const { request } = await import('node:http');
      const badHost = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/mcp',
            method: 'POST',
            headers: { ...auth, host: `evil.example:${port}`, 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(init));
      });
      expect(badHost).toBe(403);

      const { client, transport } = await connectHttp(server);
      const created = await call(client, 'create_instance', { name: 'h', image: IMAGE });
      expect(created.data.instance).toMatchObject({ state: 'running' });
      const container = String((created.data.instance as { id: string }).id).slice(
        'docker:'.length,
      );
      await call(client, 'write_file', { instance: 'h', path: '/tmp/h.txt', content: 'over http' });
      expect(
        (await call(client, 'read_file', { instance: 'h', path: '/tmp/h.txt' })).data.content,
      ).toBe('over http');
      const marker = 'sleep 5151';
      const pending = client
        .callTool(
          { name: 'exec', arguments: { instance: 'h', command: ['sh', '-c', `exec ${marker}`] } },
          undefined,
          { timeout: 600_000 },
        )
        .catch((error: unknown) => error);
      await until(() => runsIn(container, marker), 30_000, 'the command to run');
      await transport.terminateSession();
      await client.close();
      await pending;
      await until(
        () => !containers().includes(container),
        60_000,
        'the session’s container to be deleted',
      );
      expect(server.child.exitCode).toBe(null); // the server itself keeps serving
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(130); // interrupted, as the CLI's exit codes say
    }
    expect(sessionFiles(project)).toEqual([]);
  });

  it('deletes an instance when its lifetime is over', async () => {
    const short = writePolicy(project, 'short', {
      images: ['vms-test/*'],
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
      instanceLifetimeMs: 3_000,
    });
    const server = await connectStdio(project, ['--config', short]);
    try {
      const created = await call(server.client, 'create_instance', { name: 'brief', image: IMAGE });
      const container = String((created.data.instance as { id: string }).id).slice(
        'docker:'.length,
      );
      expect(containers()).toContain(container);
      await until(
        () => !containers().includes(container),
        60_000,
        'the expired instance to be deleted',
      );
      expect((await call(server.client, 'list_instances', {})).data.instances).toEqual([]);
      expect(
        toolErrorOf(await call(server.client, 'exec', { instance: 'brief', command: ['true'] }))
          .code,
      ).toBe('NOT_FOUND');
    } finally {
      await server.client.close();
    }
  });

  it('serves creates of a warm template from a ready instance', async () => {
    const warm = writePolicy(project, 'warm', {
      templates: { box: { backend: 'docker', options: { image: IMAGE } } },
      warm: [{ template: 'box', min: 1, max: 2 }],
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
    });
    const server = await connectStdio(project, ['--config', warm]);
    try {
      await until(
        () => containers().some((n) => /^mcp-[0-9a-f]{8}-w0-/.test(n)),
        60_000,
        'the pool to warm up',
      );
      const created = await call(server.client, 'create_instance', {
        name: 'fast',
        template: 'box',
      });
      expect(created.data.instance).toMatchObject({
        warm: true,
        state: 'running',
        template: 'box',
      });
      expect(created.text).toContain('from the warm pool');
      expect(
        (await call(server.client, 'exec', { instance: 'fast', command: ['echo', 'warm'] })).data
          .stdout,
      ).toBe('warm\n');
    } finally {
      await server.client.close();
    }
    await until(
      () => !containers().some((n) => /^mcp-[0-9a-f]{8}-w0-/.test(n)),
      60_000,
      'the pool’s instances to be deleted',
    );
  });
});
