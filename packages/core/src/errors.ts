/**
 * One error hierarchy for every backend. `VmsError.isInstance` recognises errors by a
 * `Symbol.for` marker, so it works across two copies of @vms/core in one process.
 */

import type { Capability } from './spec/v1.js';

const MARKER = Symbol.for('@vms/core.error');

export type ErrorCode =
  | 'INVALID_OPTIONS'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_TRANSITION'
  | 'CAPABILITY_UNSUPPORTED'
  | 'BACKEND_UNAVAILABLE'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'LOCKED'
  | 'COMMAND_FAILED'
  | 'OPERATION_FAILED'
  | 'PROTOCOL_ERROR'
  | 'POLICY_REFUSED';

export interface VmsErrorOptions {
  cause?: unknown;
  hint?: string;
  retryable?: boolean;
  /** Instance the error is about, as `backend:name`. */
  instance?: string;
}

export class VmsError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  instance: string | undefined;

  constructor(code: ErrorCode, message: string, options: VmsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmsError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.instance = options.instance;
  }

  /** True for any @vms error, also one thrown by another copy of @vms/core. */
  static isInstance(value: unknown): value is VmsError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true
    );
  }

  /**
   * True when `value` is a @vms error with this code, from any copy of core; narrows to the class
   * that code belongs to (`INVALID_OPTIONS` → `InvalidOptionsError`, with `field` and `issues`).
   */
  static hasCode<C extends ErrorCode>(value: unknown, code: C): value is ErrorOfCode<C> {
    return VmsError.isInstance(value) && value.code === code;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.instance ? { instance: this.instance } : {}),
      retryable: this.retryable,
    };
  }
}

export interface IssuePath {
  /** Dotted path of the field, e.g. `ports.0.host` (`name` for the instance name). */
  path: string;
  message: string;
  /** For an unknown key: the closest valid one (dotted path). */
  suggestion?: string;
}

export class InvalidOptionsError extends VmsError {
  /** Dotted path of the first offending field, e.g. `ports.0.host`. */
  readonly field: string;
  readonly issues: IssuePath[];
  constructor(issues: IssuePath[], options: VmsErrorOptions = {}) {
    const first = issues[0] ?? { path: '', message: 'invalid options' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(
      'INVALID_OPTIONS',
      `invalid option ${first.path || '(root)'}: ${first.message}${more}`,
      options,
    );
    this.name = 'InvalidOptionsError';
    this.field = first.path;
    this.issues = issues;
  }
}

export class NotFoundError extends VmsError {
  constructor(message: string, options: VmsErrorOptions = {}) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends VmsError {
  constructor(message: string, options: VmsErrorOptions = {}) {
    super('ALREADY_EXISTS', message, options);
    this.name = 'AlreadyExistsError';
  }
}

export class InvalidTransitionError extends VmsError {
  readonly state: string;
  readonly action: string;
  constructor(action: string, state: string, options: VmsErrorOptions = {}) {
    super('INVALID_TRANSITION', `action ${action} not allowed in state ${state}`, options);
    this.name = 'InvalidTransitionError';
    this.state = state;
    this.action = action;
  }
}

export interface CapabilityErrorOptions extends VmsErrorOptions {
  /** The option that needs the capability (`ports`, `mounts`), when an option does. */
  option?: string;
  /** Why this instance lacks it, when the driver narrowed it (e.g. "only macOS guests suspend"). */
  reason?: string;
}

/** The backend (or this instance of it) cannot do what was asked: `capability` names what. */
export class CapabilityUnsupportedError extends VmsError {
  /** A `Capability`, or what else an instance may lack (`engine`, "a podman engine"). */
  readonly capability: Capability | (string & {});
  readonly backend: string;
  readonly option: string | undefined;
  readonly reason: string | undefined;
  constructor(
    capability: Capability | (string & {}),
    backend: string,
    options: CapabilityErrorOptions = {},
  ) {
    const subject = options.reason && options.instance ? options.instance : `backend ${backend}`;
    super(
      'CAPABILITY_UNSUPPORTED',
      `${subject} does not support ${capability}${options.option ? ` (option ${options.option})` : ''}${options.reason ? `: ${options.reason}` : ''}`,
      options,
    );
    this.name = 'CapabilityUnsupportedError';
    this.capability = capability;
    this.backend = backend;
    this.option = options.option;
    this.reason = options.reason;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      capability: this.capability,
      backend: this.backend,
      ...(this.option ? { option: this.option } : {}),
    };
  }
}

export class BackendUnavailableError extends VmsError {
  readonly backend: string;
  constructor(backend: string, reason: string, options: VmsErrorOptions = {}) {
    super('BACKEND_UNAVAILABLE', `backend ${backend} is unavailable: ${reason}`, options);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
  }
}

export class TimeoutError extends VmsError {
  readonly timeoutMs: number | undefined;
  constructor(message: string, options: VmsErrorOptions & { timeoutMs?: number } = {}) {
    super('TIMEOUT', message, { retryable: true, ...options });
    this.name = 'TimeoutError';
    this.timeoutMs = options.timeoutMs;
  }
}

export class AbortedError extends VmsError {
  constructor(message = 'operation aborted', options: VmsErrorOptions = {}) {
    super('ABORTED', message, options);
    this.name = 'AbortedError';
  }
}

export class LockedError extends VmsError {
  readonly lockPath: string;
  readonly holderPid: number | undefined;
  constructor(lockPath: string, holderPid: number | undefined, options: VmsErrorOptions = {}) {
    super(
      'LOCKED',
      `instance is locked by another process${holderPid ? ` (pid ${holderPid})` : ''}: ${lockPath}`,
      { retryable: true, ...options },
    );
    this.name = 'LockedError';
    this.lockPath = lockPath;
    this.holderPid = holderPid;
  }
}

export class CommandFailedError extends VmsError {
  readonly argv: string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(
    argv: string[],
    result: { exitCode?: number; signal?: string; stderr?: string; stdout?: string },
    options: VmsErrorOptions & { message?: string } = {},
  ) {
    const stderrTail = tail(result.stderr ?? '', 2048);
    const how =
      result.exitCode !== undefined
        ? `exit code ${result.exitCode}`
        : `signal ${result.signal ?? '?'}`;
    const last = lastLine(stderrTail);
    super(
      'COMMAND_FAILED',
      options.message ?? `command failed (${how}): ${argv.join(' ')}${last ? `: ${last}` : ''}`,
      options,
    );
    this.name = 'CommandFailedError';
    this.argv = argv;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.stderrTail = stderrTail;
    this.stdoutTail = tail(result.stdout ?? '', 2048);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      argv: this.argv,
      exitCode: this.exitCode,
      stderrTail: this.stderrTail,
    };
  }
}

