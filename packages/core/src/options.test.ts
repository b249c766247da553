import { describe, expect, it } from 'vitest';
import { commonInstanceOptions, parseOptions } from './options.js';

describe('common options: user keys', () => {
  it('refuses __proto__ as an env or label key, naming the field (it would not arrive literally)', () => {
    const env = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    expect(() => parseOptions(commonInstanceOptions, { env })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'env.__proto__' }),
    );
    const labels = JSON.parse('{"a":"b","__proto__":"x"}') as Record<string, string>;
    expect(() => parseOptions(commonInstanceOptions, { labels })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'labels.__proto__' }),
    );
  });

  it('keeps other prototype-sounding keys as own, literal keys', () => {
    const o = parseOptions(commonInstanceOptions, {
      env: { constructor: 'c', toString: 't' },
      labels: { prototype: 'p' },
    });
    expect(Object.entries(o.env)).toEqual([
      ['constructor', 'c'],
      ['toString', 't'],
    ]);
    expect(Object.hasOwn(o.labels, 'prototype')).toBe(true);
  });
});
