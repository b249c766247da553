import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  commonInstanceOptions,
  parseOptions,
  parseRecordedOptions,
  refuseUserData,
} from './options.js';

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

describe('refuseUserData', () => {
  const schema = commonInstanceOptions
    .extend({ template: z.string().default('default') })
    .superRefine(refuseUserData('provisioned from its template: use `set` instead'));

  it('refuses userData, naming the field, with what to use instead', () => {
    expect(() => parseOptions(schema, { userData: { sshAuthorizedKeys: [] } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        field: 'userData',
        message: expect.stringContaining('use `set` instead'),
      }),
    );
  });

  it('lets everything else through', () => {
    expect(parseOptions(schema, { cpus: 2 })).toMatchObject({
      cpus: 2,
      template: 'default',
    });
  });
});

describe('parseRecordedOptions (options read back from a record)', () => {
  const schema = z.strictObject({ image: z.string(), cpus: z.number().default(1) });

  it('returns what the schema makes of valid recorded options', () => {
    expect(parseRecordedOptions(schema, { image: 'alpine' })).toEqual({ image: 'alpine', cpus: 1 });
  });

  it('fails as user input does: unknown keys with the closest valid one, bad values by field', () => {
    expect(() => parseRecordedOptions(schema, { image: 'alpine', cpu: 2 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        field: 'cpu',
        message: expect.stringContaining('did you mean cpus?'),
      }),
    );
    expect(() => parseRecordedOptions(schema, { image: 7 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'image' }),
    );
  });

  it('refuses a __proto__ key in a damaged record', () => {
    const recorded = JSON.parse('{"image":"alpine","__proto__":{"cpus":2}}') as unknown;
    expect(() => parseRecordedOptions(schema, recorded)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: '__proto__' }),
    );
  });
});
