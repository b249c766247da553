/**
 * The built `vms mcp` against real QEMU (the test guest from `@vms/qemu/testing`, booted from
 * its initramfs through a policy template), driven by the MCP SDK's client over stdio. Every VM
 * lives under the project's VMS_HOME; whatever a failure leaves is swept there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidExists } from '@vms/core';
import { loadTestGuest, processesUnder, sweep, testGuestSkipReason } from '@vms/qemu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  childClient,
  connectStdio,
  mcpProject,
  type Project,
  toolErrorOf,
  until,
  writePolicy,
} from './test-support/harness.js';

const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
const reason = built ? testGuestSkipReason() : '@vms/mcp is not built';
if (reason) console.warn(`skipping the qemu tests of @vms/mcp: ${reason}`);

/** The test guest as a policy template (initramfs boot: the quickest). */
function guestTemplate(): Record<string, unknown> {
  const guest = loadTestGuest();
  if (!guest) throw new Error('no test guest');
  return {
    backend: 'qemu',
    description: 'the @vms test guest (busybox, sshd)',
    options: {
      kernel: guest.vmlinux,
      initrd: guest.initrd,
      cmdline: guest.cmdline,
      readyMarker: guest.marker,
      memoryMiB: 256,
    },
  };
}

describe.skipIf(reason !== undefined)('vms mcp against real qemu', () => {
  let project: Project;
  let policy: string;
  let home: string;
  const qemus = () => processesUnder(home).filter((pid) => pidExists(pid));
  /** What each process left under the home is (its command line), for a failure to show. */
  const leftovers = () =>
    qemus().map((pid) => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`;
      } catch {
        return `${pid}: (gone)`;
      }
    });

  beforeAll(() => {
    project = mcpProject(['qemu']);
    home = project.env.VMS_HOME as string;
    policy = writePolicy(project, 'policy', {
      templates: { guest: guestTemplate() },
      maxCpus: 1,
      maxMemoryMiB: 512,
    });
  });
  afterAll(() => {
    if (project) {
      sweep(home);
      project.cleanup();
    }
  });

  it('create → exec → write file → read it back → logs → delete; then a disconnect mid-exec stops the VM', async () => {
    const server = await connectStdio(project, ['--config', policy]);
    try {
      const refused = toolErrorOf(
        await call(server.client, 'create_instance', { image: 'alpine:3.20', backend: 'qemu' }),
      );
      expect(refused).toMatchObject({ code: 'POLICY_REFUSED', rule: 'images' });

      const steps: string[] = [];
      const created = await call(
        server.client,
        'create_instance',
        { name: 'vm', template: 'guest' },
        { onprogress: (p) => steps.push(p.message ?? '') },
      );
      expect(created.data.instance).toMatchObject({
        name: 'vm',
        backend: 'qemu',
        template: 'guest',
        state: 'running',
      });
      expect(steps.some((s) => s.includes('launching QEMU'))).toBe(true);
      expect(qemus().length).toBeGreaterThan(0);

      const exec = await call(server.client, 'exec', {
        instance: 'vm',
        command: ['sh', '-c', 'echo from-guest; cat; exit 4'],
        stdin: 'in\n',
      });
      expect(exec.data).toMatchObject({ exitCode: 4, stdout: 'from-guest\nin\n' });
      await call(server.client, 'write_file', {
        instance: 'vm',
        path: '/tmp/agent.txt',
        content: 'inside the VM\n',
      });
      expect(
        (await call(server.client, 'exec', { instance: 'vm', command: ['cat', '/tmp/agent.txt'] }))
          .data.stdout,
      ).toBe('inside the VM\n');
      const read = await call(server.client, 'read_file', {
        instance: 'vm',
        path: '/tmp/agent.txt',
      });
      expect(read.data).toMatchObject({ content: 'inside the VM\n', method: 'copy' });
      const logs = await call(server.client, 'logs', { instance: 'vm', tail: 200 });
      expect(String(logs.data.output)).toContain('GUEST-READY');

      await call(server.client, 'delete_instance', { instance: 'vm' });
      await until(() => qemus().length === 0, 60_000, 'the VM process to end');
      expect(readdirSync(join(home, 'state', 'qemu')).filter((n) => n.startsWith('mcp-'))).toEqual(
        [],
      );
    } finally {
      await server.client.close();
    }
    await until(() => !pidExists(server.pid), 60_000, 'the first server to exit');

    // A client in its own process starts a long exec (which says so on the serial console), then
    // dies: the server sees its stdin close, with no signal.
    const client = await childClient(
      project,
      ['--config', policy],
      { name: 'busy', template: 'guest' },
      {
        instance: 'busy',
        command: ['sh', '-c', 'echo EXEC-STARTED > /dev/console; exec sleep 600'],
      },
    );
    const consoleLog = join(home, 'state', 'qemu', client.id.slice('qemu:'.length), 'console.log');
    await until(
      () => existsSync(consoleLog) && readFileSync(consoleLog, 'utf8').includes('EXEC-STARTED'),
      120_000,
      'the exec to start in the VM',
    );
    client.kill();
    await until(() => !pidExists(client.serverPid), 120_000, 'the server to exit');
    expect(leftovers()).toEqual([]);
    expect(readdirSync(join(home, 'state', 'qemu')).filter((n) => n.startsWith('mcp-'))).toEqual(
      [],
    );
  }, 900_000);
});
