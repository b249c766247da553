/**
 * Loads a backend module (only when a command needs it) and checks what it exports.
 *
 * The discovery convention: a backend package's main module exports its backend(s) as
 *   1. the default export: one backend object, or an array of them; else
 *   2. a named export `backends` (array) or `backend`; else
 *   3. any named export whose value is a backend object (`specificationVersion` set).
 * Every backend found must implement `vms-backend-v1`.
 */
import { pathToFileURL } from 'node:url';
import { type BackendV1, isBackendV1, SPECIFICATION_VERSION, VmsError } from '@vms/core';
import { type BackendSource, installHint } from './discovery.js';

function looksLikeBackend(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).specificationVersion === 'string'
  );
}

function collect(value: unknown, into: Record<string, unknown>[]): void {
  if (Array.isArray(value)) for (const v of value) collect(v, into);
  else if (looksLikeBackend(value)) into.push(value);
}

function missingMembers(b: Record<string, unknown>): string[] {
  const missing: string[] = [];
  if (typeof b.name !== 'string' || !b.name) missing.push('name');
  if (typeof b.capabilities !== 'object' || b.capabilities === null) missing.push('capabilities');
  if (typeof b.optionsSchema !== 'object' || b.optionsSchema === null)
    missing.push('optionsSchema');
  for (const fn of ['detect', 'list', 'driver'])
    if (typeof b[fn] !== 'function') missing.push(`${fn}()`);
  return missing;
}

function loadError(message: string, hint: string, cause?: unknown): VmsError {
  return new VmsError('BACKEND_UNAVAILABLE', message, { hint, ...(cause ? { cause } : {}) });
}

/** The backends a loaded module exports, checked against the v1 contract. */
export function extractBackends(mod: Record<string, unknown>, source: BackendSource): BackendV1[] {
  const found: Record<string, unknown>[] = [];
  collect(mod.default, found);
  if (found.length === 0) collect(mod.backends, found);
  if (found.length === 0) collect(mod.backend, found);
  if (found.length === 0) {
    for (const [key, value] of Object.entries(mod)) if (key !== 'default') collect(value, found);
  }
  const label = source.specifier;
  if (found.length === 0) {
    throw loadError(
      `${label} exports no vms backend`,
      'a backend package must `export default` its backend object (created by its factory), or export `backends`/`backend`',
    );
  }
  const backends: BackendV1[] = [];
  for (const candidate of found) {
    if (candidate.specificationVersion !== SPECIFICATION_VERSION) {
      throw loadError(
        `${label} implements ${String(candidate.specificationVersion)}, but this vms supports ${SPECIFICATION_VERSION}`,
        `upgrade @vms/cli (npm install @vms/cli@latest), or install a version of ${label} made for ${SPECIFICATION_VERSION}`,
      );
    }
    if (!isBackendV1(candidate)) {
      throw loadError(
        `${label} exports a malformed ${SPECIFICATION_VERSION} backend (missing or wrong: ${missingMembers(candidate).join(', ')})`,
        `report it to the authors of ${label}`,
      );
    }
    if (!backends.some((b) => b.name === candidate.name)) backends.push(candidate);
  }
  return backends;
}

/** Imports a source and returns its backends. Throws a BACKEND_UNAVAILABLE VmsError with a hint. */
export async function loadSource(source: BackendSource): Promise<BackendV1[]> {
  let mod: Record<string, unknown>;
  if (source.builtin) {
    mod = (await source.builtin()) as Record<string, unknown>;
  } else if (source.installed) {
    try {
      mod = (await import(pathToFileURL(source.installed.entry).href)) as Record<string, unknown>;
    } catch (error) {
      throw loadError(
        `cannot load backend ${source.specifier}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        `reinstall it: ${installHint(source)}`,
        error,
      );
    }
  } else {
    throw loadError(`backend package ${source.specifier} is not installed`, installHint(source));
  }
  return extractBackends(mod, source);
}
