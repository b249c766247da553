/**
 * Engine API version negotiation, as the docker client does it: ask the engine which version it
 * speaks (`/_ping`'s `API-Version` header, else `/version`'s `ApiVersion`) and use the lower of
 * that and the newest version this package was written against. Every request then goes to
 * `/v<version>/…`, so an old engine (docker 20.10 and podman 4/5 speak 1.41) is never sent what
 * it does not know, and a new one (docker 29's minimum is 1.44) answers in the shapes we parse.
 */
import { BackendUnavailableError } from '@vms/core';

/** Oldest API version supported: docker 20.10, podman 4.x/5.x's compat API. */
export const MIN_API_VERSION = '1.41';
/**
 * Newest API version whose changes were reviewed for what this package sends and parses
 * (moby api/docs/CHANGELOG.md up to v1.52, docker 29.0: `errorDetail` in pull streams,
 * `Action` in events, IPs from `NetworkSettings.Networks`).
 */
export const MAX_API_VERSION = '1.52';

function parts(v: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** -1, 0 or 1 as `a` is older than, the same as, or newer than `b`. */
export function compareApiVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  if (!pa || !pb) return 0;
  return Math.sign(pa[0] - pb[0] || pa[1] - pb[1]);
}

/**
 * The version to speak with an engine that announced `server`: the lower of it and
 * MAX_API_VERSION. Undefined when the engine did not say (requests then stay unversioned).
 * Throws BACKEND_UNAVAILABLE for an engine older than MIN_API_VERSION.
 */
export function negotiateApiVersion(
  server: string | undefined,
  engine: string,
): string | undefined {
  const p = server ? parts(server) : undefined;
  if (!server || !p) return undefined;
  const normalised = `${p[0]}.${p[1]}`;
  if (compareApiVersions(normalised, MIN_API_VERSION) < 0) {
    throw new BackendUnavailableError(
      engine,
      `the engine speaks API ${normalised}, older than the ${MIN_API_VERSION} this package needs`,
      {
        hint: 'upgrade the engine: docker 20.10 or newer, podman 4 or newer',
      },
    );
  }
  return compareApiVersions(normalised, MAX_API_VERSION) > 0 ? MAX_API_VERSION : normalised;
}
