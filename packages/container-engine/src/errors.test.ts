import { CommandFailedError, VmsError } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { CONTAINER_STATES, type ContainerDialect } from './dialect.js';
import { mapEngineError, mapPullError } from './errors.js';
import { EngineApiError } from './http.js';
import { checkReference } from './reference.js';

const dialect = (name: 'docker' | 'podman'): ContainerDialect => ({
  name,
  binary: name,
  states: CONTAINER_STATES,
  defaultSockets: [],
  hostEnv: [],
  contexts: name === 'docker',
  hostFlag: (h) => ['--host', h],
  unavailableHint: 'start it',
  installHint: 'install it',
});

// What the engines answered here (docker 20.10 API and CLIs 20.10/28.2, podman 4.3 CLI and API).
const api = (status: number, message: string) =>
  new EngineApiError(status, message, '/images/create');
const cli = (stderr: string) =>
  new CommandFailedError(['docker', 'pull', 'x'], { exitCode: 1, stderr });
const R = '127.0.0.1:15055';

function pull(error: unknown, image = `${R}/vms/bb:1`, name: 'docker' | 'podman' = 'docker') {
  const mapped = mapPullError(error, { dialect: dialect(name), ref: checkReference(image) });
  return mapEngineError(mapped, {
    dialect: dialect(name),
    op: 'create',
    endpoint: 'unix:///x.sock',
  });
}

describe('pull errors', () => {
  it('a missing image is NOT_FOUND naming the reference, with a hint', () => {
    for (const e of [
      api(404, `manifest for ${R}/vms/bb:1 not found: manifest unknown: manifest unknown`),
      cli(
        `Error response from daemon: manifest for ${R}/vms/bb:1 not found: manifest unknown: manifest unknown`,
      ),
      api(
        200,
        `initializing source docker://${R}/vms/bb:1: reading manifest 1 in ${R}/vms/bb: manifest unknown: manifest unknown`,
      ),
    ]) {
      const m = pull(e);
      expect(m).toMatchObject({ code: 'NOT_FOUND', reference: `${R}/vms/bb:1`, registry: R });
      expect(m.message).toContain(`${R}/vms/bb:1`);
      expect(m.hint).toMatch(/tag/);
    }
    // Docker Hub's answer for both a missing and a private repository.
    const hub = pull(
      cli(
        "Error response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'",
      ),
      'nope',
    );
    expect(hub).toMatchObject({ code: 'NOT_FOUND' });
    expect(hub.hint).toMatch(/docker login/);
  });

  it('a failed CLI command from another copy of @vms/core (a runner the user passed) is read by its code', () => {
    // Own fields kept (code, marker, stderr tail), class gone: what `instanceof` cannot see.
    const foreign: unknown = Object.setPrototypeOf(
      cli(`Error response from daemon: manifest for ${R}/vms/bb:1 not found: manifest unknown`),
      Error.prototype,
    );
    expect(foreign instanceof CommandFailedError).toBe(false);
    expect(pull(foreign)).toMatchObject({ code: 'NOT_FOUND', reference: `${R}/vms/bb:1` });
  });

  it('a refusing registry is OPERATION_FAILED naming the registry, with a login hint', () => {
    for (const e of [
      api(500, `Head "http://${R}/v2/vms/bb/manifests/1": no basic auth credentials`),
      api(500, 'unauthorized: authentication required'),
      cli(
        `Error: initializing source docker://${R}/vms/bb:1: reading manifest 1 in ${R}/vms/bb: unauthorized: authentication required`,
      ),
    ]) {
      const m = pull(e);
      expect(m).toMatchObject({ code: 'OPERATION_FAILED', registry: R });
      expect(m.message).toMatch(new RegExp(`registry ${R.replace(/\./g, '\\.')} refused`));
      expect(m.hint).toMatch(/docker login 127\.0\.0\.1:15055/);
    }
    expect(
      pull(api(500, 'unauthorized: authentication required'), `${R}/x`, 'podman').hint,
    ).toMatch(/podman login/);
  });

  it('a bad reference or an unresolvable short name is INVALID_OPTIONS naming image', () => {
    expect(
      pull(api(400, 'invalid reference format: repository name must be lowercase')),
    ).toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'image',
    });
    const short = pull(
      cli(
        'Error: short-name "nginx:alpine" did not resolve to an alias and no unqualified-search registries are defined in "/etc/containers/registries.conf"',
      ),
      'nginx:alpine',
      'podman',
    );
    expect(short).toMatchObject({ code: 'INVALID_OPTIONS', field: 'image' });
    expect(short.hint).toMatch(/docker\.io\/library\/nginx:alpine/);
  });

  it('an unreachable registry is not mistaken for the engine being down', () => {
    const m = pull(
      api(500, 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'),
      '127.0.0.1:1/x:1',
    );
    expect(m.code).toBe('OPERATION_FAILED');
    expect(m.message).toMatch(/cannot reach registry 127\.0\.0\.1:1/);
    expect(m.retryable).toBe(true);
    const https = pull(
      cli('Get "https://r.example:5000/v2/": http: server gave HTTP response to HTTPS client'),
      'r.example:5000/x',
      'podman',
    );
    expect(https.hint).toMatch(/insecure = true/);
    // The engine itself down stays BACKEND_UNAVAILABLE.
    const down = pull(
      cli(
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      ),
    );
    expect(down.code).toBe('BACKEND_UNAVAILABLE');
  });

  it('a CLI too old for the engine says so', () => {
    const e = mapEngineError(
      cli(
        'Error response from daemon: client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version',
      ),
      { dialect: dialect('docker'), op: 'create', endpoint: 'unix:///x.sock' },
    );
    expect(e).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      hint: expect.stringMatching(/upgrade the docker CLI/),
    });
    expect(VmsError.isInstance(e)).toBe(true);
  });
});