export class OperationFailedError extends VmsError {
  constructor(message: string, options: VmsErrorOptions = {}) {
    super('OPERATION_FAILED', message, options);
    this.name = 'OperationFailedError';
  }
}

export class ProtocolError extends VmsError {
  constructor(message: string, options: VmsErrorOptions = {}) {
    super('PROTOCOL_ERROR', message, options);
    this.name = 'ProtocolError';
  }
}

/**
 * A request was refused by a policy (an allowlist, a cap) before anything ran. `rule` names the
 * policy rule that refused it, e.g. `images` or `maxInstances`.
 */
export class PolicyRefusedError extends VmsError {
  readonly rule: string;
  constructor(rule: string, message: string, options: VmsErrorOptions = {}) {
    super('POLICY_REFUSED', `refused by policy rule ${rule}: ${message}`, options);
    this.name = 'PolicyRefusedError';
    this.rule = rule;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), rule: this.rule };
  }
}

/** Wraps anything thrown into a VmsError, keeping VmsErrors as they are. */
export function toVmsError(error: unknown, fallbackMessage = 'operation failed'): VmsError {
  if (VmsError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OperationFailedError(message || fallbackMessage, { cause: error });
}

export function tail(text: string, max: number): string {
  return text.length <= max ? text : text.slice(text.length - max);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim().slice(0, 300);
}

/** The tool a backend drives is not installed (ENOENT when spawning it). */
export class ToolNotFoundError extends VmsError {
  readonly tool: string;
  constructor(tool: string, options: VmsErrorOptions = {}) {
    super('BACKEND_UNAVAILABLE', `command not found: ${tool}`, {
      hint: options.hint ?? `install ${tool} and make sure it is on PATH`,
      ...options,
    });
    this.name = 'ToolNotFoundError';
    this.tool = tool;
  }
}

/** The error class of each code with fields of its own; the others are plain `VmsError`s. */
interface ErrorsByCode {
  INVALID_OPTIONS: InvalidOptionsError;
  INVALID_TRANSITION: InvalidTransitionError;
  CAPABILITY_UNSUPPORTED: CapabilityUnsupportedError;
  TIMEOUT: TimeoutError;
  LOCKED: LockedError;
  COMMAND_FAILED: CommandFailedError;
  POLICY_REFUSED: PolicyRefusedError;
}

/** What `VmsError.hasCode(value, code)` narrows to. */
export type ErrorOfCode<C extends ErrorCode> = C extends keyof ErrorsByCode
  ? ErrorsByCode[C]
  : VmsError & { code: C };
