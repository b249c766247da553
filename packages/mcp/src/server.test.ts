/**
 * The library API in-process (the SDK's in-memory transport), with core's mock backend for what
 * no real engine here can show: a backend without a no-network mode, one that is unavailable, one
 * without snapshots; malformed requests; close() deleting everything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createMockBackend } from '@vms/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createVmsMcpServer, type PolicyInput, type VmsMcpServer } from './index.js';
import { listSessions } from './sessions.js';

let server: VmsMcpServer | undefined;
const homes: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

async function connect(
  backends: Parameters<typeof createVmsMcpServer>[0]['backends'],
  policy: PolicyInput,
) {
  const home = mkdtempSync(join(tmpdir(), 'vms-mcp-home-'));
  homes.push(home);
  server = createVmsMcpServer({ backends, policy, home, instanceSettings: { home } });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const session = await server.connect(serverSide);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(clientSide);
  const call = async (name: string, args: unknown) => {
    const r = (await client.callTool({
      name,
      arguments: args as Record<string, unknown>,
    })) as CallToolResult;
    return {
      isError: r.isError === true,
      data: (r.structuredContent ?? {}) as { error?: Record<string, unknown>; instance?: unknown },
    };
  };
  return { client, call, session, home };
}

describe('createVmsMcpServer', () => {
  it('refuses a backend that cannot run without network unless the policy allows network', async () => {
    const mock = createMockBackend();
    const { call } = await connect([mock], { images: ['mock:*'] });
    const refused = await call('create_instance', { image: 'mock:1' });
    expect(refused).toMatchObject({
      isError: true,
      data: { error: { code: 'POLICY_REFUSED', rule: 'network' } },
    });
    expect(mock.world.size).toBe(0);
    await server?.close();
    const allowed = await connect([mock], { images: ['mock:*'], network: 'allow' });
    expect(
      (await allowed.call('create_instance', { image: 'mock:1' })).data.instance,
    ).toMatchObject({ name: 'vm-1', state: 'running' });
    expect(mock.world.size).toBe(1);
  });

  it('says why a backend is unavailable, and which capability is missing', async () => {
    const gone = createMockBackend({ name: 'gone', available: false });
    const plain = createMockBackend({ name: 'plain', capabilities: { snapshot: false } });
    const { call } = await connect([gone, plain], { images: ['mock:*'], network: 'allow' });
    expect(
      (await call('create_instance', { image: 'mock:1', backend: 'gone' })).data.error,
    ).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
    });
    await call('create_instance', { name: 'p', image: 'mock:1', backend: 'plain' });
    expect(
      (await call('snapshot_create', { instance: 'p', snapshot: 's1' })).data.error,
    ).toMatchObject({
      code: 'CAPABILITY_UNSUPPORTED',
      capability: 'snapshot',
    });
  });

  it('answers malformed requests with tool errors and keeps serving', async () => {
    const { call, client } = await connect([createMockBackend()], {});
    // Arguments that are not an object break the protocol's schema: a protocol error, not a crash.
    for (const args of [[1, 2], 'text'])
      await expect(call('exec', args)).rejects.toThrow(/expected record/);
    for (const args of [
      { instance: 5, command: ['x'] },
      { instance: 'x', command: [] },
      { instance: 'x', command: ['x'], extra: 1 },
    ]) {
      const r = await call('exec', args);
      expect(r.isError).toBe(true);
      expect(r.data.error?.code).toMatch(/INVALID_OPTIONS|NOT_FOUND/);
    }
    expect((await call('create_instance', {})).data.error).toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'image',
    });
    expect((await client.listTools()).tools.length).toBeGreaterThan(10);
  });

  it('close() deletes every instance of every session and removes the session records', async () => {
    const mock = createMockBackend();
    const { call, home } = await connect([mock], { images: ['mock:*'], network: 'allow' });
    await call('create_instance', { image: 'mock:1' });
    await call('create_instance', { image: 'mock:1' });
    expect([...mock.world.keys()].every((n) => /^mcp-[0-9a-f]{8}-vm-[12]$/.test(n))).toBe(true);
    expect(await listSessions(home)).toEqual([
      expect.objectContaining({ alive: true, pid: process.pid }),
    ]);
    await server?.close();
    expect(mock.world.size).toBe(0);
    expect(await listSessions(home)).toEqual([]);
  });

  it('a session that ends lets its aborted calls finish before deleting (an exec ends its process first)', async () => {
    const mock = createMockBackend();
    const events: string[] = [];
    let execStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      execStarted = resolve;
    });
    // An exec whose process takes a moment to end once aborted, like ssh being torn down.
    const backend: typeof mock = {
      ...mock,
      driver: (name, options) => {
        const real = mock.driver(name, options);
        return {
          ...real,
          doExec: (_argv, _io, ctx) =>
            new Promise((_, reject) => {
              events.push('exec started');
              execStarted();
              ctx.signal.addEventListener(
                'abort',
                () =>
                  setTimeout(() => {
                    events.push('exec process ended');
                    reject(ctx.signal.reason);
                  }, 300),
                { once: true },
              );
            }),
          doDelete: (ctx) => {
            events.push('delete');
            return real.doDelete(ctx);
          },
        };
      },
    };
    const { call, client, session } = await connect([backend], {
      images: ['mock:*'],
      network: 'allow',
    });
    await call('create_instance', { image: 'mock:1', name: 'a' });
    const running = call('exec', { instance: 'a', command: ['sleep', '600'] }).catch(() => ({}));
    await started;
    await client.close(); // the client goes: the session ends
    await session.closed;
    expect(events).toEqual(['exec started', 'exec process ended', 'delete']);
    expect(mock.world.size).toBe(0);
    await running;
  });
});
