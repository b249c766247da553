/**
 * A pool of one QEMU VM (the test guest from scripts/ci/qemu.sh, under TCG): acquire → exec →
 * release → acquire the same VM again, then close leaves nothing. Skipped, with the reason
 * printed, when QEMU or the guest is missing.
 */
import { createQemu } from '@vms/qemu';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMemberName } from './naming.js';
import { createPool, type Pool } from './pool.js';
import { prunePool } from './prune.js';
import { qemuGuestOptions, qemuSkipReason } from './test-support/qemu.js';

const skip = qemuSkipReason();
if (skip) console.warn(`[skipped] pool qemu test: ${skip}`);

describe.skipIf(Boolean(skip))('pool on qemu', () => {
  const backend = createQemu();
  let pool: Pool | undefined;
  afterAll(async () => {
    await pool?.close().catch(() => {});
    await prunePool({
      backend,
      namePrefix: 'vmspoolqemu',
      options: qemuGuestOptions(),
      includeLive: true,
    });
  }, 300_000);

  it('keeps one VM warm, started from the pool’s saved state; hands it out, takes it back, deletes all on close', async () => {
    const saved: string[] = [];
    pool = createPool({
      backend,
      namePrefix: 'vmspoolqemu',
      options: qemuGuestOptions(),
      min: 1,
      max: 1,
      recycle: 'reuse',
      acquireTimeoutMs: 240_000,
      healthCheckTimeoutMs: 60_000,
    });
    pool.on('saved', (e) => saved.push(e.savedState));
    await pool.ready({ timeoutMs: 240_000 });
    // The backend can start from a saved state: the pool saved one, and its member resumed it.
    expect(saved).toEqual([`vmspoolqemu-${pool.id}`]);
    expect((await backend.templates.list()).map((t) => t.name)).toContain(saved[0]);
    const lease = await pool.acquire();
    expect((await lease.instance.inspect()).properties.extra?.template).toBe(saved[0]);
    const r = await lease.instance.exec(['echo', 'from-the-guest']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'from-the-guest\n' });
    await lease.release();
    const again = await pool.acquire();
    expect(again.name).toBe(lease.name);
    expect((await again.instance.exec(['true'])).exitCode).toBe(0);
    await again.release();
    await pool.close();
    const left = (await backend.list({ signal: AbortSignal.timeout(60_000) })).filter(
      (l) => parseMemberName('vmspoolqemu', l.name) !== undefined,
    );
    expect(left).toEqual([]);
    // Its saved state went with it.
    expect((await backend.templates.list()).map((t) => t.name)).not.toContain(saved[0]);
  }, 600_000);
});
