/**
 * Capabilities, enforced once for every backend: the backend's flags are a ceiling, a driver may
 * narrow them per instance, verbs and common options that need a missing one are refused with
 * CapabilityUnsupportedError, and a `true` flag without its driver methods is a broken backend.
 */
import { CapabilityUnsupportedError, ProtocolError } from './errors.js';
import {
  type BackendV1,
  CAPABILITY_METHODS,
  CAPABILITY_NAMES,
  type Capabilities,
  type Capability,
  type DriverV1,
  type Observation,
  OPTION_CAPABILITIES,
} from './spec/v1.js';

/** What this instance can do: the backend's flags narrowed by its driver. */
export interface EffectiveCapabilities {
  capabilities: Capabilities;
  /** Why a capability the backend has is off for this instance (from the driver). */
  reasons: Partial<Record<Capability, string>>;
}

export function effectiveCapabilities(
  backend: BackendV1,
  driver: DriverV1,
  last: Observation | undefined,
): EffectiveCapabilities {
  const narrowing = driver.capabilities?.(last) ?? {};
  const capabilities = { ...backend.capabilities };
  const reasons: Partial<Record<Capability, string>> = {};
  for (const name of CAPABILITY_NAMES) {
    const narrowed = Object.hasOwn(narrowing, name) ? narrowing[name] : undefined;
    if (!capabilities[name] || narrowed === undefined || narrowed === true) continue;
    capabilities[name] = false;
    if (typeof narrowed === 'string') reasons[name] = narrowed;
  }
  return { capabilities, reasons };
}

/** Throws CapabilityUnsupportedError unless `capability` is on. */
export function requireCapability(
  effective: EffectiveCapabilities,
  capability: Capability,
  backend: string,
  instance: string,
  option?: string,
): void {
  if (effective.capabilities[capability]) return;
  const reason = effective.reasons[capability];
  throw new CapabilityUnsupportedError(capability, backend, {
    instance,
    ...(option ? { option } : {}),
    ...(reason ? { reason } : {}),
    hint: option
      ? `remove ${option} from the options of ${instance}`
      : `see the capabilities of ${backend} (vms backends --json)`,
  });
}

/** Refuses common options whose capability is off (e.g. `ports` on a backend without portForward). */
export function checkOptionCapabilities(
  options: unknown,
  effective: EffectiveCapabilities,
  backend: string,
  instance: string,
): void {
  if (typeof options !== 'object' || options === null) return;
  for (const [option, capability] of Object.entries(OPTION_CAPABILITIES)) {
    const value: unknown = Object.hasOwn(options, option)
      ? (options as Record<string, unknown>)[option]
      : undefined;
    if (Array.isArray(value) && value.length > 0) {
      requireCapability(effective, capability, backend, instance, option);
    }
  }
}

/** The driver methods each `true` flag requires that `driver` lacks, as `capability: method`. */
export function missingCapabilityMethods(backend: BackendV1, driver: DriverV1): string[] {
  const missing: string[] = [];
  for (const name of CAPABILITY_NAMES) {
    if (!backend.capabilities[name]) continue;
    for (const method of CAPABILITY_METHODS[name]) {
      if (typeof driver[method] !== 'function') missing.push(`${name}: ${method}`);
    }
  }
  return missing;
}

/** Throws ProtocolError when the driver lacks a method a declared capability needs. */
export function assertDriverMatchesCapabilities(backend: BackendV1, driver: DriverV1): void {
  const missing = missingCapabilityMethods(backend, driver);
  if (missing.length === 0) return;
  throw new ProtocolError(
    `backend ${backend.name} declares capabilities its driver does not implement (${missing.join(', ')})`,
    {
      hint: `report it to the authors of the ${backend.name} backend: set the capability to false or implement the method`,
    },
  );
}
