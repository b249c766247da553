/**
 * `defineBackend`: types a backend object from its options schema (the driver receives
 * `z.output` of it, users write `z.input` of it) and checks its shape at once, so a malformed
 * backend fails where it is defined rather than on first use.
 */
import type * as z4 from 'zod/v4/core';
import { ProtocolError } from './errors.js';
import { BACKEND_NAME_PATTERN } from './options.js';
import { type BackendV1, CAPABILITY_NAMES, SPECIFICATION_VERSION } from './spec/v1.js';

/** What is wrong with a backend object's shape (empty when nothing is). No I/O, no driver made. */
export function backendProblems(backend: unknown): string[] {
  if (typeof backend !== 'object' || backend === null) return ['not an object'];
  const b = backend as Record<string, unknown>;
  const problems: string[] = [];
  if (b.specificationVersion !== SPECIFICATION_VERSION)
    problems.push(`specificationVersion must be '${SPECIFICATION_VERSION}'`);
  if (typeof b.name !== 'string' || !BACKEND_NAME_PATTERN.test(b.name))
    problems.push('name must be letters, digits, "-" or "_", starting with a letter or digit');
  const caps = b.capabilities;
  if (typeof caps !== 'object' || caps === null) problems.push('capabilities must be an object');
  else {
    for (const name of CAPABILITY_NAMES) {
      if (typeof (caps as Record<string, unknown>)[name] !== 'boolean')
        problems.push(`capabilities.${name} must be a boolean`);
    }
    for (const key of Object.keys(caps)) {
      if (!(CAPABILITY_NAMES as readonly string[]).includes(key))
        problems.push(`capabilities.${key} is not a vms-backend-v1 capability`);
    }
  }
  const schema = b.optionsSchema;
  const standard =
    typeof schema === 'object' && schema !== null
      ? (schema as Record<string, unknown>)['~standard']
      : undefined;
  if (
    typeof standard !== 'object' ||
    standard === null ||
    (standard as Record<string, unknown>).vendor !== 'zod'
  )
    problems.push('optionsSchema must be a zod 4 schema');
  for (const fn of ['detect', 'list', 'driver'])
    if (typeof b[fn] !== 'function') problems.push(`${fn} must be a function`);
  for (const fn of ['attach', 'validateName'])
    if (b[fn] !== undefined && typeof b[fn] !== 'function')
      problems.push(`${fn} must be a function when present`);
  const saved = b.savedStates;
  if (saved !== undefined) {
    if (typeof saved !== 'object' || saved === null)
      problems.push('savedStates must be an object when present');
    else
      for (const fn of ['save', 'list', 'delete'])
        if (typeof (saved as Record<string, unknown>)[fn] !== 'function')
          problems.push(`savedStates.${fn} must be a function`);
  }
  return problems;
}

/**
 * Returns `backend` as it is, typed by its schema, after checking its shape (throws
 * ProtocolError naming every problem). Whether each `true` capability has its driver methods is
 * checked whenever core makes a driver (and by the conformance suite).
 */
export function defineBackend<S extends z4.$ZodType>(backend: BackendV1<S>): BackendV1<S> {
  const problems = backendProblems(backend);
  if (problems.length > 0) {
    const name = typeof backend?.name === 'string' ? backend.name : '(unnamed)';
    throw new ProtocolError(`backend ${name} is malformed: ${problems.join('; ')}`);
  }
  return backend;
}
