/**
 * Maps what the engines say (HTTP status + message, or CLI exit code + stderr) to core's typed
 * errors with hints. Classification is by status / exit code first, then loose regexes.
 */
import {
  AlreadyExistsError,
  BackendUnavailableError,
  InvalidOptionsError,
  NotFoundError,
  OperationFailedError,
  VmsError,
  type VmsErrorOptions,
} from '@vms/core';
import type { ContainerDialect } from './dialect.js';
import { EngineApiError, EngineUnreachableError } from './http.js';
import { type ImageReference, registryOf } from './reference.js';

export const NO_SUCH_CONTAINER = /no such container|no container with name or id|no such object/i;
export const NO_SUCH_IMAGE =
  /no such image|image not known|unable to find image|pull access denied|repository does not exist/i;
export const NAME_IN_USE = /container name .*already in use/i;
export const PORT_IN_USE = /port is already allocated|address already in use/i;
export const NOT_RUNNING = /is not running|not running|container state improper|is not paused/i;
/** The engine itself does not answer (as opposed to a registry it talks to). */
export const ENGINE_DOWN =
  /cannot connect to the docker daemon|is the docker daemon running|no such file or directory.*\.sock|unable to connect to podman/i;
export const DAEMON_DOWN = new RegExp(`${ENGINE_DOWN.source}|connection refused`, 'i');
/** A client too old for the engine (docker 29 refuses API < 1.44). */
export const CLIENT_TOO_OLD = /client version [\d.]+ is too old|minimum supported api version/i;
/** Registry answers when pulling. */
export const PULL_BAD_REFERENCE =
  /invalid reference format|repository name must be lowercase|must be lowercase|invalid repository name/i;
export const PULL_SHORT_NAME =
  /short-name .*(did not resolve|resolution enforced)|short-name resolution/i;
export const PULL_HUB_DENIED = /pull access denied|repository does not exist or may require/i;
export const PULL_AUTH =
  /unauthorized|authentication required|no basic auth credentials|access to the requested resource is not authorized|denied: |incorrect username or password|status code 401|status code 403|\b401 Unauthorized|\b403 Forbidden/i;
export const PULL_NOT_FOUND =
  /manifest unknown|manifest for .* not found|name unknown|not found: .*manifest|repository .* not found|status code 404|no such image|image not known/i;
export const PULL_UNREACHABLE =
  /dial tcp|connection refused|no such host|i\/o timeout|tls handshake|network is unreachable|server gave http response to https client|pinging container registry|x509: |certificate/i;
export const INIT_MISSING = /container-init binary not found|catatonit|docker-init.*not found/i;

/** The engine's message, from an API error or a failed CLI command. */
export function engineText(error: unknown): string {
  if (error instanceof EngineApiError) return error.engineMessage;
  if (VmsError.hasCode(error, 'COMMAND_FAILED')) return `${error.stderrTail}\n${error.stdoutTail}`;
  return error instanceof Error ? error.message : String(error);
}

/** Nothing answers at the endpoint (no socket, refused; the CLI's "Cannot connect …"). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof EngineUnreachableError || DAEMON_DOWN.test(engineText(error));
}

/** The API engine answered that it lacks the image (a create of an image never pulled). */
export function isNoSuchImage(error: unknown): boolean {
  return (
    error instanceof EngineApiError &&
    error.status === 404 &&
    NO_SUCH_IMAGE.test(error.engineMessage)
  );
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof EngineApiError)
    return error.status === 404 && !NO_SUCH_IMAGE.test(error.engineMessage);
  return NO_SUCH_CONTAINER.test(engineText(error));
}

export function isNotRunning(error: unknown): boolean {
  if (error instanceof EngineApiError && error.status === 409) return true;
  return NOT_RUNNING.test(engineText(error));
}

interface Where {
  dialect: ContainerDialect;
  /** Instance name, when the error is about one. */
  name?: string;
  /** The op, for messages ("create", "start"). */
  op: string;
  endpoint: string;
  image?: string;
}

