import { describe, expect, it } from 'vitest';
import { createQemu } from './backend.js';
import { findTool } from './tools.js';

describe('qemu backend', () => {
  it('detect: says what is missing and how to install it', async () => {
    const r = await createQemu({ binary: 'qemu-system-nosuch-arch' }).detect();
    expect(r).toMatchObject({
      available: false,
      reason: expect.stringMatching(/qemu-system-nosuch-arch not found/),
    });
    expect(r.hint).toMatch(/apt-get install qemu-system-x86/);
  });

  it.skipIf(!findTool('qemu-system-x86_64') || !findTool('qemu-img'))(
    'detect: reports the QEMU and qemu-img versions',
    async () => {
      const r = await createQemu().detect();
      expect(r.available).toBe(true);
      expect(r.version).toMatch(/^\d+\.\d+/);
      expect(r.toolPath).toMatch(/qemu-system-x86_64$/);
    },
  );

  it('rejects unknown settings with a typed error naming the field', () => {
    expect(() => createQemu({ accel: 'hvf' } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'settings.accel' }),
    );
  });
});
