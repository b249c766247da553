import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './http.js';

// An engine stand-in on a unix socket for the two answers a real engine may give an exec start:
// 101 and a raw stream (docker, podman), or a plain 200 whose body is the stream (older proxies).
const dir = mkdtempSync(path.join(os.tmpdir(), 'vms-http-'));
const socketPath = path.join(dir, 'engine.sock');
// Node's server hands every request that asks for an upgrade to 'upgrade', so it answers there.
const server = http.createServer((_req, res) => res.writeHead(400).end());
server.on('upgrade', (req, socket: Duplex) => {
  const reply = (status: string, body: string) =>
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  if (req.url === '/plain/start') return reply('200 OK', 'plain body');
  if (req.url !== '/upgrade/start') return reply('404 Not Found', '{"message":"no such exec"}');
  socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  socket.on('data', (d: Buffer) => socket.end(`echo:${d.toString()}|host:${req.headers.host}`));
});
const ctx = () => ({ signal: new AbortController().signal, deadline: Date.now() + 10_000 });
const read = (stream: Duplex, head: Buffer) =>
  new Promise<string>((resolve, reject) => {
    let text = head.toString();
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });

beforeAll(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('ApiClient.hijack', () => {
  const client = new ApiClient({ socketPath }, `unix://${socketPath}`);
  afterAll(() => client.close());

  it('hands back the upgraded connection both ways, sent with the Host header the engine expects', async () => {
    const { socket, head } = await client.hijack('/upgrade/start', ctx());
    const text = read(socket, head);
    socket.write('stdin');
    expect(await text).toBe('echo:stdin|host:docker');
  });

  it('hands back the body as the stream when the engine answers 200 without upgrading', async () => {
    const { socket, head } = await client.hijack('/plain/start', ctx());
    expect(await read(socket, head)).toBe('plain body');
  });

  it("fails with the engine's status and message", async () => {
    await expect(client.hijack('/missing/start', ctx())).rejects.toMatchObject({
      status: 404,
      engineMessage: 'no such exec',
    });
  });
});