/** Turns anything an engine call threw into a VmsError with a hint. */
export function mapEngineError(error: unknown, where: Where): VmsError {
  const { dialect, name, op } = where;
  const instance = name ? `${dialect.name}:${name}` : undefined;
  const opts = { cause: error, ...(instance ? { instance } : {}) };
  // Already typed (a pull's mapped error, a timeout): keep it. A failed CLI command is classified.
  if (VmsError.isInstance(error) && !VmsError.hasCode(error, 'COMMAND_FAILED')) return error;
  if (CLIENT_TOO_OLD.test(engineText(error))) {
    return new BackendUnavailableError(
      dialect.name,
      `the ${dialect.binary} CLI is too old for the engine: ${lastLine(engineText(error))}`,
      {
        ...opts,
        hint: `upgrade the ${dialect.binary} CLI (or set the \`binary\` setting to a newer one), or use transport 'api'`,
      },
    );
  }
  if (isUnreachable(error)) {
    return new BackendUnavailableError(
      dialect.name,
      `the engine does not answer at ${where.endpoint}`,
      {
        ...opts,
        hint: dialect.unavailableHint,
        retryable: true,
      },
    );
  }
  const text = engineText(error).trim();
  const last = text.split('\n').filter(Boolean).pop() ?? text;
  if (
    NO_SUCH_IMAGE.test(text) ||
    (error instanceof EngineApiError && error.status === 404 && op === 'create')
  ) {
    return new NotFoundError(
      `image ${where.image ?? ''} not found in the ${dialect.name} engine`.replace('  ', ' '),
      {
        ...opts,
        hint: `the image is not in the engine and pull is 'never': pull it (\`${dialect.binary} pull ${where.image ?? 'IMAGE'}\`), build or load it, or set the option pull: 'missing'`,
      },
    );
  }
  if (PORT_IN_USE.test(text)) {
    return new OperationFailedError(`a published host port is already in use: ${last}`, {
      ...opts,
      hint: 'choose another host port, or omit `host` in the port mapping to let the engine pick a free one',
    });
  }
  if (
    NAME_IN_USE.test(text) ||
    (error instanceof EngineApiError && error.status === 409 && op === 'create')
  ) {
    return new AlreadyExistsError(`a container named ${name} already exists`, {
      ...opts,
      hint: `pick another name, or delete it: ${dialect.binary} rm -f ${name}`,
    });
  }
  if (isNotFound(error)) {
    return new NotFoundError(`container ${name} does not exist`, {
      ...opts,
      hint: 'it was removed outside @vms; refresh() shows it as absent, create() makes it again',
    });
  }
  if (VmsError.hasCode(error, 'COMMAND_FAILED')) return error;
  if (error instanceof EngineApiError) {
    return new OperationFailedError(`${dialect.name} ${op} failed: ${error.engineMessage}`, opts);
  }
  return new OperationFailedError(`${dialect.name} ${op} failed: ${last}`, opts);
}

function lastLine(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.trim());
  return (lines[lines.length - 1] ?? text)
    .trim()
    .replace(/^(Error response from daemon|Error): /i, '');
}

/** A pull found no such image (repository or tag) in the registry. */
export class ImageNotFoundError extends NotFoundError {
  constructor(
    readonly reference: string,
    readonly registry: string,
    message: string,
    options: VmsErrorOptions = {},
  ) {
    super(message, options);
    this.name = 'ImageNotFoundError';
  }
}

/** The registry refused the pull: no credentials, wrong ones, or no access. */
export class RegistryRefusedError extends OperationFailedError {
  constructor(
    readonly registry: string,
    readonly reference: string,
    message: string,
    options: VmsErrorOptions = {},
  ) {
    super(message, options);
    this.name = 'RegistryRefusedError';
  }
}

/**
 * Types what a pull failed with: a bad reference (INVALID_OPTIONS naming `image`), an image the
 * registry does not have (NOT_FOUND naming the reference), a registry that refuses
 * (OPERATION_FAILED naming the registry), or one that cannot be reached. The engine itself being
 * down is left to mapEngineError (BACKEND_UNAVAILABLE).
 */
