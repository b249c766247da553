import { INSTANCE_NAME_PATTERN } from '@vms/core';
import { describe, expect, it } from 'vitest';
import {
  memberName,
  NAME_PREFIX_PATTERN,
  newPoolId,
  parseMemberName,
  poolLabels,
} from './naming.js';

describe('pool instance names', () => {
  it('are `<prefix>-<poolId>-<n>` and valid instance names, even at the longest', () => {
    const id = newPoolId();
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(memberName('ci', id, 1)).toBe(`ci-${id}-1`);
    const longest = memberName('p'.repeat(40), id, Number.MAX_SAFE_INTEGER);
    expect(longest.length).toBeLessThanOrEqual(63);
    expect(INSTANCE_NAME_PATTERN.test(longest)).toBe(true);
    expect(NAME_PREFIX_PATTERN.test('p'.repeat(41))).toBe(false);
  });

  it('parse strictly, so one pool never claims another pool’s instances', () => {
    expect(parseMemberName('ci', 'ci-0a1b2c3d-1z')).toBe('0a1b2c3d');
    expect(parseMemberName('ci', 'ci-linux-0a1b2c3d-1')).toBeUndefined();
    expect(parseMemberName('ci-linux', 'ci-linux-0a1b2c3d-1')).toBe('0a1b2c3d');
    expect(parseMemberName('ci', 'ci-0a1b2c3d')).toBeUndefined();
    expect(parseMemberName('ci', 'ci-0A1B2C3D-1')).toBeUndefined();
    expect(parseMemberName('ci', 'cx-0a1b2c3d-1')).toBeUndefined();
    expect(parseMemberName('ci', 'ci-handmade')).toBeUndefined();
  });

  it('labels carry the pool name and id', () => {
    expect(poolLabels('ci', '0a1b2c3d')).toEqual({
      'dev.vms.pool': 'ci',
      'dev.vms.pool-id': '0a1b2c3d',
    });
  });
});
