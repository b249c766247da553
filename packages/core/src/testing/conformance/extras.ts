/** The optional capabilities: logs, snapshots, copy, port forwards, mounts. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../wait.js';
import { expectCode, expectState, group, type Suite } from './harness.js';

/** What a TCP server at host:port sends before it closes (or within 5 s); '' when none answers. */
function readFrom(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', done);
    socket.once('error', done);
    socket.setTimeout(5_000, done);
  });
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function extraGroups(s: Suite): void {
  const { it, expect, afterAll } = s.t;
  const t = s.timeout;
  const scratch = mkdtempSync(join(tmpdir(), 'vmsconf-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  group(s, 'logs', s.off('logs', 'logs'), () => {
    it(
      "returns the instance's output (and stops following at the deadline)",
      async () => {
        const vm = await s.running();
        const chunks: Buffer[] = [];
        await vm.logs({ onData: (c) => chunks.push(c), timeoutMs: 60_000 });
        const text = Buffer.concat(chunks).toString('utf8');
        const expected = s.subject.logs?.expect;
        if (expected !== undefined)
          expect(text, 'logs() of the running instance').toContain(expected);
        await expectCode(
          s,
          vm.logs({ follow: true, timeoutMs: 1_000 }),
          'TIMEOUT',
          'logs({ follow: true }) at its 1 s deadline',
        );
        const r = await vm.inspect();
        expect(r.state.name, 'the instance after following its logs').toBe('running');
      },
      t,
    );
  });

  const snapshotsNeedExec = s.capabilities.exec ? undefined : 'checking the content needs exec';
  group(s, 'snapshot', s.off('snapshot', 'snapshot') ?? snapshotsNeedExec, () => {
    it(
      'creates, lists, restores and deletes a snapshot; restore brings the content back',
      async () => {
        const vm = s.make();
        await vm.create();
        await vm.start();
        const file = `/tmp/vmsconf-snap-${randomBytes(3).toString('hex')}`;
        await vm.exec(['tee', file], { stdin: 'before\n' });
        await vm.snapshots.create('vmsconf1');
        const listed = await vm.snapshots.list();
        expect(
          listed.map((l) => l.name),
          'snapshots.list() after create',
        ).toContain('vmsconf1');
        await vm.exec(['tee', file], { stdin: 'after\n' });
        await vm.snapshots.restore('vmsconf1');
        await expectState(s, vm, 'running', 'after snapshots.restore() of a running instance');
        const back = await vm.exec(['cat', file]);
        expect(
          back.stdout,
          `${file} after restoring the snapshot taken when it said "before"`,
        ).toBe('before\n');
        await expectCode(
          s,
          vm.snapshots.restore('vmsconf-none'),
          'NOT_FOUND',
          'restore of a snapshot that does not exist',
        );
        await vm.snapshots.delete('vmsconf1');
        expect(
          (await vm.snapshots.list()).map((l) => l.name),
          'snapshots.list() after delete',
        ).not.toContain('vmsconf1');
        await vm.delete();
      },
      t,
    );
  });

  const copyNeedsExec = s.capabilities.exec ? undefined : 'checking the guest side needs exec';
  group(s, 'copy', s.off('copy', 'copy') ?? copyNeedsExec, () => {
    it(
      'copies a file in and out, byte for byte',
      async () => {
        const vm = await s.running();
        const id = randomBytes(3).toString('hex');
        const text = join(scratch, 'in.txt');
        writeFileSync(text, `copied in ${id}\n`);
        await vm.copyIn(text, `/tmp/vmsconf-copy-${id}.txt`);
        const seen = await vm.exec(['cat', `/tmp/vmsconf-copy-${id}.txt`]);
        expect(seen.stdout, `cat /tmp/vmsconf-copy-${id}.txt in the guest after copyIn`).toBe(
          `copied in ${id}\n`,
        );
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const binary = join(scratch, 'in.bin');
        writeFileSync(binary, bytes);
        const guest = `/tmp/vmsconf-copy-${id}.bin`;
        await vm.copyIn(binary, guest);
        const out = join(scratch, 'out.bin');
        await vm.copyOut(guest, out);
        expect(readFileSync(out).equals(bytes), 'all 256 byte values, copied in and back out').toBe(
          true,
        );
      },
      t,
    );
  });

  const portsNeedExec = s.capabilities.exec
    ? undefined
    : 'checking a forward needs exec (a listener in the guest)';
  group(s, 'ports', s.off('ports', 'portForward') ?? portsNeedExec, () => {
    it(
      'forwards a guest port to 127.0.0.1 on the host: the mapping is reported and data flows',
      async () => {
        const guestPort = s.subject.ports?.guestPort ?? 8080;
        const host = await freePort();
        const vm = s.make({
          extraOptions: { ports: [{ guest: guestPort, host }, { guest: guestPort + 1 }] },
        });
        await vm.create();
        await vm.start();
        const ports = (await vm.inspect()).properties.ports ?? [];
        const first = ports.find((p) => p.guestPort === guestPort);
        expect(
          first,
          `properties.ports of an instance forwarding ${guestPort} (got ${JSON.stringify(ports)})`,
        ).toMatchObject({ hostIp: '127.0.0.1', hostPort: host });
        const second = ports.find((p) => p.guestPort === guestPort + 1);
        expect(
          second?.hostPort,
          `the host port picked for guest port ${guestPort + 1}`,
        ).toBeGreaterThan(0);
        // A listener in the guest (busybox, BSD and GNU nc alike) sends a line to whoever connects.
        const stop = new AbortController();
        const serving = vm
          .exec(['sh', '-c', `echo vms-port-ok | nc -l -p ${guestPort}`], { signal: stop.signal })
          .catch(() => undefined);
        let received = '';
        try {
          await waitFor(
            async () => {
              received = await readFrom('127.0.0.1', host);
              return received.includes('vms-port-ok');
            },
            {
              description: 'data through the forward',
              timeoutMs: 60_000,
              backoff: { initialMs: 100, maxMs: 1_000 },
            },
          );
        } catch {
          // reported below
        } finally {
          stop.abort();
          await serving;
        }
        expect(
          received,
          `what 127.0.0.1:${host} sent while the guest listened on ${guestPort}`,
        ).toContain('vms-port-ok');
        await vm.delete();
      },
      t,
    );
  });

  group(
    s,
    'mounts',
    s.off('mounts', 'mounts') ??
      (s.capabilities.exec ? undefined : 'checking the guest side needs exec'),
    () => {
      it(
        'shows a host directory in the guest, read-write and read-only',
        async () => {
          const target = s.subject.mounts?.target ?? '/mnt/vmsconf';
          const rw = mkdtempSync(join(scratch, 'rw-'));
          const ro = mkdtempSync(join(scratch, 'ro-'));
          writeFileSync(join(rw, 'from-host.txt'), 'host says hi\n');
          writeFileSync(join(ro, 'from-host.txt'), 'read only\n');
          const vm = s.make({
            extraOptions: {
              mounts: [
                { source: rw, target },
                { source: ro, target: `${target}-ro`, readOnly: true },
              ],
            },
          });
          await vm.create();
          await vm.start();
          const read = await vm.exec(['cat', `${target}/from-host.txt`]);
          expect(read.stdout, `cat ${target}/from-host.txt in the guest`).toBe('host says hi\n');
          await vm.exec(['tee', `${target}/from-guest.txt`], { stdin: 'guest says hi\n' });
          expect(
            readFileSync(join(rw, 'from-guest.txt'), 'utf8'),
            'the file the guest wrote, read on the host',
          ).toBe('guest says hi\n');
          const denied = await vm.exec(['tee', `${target}-ro/x.txt`], { stdin: 'nope\n' });
          expect(denied.exitCode, 'writing into the read-only mount').not.toBe(0);
          await vm.delete();
        },
        t,
      );
    },
  );
}