export function mapPullError(
  error: unknown,
  where: { dialect: ContainerDialect; ref: ImageReference; instance?: string },
): unknown {
  const { dialect, ref } = where;
  if (VmsError.isInstance(error) && !VmsError.hasCode(error, 'COMMAND_FAILED')) return error;
  if (error instanceof EngineUnreachableError) return error;
  const text = engineText(error);
  if (ENGINE_DOWN.test(text) || CLIENT_TOO_OLD.test(text)) return error;
  const registry = registryOf(ref);
  const why = lastLine(text);
  const opts = { cause: error, ...(where.instance ? { instance: where.instance } : {}) };
  const login =
    dialect.name === 'podman'
      ? `podman login ${registry} (read from auth.json / $REGISTRY_AUTH_FILE, then ~/.docker/config.json)`
      : `docker login ${registry === 'docker.io' ? '' : registry}`.trim() +
        ' (read from ~/.docker/config.json or $DOCKER_CONFIG: auths, credHelpers, credsStore)';
  if (PULL_SHORT_NAME.test(text)) {
    return new InvalidOptionsError(
      [
        {
          path: 'image',
          message: `${JSON.stringify(ref.raw)} is a short name ${dialect.name} cannot resolve: ${why}`,
        },
      ],
      {
        ...opts,
        hint: `name the registry, e.g. docker.io/library/${ref.path.replace(/^library\//, '')}${ref.tag ? `:${ref.tag}` : ''}, or set unqualified-search-registries in registries.conf`,
      },
    );
  }
  if (PULL_BAD_REFERENCE.test(text)) {
    return new InvalidOptionsError(
      [
        {
          path: 'image',
          message: `${JSON.stringify(ref.raw)} is not a valid image reference: ${why}`,
        },
      ],
      { ...opts, hint: 'use a lowercase repository with an optional registry, :tag and @digest' },
    );
  }
  if (PULL_HUB_DENIED.test(text)) {
    // Docker Hub says the same for a missing repository and a private one without access.
    return new ImageNotFoundError(
      ref.raw,
      registry,
      `image ${ref.raw} not found on ${registry}, or it needs credentials: ${why}`,
      { ...opts, hint: `check the name and tag; for a private image log in: ${login}` },
    );
  }
  if (PULL_AUTH.test(text)) {
    return new RegistryRefusedError(
      registry,
      ref.raw,
      `registry ${registry} refused to pull ${ref.raw}: ${why}`,
      { ...opts, hint: `log in with credentials that can read it: ${login}` },
    );
  }
  if (PULL_NOT_FOUND.test(text)) {
    return new ImageNotFoundError(
      ref.raw,
      registry,
      `image ${ref.raw} not found on registry ${registry}: ${why}`,
      {
        ...opts,
        hint: `check the repository and tag (\`${dialect.binary} search\` or the registry's UI); a local-only image needs pull: 'never'`,
      },
    );
  }
  if (PULL_UNREACHABLE.test(text)) {
    const insecure = /http response to https client|x509|certificate/i.test(text);
    return new OperationFailedError(
      `cannot reach registry ${registry} to pull ${ref.raw}: ${why}`,
      {
        ...opts,
        retryable: !insecure,
        hint: insecure
          ? dialect.name === 'podman'
            ? `a plain-HTTP or self-signed registry must be marked insecure for podman: [[registry]] location = "${registry}", insecure = true in registries.conf ($CONTAINERS_REGISTRIES_CONF)`
            : `a plain-HTTP or self-signed registry must be listed in the engine's "insecure-registries" (daemon.json); 127.0.0.0/8 is trusted by default`
          : "check the network, proxy and registry address; with the image already local, pull: 'never' skips the registry",
      },
    );
  }
  return new OperationFailedError(`${dialect.name} could not pull ${ref.raw}: ${why}`, {
    ...opts,
    hint: `try it by hand: ${dialect.binary} pull ${ref.raw}`,
  });
}
