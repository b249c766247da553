import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionsError, OperationFailedError, TimeoutError } from './errors.js';
import { type ReadinessTarget, readiness } from './readiness.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

const within = (ms: number) => ({
  signal: new AbortController().signal,
  deadline: Date.now() + ms,
});

/** A port nothing listens on (bound, read, released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listen(port: number): Server {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  server.listen(port, '127.0.0.1');
  return server;
}

/** A target whose exec answers from a script of results, recording every argv. */
function fakeTarget(
  answer: (argv: string[], call: number) => { exitCode: number; stdout?: string; stderr?: string },
) {
  const calls: string[][] = [];
  const target: ReadinessTarget = {
    async exec(argv) {
      calls.push(argv);
      const r = answer(argv, calls.length);
      return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
  };
  return { target, calls };
}

describe('readiness.exec', () => {
  it('retries until the command exits 0 and prints the expected output', async () => {
    const { target, calls } = fakeTarget((_argv, call) =>
      call < 3 ? { exitCode: 1, stderr: 'not yet' } : { exitCode: 0, stdout: 'status: ready\n' },
    );
    await readiness
      .exec(['systemctl', 'is-system-running'], { expectStdout: /ready/ })
      .wait(target, within(30_000));
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual(['systemctl', 'is-system-running']);
  });

  it('times out naming the last failure', async () => {
    const { target } = fakeTarget(() => ({ exitCode: 0, stdout: 'booting' }));
    const error = await readiness
      .exec(['cat', '/ready'], { expectStdout: 'done' })
      .wait(target, within(300))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain('waiting for `cat /ready`');
    expect((error as TimeoutError).message).toContain('unexpected output: booting');
  });

  it('accepts another expected exit code', async () => {
    const { target } = fakeTarget(() => ({ exitCode: 3 }));
    await expect(
      readiness.exec(['probe'], { expectExitCode: 3 }).wait(target, within(5000)),
    ).resolves.toBeUndefined();
  });

  it('validates its arguments, naming the field', () => {
    expect(() => readiness.exec([])).toThrow(InvalidOptionsError);
    try {
      readiness.exec(['x'], { attemptTimeoutMs: -1 });
    } catch (error) {
      expect((error as InvalidOptionsError).field).toBe('attemptTimeoutMs');
    }
  });
});

describe('readiness.echoNonce', () => {
  it('passes only when the nonce comes back', async () => {
    const echo = fakeTarget((argv) => ({ exitCode: 0, stdout: `${argv[1]}\n` }));
    await readiness.echoNonce().wait(echo.target, within(5000));
    expect(echo.calls[0]?.[0]).toBe('echo');
    expect(echo.calls[0]?.[1]).toMatch(/^vms-ready-[0-9a-f]{16}$/);

    const stale = fakeTarget(() => ({ exitCode: 0, stdout: 'vms-ready-0000000000000000\n' }));
    await expect(readiness.echoNonce().wait(stale.target, within(200))).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });
});

describe('readiness.tcpPort', () => {
  it('waits for a server that starts listening after the first refused attempt', async () => {
    const port = await freePort();
    let lookups = 0;
    const target: ReadinessTarget = {
      exec: () => Promise.reject(new Error('unused')),
      hostPort(guest) {
        lookups++;
        // The first attempt found the port closed; start listening now (the real event).
        if (lookups === 2) listen(port);
        return guest === 22 ? port : undefined;
      },
    };
    await readiness.tcpPort(22, { guest: true }).wait(target, within(30_000));
    expect(lookups).toBeGreaterThanOrEqual(2);
  });

  it('connects to a host port directly', async () => {
    const port = await freePort();
    const server = listen(port);
    await new Promise((resolve) => server.once('listening', resolve));
    await readiness
      .tcpPort(port)
      .wait({ exec: () => Promise.reject(new Error('unused')) }, within(10_000));
  });

  it('times out with the connection error when nothing listens', async () => {
    const port = await freePort();
    const error = await readiness
      .tcpPort(port)
      .wait({ exec: () => Promise.reject(new Error('unused')) }, within(300))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain('ECONNREFUSED');
  });

  it('fails at once for a guest port on a target without port forwards', async () => {
    const error = await readiness
      .tcpPort(80, { guest: true })
      .wait({ exec: () => Promise.reject(new Error('unused')) }, within(30_000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
  });

  it('rejects an invalid port naming the field', () => {
    try {
      readiness.tcpPort(70_000);
      expect.fail('no error');
    } catch (error) {
      expect((error as InvalidOptionsError).field).toBe('port');
    }
  });
});

describe('readiness.tcpBanner / sshBanner', () => {
  const noExec = { exec: () => Promise.reject(new Error('unused')) };

  /** Accepts like slirp's hostfwd: the first connection hangs silently, later ones get a banner. */
  async function forwarder(banner: string): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      if (connections === 1) return; // silent: like a SYN the guest never saw
      socket.end(banner);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port, connections: () => connections };
  }

  it('retries a silent connection and passes on the SSH greeting', async () => {
    const fwd = await forwarder('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    await readiness.sshBanner(fwd.port, { attemptTimeoutMs: 200 }).wait(noExec, within(30_000));
    expect(fwd.connections()).toBeGreaterThanOrEqual(2);
  });

  it('maps a guest port and matches a custom banner', async () => {
    const fwd = await forwarder('220 smtp ready\r\n');
    const target: ReadinessTarget = {
      ...noExec,
      hostPort: (guest) => (guest === 25 ? fwd.port : undefined),
    };
    await readiness
      .tcpBanner(25, { guest: true, expect: '220 ', attemptTimeoutMs: 200 })
      .wait(target, within(30_000));
  });

  it('times out when the forwarder accepts but the service never answers', async () => {
    const server = createServer((socket) => socket.end());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    // tcpPort alone is fooled by such a forwarder...
    await readiness.tcpPort(port).wait(noExec, within(10_000));
    // ...the banner check is not.
    const error = await readiness
      .sshBanner(port)
      .wait(noExec, within(300))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain('connection closed before a banner');
  });
});

/** A target whose output lines the test emits. */
function lineTarget() {
  const listeners = new Set<(line: string) => void>();
  const target: ReadinessTarget = {
    exec: () => Promise.reject(new Error('unused')),
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const emit = (line: string) => {
    for (const listener of listeners) listener(line);
  };
  return { target, emit, listeners };
}

describe('readiness.logLine', () => {
  it('resolves on the n-th matching line and unsubscribes', async () => {
    const { target, emit, listeners } = lineTarget();
    let done = false;
    const waiting = readiness
      .logLine(/listening on \d+/, { times: 2 })
      .wait(target, within(30_000))
      .then(() => {
        done = true;
      });
    emit('starting');
    emit('listening on 80');
    await Promise.resolve();
    expect(done).toBe(false);
    emit('listening on 443');
    await waiting;
    expect(done).toBe(true);
    expect(listeners.size).toBe(0);
  });

  it('times out saying how many matches it saw', async () => {
    const { target, emit, listeners } = lineTarget();
    const waiting = readiness.logLine('ready', { times: 2 }).wait(target, within(100));
    emit('ready');
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain('seen 1 of 2');
    expect(listeners.size).toBe(0);
  });

  it('rejects with AbortedError when the caller aborts', async () => {
    const { target } = lineTarget();
    const controller = new AbortController();
    const waiting = readiness
      .logLine('ready')
      .wait(target, { signal: controller.signal, deadline: Date.now() + 60_000 });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
  });

  it('fails clearly on a target without output lines', async () => {
    const error = await readiness
      .logLine('ready')
      .wait({ exec: () => Promise.reject(new Error('unused')) }, within(1000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toContain('provides no output lines');
  });
});

describe('readiness.custom and readiness.all', () => {
  it('custom polls until true', async () => {
    let calls = 0;
    await readiness
      .custom('third time lucky', async () => ++calls >= 3)
      .wait(lineTarget().target, within(30_000));
    expect(calls).toBe(3);
  });

  it('all passes when every strategy passes', async () => {
    const { target, emit } = lineTarget();
    const both = readiness.all(
      readiness.logLine('booted'),
      readiness.custom('flag', async () => true),
    );
    expect(both.description).toBe('output line matching booted and flag');
    const waiting = both.wait(target, within(30_000));
    emit('booted');
    await expect(waiting).resolves.toBeUndefined();
  });

  it('all fails with the first failure and stops the others', async () => {
    const { target, listeners } = lineTarget();
    const error = await readiness
      .all(
        readiness.logLine('never printed'),
        readiness.custom('broken', async () => {
          throw Object.assign(new Error('gave up'), { fatal: true });
        }),
      )
      .wait(target, within(60_000))
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('gave up');
    expect(listeners.size).toBe(0);
  });

  it('every strategy rejects with AbortedError on an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const ctx = { signal: controller.signal, deadline: Date.now() + 60_000 };
    const { target } = lineTarget();
    await expect(readiness.custom('x', async () => false).wait(target, ctx)).rejects.toBeInstanceOf(
      AbortedError,
    );
    await expect(readiness.tcpPort(1).wait(target, ctx)).rejects.toBeInstanceOf(AbortedError);
    await expect(readiness.logLine('x').wait(target, ctx)).rejects.toBeInstanceOf(AbortedError);
  });
});
