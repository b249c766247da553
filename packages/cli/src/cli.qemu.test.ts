/**
 * The built `vms` against real QEMU through @vms/qemu, booting the CI test guest
 * (scripts/ci/qemu.sh). Short: create and start in separate processes (the create options are
 * remembered), exec, delete. Skipped, with the reason printed, when something is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  killProcessesUnder,
  makeProject,
  PACKAGES_DIR,
  type Project,
  runVms,
} from './test-support/project.js';

const guestDir =
  process.env.VMS_TEST_GUEST ?? join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');

function unavailableReason(): string | undefined {
  if (!existsSync(join(PACKAGES_DIR, 'qemu', 'dist', 'index.js'))) return '@vms/qemu is not built';
  const path = (process.env.PATH ?? '').split(':');
  for (const tool of ['qemu-system-x86_64', 'qemu-img', 'ssh', 'ssh-keygen']) {
    if (!path.some((dir) => existsSync(join(dir, tool))))
      return `${tool} is not installed (run scripts/ci/qemu.sh)`;
  }
  if (!existsSync(join(guestDir, 'manifest.json')))
    return `no test guest at ${guestDir} (run scripts/ci/qemu.sh)`;
  return undefined;
}

const reason = unavailableReason();
if (reason) console.warn(`skipping the qemu tests of @vms/cli: ${reason}`);

describe.skipIf(reason !== undefined)('vms against real qemu', () => {
  let project: Project;
  const id = `qemu:vmscli-${process.pid}`;
  const vms = (args: string[]) => runVms(project, args, { timeoutMs: 300_000 });

  beforeAll(() => {
    project = makeProject({ workspace: ['qemu'] });
  });
  afterAll(async () => {
    if (!project) return;
    await vms(['delete', id]);
    killProcessesUnder(project.dir);
    project.cleanup();
  }, 120_000);

  it('create, then start in another process, exec, delete', async () => {
    const m = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;
    const file = (name: string | undefined) => join(guestDir, name ?? '');
    const create = await vms([
      'create',
      id,
      '--cpus',
      '1',
      '--memory',
      '256M',
      '--opt',
      `kernel=${file(m.kernel)}`,
      '--opt',
      `initrd=${file(m.initrd)}`,
      '--opt',
      `cmdline=${m.rootCmdline}`,
      '--opt',
      `disk=${file(m.rootDisk)}`,
      '--opt',
      `readyMarker=${m.readyMarker ?? 'GUEST-READY'}`,
      '--opt',
      'restrictNetwork=true',
    ]);
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    const start = await vms(['start', id, '--json', '--timeout', '4m']);
    expect(start.stderr).toBe('');
    expect(JSON.parse(start.stdout)).toMatchObject({ ok: true, state: 'running' });
    expect(await vms(['exec', id, '--', 'sh', '-c', 'echo from-guest; exit 3'])).toMatchObject({
      code: 3,
      stdout: 'from-guest\n',
    });
    expect((await vms(['delete', id])).code).toBe(0);
    expect((await vms(['start', id])).code).toBe(3);
  }, 600_000);
});
