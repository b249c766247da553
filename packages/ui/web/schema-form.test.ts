/** The create form is generated from each backend's real options schema (docker's, qemu's). */

import { optionsJsonSchema } from '@vms/core';
import { docker } from '@vms/docker';
import { createQemu } from '@vms/qemu';
import { describe, expect, it } from 'vitest';
import { fieldsOf, optionsFrom } from './schema-form.js';

describe('the create form from a backend schema', () => {
  it('docker: image is required and first; numbers, lists, key=value maps and JSON fields by type', () => {
    const fields = fieldsOf(optionsJsonSchema(docker.optionsSchema));
    expect(fields[0]).toMatchObject({ key: 'image', kind: 'text', required: true });
    const kinds = Object.fromEntries(fields.map((f) => [f.key, f.kind]));
    expect(kinds).toMatchObject({
      cpus: 'number',
      memoryMiB: 'integer',
      command: 'list',
      env: 'keyvalue',
      labels: 'keyvalue',
      ports: 'json',
      init: 'boolean',
    });
    expect(fields.find((f) => f.key === 'init')?.defaultChecked).toBe(true);
  });

  it('turns the form’s text into options that the backend’s own schema accepts', () => {
    const fields = fieldsOf(optionsJsonSchema(docker.optionsSchema));
    const { options, errors } = optionsFrom(fields, {
      image: ' busybox ',
      cpus: '1.5',
      memoryMiB: '256',
      command: 'sh\n-c\n\necho hi',
      env: 'A=1\nB=x=y',
      ports: '[{"guest":80,"host":8080}]',
      init: true,
    });
    expect(errors).toEqual({});
    expect(JSON.parse(JSON.stringify(options))).toEqual({
      image: 'busybox',
      cpus: 1.5,
      memoryMiB: 256,
      command: ['sh', '-c', 'echo hi'],
      env: { A: '1', B: 'x=y' },
      ports: [{ guest: 80, host: 8080 }],
    });
    expect(docker.optionsSchema.safeParse(options).success).toBe(true);
  });

  it('names each field whose text does not parse', () => {
    const fields = fieldsOf(optionsJsonSchema(docker.optionsSchema));
    const { errors } = optionsFrom(fields, { memoryMiB: '1.5', env: 'novalue', ports: '[{' });
    expect(errors).toEqual({
      memoryMiB: 'must be a whole number',
      env: '"novalue" is not KEY=VALUE',
      ports: 'is not valid JSON',
    });
  });

  it('a user key never becomes an object path (__proto__ stays a plain entry)', () => {
    const fields = fieldsOf(optionsJsonSchema(docker.optionsSchema));
    const { options } = optionsFrom(fields, { env: '__proto__=x' });
    const env = options.env as Record<string, string>;
    expect(Object.getPrototypeOf(env)).toBe(null);
    expect(Object.keys(env)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('qemu: its schema gives a form too', () => {
    const fields = fieldsOf(optionsJsonSchema(createQemu().optionsSchema));
    expect(fields.map((f) => f.key)).toEqual(
      expect.arrayContaining(['kernel', 'memoryMiB', 'cpus']),
    );
  });
});
