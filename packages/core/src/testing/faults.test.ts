import { describe, expect, it } from 'vitest';
import { startFaultRun } from './faults.js';

describe('fault runs', () => {
  it('sweeps after every point, passed or failed, so one failure reports one failure', async () => {
    const faults = startFaultRun('unit', { VMS_FAULT_SEED: '7' });
    const left = new Set<string>();
    faults.afterEachPoint(() => left.clear());
    try {
      await faults.point('passes', async () => {
        left.add('a');
      });
      expect(left.size).toBe(0);
      const failed = faults.point('fails halfway', async () => {
        left.add('b');
        throw new Error('an invariant does not hold');
      });
      await expect(failed).rejects.toThrow(
        /unit fault "fails halfway" failed with seed 8 \(replay: VMS_FAULT_SEED=7\): an invariant does not hold/,
      );
      // The next point starts clean.
      expect(left.size).toBe(0);
      expect(faults.summary()).toBe(
        'unit: fault points: 2, seeds: 7..8 (passes ×1, fails halfway ×1)',
      );
    } finally {
      faults.sweep();
    }
  });

  it('a sweep that fails fails a point that passed, and never hides the point’s own error', async () => {
    const faults = startFaultRun('unit', { VMS_FAULT_SEED: '1' });
    faults.afterEachPoint(() => {
      throw new Error('a QEMU would not die');
    });
    try {
      await expect(faults.point('passes', async () => 'ok')).rejects.toThrow(
        /unit fault "passes": the sweep after it failed with seed 1 .*a QEMU would not die/,
      );
      await expect(
        faults.point('fails', async () => {
          throw new Error('its own error');
        }),
      ).rejects.toThrow(/its own error/);
    } finally {
      faults.sweep();
    }
  });
});
