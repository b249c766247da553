import { describe, expect, it } from 'vitest';
import { compareApiVersions, MAX_API_VERSION, negotiateApiVersion } from './api-version.js';

describe('engine API version negotiation', () => {
  it('speaks the lower of the engine version and the newest one reviewed', () => {
    expect(negotiateApiVersion('1.41', 'docker')).toBe('1.41'); // docker 20.10, podman 4.3–5.7
    expect(negotiateApiVersion('1.44', 'podman')).toBe('1.44'); // podman 5.8
    expect(negotiateApiVersion('1.50', 'docker')).toBe('1.50'); // docker 28.2
    expect(negotiateApiVersion('1.99', 'docker')).toBe(MAX_API_VERSION);
    expect(negotiateApiVersion(undefined, 'docker')).toBeUndefined();
  });

  it('refuses an engine older than 1.41 with BACKEND_UNAVAILABLE and a hint', () => {
    expect(() => negotiateApiVersion('1.40', 'podman')).toThrow(
      expect.objectContaining({
        code: 'BACKEND_UNAVAILABLE',
        hint: expect.stringMatching(/20\.10/),
      }),
    );
  });

  it('compares numerically (1.9 < 1.41)', () => {
    expect(compareApiVersions('1.9', '1.41')).toBe(-1);
    expect(compareApiVersions('1.41', '1.41')).toBe(0);
    expect(compareApiVersions('2.0', '1.52')).toBe(1);
  });
});
