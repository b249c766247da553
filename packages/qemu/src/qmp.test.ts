/** QmpClient against a scripted QMP server on a unix socket (the protocol as QEMU 7.2 speaks it). */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QmpClient, QmpCommandError } from './qmp.js';

type Handler = (
  cmd: { execute: string; arguments?: Record<string, unknown>; id?: unknown },
  reply: (m: object) => void,
) => void;

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fakeQemu(handler: Handler): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vq-qmp-'));
  dirs.push(dir);
  const path = join(dir, 'qmp.sock');
  const server = createServer((socket: Socket) => {
    const reply = (m: object) => socket.write(`${JSON.stringify(m)}\r\n`);
    reply({
      QMP: {
        version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'test' },
        capabilities: ['oob'],
      },
    });
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (cmd.execute === 'qmp_capabilities') reply({ return: {}, id: cmd.id });
        else if (cmd.execute === 'quit') {
          reply({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
          reply({ return: {}, id: cmd.id });
          socket.end();
        } else handler(cmd, reply);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

describe('QmpClient', () => {
  it('negotiates, reads the version, and matches replies by id when events come first', async () => {
    const path = await fakeQemu((cmd, reply) => {
      if (cmd.execute === 'stop') {
        reply({ timestamp: { seconds: 1, microseconds: 2 }, event: 'STOP' });
        reply({ return: {}, id: cmd.id });
      } else if (cmd.execute === 'query-status') {
        reply({ return: { status: 'paused', running: false }, id: cmd.id });
      }
    });
    const q = await QmpClient.connect(path, { timeoutMs: 5_000 });
    expect(q.version).toEqual({ micro: 22, minor: 2, major: 7 });
    const stopEvent = q.waitEvent('STOP');
    await q.execute('stop');
    expect((await stopEvent).event).toBe('STOP');
    expect(await q.execute('query-status')).toEqual({ status: 'paused', running: false });
    q.close();
  });

  it('answers concurrent commands out of order to the right callers', async () => {
    const held: Array<() => void> = [];
    const path = await fakeQemu((cmd, reply) => {
      const answer = () => reply({ return: cmd.execute, id: cmd.id });
      if (cmd.execute === 'slow') held.push(answer);
      else {
        answer();
        for (const h of held.splice(0)) h();
      }
    });
    const q = await QmpClient.connect(path);
    const slow = q.execute('slow');
    const fast = q.execute('fast');
    expect(await fast).toBe('fast');
    expect(await slow).toBe('slow');
    q.close();
  });

  it('maps QMP errors to QmpCommandError with the class', async () => {
    const path = await fakeQemu((cmd, reply) =>
      reply({
        error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` },
        id: cmd.id,
      }),
    );
    const q = await QmpClient.connect(path);
    const error = await q.execute('nosuch').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(error).toMatchObject({
      code: 'OPERATION_FAILED',
      qmpClass: 'CommandNotFound',
      command: 'nosuch',
    });
    q.close();
  });

  it('turns HMP error text inside a successful reply into an error', async () => {
    const path = await fakeQemu((cmd, reply) => {
      const line = String(cmd.arguments?.['command-line']);
      const text = line.startsWith('loadvm')
        ? "Error: Snapshot 'nosuch' does not exist in one or more devices\r\n"
        : 'There is no snapshot available.\r\n';
      reply({ return: text, id: cmd.id });
    });
    const q = await QmpClient.connect(path);
    expect(await q.hmp('info snapshots')).toBe('There is no snapshot available.\n');
    await expect(q.hmp('loadvm nosuch')).rejects.toMatchObject({
      qmpClass: 'HmpError',
      message: /does not exist/,
    });
    q.close();
  });

  it('times out a command that gets no reply, and rejects pending calls when QEMU goes away', async () => {
    let drop: (() => void) | undefined;
    const path = await fakeQemu((cmd, _reply) => {
      if (cmd.execute === 'hang') return;
      drop?.();
    });
    const q = await QmpClient.connect(path);
    await expect(q.execute('hang', undefined, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    const shutdown = q.waitEvent('SHUTDOWN');
    const pending = q.execute('hang', undefined, { timeoutMs: 5_000 });
    await q.execute('quit');
    expect((await shutdown).data).toEqual({ guest: false, reason: 'host-qmp-quit' });
    await expect(pending).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    await q.closed;
    expect(q.isClosed).toBe(true);
  });

  it('honours an abort signal', async () => {
    const path = await fakeQemu(() => {});
    const q = await QmpClient.connect(path);
    const ac = new AbortController();
    const p = q.execute('hang', undefined, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    q.close();
  });

  it('fails to connect with a typed error when nothing listens', async () => {
    await expect(QmpClient.connect('/nonexistent/qmp.sock')).rejects.toMatchObject({
      code: 'PROTOCOL_ERROR',
    });
  });
});
