/**
 * A QEMU that no start recorded — its starter killed between QEMU daemonising and writing the
 * launch (faults.test.ts reproduces it with real QEMU): found by its `-pidfile` argument, it
 * makes the instance broken, never stopped; start refuses to launch a second one; stop ends it,
 * also when it is caught daemonising (its daemon forks while the parent is being stopped).
 * A stand-in process (`__fixtures__/daemonising-qemu.mjs`) plays QEMU: no VM needed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OpContext, waitFor } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createQemu } from './backend.js';
import { type QemuOptions, qemuOptionsSchema } from './options.js';
import { processesWithArgument, readProcStat } from './process.js';
import { createStore, instancePaths } from './state.js';
import { sweep } from './testing.js';

const FAKE = fileURLToPath(new URL('./__fixtures__/daemonising-qemu.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'vq-unrecorded-'));
const stateRoot = join(root, 'state');
const backend = createQemu({ stateRoot });
const store = createStore(stateRoot);
const options: QemuOptions = qemuOptionsSchema.parse({ kernel: FAKE });
afterAll(() => {
  sweep(root);
});

const ctx = (): OpContext => ({
  signal: AbortSignal.timeout(60_000),
  deadline: Date.now() + 60_000,
  progress: () => {},
  debug: () => {},
});

/** An instance whose record has no launch, and a stand-in QEMU of it that listens on its QMP path. */
async function interrupted(
  name: string,
): Promise<{ qemu: ChildProcess; pidFile: string; out: string[] }> {
  await store.write(name, {
    createdAt: new Date().toISOString(),
    privateKey: FAKE,
    hostname: name,
  });
  const { pidFile, qmpSocket } = instancePaths(store.instanceDir(name));
  const qemu = spawn(process.execPath, [FAKE, '-pidfile', pidFile, qmpSocket, 'parent'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: string[] = [];
  qemu.stdout?.on('data', (c: Buffer) => out.push(...c.toString().trim().split('\n')));
  await waitFor(async () => out.includes('listening') || qemu.exitCode !== null, {
    description: 'the stand-in QEMU to listen',
    timeoutMs: 30_000,
  });
  expect(processesWithArgument(pidFile)).toEqual([qemu.pid]);
  return { qemu, pidFile, out };
}

describe.skipIf(process.platform !== 'linux')('qemu: a QEMU no start recorded', () => {
  it('is broken in inspect and list, never stopped; start launches no second QEMU', async () => {
    const { qemu, pidFile } = await interrupted('half-started');
    const driver = backend.driver('half-started', options);
    expect(await driver.doInspect(ctx())).toMatchObject({
      state: 'broken',
      reason: expect.stringMatching(
        new RegExp(`QEMU \\(pid ${qemu.pid}\\) runs but no start recorded it`),
      ),
    });
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === 'half-started')).toMatchObject({ state: 'broken' });
    await expect(driver.doStart(ctx())).rejects.toMatchObject({
      code: 'OPERATION_FAILED',
      hint: expect.stringMatching(/vms stop qemu:half-started/),
    });
    expect(processesWithArgument(pidFile)).toEqual([qemu.pid]);
  });

  it('stop ends it, also the daemon it forks while being stopped', async () => {
    const { qemu, pidFile, out } = await interrupted('daemonising');
    const driver = backend.driver('daemonising', options);
    const outcome = await driver.doStop({ ...ctx(), timeoutMs: 30_000, force: false });
    expect(outcome.how).toBe('forced');
    // The stop's QMP connection made the stand-in fork its daemon and exit: both are gone.
    const daemon = Number(out.find((l) => l.startsWith('daemon '))?.slice('daemon '.length));
    expect(daemon).toBeGreaterThan(0);
    const code = qemu.exitCode ?? (await new Promise((r) => qemu.once('exit', r)));
    expect(code).toBe(0);
    const stat = readProcStat(daemon);
    expect(stat === undefined || stat.state === 'Z' || stat.state === 'X').toBe(true);
    expect(processesWithArgument(pidFile)).toEqual([]);
    expect(await driver.doInspect(ctx())).toMatchObject({ state: 'stopped' });
  });
});
