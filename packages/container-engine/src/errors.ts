/**
 * Maps what the engines say (HTTP status + message, or CLI exit code + stderr) to core's typed
 * errors with hints. Classification is by status / exit code first, then loose regexes.
 */
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CommandFailedError,
  NotFoundError,
  OperationFailedError,
  VmsError,
} from '@vms/core';
import type { ContainerDialect } from './dialect.js';
import { EngineApiError, EngineUnreachableError } from './http.js';

export const NO_SUCH_CONTAINER = /no such container|no container with name or id|no such object/i;
export const NO_SUCH_IMAGE =
  /no such image|image not known|unable to find image|pull access denied|repository does not exist/i;
export const NAME_IN_USE = /container name .*already in use/i;
export const PORT_IN_USE = /port is already allocated|address already in use/i;
export const NOT_RUNNING = /is not running|not running|container state improper|is not paused/i;
export const DAEMON_DOWN =
  /cannot connect to the docker daemon|is the docker daemon running|connection refused|no such file or directory.*\.sock|unable to connect to podman/i;
export const INIT_MISSING = /container-init binary not found|catatonit|docker-init.*not found/i;

/** The engine's message, from an API error or a failed CLI command. */
export function engineText(error: unknown): string {
  if (error instanceof EngineApiError) return error.engineMessage;
  if (error instanceof CommandFailedError) return `${error.stderrTail}\n${error.stdoutTail}`;
  return error instanceof Error ? error.message : String(error);
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
  if (error instanceof EngineUnreachableError || DAEMON_DOWN.test(engineText(error))) {
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
  if (VmsError.isInstance(error) && !(error instanceof CommandFailedError)) return error;
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
        hint: `${dialect.binary} pull ${where.image ?? 'IMAGE'} (or build / load it) first: @vms never pulls implicitly`,
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
  if (error instanceof CommandFailedError) return error;
  if (error instanceof EngineApiError) {
    return new OperationFailedError(`${dialect.name} ${op} failed: ${error.engineMessage}`, opts);
  }
  return new OperationFailedError(`${dialect.name} ${op} failed: ${last}`, opts);
}
