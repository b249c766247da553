/**
 * `detectTool`: a backend's `detect()` for a command-line tool. Asks the tool for its version and
 * turns every failure into an unavailable result with a reason and a hint (detect never throws).
 */

import { BackendUnavailableError, ToolNotFoundError, VmsError } from './errors.js';
import type { DetectResult } from './spec/v1.js';

export interface DetectToolOptions {
  /** The tool as configured: a name looked up on PATH, or a path. Reported as `toolPath`. */
  toolPath: string;
  /**
   * Asks the tool (e.g. runs `tool --version`, and anything else that must work); resolves to the
   * version when it could be read. Any throw makes the backend unavailable.
   */
  probe: () => Promise<string | undefined>;
  /** How to get the tool, e.g. `brew install lima`: the hint when it is missing. */
  installHint: string;
  /**
   * The hint when the tool is there but fails with an error that carries none
   * (default: `installHint`).
   */
  failureHint?: string;
}

/** Runs `probe` and reports the tool as available, or why not (never throws). */
export async function detectTool(options: DetectToolOptions): Promise<DetectResult> {
  const { toolPath, installHint } = options;
  try {
    const version = await options.probe();
    return { available: true, toolPath, ...(version ? { version } : {}) };
  } catch (error) {
    if (isError(error, ToolNotFoundError)) {
      const where = /[\\/]/.test(toolPath) ? '' : ' on PATH';
      return { available: false, reason: `${toolPath} not found${where}`, hint: installHint };
    }
    return {
      available: false,
      reason: unavailableReason(error),
      hint:
        (VmsError.isInstance(error) ? error.hint : undefined) ?? options.failureHint ?? installHint,
    };
  }
}

/**
 * The reason to report for an error: its message, without the `backend X is unavailable: ` a
 * BackendUnavailableError starts with (whoever reports the result adds that once).
 */
export function unavailableReason(error: unknown): string {
  if (isError(error, BackendUnavailableError)) {
    const prefix = `backend ${error.backend} is unavailable: `;
    return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** `instanceof` that also holds for an error thrown by another copy of @vms/core. */
function isError<T extends VmsError>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
): error is T {
  return error instanceof type || (VmsError.isInstance(error) && error.name === type.name);
}
